"""Word coverage of the question by each candidate (rag/answer/coverage.py), on a real index
built with the fake encoder: exact words, numbers by digits, neutral values without spaces."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answer.coverage import COVERAGE_FEATURES, WordCoverage
from rag.config import Settings, index_location
from rag.index.store import ensure_index
from rag.query.analysis import analyse_question

COLUMN = {name: i for i, name in enumerate(COVERAGE_FEATURES)}
TEXT = (
    "Softbank investiert in Japan.\n\n"
    "Der Chef von Softbank heisst Masayoshi Son. Er gründete die Firma 1981.\n\n"
    "Die Firma zählt 500 Partner in Tokio.\n\n"
    "Die Firma wächst, weil Tokio lockt."
)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    from conftest import FakeEncoder

    work = tmp_path_factory.mktemp("coverage")
    (work / "seeds").mkdir()
    (work / "seeds" / "doc.txt").write_text(f"---\nlanguage: de\n---\n{TEXT}\n", encoding="utf-8")
    settings = Settings(seeds_dir=work / "seeds", index_dir=work / "index")
    built, _ = ensure_index(*index_location(settings), FakeEncoder, lambda m: None, progress=False)
    return built


def _rows(index, question: str, language: str = "de"):
    coverage = WordCoverage(index)
    analysed = analyse_question(question, language)
    missing = coverage.missing_words(analysed)
    from conftest import FakeEncoder

    vectors = dict(zip(missing, FakeEncoder().encode(missing), strict=True)) if missing else {}
    by_text = {s.text: s for s in index.sentences}
    return coverage.rows(analysed, vectors, list(index.sentences)), by_text


def test_a_sentence_holding_every_question_word_covers_it_fully(index):
    rows, _ = _rows(index, "Wer ist der Chef von Softbank?")
    chef = next(i for i, s in enumerate(index.sentences) if "Chef" in s.text)
    assert rows[chef, COLUMN["cov_mean"]] == pytest.approx(1.0)
    assert rows[chef, COLUMN["cov_min"]] == pytest.approx(1.0)
    assert rows[chef, COLUMN["cov_gap"]] == pytest.approx(0.0)
    # The sentence after it covers the question through the sentence before it.
    founded = next(i for i, s in enumerate(index.sentences) if "1981" in s.text)
    assert rows[founded, COLUMN["cov_mean"]] == pytest.approx(1.0)
    # ... but not by itself: "Er gründete die Firma 1981" holds neither "Chef" nor "Softbank".
    assert rows[founded, COLUMN["cov_own_mean"]] < 0.9 and rows[founded, COLUMN["cov_own_min"]] < 0.9
    assert rows[chef, COLUMN["cov_own_mean"]] == pytest.approx(1.0)
    # The first paragraph's sentence lacks "Chef": its minimum is the fake encoder's cosine.
    first = next(i for i, s in enumerate(index.sentences) if "investiert" in s.text)
    assert rows[first, COLUMN["cov_min"]] < 0.9 and rows[first, COLUMN["cov_gap"]] < 0


def test_a_name_the_text_lacks_leaves_the_key_words_uncovered(index):
    rows, _ = _rows(index, "Wer ist der Chef von Toyota?")
    chef = next(i for i, s in enumerate(index.sentences) if "Chef" in s.text)
    assert rows[chef, COLUMN["cov_key_min"]] < 0.9  # "toyota" matches no word of the text
    assert rows[chef, COLUMN["cov_mean"]] < 1.0


def test_numbers_are_matched_by_their_digits(index):
    rows, _ = _rows(index, "Was geschah 1981 bei Softbank?")
    founded = next(i for i, s in enumerate(index.sentences) if "1981" in s.text)
    partners = next(i for i, s in enumerate(index.sentences) if "500" in s.text)
    assert rows[founded, COLUMN["cov_key_min"]] == pytest.approx(1.0)
    assert rows[partners, COLUMN["cov_key_min"]] == pytest.approx(0.0)
    # "Softbank" stands in the sentence before 1981's, "1981" in the sentence itself.
    assert rows[founded, COLUMN["cov_own_mean"]] < rows[founded, COLUMN["cov_mean"]]


def test_own_coverage_is_the_best_match_within_the_sentence_alone(index):
    """Each candidate's own columns equal a word-by-word maximum over its own words only (the
    segmented maximum must not leak the next candidate's previous sentence into this one)."""
    analysed = analyse_question("Wie viele Partner hat die Firma in Tokio?", "de")
    coverage = WordCoverage(index)
    missing = coverage.missing_words(analysed)
    from conftest import FakeEncoder

    encoded = dict(zip(missing, FakeEncoder().encode(missing), strict=True)) if missing else {}
    sentences = list(index.sentences)
    rows = coverage.rows(analysed, encoded, sentences)
    table = index.words
    vectors = coverage.question_vectors(analysed, encoded)
    for row, sentence in enumerate(sentences):
        ids = table.words_of(sentence.sentence_id)
        words = table.vectors(np.asarray(ids, np.int64))
        best = []
        for word, vector in zip(analysed.words, vectors, strict=True):
            sims = [
                1.0 if table.index.get(word, -1) == i else float(w @ vector)
                for i, w in zip(ids, words, strict=True)
            ]
            best.append(min(max(max(sims, default=0.0), 0.0), 1.0))
        assert rows[row, COLUMN["cov_own_mean"]] == pytest.approx(np.mean(best), abs=1e-5)
        assert rows[row, COLUMN["cov_own_min"]] == pytest.approx(min(best), abs=1e-5)


def test_the_slot_columns_say_whether_the_sentence_adds_what_is_asked(index):
    rows, _ = _rows(index, "Wie viele Partner zählt die Firma?")
    partners = next(i for i, s in enumerate(index.sentences) if "500" in s.text)
    first = next(i for i, s in enumerate(index.sentences) if "investiert" in s.text)
    assert rows[partners, COLUMN["new_number"]] == 1 and rows[partners, COLUMN["slot_filled"]] == 1
    assert rows[first, COLUMN["slot_unfilled"]] == 1 and rows[first, COLUMN["slot_filled"]] == 0
    # "Why" asks for a cause: only the sentence that gives one ("weil") fills the slot.
    why, _ = _rows(index, "Warum investiert Softbank?")
    cause = next(i for i, s in enumerate(index.sentences) if "weil" in s.text)
    assert why[cause, COLUMN["slot_filled"]] == 1 and why[first, COLUMN["slot_unfilled"]] == 1
    # A question asking for nothing in particular fills or leaves no slot.
    what, _ = _rows(index, "Was macht Softbank in Japan?")
    assert not what[:, COLUMN["slot_filled"]].any() and not what[:, COLUMN["slot_unfilled"]].any()


def test_a_question_without_spaces_gets_neutral_coverage(index):
    rows, _ = _rows(index, "软银的老板是谁？", "zh")
    assert np.all(rows[:, COLUMN["cov_mean"]] == 1.0) and not rows[:, COLUMN["cov_known"]].any()

