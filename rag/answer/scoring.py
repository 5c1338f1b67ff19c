"""Score the sentences of the retrieved chunks: how well each one answers the question.

A sentence's score is cosine(question, sentence), plus ``context_weight`` x cosine(question,
sentence after the previous one), plus normalised BM25 on stemmed words and on character
trigrams and the share of the question's adjacent word pairs the sentence repeats (weights by
whether the question is in the text's language), plus ``type_bonus`` when the sentence has the
kind of content the question asks for (a number, a date). Each sentence also carries whether it
fits the asked type and whether its passage names what the question names (used by
``selection.py`` to abstain). The weights are in :class:`rag.config.Tuning`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.answer.answer_type import ANY, AnswerType, can_answer, expected_answer
from rag.answer.retrieve import Retrieval
from rag.config import Tuning
from rag.index.lexical import LexicalIndex, max_normalised
from rag.index.names import names_in_question
from rag.index.store import LoadedIndex
from rag.records import Sentence

# Sentences whose stemmed terms are kept between questions (bounds memory on large corpora).
TERM_CACHE_SIZE = 100_000


@dataclass(frozen=True)
class ScoredSentence:
    sentence: Sentence
    score: float
    dense: float
    lexical: float
    fits_type: bool = True


class SentenceScorer:
    """Scores candidate sentences. Example: ``SentenceScorer(index, Tuning()).score(retrieval, q)``."""

    def __init__(self, index: LoadedIndex, tuning: Tuning) -> None:
        self.index = index
        self.tuning = tuning
        self.titles = {d.doc_id: d.title for d in index.documents}
        self._term_cache: dict[int, list[str]] = {}
        self._title_name_cache: dict[str, set[str]] = {}

    def _terms(self, sentence_id: int) -> list[str]:
        """Stemmed terms of a sentence, computed once per loaded index (sentences never change)."""
        terms = self._term_cache.get(sentence_id)
        if terms is None:
            if len(self._term_cache) >= TERM_CACHE_SIZE:
                self._term_cache.clear()
            text = self.index.sentences[sentence_id].text
            terms = self._term_cache[sentence_id] = self.index.sentence_lexical.analyzer.terms(text)
        return terms

    def _terms_before(self, sentence: Sentence) -> list[str]:
        """Terms of the sentence before ``sentence`` in its paragraph ([] if it is the first)."""
        previous = self.index.previous_in_paragraph(sentence)
        return self._terms(previous.sentence_id) if previous is not None else []

    def expected(self, retrieval: Retrieval, question: str) -> AnswerType:
        expected = expected_answer(question, self.index.sentence_lexical.analyzer)
        # The counted noun is only checked within one language ("Mitarbeiter" vs "staff").
        return expected if retrieval.same_language else replace(expected, counted=None)

    def specific_names(self, question: str) -> tuple[str, ...]:
        """The text's names that the question mentions and only a few sentences do."""
        limit = max(2.0, self.tuning.specific_name_share * len(self.index.sentences))
        counts = self.index.name_counts
        return tuple(
            name
            for name in names_in_question(question, counts)
            if counts[name] <= limit
            and len(name) > self.tuning.min_name_chars
            and name not in self.index.place_names
        )

    def _names_in_scope(self, sentence: Sentence) -> set[str]:
        """Names of the sentence's paragraph up to it and of the paragraphs before.

        Who "er" or "sie" is can be two sentences or a paragraph back ("Er nennt
        Verlässlichkeit ..." follows a paragraph naming Dengel).
        """
        names = self.index.sentence_names
        if not names:
            return set()
        scope: set[str] = set()
        paragraphs = set()
        i = sentence.sentence_id
        while i >= 0:
            other = self.index.sentences[i]
            if other.doc_id != sentence.doc_id:
                break
            paragraphs.add(other.paragraph)
            if len(paragraphs) > 1 + self.tuning.scope_paragraphs_back:
                break
            scope.update(names[i])
            i -= 1
        return scope

    def _title_names(self, doc_id: str) -> set[str]:
        """A document's title names its topic for every sentence ("Super_Bowl_50")."""
        names = self._title_name_cache.get(doc_id)
        if names is None:
            title = self.titles.get(doc_id, "").replace("_", " ")
            names = self._title_name_cache[doc_id] = set(
                names_in_question(title, self.index.name_counts)
            )
        return names

    def _grounded(self, sentence: Sentence, specific: tuple[str, ...]) -> bool:
        """Whether the passage up to the sentence names what the question asks about."""
        if not specific:
            return True
        scope = self._names_in_scope(sentence) | self._title_names(sentence.doc_id)
        return any(name in scope for name in specific)

    def score(self, retrieval: Retrieval, question: str = "") -> list[ScoredSentence]:
        """Candidate sentences from the top ``answer_pool`` chunks, best first."""
        if not retrieval.hits:
            return []
        tuning = self.tuning
        ids = np.fromiter(
            dict.fromkeys(
                sid for hit in retrieval.hits[: tuning.answer_pool] for sid in hit.chunk.sentence_ids
            ),
            dtype=np.int64,
        )
        dense = self.index.sentence_vectors[ids] @ retrieval.query_vector
        in_context = self.index.context_vectors[ids] @ retrieval.query_vector
        word_weight, gram_weight, pair_weight = (
            tuning.same_language_weights if retrieval.same_language else tuning.cross_language_weights
        )
        question_pairs = _word_pairs(retrieval.terms)
        words = _normalised(self.index.sentence_lexical, retrieval.terms, ids)
        grams = _normalised(
            self.index.sentence_trigrams, self.index.sentence_trigrams.analyzer.terms(question), ids
        )
        expected = self.expected(retrieval, question)
        # Names are checked within one language: "France" is "Frankreich" in the text.
        specific = self.specific_names(question) if retrieval.same_language else ()
        scored = []
        for i, sid in enumerate(ids):
            sentence = self.index.sentences[int(sid)]
            terms = self._terms(sentence.sentence_id)
            fits = can_answer(sentence.text, expected, terms=self._terms_before(sentence) + terms)
            bonus = tuning.type_bonus if fits and expected.kind != ANY else 0.0
            fits = fits and self._grounded(sentence, specific)
            pairs = 0.0
            if pair_weight and question_pairs:
                shared = question_pairs & _word_pairs(terms)
                pairs = len(shared) / len(question_pairs)
            score = (
                float(dense[i])
                + tuning.context_weight * float(in_context[i])
                + word_weight * words[i]
                + gram_weight * grams[i]
                + pair_weight * pairs
                + bonus
            )
            scored.append(ScoredSentence(sentence, score, float(dense[i]), float(words[i]), fits))
        scored.sort(key=lambda s: -s.score)
        return scored


def _word_pairs(terms: Sequence[str]) -> set[tuple[str, str]]:
    return set(zip(terms, terms[1:], strict=False))


def _normalised(index: LexicalIndex, terms: Sequence[str], ids: np.ndarray) -> np.ndarray:
    """BM25 of the candidate sentences divided by the best candidate's (zeros if no match)."""
    known = index.known_terms(list(terms))
    if not known:
        return np.zeros(len(ids), dtype=np.float32)
    return max_normalised(index.scores(known)[ids])
