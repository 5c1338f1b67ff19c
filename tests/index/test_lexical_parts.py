"""The lexical index per document language: an English document in a German corpus is stemmed
and searched in English; a corpus of one language scores exactly as one plain BM25 index."""

import numpy as np
import pytest

from rag.answer.retrieve import Retriever
from rag.config import Settings, Tuning
from rag.index.lexical import Analyzer, LexicalIndex, max_normalised
from rag.index.lexical_parts import LexicalParts
from rag.index.store import build_index, load_index
from rag.ingest import load_documents, seeds_fingerprint

ENGLISH_DOC = """---
title: Tram report
language: en
---
# Tram report

The council approved the eastern tram extension on Tuesday after a long debate.

The new trams will be running every five minutes, and the depot roof carries solar panels.
"""


@pytest.fixture
def mixed_index(tmp_path, fake_encoder, seeds_copy):
    """The bundled German article plus a short English report, indexed with the fake encoder."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for doc in seeds_copy.glob("*.txt"):
        (seeds / doc.name).write_bytes(doc.read_bytes())
    (seeds / "trams.md").write_text(ENGLISH_DOC, encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    docs = load_documents(seeds)
    fingerprint = seeds_fingerprint(seeds)
    build_index(settings.index_dir, docs, fake_encoder, settings.index_params(), fingerprint, False)
    return load_index(settings.index_dir)


def test_english_document_in_a_german_corpus_is_stemmed_and_stop_worded_in_english(mixed_index):
    index = mixed_index
    assert index.language == "de"  # German is most of the text
    assert index.manifest["languages"] == ["de", "en"] == list(index.lexical.languages)
    english = next(c.chunk_id for c in index.chunks if "approved" in c.text)
    # "approval" meets "approved" only through the English stemmer (German leaves both whole).
    assert Analyzer("de").terms("approval") != Analyzer("de").terms("approved")
    terms = index.lexical.query_terms("Who gave the approval?")
    assert terms["en"] == ["gave", "approv"]  # English stems, "the" and "who" dropped
    scores = index.lexical.scores(terms)
    assert scores[english] > 0 and int(np.argmax(scores)) == english
    # What one German-stemmed index over the same texts (the old layout) made of it: no match.
    old = LexicalIndex("de").build([c.text for c in index.chunks])
    assert old.scores(old.analyzer.terms("Who gave the approval?"))[english] == 0
    # The sentence side too: the English sentence's terms are English stems.
    sentence = next(s.sentence_id for s in index.sentences if "running" in s.text)
    assert index.sentence_lexical.scores(index.sentence_lexical.query_terms("runs"))[sentence] > 0


def test_the_language_of_the_best_match_decides_same_or_other_language(mixed_index, fake_encoder):
    retriever = Retriever(mixed_index, fake_encoder, Tuning())
    about_trams = retriever.search("the council approved the eastern tram extension", 5, "en")
    assert about_trams.hits[0].chunk.doc_id == "trams"
    assert about_trams.text_language == "en" and about_trams.same_language
    about_japan = retriever.search("Der Chef des Technologieinvestors Softbank", 5, "en")
    assert about_japan.text_language == "de" and not about_japan.same_language


def test_one_language_is_one_part_that_scores_as_a_plain_index():
    texts = ["Softbank investiert in Japan.", "Das Bussgeld beträgt 30 Prozent.", "Japan holt auf."]
    parts = LexicalParts.build(texts, ["de"] * len(texts))
    plain = LexicalIndex("de").build(texts)
    terms = parts.query_terms("Wie hoch ist das Bussgeld in Japan?")
    assert list(terms) == ["de"]
    scores = parts.scores(terms)
    assert np.array_equal(scores, plain.scores(terms["de"]))
    assert sorted(parts.top_ids(terms, scores, 2)) == sorted(plain.top_ids(terms["de"], scores, 2))
    ids = np.array([2, 0])
    assert np.array_equal(parts.normalised(scores[ids], ids), max_normalised(scores[ids]))


def test_each_part_is_normalised_by_its_own_best_and_found_by_its_own_terms(tmp_path):
    texts = ["Die Züge fahren.", "Trams are running late.", "Der Zug fährt spät.", "Running trams."]
    parts = LexicalParts.build(texts, ["de", "en", "de", "en"])
    terms = parts.query_terms("running trams Zug")
    scores = parts.scores(terms)
    ids = np.arange(4)
    shares = parts.normalised(scores[ids], ids)
    assert shares[[1, 3]].max() == 1.0 and shares[[0, 2]].max() == 1.0
    # The best of each part, whatever the scale of the other part's scores.
    best = {2 * int(np.argmax(scores[[0, 2]])), 1 + 2 * int(np.argmax(scores[[1, 3]]))}
    assert set(parts.top_ids(terms, scores, 1)) == best
    parts.save(tmp_path / "bm25")
    again = LexicalParts.load(tmp_path / "bm25", ["de", "en"])
    assert np.array_equal(again.scores(terms), scores)
    assert list(again.texts_with("en", "tram")) == [1, 3]
