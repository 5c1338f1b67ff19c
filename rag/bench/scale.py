"""Search at scale: synthetic corpora of 10k-1M chunks built like the store builds them
(:func:`scale_entry`, one process per size) and served like the server serves them
(:func:`scale_serve`, a fresh process): query time, recall against exact search, memory.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from rag.bench.common import TOP_K, BenchOptions, folder_mb, peak_rss_mb, rss_mb, run_json, work_folder
from rag.bench.synthetic import LANGUAGE


class _SyntheticChunks:
    """A read-only sequence of :class:`~rag.records.Chunk` made on demand from synthetic terms."""

    def __init__(self, terms: Any) -> None:
        self._terms = terms

    def __len__(self) -> int:
        return len(self._terms)

    def __getitem__(self, i: int):  # noqa: ANN204
        from rag.records import Chunk

        i = int(i)
        if not 0 <= i < len(self):
            raise IndexError(i)
        text = self._terms.text(i)
        return Chunk(i, "synthetic", i, (i,), text, 0, len(text))


def article_terms(seeds_dir: Path) -> list[str]:
    """The article's analysed terms, most frequent first: the head of the synthetic vocabulary."""
    from collections import Counter

    from rag.index.lexical import Analyzer
    from rag.ingest import load_documents

    analyzer = Analyzer(LANGUAGE)
    counts = Counter(t for d in load_documents(seeds_dir) for t in analyzer.terms(d.text))
    return [t for t, _ in counts.most_common()]


def _save_terms(folder: Path, terms: Any) -> None:
    """The synthetic chunks' terms (CSR arrays + vocabulary) and questions, for the serving process."""
    np.save(folder / "term_offsets.npy", terms.offsets, allow_pickle=False)
    np.save(folder / "term_ids.npy", terms.ids, allow_pickle=False)
    with open(folder / "terms.json", "w", encoding="utf-8") as handle:
        json.dump({"vocabulary": terms.vocabulary, "questions": terms.questions}, handle, ensure_ascii=False)


def _load_terms(folder: Path, mmap: bool = True) -> Any:
    """The terms :func:`_save_terms` wrote (chunk texts are made from them on demand)."""
    from rag.bench.synthetic import SyntheticTerms

    with open(folder / "terms.json", encoding="utf-8") as handle:
        saved = json.load(handle)
    mode: Any = "r" if mmap else None
    return SyntheticTerms(
        saved["vocabulary"], np.load(folder / "term_offsets.npy", mmap_mode=mode),
        np.load(folder / "term_ids.npy", mmap_mode=mode), saved["questions"],
    )


def scale_entry(
    n: int, seeds_dir: Path, n_queries: int = 200, seed: int = 0, index_type: str | None = None,
    ef_search: Sequence[int] = (), keep: Path | None = None,
) -> dict[str, Any]:
    """Build the hybrid index for ``n`` synthetic chunks, then measure it served (own process).

    This process generates the corpus, computes the exact top 10 of every query (the reference
    for recall), builds and saves the vector index and BM25 as the store would, and times an
    exact flat scan. A fresh process (:func:`scale_serve`) then loads the saved index the way
    the server does (vector codes and BM25 arrays memory-mapped, the exact float32 vectors read
    by row when the index holds codes) and measures query time, recall and memory, so
    ``rss_data_only_mb`` is what the index and the lexical side hold resident after the queries,
    not what building them took. ``index_type`` forces a structure (default: chosen by size);
    ``ef_search`` adds HNSW search depths measured on the same built index; ``keep`` keeps the
    built folder there.
    """
    from rag.bench.synthetic import synthetic_terms, synthetic_vectors
    from rag.index.lexical import Analyzer

    started = time.perf_counter()
    vectors, queries = synthetic_vectors(n, n_queries=n_queries, seed=seed)
    terms = synthetic_terms(n, article_terms(seeds_dir), Analyzer(LANGUAGE), n_questions=n_queries, seed=seed)
    generate_s = time.perf_counter() - started
    exact, flat_ms = _exact_reference(vectors, queries, n_queries)
    handed = [vectors]  # freed inside once saved, before BM25 is built (2 GB at 1M chunks)
    del vectors
    folder, tmp = work_folder(keep, "rag-bench-")
    try:
        built = _build_scale_index(folder, handed, queries, exact, terms, index_type)
        built["build_peak_rss_mb"] = round(peak_rss_mb(), 1)
        del terms
        served = run_json([
            "_scale_serve", "--folder", str(folder),
            *(["--ef-search", ",".join(str(e) for e in ef_search)] if ef_search else []),
        ])
    finally:
        if tmp is not None:
            tmp.cleanup()
    described = built.pop("described")
    return {
        "chunks": n,
        "index_type": described["type"],
        "index_params": described,
        "build_s": round(built["dense_build_s"] + built["lexical_build_s"], 2),
        "dense_build_s": round(built["dense_build_s"], 2),
        "lexical_build_s": round(built["lexical_build_s"], 2),
        **served,
        "exact_dense_p50_ms": round(float(np.median(flat_ms)), 3),
        "build_peak_rss_mb": built["build_peak_rss_mb"],
        "disk_mb": round(built["disk_mb"], 1),
        "queries": n_queries,
        "generate_s": round(generate_s, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _exact_reference(
    vectors: np.ndarray, queries: np.ndarray, n_queries: int
) -> tuple[np.ndarray, list[float]]:
    """The exact top 10 of every query (the reference for recall), and what an exact scan of the
    same vectors costs for one question (where flat stops paying)."""
    from rag.config import Tuning
    from rag.index.dense import exact_search, single_thread

    _, exact = exact_search(vectors, queries, 10)
    candidates = Tuning().candidates
    flat_ms = []
    with single_thread():
        for vector in queries[: min(30, n_queries)]:
            t0 = time.perf_counter()
            exact_search(vectors, vector, candidates)
            flat_ms.append((time.perf_counter() - t0) * 1000)
    return exact, flat_ms


def _build_scale_index(
    folder: Path, handed: list[np.ndarray], queries: np.ndarray, exact: np.ndarray, terms: Any,
    index_type: str | None,
) -> dict[str, Any]:
    """Build and save the vector index and BM25 as the store would, with the queries and their
    exact top 10 for the serving process; the build times, the structure and the size on disk.
    The vectors come in ``handed`` (one item, taken out) so they are freed once saved."""
    vectors = handed.pop()
    from rag.index.dense import build_vector_index
    from rag.index.lexical import LexicalIndex

    started = time.perf_counter()
    dense = build_vector_index(vectors, index_type)
    dense_build_s = time.perf_counter() - started
    described = dense.describe()
    dense.save(folder)
    del dense
    np.save(folder / "chunk_vectors.npy", vectors, allow_pickle=False)
    del vectors
    id_lists = terms.id_lists()
    started = time.perf_counter()
    lexical = LexicalIndex(LANGUAGE).build_from_ids(id_lists, terms.vocabulary)
    lexical_build_s = time.perf_counter() - started
    del id_lists
    lexical.save(folder / "bm25_chunks")
    del lexical
    _save_terms(folder, terms)
    np.save(folder / "queries.npy", queries, allow_pickle=False)
    np.save(folder / "exact_top10.npy", exact, allow_pickle=False)
    with open(folder / "chunks.json", "w", encoding="utf-8") as handle:
        json.dump([terms.text(i) for i in range(len(terms))], handle, ensure_ascii=False)
    disk = folder_mb(folder / "bm25_chunks") + sum(
        (folder / f).stat().st_size for f in ("dense.faiss", "chunk_vectors.npy", "chunks.json")
    ) / 2**20
    return {"described": described, "dense_build_s": dense_build_s, "lexical_build_s": lexical_build_s,
            "disk_mb": disk}


def _recalls(dense: Any, vectors: Any, queries: np.ndarray, exact: np.ndarray,
             candidates: int) -> tuple[float, float]:
    """Recall@10 of the index's own order, and after re-scoring its candidates exactly.

    The retriever scores its candidates with the exact float32 vectors, so a quantised index's
    ranking errors among the candidates do not reach the answer; the second figure is that.
    """
    _, approx = dense.search(queries, candidates)
    own, rescored = [], []
    for found, truth, q in zip(approx, exact, queries, strict=True):
        ids = found[found >= 0]
        own.append(len(set(ids[:10].tolist()) & set(truth.tolist())) / 10)
        order = np.argsort(-(vectors[np.sort(ids)] @ q), kind="stable")
        best = np.sort(ids)[order[:10]]
        rescored.append(len(set(best.tolist()) & set(truth.tolist())) / 10)
    return float(np.mean(own)), float(np.mean(rescored))


def scale_serve(folder: Path, ef_search: Sequence[int] = ()) -> dict[str, Any]:
    """Load a saved synthetic index as the server would and time one question's search.

    ``query_p50_ms`` is ``Retriever.search_vector`` (dense + lexical + fusion, the question's
    vector given). ``rss_data_only_mb`` is this process's resident memory after the queries
    minus before loading (the imports are already in both). Each ``ef_search`` value is
    measured too (query p50 and recall), the index's own value last, so the figures at the top
    level are the default's.
    """
    import faiss  # noqa: F401  - imported before the baseline, as the server has it

    from rag.answer.retrieve import Retriever
    from rag.config import Tuning

    folder = Path(folder)
    queries = np.load(folder / "queries.npy")
    exact = np.load(folder / "exact_top10.npy")
    terms = _load_terms(folder, mmap=False)  # the chunk texts' stand-in, before the baseline
    questions = [" ".join(q) for q in terms.questions]
    rss_before = rss_mb()
    started = time.perf_counter()
    index = _load_scale_index(folder, terms)
    load_s = time.perf_counter() - started
    rss_loaded = rss_mb()
    tuning = Tuning()
    retriever = Retriever(index, None, tuning)  # type: ignore[arg-type]  # vectors are given
    dense, vectors = index.dense, index.chunk_vectors
    default_ef = dense.describe().get("ef_search")
    sweep = []
    for ef in [e for e in ef_search if e != default_ef] + [default_ef]:
        if ef is not None:
            dense.set_ef_search(int(ef))
        times, stage = _timed_searches(retriever, questions, queries)
        own, rescored = _recalls(dense, vectors, queries, exact, tuning.candidates)
        sweep.append({
            "ef_search": ef, "query_p50_ms": round(float(np.median(times)), 3),
            "query_p95_ms": round(float(np.percentile(times, 95)), 3),
            "stages_p50_ms": {k: round(float(np.median(v)), 3) for k, v in stage.items()},
            "recall_at_10_vs_exact": round(own, 4), "recall_at_10_rescored": round(rescored, 4),
        })
    rss_after = rss_mb()
    return {
        **{k: v for k, v in sweep[-1].items() if k != "ef_search"},
        **({"ef_search_sweep": sweep} if len(sweep) > 1 else {}),
        "load_s": round(load_s, 2),
        "rss_mb": round(rss_after, 1),
        "rss_data_only_mb": round(rss_after - rss_before, 1),
        "rss_data_loaded_mb": round(rss_loaded - rss_before, 1),
        "vocabulary": len(terms.vocabulary),
        "serve_load_average_1m": round(os.getloadavg()[0], 2),
    }


def _load_scale_index(folder: Path, terms: Any) -> Any:
    """The saved synthetic index as a :class:`~rag.index.loaded.LoadedIndex` the retriever can
    search: vector codes and BM25 memory-mapped, float32 rows read by id when the index holds
    codes, chunk texts made from ``terms`` on demand."""
    from rag.index.dense import RowFile, load_vector_index
    from rag.index.lexical import LexicalIndex
    from rag.index.lexical_parts import LexicalParts
    from rag.index.loaded import LoadedIndex

    dense = load_vector_index(folder, mmap=True)
    held = dense.stored_vectors()
    vectors = held if held is not None else RowFile(folder / "chunk_vectors.npy")
    lexical = LexicalParts.single(
        LexicalIndex.load(folder / "bm25_chunks", LANGUAGE, mmap=True), dense.size
    )
    parts: dict[str, Any] = dict(
        path=folder, manifest={"language": LANGUAGE}, documents=[], sentences=[],
        chunks=_SyntheticChunks(terms), dense=dense, chunk_vectors=vectors,
        sentence_vectors=np.zeros((0, vectors.shape[1]), np.float32), sentence_names=[], backend=None,
    )
    # Every other field is a sentence-level lexical index, which chunk search does not use.
    parts.update({f.name: lexical for f in fields(LoadedIndex) if f.name not in parts})
    return LoadedIndex(**parts)


def _timed_searches(
    retriever: Any, questions: Sequence[str], queries: np.ndarray
) -> tuple[list[float], dict[str, list[float]]]:
    """Milliseconds of each question's search (after a warm-up), and of its stages."""
    for i in range(min(20, len(questions))):  # warm-up
        retriever.search_vector(questions[i], queries[i], TOP_K)
    times: list[float] = []
    stage: dict[str, list[float]] = {"dense": [], "lexical": [], "fusion": []}
    for text, vector in zip(questions, queries, strict=True):
        t0 = time.perf_counter()
        result = retriever.search_vector(text, vector, TOP_K)
        times.append((time.perf_counter() - t0) * 1000)
        for key in stage:
            stage[key].append(result.timings_ms[key])
    return times, stage


def bench_scale(options: BenchOptions) -> list[dict[str, Any]]:
    """Each size on each backend, each in its own process (the same corpus: same seed)."""
    entries = []
    for n in options.sizes or ():
        for backend in options.backends:
            options.log(f"bench: scale, {n:,} synthetic chunks, {backend} backend (own process)")
            entry = run_json(["_scale", "--chunks", str(n), "--queries", str(options.scale_queries),
                              "--seeds", str(options.seeds_dir), "--backend", backend])
            entries.append({"backend": backend, **entry})
    return entries


SYNTHETIC_NOTE = (
    "Scale corpora are synthetic (rag/bench/synthetic.py): 512-d vectors from a Gaussian mixture with "
    "sqrt(n) overlapping clusters, a decaying spectrum and a shared mean direction (mean cosine "
    "about 0.3, like the article's USE vectors), queries are held-out draws from the same mixture; "
    "texts are Zipf-distributed (p ~ 1/(rank+2.7)) streams of about 25 terms over the article's "
    "stemmed terms plus generated German-like compounds (vocabulary 20*sqrt(terms)), questions 3-7 "
    "terms from the same law."
)


