"""`rag eval`: batch evaluation over the project's JSONL questions or a SQuAD/XQuAD file.

Registered by :mod:`rag.app.cli` (``register(subparsers, add_common)``); heavy imports happen
inside :func:`cmd_eval`.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.app.options import add_documents_option, article_range, chosen_names
from rag.eval.questions import EvalFormatError

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.eval.questions import EvalQuestion
    from rag.records import Document

EXIT_BELOW_THRESHOLD = 1


def _threshold(text: str) -> tuple[str, float]:
    from rag.eval.evaluate import parse_threshold

    try:
        return parse_threshold(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _tuning(text: str) -> tuple[str, object]:
    from rag.config import Tuning

    try:
        return Tuning.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def register(
    subparsers: argparse._SubParsersAction, add_common: Callable[[argparse.ArgumentParser], None]
) -> None:
    p = subparsers.add_parser(
        "eval",
        help="evaluate retrieval and cited answers on a question file",
        description=(
            "Ask every question of FILE and write DIR/report.json, report.md, results.jsonl and charts. "
            'FILE is the project\'s JSONL ({"id", "lang", "question", "answers"}; answers [] = not '
            "answerable), asked over the index of --seeds, or with --format squad a SQuAD/XQuAD JSON file, "
            "whose paragraphs get their own index in INDEX/squad-<name>-<model>-<hash>/."
        ),
    )
    add_common(p)
    p.add_argument("file", help="question file (JSONL, or SQuAD JSON with --format squad)")
    p.add_argument("--format", choices=("jsonl", "squad"), default="jsonl", help="question file format")
    p.add_argument(
        "--questions",
        default=None,
        help="squad only: take the questions from this parallel file (same articles, paragraphs and "
        "questions in the same order, another language)",
    )
    p.add_argument(
        "--articles",
        type=article_range,
        default=None,
        metavar="RANGE",
        help="squad only: index and ask only these articles (numbered from 0 in file order), e.g. "
        "16-23 for articles the answer model was not trained on",
    )
    p.add_argument(
        "--withhold-gold",
        action="store_true",
        help="add near-miss copies that the text cannot answer: SQuAD questions whose answer stands in "
        "no other paragraph, asked with their gold paragraph withheld; JSONL questions asked with every "
        "paragraph holding an answer string withheld. The right reaction is to refuse",
    )
    p.add_argument(
        "--out", default=None, help="report folder (default: reports/<name>-<model>-<retriever>-k<K>)"
    )
    p.add_argument("--retriever", choices=("hybrid", "dense", "lexical"), default=None)
    add_documents_option(p)
    p.add_argument("--top-k", type=int, default=None, help="passages the answer is built from (default 5)")
    p.add_argument(
        "--compare",
        default=None,
        metavar="OTHER_REPORT.json",
        help="print this run and another report side by side with the differences",
    )
    p.add_argument(
        "--fail-under",
        type=_threshold,
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit with status 1 when a figure is below VALUE (repeatable), e.g. hit@5=0.8, "
        "answer.top_citation_hit=0.7, by_language.en.hit@10=0.9",
    )
    p.add_argument(
        "--tune",
        type=_tuning,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="run with one tuned number changed (repeatable), e.g. answer_pool=12 or "
        "same_language_weights=0.8,0.6,0.4; the names are the fields of rag.config.Tuning",
    )
    p.add_argument("--worst", type=int, default=10, help="worst cases listed in report.md (default 10)")
    p.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    p.set_defaults(func=cmd_eval)


def _slug(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return slug[:limit] or "x"


def _git_commit(cwd: Path) -> str | None:
    """The commit the code was at, with '+dirty' for uncommitted changes; None outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "rag"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "") if head else None


def _load_compare(path: str) -> dict[str, Any]:
    from rag.app.cli import UserError
    from rag.eval.evaluate import BLOCKS
    from rag.jsonfile import read_json

    other = read_json(path, UserError, f"--compare {path}")
    if not isinstance(other, dict) or any(not isinstance(other.get(b), dict) for b in BLOCKS):
        raise UserError(f"--compare {path}: not a report.json of rag eval (missing figure blocks)")
    return other


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.app.cli import UserError
    from rag.eval.evaluate import RunOptions, check_thresholds, run_eval
    from rag.eval.report import compare_text, summary_table, write_report
    from rag.pipeline import Pipeline

    _check_options(args)
    other = _load_compare(args.compare) if args.compare else None  # fail before the long run
    settings = _eval_settings(args)
    config: dict[str, Any] = {"format": args.format, "questions_file": str(args.file)}
    documents, fingerprint, questions, name, settings = _eval_inputs(args, settings, config)
    out = (
        Path(args.out)
        if args.out
        else Path("reports") / _slug(f"{name}-{settings.model}-{settings.retriever}-k{settings.top_k}", 100)
    )
    pipeline = Pipeline.open(settings, documents=documents, corpus_fingerprint=fingerprint)
    questions, name = _asked_questions(args, pipeline, questions, name, config)
    config.update(_run_config(name, settings, pipeline))
    report, results = run_eval(pipeline, questions, config, RunOptions(desc=f"eval {name}"))
    try:
        files = write_report(out, report, results, worst=args.worst, charts=not args.no_charts)
    except OSError as exc:
        raise UserError(f"cannot write the report to {out}: {exc}") from exc

    print(f"## {name} — {settings.model}, {settings.retriever}, top_k {settings.top_k}\n")
    print(summary_table(report))
    print(f"\nReport: {out / 'report.md'} ({len(files)} files in {out})", file=sys.stderr)
    if other is not None:
        print(f"\n## Compared with {args.compare}\n")
        print(compare_text(report, other, "this run", Path(args.compare).parent.name or "other"))
    failures = check_thresholds(report, args.fail_under)
    for failure in failures:
        print(f"rag eval: below threshold: {failure}", file=sys.stderr)
    return EXIT_BELOW_THRESHOLD if failures else 0


def _check_options(args: argparse.Namespace) -> None:
    from rag.app.cli import UserError

    if (args.questions or args.articles is not None) and args.format != "squad":
        raise UserError("--questions and --articles work only with --format squad")
    if args.worst < 0:
        raise UserError("--worst must be >= 0")


def _eval_settings(args: argparse.Namespace) -> Settings:
    """The settings the options give (with ``--tune``)."""
    from rag.app.cli import UserError, _settings

    settings = _settings(args, top_k=args.top_k, retriever=args.retriever)
    try:
        return settings.with_(tuning=settings.tuning.with_(**dict(args.tune)))
    except (TypeError, ValueError) as exc:
        raise UserError(f"--tune: {exc}") from exc


def _eval_inputs(
    args: argparse.Namespace, settings: Settings, config: dict[str, Any]
) -> tuple[list[Document] | None, str | None, list[EvalQuestion], str, Settings]:
    """Documents and fingerprint (None: the seeds folder's), questions, run name and settings
    (a SQuAD file gets its own index folder); what they are is added to ``config``."""
    from rag.app.cli import UserError
    from rag.eval.questions import load_questions
    from rag.eval.squad import article_ranges

    source = Path(args.file)
    documents = fingerprint = None
    try:
        if args.format == "jsonl":
            questions = load_questions(source)
            name = source.stem
            config["corpus"] = str(settings.seeds_dir)
        else:
            documents, fingerprint, questions, name, index_dir = _squad_inputs(
                source, args.questions, settings, args.articles, args.withhold_gold
            )
            settings = settings.with_(index_dir=index_dir, per_model_index=False)
            config["corpus"] = str(source)
            config["parallel_questions"] = args.questions
            config["articles"] = article_ranges(args.articles) if args.articles is not None else "all"
        config["withhold_gold"] = args.withhold_gold
    except EvalFormatError as exc:
        raise UserError(str(exc)) from exc
    return documents, fingerprint, questions, name, settings


def _asked_questions(
    args: argparse.Namespace, pipeline: Any, questions: list[EvalQuestion], name: str, config: dict[str, Any]
) -> tuple[list[EvalQuestion], str]:
    """The questions as asked: with near-miss copies (``--withhold-gold`` on JSONL), and with the
    documents not chosen (``--documents``) withheld from every question's search."""
    if args.withhold_gold and args.format == "jsonl":
        from rag.eval.nearmiss import withhold_answer_paragraphs

        answerable = [q for q in questions if q.answerable]
        questions = questions + withhold_answer_paragraphs(answerable, pipeline.index.sentences)
        name += "-withheld"
    names = chosen_names(args)
    if names is not None:
        from dataclasses import replace as replace_question

        from rag.query.choice import chosen_documents, others_withheld

        chosen = chosen_documents(pipeline.index.documents, names)
        others = tuple(sorted(others_withheld(pipeline.index.documents, chosen)))
        questions = [replace_question(q, withheld=tuple(q.withheld) + others) for q in questions]
        config["documents_chosen"] = list(chosen)
    return questions, name


def _run_config(name: str, settings: Settings, pipeline: Any) -> dict[str, Any]:
    """What the report records about the run: index, model, every tuned number, the answer
    model, the code's commit and version."""
    from rag import __version__

    info = pipeline.info
    model_info = pipeline.selector.model.info
    return {
        "name": name,
        "index": info["index"],
        "model": settings.model,
        "retriever": settings.retriever,
        "backend": pipeline.index.search.describe(),
        "top_k": settings.top_k,
        "documents": (info.get("counts") or {}).get("documents"),
        "chunks": (info.get("counts") or {}).get("chunks"),
        "chunk_size": settings.chunk_size,
        "chunk_stride": settings.chunk_stride,
        "tuning": asdict(settings.tuning),
        "index_tuning": asdict(settings.index_tuning),
        "answer_model": {
            "file": str(settings.answer_model or "rag/answer/answer_model.json"),
            "version": model_info.get("version"),
            "articles": model_info.get("articles"),
            "files": [f.get("file") for f in model_info.get("files", [])],
        },
        "threads": settings.threads,
        "git_commit": _git_commit(Path(__file__).resolve().parent.parent),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rag_version": __version__,
    }


def _squad_inputs(
    source: Path,
    parallel: str | None,
    settings: Settings,
    articles: frozenset[int] | None = None,
    withhold: bool = False,
) -> tuple[list[Document], str, list[EvalQuestion], str, Path]:
    """Documents, fingerprint, questions, run name and index folder for a SQuAD file."""
    from rag.eval.nearmiss import withhold_gold
    from rag.eval.squad import article_ranges, corpus_fingerprint, load_squad_run

    documents, questions, index_dir = load_squad_run(source, parallel, settings, articles)
    name = source.stem if not parallel else f"{source.stem}-q-{Path(parallel).stem}"
    if articles is not None:
        name += "-a" + _slug(article_ranges(articles), 40)
    if withhold:
        questions = questions + withhold_gold(questions, documents)
        name += "-withheld"
    return documents, corpus_fingerprint(documents), questions, name, index_dir
