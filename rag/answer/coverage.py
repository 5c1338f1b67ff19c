"""How much of the question a candidate sentence covers, word by word, and whether it adds
what the question asks for.

Most wrong answers are questions the text cannot answer, quoted with the closest sentence: it
shares the topic but leaves a word of the question uncovered ("How many *employees* does
Softbank have?" against a sentence about Softbank's board members), or it holds nothing of the
kind asked for (no person for "Wer leitet ...", no number for "Wie viele ..."). For each
content word of the question this module finds its best match among the words of the sentence
and the sentence before it: 1 for the same word, the same digits for a number, else the cosine
of the two words' vectors (any language: white/weißen 0.93, employees/Mitarbeiter 0.93,
unrelated words 0.16-0.33 with USE). The candidates' mean, minimum and key-word minimum are
features of the ranker and the support model, not vetoes: the models weigh them.

Scripts without spaces get neutral values (1.0) and ``cov_known = 0``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rag.answer.answer_type import gives_reason
from rag.index.loaded import LoadedIndex
from rag.index.words import numbers_in
from rag.query.analysis import NAME, PERSON, PLACE, REASON, AnalysedQuestion
from rag.records import Sentence

COVERAGE_FEATURES: tuple[str, ...] = (
    "cov_mean", "cov_min", "cov_key_min", "cov_gap", "cov_known",
    "new_number", "new_year", "new_name", "new_person", "new_place", "slot_filled", "slot_unfilled",
    "cov_own_mean", "cov_own_min",
)
_OWN = COVERAGE_FEATURES.index("cov_own_mean")


def _is_year(number: str) -> bool:
    return len(number) == 4 and number[:2] in ("19", "20", "18", "17", "16", "15")


class WordCoverage:
    """Coverage rows for candidate sentences. Example::

        coverage = WordCoverage(index)
        missing = coverage.missing_words(analysed)            # encode these with the question
        rows = coverage.rows(analysed, dict(zip(missing, vectors)), sentences)
    """

    def __init__(self, index: LoadedIndex) -> None:
        self.index = index
        self.table = index.words
        self._number_cache: dict[int, frozenset[str]] = {}

    def _numbers(self, sentence: Sentence) -> frozenset[str]:
        """A sentence's digit runs, found once per loaded index (bounded like the term cache)."""
        found = self._number_cache.get(sentence.sentence_id)
        if found is None:
            if len(self._number_cache) >= 100_000:
                self._number_cache.clear()
            found = self._number_cache[sentence.sentence_id] = numbers_in(sentence.text)
        return found

    def missing_words(self, question: AnalysedQuestion) -> list[str]:
        """The question's words whose vectors the index does not hold (to be encoded)."""
        if self.table is None:
            return []
        held = self.table.with_vectors
        return [w for w in question.words if self.table.index.get(w, held) >= held]

    def question_vectors(
        self, question: AnalysedQuestion, encoded: Mapping[str, np.ndarray]
    ) -> np.ndarray:
        assert self.table is not None
        # The index's rows in one pass (a word without one gives zeros), then the encoded ones.
        held = self.table.with_vectors
        ids = np.array([self.table.index.get(w, held) for w in question.words], dtype=np.int64)
        rows = self.table.vectors(ids)
        for k, word in enumerate(question.words):
            if ids[k] >= held and word in encoded:
                rows[k] = encoded[word]
        return rows

    def rows(
        self,
        question: AnalysedQuestion,
        encoded: Mapping[str, np.ndarray],
        sentences: Sequence[Sentence],
    ) -> np.ndarray:
        """(len(sentences), len(COVERAGE_FEATURES)) float32."""
        n = len(sentences)
        out = np.zeros((n, len(COVERAGE_FEATURES)), dtype=np.float32)
        previous = self.index.previous_sentences(sentences)
        self._slot_columns(question, sentences, out)
        table = self.table
        known = question.spaced and table is not None and bool(question.words or question.numbers)
        if not known:
            out[:, 0:4] = (1.0, 1.0, 1.0, 0.0)
            out[:, _OWN:_OWN + 2] = 1.0
            return out
        assert table is not None
        # Each candidate's words with the previous sentence's, as ids into the vocabulary, all
        # candidates in one array (``starts``: where each one's begin), so that one matrix
        # product and one segmented maximum give every candidate's coverage. The previous
        # sentence's words come first, so the sentence's own are each scope's tail: their
        # maximum is the coverage by the sentence alone (a neighbour of the sentence that
        # answers is covered by it, through the context, as well as the answer itself).
        scopes, own_lengths = [], []
        for sentence, before in zip(sentences, previous, strict=True):
            ids = table.words_of(sentence.sentence_id)
            own_lengths.append(len(ids))
            if before is not None:
                ids = np.concatenate([table.words_of(before.sentence_id), ids])
            scopes.append(ids)
        lengths = np.array([len(ids) for ids in scopes], dtype=np.int64)
        own = np.array(own_lengths, dtype=np.int64)
        flat = np.concatenate(scopes).astype(np.int64) if lengths.sum() else np.zeros(0, np.int64)
        n_words = len(question.words)
        best = np.zeros((n_words, n), np.float32)
        best_own = np.zeros((n_words, n), np.float32)
        if n_words and len(flat):
            unique, inverse = np.unique(flat, return_inverse=True)
            # One matrix-vector product per question word: a matrix product of these small
            # shapes goes through OpenBLAS's threads and took 1 ms instead of 0.1 ms here.
            words = table.vectors(unique)
            sims = np.stack([words @ vector for vector in self.question_vectors(question, encoded)])
            q_ids = np.array([table.index.get(w, -1) for w in question.words], dtype=np.int64)
            # The same word counts 1, whatever its vector.
            sims = np.where(unique[None, :] == q_ids[:, None], 1.0, sims)[:, inverse]
            present = np.flatnonzero(lengths)
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])[present]
            best[:, present] = np.maximum.reduceat(sims, starts, axis=1)
            # Each own part as a segment [end - own, end): the segments between them (the next
            # candidate's previous sentence) are computed too and dropped; a zero column keeps
            # the last end a valid index.
            ends = np.cumsum(lengths)
            has_own = np.flatnonzero(own)
            bounds = np.stack([(ends - own)[has_own], ends[has_own]], axis=1).ravel()
            padded = np.concatenate([sims, np.zeros((n_words, 1), sims.dtype)], axis=1)
            best_own[:, has_own] = np.maximum.reduceat(padded, bounds, axis=1)[:, 0::2]
        np.clip(best, 0.0, 1.0, out=best)
        np.clip(best_own, 0.0, 1.0, out=best_own)
        q_numbers = sorted(question.numbers)
        digits = np.zeros((len(q_numbers), n), np.float32)
        digits_own = np.zeros((len(q_numbers), n), np.float32)
        for row, (sentence, before) in enumerate(zip(sentences, previous, strict=True)):
            if q_numbers:
                held = self._numbers(sentence)
                digits_own[:, row] = [x in held for x in q_numbers]
                if before is not None:
                    held = held | self._numbers(before)
                digits[:, row] = [x in held for x in q_numbers]
        values = np.concatenate([best, digits])  # (question words + numbers, candidates)
        key = np.array([w in question.key_words for w in question.words], dtype=bool)
        keys = np.concatenate([best[key], digits])
        out[:, 0] = values.mean(axis=0)
        out[:, 1] = values.min(axis=0)
        out[:, 2] = keys.min(axis=0) if len(keys) else 1.0
        out[:, 3] = out[:, 0] - out[:, 0].max()
        out[:, 4] = 1.0
        values_own = np.concatenate([best_own, digits_own])
        out[:, _OWN] = values_own.mean(axis=0)
        out[:, _OWN + 1] = values_own.min(axis=0)
        return out

    def _slot_columns(
        self, question: AnalysedQuestion, sentences: Sequence[Sentence], out: np.ndarray
    ) -> None:
        """new_number, new_year, new_name, new_person, new_place, slot_filled, slot_unfilled:
        whether the sentence adds a number, a year, a name, a person's or a place's name the
        question does not hold, and whether that fills the slot the question asks for
        (``AnalysedQuestion.slot``): a person for "who", a place for "where", any name for
        "which", a number for "how many", a year for "when", a cause for "why"."""
        names = self.index.sentence_names
        persons, places = self.index.person_names, self.index.place_names
        folded = question.text.casefold()
        asked = set(question.words) | set(folded.split())
        for row, s in enumerate(sentences):
            new_numbers = self._numbers(s) - question.numbers
            new_number = bool(new_numbers)
            new_year = any(_is_year(x) for x in new_numbers)
            own = names[s.sentence_id] if names else ()
            new = [name for name in own if name not in asked and name not in folded]
            new_person = any(name in persons for name in new)
            new_place = any(name in places for name in new)
            slot = question.slot
            if slot == "quantity":
                filled: bool | None = new_number
            elif slot in ("year", "time"):
                filled = new_year or (slot == "time" and new_number)
            elif slot == PERSON:
                filled = new_person
            elif slot == PLACE:
                filled = new_place
            elif slot == NAME:
                filled = bool(new)
            elif slot == REASON:
                filled = gives_reason(s.text)
            else:
                filled = None
            out[row, 5:12] = (
                new_number, new_year, bool(new), new_person, new_place,
                filled is True, filled is False,
            )


__all__ = ["COVERAGE_FEATURES", "WordCoverage"]
