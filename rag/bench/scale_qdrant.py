"""The scale benchmark on Qdrant Edge: the same synthetic corpus as :mod:`rag.bench.scale`
(same seed, so the same vectors, terms and questions), written into a Qdrant Edge shard as a
``--backend qdrant`` build writes it, and served by :class:`~rag.search.qdrant.QdrantBackend`
behind the same retriever in a fresh process.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from rag.bench.common import TOP_K, folder_mb, peak_rss_mb, rss_mb, run_json, work_folder
from rag.bench.synthetic import LANGUAGE

SHARD = "qdrant"


def _sparse_rows(terms: Any, vocab_index: np.ndarray, avgdl: float, begin: int, end: int) -> list[Any]:
    """The BM25 sparse vectors of chunks ``begin..end`` (rag/search/sparse.py's arithmetic on
    term ids: the synthetic terms are already analysed)."""
    from rag.search.sparse import BM25_B, BM25_K1, SparseBM25

    out = []
    for i in range(begin, end):
        ids = terms.ids[terms.offsets[i] : terms.offsets[i + 1]]
        unique, tf = np.unique(ids, return_counts=True)
        tf = tf.astype(np.float64)
        values = tf / (BM25_K1 * ((1 - BM25_B) + BM25_B * len(ids) / avgdl) + tf)
        indices, at = np.unique(vocab_index[unique], return_inverse=True)
        summed = np.zeros(len(indices))
        np.add.at(summed, at, values)
        out.append(SparseBM25(tuple(indices.tolist()), tuple(summed.tolist())))
    return out


def build_qdrant_scale(folder: Path, vectors: np.ndarray, terms: Any) -> dict[str, Any]:
    """Write ``vectors`` and ``terms`` into a Qdrant Edge shard in ``folder`` (point id = row + 1)
    and let the engine build its indexes; the times."""
    from rag.config import IndexTuning
    from rag.search.qdrant import EdgeTransport, PointData
    from rag.search.sparse import term_index

    tuning = IndexTuning()
    n = len(vectors)
    vocab_index = np.asarray([term_index(t) for t in terms.vocabulary], np.uint64)
    avgdl = float(np.diff(terms.offsets).mean())
    transport = EdgeTransport(folder / SHARD)
    transport.create(vectors.shape[1], [LANGUAGE], tuning, n)
    started = time.perf_counter()
    for begin in range(0, n, tuning.qdrant_batch):
        end = min(n, begin + tuning.qdrant_batch)
        sparse = _sparse_rows(terms, vocab_index, avgdl, begin, end)
        transport.upsert([PointData(i + 1, vectors[i], LANGUAGE, s, "synthetic")
                          for i, s in zip(range(begin, end), sparse, strict=True)])
    upsert_s = time.perf_counter() - started
    started = time.perf_counter()
    transport.finish()
    optimize_s = time.perf_counter() - started
    held = transport.count()
    transport.close()
    if held != n:
        raise RuntimeError(f"the shard holds {held} points for {n} chunks")
    quantised = n >= tuning.quantise_from
    return {"upsert_s": upsert_s, "optimize_s": optimize_s, "inserts_per_s": n / max(upsert_s, 1e-9),
            "described": {"type": "qdrant_hnsw_sq8" if quantised else "qdrant_hnsw", "M": tuning.hnsw_m,
                          "ef_construction": tuning.hnsw_ef_construction, "ef_search": tuning.hnsw_ef_search,
                          "quantizer": "int8" if quantised else None, "engine": "qdrant-edge-py"}}


def scale_entry_qdrant(n: int, seeds_dir: Path, n_queries: int = 200, seed: int = 0,
                       keep: Path | None = None) -> dict[str, Any]:
    """:func:`rag.bench.scale.scale_entry` for the Qdrant backend: build here, serve in a fresh
    process (:func:`scale_serve_qdrant`)."""
    from rag.bench.scale import _exact_reference, _save_terms, article_terms
    from rag.bench.synthetic import synthetic_terms, synthetic_vectors
    from rag.index.lexical import Analyzer

    started = time.perf_counter()
    vectors, queries = synthetic_vectors(n, n_queries=n_queries, seed=seed)
    terms = synthetic_terms(n, article_terms(seeds_dir), Analyzer(LANGUAGE), n_questions=n_queries, seed=seed)
    generate_s = time.perf_counter() - started
    exact, flat_ms = _exact_reference(vectors, queries, n_queries)
    folder, tmp = work_folder(keep, "rag-bench-qdrant-")
    try:
        _save_terms(folder, terms)
        np.save(folder / "queries.npy", queries, allow_pickle=False)
        np.save(folder / "exact_top10.npy", exact, allow_pickle=False)
        np.save(folder / "chunk_vectors.npy", vectors, allow_pickle=False)  # as a build writes it
        built = build_qdrant_scale(folder, vectors, terms)
        del vectors, terms
        built["build_peak_rss_mb"] = round(peak_rss_mb(), 1)
        disk = folder_mb(folder / SHARD) + (folder / "chunk_vectors.npy").stat().st_size / 2**20
        served = run_json(["_scale_serve", "--folder", str(folder), "--backend", "qdrant"])
    finally:
        if tmp is not None:
            tmp.cleanup()
    return {
        "chunks": n,
        "backend": "qdrant",
        "index_type": built["described"]["type"],
        "index_params": built["described"],
        "build_s": round(built["upsert_s"] + built["optimize_s"], 2),
        "upsert_s": round(built["upsert_s"], 2),
        "optimize_s": round(built["optimize_s"], 2),
        "inserts_per_s": round(built["inserts_per_s"]),
        **served,
        "exact_dense_p50_ms": round(float(np.median(flat_ms)), 3),
        "build_peak_rss_mb": built["build_peak_rss_mb"],
        "disk_mb": round(disk, 1),
        "queries": n_queries,
        "generate_s": round(generate_s, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def scale_serve_qdrant(folder: Path) -> dict[str, Any]:
    """Open the shard as a ``--backend qdrant`` index opens it and time one question's search
    (``Retriever.search_vector``: dense + BM25 + fusion, as :func:`rag.bench.scale.scale_serve`)."""
    import qdrant_edge  # noqa: F401  - imported before the baseline, as a server has it

    from rag.answer.retrieve import Retriever
    from rag.bench.scale import _load_terms, _SyntheticChunks, _timed_searches
    from rag.config import IndexTuning, Tuning
    from rag.index.dense import RowFile
    from rag.index.loaded import LoadedIndex
    from rag.search.qdrant import EdgeTransport, QdrantBackend

    folder = Path(folder)
    queries = np.load(folder / "queries.npy")
    exact = np.load(folder / "exact_top10.npy")
    terms = _load_terms(folder, mmap=False)
    questions = [" ".join(q) for q in terms.questions]
    n = len(terms)
    rss_before = rss_mb()
    started = time.perf_counter()
    transport = EdgeTransport(folder / SHARD).open()
    tuning = IndexTuning()
    chunks: Any = _SyntheticChunks(terms)  # a sequence of Chunk made on demand
    backend = QdrantBackend(transport, np.arange(1, n + 1, dtype=np.uint64), chunks, [], [LANGUAGE],
                            queries.shape[1], tuning=tuning, rows=RowFile(folder / "chunk_vectors.npy"))
    index = LoadedIndex(
        path=folder, manifest={"language": LANGUAGE}, documents=[], sentences=[], chunks=chunks,
        dense=None, chunk_vectors=None, sentence_vectors=np.zeros((0, queries.shape[1]), np.float32),
        context_vectors=np.zeros((0, queries.shape[1]), np.float32), lexical=None,
        sentence_lexical=None, sentence_trigrams=None, backend=backend,  # type: ignore[arg-type]
    )
    load_s = time.perf_counter() - started
    rss_loaded = rss_mb()
    answer_tuning = Tuning()
    retriever = Retriever(index, None, answer_tuning)  # type: ignore[arg-type]  # vectors are given
    times, stage = _timed_searches(retriever, questions, queries)
    own, rescored = [], []
    for q, truth in zip(queries, exact, strict=True):
        found = transport.dense(q, answer_tuning.candidates, [], tuning.hnsw_ef_search)
        rows = np.asarray([k for k, _ in found], np.int64) - 1
        own.append(len(set(rows[:10].tolist()) & set(truth.tolist())) / 10)
        ids = np.sort(rows)
        best = ids[np.argsort(-(backend.chunk_vectors(ids) @ q), kind="stable")[:10]]
        rescored.append(len(set(best.tolist()) & set(truth.tolist())) / 10)
    rss_after = rss_mb()
    return {
        "query_p50_ms": round(float(np.median(times)), 3),
        "query_p95_ms": round(float(np.percentile(times, 95)), 3),
        "stages_p50_ms": {k: round(float(np.median(v)), 3) for k, v in stage.items()},
        "recall_at_10_vs_exact": round(float(np.mean(own)), 4),
        "recall_at_10_rescored": round(float(np.mean(rescored)), 4),
        "load_s": round(load_s, 2),
        "rss_mb": round(rss_after, 1),
        "rss_data_only_mb": round(rss_after - rss_before, 1),
        "rss_data_loaded_mb": round(rss_loaded - rss_before, 1),
        "vocabulary": len(terms.vocabulary),
        "top_k": TOP_K,
        "serve_load_average_1m": round(os.getloadavg()[0], 2),
    }
