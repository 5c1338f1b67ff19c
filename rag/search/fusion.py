"""Fusion's arithmetic, on our side of the backend seam: whichever engine found the candidates,
their scores are scaled and combined here, so answers do not depend on the engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rag.index.lexical import max_normalised, shares_by_part


def minmax(values: np.ndarray) -> np.ndarray:
    """Scores scaled to 0..1 (all ones when they are equal and positive, zeros otherwise)."""
    if values.size == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values) if high > 0 else np.zeros_like(values)
    return (values - low) / (high - low)


class PartShares:
    """BM25 scores as a share of the best candidate of their own language part.

    Two parts' scores are on different scales (own IDF, own text lengths), so each part ranks
    and weighs its texts as it would in a corpus of its own (the same arithmetic as
    :meth:`rag.index.lexical_parts.LexicalParts.normalised`, from the chunks' languages).
    """

    def __init__(self, chunk_languages: Sequence[str] | None, languages: Sequence[str]) -> None:
        self.whole = len(languages) <= 1 or chunk_languages is None
        self._part_of: np.ndarray | None = None
        if not self.whole:
            assert chunk_languages is not None
            number = {lang: n for n, lang in enumerate(sorted(languages))}
            self._part_of = np.fromiter((number[lang] for lang in chunk_languages), np.int16,
                                        count=len(chunk_languages))

    @classmethod
    def of(
        cls, chunks: Sequence, document_language: Mapping[str, str], languages: Sequence[str]
    ) -> PartShares:
        """From chunk records and each document's language (one part: no table is made)."""
        if len(languages) <= 1:
            return cls(None, languages)
        return cls([document_language[c.doc_id] for c in chunks], languages)

    def __call__(self, scores: np.ndarray, ids: np.ndarray) -> np.ndarray:
        if self.whole:
            return max_normalised(scores)
        assert self._part_of is not None
        return shares_by_part(scores, self._part_of[np.asarray(ids, dtype=np.int64)])
