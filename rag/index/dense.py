"""The FAISS side: pick an index structure for the corpus size, search it.

Vectors are L2-normalised, so inner product is cosine similarity. An exact flat index is the
right choice while a scan of all vectors costs at most a few milliseconds; past
``APPROXIMATE_FROM`` vectors an HNSW graph keeps a question in about a millisecond at the cost of a
little recall. The numbers below come from ``rag bench`` (README, section "Performance"): a flat
scan of 512-d vectors costs about 0.1-0.25 us per vector and question on the 2-core test
machines (1-2.5 ms at 10,000 chunks, 12-25 ms at 100,000, 0.2-0.4 s at 1,000,000); HNSW with
these parameters answers in 1-3 ms with recall@10 against exact search of about 0.98 at
1,000,000 synthetic clustered vectors. IVF (4096 lists) needed nprobe 128 and ~60 ms for 0.97
there, so HNSW it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FLAT = "flat"
HNSW = "hnsw"
INDEX_TYPES = (FLAT, HNSW)
# A flat scan reaches ~4-8 ms here at 30,000 x 512-d vectors; HNSW answers in ~1 ms from there on.
APPROXIMATE_FROM = 30_000
HNSW_M = 32  # graph degree: 16 lost recall on the clustered benchmark set (0.97 vs 0.99 at 100k)
HNSW_EF_CONSTRUCTION = 80
# FAISS searches with max(efSearch, k) and the retriever asks for 50 candidates. Measured at
# 1,000,000 synthetic clustered vectors (M=32, efConstruction=80): efSearch 64 gave recall@10
# 0.962, 128 gave 0.984 at about 2 ms a question, 256 gave 0.991 at about 3 ms.
HNSW_EF_SEARCH = 128
FEW_QUERIES = 4  # searched with one OpenMP thread (see search)


def choose_index_type(n_vectors: int, approximate_from: int | None = None) -> str:
    """Exact while small, HNSW once a flat scan would cost more than a few milliseconds."""
    threshold = APPROXIMATE_FROM if approximate_from is None else approximate_from
    return FLAT if n_vectors < threshold else HNSW


def build_vector_index(
    vectors: np.ndarray, index_type: str | None = None, approximate_from: int | None = None
):  # noqa: ANN201
    """A FAISS inner-product index holding ``vectors`` (float32, rows L2-normalised).

    ``index_type`` forces a structure; otherwise :func:`choose_index_type` picks one, with
    ``approximate_from`` overriding the size threshold (tests use a tiny one).
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    kind = index_type or choose_index_type(len(vectors), approximate_from)
    if kind == FLAT:
        index = faiss.IndexFlatIP(dim)
    elif kind == HNSW:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        raise ValueError(f"unknown index type {kind!r} (expected one of {', '.join(INDEX_TYPES)})")
    if len(vectors):
        index.add(vectors)
    return index


def index_type_of(index) -> str:  # noqa: ANN001
    import faiss

    return HNSW if isinstance(index, faiss.IndexHNSW) else FLAT


def index_params(index) -> dict[str, Any]:  # noqa: ANN001
    """What the manifest records about the structure: type and, for HNSW, its parameters."""
    kind = index_type_of(index)
    params: dict[str, Any] = {"type": kind}
    if kind == HNSW:
        hnsw = index.hnsw
        params.update(
            M=int(hnsw.nb_neighbors(1)),
            ef_construction=int(hnsw.efConstruction),
            ef_search=int(hnsw.efSearch),
        )
    return params


def search(index, queries: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """(scores, ids) of shape (n_queries, k); k is capped at the index size."""
    import faiss

    queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    k = max(1, min(top_k, index.ntotal))
    if len(queries) > FEW_QUERIES:
        return index.search(queries, k)
    # FAISS parallelises over queries: for one question the other OpenMP threads only wait, and
    # on busy cores that waiting made a flat search of 100k vectors 2-4x slower (measured).
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(queries, k)
    finally:
        faiss.omp_set_num_threads(threads)
