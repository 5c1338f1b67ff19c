"""What the page does: each handler answers one event (a question, a click, an upload) with new
values for the components of :class:`rag.app.web.layout.Page`; :func:`wire` connects them and
:func:`build_app` puts page, handlers and Gradio's ``/ask`` endpoint together.

Every answer comes from ``Pipeline.ask`` (as on every other surface), one question at a time
under the pipeline's lock; the work on documents is :class:`rag.app.documents.DocumentDesk`'s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gradio as gr

from rag.app.documents import DocumentDesk, LivePipeline
from rag.app.feedback import NOT_IN_TEXT, FeedbackLog, default_feedback_path
from rag.app.page_html import cited_page_html
from rag.app.render import (
    answer_html,
    answer_plain,
    answer_sources_html,
    article_html,
    change_html,
    chat_placeholder,
    documents_html,
    error_html,
    escape,
    intro_html,
    sources_html,
    user_html,
)
from rag.app.web import conversations as conv_store
from rag.app.web.layout import BUNDLED_DOC_ID, Page, blocks, build_layout, document_choices
from rag.query.clean import QuestionError, clean_history

# Browser-side (rag/app/web/static/page.js), run after the events named.
SCROLL_TO_MARK = "() => { window.ragScrollToMark && window.ragScrollToMark(); }"
AFTER_ANSWER = "() => { window.ragAfterAnswer && window.ragAfterAnswer(); }"
EXPORT = "() => { window.ragExportMarkdown(); }"
SHOW_LAST = "() => { setTimeout(() => window.ragShowLastAnswer && window.ragShowLastAnswer(), 80); }"
AFTER_RESTORE = "() => { window.ragAfterRestore && window.ragAfterRestore(); }"


def info_html(pipeline: Any, status: str, feedback_path: Any = None) -> str:
    """The About tab: model, index, documents, where feedback goes, what start-up reported."""
    info = pipeline.info
    counts = info.get("counts") or {}
    docs = ", ".join(d.title for d in pipeline.index.documents) or "none"
    lines = [
        f"<b>Model:</b> <code>{escape(info.get('model'))}</code> · <b>retriever:</b> "
        f"{escape(info.get('retriever'))}",
        f"<b>Index:</b> <code>{escape(info.get('index'))}</code> ({escape(info.get('index_type'))}, built "
        f"{escape(info.get('built_at'))}) · {counts.get('documents', '?')} document(s), "
        f"{counts.get('sentences', '?')} sentences, {counts.get('chunks', '?')} passages",
        f"<b>Documents:</b> {escape(docs)}",
    ]
    if feedback_path is not None:
        lines.append(
            f"<b>Feedback:</b> thumbs up/down are saved as test questions in <code id=\"feedback-path\">"
            f"{escape(feedback_path)}</code> (replay them with <code>rag eval {escape(feedback_path)}</code>)"
        )
    lines.append(
        "<b>Conversations:</b> kept in this browser only (its local storage), never on the server."
    )
    if status:
        lines.append(f"<b>Start-up:</b> {escape(status)}")
    return "<br>".join(f'<span class="rag-status">{line}</span>' for line in lines)


def first_article(current: Any, doc_id: str | None = None) -> str:
    """The Article view of document ``doc_id`` (the first one when unknown), nothing marked."""
    docs = current.index.documents
    doc = next((d for d in docs if d.doc_id == doc_id), docs[0] if docs else None)
    return article_html(doc) if doc else ""


class PageEvents:
    """The page's event handlers over one live pipeline. Their Python names are what tests and
    the wiring know them by (``respond``, ``restore``, ``new_conversation``, ...)."""

    def __init__(self, live: LivePipeline, desk: DocumentDesk, feedback: FeedbackLog, status: str) -> None:
        self.live = live
        self.desk = desk
        self.feedback = feedback
        self.status = status

    # --- questions and conversations ---------------------------------------------------------

    def respond(self, question: str, messages: list[dict], history: list[str], turns: list[dict],
                conv_id: str, store: Any, chosen: list[str] | None = None):  # noqa: ANN201
        """One chat turn: the answer goes into the chat, its passages into the side views. With
        documents ``chosen`` ("Search only in"), the others are withheld before ranking, as
        ``rag ask --documents`` and ``"documents"`` in ``POST /api/ask`` do."""
        messages = list(messages or [])
        history = list(history or [])
        turns = list(turns or [])
        if not (question or "").strip():
            return (gr.update(),) * 11
        conv_id = conv_id or conv_store.new_id()
        started = time.perf_counter()
        messages.append({"role": "user", "content": user_html(question)})
        try:
            with self.live.lock:  # one pipeline for the whole question, even if a rebuild ends now
                current = self.live.current
                answer = (current.ask(question, history, documents=list(chosen)) if chosen
                          else current.ask(question, history))
        except QuestionError as exc:
            messages.append({"role": "assistant", "content": error_html(str(exc))})
            store = conv_store.saved(store, conv_id, messages, history, turns)
            return ("", messages, messages, history, turns, conv_id, store,
                    gr.update(choices=conv_store.choices(store), value=conv_id), gr.update(), gr.update(),
                    gr.update())
        elapsed = (time.perf_counter() - started) * 1000
        documents = {d.doc_id: d for d in current.index.documents}
        messages.append({"role": "assistant", "content": answer_html(answer, documents, elapsed)})
        history.append(answer.question)
        turns.append(conv_store.turn_record(answer, len(messages) - 1, current.index.sentences,
                                            answer_plain(answer)))
        store = conv_store.saved(store, conv_id, messages, history, turns)
        first_doc = current.index.documents[0] if current.index.documents else None
        cited_doc = documents.get(answer.citations[0].sentence.doc_id) if answer.citations else first_doc
        article = article_html(cited_doc, answer.citations) if cited_doc else ""
        article += cited_page_html(cited_doc, answer.citations)  # the page itself (PDF, scan)
        return ("", messages, messages, history, turns, conv_id, store,
                gr.update(choices=conv_store.choices(store), value=conv_id),
                answer_sources_html(turns[-1]["answer"], documents), article,  # as a reload shows it
                gr.update(value=cited_doc.doc_id) if cited_doc else gr.update())

    def show(self, store: Any, conv_id: str) -> tuple[Any, ...]:
        """Put conversation ``conv_id`` of ``store`` on the page (an empty one if unknown)."""
        store = conv_store.read_store(store)
        conv = conv_store.conversation(store, conv_id) or {}
        messages = list(conv.get("messages") or [])
        store["current"] = conv.get("id", "")
        turns = list(conv.get("turns") or [])
        # The Sources view of its last answer, as it was when the answer came.
        last = next((t["answer"] for t in reversed(turns) if isinstance(t, dict) and t.get("answer")), None)
        documents = {d.doc_id: d for d in self.live.current.index.documents}
        sources_now = answer_sources_html(last, documents) if last else sources_html([])
        return (messages, messages, list(conv.get("history") or []), turns,
                store["current"], store,
                gr.update(choices=conv_store.choices(store), value=store["current"] or None),
                sources_now, first_article(self.live.current), gr.update(visible=False))

    def restore(self, store: Any):  # noqa: ANN201
        """The page as it opens: the last conversation, and the documents as they are now (another
        tab may have changed them since the page was built). One event, so that it cannot land
        after the first answer any later than before."""
        store = conv_store.read_store(store)
        shown = list(self.show(store, store["current"]))
        intro_now, _, examples_now, table, pick, article_pick_now, _, info_now, search_now = (
            self.document_views()
        )
        shown[0] = gr.update(value=shown[0], placeholder=chat_placeholder(len(self.desk.rows())))
        return (*shown, intro_now, examples_now, table, pick, article_pick_now, info_now, search_now)

    def new_conversation(self, store: Any):  # noqa: ANN201
        """A fresh conversation: the last one's feedback note ("Thanks: saved ...") goes too."""
        store = conv_store.read_store(store)
        return ("", *self.show(store, ""), "")

    def open_conversation(self, conv_id: str, store: Any):  # noqa: ANN201
        """A conversation picked in *Past conversations*. Nothing picked (the list emptied or
        left without a choice, which Gradio reports too) changes nothing: with the store as it
        was when the list was left, it would undo what an Undo at that moment brought back."""
        if not conv_id:
            return (gr.update(),) * 10
        return self.show(store, conv_id)

    def delete_conversation(self, conv_id: str, current: str, store: Any):  # noqa: ANN201
        """Delete the conversation picked under *Past conversations* (else the one shown); it
        can be brought back with *Undo* until another one is deleted."""
        store = conv_store.read_store(store)
        target = conv_id or current
        deleted = conv_store.conversation(store, target)
        store = conv_store.without(store, target)
        keep = current if current and current != target else ""
        if deleted is None:
            return (*self.show(store, keep), gr.update(), gr.update(), gr.update())
        title = deleted.get("title") or "(empty)"
        note = f"<span class='rag-status'>Deleted \u201c{escape(title)}\u201d.</span>"
        return (*self.show(store, keep), gr.update(visible=True), note,
                {"conversation": deleted, "was_current": target == current})

    def undo_delete(self, deleted: Any, store: Any):  # noqa: ANN201
        """The conversation deleted last comes back where it was in the list (by its last
        change) and is shown."""
        store = conv_store.read_store(store)
        conv = deleted.get("conversation") if isinstance(deleted, dict) else None
        if not isinstance(conv, dict) or not isinstance(conv.get("id"), str):
            return (*self.show(store, store["current"]), gr.update(visible=False), "", None)
        items = [c for c in store["items"] if c["id"] != conv["id"]] + [conv]
        items.sort(key=lambda c: -float(c.get("updated") or 0))
        store["items"] = items[:conv_store.MAX_CONVERSATIONS]
        return (*self.show(store, conv["id"]), gr.update(visible=False), "", None)

    def on_like(self, turns: list[dict], data: gr.LikeData):  # noqa: ANN201
        """Thumbs up: saved at once (the quoted sentences are right). Thumbs down: ask which is."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn = next((t for t in (turns or []) if t.get("index") == index), None)
        if turn is None:
            return gr.update(visible=False), gr.update(), -1, gr.update()
        liked = data.liked is True or data.liked == "Like"
        if liked:
            cited = [] if turn["abstained"] else turn["cited"]
            self.feedback.add(turn["question"], turn["lang"], cited, "up")
            return (gr.update(visible=False), gr.update(), -1,
                    f"Thanks: saved as a test question in {self.feedback.path}.")
        choices = [*turn.get("candidates", []), NOT_IN_TEXT]
        return (gr.update(visible=True), gr.update(choices=choices, value=None), index,
                "Which sentence answers the question? Pick it (or that the text does not say this), "
                "then Save.")

    def save_feedback(self, choice: str | None, index: int, turns: list[dict]):  # noqa: ANN201
        turn = next((t for t in (turns or []) if t.get("index") == index), None)
        if turn is None or not choice:
            return gr.update(visible=True), "Pick a sentence first (or that the text does not say this)."
        answers = [] if choice == NOT_IN_TEXT else [choice]
        self.feedback.add(turn["question"], turn["lang"], answers, "down")
        return gr.update(visible=False), f"Thanks: saved as a test question in {self.feedback.path}."

    def ask(self, question: str, history: list[str] | None = None) -> dict:
        """Answer one question with cited sentences; the same JSON as `rag ask --json`.

        Args:
            question: the question, in German or English.
            history: the user's earlier questions in this conversation, oldest first (optional);
                a follow-up such as "Und wann war das?" is resolved against them.
        """
        if not isinstance(question, str):
            raise gr.Error("the question must be text", print_exception=False)
        try:
            # Same rules as the pipeline's: not a list (a number, an object) is a user error.
            earlier = clean_history(history, self.live.current.settings.max_question_chars)
            with self.live.lock:
                answer = self.live.current.ask(question, earlier)
            return answer.to_dict()
        except QuestionError as exc:
            raise gr.Error(str(exc), print_exception=False) from None  # a user error, not a bug

    # --- documents: the list, uploads, deletes (the work is DocumentDesk's) -----------------

    def document_views(self, doc_id: str | None = None) -> tuple[Any, ...]:
        """Everything on the page that depends on which documents there are."""
        current = self.live.current
        rows = self.desk.rows()
        choices = document_choices(rows)
        ids = [r.doc_id for r in rows]
        shown = doc_id if doc_id in ids else (ids[0] if ids else None)
        return (
            intro_html([r.title for r in rows]),
            gr.update(placeholder=chat_placeholder(len(rows))),
            gr.update(visible=BUNDLED_DOC_ID in ids),
            documents_html(rows),
            gr.update(choices=choices, value=None),
            gr.update(choices=choices, value=shown),
            first_article(current, shown),
            info_html(current, self.status, self.feedback.path),
            # What to search: any of the documents there are now (shown when there are several).
            gr.update(choices=choices, visible=len(rows) > 1),
        )

    @staticmethod
    def discard_uploads(paths: Iterable[Path]) -> None:
        """Gradio's temporary copies of the uploads go as soon as they are stored or refused."""
        from gradio.utils import get_upload_folder

        from rag.app.documents import discard_uploads as discard

        discard(paths, Path(get_upload_folder()))

    @staticmethod
    def upload_pairs(files: Any) -> list[tuple[Path, str]]:
        paths = [files] if isinstance(files, (str, Path)) else list(files or [])
        return [(Path(str(f)), Path(str(f)).name) for f in paths]

    def on_upload(self, files: Any):  # noqa: ANN201
        """Files dropped on the page: added (or refused, each with its reason), index rebuilt."""
        pairs = self.upload_pairs(files)
        if not pairs:
            return (gr.update(), gr.update(), *self.document_views())
        try:
            change = self.desk.add(pairs)
        finally:
            self.discard_uploads(path for path, _ in pairs)
        return (None, change_html(change.lines()), *self.document_views())

    def on_delete(self, doc_id: str | None) -> tuple[Any, ...]:
        if not doc_id:
            return (change_html([("error", "Pick a document in the list first.")]), *self.document_views())
        change = self.desk.remove(doc_id)
        return (change_html(change.lines()), *self.document_views())

    def ask_delete(self, doc_id: str | None):  # noqa: ANN201
        """"Delete" only asks: the document goes with "Confirm delete" (nothing brings it back).
        No pick, or the only document: the refusal at once, nothing to confirm."""
        rows = self.desk.rows()
        row = next((r for r in rows if r.doc_id == doc_id), None)
        if row is None or len(rows) <= 1:
            return (gr.update(visible=False), *self.on_delete(doc_id))
        question = (f"Delete \u201c{row.title}\u201d ({Path(row.path).name})? It is removed from the "
                    "seeds folder and no longer searched; this cannot be undone.")
        views = self.document_views()
        return (gr.update(visible=True), change_html([("duplicate", question)]),
                *(gr.update() for _ in views))  # the list and the rest stay as they are

    def confirm_delete(self, doc_id: str | None):  # noqa: ANN201
        return (gr.update(visible=False), *self.on_delete(doc_id))

    @staticmethod
    def cancel_delete():  # noqa: ANN205
        return gr.update(visible=False), ""

    def pick_article(self, doc_id: str | None) -> str:
        return first_article(self.live.current, doc_id)

    def add_documents(self, files: Any) -> dict:
        """Add files to the documents (as dropping them on the page does) and rebuild the index.

        Args:
            files: the files to add (.txt, .md, .html, .pdf, .docx).
        """
        pairs = self.upload_pairs(files)
        try:
            change = self.desk.add(pairs)
        finally:
            self.discard_uploads(path for path, _ in pairs)
        return {**change.to_dict(), "documents": [r.public_dict() for r in self.desk.rows()]}

    def remove_document(self, doc_id: str) -> dict:
        """Remove one document (its id, as `/add_documents` and the page's list give it)."""
        change = self.desk.remove(str(doc_id or ""))
        return {**change.to_dict(), "documents": [r.public_dict() for r in self.desk.rows()]}


def wire(page: Page, ev: PageEvents, read_only: bool = False) -> None:
    """Connect the components of ``page`` to the handlers of ``ev`` (inside the page's Blocks)."""
    p = page
    outputs = [p.question, p.chatbot, p.messages_state, p.history_state, p.turns_state, p.conv_state,
               p.store, p.past, p.sources, p.article, p.article_pick]
    inputs = [p.question, p.messages_state, p.history_state, p.turns_state, p.conv_state, p.store,
              p.search_in]
    for trigger in (p.question.submit, p.send.click):
        trigger(
            ev.respond, inputs=inputs, outputs=outputs, api_visibility="private",
            concurrency_id="pipeline", show_progress="minimal",
        ).then(None, js=SCROLL_TO_MARK, api_visibility="private").then(
            None, js=AFTER_ANSWER, api_visibility="private")
    # Clicking an example fills the box and asks it.
    p.examples.load_input_event.then(
        ev.respond, inputs=inputs, outputs=outputs, api_visibility="private",
        concurrency_id="pipeline", show_progress="minimal",
    ).then(None, js=AFTER_ANSWER, api_visibility="private")
    p.article_tab.select(None, js=SCROLL_TO_MARK, api_visibility="private")
    shown = [p.chatbot, p.messages_state, p.history_state, p.turns_state, p.conv_state, p.store, p.past,
             p.sources, p.article, p.feedback_panel]
    undo = [p.undo_row, p.undo_note, p.deleted_state]
    p.reset_button.click(ev.new_conversation, inputs=[p.store], outputs=[p.question, *shown, p.feedback_note],
                         api_visibility="private")
    p.past.input(ev.open_conversation, inputs=[p.past, p.store], outputs=shown, api_visibility="private",
                 ).then(None, js=SHOW_LAST, api_visibility="private")
    p.delete_button.click(ev.delete_conversation, inputs=[p.past, p.conv_state, p.store],
                          outputs=[*shown, *undo], api_visibility="private")
    p.chatbot.clear(ev.delete_conversation, inputs=[p.conv_state, p.conv_state, p.store],
                    outputs=[*shown, *undo], api_visibility="private")  # the chat's own bin icon
    p.undo_button.click(ev.undo_delete, inputs=[p.deleted_state, p.store], outputs=[*shown, *undo],
                        api_visibility="private")
    p.export_button.click(None, js=EXPORT, api_visibility="private")
    p.chatbot.like(ev.on_like, inputs=[p.turns_state],
                   outputs=[p.feedback_panel, p.feedback_choice, p.target_state, p.feedback_note],
                   api_visibility="private")
    p.feedback_save.click(ev.save_feedback, inputs=[p.feedback_choice, p.target_state, p.turns_state],
                          outputs=[p.feedback_panel, p.feedback_note], api_visibility="private")
    gr.api(ev.ask, api_name="ask", concurrency_id="pipeline")

    views = [p.intro, p.chatbot, p.examples_box, p.doc_table, p.doc_pick, p.article_pick, p.article, p.info,
             p.search_in]
    p.article_pick.input(ev.pick_article, inputs=[p.article_pick], outputs=[p.article],
                         api_visibility="private")
    # Changes run one at a time, beside the questions (which the old index answers meanwhile).
    # Read-only: no such routes at all, so no request can change the documents.
    if not read_only:
        p.uploads.upload(ev.on_upload, inputs=[p.uploads], outputs=[p.uploads, p.doc_status, *views],
                         api_visibility="private", concurrency_id="documents", concurrency_limit=1,
                         show_progress="full")
        # Delete asks first (a "Confirm delete" button appears, not a browser dialog).
        deleting: dict[str, Any] = {
            "inputs": [p.doc_pick], "outputs": [p.doc_confirm, p.doc_status, *views],
            "api_visibility": "private", "concurrency_id": "documents", "concurrency_limit": 1}
        p.doc_delete.click(ev.ask_delete, **deleting)
        p.doc_confirm_delete.click(ev.confirm_delete, **deleting)
        p.doc_cancel.click(ev.cancel_delete, outputs=[p.doc_confirm, p.doc_status], api_visibility="private")
        p.doc_pick.input(ev.cancel_delete, outputs=[p.doc_confirm, p.doc_status], api_visibility="private")
        p.api_add.click(ev.add_documents, inputs=[p.api_files], outputs=[p.api_result],
                        api_name="add_documents", concurrency_id="documents", concurrency_limit=1)
        p.api_remove.click(ev.remove_document, inputs=[p.api_doc], outputs=[p.api_result],
                           api_name="remove_document", concurrency_id="documents", concurrency_limit=1)


def build_app(
    pipeline: Any,
    status: str = "",
    lock: threading.Lock | None = None,
    feedback_path: Any = None,
    storage_secret: str | None = None,
    desk: DocumentDesk | None = None,
    read_only: bool = False,
) -> gr.Blocks:
    """The page and the ``/ask`` endpoint around an opened :class:`rag.pipeline.Pipeline`.

    ``status`` is what start-up reported (e.g. that the index was built); it is shown on the page.
    ``lock`` is held around each question (pass the REST API's, so both share one).
    ``feedback_path``: where thumbs up/down go (``rag/app/feedback.py``); None = inside the index folder.
    Conversations are kept in the browser (``gr.BrowserState``), never on the server.
    ``pipeline`` may be a :class:`~rag.app.documents.LivePipeline` (its lock is then the one held);
    documents added or removed in the page (``desk``, default: one over it) swap it for a new one.
    ``read_only``: the documents are listed but cannot be added or removed, neither in the page
    nor through its API (for a server that people other than its operator use).
    """
    # One question at a time through the pipeline: PyStemmer's stemmer object and threadpoolctl's
    # BLAS limit (USE) are shared state that concurrent threads would corrupt. A question takes
    # milliseconds, so the lock costs little; Gradio may still run several events' I/O at once.
    live = pipeline if isinstance(pipeline, LivePipeline) else LivePipeline(pipeline,
                                                                            lock or threading.Lock())
    desk = desk or DocumentDesk(live)
    index_dir = live.current.settings.index_dir
    feedback = FeedbackLog(Path(feedback_path) if feedback_path else default_feedback_path(index_dir))
    ev = PageEvents(live, desk, feedback, status)
    rows = desk.rows()
    with blocks() as demo:
        page = build_layout(rows, first_article(live.current), info_html(live.current, status, feedback.path),
                            read_only=read_only, storage_secret=storage_secret)
        wire(page, ev, read_only)
        demo.load(ev.restore, inputs=[page.store], api_visibility="private",
                  outputs=[page.chatbot, page.messages_state, page.history_state, page.turns_state,
                           page.conv_state, page.store, page.past, page.sources, page.article,
                           page.feedback_panel, page.intro, page.examples_box, page.doc_table,
                           page.doc_pick, page.article_pick, page.info, page.search_in],
                  ).then(None, js=AFTER_RESTORE, api_visibility="private")
    return demo
