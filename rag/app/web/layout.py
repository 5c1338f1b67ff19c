"""Where everything sits on the page: the chat and its question box on the left, the Sources,
Article, Documents and About tabs on the right. Only components and their first values here;
what they do is :mod:`rag.app.web.events`'."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from rag.app.documents import DocumentRow
from rag.app.render import chat_placeholder, documents_html, intro_html, sources_html
from rag.app.web.conversations import EMPTY_STORE, STORE_KEY
from rag.ingest.registry import supported_suffixes

UPLOAD_CACHE_SECONDS = 3600  # how long Gradio keeps its temporary copy of an uploaded file
READ_ONLY_NOTE = (
    "<p class='read-only'>This server answers questions only: its documents are chosen by whoever "
    "runs it (started with <code>--read-only</code>).</p>"
)
# The examples ask about the bundled article; they are shown while it is one of the documents.
BUNDLED_DOC_ID = "japan-ki-aufholjagd"
EXAMPLES = [
    "Worum geht es?",
    "Wer leitet den Technologieinvestor Softbank?",
    "Bis wann soll der Anteil des Atomstroms steigen?",
    "Welche vier Faktoren sprechen für Japan?",
    "Who is Yuko Harayama?",
    "How high is the fine for repeat offenders in Japan?",
    "What is the capital of France?",
]


def theme() -> gr.themes.Base:
    """Gradio's default theme, its fonts declared in the weights whose files hold every letter.

    Gradio ships Source Sans Pro and IBM Plex Mono in a regular, a semibold and a bold file, and
    its default theme declares regular and semibold; but the semibold files hold only a few
    dozen characters ("A", "B" and some Cyrillic letters). Semibold and bold text (headings, the
    Sources' labels) so mixed two fonts: in "USA" the "A" was Source Sans Pro and "U" and "S" the
    fallback font. Declared as regular and bold, semibold text takes the bold file, which has
    every letter (tests/app/test_ui_browser.py::test_bold_capitals_come_from_one_font)."""
    from gradio.themes.utils import fonts

    return gr.themes.Default(
        font=(fonts.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui",
              "sans-serif"),
        font_mono=(fonts.LocalFont("IBM Plex Mono", weights=(400, 700)), "ui-monospace", "Consolas",
                   "monospace"),
    )


def document_choices(rows: list[DocumentRow]) -> list[tuple[str, str]]:
    return [(f"{r.title} ({Path(r.path).name})", r.doc_id) for r in rows]


def paths_only(files: gr.File) -> gr.File:
    """``files`` (a ``gr.File`` of paths) hands its event handlers the uploaded files' paths and
    nothing else: Gradio's own ``File.preprocess`` also creates an empty temporary file in its
    upload folder for each file (``NamedTemporaryFile(delete=False)``, then only renames the
    Python object), which nothing ever deletes. (Set on the instance: a subclass of a Gradio
    component makes Gradio write a ``.pyi`` file next to this one.)"""
    from gradio.data_classes import FileData
    from gradio_client.utils import is_valid_file

    def preprocess(payload: Any) -> list[str] | None:
        if payload is None:
            return None
        uploaded = [payload] if isinstance(payload, FileData) else list(payload)
        for f in uploaded:
            if files.file_types and not is_valid_file(f.path, files.file_types):
                raise gr.Error(f"Invalid file type. Please upload a file that is one of these formats: "
                               f"{files.file_types}")
        return [str(f.path) for f in uploaded]

    files.preprocess = preprocess  # type: ignore[method-assign]
    return files


@dataclass
class Page:
    """The page's components, by what they are for (the Blocks themselves in ``demo``)."""

    intro: gr.HTML
    store: gr.BrowserState
    conv_state: gr.State
    history_state: gr.State
    messages_state: gr.State
    turns_state: gr.State
    target_state: gr.State
    deleted_state: gr.State
    chatbot: gr.Chatbot
    feedback_panel: gr.Column
    feedback_choice: gr.Radio
    feedback_save: gr.Button
    feedback_note: gr.Markdown
    question: gr.Textbox
    send: gr.Button
    search_in: gr.Dropdown
    reset_button: gr.Button
    export_button: gr.Button
    examples_box: gr.Column
    examples: Any  # gr.Examples (a function in Gradio, not a class)
    past: gr.Dropdown
    delete_button: gr.Button
    undo_row: gr.Row
    undo_note: gr.HTML
    undo_button: gr.Button
    sources: gr.HTML
    article_tab: gr.Tab
    article_pick: gr.Dropdown
    article: gr.HTML
    uploads: gr.File
    doc_status: gr.HTML
    doc_table: gr.HTML
    doc_pick: gr.Dropdown
    doc_delete: gr.Button
    doc_confirm: gr.Row
    doc_confirm_delete: gr.Button
    doc_cancel: gr.Button
    info: gr.HTML
    api_files: gr.File
    api_doc: gr.Textbox
    api_result: gr.JSON
    api_add: gr.Button
    api_remove: gr.Button


def blocks() -> gr.Blocks:
    """The page's Blocks, empty: :func:`build_layout` fills them, inside ``with blocks():``."""
    # Uploads are copied into the seeds folder and Gradio's copies deleted at once (discard_uploads);
    # whatever is left (an upload never handed to us) goes after an hour.
    return gr.Blocks(title="rag — answers you can check", analytics_enabled=False,
                     delete_cache=(UPLOAD_CACHE_SECONDS, UPLOAD_CACHE_SECONDS))


def build_layout(rows: list[DocumentRow], article_now: str, info_now: str, read_only: bool = False,
                 storage_secret: str | None = None) -> Page:
    """The page's components with their first values (``rows``: the documents there are now),
    placed in the Blocks open at the call (``with blocks():``)."""
    ids = [r.doc_id for r in rows]
    intro = gr.HTML(intro_html([r.title for r in rows]))
    store = gr.BrowserState(EMPTY_STORE, storage_key=STORE_KEY, secret=storage_secret)
    conv_state = gr.State("")
    history_state = gr.State([])
    messages_state = gr.State([])
    turns_state = gr.State([])
    target_state = gr.State(-1)
    deleted_state = gr.State(None)  # the conversation deleted last, until undone
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                show_label=False,  # a floating "Chat" label would cover scrolled messages
                elem_id="chat",
                height=520,
                render_markdown=False,  # our HTML is escaped already; no Markdown on user text
                sanitize_html=True,
                latex_delimiters=[],
                allow_tags=False,
                buttons=["copy"],
                feedback_options=("Like", "Dislike"),
                group_consecutive_messages=False,
                placeholder=chat_placeholder(len(rows)),
                # The page scrolls the chat itself (page.js, ragAfterAnswer): a long answer from
                # its start, not from its end.
                autoscroll=False,
            )
            with gr.Column(visible=False, elem_id="feedback-panel", variant="panel") as feedback_panel:
                feedback_choice = gr.Radio([], label="The right sentence", elem_id="feedback-choice")
                feedback_save = gr.Button("Save feedback", elem_id="feedback-save", size="sm")
            feedback_note = gr.Markdown("", elem_id="feedback-note")
            with gr.Row(equal_height=True):
                question = gr.Textbox(
                    show_label=False,
                    placeholder="Wer leitet Softbank? · When did Open AI open an office in Tokyo?",
                    elem_id="question",
                    scale=5,
                    max_lines=3,
                    autofocus=True,
                    submit_btn=False,
                    container=False,
                )
                send = gr.Button("Ask", variant="primary", elem_id="send", scale=1, min_width=70)
            search_in = gr.Dropdown(
                choices=document_choices(rows), value=[], multiselect=True,
                label="Search only in (every document when empty)", elem_id="search-in",
                interactive=True, visible=len(rows) > 1,
            )
            with gr.Row():
                reset_button = gr.Button("New conversation", elem_id="reset", size="sm")
                export_button = gr.Button("Export as Markdown", elem_id="export", size="sm")
            # A deleted conversation can be brought back until the next one is deleted.
            with gr.Row(visible=False, elem_id="conv-undo", equal_height=True) as undo_row:
                undo_note = gr.HTML("", elem_id="conv-undo-note")
                undo_button = gr.Button("Undo", elem_id="conv-undo-button", size="sm", scale=0,
                                        min_width=70)
            with gr.Column(visible=BUNDLED_DOC_ID in ids) as examples_box:
                examples = gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question],
                                       label="Examples (about the bundled article)")
            with gr.Accordion("Past conversations (kept in this browser)", open=False, elem_id="past"):
                past = gr.Dropdown(choices=[], value=None, label="Open a conversation",
                                   elem_id="past-list", interactive=True)
                delete_button = gr.Button("Delete this conversation", elem_id="delete", size="sm")
        with gr.Column(scale=2):
            with gr.Tabs():
                with gr.Tab("Sources", elem_id="sources-tab"):
                    sources = gr.HTML(sources_html([]), elem_id="sources")
                with gr.Tab("Article", elem_id="article-tab") as article_tab:
                    article_pick = gr.Dropdown(
                        choices=document_choices(rows), value=ids[0] if ids else None,
                        label="Document", elem_id="article-pick", interactive=True,
                    )
                    article = gr.HTML(article_now, elem_id="article")
                with gr.Tab("Documents", elem_id="documents-tab"):
                    if read_only:
                        gr.HTML(READ_ONLY_NOTE, elem_id="read-only")
                    uploads = paths_only(gr.File(
                        label="Add documents: drop files here or click (.txt, .md, .html, .pdf, .docx)",
                        file_count="multiple", file_types=list(supported_suffixes()),
                        elem_id="upload", height=130, visible=not read_only,
                    ))
                    doc_status = gr.HTML("", elem_id="doc-status")
                    doc_table = gr.HTML(documents_html(rows), elem_id="doc-table")
                    with gr.Row(visible=not read_only):
                        doc_pick = gr.Dropdown(
                            choices=document_choices(rows), value=None,
                            label="Remove a document", elem_id="doc-pick", interactive=True, scale=4,
                        )
                        doc_delete = gr.Button("Delete", variant="stop", elem_id="doc-delete",
                                               size="sm", scale=1, min_width=70)
                    with gr.Row(visible=False, elem_id="doc-confirm") as doc_confirm:
                        doc_confirm_delete = gr.Button("Confirm delete", variant="stop", size="sm",
                                                       elem_id="doc-confirm-delete")
                        doc_cancel = gr.Button("Cancel", size="sm", elem_id="doc-cancel")
                with gr.Tab("About", elem_id="about-tab"):
                    info = gr.HTML(info_now, elem_id="info")
            # Scripts' way in: the same as dropping files on the page / deleting in the list.
            api_files = paths_only(gr.File(file_count="multiple", visible=False))
            api_doc = gr.Textbox(visible=False)
            api_result = gr.JSON(visible=False)
            api_add = gr.Button(visible=False)
            api_remove = gr.Button(visible=False)
    return Page(
        intro=intro, store=store, conv_state=conv_state, history_state=history_state,
        messages_state=messages_state, turns_state=turns_state, target_state=target_state,
        deleted_state=deleted_state, chatbot=chatbot, feedback_panel=feedback_panel,
        feedback_choice=feedback_choice, feedback_save=feedback_save, feedback_note=feedback_note,
        question=question, send=send, search_in=search_in, reset_button=reset_button,
        export_button=export_button, examples_box=examples_box, examples=examples, past=past,
        delete_button=delete_button, undo_row=undo_row, undo_note=undo_note, undo_button=undo_button,
        sources=sources, article_tab=article_tab, article_pick=article_pick, article=article,
        uploads=uploads, doc_status=doc_status, doc_table=doc_table, doc_pick=doc_pick,
        doc_delete=doc_delete, doc_confirm=doc_confirm, doc_confirm_delete=doc_confirm_delete,
        doc_cancel=doc_cancel, info=info, api_files=api_files, api_doc=api_doc, api_result=api_result,
        api_add=api_add, api_remove=api_remove,
    )
