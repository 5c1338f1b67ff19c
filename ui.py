"""The chat in the browser: `python ui.py [--host HOST] [--port PORT]` (http://127.0.0.1:7860).

Gradio only: this file builds the page and calls the pipeline; the HTML comes from
``rag/app/render.py`` (which escapes everything that users or documents supply). The pipeline
and its index are loaded once at start-up (built first if missing or stale); each question
then takes milliseconds.

Besides the page, the app has one named API endpoint, ``/ask``: it takes a question (and
optionally the earlier questions of the conversation) and returns the same JSON object as
``rag ask --json``::

    from gradio_client import Client
    answer = Client("http://127.0.0.1:7860/").predict("Wer leitet Softbank?", api_name="/ask")

On the same port, a plain REST API (``rag/app/api.py``) answers in one request:
``POST /api/ask`` with ``{"question": ..., "history": [...]}``, ``GET /api/documents``,
``GET /api/health``; its OpenAPI description is ``/api/openapi.json`` (``/api/docs``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

# Before gradio is imported: no usage statistics leave the machine (forced, not a default:
# nothing about the questions asked here is anyone else's business).
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

if __name__ == "__main__":  # the model loads in a thread while gradio is imported
    from rag.app.options import preload_model

    preload_model(sys.argv[1:])

import gradio as gr  # noqa: E402

from rag.app.documents import DocumentDesk, DocumentRow, LivePipeline  # noqa: E402
from rag.app.options import add_corpus_options, settings_from, user_message  # noqa: E402
from rag.app.page_html import cited_page_html  # noqa: E402
from rag.app.render import (  # noqa: E402
    CSS,
    answer_html,
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
from rag.ingest.loader import supported_suffixes  # noqa: E402
from rag.query.clean import QuestionError, clean_history  # noqa: E402

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
# Chat turns and /ask calls Gradio works on at once. The pipeline itself runs one question at a
# time (see ``build_app``); a few slots let Gradio's own per-request work overlap with it.
CONCURRENCY = 4
# Conversations kept in memory; beyond this the one idle longest is forgotten.
SESSION_CAPACITY = 1000
AUTH_ENV = "RAG_AUTH"  # USER:PASSWORD, the same as --auth
UPLOAD_CACHE_SECONDS = 3600  # how long Gradio keeps its temporary copy of an uploaded file
READ_ONLY_ENV = "RAG_READ_ONLY"  # "1": the same as --read-only
READ_ONLY_NOTE = (
    "<p class='read-only'>This server answers questions only: its documents are chosen by whoever "
    "runs it (started with <code>--read-only</code>).</p>"
)


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


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, "localhost")."""
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or 0.0.0.0-style wildcard: others may reach it


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``USER:PASSWORD`` -> (user, password); None for no value; ValueError when malformed."""
    if value is None or not value.strip():
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise ValueError("credentials must look like USER:PASSWORD (both parts non-empty)")
    return user.strip(), password


def launch_auth(host: str, auth_flag: str | None, environ: dict[str, str]) -> tuple[str, str] | None:
    """The credentials to launch with, or ValueError when ``host`` is exposed without any.

    On a loopback address no login is needed (only this machine can connect); any other address
    requires ``--auth USER:PASSWORD`` or the environment variable ``RAG_AUTH``.
    """
    auth = parse_auth(auth_flag) if auth_flag is not None else parse_auth(environ.get(AUTH_ENV))
    if auth is None and not is_loopback(host):
        raise ValueError(
            f"refusing to listen on {host} without a login: anyone who can reach it could use the "
            f"chat. Give credentials with --auth USER:PASSWORD or the environment variable "
            f"{AUTH_ENV}=USER:PASSWORD, or use --host 127.0.0.1"
        )
    return auth

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

# Browser-side only: bring the first highlighted sentence of the article view into sight.
SCROLL_TO_MARK = """() => { setTimeout(() => {
  const mark = document.querySelector('#article mark.rag-hl');
  const box = mark && mark.closest('.rag-article');
  if (box && mark.offsetParent === box) box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 3);
}, 50); }"""

# Browser-side only: after an answer, the question box stays in view (phones scroll it away).
KEEP_INPUT_IN_VIEW = """() => { setTimeout(() => {
  const box = document.querySelector('#question textarea');
  if (!box) return;
  const r = box.getBoundingClientRect();
  if (r.bottom > window.innerHeight || r.top < 0) box.scrollIntoView({block: 'end'});
}, 80); }"""

# The page's own script (in <head>): the chat's copy buttons copy plain text (the answer with
# its [n] markers and numbered sources, from data-copy) instead of the message's HTML, and
# ragExportMarkdown() downloads the whole conversation as Markdown. Both run in the browser:
# nothing about the conversation goes to the server for this.
PAGE_SCRIPT = """<script>
(() => {
  // The plain text of one message: an answer's hidden .rag-copy text, or the question as typed.
  const plain = (node) => {
    const copy = node.querySelector('.rag-copy');
    if (copy) return copy.textContent;
    const user = node.querySelector('.rag-user');
    return user ? user.innerText : node.innerText;
  };
  const messages = () => Array.from(document.querySelectorAll('#chat .rag-copy, #chat .rag-user')).map(
    (el) => ({user: el.classList.contains('rag-user'), text: el.classList.contains('rag-user')
      ? el.innerText : el.textContent}));
  const write = async (text) => {
    window.ragLastCopy = text;
    try { await navigator.clipboard.writeText(text); return; } catch (e) { /* fall back below */ }
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    try { document.execCommand('copy'); } finally { area.remove(); }
  };
  window.ragConversationMarkdown = () => {
    const out = ['# Conversation', ''];
    for (const m of messages()) {
      if (m.user) { out.push('**Question:** ' + m.text, ''); }
      else { out.push(m.text.replace(/\\n/g, '  \\n'), '', '---', ''); }
    }
    return out.join('\\n');
  };
  window.ragExportMarkdown = () => {
    const text = window.ragConversationMarkdown();
    window.ragLastExport = text;
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([text], {type: 'text/markdown'}));
    link.download = 'conversation-' + new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-') + '.md';
    document.body.appendChild(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 5000);
  };
  // The chat's copy buttons sit after their message: find that message, copy its plain text.
  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('#chat button');
    if (!button) return;
    const label = ((button.getAttribute('aria-label') || '') + ' ' + (button.title || '')).toLowerCase();
    if (!label.includes('copy') || label.includes('all')) return;
    let node = button.closest('.message-buttons') || button.parentElement;
    const has = (n) => n.querySelector && n.querySelector('.rag-copy, .rag-user');
    while (node && !has(node)) node = node.previousElementSibling;
    if (!node) return;
    event.preventDefault(); event.stopImmediatePropagation();
    write(plain(node));
  }, true);
  // Wide screens: keep a citation's pop-up inside the window (phones place it by CSS).
  const place = (event) => {
    const cite = event.target.closest && event.target.closest('#chat .rag-cite');
    const pop = cite && cite.querySelector('.rag-cite-pop');
    if (!pop || window.innerWidth <= 640) return;
    pop.style.left = ''; pop.style.top = '';
    requestAnimationFrame(() => {
      const r = pop.getBoundingClientRect(), m = cite.getBoundingClientRect(), w = window.innerWidth;
      if (r.right > w - 8) pop.style.left = Math.max(8, w - 8 - r.width) + 'px';
      if (r.bottom > window.innerHeight - 8) pop.style.top = Math.max(8, m.top - r.height - 8) + 'px';
    });
  };
  document.addEventListener('mouseover', place, true);
  document.addEventListener('focusin', place, true);
})();
</script>"""

STORE_KEY = "rag-chat-conversations"
MAX_CONVERSATIONS = 30  # kept in the browser; beyond this the oldest is dropped
EMPTY_STORE: dict[str, Any] = {"current": "", "items": []}


def _document_choices(rows: list[DocumentRow]) -> list[tuple[str, str]]:
    return [(f"{r.title} ({Path(r.path).name})", r.doc_id) for r in rows]


def _info_html(pipeline: Any, status: str, feedback_path: Any = None) -> str:
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


def _new_id() -> str:
    import secrets

    return f"c{int(time.time() * 1000):x}{secrets.token_hex(2)}"


def _store(value: Any) -> dict[str, Any]:
    """The browser's stored conversations, tolerating anything malformed (a fresh store then)."""
    if not isinstance(value, dict) or not isinstance(value.get("items"), list):
        return {"current": "", "items": []}
    items = [c for c in value["items"] if isinstance(c, dict) and isinstance(c.get("id"), str)]
    return {"current": str(value.get("current") or ""), "items": items}


def _choices(store: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f"{c.get('title') or '(empty)'}", c["id"]) for c in store["items"]]


def _conversation(store: dict[str, Any], conv_id: str) -> dict[str, Any] | None:
    return next((c for c in store["items"] if c["id"] == conv_id), None)


def _saved(store: Any, conv_id: str, messages: list, history: list, turns: list) -> dict[str, Any]:
    """``store`` with this conversation saved (most recent first) and made current."""
    store = _store(store)
    items = [c for c in store["items"] if c["id"] != conv_id]
    title = (history[0] if history else "")[:80]
    items.insert(0, {"id": conv_id, "title": title, "updated": time.time(),
                     "messages": messages, "history": history, "turns": turns})
    return {"current": conv_id, "items": items[:MAX_CONVERSATIONS]}


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
    from rag.app.feedback import NOT_IN_TEXT, FeedbackLog, default_feedback_path
    from rag.app.render import answer_plain

    # One question at a time through the pipeline: PyStemmer's stemmer object and threadpoolctl's
    # BLAS limit (USE) are shared state that concurrent threads would corrupt. A question takes
    # milliseconds, so the lock costs little; Gradio may still run several events' I/O at once.
    if isinstance(pipeline, LivePipeline):
        live = pipeline
    else:
        live = LivePipeline(pipeline, lock or threading.Lock())
    pipeline_lock = live.lock
    desk = desk or DocumentDesk(live)
    index_dir = live.current.settings.index_dir
    feedback = FeedbackLog(Path(feedback_path) if feedback_path else default_feedback_path(index_dir))

    def first_article(current: Any, doc_id: str | None = None) -> str:
        docs = current.index.documents
        doc = next((d for d in docs if d.doc_id == doc_id), docs[0] if docs else None)
        return article_html(doc) if doc else ""

    def turn_record(answer: Any, index: int, sentences: Sequence[Any]) -> dict[str, Any]:
        candidates: list[str] = []
        for hit in answer.hits[:5]:
            for sid in hit.chunk.sentence_ids:
                text = sentences[sid].text if 0 <= sid < len(sentences) else ""
                if text and text not in candidates:
                    candidates.append(text)
        cited_texts = [c.sentence.text for c in answer.citations]
        for text in cited_texts:
            if text not in candidates:
                candidates.insert(0, text)
        return {
            "index": index, "question": answer.question, "lang": answer.language,
            "abstained": bool(answer.abstained), "cited": cited_texts,
            "candidates": candidates[:25], "plain": answer_plain(answer),
            # The answer as every other surface gives it (`rag ask --json`, /ask, /api/ask).
            "answer": answer.to_dict(),
        }

    def respond(question: str, messages: list[dict], history: list[str], turns: list[dict],
                conv_id: str, store: Any, chosen: list[str] | None = None):  # noqa: ANN202
        """One chat turn: the answer goes into the chat, its passages into the side views. With
        documents ``chosen`` ("Search only in"), the others are withheld before ranking, as
        ``rag ask --documents`` and ``"documents"`` in ``POST /api/ask`` do."""
        messages = list(messages or [])
        history = list(history or [])
        turns = list(turns or [])
        if not (question or "").strip():
            return (gr.update(),) * 11
        conv_id = conv_id or _new_id()
        started = time.perf_counter()
        messages.append({"role": "user", "content": user_html(question)})
        try:
            with pipeline_lock:  # one pipeline for the whole question, even if a rebuild ends now
                current = live.current
                answer = (current.ask(question, history, documents=list(chosen)) if chosen
                          else current.ask(question, history))
        except QuestionError as exc:
            messages.append({"role": "assistant", "content": error_html(str(exc))})
            store = _saved(store, conv_id, messages, history, turns)
            return ("", messages, messages, history, turns, conv_id, store,
                    gr.update(choices=_choices(store), value=conv_id), gr.update(), gr.update(),
                    gr.update())
        elapsed = (time.perf_counter() - started) * 1000
        documents = {d.doc_id: d for d in current.index.documents}
        messages.append({"role": "assistant", "content": answer_html(answer, documents, elapsed)})
        history.append(answer.question)
        turns.append(turn_record(answer, len(messages) - 1, current.index.sentences))
        store = _saved(store, conv_id, messages, history, turns)
        first_doc = current.index.documents[0] if current.index.documents else None
        cited_doc = documents.get(answer.citations[0].sentence.doc_id) if answer.citations else first_doc
        article = article_html(cited_doc, answer.citations) if cited_doc else ""
        article += cited_page_html(cited_doc, answer.citations)  # the page itself (PDF, scan)
        return ("", messages, messages, history, turns, conv_id, store,
                gr.update(choices=_choices(store), value=conv_id),
                answer_sources_html(turns[-1]["answer"], documents), article,  # as a reload shows it
                gr.update(value=cited_doc.doc_id) if cited_doc else gr.update())

    def show(store: Any, conv_id: str):  # noqa: ANN202
        """Put conversation ``conv_id`` of ``store`` on the page (an empty one if unknown)."""
        store = _store(store)
        conv = _conversation(store, conv_id) or {}
        messages = list(conv.get("messages") or [])
        store["current"] = conv.get("id", "")
        turns = list(conv.get("turns") or [])
        # The Sources view of its last answer, as it was when the answer came.
        last = next((t["answer"] for t in reversed(turns) if isinstance(t, dict) and t.get("answer")), None)
        documents = {d.doc_id: d for d in live.current.index.documents}
        sources_now = answer_sources_html(last, documents) if last else sources_html([])
        return (messages, messages, list(conv.get("history") or []), turns,
                store["current"], store, gr.update(choices=_choices(store), value=store["current"] or None),
                sources_now, first_article(live.current), gr.update(visible=False))

    def restore(store: Any):  # noqa: ANN202
        """The page as it opens: the last conversation, and the documents as they are now (another
        tab may have changed them since the page was built). One event, so that it cannot land
        after the first answer any later than before."""
        store = _store(store)
        shown = list(show(store, store["current"]))
        intro_now, _, examples_now, table, pick, article_pick_now, _, info_now, search_now = (
            document_views()
        )
        shown[0] = gr.update(value=shown[0], placeholder=chat_placeholder(len(desk.rows())))
        return (*shown, intro_now, examples_now, table, pick, article_pick_now, info_now, search_now)

    def new_conversation(store: Any):  # noqa: ANN202
        """A fresh conversation: the last one's feedback note ("Thanks: saved ...") goes too."""
        store = _store(store)
        return ("", *show(store, ""), "")

    def open_conversation(conv_id: str, store: Any):  # noqa: ANN202
        return show(store, conv_id or "")

    def delete_conversation(conv_id: str, current: str, store: Any):  # noqa: ANN202
        store = _store(store)
        target = conv_id or current
        store["items"] = [c for c in store["items"] if c["id"] != target]
        keep = current if current and current != target else ""
        return show(store, keep)

    def on_like(turns: list[dict], data: gr.LikeData):  # noqa: ANN202
        """Thumbs up: saved at once (the quoted sentences are right). Thumbs down: ask which is."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn = next((t for t in (turns or []) if t.get("index") == index), None)
        if turn is None:
            return gr.update(visible=False), gr.update(), -1, gr.update()
        liked = data.liked is True or data.liked == "Like"
        if liked:
            feedback.add(turn["question"], turn["lang"], [] if turn["abstained"] else turn["cited"], "up")
            return (gr.update(visible=False), gr.update(), -1,
                    f"Thanks: saved as a test question in {feedback.path}.")
        choices = [*turn.get("candidates", []), NOT_IN_TEXT]
        return (gr.update(visible=True), gr.update(choices=choices, value=None), index,
                "Which sentence answers the question? Pick it (or that the text does not say this), "
                "then Save.")

    def save_feedback(choice: str | None, index: int, turns: list[dict]):  # noqa: ANN202
        turn = next((t for t in (turns or []) if t.get("index") == index), None)
        if turn is None or not choice:
            return gr.update(visible=True), "Pick a sentence first (or that the text does not say this)."
        answers = [] if choice == NOT_IN_TEXT else [choice]
        feedback.add(turn["question"], turn["lang"], answers, "down")
        return gr.update(visible=False), f"Thanks: saved as a test question in {feedback.path}."

    def ask(question: str, history: list[str] | None = None) -> dict:
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
            earlier = clean_history(history, live.current.settings.max_question_chars)
            with pipeline_lock:
                answer = live.current.ask(question, earlier)
            return answer.to_dict()
        except QuestionError as exc:
            raise gr.Error(str(exc), print_exception=False) from None  # a user error, not a bug

    # --- documents: the list, uploads, deletes (the work is DocumentDesk's) -----------------

    def document_views(doc_id: str | None = None) -> tuple[Any, ...]:
        """Everything on the page that depends on which documents there are."""
        current = live.current
        rows = desk.rows()
        choices = _document_choices(rows)
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
            _info_html(current, status, feedback.path),
            # What to search: any of the documents there are now (shown when there are several).
            gr.update(choices=choices, visible=len(rows) > 1),
        )

    def discard_uploads(paths: Iterable[Path]) -> None:
        """Gradio's temporary copies of the uploads go as soon as they are stored or refused."""
        from gradio.utils import get_upload_folder

        from rag.app.documents import discard_uploads as discard

        discard(paths, Path(get_upload_folder()))

    def upload_pairs(files: Any) -> list[tuple[Path, str]]:
        paths = [files] if isinstance(files, (str, Path)) else list(files or [])
        return [(Path(str(f)), Path(str(f)).name) for f in paths]

    def on_upload(files: Any):  # noqa: ANN202
        """Files dropped on the page: added (or refused, each with its reason), index rebuilt."""
        pairs = upload_pairs(files)
        if not pairs:
            return (gr.update(), gr.update(), *document_views())
        try:
            change = desk.add(pairs)
        finally:
            discard_uploads(path for path, _ in pairs)
        return (None, change_html(change.lines()), *document_views())

    def on_delete(doc_id: str | None):  # noqa: ANN202
        if not doc_id:
            return (change_html([("error", "Pick a document in the list first.")]), *document_views())
        change = desk.remove(doc_id)
        return (change_html(change.lines()), *document_views())

    def ask_delete(doc_id: str | None):  # noqa: ANN202
        """"Delete" only asks: the document goes with "Confirm delete" (nothing brings it back).
        No pick, or the only document: the refusal at once, nothing to confirm."""
        rows = desk.rows()
        row = next((r for r in rows if r.doc_id == doc_id), None)
        if row is None or len(rows) <= 1:
            return (gr.update(visible=False), *on_delete(doc_id))
        question = (f"Delete \u201c{row.title}\u201d ({Path(row.path).name})? It is removed from the "
                    "seeds folder and no longer searched; this cannot be undone.")
        return (gr.update(visible=True), change_html([("duplicate", question)]),
                *(gr.update() for _ in views))  # the list and the rest stay as they are

    def confirm_delete(doc_id: str | None):  # noqa: ANN202
        return (gr.update(visible=False), *on_delete(doc_id))

    def cancel_delete():  # noqa: ANN202
        return gr.update(visible=False), ""

    def pick_article(doc_id: str | None) -> str:
        return first_article(live.current, doc_id)

    def add_documents(files: Any) -> dict:
        """Add files to the documents (as dropping them on the page does) and rebuild the index.

        Args:
            files: the files to add (.txt, .md, .html, .pdf, .docx).
        """
        pairs = upload_pairs(files)
        try:
            change = desk.add(pairs)
        finally:
            discard_uploads(path for path, _ in pairs)
        return {**change.to_dict(), "documents": [r.public_dict() for r in desk.rows()]}

    def remove_document(doc_id: str) -> dict:
        """Remove one document (its id, as `/add_documents` and the page's list give it)."""
        change = desk.remove(str(doc_id or ""))
        return {**change.to_dict(), "documents": [r.public_dict() for r in desk.rows()]}

    first_rows = desk.rows()
    first_ids = [r.doc_id for r in first_rows]
    # Uploads are copied into the seeds folder and Gradio's copies deleted at once (discard_uploads);
    # whatever is left (an upload never handed to us) goes after an hour.
    with gr.Blocks(title="rag — answers you can check", analytics_enabled=False,
                   delete_cache=(UPLOAD_CACHE_SECONDS, UPLOAD_CACHE_SECONDS)) as demo:
        intro = gr.HTML(intro_html([r.title for r in first_rows]))
        store = gr.BrowserState(EMPTY_STORE, storage_key=STORE_KEY, secret=storage_secret)
        conv_state = gr.State("")
        history_state = gr.State([])
        messages_state = gr.State([])
        turns_state = gr.State([])
        target_state = gr.State(-1)
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
                    placeholder=chat_placeholder(len(first_rows)),
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
                    choices=_document_choices(first_rows), value=[], multiselect=True,
                    label="Search only in (every document when empty)", elem_id="search-in",
                    interactive=True, visible=len(first_rows) > 1,
                )
                with gr.Row():
                    reset_button = gr.Button("New conversation", elem_id="reset", size="sm")
                    export_button = gr.Button("Export as Markdown", elem_id="export", size="sm")
                with gr.Column(visible=BUNDLED_DOC_ID in first_ids) as examples_box:
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
                            choices=_document_choices(first_rows), value=first_ids[0] if first_ids else None,
                            label="Document", elem_id="article-pick", interactive=True,
                        )
                        article = gr.HTML(first_article(live.current), elem_id="article")
                    with gr.Tab("Documents", elem_id="documents-tab"):
                        if read_only:
                            gr.HTML(READ_ONLY_NOTE, elem_id="read-only")
                        uploads = paths_only(gr.File(
                            label="Add documents: drop files here or click (.txt, .md, .html, .pdf, .docx)",
                            file_count="multiple", file_types=list(supported_suffixes()),
                            elem_id="upload", height=130, visible=not read_only,
                        ))
                        doc_status = gr.HTML("", elem_id="doc-status")
                        doc_table = gr.HTML(documents_html(first_rows), elem_id="doc-table")
                        with gr.Row(visible=not read_only):
                            doc_pick = gr.Dropdown(
                                choices=_document_choices(first_rows), value=None,
                                label="Remove a document", elem_id="doc-pick", interactive=True, scale=4,
                            )
                            doc_delete = gr.Button("Delete", variant="stop", elem_id="doc-delete",
                                                   size="sm", scale=1, min_width=70)
                        with gr.Row(visible=False, elem_id="doc-confirm") as doc_confirm:
                            doc_confirm_delete = gr.Button("Confirm delete", variant="stop", size="sm",
                                                           elem_id="doc-confirm-delete")
                            doc_cancel = gr.Button("Cancel", size="sm", elem_id="doc-cancel")
                    with gr.Tab("About", elem_id="about-tab"):
                        info = gr.HTML(_info_html(live.current, status, feedback.path), elem_id="info")
                # Scripts' way in: the same as dropping files on the page / deleting in the list.
                api_files = paths_only(gr.File(file_count="multiple", visible=False))
                api_doc = gr.Textbox(visible=False)
                api_result = gr.JSON(visible=False)
                api_add = gr.Button(visible=False)
                api_remove = gr.Button(visible=False)

        outputs = [question, chatbot, messages_state, history_state, turns_state, conv_state, store, past,
                   sources, article, article_pick]
        inputs = [question, messages_state, history_state, turns_state, conv_state, store, search_in]
        triggers = [question.submit, send.click]
        for trigger in triggers:
            trigger(
                respond, inputs=inputs, outputs=outputs, api_visibility="private",
                concurrency_id="pipeline", show_progress="minimal",
            ).then(None, js=SCROLL_TO_MARK, api_visibility="private").then(
                None, js=KEEP_INPUT_IN_VIEW, api_visibility="private")
        # Clicking an example fills the box and asks it.
        examples.load_input_event.then(
            respond, inputs=inputs, outputs=outputs, api_visibility="private",
            concurrency_id="pipeline", show_progress="minimal",
        ).then(None, js=KEEP_INPUT_IN_VIEW, api_visibility="private")
        article_tab.select(None, js=SCROLL_TO_MARK, api_visibility="private")
        shown = [chatbot, messages_state, history_state, turns_state, conv_state, store, past, sources,
                 article, feedback_panel]
        reset_button.click(new_conversation, inputs=[store], outputs=[question, *shown, feedback_note],
                           api_visibility="private")
        past.input(open_conversation, inputs=[past, store], outputs=shown, api_visibility="private")
        delete_button.click(delete_conversation, inputs=[past, conv_state, store], outputs=shown,
                            api_visibility="private")
        chatbot.clear(delete_conversation, inputs=[conv_state, conv_state, store], outputs=shown,
                      api_visibility="private")  # the chat's own bin icon deletes this conversation
        export_button.click(None, js="() => { window.ragExportMarkdown(); }", api_visibility="private")
        chatbot.like(on_like, inputs=[turns_state],
                     outputs=[feedback_panel, feedback_choice, target_state, feedback_note],
                     api_visibility="private")
        feedback_save.click(save_feedback, inputs=[feedback_choice, target_state, turns_state],
                            outputs=[feedback_panel, feedback_note], api_visibility="private")
        gr.api(ask, api_name="ask", concurrency_id="pipeline")

        views = [intro, chatbot, examples_box, doc_table, doc_pick, article_pick, article, info, search_in]
        article_pick.input(pick_article, inputs=[article_pick], outputs=[article], api_visibility="private")
        # Changes run one at a time, beside the questions (which the old index answers meanwhile).
        # Read-only: no such routes at all, so no request can change the documents.
        if not read_only:
            uploads.upload(on_upload, inputs=[uploads], outputs=[uploads, doc_status, *views],
                           api_visibility="private", concurrency_id="documents", concurrency_limit=1,
                           show_progress="full")
            # Delete asks first (a "Confirm delete" button appears, not a browser dialog).
            deleting = {"inputs": [doc_pick], "outputs": [doc_confirm, doc_status, *views],
                        "api_visibility": "private", "concurrency_id": "documents", "concurrency_limit": 1}
            doc_delete.click(ask_delete, **deleting)
            doc_confirm_delete.click(confirm_delete, **deleting)
            doc_cancel.click(cancel_delete, outputs=[doc_confirm, doc_status], api_visibility="private")
            doc_pick.input(cancel_delete, outputs=[doc_confirm, doc_status], api_visibility="private")
            api_add.click(add_documents, inputs=[api_files], outputs=[api_result], api_name="add_documents",
                          concurrency_id="documents", concurrency_limit=1)
            api_remove.click(remove_document, inputs=[api_doc], outputs=[api_result],
                             api_name="remove_document", concurrency_id="documents", concurrency_limit=1)
        demo.load(restore, inputs=[store], api_visibility="private",
                  outputs=[*shown, intro, examples_box, doc_table, doc_pick, article_pick, info, search_in])
    return demo


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ui.py", description="The chat in the browser: answers made only of the article's sentences."
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    add_corpus_options(parser)
    parser.add_argument(
        "--concurrency", type=int, default=CONCURRENCY,
        help=f"requests Gradio handles at once (default {CONCURRENCY}; questions still run one at a time)",
    )
    parser.add_argument(
        "--feedback", default=None, metavar="FILE",
        help="where thumbs up/down from the page are saved as `rag eval` questions "
        "(default: feedback.jsonl inside the index folder)",
    )
    parser.add_argument(
        "--max-upload-mb", type=float, default=None, metavar="MB",
        help="largest file that can be added in the page (default 50)",
    )
    parser.add_argument(
        "--read-only", action="store_true",
        default=os.environ.get(READ_ONLY_ENV, "").strip().lower() in {"1", "true", "yes"},
        help=f"documents cannot be added or removed in the page or its API (or set {READ_ONLY_ENV}=1)",
    )
    parser.add_argument(
        "--auth",
        default=None,
        metavar="USER:PASSWORD",
        help=f"require this login (needed for any non-loopback --host; or set {AUTH_ENV})",
    )
    return parser


def _app_built_at_launch_only() -> contextlib.AbstractContextManager[Any]:
    """Gradio builds its FastAPI app (80+ routes) when the Blocks are created, when they close,
    in ``queue()`` and again in ``launch()``, whose app is the one served. Each build took
    0.3-1.2 s of the server's start on these cores (profiled), so inside this block it is skipped."""
    from gradio.routes import App

    return mock.patch.object(App, "create_app", staticmethod(lambda *args, **kwargs: None))


def _no_plot_backend_switch() -> contextlib.AbstractContextManager[Any]:
    """Gradio switches matplotlib to its "agg" backend around every event it runs, for apps that
    draw plots. This page draws none, and the switch imported matplotlib and pyplot inside the
    server's first answer: 0.3-0.5 s of the launch to the first answer (profiled with py-spy)."""
    from gradio import utils

    if not hasattr(utils, "MatplotlibBackendMananger"):  # a Gradio without it: nothing to skip
        return contextlib.nullcontext()
    return mock.patch.object(utils, "MatplotlibBackendMananger", contextlib.nullcontext)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:  # before anything is loaded: an exposed server without a login never starts
        auth = launch_auth(args.host, args.auth, dict(os.environ))
    except ValueError as exc:
        print(f"ui.py: error: {exc}", file=sys.stderr)
        return 2
    from rag.app.api import QuestionBatcher
    from rag.index.encoders import EncoderError, build_encoder, preload
    from rag.ingest import DocumentError
    from rag.language.identify import LanguageIdError
    from rag.language.identify import preload as identify_preload
    from rag.pipeline import Pipeline, StoreError

    messages: list[str] = []

    def on_status(message: str) -> None:
        messages.append(message)
        print(message, file=sys.stderr, flush=True)

    print("Loading the model and the index ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        settings = settings_from(args, max_upload_mb=args.max_upload_mb)
        preload(settings.model, settings.threads)
        # The API encodes the questions of requests that wait for the pipeline in one batch.
        encoder = QuestionBatcher(build_encoder(settings.model, settings.threads))
        pipeline = Pipeline.open(settings, on_status=on_status, encoder=encoder)
        identify_preload()  # the language of each question: loaded now, not in the first answer
    except (ValueError, DocumentError, StoreError, EncoderError, LanguageIdError) as exc:
        print(f"ui.py: error: {user_message(exc)}", file=sys.stderr)
        return 2
    ready = f"Ready in {time.perf_counter() - started:.1f} s."
    status = " ".join([*messages, ready]) if messages else f"Index loaded from {pipeline.index.path}. {ready}"
    print(status, file=sys.stderr, flush=True)

    from starlette.routing import Mount

    from rag.app.api import build_api

    pipeline_lock = threading.Lock()  # the page, Gradio's /ask and /api/ask: one question at a time
    # What every part of the server answers with; replaced when documents are added or removed.
    live = LivePipeline(pipeline, pipeline_lock)
    desk = DocumentDesk(live, on_status=lambda m: print(m, file=sys.stderr, flush=True))
    # The browser keeps conversations encrypted with this; a fixed per-index secret lets them
    # survive a restart of the server (they are the user's own, in the user's own browser).
    secret = f"rag-chat:{settings.model_index_dir.absolute()}"
    with _app_built_at_launch_only():
        demo = build_app(live, status, pipeline_lock, args.feedback, storage_secret=secret, desk=desk,
                         read_only=args.read_only)
        demo.queue(default_concurrency_limit=max(1, args.concurrency))
    api = build_api(live, pipeline_lock, auth)
    with _no_plot_backend_switch():
        demo.launch(
            server_name=args.host,
            server_port=args.port,
            share=False,  # never a public *.gradio.live tunnel (GRADIO_SHARE is ignored too)
            # quiet: no "To create a public link, set `share=True`" hint; the address is printed
            # below instead (quiet drops Gradio's own "Running on local URL" line too).
            quiet=True,
            prevent_thread_lock=True,
            auth=auth,
            enable_monitoring=False,
            # Each session (a browser tab, a gradio_client Client, a bare REST call) keeps a copy of the
            # page config (~40 KB) until evicted; Gradio's default of 10,000 would let ~400 MB pile up.
            state_session_capacity=SESSION_CAPACITY,
            mcp_server=False,
            css=CSS,
            head=PAGE_SCRIPT,
            footer_links=["api"],
            show_error=True,
            # Uploads above the limit are refused while they stream in, before they fill the disk.
            max_file_size=settings.max_upload_bytes,
            # The REST API on the same server and port, matched before Gradio's own routes.
            app_kwargs={"routes": [Mount("/api", app=api, name="rest-api")]},
            # Gradio's own check that the server is up is a plain-HTTP request to this process: no
            # certificate to verify, and loading the CA bundle for it cost 0.05-0.1 s of the start.
            ssl_verify=False,
        )
    print(f"* Running on local URL:  {demo.local_url}", flush=True)
    demo.block_thread()  # until Ctrl+C, as launch() would have
    return 0


if __name__ == "__main__":
    sys.exit(main())
