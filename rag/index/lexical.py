"""BM25 over chunks or sentences, on stemmed words or on character trigrams.

Words: case folding turns ß into ss, so "Bußgeld" finds the Swiss "Bussgeld"; the Snowball
stemmer drops umlauts and inflection. Character trigrams (of folded words, accents removed)
also match what stemming misses: German compounds and inflections ("Versprechen" ~
"versprach", "Wiederholungstätern") and cognates in English questions ("infrastructure" ~
"Infrastruktur"). The same analyser runs over the texts and the questions.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from rag.language import get_language, known_languages

TOKEN = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    """Stop and question words of every known language: questions may come in any of them
    ("Wer leitet ...?" and "Who runs ...?" carry no content in their question words)."""
    import bm25s.stopwords

    words: set[str] = set()
    for lang in known_languages():
        if lang.stop_word_list:
            words.update(getattr(bm25s.stopwords, lang.stop_word_list))
        words.update(lang.question_words)
    return frozenset(w.casefold() for w in words)


_stemmers = threading.local()


@lru_cache(maxsize=8)
def _stem_words(language: str) -> Callable[[list[str]], list[str]]:
    """The language's Snowball stemmer; words pass unchanged for a language without one.

    One stemmer object per thread: PyStemmer's are not thread-safe, and the chat rebuilds its
    index in one thread while questions are answered in another.
    """
    name = get_language(language).stemmer
    if name is None:
        return list
    import Stemmer

    def stem_words(words: list[str]) -> list[str]:
        own = _stemmers.__dict__.setdefault("by_name", {})
        stemmer = own.get(name)
        if stemmer is None:
            stemmer = own[name] = Stemmer.Stemmer(name)
        return stemmer.stemWords(words)

    return stem_words


WORDS = "words"
TRIGRAMS = "trigrams"


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class Analyzer:
    """Text -> terms. Example: ``Analyzer("de").terms("Wer leitet Softbank?")``.

    ``kind="words"``: stemmed words without stop words; ``kind="trigrams"``: character
    trigrams of each folded word, with ``#`` marking word boundaries.
    """

    def __init__(self, language: str, kind: str = WORDS) -> None:
        if kind not in (WORDS, TRIGRAMS):
            raise ValueError(f"unknown analyzer kind {kind!r}")
        self.language = language
        self.kind = kind
        self._stop = _stopwords()
        self._stem = _stem_words(language)

    def words(self, text: str) -> list[str]:
        folded = unicodedata.normalize("NFKC", text).casefold()
        return [w for w in TOKEN.findall(folded) if w not in self._stop and w != "_"]

    def terms(self, text: str) -> list[str]:
        words = self.words(text)
        if self.kind == WORDS:
            return self._stem(words)
        grams: list[str] = []
        for word in words:
            marked = f"#{_strip_accents(word)}#"
            grams.extend(marked[i : i + 3] for i in range(len(marked) - 2))
        return grams


class LexicalIndex:
    """bm25s over a fixed list of texts; ``scores`` gives every chunk's BM25 score at once."""

    def __init__(self, language: str, kind: str = WORDS) -> None:
        self.analyzer = Analyzer(language, kind)
        self._bm25: Any = None
        self._vocab: dict[str, int] = {}

    def build(self, texts: list[str]) -> LexicalIndex:
        import bm25s

        tokenized = [self.analyzer.terms(t) or ["\u2205"] for t in texts]
        self._bm25 = bm25s.BM25()
        self._bm25.index(tokenized, show_progress=False)
        self._vocab = self._bm25.vocab_dict
        return self

    def build_from_ids(self, id_lists: list[list[int]], vocabulary: list[str]) -> LexicalIndex:
        """Index chunks given as term ids over ``vocabulary`` (terms already analysed).

        The scale benchmark uses this for synthetic corpora whose words the analyzer leaves
        as they are, so a million chunks need not go through the regex and the stemmer.
        """
        import bm25s

        self._bm25 = bm25s.BM25()
        self._bm25.index((id_lists, {t: i for i, t in enumerate(vocabulary)}), show_progress=False)
        self._vocab = self._bm25.vocab_dict
        return self

    def save(self, folder: Path) -> None:
        self._require().save(str(folder), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, language: str, kind: str = WORDS, mmap: bool = False) -> LexicalIndex:
        import bm25s

        index = cls(language, kind)
        index._bm25 = bm25s.BM25.load(str(folder), load_corpus=False, mmap=mmap, allow_pickle=False)
        index._vocab = index._bm25.vocab_dict
        return index

    def _require(self):  # noqa: ANN202
        if self._bm25 is None:
            raise RuntimeError("lexical index is not built or loaded")
        return self._bm25

    def known_terms(self, terms: list[str]) -> list[str]:
        return [t for t in terms if t in self._vocab]

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every chunk for these terms (zeros when none is known)."""
        bm25 = self._require()
        known = list(dict.fromkeys(self.known_terms(terms)))
        n_docs = bm25.scores["num_docs"]
        if not known:
            return np.zeros(n_docs, dtype=np.float32)
        return np.asarray(bm25.get_scores(known), dtype=np.float32)

    def texts_with(self, term: str) -> np.ndarray:
        """Ids of the indexed texts that contain ``term`` (empty when it is unknown)."""
        tid = self._vocab.get(term)
        if tid is None:
            return np.zeros(0, dtype=np.int64)
        bm25 = self._require()
        indptr, indices = bm25.scores["indptr"], bm25.scores["indices"]
        return np.asarray(indices[indptr[tid] : indptr[tid + 1]], dtype=np.int64)

    def top_ids(self, terms: list[str], scores: np.ndarray, k: int) -> np.ndarray:
        """Ids of the ``k`` chunks with the highest positive ``scores`` (fewer if fewer match).

        ``scores`` is what :meth:`scores` returned for ``terms``. The same set as an argpartition
        over all chunks (up to ties at the k-th score), without selecting over a million floats:
        the k-th best score among the chunks holding any one query term is a lower bound of the
        k-th best overall, so only chunks at or above the largest such bound are ranked.
        """
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        bm25 = self._require()
        indptr, indices = bm25.scores["indptr"], bm25.scores["indices"]
        bound = 0.0
        for term in dict.fromkeys(self.known_terms(terms)):
            tid = self._vocab[term]
            postings = indices[indptr[tid] : indptr[tid + 1]]
            if len(postings) >= k:
                kth = len(postings) - k
                bound = max(bound, float(np.partition(scores[postings], kth)[kth]))
        above = np.flatnonzero(scores >= bound) if bound > 0 else np.flatnonzero(scores > 0)
        if len(above) <= k:
            return above
        return above[np.argpartition(-scores[above], k - 1)[:k]]


def max_normalised(scores: np.ndarray) -> np.ndarray:
    """BM25 scores divided by the largest one (unchanged when none is positive): BM25 has no
    fixed range, so it is fused and compared as a share of the best match."""
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else scores
