"""The MaxScore-style lexical search (large corpora) gives exactly the full sum's ids and scores.

The path is forced on small corpora (``maxscore_from=0``) and its budget widened, so both the
proven case and the fallback to the full sum are reached; ties come from texts of equal length
and counts, which BM25 scores alike.
"""

import re
from pathlib import Path

import numpy as np
import pytest

from rag.eval.questions import load_questions
from rag.index import lexical
from rag.index.lexical import TRIGRAMS, WORDS, LexicalIndex
from rag.ingest import load_documents

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def _same_as_full(index: LexicalIndex, terms: list[str], k: int, probe: np.ndarray) -> bool:
    """Asserts the new path equals the full one; returns whether the new path answered."""
    hits = index.search(terms, k, maxscore_from=0)
    full = index.scores(terms)
    expected = index.top_ids(terms, full, k)
    assert np.array_equal(hits.top, expected), (terms, k)
    ids = np.unique(np.concatenate([expected, probe]))
    assert np.array_equal(hits.scores_of(ids).view(np.int32), full[ids].view(np.int32)), (terms, k)
    return hits.full is None


def _zipf_corpus(rng: np.random.Generator, n_texts: int, n_terms: int) -> list[list[int]]:
    weights = 1.0 / (np.arange(n_terms) + 2.7)
    weights /= weights.sum()
    return [list(rng.choice(n_terms, size=int(rng.integers(3, 12)), p=weights)) for _ in range(n_texts)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_postings_give_the_full_sums_ids_and_scores(seed, monkeypatch):
    monkeypatch.setattr(lexical, "MAXSCORE_RARE_SHARE", 0.05)
    monkeypatch.setattr(lexical, "MAXSCORE_BUDGET_SHARE", 0.5)
    rng = np.random.default_rng(seed)
    vocabulary = [f"t{i}" for i in range(300)]
    index = LexicalIndex("de").build_from_ids(_zipf_corpus(rng, 3000, len(vocabulary)), vocabulary)
    probe = rng.integers(0, 3000, 200)
    answered = fallback = 0
    for _ in range(150):
        head = [f"t{i}" for i in rng.integers(0, 5, int(rng.integers(0, 3)))]
        rare = [f"t{i}" for i in rng.integers(5, 300, int(rng.integers(0, 4)))]
        terms = list(rng.permutation(head + rare + ["unknown"]))
        for k in (1, 5, 50):
            if _same_as_full(index, terms, k, probe):
                answered += 1
            else:
                fallback += 1
    assert answered > 50 and fallback > 5, (answered, fallback)


def test_ties_at_the_kth_score_come_out_as_the_full_sum_has_them(monkeypatch):
    """Many texts of one length holding the same terms once: equal scores across the k-th place."""
    monkeypatch.setattr(lexical, "MAXSCORE_BUDGET_SHARE", 0.5)
    vocabulary = ["rare", "head", "other"]
    texts = [[0, 1, 2] if i % 7 == 0 else [1, 2, 2] for i in range(2000)]
    index = LexicalIndex("de").build_from_ids(texts, vocabulary)
    # 286 texts hold "rare": up to k=200 the bound is proven, k=400 falls back to the full sum.
    for k in (1, 5, 50, 200, 400):
        assert _same_as_full(index, ["rare", "head"], k, np.arange(0, 2000, 3)) == (k < 286)
        full = index.scores(["rare", "head"])
        kth = np.sort(full)[::-1][k - 1]
        assert (full == kth).sum() > 1  # a tie the selection must break as the full path does


@pytest.mark.parametrize("kind", [WORDS, TRIGRAMS])
def test_the_articles_index_gives_the_full_sums_ids_and_scores(kind, monkeypatch):
    monkeypatch.setattr(lexical, "MAXSCORE_BUDGET_SHARE", 0.5)
    texts = [s for d in load_documents(SEEDS) for s in re.split(r"(?<=[.!?])\s+", d.text) if s.strip()]
    index = LexicalIndex("de", kind).build(texts)
    probe = np.arange(0, len(texts), 2)
    questions = [q.question for q in load_questions(SEEDS / "eval" / "article.jsonl")]
    answered = 0
    for question in questions:
        for k in (1, 5, 20):
            answered += _same_as_full(index, index.analyzer.terms(question), k, probe)
    assert answered > 0


def test_texts_without_the_rare_terms_are_not_lost(monkeypatch):
    """Short texts repeating a common term outscore long ones holding the rare term once: the
    head bound must send these questions to the full sum (or cover those texts)."""
    monkeypatch.setattr(lexical, "MAXSCORE_BUDGET_SHARE", 0.5)
    rng = np.random.default_rng(3)
    vocabulary = ["rare", "head", "filler", "pad"]
    texts = []
    for i in range(2000):
        if i % 4 == 0:
            texts.append([0, 1] + [2] * int(rng.integers(20, 40)))
        elif i % 5 == 1:
            texts.append([1] * int(rng.integers(3, 8)))
        else:
            texts.append([2, 3] * int(rng.integers(1, 10)))
    index = LexicalIndex("de").build_from_ids(texts, vocabulary)
    full = index.scores(["rare", "head"])
    rare_texts = np.arange(0, 2000, 4)
    assert np.delete(full, rare_texts).max() > np.sort(full[rare_texts])[-50]  # the trap
    for k in (1, 5, 50, 80):
        _same_as_full(index, ["rare", "head"], k, np.arange(0, 2000, 7))
        _same_as_full(index, ["head", "rare"], k, np.arange(0, 2000, 7))
