"""`rag index | ask | list | add | remove` (and more): a thin argparse layer over the pipeline.

Heavy imports happen inside the subcommand that needs them. A user error is one line on
stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rag.app.options import (
    add_corpus_options,
    add_documents_option,
    chosen_names,
    settings_from,
    user_message,
)
from rag.config import Settings

EXIT_USER_ERROR = 2


class UserError(Exception):
    """Anything the user can fix: printed as one line, exit status 2."""


def _settings(args: argparse.Namespace, **extra: object) -> Settings:
    try:
        settings = settings_from(args, **extra)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    model = str(settings.model)
    # A model given as a path (not a hub id like "org/name") must exist: caught here, it is one
    # line, before any index is built or a loader warns about an invalid repository id.
    if model.startswith(("/", "./", "../", "~")) and not Path(model).expanduser().exists():
        raise UserError(f"model folder not found: {model}")
    return settings


def cmd_index(args: argparse.Namespace) -> int:
    from rag.config import index_location
    from rag.index.embedding import embedder_for
    from rag.index.encoders import build_encoder
    from rag.index.store import ensure_index

    settings = _settings(args)
    workers = args.workers if args.workers is not None else settings.index_tuning.build_workers
    try:
        embedder = embedder_for(settings.model, workers, args.ray)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    if args.ray is not None:
        from rag.index.ray_embed import require_ray

        require_ray()  # without the extra: how to install it, before anything is read
    _, built_with = ensure_index(
        *index_location(settings),
        lambda: build_encoder(settings.model, settings.threads),
        force=args.force,
        on_status=lambda m: print(m, file=sys.stderr, flush=True),
        tuning=settings.index_tuning,
        embedder=embedder,
    )
    if built_with is None:
        print(f"The index in {settings.model_index_dir} is up to date.", file=sys.stderr)
    return 0


def format_answer(answer, info: dict | None = None) -> str:  # noqa: ANN001
    """Readable text for the terminal: the answer, then one line per citation."""
    from rag.app.support import citation_place, support_line

    lines = [answer.text]
    if support := support_line(answer):
        lines.insert(0, support)
    if answer.notice:
        lines.insert(0, f"({answer.notice})")
    if answer.citations:
        lines.append("")
        for c in answer.citations:
            s = c.sentence
            lines.append(f"[{c.marker}] {citation_place(c)} (chars {s.start}-{s.end}, score {c.score:.2f})")
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
    from rag.query.clean import clean_question

    clean_question(question, settings.max_question_chars)  # unaskable: one line, before any build
    names = chosen_names(args)
    preload(settings.model, settings.threads)  # model weights load while the index is read
    pipeline = Pipeline.open(settings, progress=not args.json)
    answer = pipeline.ask(question, args.history or (), documents=names)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """`rag list`: the documents of the seeds folder (a table, or JSON), and skipped files."""
    from rag.app.documents import list_documents

    settings = _settings(args)
    rows, skipped = list_documents(settings.seeds_dir)
    if args.json:
        print(json.dumps({"documents": [r.to_dict() for r in rows],
                          "skipped": [{"path": s.path, "reason": s.reason} for s in skipped]},
                         ensure_ascii=False, indent=2))
        return 0
    header = ("document", "format", "lang", "sentences", "pages", "title")
    table = [header] + [
        (r.doc_id, r.format, r.language, str(r.sentences), str(r.pages or ""), r.title) for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header) - 1)]
    for line in table:
        cells = [cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)]
        print("  ".join(cells + [line[-1]]).rstrip())
    for item in skipped:
        print(f"skipped {item.path}: {item.reason}", file=sys.stderr)
    return 0


def _rebuild(settings: Settings) -> None:
    from rag.app.documents import rebuild
    from rag.index.encoders import build_encoder

    rebuild(settings, lambda: build_encoder(settings.model, settings.threads),
            on_status=lambda m: print(m, file=sys.stderr, flush=True))


def cmd_add(args: argparse.Namespace) -> int:
    """`rag add FILE...`: copy readable files into the seeds folder, then rebuild the index."""
    from pathlib import Path

    from rag.ingest.files import add_document

    settings = _settings(args)
    if not Path(settings.seeds_dir).is_dir():
        from rag.ingest import SeedsMissing

        raise SeedsMissing(settings.seeds_dir)
    for name in args.files:
        target = add_document(settings.seeds_dir, Path(name))
        print(f"added {name} as {target}", file=sys.stderr)
    _rebuild(settings)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    """`rag remove DOC`: delete a document from the seeds folder, then rebuild the index."""
    from rag.app.documents import remove_document
    from rag.ingest.files import find_document, seed_files

    settings = _settings(args)
    target = find_document(Path(settings.seeds_dir), args.document)  # unknown: one line, exit 2
    others = [f for f in seed_files(settings.seeds_dir) if Path(f).resolve() != target.resolve()]
    if not others:  # as the page does: with no documents left nothing could be asked
        raise UserError(f"{target.name} is the only document: add another before removing it")
    path = remove_document(settings.seeds_dir, args.document)
    print(f"removed {path}", file=sys.stderr)
    _rebuild(settings)
    return 0


def _register_document_commands(sub: argparse._SubParsersAction) -> None:
    """`rag list`, `rag add`, `rag remove`: manage the documents of the seeds folder."""
    p_list = sub.add_parser("list", help="list the documents of the seeds folder")
    add_corpus_options(p_list)
    p_list.add_argument("--json", action="store_true", help="print the list as JSON")
    p_list.set_defaults(func=cmd_list)

    p_add = sub.add_parser("add", help="copy documents into the seeds folder and rebuild the index")
    add_corpus_options(p_add)
    p_add.add_argument("files", nargs="+", help="files to add (.txt, .md, .html, .pdf, .docx)")
    p_add.set_defaults(func=cmd_add)

    p_remove = sub.add_parser("remove", help="remove a document from the seeds folder and rebuild")
    add_corpus_options(p_remove)
    p_remove.add_argument("document", help="document id (as `rag list` shows it) or file name")
    p_remove.set_defaults(func=cmd_remove)


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
    p_index.add_argument(
        "--workers", type=int, default=None, metavar="N",
        help="embed with N processes of one BLAS thread each (default: in this process, --threads "
        "threads); with --ray, N actors",
    )
    p_index.add_argument(
        "--ray", default=None, metavar="ADDRESS",
        help="embed on Ray Data actors: 'local' (a Ray started here), 'auto' or ray://HOST:PORT "
        "(needs the 'scale' extra: pip install 'rag[scale]')",
    )
    p_index.set_defaults(func=cmd_index)

    p_ask = sub.add_parser("ask", help="answer a question with cited sentences")
    add_corpus_options(p_ask)
    p_ask.add_argument("question", nargs="+", help="the question (quote it); '-' reads it from stdin")
    p_ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    p_ask.add_argument(
        "--history", action="append", metavar="QUESTION",
        help="an earlier question of the conversation, oldest first (repeat it for each): a "
        "follow-up such as 'Und warum?' is answered as in the chat",
    )
    p_ask.add_argument("--top-k", type=int, default=None, help="passages to retrieve (default 5)")
    p_ask.add_argument("--retriever", choices=("hybrid", "dense", "lexical"), default=None)
    add_documents_option(p_ask)
    p_ask.set_defaults(func=cmd_ask)
    _register_document_commands(sub)

    for register in EXTRA_COMMANDS:
        register(sub, add_corpus_options)
    return parser


# Other modules add subcommands here (eval, bench) without this file growing their logic.
EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction, Callable], None]] = []


def _load_extra_commands() -> None:
    import importlib

    for name in ("rag.app.eval_command", "rag.app.bench_command", "rag.app.train_command", "rag.app.chat"):
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
        print(f"rag: error: {user_message(exc)}", file=sys.stderr)
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
