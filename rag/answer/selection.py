"""Pick the sentences to cite, or abstain; re-order the passages by their best sentence.

Abstains when the best sentence scores below ``min_score`` (``min_score_cross`` for a question
in another language than the text), when the question asks for a count or a date and no close
candidate holds one (``answer_type.py``), or when it names something specific ("das DFKI") and
no close candidate's passage names it (``scoring.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rag.answer.retrieve import Retrieval
from rag.answer.scoring import ScoredSentence, SentenceScorer
from rag.config import Tuning
from rag.records import Citation, Hit


@dataclass(frozen=True)
class Selection:
    citations: tuple[Citation, ...]
    abstained: bool
    best: ScoredSentence | None
    scored: tuple[ScoredSentence, ...] = ()


class AnswerSelector:
    """Scores the candidates and chooses 1-``max_citations`` of them to quote, or none."""

    def __init__(self, scorer: SentenceScorer, tuning: Tuning) -> None:
        self.scorer = scorer
        self.tuning = tuning

    def select(self, retrieval: Retrieval, question: str = "") -> Selection:
        tuning = self.tuning
        scored = tuple(self.scorer.score(retrieval, question))
        if not scored:
            return Selection((), True, None)
        top = scored[0]
        floor = tuning.min_score if retrieval.same_language else tuning.min_score_cross
        if top.score < floor:
            return Selection((), True, top, scored)
        fitting = [s for s in scored if s.fits_type and s.score >= top.score - tuning.type_margin]
        if not fitting:
            return Selection((), True, top, scored)
        best = fitting[0]
        chosen = [best]
        for candidate in fitting[1:]:
            if len(chosen) >= tuning.max_citations:
                break
            if candidate.score >= tuning.citation_ratio * best.score:
                chosen.append(candidate)
        citations = tuple(
            Citation(
                marker=n,
                sentence=s.sentence,
                score=s.score,
                doc_title=self.scorer.titles.get(s.sentence.doc_id, ""),
            )
            for n, s in enumerate(chosen, start=1)
        )
        return Selection(citations, False, best, scored)


def rerank_hits(
    hits: tuple[Hit, ...], scored: tuple[ScoredSentence, ...], weight: float
) -> tuple[Hit, ...]:
    """Order chunks by their fused score plus ``weight`` x their best sentence's score.

    The sentence scorer sees more than the chunk search (each sentence in context, trigrams),
    so it is also the better judge of which passage answers: on XQuAD it lifts hit@1 from
    0.88 to 0.89 (German questions) and from 0.75 to 0.79 (English ones).
    """
    best: dict[int, float] = {}
    for candidate in scored:
        best.setdefault(candidate.sentence.sentence_id, candidate.score)
    floor = min(best.values(), default=0.0)

    combined = [
        (hit.score + weight * max(best.get(i, floor) for i in hit.chunk.sentence_ids), hit)
        for hit in hits
    ]
    combined.sort(key=lambda pair: pair[0], reverse=True)
    return tuple(
        replace(hit, score=score, rank=rank) for rank, (score, hit) in enumerate(combined, start=1)
    )
