"""`rag bench --build-modes`: one full index build per way of embedding, in one run.

The corpora: the seeds folder (the bundled article) and generated German documents (default 100,
:func:`rag.bench.incremental.write_corpus`, ~60 sentences each). The ways (docs/scale.md):

* ``today``: the building process with its ``--threads`` BLAS threads (the default);
* ``workers N``: ``rag index --workers N`` (N processes of one BLAS thread);
* ``ray local``: ``rag index --ray local`` (a Ray started for the build, N actors), when the
  ``scale`` extra is installed; its ``ray.init`` is part of the time, as in ``rag index``.

Every build is a full one (``--force``: no vectors or sentences reused) into its own temporary
folder, the ways alternating per round, so a change in the machine's load hits each alike. The
encoder of the building process is loaded once before; workers and actors load their own
inside the time, as they do in ``rag index``. "embedding" is the embedding step alone (the
documents' texts and the word table's vocabulary); the rest of a build (sentence splitting,
names, BM25) is the same work in every way.

Example::

    result = bench_build_modes(documents=100, workers=2)
    print(format_build_modes(result))
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class _Timed:
    """An embedder that notes how long its inner embedder's run took and how many texts it saw."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.threads = inner.threads
        self.seconds = 0.0
        self.texts = 0

    def run(
        self, requests: Sequence[Any], sink: Callable[[Any], None], advance: Callable[[int], object]
    ) -> None:
        started = time.perf_counter()
        self.inner.run(requests, sink, advance)
        self.seconds += time.perf_counter() - started
        self.texts += sum(r.size for r in requests)


def ray_available() -> bool:
    try:
        import ray.data  # noqa: F401
    except ImportError:
        return False
    return True


def bench_build_modes(
    seeds_dir: Path = Path("seeds"),
    documents: int = 100,
    workers: int = 2,
    rounds: int = 1,
    model: str | None = None,
    threads: int | None = None,
    with_ray: bool | None = None,
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True),
) -> dict[str, Any]:
    """Seconds of a full build of each corpus in each way (``rounds`` times, alternating)."""
    from rag.bench.incremental import write_corpus
    from rag.config import default_settings
    from rag.index.build import build_index
    from rag.index.embedding import InProcess
    from rag.index.encoders import build_encoder, usable_cores
    from rag.index.ray_embed import RayActors
    from rag.index.workers import ProcessPool
    from rag.ingest import load_documents, seeds_fingerprint

    with_ray = ray_available() if with_ray is None else with_ray
    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-build-modes-"))
    try:
        generated = tmp / "generated"
        write_corpus(generated, documents)
        corpora = {"article (seeds/)": Path(seeds_dir), f"{documents} generated documents": generated}
        settings = default_settings(model=model, threads=threads)
        encoder = build_encoder(settings.model, settings.threads)
        encoder.encode(["Ein Satz zum Aufwärmen."] * 8)  # first-call allocations are no build's cost
        today = f"today: 1 process, {settings.threads or usable_cores()} BLAS threads"
        modes: dict[str, Callable[[], Any]] = {
            today: lambda: InProcess(encoder),
            f"--workers {workers}": lambda: ProcessPool(settings.model, workers),
        }
        if with_ray:
            ray_mode = f"--ray local ({workers} actors)"
            modes[ray_mode] = lambda: RayActors(settings.model, "local", actors=workers)
        rows: list[dict[str, Any]] = []
        for round_number in range(rounds):
            for corpus, folder in corpora.items():
                docs = load_documents(folder)
                fingerprint = seeds_fingerprint(folder)
                for mode, make in modes.items():
                    timed = _Timed(make())
                    index_dir = tmp / f"index-{len(rows)}"
                    load_before = os.getloadavg()[0]
                    started = time.perf_counter()
                    build_index(index_dir, docs, encoder, settings.index_params(), fingerprint,
                                progress=False, reuse=False, tuning=settings.index_tuning, embedder=timed)
                    seconds = time.perf_counter() - started
                    row = {
                        "round": round_number + 1, "corpus": corpus, "mode": mode, "documents": len(docs),
                        "texts": timed.texts, "embed_s": round(timed.seconds, 2),
                        "build_s": round(seconds, 2),
                        "texts_per_s": round(timed.texts / timed.seconds, 1) if timed.seconds else None,
                        "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
                    }
                    rows.append(row)
                    log(f"{corpus}, {mode}: build {row['build_s']} s, embedding {row['embed_s']} s "
                        f"({row['texts_per_s']} texts/s), load {row['load_before']} -> {row['load_after']}")
                    shutil.rmtree(index_dir, ignore_errors=True)
        return {"rows": rows, "workers": workers, "cores": usable_cores(), "ray": with_ray,
                "model": settings.model}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def format_build_modes(result: dict[str, Any]) -> str:
    """The rows as a Markdown table, with each way's embedding time against today's."""
    rows = result["rows"]
    base = {(r["round"], r["corpus"]): r for r in rows if r["mode"].startswith("today")}
    lines = [
        f"Full index builds ({result['model']}, {result['cores']} usable cores"
        f"{'' if result['ray'] else '; no ray: the scale extra is not installed'})",
        "",
        "| corpus | way | texts embedded | embedding s | texts/s | vs today | build s "
        "| load avg before -> after |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        today = base.get((r["round"], r["corpus"]))
        ratio = f"{today['embed_s'] / r['embed_s']:.2f}x" if today and r["embed_s"] else ""
        lines.append(
            f"| {r['corpus']} | {r['mode']} | {r['texts']:,} | {r['embed_s']:.2f} | {r['texts_per_s']} | "
            f"{ratio} | {r['build_s']:.2f} | {r['load_before']} -> {r['load_after']} |"
        )
    return "\n".join(lines)
