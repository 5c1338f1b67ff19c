"""Candidate features and the withheld-document search behind near-miss questions (fast: a real
index of three small documents, built with the fake encoder)."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answer.features import FEATURES, FeatureExtractor
from rag.answer.retrieve import Retriever, passage_key
from rag.config import Settings, Tuning, index_location
from rag.index.store import ensure_index
from rag.query.analysis import analyse_question, name_like_words
from rag.search.fusion import minmax as _minmax

DOCS = {
    "softbank.txt": "Masayoshi Son leitet den Konzern Softbank in Tokio. Softbank investiert in KI.",
    "dfki.txt": "Andreas Dengel leitet das DFKI in Kaiserslautern. Das DFKI forscht an KI für Spitäler.",
    "sakana.txt": "Sakana AI wurde in Tokio gegründet. Die Firma baut kleine Sprachmodelle.",
}


@pytest.fixture
def corpus(tmp_path, fake_encoder):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, text in DOCS.items():
        (seeds / name).write_text(f"---\nlanguage: de\n---\n{text}\n", encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    index, _ = ensure_index(*index_location(settings), lambda: fake_encoder, lambda m: None, progress=False)
    return index, Retriever(index, fake_encoder, Tuning()), FeatureExtractor(index, Tuning())


def test_candidates_have_every_feature_and_are_finite(corpus):
    index, retriever, extractor = corpus
    retrieval = retriever.search("Wer leitet das DFKI?", 10, "de")
    candidates = extractor.candidates(retrieval, analyse_question("Wer leitet das DFKI?", "de"))
    assert candidates is not None
    assert candidates.matrix.shape == (len(candidates), len(FEATURES))
    assert np.isfinite(candidates.matrix).all()
    assert len({s.sentence_id for s in candidates.sentences}) == len(candidates)
    # Cross-language lexical features are zero for a question in the text's language.
    cross = [i for i, name in enumerate(FEATURES) if name.endswith("_cross")]
    assert not candidates.matrix[:, cross].any()
    assert candidates.facts.corpus_coverage == 1.0 and candidates.facts.unknown_names == 0


def test_a_withheld_document_is_never_retrieved_nor_its_names_known(corpus):
    index, retriever, extractor = corpus
    question = "Wer leitet das DFKI in Kaiserslautern?"
    normal = retriever.search(question, 10, "de")
    assert "dfki" in {hit.chunk.doc_id for hit in normal.hits}
    assert passage_key("dfki") == "dfki"  # a whole document's key is its id
    blind = retriever.search(question, 10, "de", withhold=frozenset({passage_key("dfki")}))
    assert blind.hits and "dfki" not in {hit.chunk.doc_id for hit in blind.hits}
    assert blind.excluded == frozenset({"dfki"})
    candidates = extractor.candidates(blind, analyse_question(question, "de"))
    assert candidates is not None and all(s.doc_id != "dfki" for s in candidates.sentences)
    # Without the DFKI document the text has no "Kaiserslautern" and no "DFKI".
    assert candidates.facts.unknown_names == 2
    unblind = extractor.candidates(normal, analyse_question(question, "de"))
    assert candidates.facts.corpus_coverage < unblind.facts.corpus_coverage
    assert "dfki" not in extractor.name_counts(frozenset({"dfki"}))
    assert extractor.name_counts()["dfki"] >= 1
    # One paragraph withheld: the document's other paragraphs stay searchable.
    paragraph = retriever.search(question, 10, "de", withhold=frozenset({passage_key("dfki", 1)}))
    assert "dfki" not in {hit.chunk.doc_id for hit in paragraph.hits}  # it has only paragraph 1
    other = retriever.search(question, 10, "de", withhold=frozenset({passage_key("dfki", 2)}))
    assert other.hits[0].chunk.doc_id == "dfki"


def test_name_like_words_are_capitalised_inner_words_and_acronyms():
    assert name_like_words("Wie heisst der Chef von Toyota?") == ["Chef", "Toyota"]
    assert name_like_words("Who is the CEO of Toyota?") == ["CEO", "Toyota"]
    assert name_like_words("Können Sie mir sagen, wer KI macht?") == ["KI"]
    assert name_like_words("Toyota?") == []


def test_a_count_may_name_its_noun_in_the_sentence_before_in_the_same_paragraph(tmp_path, fake_encoder):
    """"Matsuo nennt Sprachmodelle. Es sind zwölf davon." answers "Wie viele Sprachmodelle ...?";
    a number after a paragraph break or at a paragraph's start has no noun before it."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    text = ("Es sind zwölf. Matsuo zählt Sprachmodelle auf.\n\n"
            "Es sind zwölf dort. Matsuo nennt Sprachmodelle. Es sind zwölf davon.\n")
    (seeds / "zahlen.txt").write_text(f"---\nlanguage: de\n---\n{text}", encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    index, _ = ensure_index(*index_location(settings), lambda: fake_encoder, lambda m: None, progress=False)
    question = "Wie viele Sprachmodelle zählt Matsuo auf?"
    retrieval = Retriever(index, fake_encoder, Tuning()).search(question, 10, "de")
    candidates = FeatureExtractor(index, Tuning()).candidates(retrieval, analyse_question(question, "de"))
    column = FEATURES.index("typed_fits")
    fits = {s.text: float(candidates.matrix[i, column]) for i, s in enumerate(candidates.sentences)}
    assert fits == {
        "Es sind zwölf.": 0.0,  # a number, nothing before it
        "Matsuo zählt Sprachmodelle auf.": 0.0,  # the noun, no number
        "Es sind zwölf dort.": 0.0,  # the noun stands before, but in the paragraph before
        "Matsuo nennt Sprachmodelle.": 0.0,
        "Es sind zwölf davon.": 1.0,  # the number here, the noun just before
    }


def test_names_in_scope_reach_one_paragraph_back_and_never_into_another_document(tmp_path, fake_encoder):
    """Who "Er" is may stand a paragraph back; two paragraphs back, or in the document before, it
    does not ground a sentence (``scope_paragraphs_back`` = 1)."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text("---\nlanguage: de\n---\nAndreas Dengel leitet das DFKI.\n\n"
                                 "Er nennt Verlässlichkeit.\n\nSie bauen Roboter.\n", encoding="utf-8")
    (seeds / "b.txt").write_text("---\nlanguage: de\n---\nYutaka Matsuo lehrt in Tokio.\n\n"
                                 "Er forscht viel.\n", encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    index, _ = ensure_index(*index_location(settings), lambda: fake_encoder, lambda m: None, progress=False)
    extractor = FeatureExtractor(index, Tuning())
    assert Tuning().scope_paragraphs_back == 1
    scopes = {s.text: extractor._names_in_scope(s) for s in index.sentences}
    assert scopes == {
        "Andreas Dengel leitet das DFKI.": {"dengel", "dfki"},
        "Er nennt Verlässlichkeit.": {"dengel", "dfki"},  # one paragraph back
        "Sie bauen Roboter.": set(),  # two back: out of scope
        "Yutaka Matsuo lehrt in Tokio.": {"matsuo", "tokio"},  # nothing of document a
        "Er forscht viel.": {"matsuo", "tokio"},
    }


def test_hybrid_score_is_min_max_dense_plus_weighted_share_of_the_best_bm25(corpus):
    index, retriever, _ = corpus
    retrieval = retriever.search("Wer leitet das DFKI in Kaiserslautern?", 50, "de")
    hits = retrieval.hits
    assert len(hits) == len(index.chunks) >= 3  # every chunk a candidate: min and max are theirs
    dense = np.array([h.dense_score for h in hits])
    lexical = np.array([h.lexical_score for h in hits])
    assert dense.max() > dense.min() and lexical.max() > 0
    scaled = (dense - dense.min()) / (dense.max() - dense.min())
    expected = scaled + Tuning().lexical_weight * lexical / lexical.max()
    assert np.allclose([h.score for h in hits], expected, atol=1e-6)

    assert _minmax(np.array([3.0, 3.0])).tolist() == [1.0, 1.0]  # all equal and positive: all count
    assert _minmax(np.array([0.0, 0.0])).tolist() == [0.0, 0.0]  # all zero: none does
    assert _minmax(np.array([-2.0, -2.0])).tolist() == [0.0, 0.0]
    assert _minmax(np.array([-1.0, 1.0, 0.0])).tolist() == [0.0, 1.0, 0.5]


@pytest.mark.parametrize("withheld", [frozenset(), frozenset({"dfki"})])
def test_dense_search_overlapped_with_bm25_finds_the_same_hits(corpus, monkeypatch, withheld):
    """Large indexes search the dense side in a second thread (Tuning.parallel_search_from): the hits,
    their scores and the language decision must not depend on it."""
    import threading


    _, retriever, _ = corpus
    questions = ["Wer leitet das DFKI in Kaiserslautern?", "Who runs Softbank?", "Sprachmodelle Tokio"]
    alone = [retriever.search(q, 5, "de", withhold=withheld) for q in questions]
    dense_threads: set[str] = set()
    search = retriever.index.dense.search

    def recorded(*args, **kwargs):
        dense_threads.add(threading.current_thread().name)
        return search(*args, **kwargs)

    monkeypatch.setattr(retriever.index.dense, "search", recorded)
    monkeypatch.setattr(retriever, "tuning", retriever.tuning.with_(parallel_search_from=1))
    overlapped = [retriever.search(q, 5, "de", withhold=withheld) for q in questions]
    assert dense_threads and all(name.startswith("rag-dense") for name in dense_threads)
    for a, b in zip(alone, overlapped, strict=True):
        assert [(h.chunk.chunk_id, h.score, h.dense_score, h.lexical_score) for h in a.hits] == [
            (h.chunk.chunk_id, h.score, h.dense_score, h.lexical_score) for h in b.hits
        ]
        assert (a.same_language, a.text_language) == (b.same_language, b.text_language)
        assert set(b.timings_ms) == set(a.timings_ms) >= {"dense", "lexical", "fusion"}


def test_a_forked_process_searches_with_its_own_dense_thread(corpus, monkeypatch):
    """The overlapping dense search's thread does not survive a fork: a child that searched
    with the parent's pool waited forever. A child started after the parent searched answers."""
    import multiprocessing


    _, retriever, _ = corpus
    monkeypatch.setattr(retriever, "tuning", retriever.tuning.with_(parallel_search_from=1))
    question = "Wer leitet das DFKI in Kaiserslautern?"
    expected = [h.chunk.chunk_id for h in retriever.search(question, 5, "de").hits]  # the pool exists now

    def child(queue) -> None:  # noqa: ANN001
        queue.put([h.chunk.chunk_id for h in retriever.search(question, 5, "de").hits])

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=child, args=(queue,))
    process.start()
    process.join(60)
    alive = process.is_alive()
    if alive:
        process.kill()
    assert not alive and process.exitcode == 0
    assert queue.get(timeout=5) == expected


def test_a_title_written_with_underscores_names_its_topic(tmp_path, fake_encoder):
    """XQuAD-style titles ("Super_Bowl_50") name the document's topic for every sentence: the
    underscores are read as spaces, so the title's names are found."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text("---\ntitle: Andreas_Dengel_und_das_DFKI\nlanguage: de\n---\n"
                                 "Andreas Dengel leitet das DFKI.\n\nEr nennt Verlässlichkeit.\n",
                                 encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    index, _ = ensure_index(*index_location(settings), lambda: fake_encoder, lambda m: None, progress=False)
    extractor = FeatureExtractor(index, Tuning())
    assert extractor._title_names("a") >= {"dengel", "dfki"}


@pytest.mark.parametrize("question,language,own,other", [
    ("Wer leitet Softbank in Tokio?", "de", "same_language_weights", "cross_language_weights"),
    ("Who leads Softbank in Tokio?", "en", "cross_language_weights", "same_language_weights"),
])
def test_the_base_score_weighs_words_by_the_question_language_and_ranks_from_one(
    corpus, question, language, own, other
):
    """A question in the text's language uses the same-language word weights, another language
    the cross-language ones, never both; base_rank_inv is 1/rank of the base score."""
    index, retriever, _ = corpus
    retrieval = retriever.search(question, 10, language)

    def candidates(**tuning):  # noqa: ANN003, ANN202
        analysed = analyse_question(question, language)
        return FeatureExtractor(index, Tuning().with_(**tuning)).candidates(retrieval, analysed)

    plain = candidates()
    assert np.array_equal(candidates(**{other: (5.0, 5.0, 5.0)}).base, plain.base)
    assert not np.array_equal(candidates(**{own: (5.0, 5.0, 5.0)}).base, plain.base)
    ranks = np.empty(len(plain), np.float32)
    ranks[np.argsort(-plain.base, kind="stable")] = np.arange(1, len(plain) + 1)
    assert np.array_equal(plain.matrix[:, FEATURES.index("base_rank_inv")], 1.0 / ranks)
    assert plain.matrix[:, FEATURES.index("is_base_top")].tolist() == (ranks == 1).astype(float).tolist()


def test_specific_names_are_rare_longer_than_the_minimum_and_not_places(corpus):
    """The names a question asks about: "AI" is too short (2 characters), Tokio and
    Kaiserslautern are places; Dengel, DFKI and Softbank each stand in at most 2 sentences."""
    index, _, extractor = corpus
    question = "Was macht Andreas Dengel mit dem DFKI, Softbank und Sakana AI in Tokio und Kaiserslautern?"
    assert Tuning().min_name_chars == 2 and index.place_names >= {"tokio", "kaiserslautern"}
    assert extractor.specific_names(question, index.name_counts) == ("dengel", "dfki", "softbank")
