"""`rag train`: learn the answer model (sentence ranker + refusal) from questions with answers.

Registered by :mod:`rag.app.cli`; heavy imports happen inside :func:`cmd_train`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from rag.app.options import article_range


def _pair(text: str) -> tuple[Path, Path | None]:
    corpus, sep, questions = text.partition("=")
    if not corpus or (sep and not questions):
        raise argparse.ArgumentTypeError(f"{text!r}: expected CORPUS.json or CORPUS.json=QUESTIONS.json")
    return Path(corpus), Path(questions) if sep else None


def _jsonl(text: str) -> object:
    from rag.eval.train import JsonlSource

    questions, sep, seeds = text.partition("=")
    if not questions or (sep and not seeds):
        raise argparse.ArgumentTypeError(f"{text!r}: expected QUESTIONS.jsonl or QUESTIONS.jsonl=SEEDS")
    return JsonlSource(Path(questions), Path(seeds) if sep else None)


def register(
    subparsers: argparse._SubParsersAction, add_common: Callable[[argparse.ArgumentParser], None]
) -> None:
    p = subparsers.add_parser(
        "train",
        help="train the answer model (sentence ranker and refusal) from question sets",
        description=(
            "Learn which retrieved sentence answers a question and when the text does not answer "
            "it, from SQuAD/XQuAD files (--squad; near-miss copies with the gold paragraph withheld "
            "teach refusal) and from rag eval JSONL files over --seeds (--jsonl; answers [] teach "
            "refusal). Writes one JSON file; use it with --answer-model or ship it as "
            "rag/answer/answer_model.json."
        ),
    )
    add_common(p)
    p.add_argument(
        "--squad", type=_pair, action="append", default=[], metavar="CORPUS.json[=QUESTIONS.json]",
        help="index CORPUS's paragraphs and ask its questions, or those of a parallel QUESTIONS file "
        "(another language); repeatable",
    )
    p.add_argument(
        "--jsonl", type=_jsonl, action="append", default=[], metavar="QUESTIONS.jsonl[=SEEDS]",
        help="rag eval JSONL questions, asked over --seeds or over the documents of SEEDS; repeatable",
    )
    p.add_argument(
        "--articles", type=article_range, default=None, metavar="RANGE",
        help="SQuAD articles to train on (numbered from 0), e.g. 0-15; keep the others for testing",
    )
    p.add_argument("--out", type=Path, required=True, help="the model file to write")
    p.add_argument("--l2", type=float, default=1.0, help="L2 penalty of both models (default 1.0)")
    p.add_argument(
        "--false-refusal-rate", type=float, default=0.04,
        help="share of answerable training questions each group's threshold refuses (default 0.04)",
    )
    p.add_argument(
        "--high-precision", type=float, default=0.9,
        help="share of a group's confident training answers that must be right (default 0.9)",
    )
    p.add_argument(
        "--synthetic-share", type=float, default=0.3,
        help="synthetic unanswerable questions per answerable one of each source (default 0.3; 0: none)",
    )
    p.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    from rag.app.cli import UserError, _settings
    from rag.eval.questions import EvalFormatError
    from rag.eval.train import SquadSource, collect, file_record, train, training_record

    if not args.squad and not args.jsonl:
        raise UserError("nothing to train on: give --squad and/or --jsonl files")
    if not 0 < args.false_refusal_rate < 0.5:
        raise UserError("--false-refusal-rate must be between 0 and 0.5")
    settings = _settings(args)
    sources = [SquadSource(corpus, questions) for corpus, questions in args.squad]
    if not 0.5 <= args.high_precision < 1:
        raise UserError("--high-precision must be between 0.5 and 1")
    files = sorted(
        {p for s in sources for p in (s.corpus, s.questions) if p is not None}
        | {j.questions for j in args.jsonl}
    )
    for path in files:
        if not path.is_file():
            raise UserError(f"{path}: file not found")
    for item in args.jsonl:
        if item.seeds is not None and not item.seeds.is_dir():
            raise UserError(f"{item.seeds}: folder not found")
    try:
        examples = collect(settings, sources, args.jsonl, args.articles, synthetic_share=args.synthetic_share)
        model = train(examples, args.l2, args.false_refusal_rate, args.high_precision)
    except (EvalFormatError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    model["training"] = training_record(
        examples, settings, [file_record(p) for p in files], args.articles, args.l2,
        args.false_refusal_rate, args.high_precision,
    )
    model["training"]["synthetic_share"] = args.synthetic_share
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    thresholds = ", ".join(
        f"{g} {model['thresholds']['high'][g]:.2f}/{t:.2f}" for g, t in model["thresholds"]["none"].items()
    )
    print(f"Wrote {args.out} ({len(examples)} examples; thresholds high/none: {thresholds})", file=sys.stderr)
    return 0
