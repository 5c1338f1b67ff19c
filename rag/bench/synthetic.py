"""Synthetic corpora for the scale benchmark: clustered vectors and Zipf-distributed German-like texts.

Encoding a million chunks is not what the scale benchmark is about, so its large corpora are
made up, in a way that keeps both search sides honest:

* Vectors (512-d, float32, L2-normalised) come from a Gaussian mixture with ``sqrt(n)``
  clusters, a decaying per-dimension spectrum (``d ** -0.5``, so the data has a few strong and
  many weak directions like real sentence embeddings), within-cluster noise 1.5x the spread of the
  cluster centres (clusters overlap, so nearest neighbours are not trivially one cluster), plus a
  shared mean direction that gives a mean pairwise cosine of about 0.3, as the multilingual USE
  vectors of the article have. Queries are held-out draws from the same mixture, never corpus
  vectors, so approximate search is tested on points it has not seen.
* Texts are token streams drawn from a Zipf-Mandelbrot law (``p(r) ~ 1 / (r + 2.7)``) over a
  vocabulary made of the article's own stemmed terms (the most frequent ranks) plus generated
  German-like words (syllable compounds that the German stemmer leaves unchanged and that are no
  stop words). Chunk lengths are Poisson around 25 terms, as the article's chunks have after
  stop-word removal, so BM25 posting lists have realistic lengths: the head terms occur in most
  chunks, the tail in a handful. Questions are 3-7 terms from the same law.

Example::

    vectors, queries = synthetic_vectors(100_000)
    corpus = synthetic_terms(100_000, article_terms)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# The language of the synthetic texts (the article's stemmed terms plus German-like compounds).
LANGUAGE = "de"
DIMENSION = 512
NOISE = 1.5
SPECTRUM_DECAY = 0.5
MEAN_WEIGHT = 1.2
ZIPF_SHIFT = 2.7
TERMS_PER_CHUNK = 25

_SYLLABLES = (
    "ab an auf aus bau bahn berg blatt brand bund burg dach damm dorf drah eich eis feld fels "
    "fern fisch flug forst funk gart gas glas gold grab grund gut hafen hall hand hart haus "
    "heim hof holz horn hut kamm kan kapp karr kauf kern kies kirch klang klein knot kohl "
    "korn kraft kreis kron kupf land lauf licht lind luft mark mast matt mess milch mond moor "
    "mühl nord ost pfad platz quell rad rand rat reich ring rohr ross salz sand schacht schiff "
    "schild schloss schmied see seil sonn spann stab stadt stahl stamm stein stern stift strom "
    "sud tal tank tor turm wald wall wand wass weg werk west wind wolk zahl zaun zeit zug"
).split()


def synthetic_vectors(
    n: int, n_queries: int = 200, seed: int = 0, dim: int = DIMENSION
) -> tuple[np.ndarray, np.ndarray]:
    """(corpus, queries): L2-normalised float32 rows from the same clustered mixture."""
    rng = np.random.default_rng(seed)
    n_clusters = max(8, int(np.sqrt(n)))
    spectrum = np.arange(1, dim + 1, dtype=np.float32) ** -SPECTRUM_DECAY
    spectrum /= np.sqrt((spectrum**2).sum())
    mean = rng.standard_normal(dim).astype(np.float32)
    mean /= np.linalg.norm(mean)
    centres = rng.standard_normal((n_clusters, dim), dtype=np.float32) * spectrum

    def sample(m: int, r: np.random.Generator) -> np.ndarray:
        out = np.empty((m, dim), dtype=np.float32)
        for begin in range(0, m, 100_000):
            size = min(100_000, m - begin)
            labels = r.integers(0, n_clusters, size)
            x = r.standard_normal((size, dim), dtype=np.float32)
            x *= spectrum * NOISE
            x += centres[labels]
            x += MEAN_WEIGHT * mean
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            out[begin : begin + size] = x
        return out

    return sample(n, rng), sample(n_queries, np.random.default_rng(seed + 1))


def generated_words(count: int, analyzer, exclude: set[str], seed: int = 0) -> list[str]:  # noqa: ANN001
    """German-like compounds that the analyzer keeps as they are (stem == word, no stop word)."""
    rng = np.random.default_rng(seed)
    syl = np.array(_SYLLABLES)
    words: list[str] = []
    seen = set(exclude)
    while len(words) < count:
        parts = rng.integers(2, 5, 4 * count)
        batch = ["".join(syl[rng.integers(0, len(syl), k)]) for k in parts]
        batch = [w for w in dict.fromkeys(batch) if w not in seen]
        kept = [w for w in batch if analyzer.terms(w) == [w]]
        for w in kept:
            seen.add(w)
        words.extend(kept)
    return words[:count]


@dataclass(frozen=True)
class SyntheticTerms:
    """Chunks as term ids in CSR form (``offsets``, ``ids``) over ``vocabulary``; plus questions."""

    vocabulary: list[str]
    offsets: np.ndarray
    ids: np.ndarray
    questions: list[list[str]]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def terms(self, i: int) -> list[str]:
        return [self.vocabulary[t] for t in self.ids[self.offsets[i] : self.offsets[i + 1]]]

    def text(self, i: int) -> str:
        return " ".join(self.terms(i))

    def id_lists(self) -> list[list[int]]:
        return [a.tolist() for a in np.split(self.ids, self.offsets[1:-1])]


def vocabulary_size(n_chunks: int) -> int:
    """Heaps' law over the corpus's ~25 terms per chunk, at least a few thousand words."""
    return int(min(300_000, max(5_000, 20 * np.sqrt(n_chunks * TERMS_PER_CHUNK))))


def synthetic_terms(
    n: int, base_terms: Sequence[str], analyzer, n_questions: int = 200, seed: int = 0  # noqa: ANN001
) -> SyntheticTerms:
    """Zipf-distributed chunks over the base terms (head ranks) plus generated words."""
    rng = np.random.default_rng(seed + 7)
    base = list(dict.fromkeys(base_terms))
    size = max(vocabulary_size(n), len(base))
    vocabulary = base + generated_words(size - len(base), analyzer, set(base), seed)
    weights = 1.0 / (np.arange(1, len(vocabulary) + 1) + ZIPF_SHIFT)
    cdf = np.cumsum(weights / weights.sum())
    lengths = np.maximum(5, rng.poisson(TERMS_PER_CHUNK, n))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.searchsorted(cdf, rng.random(int(offsets[-1]))).astype(np.int32)
    np.minimum(ids, len(vocabulary) - 1, out=ids)
    q_lengths = rng.integers(3, 8, n_questions)
    questions = [
        [vocabulary[min(int(t), len(vocabulary) - 1)] for t in np.searchsorted(cdf, rng.random(k))]
        for k in q_lengths
    ]
    return SyntheticTerms(vocabulary, offsets, ids, questions)
