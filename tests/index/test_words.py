"""The word table (rag/index/words.py): content words, quantised vectors, files, sizes."""

from __future__ import annotations

import numpy as np
import pytest

from rag.index.words import WordTable, content_words, numbers_in


def test_content_words_drop_stop_and_question_words_and_keep_hyphen_parts():
    assert content_words("Wer ist der Chef von Softbank?", "de") == ["chef", "softbank"]
    assert content_words("How many employees does Softbank have?", "en") == ["employees", "softbank"]
    # A hyphenated word gives its parts too, so "Chef" finds "Softbank-Chef".
    assert content_words("der Softbank-Chef Son", "de") == ["softbank-chef", "softbank", "chef", "son"]
    # Numbers are compared by their digits, not as words; a Spanish question loses its own
    # function words.
    assert content_words("¿Quién es el jefe de Softbank en 2024?", "es") == ["jefe", "softbank"]


def test_numbers_in_reads_digit_runs():
    assert numbers_in("Die G-7 trafen sich 2023 mit 05 Leuten") == {"7", "2023", "5"}
    assert numbers_in("keine Zahl") == frozenset()


def test_build_save_load_round_trip(tmp_path, fake_encoder):
    texts = ["Softbank investiert in Japan.", "Der Chef von Softbank ist Son.", "Nichts."]
    table = WordTable.build(texts, ["de", "de", "de"], fake_encoder)
    assert table.size == 3
    # Most frequent first: "softbank" is in two sentences.
    assert table.vocabulary[0] == "softbank"
    assert [table.vocabulary[i] for i in table.words_of(1)] == ["chef", "softbank", "son"]
    assert len(table.words_of(2)) == 0 or table.vocabulary[table.words_of(2)[0]] == "nichts"
    # Quantised rows stay within 1% of the encoder's unit vectors.
    exact = fake_encoder.encode(list(table.vocabulary))
    assert np.abs(table.vectors(np.arange(len(table.vocabulary))) - exact).max() < 0.01
    table.save(tmp_path)
    loaded = WordTable.load(tmp_path)
    assert loaded.vocabulary == table.vocabulary
    assert np.array_equal(loaded.codes, table.codes) and np.array_equal(loaded.ids, table.ids)
    assert loaded.index["son"] == table.index["son"]


def test_the_vector_cap_keeps_the_most_frequent_words(fake_encoder):
    table = WordTable.build(["alpha beta", "alpha gamma"], ["en", "en"], fake_encoder, max_vectors=1)
    assert table.with_vectors == 1 and table.vocabulary[0] == "alpha"
    rows = table.vectors(np.array([0, 1]))
    assert np.linalg.norm(rows[0]) > 0.9 and not rows[1].any()  # no vector: matched by spelling only


def test_damaged_files_are_refused(tmp_path, fake_encoder):
    WordTable.build(["alpha beta"], ["en"], fake_encoder).save(tmp_path)
    np.save(tmp_path / "sentence_word_offsets.npy", np.array([0, 5], dtype=np.int64))
    with pytest.raises(ValueError, match="do not fit"):
        WordTable.load(tmp_path)
