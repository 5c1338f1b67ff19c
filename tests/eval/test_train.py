"""Training the answer model: the fits learn planted signals, deterministically (fast), and
`rag train` end to end on a SQuAD file and a JSONL file made here (slow, real model)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.answer.features import FEATURES, Candidates, QuestionFacts
from rag.answer.model import AnswerModel
from rag.eval.train import Example, fit_logistic, fit_ranker, source_weights, train, weighted_quantile
from rag.records import Sentence


def _example(rng, answerable: bool, source: str, fold: int) -> Example:
    n = 8
    matrix = rng.normal(size=(n, len(FEATURES))).astype(np.float32)
    labels = np.zeros(n, np.int8)
    if answerable:  # the right candidate stands out on 'dense' (the planted signal)
        right = int(rng.integers(n))
        matrix[right, FEATURES.index("dense")] += 3.0
        labels[right] = 1
    coverage = rng.uniform(0.7, 1.0) if answerable else rng.uniform(0.0, 0.4)  # refusal's signal
    facts = QuestionFacts(True, False, False, 0.5, 0.5, 1.0, 1.0, coverage, 0)
    sentences = tuple(Sentence(i, "d", 1, i + 1, "s.", 0, 2) for i in range(n))
    candidates = Candidates(sentences, matrix, matrix[:, 0].copy(), facts)
    return Example(candidates, labels, answerable, "same-de", fold, source)


def _examples(seed: int = 0) -> list[Example]:
    rng = np.random.default_rng(seed)
    return [_example(rng, i % 3 != 0, f"file{i % 2}", i % 4) for i in range(240)]


def test_ranker_learns_the_planted_signal():
    examples = [e for e in _examples() if e.answerable]
    matrix = np.concatenate([e.candidates.matrix for e in examples]).astype(np.float64)
    labels = np.concatenate([e.labels for e in examples])
    sizes = np.array([len(e.candidates) for e in examples])
    model = fit_ranker(matrix, labels, sizes, l2=1.0)
    weights = np.asarray(model["weights"])
    assert int(np.argmax(weights)) == FEATURES.index("dense")


def test_logistic_separates_and_weights_count():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 2))
    target = (x[:, 0] > 0).astype(float)
    model = fit_logistic(x, target, l2=0.1)
    assert model["weights"][0] > 2 * abs(model["weights"][1])
    # Weighting the positives up moves the bias up.
    heavy = fit_logistic(x, target, l2=0.1, weights=np.where(target > 0, 5.0, 1.0))
    assert heavy["bias"] > model["bias"]


def test_training_is_deterministic_and_refuses_what_it_should():
    first, second = train(_examples()), train(_examples())
    assert json.dumps(first) == json.dumps(second)
    assert set(first["thresholds"]["none"]) == set(first["thresholds"]["high"]) == {"same-de"}
    model = AnswerModel(
        ranker=AnswerModel.load().ranker.__class__.from_json(first["ranker"], FEATURES),
        refusal=AnswerModel.load().refusal.__class__.from_json(
            first["refusal"], tuple(first["refusal"]["features"])
        ),
        thresholds=first["thresholds"]["none"],
        info={},
        high_thresholds=first["thresholds"]["high"],
    )
    fresh = _examples(seed=7)  # examples the model never saw
    refused = []
    for e in fresh:
        scores = model.rank(e.candidates)
        refused.append(model.refusal_logit(e.candidates, scores) > model.threshold(e.group))
    refused = np.array(refused)
    answerable = np.array([e.answerable for e in fresh])
    assert refused[~answerable].mean() > 0.8
    assert refused[answerable].mean() < 0.15
    # The confident answers on unseen examples: mostly right, and most of the right ones.
    confident = np.array([
        model.refusal_logit(e.candidates, model.rank(e.candidates)) <= model.high_threshold(e.group)
        for e in fresh
    ])
    right = np.array([
        e.answerable and bool(e.labels[int(np.argmax(model.rank(e.candidates)))]) for e in fresh
    ])
    assert right[confident].mean() >= 0.85 and confident[right].mean() > 0.5


def test_the_high_threshold_is_the_highest_at_the_asked_precision():
    from rag.eval.train import high_threshold

    logits = np.array([-3.0, -2.0, -1.0, 0.0, 1.0, 2.0])
    wrong = np.array([0, 0, 1, 0, 1, 1], dtype=float)
    ones = np.ones(6)
    # At or below -2: 2 of 2 right; at 0: 3 of 4 (0.75); at -1: 2 of 3.
    assert high_threshold(logits, wrong, ones, 0.9) == -2.0
    assert high_threshold(logits, wrong, ones, 0.75) == 0.0
    # Weights count: the wrong one at -1 weighs nothing, so 0 is 100% right.
    assert high_threshold(logits, wrong, np.array([1, 1, 0, 1, 1, 1.0]), 0.9) == 0.0
    # Nothing is right enough: below the lowest logit, so no answer is confident.
    assert high_threshold(logits, np.ones(6), ones, 0.9) < -3.0


def test_typed_and_open_questions_split_a_pair_only_when_both_parts_are_big_enough():
    from dataclasses import replace

    from rag.eval.train import MIN_GROUP_EXAMPLES, pooled_groups

    base = _examples()[1]  # answerable
    n = MIN_GROUP_EXAMPLES

    def made(group: str, count: int) -> list[Example]:
        return [replace(base, group=group)] * count

    both = made("same-de:typed", n) + made("same-de:any", n) + made("en-de:typed", n) + made("en-de:any", 5)
    pooled = pooled_groups(both + made("fr-de:typed", 3))
    assert pooled["same-de:typed"] == "same-de:typed" and pooled["same-de:any"] == "same-de:any"
    assert pooled["en-de:typed"] == pooled["en-de:any"] == "en-de"  # one part too small: one group
    assert pooled["fr-de:typed"] == "cross-de"  # a rare pair: pooled over the text's language
    # Training sets thresholds under exactly those keys.
    examples = [
        replace(e, group="same-de:typed" if i % 2 else "same-de:any") for i, e in enumerate(_examples())
    ]
    assert set(train(examples)["thresholds"]["high"]) == {"same-de:typed", "same-de:any"}


def test_every_source_weighs_the_same_and_the_weighted_quantile():
    examples = _examples()[:30] + [_examples()[0]]  # file0: 16 examples, file1: 15
    weights = source_weights(examples)
    totals = {s: weights[[e.source == s for e in examples]].sum() for s in ("file0", "file1")}
    assert totals["file0"] == pytest.approx(totals["file1"])
    values = np.array([1.0, 2.0, 3.0, 4.0])
    assert weighted_quantile(values, np.ones(4), 0.5) == 2.0
    assert weighted_quantile(values, np.array([1.0, 1.0, 1.0, 10.0]), 0.5) == 4.0


def test_training_needs_both_kinds_of_questions():
    with pytest.raises(ValueError, match="cannot answer"):
        train([e for e in _examples() if e.answerable])
