"""The chunk vectors are held once: the retriever reads the vector index's own float32 storage
(without a copy, read-only, optionally memory-mapped) instead of a second array."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from rag.index.dense import FLAT, HNSW, build_vector_index, load_vector_index


def _unit_rows(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", [FLAT, HNSW])
@pytest.mark.parametrize("mmap", [False, True])
def test_stored_vectors_are_the_index_storage(tmp_path, kind, mmap) -> None:
    vectors = _unit_rows(500)
    build_vector_index(vectors, kind).save(tmp_path)
    index = load_vector_index(tmp_path, mmap=mmap)
    held = index.stored_vectors()
    assert held is not None and held.shape == vectors.shape and held.dtype == np.float32
    assert np.array_equal(held, vectors)
    assert not held.flags.owndata and not held.flags.writeable  # a view, not a copy
    with pytest.raises(ValueError):
        held[0, 0] = 1.0
    ids = np.array([3, 1, 499])
    assert np.array_equal(np.asarray(held[ids] @ vectors[0]), vectors[ids] @ vectors[0])
    del index
    gc.collect()
    assert np.array_equal(held[10], vectors[10])  # the view keeps its index alive
    _, found = load_vector_index(tmp_path, mmap=mmap).search(vectors[:2], 1)
    assert found[:, 0].tolist() == [0, 1]


def test_loaded_index_holds_chunk_vectors_once(article_pipeline) -> None:
    from rag.index.store import load_index

    index = load_index(article_pipeline.index.path.parent)
    on_disk = np.load(index.path / "chunk_vectors.npy")
    assert np.array_equal(index.chunk_vectors, on_disk)
    assert not index.chunk_vectors.flags.owndata
    assert np.shares_memory(index.chunk_vectors, index.dense.stored_vectors())


def test_hnsw_over_8_bit_codes(tmp_path) -> None:
    """The compressed large-index type: uint8 codes in the graph, no float32 copy to hand out
    (the store then memory-maps chunk_vectors.npy), near-exact neighbours, saved and read back."""
    from rag.index.dense import HNSW_SQ8, exact_search

    vectors, queries = _unit_rows(3000, 64, seed=1), _unit_rows(50, 64, seed=2)
    index = build_vector_index(vectors, HNSW_SQ8)
    assert index.kind == HNSW_SQ8 and index.describe()["quantizer"] == "8bit"
    assert index.stored_vectors() is None
    index.save(tmp_path)
    again = load_vector_index(tmp_path)
    assert again.kind == HNSW_SQ8 and again.size == 3000
    _, approx = again.search(queries, 50)
    _, exact = exact_search(vectors, queries, 10)
    recall = np.mean([len(set(a[:10]) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall >= 0.9
    # The candidates (50) contain nearly all of the exact top 10, which re-scoring then orders.
    assert np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)]) >= 0.97
