"""Choose the sentences that answer a question, quote them with [n] markers, or abstain.

The answer is extractive: every word inside the quotes is the document's own, so every claim
can be checked. Only the framing words follow the question's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.retrieve import Retrieval
from rag.store import LoadedIndex
from rag.types import Citation, Sentence

# How a sentence's score is made: cosine(question, sentence) plus normalised BM25 on stemmed
# words and on character trigrams (weights by whether the question is in the corpus's
# language), plus a small bonus for a number when the question asks for one. Chosen by a grid
# search on seeds/eval and the XQuAD split (README "How answers are chosen").
SAME_LANGUAGE_WEIGHTS = (0.6, 0.4)  # (words, trigrams)
CROSS_LANGUAGE_WEIGHTS = (0.0, 0.1)
NUMBER_BONUS = 0.1
ANSWER_POOL = 10  # sentences of this many top chunks compete for the citations
ASKS_FOR_NUMBER = re.compile(
    r"\b(wie viele?|wieviele?|wie hoch|wie gro(ss|ß)|wie lange|wie alt|wann|seit wann|"
    r"in welchem jahr|how many|how much|how high|how large|how long|how old|when|what year|"
    r"which year|what percentage|what share|welche[mnrs]? (anteil|summe|betrag|jahr))\b",
    re.IGNORECASE,
)
DIGIT = re.compile(r"\d")

PHRASES = {
    "de": {
        "lead": "Laut dem Text:",
        "lead_other_language": "Laut dem Text:",
        "refusal": "Dazu sagt der Text nichts.",
    },
    "en": {
        "lead": "According to the text:",
        "lead_other_language": "According to the text (quoted in the original language):",
        "refusal": "The text does not say.",
    },
}


@dataclass(frozen=True)
class ScoredSentence:
    sentence: Sentence
    score: float
    dense: float
    lexical: float
    term_coverage: float


@dataclass(frozen=True)
class Selection:
    citations: tuple[Citation, ...]
    abstained: bool
    best: ScoredSentence | None


class AnswerBuilder:
    """Scores the sentences of the retrieved chunks and picks 1-3 to quote.

    Abstains when the best sentence is neither close in meaning (dense cosine below
    ``min_dense_score``) nor shares enough of the question's words (``min_lexical_coverage``).
    """

    def __init__(
        self,
        index: LoadedIndex,
        max_citations: int = 3,
        citation_ratio: float = 0.85,
        min_dense_score: float = 0.3,
        min_lexical_coverage: float = 0.5,
    ) -> None:
        if not 1 <= max_citations <= 10:
            raise ValueError("max_citations must be between 1 and 10")
        if not 0 < citation_ratio <= 1:
            raise ValueError("citation_ratio must be in (0, 1]")
        self.index = index
        self.max_citations = max_citations
        self.citation_ratio = citation_ratio
        self.min_dense_score = min_dense_score
        self.min_lexical_coverage = min_lexical_coverage
        self._titles = {d.doc_id: d.title for d in index.documents}

    def score_sentences(self, retrieval: Retrieval, question: str = "") -> list[ScoredSentence]:
        if not retrieval.hits:
            return []
        ids = np.fromiter(
            dict.fromkeys(sid for hit in retrieval.hits[:ANSWER_POOL] for sid in hit.chunk.sentence_ids),
            dtype=np.int64,
        )
        dense = self.index.sentence_vectors[ids] @ retrieval.query_vector
        word_weight, gram_weight = (
            SAME_LANGUAGE_WEIGHTS if retrieval.same_language else CROSS_LANGUAGE_WEIGHTS
        )
        words = _normalised(self.index.sentence_lexical, retrieval.terms, ids)
        grams = _normalised(
            self.index.sentence_trigrams, self.index.sentence_trigrams.analyzer.terms(question), ids
        )
        wants_number = bool(ASKS_FOR_NUMBER.search(question))
        analyzer = self.index.sentence_lexical.analyzer
        question_terms = set(retrieval.terms)
        scored = []
        for i, sid in enumerate(ids):
            sentence = self.index.sentences[int(sid)]
            shared = question_terms & set(analyzer.terms(sentence.text))
            coverage = len(shared) / len(question_terms) if question_terms else 0.0
            number = NUMBER_BONUS if wants_number and DIGIT.search(sentence.text) else 0.0
            score = float(dense[i]) + word_weight * words[i] + gram_weight * grams[i] + number
            scored.append(ScoredSentence(sentence, score, float(dense[i]), float(words[i]), coverage))
        scored.sort(key=lambda s: -s.score)
        return scored

    def select(self, retrieval: Retrieval, question: str = "") -> Selection:
        scored = self.score_sentences(retrieval, question)
        if not scored:
            return Selection((), True, None)
        best = scored[0]
        if best.dense < self.min_dense_score and best.term_coverage < self.min_lexical_coverage:
            return Selection((), True, best)
        chosen = [best]
        for candidate in scored[1:]:
            if len(chosen) >= self.max_citations:
                break
            if candidate.score >= self.citation_ratio * best.score:
                chosen.append(candidate)
        citations = tuple(
            Citation(marker=n, sentence=s.sentence, score=s.score, doc_title=self._titles.get(s.sentence.doc_id, ""))
            for n, s in enumerate(chosen, start=1)
        )
        return Selection(citations, False, best)


def _normalised(index, terms, ids: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """BM25 of the candidate sentences divided by the best candidate's (zeros if no match)."""
    known = index.known_terms(list(terms))
    if not known:
        return np.zeros(len(ids), dtype=np.float32)
    scores = index.scores(known)[ids]
    top = float(scores.max())
    return scores / top if top > 0 else scores


def compose_text(citations: tuple[Citation, ...], language: str, source_language: str) -> str:
    """The answer shown to the user: a short lead in the question's language, then the quotes."""
    phrases = PHRASES.get(language, PHRASES["en"])
    if not citations:
        return phrases["refusal"]
    lead = phrases["lead"] if language == source_language else phrases["lead_other_language"]
    quotes = " ".join(f"{c.sentence.text} [{c.marker}]" for c in citations)
    return f"{lead} {quotes}"
