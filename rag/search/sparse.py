"""BM25 as sparse vectors, with our analyzer: an engine that multiplies a query's weights by
its own IDF (Qdrant's ``Modifier.IDF``) then scores exactly the local BM25.

Local BM25 (bm25s, method "lucene") stores ``idf(t) * tf / (tf + k1 * (1 - b + b * dl / avgdl))``
per (text, term) with ``idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))``. Qdrant's IDF modifier uses
the same idf over the points holding that sparse vector, so each chunk stores only the second
factor (computed here, with the part's average length ``avgdl``) under its term's index, and a
question sends weight 1 for each distinct term: the engine's score is the local BM25, up to float
rounding. Terms become indices by a 32-bit hash (the engine's index type); two terms of one part
that share a hash are counted when building (``collisions``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# bm25s.BM25()'s defaults, which the local BM25 is built with (a test checks they agree).
BM25_K1 = 1.5
BM25_B = 0.75
# What bm25s indexes for a text without a single term (rag/index/lexical.py does the same).
EMPTY_TERM = "\u2205"


def term_index(term: str) -> int:
    """The sparse index of an analysed term: 32 bits of its BLAKE2b hash (stable across
    processes and machines, unlike ``hash()``)."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "little")


@dataclass(frozen=True)
class SparseBM25:
    """One text's BM25 term factors as (indices, values), indices ascending."""

    indices: tuple[int, ...]
    values: tuple[float, ...]


def text_terms(terms: Sequence[str]) -> list[str]:
    """A text's terms as the local BM25 indexes them (an empty text counts one placeholder)."""
    return list(terms) or [EMPTY_TERM]


def average_length(term_lists: Iterable[Sequence[str]]) -> float:
    """avgdl of a language part, as bm25s computes it."""
    lengths = [len(text_terms(t)) for t in term_lists]
    return float(np.mean(lengths)) if lengths else 1.0


def bm25_vector(terms: Sequence[str], avgdl: float, k1: float = BM25_K1, b: float = BM25_B) -> SparseBM25:
    """The term factors of one text, as bm25s computes them (in float64) before multiplying by
    the idf. Terms whose hashes meet are summed (see :func:`collisions`)."""
    counted = Counter(text_terms(terms))
    tf = np.fromiter(counted.values(), np.float64, count=len(counted))
    factor = tf / (k1 * ((1 - b) + b * sum(counted.values()) / avgdl) + tf)
    by_index: dict[int, float] = {}
    for term, value in zip(counted, factor.tolist(), strict=True):
        index = term_index(term)
        by_index[index] = by_index.get(index, 0.0) + value
    order = sorted(by_index)
    return SparseBM25(tuple(order), tuple(by_index[i] for i in order))


def query_vector(terms: Sequence[str]) -> SparseBM25:
    """A question's sparse vector: weight 1 for each distinct term (the engine adds the idf).
    The local BM25 also counts a repeated question term once."""
    indices = sorted({term_index(t) for t in terms})
    return SparseBM25(tuple(indices), tuple(1.0 for _ in indices))


def collisions(vocabulary: Iterable[str]) -> int:
    """How many terms of ``vocabulary`` share their sparse index with an earlier one."""
    seen: set[int] = set()
    shared = 0
    for term in set(vocabulary):
        index = term_index(term)
        shared += index in seen
        seen.add(index)
    return shared
