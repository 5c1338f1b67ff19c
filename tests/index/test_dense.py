"""FAISS index choice and search: exact against numpy, HNSW recall, the size threshold."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.bench.synthetic import synthetic_vectors
from rag.config import IndexTuning
from rag.index import dense as vectors
from rag.index.dense import FLAT, HNSW, build_vector_index, choose_index_type, exact_search, load_vector_index


def _numpy_top_k(corpus: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    scores = queries @ corpus.T
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def test_flat_top_k_equals_brute_force_numpy():
    rng = np.random.default_rng(3)
    corpus = rng.standard_normal((500, 32)).astype(np.float32)
    corpus /= np.linalg.norm(corpus, axis=1, keepdims=True)
    queries = rng.standard_normal((20, 32)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    index = build_vector_index(corpus, FLAT)
    scores, ids = index.search(queries, 10)
    expected = _numpy_top_k(corpus, queries, 10)
    # random Gaussian scores are distinct, so the ids must match exactly, in order
    np.testing.assert_array_equal(ids, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ corpus.T, expected, axis=1), rtol=1e-5)


def test_exact_search_and_a_saved_index_agree_with_numpy(tmp_path):
    rng = np.random.default_rng(4)
    corpus = rng.standard_normal((300, 16)).astype(np.float32)
    corpus /= np.linalg.norm(corpus, axis=1, keepdims=True)
    queries = corpus[:5] + 0.1
    expected = _numpy_top_k(corpus, queries, 7)
    np.testing.assert_array_equal(exact_search(corpus, queries, 7)[1], expected)
    build_vector_index(corpus).save(tmp_path)
    loaded = load_vector_index(tmp_path)
    assert (loaded.size, loaded.dimension) == (300, 16)
    np.testing.assert_array_equal(loaded.search(queries, 7)[1], expected)


def test_search_caps_k_at_index_size():
    corpus = np.eye(3, 8, dtype=np.float32)
    _, ids = build_vector_index(corpus).search(corpus[0], 10)
    assert ids.shape == (1, 3) and ids[0, 0] == 0


def test_hnsw_recall_at_10_on_clustered_vectors():
    """The chosen HNSW parameters keep recall@10 >= 0.95 on the benchmark's kind of data."""
    corpus, queries = synthetic_vectors(20_000, n_queries=100, seed=5)
    index = build_vector_index(corpus, HNSW)
    assert index.kind == HNSW
    assert index.describe() == {
        "type": HNSW, "M": IndexTuning().hnsw_m, "ef_construction": IndexTuning().hnsw_ef_construction,
        "ef_search": IndexTuning().hnsw_ef_search,
    }
    _, approx = index.search(queries, 10)
    exact = _numpy_top_k(corpus, queries, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall >= 0.95


def test_synthetic_vectors_are_normalised_and_clustered():
    corpus, queries = synthetic_vectors(2_000, n_queries=10, seed=1)
    assert corpus.dtype == np.float32 and corpus.shape == (2_000, 512) and queries.shape == (10, 512)
    np.testing.assert_allclose(np.linalg.norm(corpus, axis=1), 1.0, rtol=1e-5)
    sims = corpus[:200] @ corpus[:200].T
    # a shared direction like real sentence vectors, and near neighbours well above the mean
    assert 0.15 < sims[~np.eye(200, dtype=bool)].mean() < 0.5
    assert np.median(np.sort(queries @ corpus.T, axis=1)[:, -1]) > 0.6


def test_index_type_switches_at_threshold():
    assert choose_index_type(IndexTuning().approximate_from - 1) == FLAT
    assert choose_index_type(IndexTuning().approximate_from) == HNSW
    assert choose_index_type(9, approximate_from=10) == FLAT
    assert choose_index_type(10, approximate_from=10) == HNSW
    assert choose_index_type(IndexTuning().quantise_from - 1) == HNSW
    assert choose_index_type(IndexTuning().quantise_from) == vectors.HNSW_SQ8
    assert choose_index_type(12, approximate_from=10, quantise_from=12) == vectors.HNSW_SQ8
    small = np.eye(12, 16, dtype=np.float32)
    assert build_vector_index(small, approximate_from=13).kind == FLAT
    assert build_vector_index(small, approximate_from=12).kind == HNSW
    with pytest.raises(ValueError):
        build_vector_index(small, "annoy")


@pytest.mark.parametrize(("threshold", "expected"), [(None, FLAT), (5, HNSW)])
def test_index_type_is_recorded_in_the_manifest(tmp_path, fake_encoder, seeds_copy, threshold, expected):
    from rag.index.store import build_index, load_index
    from rag.ingest import load_documents, seeds_fingerprint

    params = {"model": "fake", "chunk_size": 3, "chunk_stride": 1}
    docs = load_documents(seeds_copy)
    build_index(
        tmp_path / "index", docs, fake_encoder, params, seeds_fingerprint(seeds_copy),
        progress=False, approximate_from=threshold,
    )
    loaded = load_index(tmp_path / "index")
    manifest = json.loads((loaded.path / "manifest.json").read_text("utf-8"))
    assert manifest["index_type"] == expected == loaded.dense.describe()["type"]
    assert manifest["vector_index"]["type"] == expected
    if expected == HNSW:
        assert manifest["vector_index"]["ef_search"] == IndexTuning().hnsw_ef_search


def test_a_quantised_store_index_reads_its_float_vectors_from_the_file(
    tmp_path, fake_encoder, seeds_copy
):
    """HNSW over 8-bit codes keeps no float32 copy: the store reads chunk_vectors.npy by row
    (only the candidates' rows), and a large index keeps its codes and BM25 columns in
    their files too, with the same search results as read into memory."""
    from rag.index import store
    from rag.ingest import load_documents, seeds_fingerprint

    params = {"model": "fake", "chunk_size": 3, "chunk_stride": 1}
    store.build_index(
        tmp_path / "index", load_documents(seeds_copy), fake_encoder, params,
        seeds_fingerprint(seeds_copy), progress=False, index_type=vectors.HNSW_SQ8,
    )
    read = store.load_index(tmp_path / "index")
    assert read.manifest["vector_index"]["type"] == vectors.HNSW_SQ8
    on_disk = np.load(read.path / "chunk_vectors.npy")
    assert isinstance(read.chunk_vectors, vectors.RowFile) and len(read.chunk_vectors) == len(on_disk)
    assert np.array_equal(np.asarray(read.chunk_vectors), on_disk)
    ids = np.array([5, 0, len(on_disk) - 1, 5])
    assert np.array_equal(read.chunk_vectors[ids], on_disk[ids])
    with pytest.raises(IndexError):
        read.chunk_vectors[np.array([len(on_disk)])]
    assert not isinstance(read.lexical.parts["de"]._require().data, np.memmap)  # small: read into memory

    mapped = store.load_index(tmp_path / "index", tuning=IndexTuning(mmap_from_chunks=1))
    assert isinstance(mapped.lexical.parts["de"]._require().data, np.memmap)
    question = fake_encoder.encode(["Wer leitet Softbank?"])
    assert np.array_equal(mapped.dense.search(question, 10)[1], read.dense.search(question, 10)[1])
    terms = read.lexical.query_terms("Wer leitet den Technologieinvestor Softbank?")
    assert np.array_equal(mapped.lexical.scores(terms), read.lexical.scores(terms))
