"""The FAISS side: pick an index structure for the corpus size, search it.

Vectors are L2-normalised, so inner product is cosine similarity. An exact flat index is the
right choice for a few thousand chunks; past ``APPROXIMATE_FROM`` vectors an HNSW graph keeps a
query in milliseconds at the cost of a little recall (measured by ``rag bench``).
"""

from __future__ import annotations

import numpy as np

FLAT = "flat"
HNSW = "hnsw"
APPROXIMATE_FROM = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 64


def choose_index_type(n_vectors: int) -> str:
    """Exact while small, HNSW once a flat scan would cost more than a few milliseconds."""
    return FLAT if n_vectors < APPROXIMATE_FROM else HNSW


def build_vector_index(vectors: np.ndarray, index_type: str | None = None):  # noqa: ANN201
    """A FAISS inner-product index holding ``vectors`` (float32, rows L2-normalised)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    kind = index_type or choose_index_type(len(vectors))
    if kind == FLAT:
        index = faiss.IndexFlatIP(dim)
    elif kind == HNSW:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        raise ValueError(f"unknown index type {kind!r}")
    if len(vectors):
        index.add(vectors)
    return index


def index_type_of(index) -> str:  # noqa: ANN001
    import faiss

    return HNSW if isinstance(index, faiss.IndexHNSW) else FLAT


def search(index, queries: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """(scores, ids) of shape (n_queries, k); k is capped at the index size."""
    queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    k = max(1, min(top_k, index.ntotal))
    scores, ids = index.search(queries, k)
    return scores, ids
