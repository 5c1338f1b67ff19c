"""The SearchBackend contract, run against every backend in this process (no service to start):
the local one (FAISS + numpy BM25), Qdrant Edge in a temporary folder, and qdrant-client's
in-memory stand-in for a Qdrant service (the remote transport's calls). Real encoder, real FAISS.

What must hold for answers not to depend on the engine: the same candidates, the same BM25
scores (the engine's IDF over our analyzer's term factors), the same vectors bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.index.lexical import Analyzer
from rag.records import Chunk
from rag.search.backend import CandidateQuery, ChunkEntry, SearchBackend
from rag.search.local import LocalBackend

pytest.importorskip("qdrant_edge")
pytest.importorskip("qdrant_client")

from rag.search.qdrant import EdgeTransport, QdrantBackend, RemoteTransport  # noqa: E402

DOCS = {
    "japan": ("de", [
        "Softbank-Chef Masayoshi Son investiert Milliarden in künstliche Intelligenz.",
        "Japan will bei der künstlichen Intelligenz aufholen und baut Rechenzentren.",
        "Die Regierung in Tokio fördert Startups wie Sakana AI mit Subventionen.",
        "Der Fachkräftemangel treibt die Automatisierung in japanischen Fabriken voran.",
        "Open AI eröffnete sein erstes Büro in Asien in Tokio.",
    ]),
    "ferry": ("en", [
        "The ferry to Skarvik leaves the harbour at seven every morning.",
        "Tickets for the ferry are sold at the kiosk next to the harbour.",
        "In winter the ferry runs twice a day because of ice on the fjord.",
    ]),
}
QUESTIONS = [
    ("Wer leitet Softbank?", "de"),
    ("Wo eröffnete Open AI sein Büro?", "de"),
    ("When does the ferry leave the harbour?", "en"),
    ("Where are ferry tickets sold in Tokio?", "en"),
]


def _entries(encoder, docs=DOCS, first_id: int = 0) -> list[ChunkEntry]:
    entries: list[ChunkEntry] = []
    texts = [(doc, lang, text) for doc, (lang, lines) in docs.items() for text in lines]
    vectors = np.asarray(encoder.encode([t for _, _, t in texts]), np.float32)
    for n, ((doc, lang, text), vector) in enumerate(zip(texts, vectors, strict=True)):
        chunk = Chunk(first_id + n, doc, n + 1, (first_id + n,), text, 0, len(text))
        entries.append(ChunkEntry(chunk, lang, vector))
    return entries


@pytest.fixture(scope="module")
def entries(real_encoder) -> list[ChunkEntry]:
    return _entries(real_encoder)


def _make(kind: str, folder: Path, entries: list[ChunkEntry]) -> SearchBackend:
    if kind == "local":
        return LocalBackend.of(entries)
    if kind == "qdrant-edge":
        return QdrantBackend.of(EdgeTransport(folder / "shard"), entries)
    return QdrantBackend.of(RemoteTransport(":memory:", "contract"), entries)


KINDS = ["local", "qdrant-edge", "qdrant-remote-memory"]


@pytest.fixture(params=KINDS)
def backend(request, tmp_path, entries) -> SearchBackend:
    made = _make(request.param, tmp_path, entries)
    yield made
    transport = getattr(made, "transport", None)
    if transport is not None:
        transport.close()


@pytest.fixture
def reference(entries) -> LocalBackend:
    return LocalBackend.of(entries)


def _query(encoder, text: str, k: int = 4, withheld: frozenset[int] = frozenset()) -> CandidateQuery:
    vector = np.asarray(encoder.encode([text]), np.float32)[0]
    terms = {lang: Analyzer(lang).terms(text) for lang in ("de", "en")}
    return CandidateQuery(vector, terms, k, withheld)


def test_describes_itself(backend: SearchBackend, entries) -> None:
    assert isinstance(backend, SearchBackend)
    assert backend.size == len(entries)
    assert backend.dimension == len(entries[0].vector)
    assert backend.languages == ("de", "en")
    assert backend.describe()["name"] == backend.name


@pytest.mark.parametrize("question", [q for q, _ in QUESTIONS])
def test_candidates_match_the_local_backend(backend, reference, real_encoder, question: str) -> None:
    query = _query(real_encoder, question)
    found, expected = backend.candidates(query), reference.candidates(query)
    assert found.ids.tolist() == expected.ids.tolist()
    assert found.dense_ids == expected.dense_ids
    assert (found.lexical is None) == (expected.lexical is None)
    if expected.lexical is not None:
        assert expected.lexical.max() > 0  # the question's terms occur: a real comparison
        np.testing.assert_allclose(found.lexical, expected.lexical, rtol=1e-5, atol=1e-6)


def test_dense_candidates_are_the_exact_nearest(backend, entries, real_encoder) -> None:
    """The reference: brute-force inner products over every vector."""
    query = _query(real_encoder, "Fähre am Hafen", k=3)
    matrix = np.stack([e.vector for e in entries])
    exact = np.argsort(-(matrix @ query.vector), kind="stable")[:3]
    assert list(backend.candidates(query).dense_ids) == [entries[i].chunk.chunk_id for i in exact]


def test_lexical_scores_are_bm25_of_the_own_language_part(backend, reference, real_encoder) -> None:
    terms = _query(real_encoder, "ferry harbour Tokio").terms
    ids = np.arange(len(DOCS["japan"][1]) + len(DOCS["ferry"][1]))
    scores = backend.lexical_scores(terms, ids)
    np.testing.assert_allclose(scores, reference.lexical_scores(terms, ids), rtol=1e-5, atol=1e-6)
    assert scores[4] > 0  # "Tokio" in a German text
    assert scores[5] > 0 and scores[0] == 0  # "ferry" in an English one; nothing of it in the first
    assert backend.lexical_scores(terms, np.zeros(0, np.int64)).shape == (0,)


def test_withheld_chunks_are_never_candidates(backend, real_encoder) -> None:
    plain = backend.candidates(_query(real_encoder, "Wer leitet Softbank?"))
    best = plain.dense_ids[0]
    withheld = frozenset({best, 0})
    found = backend.candidates(_query(real_encoder, "Wer leitet Softbank?", withheld=withheld))
    assert not withheld & set(found.ids.tolist())
    assert best not in found.dense_ids and len(found.dense_ids) == 4


def test_whether_a_term_occurs(backend) -> None:
    ferry = Analyzer("en").terms("ferry")[0]
    assert backend.holds_term("en", ferry)
    assert not backend.holds_term("de", ferry)  # another part
    assert not backend.holds_term("en", "zeppelin")
    ice = Analyzer("en").terms("ice")[0]  # in chunk 7 only
    assert backend.holds_term("en", ice, frozenset({5}))
    assert not backend.holds_term("en", ice, frozenset({7}))
    assert backend.knows_any({"en": [ferry]}) and not backend.knows_any({"en": ["zeppelin"], "de": []})


def test_vectors_and_records_by_id(backend, entries) -> None:
    ids = np.array([6, 0, 3])
    vectors = backend.chunk_vectors(ids)
    assert vectors.dtype == np.float32
    assert np.array_equal(vectors, np.stack([entries[i].vector for i in ids]))  # bit for bit
    assert [c.text for c in backend.chunks([6, 0])] == [entries[6].chunk.text, entries[0].chunk.text]


def test_upsert_and_delete_a_document(backend, real_encoder, entries) -> None:
    extra = _entries(real_encoder, {"bakery": ("en", ["The bakery on Elm Street sells rye bread at six."])},
                     first_id=len(entries))
    query = _query(real_encoder, "Which bakery sells rye bread?")
    assert extra[0].chunk.chunk_id not in backend.candidates(query).ids.tolist()
    backend.upsert("bakery", extra)
    found = backend.candidates(query)
    assert found.dense_ids[0] == extra[0].chunk.chunk_id
    assert backend.chunks([extra[0].chunk.chunk_id])[0].text == extra[0].chunk.text
    backend.delete("ferry")
    after = backend.candidates(_query(real_encoder, "When does the ferry leave the harbour?"))
    assert not {5, 6, 7} & set(after.ids.tolist())
    assert not backend.holds_term("en", Analyzer("en").terms("ferry")[0])
    assert backend.size == len(entries) - 3 + 1
