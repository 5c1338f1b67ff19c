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
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

# Before gradio is imported: no usage statistics leave the machine (forced, not a default:
# nothing about the questions asked here is anyone else's business).
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402

from rag.app.options import add_corpus_options, settings_from  # noqa: E402
from rag.app.render import (  # noqa: E402
    CSS,
    answer_html,
    article_html,
    error_html,
    escape,
    sources_html,
    user_html,
)
from rag.query.clean import QuestionError  # noqa: E402

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
# Chat turns and /ask calls Gradio works on at once. The pipeline itself runs one question at a
# time (see ``build_app``); a few slots let Gradio's own per-request work overlap with it.
CONCURRENCY = 4
# Conversations kept in memory; beyond this the one idle longest is forgotten.
SESSION_CAPACITY = 1000
AUTH_ENV = "RAG_AUTH"  # USER:PASSWORD, the same as --auth


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

EXAMPLES = [
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


def _info_html(pipeline: Any, status: str) -> str:
    info = pipeline.info
    counts = info.get("counts") or {}
    docs = ", ".join(d.title for d in pipeline.index.documents) or "none"
    lines = [
        f"<b>Model:</b> <code>{escape(info.get('model'))}</code> · <b>retriever:</b> "
        f"{escape(info.get('retriever'))}",
        f"<b>Index:</b> <code>{escape(info.get('index'))}</code> ({escape(info.get('index_type'))}, built "
        f"{escape(info.get('built_at'))}) · {counts.get('documents', '?')} document(s), "
        f"{counts.get('sentences', '?')} sentences, {counts.get('chunks', '?')} passages",
        f"<b>Document:</b> {escape(docs)}",
    ]
    if status:
        lines.append(f"<b>Start-up:</b> {escape(status)}")
    return "<br>".join(f'<span class="rag-status">{line}</span>' for line in lines)


def build_app(pipeline: Any, status: str = "", lock: threading.Lock | None = None) -> gr.Blocks:
    """The page and the ``/ask`` endpoint around an opened :class:`rag.pipeline.Pipeline`.

    ``status`` is what start-up reported (e.g. that the index was built); it is shown on the page.
    ``lock`` is held around each question (pass the REST API's, so both share one).
    """
    documents = {d.doc_id: d for d in pipeline.index.documents}
    # One question at a time through the pipeline: PyStemmer's stemmer object and threadpoolctl's
    # BLAS limit (USE) are shared state that concurrent threads would corrupt. A question takes
    # milliseconds, so the lock costs little; Gradio may still run several events' I/O at once.
    pipeline_lock = lock or threading.Lock()
    first_doc = pipeline.index.documents[0] if pipeline.index.documents else None
    empty_article = article_html(first_doc) if first_doc else ""

    def respond(question: str, messages: list[dict], history: list[str]):  # noqa: ANN202
        """One chat turn: the answer goes into the chat, its passages into the side views."""
        messages = list(messages or [])
        history = list(history or [])
        if not (question or "").strip():
            return gr.update(), gr.update(), messages, history, gr.update(), gr.update()
        started = time.perf_counter()
        messages.append({"role": "user", "content": user_html(question)})
        try:
            with pipeline_lock:
                answer = pipeline.ask(question, history)
        except QuestionError as exc:
            messages.append({"role": "assistant", "content": error_html(str(exc))})
            return "", messages, messages, history, gr.update(), gr.update()
        elapsed = (time.perf_counter() - started) * 1000
        messages.append({"role": "assistant", "content": answer_html(answer, documents, elapsed)})
        history.append(answer.question)
        cited_doc = documents.get(answer.citations[0].sentence.doc_id) if answer.citations else first_doc
        article = article_html(cited_doc, answer.citations) if cited_doc else ""
        return "", messages, messages, history, sources_html(answer.hits, answer.citations), article

    def reset():  # noqa: ANN202
        return "", [], [], [], sources_html([]), empty_article

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
            with pipeline_lock:
                answer = pipeline.ask(question, history or [])  # history is cleaned there too
            return answer.to_dict()
        except QuestionError as exc:
            raise gr.Error(str(exc), print_exception=False) from None  # a user error, not a bug

    with gr.Blocks(title="rag — answers you can check", analytics_enabled=False) as demo:
        gr.HTML(
            "<h1 style='margin:0'>rag — answers you can check</h1>"
            "<p style='margin:0.2rem 0 0 0'>Ask about the article in German or English. Every answer is "
            "made of the article's own sentences; hover over or click a citation [n] to see it in "
            "its paragraph.</p>"
        )
        history_state = gr.State([])
        messages_state = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat",
                    elem_id="chat",
                    height=520,
                    render_markdown=False,  # our HTML is escaped already; no Markdown on user text
                    sanitize_html=True,
                    latex_delimiters=[],
                    allow_tags=False,
                    buttons=["copy"],
                    feedback_options=None,
                    group_consecutive_messages=False,
                    placeholder="Ask a question about the article, e.g. one of the examples below.",
                )
                with gr.Row():
                    question = gr.Textbox(
                        label="Your question",
                        placeholder="Wer leitet Softbank? · When did Open AI open an office in Tokyo?",
                        elem_id="question",
                        scale=5,
                        max_lines=3,
                        autofocus=True,
                        submit_btn=False,
                    )
                    send = gr.Button("Ask", variant="primary", elem_id="send", scale=1, min_width=80)
                with gr.Row():
                    reset_button = gr.Button("New conversation", elem_id="reset", size="sm")
                gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question], label="Examples")
            with gr.Column(scale=2):
                with gr.Tabs():
                    with gr.Tab("Sources", elem_id="sources-tab"):
                        sources = gr.HTML(sources_html([]), elem_id="sources")
                    with gr.Tab("Article", elem_id="article-tab") as article_tab:
                        article = gr.HTML(empty_article, elem_id="article")
                    with gr.Tab("About", elem_id="about-tab"):
                        gr.HTML(_info_html(pipeline, status), elem_id="info")

        outputs = [question, chatbot, messages_state, history_state, sources, article]
        for trigger in (question.submit, send.click):
            trigger(
                respond,
                inputs=[question, messages_state, history_state],
                outputs=outputs,
                api_visibility="private",
                concurrency_id="pipeline",
                show_progress="minimal",
            ).then(None, js=SCROLL_TO_MARK, api_visibility="private")
        article_tab.select(None, js=SCROLL_TO_MARK, api_visibility="private")
        reset_button.click(reset, outputs=outputs, api_visibility="private")
        chatbot.clear(reset, outputs=outputs, api_visibility="private")  # the chat's own bin icon
        gr.api(ask, api_name="ask", concurrency_id="pipeline")
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
        "--auth",
        default=None,
        metavar="USER:PASSWORD",
        help=f"require this login (needed for any non-loopback --host; or set {AUTH_ENV})",
    )
    return parser


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
    from rag.pipeline import Pipeline, StoreError

    messages: list[str] = []

    def on_status(message: str) -> None:
        messages.append(message)
        print(message, file=sys.stderr, flush=True)

    print("Loading the model and the index ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        settings = settings_from(args)
        preload(settings.model, settings.threads)
        # The API encodes the questions of requests that wait for the pipeline in one batch.
        encoder = QuestionBatcher(build_encoder(settings.model, settings.threads))
        pipeline = Pipeline.open(settings, on_status=on_status, encoder=encoder)
    except (ValueError, DocumentError, StoreError, EncoderError) as exc:
        print(f"ui.py: error: {exc}", file=sys.stderr)
        return 2
    ready = f"Ready in {time.perf_counter() - started:.1f} s."
    status = " ".join([*messages, ready]) if messages else f"Index loaded from {pipeline.index.path}. {ready}"
    print(status, file=sys.stderr, flush=True)

    from starlette.routing import Mount

    from rag.app.api import build_api

    pipeline_lock = threading.Lock()  # the page, Gradio's /ask and /api/ask: one question at a time
    demo = build_app(pipeline, status, pipeline_lock)
    demo.queue(default_concurrency_limit=max(1, args.concurrency))
    api = build_api(pipeline, pipeline_lock, auth)
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=False,  # never a public *.gradio.live tunnel (GRADIO_SHARE is ignored too)
        auth=auth,
        enable_monitoring=False,
        # Each session (a browser tab, a gradio_client Client, a bare REST call) keeps a copy of the
        # page config (~40 KB) until evicted; Gradio's default of 10,000 would let ~400 MB pile up.
        state_session_capacity=SESSION_CAPACITY,
        mcp_server=False,
        css=CSS,
        footer_links=["api"],
        show_error=True,
        # The REST API on the same server and port, matched before Gradio's own routes.
        app_kwargs={"routes": [Mount("/api", app=api, name="rest-api")]},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
