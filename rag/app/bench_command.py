"""`rag bench [--out FILE.json] [--quick]`: the performance report (see rag/bench/runner.py);
`rag bench --incremental [--documents N]`: incremental builds (rag/bench/incremental.py);
`rag bench --build-modes [--documents N] [--workers N]`: full builds in this process, with worker
processes and on a local Ray (rag/bench/build_modes.py)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path


def cmd_bench(args: argparse.Namespace) -> int:
    from rag.app.cli import UserError
    from rag.bench.runner import BenchOptions, format_report, run_bench

    if args.incremental:
        return _incremental(args)
    if args.build_modes:
        return _build_modes(args)
    seeds = Path(args.seeds)
    questions = Path(args.questions) if args.questions else seeds / "eval" / "article.jsonl"
    if not seeds.is_dir():
        raise UserError(f"seeds folder {seeds} does not exist")
    if not questions.is_file():
        raise UserError(f"question file {questions} does not exist")
    sizes = None
    if args.sizes:
        try:
            sizes = tuple(int(x.replace("_", "")) for x in args.sizes.split(","))
        except ValueError as exc:
            raise UserError(f"--sizes wants comma-separated integers, got {args.sizes!r}") from exc
        if any(n < 100 for n in sizes):
            raise UserError("--sizes: every corpus needs at least 100 chunks")
    backends = tuple(b.strip() for b in (args.backends or args.backend or "local").split(",") if b.strip())
    if not backends or any(b not in ("local", "qdrant") for b in backends):
        raise UserError(f"--backends wants local and/or qdrant, got {args.backends!r}")
    if "qdrant" in backends:
        from rag.app.options import require_qdrant

        try:
            require_qdrant(None)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
    options = BenchOptions(
        seeds_dir=seeds, questions=questions, model=args.model, threads=args.threads, quick=args.quick,
        sizes=sizes, backends=backends, scale_only=args.scale_only,
    )
    report = run_bench(options)
    print(format_report(report))
    _write_json(args.out, report)
    return 0


def _incremental(args: argparse.Namespace) -> int:
    """`rag bench --incremental`: full build vs adding, changing, removing one document."""
    from rag.app.cli import UserError
    from rag.bench.incremental import bench_incremental, format_incremental

    if args.documents < 2:
        raise UserError("--documents: the incremental benchmark needs at least 2 documents")
    result = bench_incremental(args.documents, model=args.model, threads=args.threads)
    print(format_incremental(result))
    _write_json(args.out, result)
    return 0


def _build_modes(args: argparse.Namespace) -> int:
    """`rag bench --build-modes`: a full build of the seeds and of generated documents, each way."""
    from rag.app.cli import UserError
    from rag.bench.build_modes import bench_build_modes, format_build_modes

    if args.documents < 1 or args.workers < 1 or args.rounds < 1:
        raise UserError("--documents, --workers and --rounds must be >= 1")
    if not Path(args.seeds).is_dir():
        raise UserError(f"seeds folder {args.seeds} does not exist")
    result = bench_build_modes(Path(args.seeds), args.documents, args.workers, args.rounds,
                               model=args.model, threads=args.threads)
    print(format_build_modes(result))
    _write_json(args.out, result)
    return 0


def _write_json(out: str | None, figures: dict) -> None:
    """``--out``: the figures as JSON (folders made as needed)."""
    if not out:
        return
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {path}", file=sys.stderr)


def register(subparsers: argparse._SubParsersAction, add_common: Callable) -> None:
    p = subparsers.add_parser(
        "bench", help="measure latency, cold start, memory and scale (temporary indexes only)"
    )
    add_common(p)
    p.add_argument("--out", default=None, help="write the figures as JSON to this file")
    p.add_argument("--quick", action="store_true", help="a small run for CI (fewer repeats, 2k/20k chunks)")
    p.add_argument("--questions", default=None, help="question set (default: SEEDS/eval/article.jsonl)")
    p.add_argument("--sizes", default=None, help="scale corpus sizes, e.g. 10000,100000,1000000")
    p.add_argument("--backends", default=None, metavar="local,qdrant",
                   help="search backends the scale runs measure, each size on each (default: --backend, "
                   "else local; qdrant: Qdrant Edge in the scale process)")
    p.add_argument("--scale-only", action="store_true",
                   help="only the synthetic scale runs (--sizes, --backends), no article/launch/load figures")
    p.add_argument("--incremental", action="store_true",
                   help="only time a full build against adding, changing, removing one document")
    p.add_argument("--documents", type=int, default=100,
                   help="generated documents for --incremental and --build-modes (default 100)")
    p.add_argument("--build-modes", action="store_true",
                   help="only time full index builds: in this process, with --workers, on a local Ray")
    p.add_argument("--workers", type=int, default=2, help="processes (and Ray actors) for --build-modes")
    p.add_argument("--rounds", type=int, default=1, help="rounds of --build-modes (the ways alternate)")
    p.set_defaults(func=cmd_bench)
