"""The learned sentence ranker and refusal model: two linear models stored as plain JSON numbers.

The ranker scores every candidate (``features.py``); the best one is quoted first. The refusal
model reads the ranked pool (the best score, its margin and share, the best candidate's own
features, how much of the question the text matches at all) and gives the log-odds that the
text does not hold the answer; above the threshold of the question's group (same or other
language than the text, and the text's language) the answer is "the text does not say".

Both are trained by ``rag train`` (``rag/eval/train.py``) on questions whose gold paragraph is
known, the refusal model on near-miss copies of them asked with that paragraph withheld. The
shipped file ``rag/answer/answer_model.json`` records its training data and settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.features import COLUMN, FEATURES, Candidates
from rag.config import Tuning

FORMAT = 2  # 2: the support model's target is "the first citation is wrong"; two thresholds
DEFAULT_MODEL_FILE = Path(__file__).with_name("answer_model.json")
# The best candidate's features the refusal model reads, and the pool-wide maxima.
TOP_FEATURES = (
    "dense", "context", "words_same", "trigrams_same", "trigrams_cross", "qshare_same",
    "qshare_cross", "typed_fits", "typed_misses", "names_grounded", "names_ungrounded",
    "chunk_rank_inv", "same_para_top_hit",
    "cov_mean", "cov_min", "cov_key_min", "cov_known", "new_number", "new_name", "new_person",
    "slot_filled", "slot_unfilled", "cov_own_mean", "cov_own_min",
)
POOL_MAX_FEATURES = ("qshare_same", "qshare_cross", "typed_fits", "names_grounded", "cov_mean", "cov_key_min")
DEFAULT_TUNING = Tuning()  # close_to_best and margin_alone, as the shipped model was trained
REFUSAL_FEATURES: tuple[str, ...] = (
    "top_score", "margin", "top_prob",
    *(f"top_{name}" for name in TOP_FEATURES),
    "pool_max_qshare_same", "pool_max_qshare_cross", "pool_any_fit", "pool_any_grounded",
    "pool_max_cov_mean", "pool_max_cov_key_min",
    "same", "typed", "has_names", "top_hit_dense", "max_hit_dense", "top_hit_bm25_same",
    "max_hit_bm25_same", "max_hit_bm25_cross",
    "coverage_same", "coverage_cross", "unknown_names_same", "unknown_names_cross",
    "top_base_same", "top_base_cross", "no_close_fit", "question_words",
)


class AnswerModelError(RuntimeError):
    """The model file is missing, damaged or was made for other features; the message says which."""


@dataclass(frozen=True)
class LinearModel:
    """``x @ weights + bias`` on features standardised with ``mean``/``scale`` (folded in)."""

    features: tuple[str, ...]
    weights: np.ndarray
    bias: float

    @classmethod
    def from_json(cls, data: dict[str, Any], expected: tuple[str, ...]) -> LinearModel:
        features = tuple(data["features"])
        if features != expected:
            raise AnswerModelError("the model was trained on other features; run `rag train` again")
        scale = np.asarray(data["scale"], np.float64)
        weights = np.asarray(data["weights"], np.float64) / scale
        bias = float(data.get("bias", 0.0)) - float(np.asarray(data["mean"], np.float64) @ weights)
        return cls(features, weights, bias)

    def __call__(self, matrix: np.ndarray) -> np.ndarray:
        return np.asarray(matrix, np.float64) @ self.weights + self.bias


def refusal_inputs(candidates: Candidates, scores: np.ndarray, tuning: Tuning = DEFAULT_TUNING) -> np.ndarray:
    """The refusal model's input row for one question (see ``REFUSAL_FEATURES``)."""
    matrix, facts = candidates.matrix, candidates.facts
    best = int(np.argmax(scores))
    top = float(scores[best])
    second = float(np.partition(scores, -2)[-2]) if len(scores) > 1 else top - tuning.margin_alone
    share = 1.0 / float(np.exp(scores - top).sum())
    same = float(facts.same_language)
    row = [
        top, top - second, share,
        *(float(matrix[best, COLUMN[name]]) for name in TOP_FEATURES),
        *(float(matrix[:, COLUMN[name]].max()) for name in POOL_MAX_FEATURES),
        same, float(facts.typed), float(facts.names_something), facts.top_hit_dense, facts.max_hit_dense,
        facts.top_hit_bm25 * same, facts.max_hit_bm25 * same, facts.max_hit_bm25 * (1 - same),
        facts.corpus_coverage * same, facts.corpus_coverage * (1 - same),
        min(facts.unknown_names, 3) * same, min(facts.unknown_names, 3) * (1 - same),
        float(candidates.base.max()) * same, float(candidates.base.max()) * (1 - same),
        _no_close_fit(candidates, tuning.close_to_best), float(min(facts.question_words, 8)),
    ]
    return np.asarray(row, np.float64)


def _no_close_fit(candidates: Candidates, close_to_best: float) -> float:
    """1 when the question asks for a type of answer or names something and no candidate close
    to the best base score holds such an answer and names it (the old answer-type and name
    checks, which used to veto; now the refusal model weighs them)."""
    facts, matrix = candidates.facts, candidates.matrix
    if not (facts.typed or facts.names_something):
        return 0.0
    close = candidates.base >= candidates.base.max() - close_to_best
    fits = matrix[:, COLUMN["typed_misses"]] == 0
    grounded = matrix[:, COLUMN["names_ungrounded"]] == 0
    return float(not np.any(close & fits & grounded))


def refusal_group(
    same_language: bool, text_language: str, question_language: str = "", typed: bool | None = None
) -> str:
    """Questions are held against thresholds per group: ``same-de`` (a question in the
    language of the German text it asks about), ``en-de`` (an English one about a German
    text), ``cross-de`` when the question's language is not given. How well the support model
    separates right from wrong answers differs by language pair (a Thai question on a German
    text shares no words with it), so each pair seen in training gets its own thresholds.
    ``typed`` adds whether the question asks for something in particular (a number, a date,
    a person, a name, a place, a reason: ``same-de:typed``) or not (``same-de:any``): whether
    the sentence holds that is evidence of its own, so typed questions earn confidence at
    other scores than open ones."""
    pair = f"same-{text_language}" if same_language else f"{question_language or 'cross'}-{text_language}"
    if typed is None:
        return pair
    return f"{pair}:{'typed' if typed else 'any'}"


def _closest(thresholds: dict[str, float], group: str) -> float:
    """The group's threshold; else its language pair's (``en-de:typed`` -> ``en-de``); a pair
    not seen in training takes the strictest of the other language pairs on texts of its
    language (``fr-de`` -> the lowest of ``en-de``, ``ru-de`` ...), else the strictest known."""
    if group in thresholds:
        return thresholds[group]
    group = group.partition(":")[0]
    if group in thresholds:
        return thresholds[group]
    kind, _, text = group.rpartition("-")
    if kind != "same" and f"cross-{text}" in thresholds:
        return thresholds[f"cross-{text}"]
    if kind == "same":
        same = [t for g, t in thresholds.items() if g.startswith("same-")]
        return min(same) if same else min(thresholds.values())
    other = [
        t for g, t in thresholds.items()
        if g.partition(":")[0].endswith("-" + text) and not g.startswith("same-")
    ]
    return min(other) if other else min(thresholds.values())


@dataclass(frozen=True)
class AnswerModel:
    """Ranker, support model and its two thresholds per group, as loaded from one JSON file.

    The support model ("refusal" in the file) gives the log-odds that the first citation would
    be wrong or the text cannot answer. At or below the group's ``high`` threshold the answer
    is given with confidence (set in training so that at least 90% of such answers were right),
    above its ``thresholds`` ("none") the text does not say, in between the closest passage is
    shown as what it is.
    """

    ranker: LinearModel
    refusal: LinearModel
    thresholds: dict[str, float]
    info: dict[str, Any]
    high_thresholds: dict[str, float] = field(default_factory=dict)

    def rank(self, candidates: Candidates) -> np.ndarray:
        """One score per candidate; higher is a better answer."""
        return self.ranker(candidates.matrix)

    def refusal_logit(
        self, candidates: Candidates, scores: np.ndarray, tuning: Tuning = DEFAULT_TUNING
    ) -> float:
        """Log-odds that the text does not answer (higher: refuse)."""
        return float(self.refusal(refusal_inputs(candidates, scores, tuning)[None, :])[0])

    def threshold(self, group: str) -> float:
        """Above this the text does not say (see :func:`_closest` for unseen groups)."""
        return _closest(self.thresholds, group)

    def high_threshold(self, group: str) -> float:
        """At or below this the answer is confident (never above :meth:`threshold`)."""
        if not self.high_thresholds:
            return self.threshold(group)
        return min(_closest(self.high_thresholds, group), self.threshold(group))

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL_FILE) -> AnswerModel:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise AnswerModelError(f"answer model {path} is missing; run `rag train`") from exc
        except (OSError, ValueError) as exc:
            raise AnswerModelError(f"answer model {path} cannot be read: {exc}") from exc
        try:
            if data.get("format") != FORMAT:
                raise AnswerModelError(f"answer model {path} has format {data.get('format')}, not {FORMAT}")
            ranker = LinearModel.from_json(data["ranker"], FEATURES)
            refusal = LinearModel.from_json(data["refusal"], REFUSAL_FEATURES)
            thresholds = {str(k): float(v) for k, v in data["thresholds"]["none"].items()}
            high = {str(k): float(v) for k, v in data["thresholds"]["high"].items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise AnswerModelError(f"answer model {path} is damaged ({exc})") from exc
        if not thresholds:
            raise AnswerModelError(f"answer model {path} has no refusal thresholds")
        return cls(ranker, refusal, thresholds, dict(data.get("training", {})), high)
