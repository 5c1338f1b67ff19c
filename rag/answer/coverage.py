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

from rag.index.store import LoadedIndex
from rag.index.words import numbers_in
from rag.query.analysis import NAME, PERSON, PLACE, AnalysedQuestion
from rag.records import Sentence

COVERAGE_FEATURES: tuple[str, ...] = (
    "cov_mean", "cov_min", "cov_key_min", "cov_gap", "cov_known",
    "new_number", "new_year", "new_name", "new_person", "new_place", "slot_filled", "slot_unfilled",
)


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
        rows = []
        for word in question.words:
            i = self.table.index.get(word)
            if i is not None and i < self.table.with_vectors:
                rows.append(self.table.vectors(np.array([i]))[0])
            else:
                vector = encoded.get(word)
                rows.append(np.zeros(self.table.codes.shape[1], np.float32) if vector is None else vector)
        return np.asarray(rows, dtype=np.float32).reshape(len(question.words), self.table.codes.shape[1])

    def rows(
        self,
        question: AnalysedQuestion,
        encoded: Mapping[str, np.ndarray],
        sentences: Sequence[Sentence],
    ) -> np.ndarray:
        """(len(sentences), len(COVERAGE_FEATURES)) float32."""
        n = len(sentences)
        out = np.zeros((n, len(COVERAGE_FEATURES)), dtype=np.float32)
        previous = [self.index.previous_in_paragraph(s) for s in sentences]
        self._slot_columns(question, sentences, out)
        table = self.table
        known = question.spaced and table is not None and bool(question.words or question.numbers)
        if not known:
            out[:, 0:4] = (1.0, 1.0, 1.0, 0.0)
            return out
        assert table is not None
        # Each candidate's words with the previous sentence's, as ids into the vocabulary.
        scopes = []
        for s, p in zip(sentences, previous, strict=True):
            ids = table.words_of(s.sentence_id)
            if p is not None:
                ids = np.concatenate([table.words_of(p.sentence_id), ids])
            scopes.append(ids)
        unique = np.unique(np.concatenate(scopes)) if scopes else np.zeros(0, np.int64)
        position = {int(w): k for k, w in enumerate(unique)}
        q_ids = np.array([table.index.get(w, -1) for w in question.words], dtype=np.int64)
        if len(unique) and len(question.words):
            sims = self.question_vectors(question, encoded) @ table.vectors(unique).T
        else:
            sims = np.zeros((len(question.words), len(unique)), np.float32)
        np.clip(sims, 0.0, 1.0, out=sims)
        key = np.array([w in question.key_words for w in question.words], dtype=bool)
        q_numbers = sorted(question.numbers)
        for row, (s, p, scope) in enumerate(zip(sentences, previous, scopes, strict=True)):
            cols = np.fromiter((position[int(w)] for w in scope), dtype=np.int64, count=len(scope))
            if len(cols):
                best = sims[:, cols].max(axis=1)
                exact = np.isin(q_ids, scope)
                best = np.where(exact, 1.0, best)
            else:
                best = np.zeros(len(question.words), np.float32)
            if q_numbers:
                held = numbers_in(s.text) | (numbers_in(p.text) if p is not None else frozenset())
                digits = np.array([float(x in held) for x in q_numbers], np.float32)
            else:
                digits = np.zeros(0, np.float32)
            values = np.concatenate([best, digits])
            keys = np.concatenate([best[key], digits])
            out[row, 0] = values.mean()
            out[row, 1] = values.min()
            out[row, 2] = keys.min() if len(keys) else 1.0
        out[:, 3] = out[:, 0] - out[:, 0].max()
        out[:, 4] = 1.0
        return out

    def _slot_columns(
        self, question: AnalysedQuestion, sentences: Sequence[Sentence], out: np.ndarray
    ) -> None:
        """new_number, new_year, new_name, new_person, new_place, slot_filled, slot_unfilled:
        whether the sentence adds a number, a year, a name, a person's or a place's name the
        question does not hold, and whether that fills the slot the question asks for
        (``AnalysedQuestion.slot``): a person for "who", a place for "where", any name for
        "which", a number for "how many", a year for "when"."""
        names = self.index.sentence_names
        persons, places = self.index.person_names, self.index.place_names
        asked = set(question.words) | {w.casefold() for w in question.text.split()}
        for row, s in enumerate(sentences):
            new_numbers = numbers_in(s.text) - question.numbers
            new_number = bool(new_numbers)
            new_year = any(_is_year(x) for x in new_numbers)
            own = names[s.sentence_id] if names else ()
            folded = question.text.casefold()
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
            else:
                filled = None
            out[row, 5:12] = (
                new_number, new_year, bool(new), new_person, new_place,
                filled is True, filled is False,
            )


__all__ = ["COVERAGE_FEATURES", "WordCoverage"]
