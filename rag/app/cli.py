"""`rag index | ask` (and more): a thin argparse layer over the pipeline.

Heavy imports happen inside the subcommand that needs them. A user error is one line on
stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from rag.app.options import add_corpus_options, settings_from
from rag.config import Settings

EXIT_USER_ERROR = 2


class UserError(Exception):
    """Anything the user can fix: printed as one line, exit status 2."""


def _settings(args: argparse.Namespace, **extra: object) -> Settings:
    try:
        return settings_from(args, **extra)
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def cmd_index(args: argparse.Namespace) -> int:
    from rag.index.encoders import build_encoder
    from rag.index.store import ensure_index

    settings = _settings(args)
    _, built_with = ensure_index(
        settings,
        lambda: build_encoder(settings.model, settings.threads),
        force=args.force,
        on_status=lambda m: print(m, file=sys.stderr, flush=True),
    )
    if built_with is None:
        print(f"The index in {settings.index_dir} is up to date.", file=sys.stderr)
    return 0


def format_answer(answer, info: dict | None = None) -> str:  # noqa: ANN001
    """Readable text for the terminal: the answer, then one line per citation."""
    lines = [answer.text]
    if answer.notice:
        lines.insert(0, f"({answer.notice})")
    if answer.citations:
        lines.append("")
        for c in answer.citations:
            s = c.sentence
            where = f"{c.doc_title or s.doc_id}"
            if s.heading:
                where += f" › {s.heading}"
            page = getattr(s, "page", None)
            lines.append(
                f"[{c.marker}] {where}, "
                + (f"page {page}, " if page is not None else "")
                + f"paragraph {s.paragraph}, sentence {s.sentence} "
                f"(chars {s.start}-{s.end}, score {c.score:.2f})"
            )
    return "\n".join(lines)


def _question_text(words: Sequence[str]) -> str:
    """The question from the command line, or from stdin for ``rag ask -``.

    Linux caps one argument at 128 KiB, so a very long question has to come through stdin.
    Bytes that are not UTF-8 (argv arrives with surrogateescape, stdin is decoded with
    ``replace``) are dropped later by :func:`rag.query.clean.clean_question`.
    """
    if list(words) == ["-"]:
        return sys.stdin.buffer.read().decode("utf-8", "replace")
    return " ".join(words)


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.index.encoders import preload
    from rag.pipeline import Pipeline

    question = _question_text(args.question)
    settings = _settings(args, top_k=args.top_k, retriever=args.retriever)
    preload(settings.model, settings.threads)  # model weights load while torch is imported
    pipeline = Pipeline.open(settings, progress=not args.json)
    answer = pipeline.ask(question)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Answers about your documents, made only of sentences it can cite."
    )
    from rag import __version__

    parser.add_argument("--version", action="version", version=f"rag {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p_index = sub.add_parser("index", help="build the index of the seeds folder")
    add_corpus_options(p_index)
    p_index.add_argument("--force", action="store_true", help="rebuild even if up to date")
    p_index.set_defaults(func=cmd_index)

    p_ask = sub.add_parser("ask", help="answer a question with cited sentences")
    add_corpus_options(p_ask)
    p_ask.add_argument("question", nargs="+", help="the question (quote it); '-' reads it from stdin")
    p_ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    p_ask.add_argument("--top-k", type=int, default=None, help="passages to retrieve (default 5)")
    p_ask.add_argument("--retriever", choices=("hybrid", "dense", "lexical"), default=None)
    p_ask.set_defaults(func=cmd_ask)

    for register in EXTRA_COMMANDS:
        register(sub, add_corpus_options)
    return parser


# Other modules add subcommands here (eval, bench) without this file growing their logic.
EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction, Callable], None]] = []


def _load_extra_commands() -> None:
    import importlib

    for name in ("rag.app.eval_command", "rag.app.bench_command", "rag.app.train_command"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        if module.register not in EXTRA_COMMANDS:  # main() may run more than once (tests)
            EXTRA_COMMANDS.append(module.register)


def main(argv: Sequence[str] | None = None) -> int:
    from rag.ingest import DocumentError
    from rag.query.clean import QuestionError

    _load_extra_commands()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UserError, QuestionError, DocumentError) as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, no traceback
        from rag.answer.model import AnswerModelError
        from rag.index.encoders import EncoderError
        from rag.index.store import StoreError

        if isinstance(exc, (EncoderError, StoreError, AnswerModelError)):
            print(f"rag: error: {exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        print(f"rag: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
