"""Batch evaluation: pure metric functions, question loaders and a runner over a pipeline.

The metrics only look at what the pipeline returned (hits, citations, abstention, timings), so
they measure whatever the retrieval and answer logic currently do. Two kinds of gold answers:

- the project's JSONL format: answer *strings*; a chunk or sentence hits when it contains one
  of them after :func:`normalize` (NFC, case folding, collapsed white space);
- SQuAD/XQuAD: an answer *span*; a chunk hits when it lies in the right paragraph document
  and covers the span's character offsets (the retrieval definition); a cited sentence hits
  when it is in the right paragraph and contains the answer string (the citation definition:
  "contains an answer string"), so the same name quoted again a sentence later also counts.

Example::

    questions = load_questions(Path("seeds/eval/article.jsonl"))
    report, results = run_eval(Pipeline.open(Settings()), questions, config={"name": "article"})
    print(report["retrieval"]["hit@5"])
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from rag.eval.questions import EvalQuestion, normalize_for_match
from rag.query.clean import QuestionError
from rag.records import Answer

HIT_KS = (1, 3, 5, 10)
SEARCH_K = max(HIT_KS)  # hits retrieved per question, so hit@10 and MRR@10 can be measured

# The report's blocks and their figures, in order (by_language repeats all but config).
BLOCKS: dict[str, tuple[str, ...]] = {
    "counts": ("questions", "answerable", "unanswerable"),
    "retrieval": tuple(f"hit@{k}" for k in HIT_KS) + ("mrr",),
    "answer": ("top_citation_hit", "any_citation_hit", "citation_precision", "mean_citations"),
    "abstention": (
        "refused_unanswerable", "refused_answerable",
        *(f"refused_unanswerable@{rate:.0%}" for rate in (0.01, 0.05, 0.10)),
    ),
    "support": (
        "high", "high_precision", "low", "low_precision", "none", "none_precision",
        "answerable_right_high", "unanswerable_high", "answerable_none",
        "separation_auc", *(f"best_right_high@{aim:.0%}" for aim in (0.85, 0.88, 0.92)),
    ),
    "latency_ms": ("p50", "p95"),
}
ROUND = 4  # decimals kept in report.json


# --------------------------------------------------------------------------- matching

# NFC, case folding (so ß matches ss), white space collapsed: the one rule for answer strings.
normalize = normalize_for_match


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Whether ``text`` contains one of ``answers`` (both normalized)."""
    haystack = normalize(text)
    return any((needle := normalize(a)) and needle in haystack for a in answers)


def covers_span(doc_id: str, start: int, end: int, q: EvalQuestion) -> bool:
    """Whether the passage ``doc_id[start:end]`` holds the question's gold span."""
    return doc_id == q.doc_id and start <= q.answer_start <= q.answer_end <= end  # type: ignore[operator]


def passage_hits(q: EvalQuestion, doc_id: str, start: int, end: int, text: str) -> bool:
    """The one rule for chunks and sentences: the span when there is one, else the strings."""
    if not q.answerable:
        return False
    if q.has_span:
        return covers_span(doc_id, start, end, q)
    return contains_answer(text, q.answers)


def citation_hits(q: EvalQuestion, doc_id: str, start: int, end: int, text: str) -> bool:
    """A cited sentence answers when it contains an answer string (SQuAD: in the gold paragraph)."""
    if not q.answerable:
        return False
    if q.has_span:
        return doc_id == q.doc_id and (
            covers_span(doc_id, start, end, q) or contains_answer(text, q.answers)
        )
    return contains_answer(text, q.answers)


# --------------------------------------------------------------------------- pure metrics


def first_hit_rank(flags: Sequence[bool]) -> int | None:
    """1-based rank of the first True, None when there is none."""
    return next((rank for rank, flag in enumerate(flags, start=1) if flag), None)


def share(count: int, total: int) -> float | None:
    """count / total, None when there is nothing to count (total 0)."""
    return count / total if total else None


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def hit_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of (answerable) questions whose first relevant hit has rank <= k."""
    return share(sum(1 for r in ranks if r is not None and r <= k), len(ranks))


def mrr(ranks: Sequence[int | None]) -> float | None:
    """Mean reciprocal rank; a question without a relevant hit in the searched list counts 0."""
    return mean([1.0 / r if r else 0.0 for r in ranks])


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    if not 0 <= p <= 100:
        raise ValueError("p must be between 0 and 100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class QuestionResult:
    """What happened to one question: all the metrics are computed from these."""

    qid: str
    lang: str
    question: str
    answers: tuple[str, ...]
    rank: int | None  # of the first relevant chunk among the top SEARCH_K; None: not found
    citation_hits: tuple[bool, ...]  # per citation, in the answer's order
    cited: tuple[str, ...]  # the cited sentences' text
    abstained: bool
    latency_ms: float
    top_chunk: str = ""
    refusal_score: float | None = None  # the refusal model's log-odds (None: nothing retrieved)
    confidence: str = ""  # "high", "low" or "none" (rag.records.Answer.confidence)

    def __post_init__(self) -> None:
        if not self.confidence:
            object.__setattr__(self, "confidence", "none" if self.abstained else "high")

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.qid,
            "lang": self.lang,
            "question": self.question,
            "answers": list(self.answers),
            "rank": self.rank,
            "confidence": self.confidence,
            "abstained": self.abstained,
            "cited": list(self.cited),
            "citation_hits": list(self.citation_hits),
            "latency_ms": round(self.latency_ms, 3),
            "top_chunk": self.top_chunk,
            "refusal_score": None if self.refusal_score is None else round(self.refusal_score, 4),
        }


def judge(q: EvalQuestion, answer: Any, search_k: int = SEARCH_K) -> QuestionResult:
    """Score one :class:`rag.records.Answer` against its question."""
    chunks = [h.chunk for h in answer.hits[:search_k]]
    chunk_flags = [passage_hits(q, c.doc_id, c.start, c.end, c.text) for c in chunks]
    sentences = [c.sentence for c in answer.citations]
    return QuestionResult(
        qid=q.qid,
        lang=q.lang,
        question=q.question,
        answers=q.answers,
        rank=first_hit_rank(chunk_flags) if q.answerable else None,
        citation_hits=tuple(citation_hits(q, s.doc_id, s.start, s.end, s.text) for s in sentences),
        cited=tuple(s.text for s in sentences),
        abstained=bool(answer.abstained),
        latency_ms=float(answer.timings_ms.get("total", 0.0)),
        top_chunk=answer.hits[0].chunk.text if answer.hits else "",
        refusal_score=getattr(answer, "refusal_score", None),
        confidence=getattr(answer, "confidence", ""),
    )


def summarize(results: Sequence[QuestionResult]) -> dict[str, dict[str, Any]]:
    """The figure blocks (all but config) for a set of results, unrounded."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    ranks = [r.rank for r in answerable]
    answered = [r for r in answerable if not r.abstained]
    flags = [flag for r in answerable for flag in r.citation_hits]
    return {
        "counts": {
            "questions": len(results),
            "answerable": len(answerable),
            "unanswerable": len(unanswerable),
        },
        "retrieval": {**{f"hit@{k}": hit_at_k(ranks, k) for k in HIT_KS}, "mrr": mrr(ranks)},
        "answer": {
            "top_citation_hit": share(
                sum(1 for r in answerable if r.citation_hits and r.citation_hits[0]), len(answerable)
            ),
            "any_citation_hit": share(sum(1 for r in answerable if any(r.citation_hits)), len(answerable)),
            "citation_precision": share(sum(flags), len(flags)),
            # per answerable question that was answered (an abstention has no citations to count)
            "mean_citations": mean([len(r.cited) for r in answered]),
        },
        "abstention": {
            "refused_unanswerable": share(sum(r.abstained for r in unanswerable), len(unanswerable)),
            "refused_answerable": share(sum(r.abstained for r in answerable), len(answerable)),
            **{
                f"refused_unanswerable@{rate:.0%}": refused_at(answerable, unanswerable, rate)
                for rate in (0.01, 0.05, 0.10)
            },
        },
        "support": support_levels(results),
        "latency_ms": {
            "p50": percentile([r.latency_ms for r in results], 50),
            "p95": percentile([r.latency_ms for r in results], 95),
        },
    }


def first_citation_right(r: QuestionResult) -> bool:
    return r.answerable and bool(r.citation_hits) and r.citation_hits[0]


def support_levels(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    """Each level's share of the questions and its precision (high and low: the first citation
    holds the answer; none: the text indeed cannot answer), the share of answerable questions
    answered right and with confidence, of unanswerable ones answered with confidence, and of
    answerable ones refused outright."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    block: dict[str, float | None] = {}
    for level in ("high", "low", "none"):
        at = [r for r in results if r.confidence == level]
        block[level] = share(len(at), len(results))
        if level == "none":
            right = sum(not r.answerable for r in at)
        else:
            right = sum(first_citation_right(r) for r in at)
        block[f"{level}_precision"] = share(right, len(at))
    block["answerable_right_high"] = share(
        sum(r.confidence == "high" and first_citation_right(r) for r in answerable), len(answerable)
    )
    block["unanswerable_high"] = share(sum(r.confidence == "high" for r in unanswerable), len(unanswerable))
    block["answerable_none"] = share(sum(r.confidence == "none" for r in answerable), len(answerable))
    block["separation_auc"] = separation_auc(results)
    for aim in (0.85, 0.88, 0.92):
        block[f"best_right_high@{aim:.0%}"] = best_right_high(results, aim)
    return block


def separation_auc(results: Sequence[QuestionResult]) -> float | None:
    """How well the support score orders wrong answers (an unanswerable question, or a first
    citation without the answer) above right ones: the chance that a random wrong one scores
    higher than a random right one (ties count half); 0.5 is chance, 1 perfect."""
    scores = _refusal_scores(results)
    wrong = np.array([not first_citation_right(r) for r in results], dtype=bool)
    n_wrong, n_right = int(wrong.sum()), int((~wrong).sum())
    if not n_wrong or not n_right:
        return None
    from scipy.stats import rankdata

    ranks = rankdata(scores)  # ties share their mean rank
    return float((ranks[wrong].sum() - n_wrong * (n_wrong + 1) / 2) / (n_wrong * n_right))


def best_right_high(results: Sequence[QuestionResult], precision: float) -> float | None:
    """The largest share of answerable questions answered right and confidently that one "high"
    threshold on the support score could give while ``precision`` of the confident answers are
    right, the threshold chosen on these very results (in sample: a ceiling, not a figure of
    the system). When it falls short of an aim, no threshold reaches it; only a support model
    that ranks right answers better does."""
    answerable = sum(r.answerable for r in results)
    if not answerable:
        return None
    order = np.argsort(_refusal_scores(results), kind="stable")
    right = np.cumsum([first_citation_right(results[int(i)]) for i in order])
    taken = np.arange(1, len(order) + 1)
    ok = np.flatnonzero(right >= precision * taken)
    return float(right[ok[-1]]) / answerable if len(ok) else 0.0


def _refusal_scores(results: Sequence[QuestionResult]) -> np.ndarray:
    """Refusal log-odds; a question with nothing retrieved counts as refused for sure."""
    return np.array([1e9 if r.refusal_score is None else r.refusal_score for r in results])


def refused_at(
    answerable: Sequence[QuestionResult], unanswerable: Sequence[QuestionResult], rate: float
) -> float | None:
    """Share of the unanswerable questions refused when the refusal threshold is moved until
    ``rate`` of the answerable ones are refused (the trade-off the threshold chooses on)."""
    if not answerable or not unanswerable:
        return None
    threshold = float(np.quantile(_refusal_scores(answerable), 1 - rate))
    return float(np.mean(_refusal_scores(unanswerable) > threshold))


def risk_coverage(results: Sequence[QuestionResult]) -> tuple[list[float], list[float]]:
    """Answering the questions in order of confidence (lowest refusal score first): the share
    answered (coverage) and the share of those answered wrongly (risk) after each one. Wrong
    is an unanswerable question answered or a first citation without the answer."""
    order = np.argsort(_refusal_scores(results), kind="stable")
    coverage, risk, wrong = [], [], 0
    for k, i in enumerate(order, start=1):
        r = results[int(i)]
        wrong += (not r.answerable) or not (r.citation_hits and r.citation_hits[0])
        coverage.append(k / len(results))
        risk.append(wrong / k)
    return coverage, risk


def _rounded(value: Any, digits: int) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, digits)
    return value


def build_report(results: Sequence[QuestionResult], config: dict[str, Any]) -> dict[str, Any]:
    """report.json's content: config, the figure blocks, and the same blocks per language."""
    languages = sorted({r.lang for r in results})
    report: dict[str, Any] = {"config": dict(config)}
    report.update(_rounded(summarize(results), ROUND))
    report["by_language"] = {
        lang: _rounded(summarize([r for r in results if r.lang == lang]), ROUND) for lang in languages
    }
    return report


# --------------------------------------------------------------------------- runner


@dataclass
class RunOptions:
    search_k: int = SEARCH_K
    progress: bool = True
    desc: str = "eval"
    warm_up: bool = True  # one untimed question first, so lazy loading is not in the latencies


def run_eval(
    pipeline: Any,
    questions: Sequence[EvalQuestion],
    config: dict[str, Any] | None = None,
    options: RunOptions | None = None,
    on_result: Callable[[QuestionResult], None] | None = None,
) -> tuple[dict[str, Any], list[QuestionResult]]:
    """Ask every question once and return ``(report, per-question results)``.

    ``pipeline`` is a :class:`rag.pipeline.Pipeline` (anything with ``ask(q, search_k=...)``).
    """
    options = options or RunOptions()
    if options.warm_up and questions:
        pipeline.ask(questions[0].question, search_k=options.search_k)
    results = []
    for q in tqdm(questions, desc=options.desc, unit="q", file=sys.stderr, disable=not options.progress):
        try:
            answer = pipeline.ask(q.question, search_k=options.search_k, withhold=frozenset(q.withheld))
        except QuestionError:  # declined as typed (e.g. a language the model cannot read)
            answer = Answer(q.question, "", "", (), (), abstained=True)
        result = judge(q, answer, options.search_k)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return build_report(results, config or {}), results


# --------------------------------------------------------------------------- worst cases and thresholds


def worst_cases(results: Sequence[QuestionResult], limit: int = 10) -> list[tuple[QuestionResult, str]]:
    """The most instructive failures, worst first, each with a short description of what went wrong."""
    graded: list[tuple[int, int, int, QuestionResult, str]] = []
    for i, r in enumerate(results):
        if r.answerable:
            if r.citation_hits and r.citation_hits[0]:
                continue
            rank = r.rank if r.rank is not None else SEARCH_K + 1
            found = f"found at rank {r.rank}" if r.rank else f"not in the top {SEARCH_K}"
            if any(r.citation_hits):
                graded.append((1, rank, i, r, f"first citation wrong, a later one right ({found})"))
            elif r.abstained:
                graded.append((2, rank, i, r, f"refused ({found})"))
            else:
                graded.append((3, rank, i, r, f"cited the wrong sentences ({found})"))
        elif not r.abstained:
            # after the answerable questions cited wrongly: those show what retrieval misses
            graded.append((3, 0, i, r, "answered a question the text cannot answer"))
    graded.sort(key=lambda g: (-g[0], -g[1], g[2]))
    return [(g[3], g[4]) for g in graded[:limit]]


def parse_threshold(text: str) -> tuple[str, float]:
    """``"hit@5=0.8"`` -> ``("hit@5", 0.8)``; the metric name is checked against :data:`BLOCKS`."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"expected METRIC=VALUE, got {text!r}")
    try:
        number = float(value)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {value.strip()!r} is not a number") from exc
    leaf = name.rsplit(".", 1)[-1]
    if not any(leaf in names for names in BLOCKS.values()):
        known = ", ".join(n for names in BLOCKS.values() for n in names)
        raise ValueError(f"{text!r}: unknown metric {leaf!r} (known: {known})")
    return name, number


def lookup(report: dict[str, Any], name: str) -> Any:
    """A figure by name: ``hit@5``, ``retrieval.hit@5``, ``by_language.de.hit@5`` or
    ``by_language.de.retrieval.hit@5``. Raises KeyError for a name that is not in the report."""
    parts = name.split(".")
    node: dict[str, Any] = report
    if parts[0] == "by_language":
        if len(parts) < 3:
            raise KeyError(name)
        node = report["by_language"][parts[1]]
        parts = parts[2:]
    if len(parts) == 1:
        block = next((b for b, names in BLOCKS.items() if parts[0] in names), None)
        if block is None:
            raise KeyError(name)
        parts = [block, parts[0]]
    if len(parts) != 2 or parts[0] not in BLOCKS:
        raise KeyError(name)
    return node[parts[0]][parts[1]]


def check_thresholds(report: dict[str, Any], thresholds: Sequence[tuple[str, float]]) -> list[str]:
    """One message per figure that falls short (a missing or null figure falls short too)."""
    failures = []
    for name, minimum in thresholds:
        try:
            value = lookup(report, name)
        except KeyError:
            failures.append(f"{name}: not in the report")
            continue
        if value is None:
            failures.append(f"{name}: no questions to measure it on (null), required >= {minimum:g}")
        elif value < minimum:
            failures.append(f"{name} = {value:g}, required >= {minimum:g}")
    return failures
