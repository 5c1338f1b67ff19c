"""The chat server: options, start-up (model and index loaded once), and one launch that serves
the page, Gradio's ``/ask``, the REST API (``/api``, :mod:`rag.app.api`) and the page's script
(``/rag-static/page.js``) on one port. ``ui.py`` is its launcher."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from unittest import mock

from rag.app.access import AUTH_ENV, launch_auth
from rag.app.documents import DocumentDesk, LivePipeline
from rag.app.options import add_corpus_options, settings_from, user_message
from rag.app.render import CSS
from rag.app.web.events import build_app
from rag.app.web.layout import theme

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
# Chat turns and /ask calls Gradio works on at once. The pipeline itself runs one question at a
# time (see ``build_app``); a few slots let Gradio's own per-request work overlap with it.
CONCURRENCY = 4
# Conversations kept in memory; beyond this the one idle longest is forgotten.
SESSION_CAPACITY = 1000
READ_ONLY_ENV = "RAG_READ_ONLY"  # "1": the same as --read-only
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_ROUTE = "rag-static"
# The page's own script, a file of its own served beside the page (relative: it works under a
# proxy's path prefix too).
PAGE_HEAD = f'<script src="{STATIC_ROUTE}/page.js"></script>'


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


def extra_routes(api: Any) -> list[Any]:
    """Served before Gradio's own routes: the REST API at ``/api`` and the page's script."""
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    return [Mount("/api", app=api, name="rest-api"),
            Mount(f"/{STATIC_ROUTE}", app=StaticFiles(directory=STATIC_DIR), name="rag-static")]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:  # before anything is loaded: an exposed server without a login never starts
        auth = launch_auth(args.host, args.auth, dict(os.environ))
    except ValueError as exc:
        print(f"ui.py: error: {exc}", file=sys.stderr)
        return 2
    from rag.app.api import QuestionBatcher, build_api
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
            theme=theme(),  # fonts in weights that hold every letter (see theme())
            head=PAGE_HEAD,
            footer_links=["api"],
            show_error=True,
            # Uploads above the limit are refused while they stream in, before they fill the disk.
            max_file_size=settings.max_upload_bytes,
            # The REST API and the page's script on the same server and port, matched before
            # Gradio's own routes.
            app_kwargs={"routes": extra_routes(api)},
            # Gradio's own check that the server is up is a plain-HTTP request to this process: no
            # certificate to verify, and loading the CA bundle for it cost 0.05-0.1 s of the start.
            ssl_verify=False,
        )
    print(f"* Running on local URL:  {demo.local_url}", flush=True)
    demo.block_thread()  # until Ctrl+C, as launch() would have
    return 0


__all__ = ["build_app", "build_parser", "main"]
