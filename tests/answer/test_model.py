"""The shipped answer model file, loading it, and its refusal thresholds (fast, no encoder)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.answer.features import FEATURES, Candidates, QuestionFacts
from rag.answer.model import (
    DEFAULT_MODEL_FILE,
    REFUSAL_FEATURES,
    AnswerModel,
    AnswerModelError,
    refusal_group,
    refusal_inputs,
)
from rag.records import Sentence


def test_shipped_model_is_small_plain_json_with_its_training_record():
    raw = DEFAULT_MODEL_FILE.read_bytes()
    assert len(raw) <= 1_000_000
    data = json.loads(raw)
    assert data["ranker"]["features"] == list(FEATURES)
    assert data["refusal"]["features"] == list(REFUSAL_FEATURES)
    training = data["training"]
    # Trained on some XQuAD articles only, the rest kept for out-of-sample figures.
    assert training["articles"] == list(range(16))
    assert all(len(f["sha256"]) == 64 and "/" not in f["file"] for f in training["files"])
    none, high = data["thresholds"]["none"], data["thresholds"]["high"]
    assert set(none) == set(high)
    # The main language pairs have thresholds, split into typed and open questions where both
    # parts had enough training questions.
    pairs = {g.partition(":")[0] for g in none}
    assert {"same-de", "en-de", "same-en"} <= pairs and any(g.endswith(":typed") for g in none)
    # A confident answer needs more support than one that is given at all.
    assert all(high[g] <= none[g] for g in none)
    model = AnswerModel.load()
    assert model.ranker.features == FEATURES and np.isfinite(model.ranker.weights).all()


def _candidates(n: int, same: bool = True) -> Candidates:
    rng = np.random.default_rng(n)
    sentences = tuple(Sentence(i, "d", 1, i + 1, f"Satz {i}.", 10 * i, 10 * i + 7) for i in range(n))
    facts = QuestionFacts(same, False, False, 0.5, 0.6, 1.0, 1.2, 0.8, 0)
    matrix = rng.normal(size=(n, len(FEATURES))).astype(np.float32)
    return Candidates(sentences, matrix, rng.normal(size=n).astype(np.float32), facts)


def test_refusal_inputs_have_one_value_per_feature_and_follow_the_best_candidate():
    candidates = _candidates(6)
    scores = np.array([0.1, 2.0, 0.3, -1.0, 0.0, 0.5])
    row = refusal_inputs(candidates, scores)
    assert row.shape == (len(REFUSAL_FEATURES),)
    named = dict(zip(REFUSAL_FEATURES, row, strict=True))
    assert named["top_score"] == 2.0 and named["margin"] == pytest.approx(1.5)
    assert named["top_dense"] == pytest.approx(candidates.matrix[1, FEATURES.index("dense")])
    assert 0 < named["top_prob"] < 1
    alone = refusal_inputs(_candidates(1), np.array([0.7]))
    assert dict(zip(REFUSAL_FEATURES, alone, strict=True))["top_prob"] == 1.0


@pytest.mark.parametrize("same", [True, False], ids=["same language", "other language"])
def test_refusal_inputs_put_question_facts_on_their_language_side_only(same):
    """Each language-dependent fact feeds its "_same" or its "_cross" input, the other is zero:
    the refusal model weighs BM25 and coverage differently across languages."""
    from dataclasses import replace

    base = _candidates(4, same=same)
    candidates = replace(base, facts=replace(base.facts, unknown_names=5))  # counted up to 3
    facts = candidates.facts
    row = refusal_inputs(candidates, np.array([0.2, 1.0, 0.4, 0.9]))
    named = dict(zip(REFUSAL_FEATURES, row, strict=True))
    on, off = ("same", "cross") if same else ("cross", "same")
    expected = {
        "max_hit_bm25": facts.max_hit_bm25, "coverage": facts.corpus_coverage,
        "unknown_names": min(facts.unknown_names, 3), "top_base": float(candidates.base.max()),
    }
    for name, value in expected.items():
        assert named[f"{name}_{on}"] == pytest.approx(value) and named[f"{name}_{off}"] == 0.0
    assert named["top_hit_bm25_same"] == (pytest.approx(facts.top_hit_bm25) if same else 0.0)
    assert named["same"] == float(same)
    assert named["margin"] == pytest.approx(0.1)  # the best against the second best


def test_a_pool_of_one_sentence_has_the_fixed_margin():
    from rag.config import Tuning

    MARGIN_ALONE = Tuning().margin_alone

    named = dict(zip(REFUSAL_FEATURES, refusal_inputs(_candidates(1), np.array([0.7])), strict=True))
    assert named["margin"] == MARGIN_ALONE


def test_threshold_of_an_unseen_group_falls_back_to_its_kind():
    from dataclasses import replace

    model = replace(
        AnswerModel.load(),
        thresholds={"same-de": 3.0, "same-en": 2.0, "en-de": 1.5, "ru-de": 1.0, "cross-en": 2.5},
        high_thresholds={"same-de": -1.0, "same-en": -2.0, "en-de": -1.5, "ru-de": 4.0, "cross-en": 0.0},
    )
    assert model.threshold("same-de") == 3.0 and model.threshold("en-de") == 1.5
    assert model.threshold("fr-en") == 2.5  # a rare pair on English text: the pooled cross-en
    assert model.threshold("fr-de") == 1.0  # unseen on German text: the strictest pair
    assert model.threshold("same-fr") == 2.0  # the strictest same-language group
    # The "high" threshold never lies above the "none" one.
    assert model.high_threshold("en-de") == -1.5 and model.high_threshold("ru-de") == 1.0
    assert refusal_group(False, "en") == "cross-en"
    assert refusal_group(False, "de", "ru") == "ru-de" and refusal_group(True, "de", "de") == "same-de"
    # Typed and open questions of a pair: their own thresholds when trained, else the pair's.
    assert refusal_group(True, "de", "de", typed=True) == "same-de:typed"
    assert refusal_group(False, "de", "en", typed=False) == "en-de:any"
    split = replace(model, thresholds={**model.thresholds, "same-de:typed": 3.5})
    assert split.threshold("same-de:typed") == 3.5 and split.threshold("same-de:any") == 3.0
    assert split.threshold("en-de:typed") == 1.5 and split.threshold("fr-en:any") == 2.5
    assert split.threshold("fr-de:typed") == 1.0
    # A kind that no group of the model has: the strictest (lowest) threshold of all.
    two = replace(model, thresholds={"same-de": 1.0, "en-de": -2.0})
    assert two.threshold("odd-xx") == -2.0


def test_a_damaged_or_foreign_model_file_is_one_clear_error(tmp_path):
    with pytest.raises(AnswerModelError, match="missing"):
        AnswerModel.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(AnswerModelError, match="cannot be read"):
        AnswerModel.load(tmp_path / "bad.json")
    data = json.loads(DEFAULT_MODEL_FILE.read_text(encoding="utf-8"))
    data["ranker"]["features"] = data["ranker"]["features"][:-1]
    (tmp_path / "other.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(AnswerModelError, match="other features"):
        AnswerModel.load(tmp_path / "other.json")
    data = json.loads(DEFAULT_MODEL_FILE.read_text(encoding="utf-8"))
    del data["thresholds"]
    (tmp_path / "partial.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(AnswerModelError, match="damaged"):
        AnswerModel.load(tmp_path / "partial.json")
    data = json.loads(DEFAULT_MODEL_FILE.read_text(encoding="utf-8"))
    data["format"] = 99  # a file of another version of the program
    (tmp_path / "newer.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(AnswerModelError, match=r"newer\.json has format 99, not 2$"):
        AnswerModel.load(tmp_path / "newer.json")


def test_the_ranker_prefers_what_it_was_trained_to():
    """The shipped ranker scores a candidate with the best dense and context match and the best
    chunk above an otherwise identical one that is worse on those."""
    model = AnswerModel.load()
    good, bad = np.zeros(len(FEATURES)), np.zeros(len(FEATURES))
    for name, value in (("dense", 0.6), ("context", 0.6), ("chunk_rank_inv", 1.0), ("is_base_top", 1.0)):
        good[FEATURES.index(name)] = value
    for name, value in (("dense", 0.2), ("context", 0.2), ("chunk_rank_inv", 0.2), ("dense_gap", -0.4),
                        ("context_gap", -0.4), ("base_gap", -0.8), ("chunk_fused_gap", -0.5)):
        bad[FEATURES.index(name)] = value
    good[FEATURES.index("base_rank_inv")], bad[FEATURES.index("base_rank_inv")] = 1.0, 0.2
    scores = model.ranker(np.stack([good, bad]))
    assert scores[0] > scores[1]


def test_no_close_fit_is_one_only_when_no_candidate_near_the_best_fits_and_is_grounded():
    """The last refusal input: for a typed or naming question, 1 when no candidate within
    CLOSE_TO_BEST of the best base score has zero typed misses and zero ungrounded names."""
    from dataclasses import replace

    from rag.answer.features import COLUMN
    from rag.config import Tuning

    CLOSE_TO_BEST = Tuning().close_to_best

    base = _candidates(3)
    typed = replace(base, facts=replace(base.facts, typed=True),
                    base=np.array([1.0, 1.0 - CLOSE_TO_BEST / 2, 1.0 - 2 * CLOSE_TO_BEST], np.float32))

    def no_close_fit(misses: list[float], ungrounded: list[float], candidates=typed) -> float:  # noqa: ANN001
        matrix = candidates.matrix.copy()
        matrix[:, COLUMN["typed_misses"]] = misses
        matrix[:, COLUMN["names_ungrounded"]] = ungrounded
        row = refusal_inputs(replace(candidates, matrix=matrix), np.array([0.3, 0.2, 0.1]))
        return dict(zip(REFUSAL_FEATURES, row, strict=True))["no_close_fit"]

    assert no_close_fit([0, 1, 1], [0, 0, 0]) == 0.0  # the best fits
    assert no_close_fit([1, 0, 1], [0, 0, 0]) == 0.0  # one close to it fits
    assert no_close_fit([1, 1, 0], [0, 0, 0]) == 1.0  # only one far below fits
    assert no_close_fit([1, 1, 1], [0, 0, 0]) == 1.0  # a miss counted once is a miss
    assert no_close_fit([0, 0, 1], [1, 2, 0]) == 1.0  # fits, but names something ungrounded
    plain = replace(typed, facts=replace(typed.facts, typed=False, names_something=False))
    assert no_close_fit([1, 1, 1], [1, 1, 1], plain) == 0.0  # asks for no type and names nothing
