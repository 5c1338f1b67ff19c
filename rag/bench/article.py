"""The article benchmarks: warm latency and its stages against the tutorial baseline, build time
and encode rate (:func:`bench_article`), cold start and import floor (:func:`bench_processes`),
and the peak memory of a process answering questions (:func:`serve_questions`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.bench.common import (
    COLD_QUESTION,
    BenchOptions,
    peak_rss_mb,
    process_env,
    rag_command,
    summary,
    timed_process,
)


def bench_article(options: BenchOptions, index_dir: Path) -> dict[str, Any]:
    """Warm latency, stages, the tutorial baseline, build time and encode rate over the article.

    Leaves a fresh index of the article in ``index_dir`` for the subprocess measurements.
    """
    from rag.config import default_settings
    from rag.eval.questions import load_questions
    from rag.index.encoders import build_encoder
    from rag.pipeline import Pipeline

    settings = default_settings(
        seeds_dir=options.seeds_dir, index_dir=index_dir, model=options.model, threads=options.threads
    )
    questions = load_questions(options.questions)
    if not questions:
        raise ValueError(f"no questions in {options.questions}")
    encoder = build_encoder(settings.model, settings.threads)
    index, build_times, encode_rate = _build_article(options, settings, encoder)
    pipeline = Pipeline(index, encoder, settings)
    baseline_ask = _tutorial_baseline(options, [c.text for c in index.chunks], settings.threads)
    for q in questions[:10]:  # warm-up: first calls allocate and fill caches
        pipeline.ask(q.question)
        baseline_ask(q.question)
    warm = _warm_rounds(options, questions, pipeline, baseline_ask)
    return {
        **warm,
        "index_build_s": round(float(np.median(build_times[1:])), 3),
        "encode_chunks_per_s": round(encode_rate, 1),
        "article": {
            "chunks": len(index.chunks),
            "sentences": len(index.sentences),
            "index_type": index.manifest.get("index_type"),
            "model": settings.model,
        },
    }


def _build_article(options: BenchOptions, settings: Any, encoder: Any) -> tuple[Any, list[float], float]:
    """The article's index built a few times (seconds each; the first also loads SoMaJo and the
    model), loaded, and the encoder's rate over its chunks (chunks per second)."""
    from rag.index.build import build_index, encode_texts
    from rag.index.loaded import load_index
    from rag.ingest import load_documents, seeds_fingerprint

    documents = load_documents(settings.seeds_dir)
    fingerprint = seeds_fingerprint(settings.seeds_dir)
    options.log("bench: building the article index (warm process)")
    build_times = []
    for _ in range(2 if options.quick else 4):
        started = time.perf_counter()
        build_index(
            settings.model_index_dir, documents, encoder, settings.index_params(), fingerprint, progress=False
        )
        build_times.append(time.perf_counter() - started)
    index = load_index(settings.model_index_dir)
    chunk_texts = [c.text for c in index.chunks]
    rounds = 3 if options.quick else 10
    started = time.perf_counter()
    for _ in range(rounds):
        encode_texts(encoder, chunk_texts, progress=False, desc="")
    return index, build_times, rounds * len(chunk_texts) / (time.perf_counter() - started)


def _tutorial_baseline(
    options: BenchOptions, chunk_texts: list[str], threads: int | None
) -> Callable[[str], str]:
    """The tutorial's answer: the top chunk of all-MiniLM-L6-v2 over a flat FAISS index."""
    from rag.index.dense import FLAT, build_vector_index
    from rag.index.encoders import MINILM, build_encoder

    options.log("bench: loading the tutorial baseline (all-MiniLM-L6-v2, flat FAISS, top chunk)")
    baseline_encoder = build_encoder(MINILM, threads)
    baseline_index = build_vector_index(baseline_encoder.encode(chunk_texts), FLAT)

    def baseline_ask(question: str) -> str:
        _, ids = baseline_index.search(baseline_encoder.encode([question]), 1)
        return chunk_texts[int(ids[0][0])]

    return baseline_ask


def _warm_rounds(
    options: BenchOptions, questions: Sequence[Any], pipeline: Any, baseline_ask: Callable[[str], str]
) -> dict[str, Any]:
    """Warm latency of ours and of the baseline, our stages, and how often each one's first
    citation (top chunk) holds the answer (first round only)."""
    from rag.eval.evaluate import contains_answer

    # Alternating blocks (the question set through ours, then through the baseline, again and
    # again) rather than alternating questions: torch's worker threads keep spinning for a while
    # after the baseline's call and slowed the next question of ours by ~1 ms when interleaved.
    options.log(
        f"bench: {options.warm_questions} warm questions each, ours and the baseline in alternating blocks"
    )
    ours_ms: list[float] = []
    base_ms: list[float] = []
    stages: dict[str, list[float]] = {k: [] for k in ("encode", "dense", "lexical", "fusion", "answer")}
    ours_hits = base_hits = answerable = 0
    first_round = True
    while len(ours_ms) < options.warm_questions:
        block = questions[: options.warm_questions - len(ours_ms)]
        for q in block:
            started = time.perf_counter()
            answer = pipeline.ask(q.question)
            ours_ms.append((time.perf_counter() - started) * 1000)
            for key in stages:
                stages[key].append(answer.timings_ms.get(key, 0.0))
            if first_round and q.answerable:
                answerable += 1
                first = answer.citations[0].sentence.text if answer.citations else ""
                ours_hits += contains_answer(first, q.answers)
        for q in block:
            started = time.perf_counter()
            top_chunk = baseline_ask(q.question)
            base_ms.append((time.perf_counter() - started) * 1000)
            if first_round and q.answerable:
                base_hits += contains_answer(top_chunk, q.answers)
        first_round = False
    return {
        "warm_ms": summary(ours_ms),
        "stages_ms": {k: round(float(np.median(v)), 3) for k, v in stages.items()},
        "baseline_warm_ms": summary(base_ms),
        "hit_rate": {
            "ours_first_citation": round(ours_hits / answerable, 3) if answerable else None,
            "baseline_top_chunk": round(base_hits / answerable, 3) if answerable else None,
            "answerable_questions": answerable,
            "questions_file": str(options.questions),
        },
        "warm_questions": len(ours_ms),
    }


def bench_processes(options: BenchOptions, index_dir: Path) -> dict[str, Any]:
    """Cold start of ``rag ask`` and the floor of importing sentence-transformers, interleaved."""
    ask = [
        *rag_command(), "ask", "--seeds", str(options.seeds_dir), "--index", str(index_dir),
        *(["--model", options.model] if options.model else []),
        *(["--threads", str(options.threads)] if options.threads else []),
        COLD_QUESTION,
    ]
    floor = [sys.executable, "-c", "import sentence_transformers"]
    cold, imports = [], []
    options.log(f"bench: cold start and import floor, {options.process_runs} run(s) each")
    with tempfile.TemporaryDirectory(prefix="rag-bench-pyc-") as bytecode:
        env = process_env(Path(bytecode))
        timed_process(floor, env)  # untimed: fills the bytecode cache
        timed_process(ask, env)
        for _ in range(options.process_runs):
            imports.append(timed_process(floor, env))
            cold.append(timed_process(ask, env))
    return {
        "cold_start_s": round(float(np.median(cold)), 3),
        "import_floor_s": round(float(np.median(imports)), 3),
        "cold_start_runs_s": [round(x, 3) for x in cold],
        "bytecode": "cached (PYTHONPYCACHEPREFIX, one untimed run of each command first)",
        "cold_start_load_average_1m": round(os.getloadavg()[0], 2),
        "import_floor_runs_s": [round(x, 3) for x in imports],
    }


def serve_questions(seeds_dir: Path, index_dir: Path, questions: Path, n: int, model: str | None,
                    threads: int | None) -> dict[str, Any]:
    """Open the pipeline, answer ``n`` questions (the set repeated); report peak memory."""
    from rag.config import default_settings
    from rag.eval.questions import load_questions
    from rag.pipeline import Pipeline

    settings = default_settings(seeds_dir=seeds_dir, index_dir=index_dir, model=model, threads=threads)
    pipeline = Pipeline.open(settings, on_status=lambda m: None, progress=False)
    texts = [q.question for q in load_questions(questions)]
    for i in range(n):
        pipeline.ask(texts[i % len(texts)])
    return {"peak_rss_mb": round(peak_rss_mb(), 1), "questions": n, "model": settings.model}


