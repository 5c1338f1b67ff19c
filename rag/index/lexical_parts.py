"""The lexical side of an index: one BM25 index per document language.

Each text is analysed in its own document's language (an English report in a German corpus is
stemmed in English), and a question is analysed once per part, in that part's language, when
the part is searched. BM25 scores of two parts are on different scales (each has its own IDF
and text lengths), so scores are compared as a share of each part's own best match
(:meth:`LexicalParts.normalised`): every part then ranks and weighs its texts as it would in a
corpus of its own. A corpus in one language has one part, which is the whole index as before.

Example::

    parts = LexicalParts.build(["Der Zug fährt.", "The trams are running."], ["de", "en"])
    terms = parts.query_terms("running trams")      # {'de': [...], 'en': ['run', 'tram']}
    parts.scores(terms)                              # one BM25 score per text
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from rag.index.lexical import WORDS, Analyzer, LexicalIndex, max_normalised, shares_by_part

# Terms of a question per part language (each part analyses the question in its language).
QueryTerms = Mapping[str, Sequence[str]]
IDS_FILE = "ids.npy"


class LexicalParts:
    """BM25 over texts of several languages, one :class:`LexicalIndex` per language.

    Ids are positions in the list of all texts; ``scores`` gives one score per text.
    """

    def __init__(self, parts: dict[str, LexicalIndex], ids: dict[str, np.ndarray], size: int) -> None:
        if not parts:
            raise ValueError("a lexical index needs at least one language part")
        self.parts = dict(sorted(parts.items()))
        self.size = size
        self.whole = len(self.parts) == 1  # one part over every text: ids are positions
        self.ids = {lang: np.asarray(ids[lang], dtype=np.int64) for lang in self.parts}
        if sum(len(i) for i in self.ids.values()) != size:
            raise ValueError("the language parts do not cover the texts exactly once")
        self._part_of: np.ndarray | None = None  # each text's part, by number
        if self.whole and not np.array_equal(next(iter(self.ids.values())), np.arange(size)):
            raise ValueError("the only language part does not hold the texts in order")
        if not self.whole:
            self._part_of = np.full(size, -1, dtype=np.int16)
            for number, lang in enumerate(self.parts):
                self._part_of[self.ids[lang]] = number
            if (self._part_of < 0).any():
                raise ValueError("the language parts do not cover the texts exactly once")

    # --- building, saving, loading ---------------------------------------------------------

    @classmethod
    def build(cls, texts: Sequence[str], languages: Sequence[str], kind: str = WORDS) -> LexicalParts:
        """One part per language in ``languages`` (the language of each text)."""
        if len(texts) != len(languages):
            raise ValueError("every text needs its language")
        groups: dict[str, list[int]] = {}
        for i, lang in enumerate(languages):
            groups.setdefault(lang, []).append(i)
        parts = {
            lang: LexicalIndex(lang, kind).build([texts[i] for i in ids]) for lang, ids in groups.items()
        }
        return cls(parts, {lang: np.asarray(ids) for lang, ids in groups.items()}, len(texts))

    @classmethod
    def single(cls, index: LexicalIndex, size: int) -> LexicalParts:
        """A built index over ``size`` texts of one language, as the only part."""
        return cls({index.analyzer.language: index}, {index.analyzer.language: np.arange(size)}, size)

    def save(self, folder: Path) -> None:
        """``folder/<language>/``: bm25s's files and ``ids.npy`` (the texts' positions)."""
        for lang, part in self.parts.items():
            part.save(Path(folder) / lang)
            np.save(Path(folder) / lang / IDS_FILE, self.ids[lang], allow_pickle=False)

    @classmethod
    def load(
        cls, folder: Path, languages: Sequence[str], kind: str = WORDS, mmap: bool = False
    ) -> LexicalParts:
        """The parts saved by :meth:`save` for ``languages`` (as the manifest lists them)."""
        parts, ids = {}, {}
        for lang in languages:
            parts[lang] = LexicalIndex.load(Path(folder) / lang, lang, kind, mmap=mmap)
            ids[lang] = np.load(Path(folder) / lang / IDS_FILE, allow_pickle=False)
        return cls(parts, ids, sum(len(i) for i in ids.values()))

    # --- searching -------------------------------------------------------------------------

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.parts)

    def analyzer(self, language: str) -> Analyzer:
        """The analyser of the part in ``language``."""
        return self.parts[language].analyzer

    def query_terms(self, text: str) -> dict[str, list[str]]:
        """``text`` analysed in the language of every part."""
        return {lang: part.analyzer.terms(text) for lang, part in self.parts.items()}

    def knows_any(self, terms: QueryTerms) -> bool:
        """Whether any part holds any of its terms."""
        return any(part.known_terms(list(terms.get(lang, ()))) for lang, part in self.parts.items())

    def scores(self, terms: QueryTerms) -> np.ndarray:
        """Every text's BM25 score within its own part (zeros where no term is known)."""
        if self.whole:
            lang, part = next(iter(self.parts.items()))
            return part.scores(list(terms.get(lang, ())))
        out = np.zeros(self.size, dtype=np.float32)
        for lang, part in self.parts.items():
            out[self.ids[lang]] = part.scores(list(terms.get(lang, ())))
        return out

    def top_ids(self, terms: QueryTerms, scores: np.ndarray, k: int) -> np.ndarray:
        """The ``k`` best texts (positive ``scores`` only) of every part, as positions."""
        if self.whole:
            lang, part = next(iter(self.parts.items()))
            return part.top_ids(list(terms.get(lang, ())), scores, k)
        found = [
            self.ids[lang][part.top_ids(list(terms.get(lang, ())), scores[self.ids[lang]], k)]
            for lang, part in self.parts.items()
        ]
        return np.concatenate(found)

    def normalised(self, scores: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """``scores`` of the texts ``ids``, each divided by the best among those of its part."""
        if self.whole:
            return max_normalised(scores)
        assert self._part_of is not None
        return shares_by_part(scores, self._part_of[np.asarray(ids, dtype=np.int64)])

    def texts_with(self, language: str, term: str) -> np.ndarray:
        """Positions of the texts of the ``language`` part that contain ``term``."""
        part = self.parts.get(language)
        if part is None:
            return np.zeros(0, dtype=np.int64)
        return self.ids[language][part.texts_with(term)]
