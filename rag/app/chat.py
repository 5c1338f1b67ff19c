"""`rag chat`: ask questions in the terminal, one conversation over the same pipeline as the page.

The model and the index load once; every question is then answered in milliseconds. Follow-ups
use the conversation: the earlier questions go to ``Pipeline.ask`` as ``history``, as the browser
does, so "Und wann war das?" is searched together with the earlier topic. Each citation prints
with its place (document, heading, paragraph, sentence, character offsets).

Commands: ``:sources`` (the last answer's retrieved passages), ``:new`` (forget the
conversation), ``:help``, ``:quit``. Ctrl-D or Ctrl-C end the session (exit status 0). Input
lines are kept in a readline history file (``--history-file``, default ``~/.rag_chat_history``,
``RAG_CHAT_HISTORY``; ``--history-file ''`` keeps none).
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

HISTORY_ENV = "RAG_CHAT_HISTORY"
HISTORY_LINES = 1000
PROMPT = "rag> "
HELP = (
    "Type a question (German or English). Follow-ups use the conversation.\n"
    "  :sources  the passages the last answer was built from\n"
    "  :new      start a new conversation (forget the earlier questions)\n"
    "  :help     this text\n"
    "  :quit     leave (or Ctrl-D)"
)


def default_history_file() -> Path | None:
    value = os.environ.get(HISTORY_ENV)
    if value is not None:
        return Path(value).expanduser() if value.strip() else None
    return Path.home() / ".rag_chat_history"


def format_sources(answer: Any, titles: dict[str, str], width: int = 100) -> str:
    """The last answer's hits: rank, place, fused/dense/lexical scores and the passage."""
    from rag.app.support import section

    if answer is None:
        return "No answer yet: ask a question first."
    if not answer.hits:
        return "The last answer has no sources."
    cited = {(c.sentence.doc_id, c.sentence.paragraph) for c in answer.citations}
    lines = [f"Sources of: {answer.question}"]
    for hit in answer.hits:
        chunk = hit.chunk
        where = section(titles.get(chunk.doc_id, chunk.doc_id), chunk.heading)
        mark = " *" if (chunk.doc_id, chunk.paragraph) in cited else ""
        lines.append(
            f"{hit.rank}. {where}, paragraph {chunk.paragraph} (chars {chunk.start}-{chunk.end}) "
            f"score {hit.score:.3f} (dense {hit.dense_score:.3f}, lexical {hit.lexical_score:.3f}){mark}"
        )
        lines.append(textwrap.indent(textwrap.fill(chunk.text, width=max(40, width - 4)), "    "))
    if cited:
        lines.append("* a cited sentence is in this paragraph")
    return "\n".join(lines)


class ChatSession:
    """One conversation: questions in, formatted answers out; no terminal I/O of its own."""

    def __init__(self, pipeline: Any, format_answer: Callable[[Any], str],
                 documents: list[str] | None = None) -> None:
        self.pipeline = pipeline
        self.documents = documents  # the names searched (None: all)
        self.format_answer = format_answer
        self.history: list[str] = []
        self.last: Any = None
        self.titles = {d.doc_id: d.title for d in pipeline.index.documents}

    def handle(self, line: str) -> str | None:
        """The text to print for one input line; None means: end the session."""
        from rag.query.clean import QuestionError

        text = line.strip()
        if not text:
            return ""
        if text.startswith(":"):
            command = text[1:].strip().lower()
            if command in ("q", "quit", "exit"):
                return None
            if command in ("new", "reset", "clear"):
                self.history.clear()
                self.last = None
                return "(new conversation: earlier questions forgotten)"
            if command in ("sources", "s"):
                return format_sources(self.last, self.titles)
            if command in ("help", "h", "?"):
                return HELP
            return f"Unknown command {text!r}. " + HELP.splitlines()[0] + " :help lists the commands."
        try:
            answer = (self.pipeline.ask(text, self.history) if self.documents is None
                      else self.pipeline.ask(text, self.history, documents=self.documents))
        except QuestionError as exc:
            return f"({exc})"
        self.history.append(answer.question)
        self.last = answer
        return self.format_answer(answer)


def _setup_readline(path: Path | None) -> Callable[[], None]:
    """Line editing and a persistent input history; returns the function that saves it."""
    try:
        import readline
    except ImportError:  # pragma: no cover - not on every platform
        return lambda: None
    readline.set_history_length(HISTORY_LINES)
    if path is not None:
        try:
            readline.read_history_file(path)
        except (FileNotFoundError, OSError):
            pass

    def save() -> None:
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)
        except OSError:
            pass

    return save


def run_chat(session: ChatSession, history_file: Path | None, out: TextIO = sys.stdout) -> int:
    """The read-answer loop; Ctrl-D, Ctrl-C and :quit end it with status 0."""
    interactive = sys.stdin.isatty()
    save = _setup_readline(history_file) if interactive else (lambda: None)
    try:
        while True:
            try:
                line = input(PROMPT if interactive else "")
            except EOFError:
                break
            reply = session.handle(line)
            if reply is None:
                break
            if reply:
                print(reply + "\n", file=out, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        save()
    if interactive:
        print(file=out)
    print("Bye.", file=out, flush=True)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from rag.app.cli import UserError, format_answer
    from rag.index.encoders import preload
    from rag.pipeline import Pipeline

    try:
        from rag.app.options import settings_from

        settings = settings_from(args, top_k=args.top_k, retriever=args.retriever)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    from rag.app.options import chosen_names

    names = chosen_names(args)
    preload(settings.model, settings.threads)
    print("Loading the model and the index ...", file=sys.stderr, flush=True)
    try:
        pipeline = Pipeline.open(settings, progress=True)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 0
    shown = pipeline.index.documents
    if names is not None:
        from rag.query.choice import chosen_documents

        keep = set(chosen_documents(shown, names))  # an unknown name: one line, before the prompt
        shown = [d for d in shown if d.doc_id in keep]
    docs = ", ".join(d.title for d in shown) or "no documents"
    counts = pipeline.info.get("counts") or {}
    print(
        f"rag chat: {docs} ({counts.get('sentences', '?')} sentences; model {pipeline.info.get('model')}). "
        "Ask a question; :help lists the commands, Ctrl-D leaves.\n",
        flush=True,
    )
    history_file = Path(args.history_file).expanduser() if args.history_file else None
    if args.history_file is None:
        history_file = default_history_file()
    return run_chat(ChatSession(pipeline, format_answer, names), history_file)


def register(subparsers: argparse._SubParsersAction, add_common: Callable) -> None:
    p = subparsers.add_parser("chat", help="ask questions in the terminal (one conversation, follow-ups)")
    add_common(p)
    p.add_argument("--top-k", type=int, default=None, help="passages to retrieve (default 5)")
    p.add_argument("--retriever", choices=("hybrid", "dense", "lexical"), default=None)
    from rag.app.options import add_documents_option

    add_documents_option(p)
    p.add_argument(
        "--history-file", default=None,
        help=f"readline history file (default ~/.rag_chat_history or ${HISTORY_ENV}; '' for none)",
    )
    p.set_defaults(func=cmd_chat)
