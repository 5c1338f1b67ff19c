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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from rag.language import get_language, known_languages, own_cues

TOKEN = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    """Stop and question words of every known language: questions may come in any of them
    ("Wer leitet ...?" and "Who runs ...?" carry no content in their question words)."""
    lists = _bm25s_stopwords()
    words: set[str] = set()
    for lang in known_languages():
        if lang.stop_word_list:
            words.update(getattr(lists, lang.stop_word_list))
        words.update(lang.question_words)
    return frozenset(w.casefold() for w in words)


@lru_cache(maxsize=16)
def _own_stopwords(language: str) -> frozenset[str]:
    """The stop and question words of a language whose cues are its own (none for the others:
    theirs are in :func:`_stopwords` already)."""
    lang = own_cues(language)
    if lang is None:
        return frozenset()
    words = set(getattr(_bm25s_stopwords(), lang.stop_word_list)) if lang.stop_word_list else set()
    return frozenset(w.casefold() for w in words | lang.question_words)


@lru_cache(maxsize=1)
def _bm25s_stopwords() -> Any:
    """bm25s's stop word lists, read from its ``stopwords.py`` without importing the package.

    ``import bm25s`` imports scipy (0.3-1.8 s on these machines, most of a cold ``rag ask``);
    the lists are plain tuples in a module that imports nothing.
    """
    import importlib.util

    spec = importlib.util.find_spec("bm25s")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("bm25s is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "stopwords.py"
    module_spec = importlib.util.spec_from_file_location("_rag_bm25s_stopwords", path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot read {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


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
# bm25s methods whose scores are the stored columns alone (BM25L and BM25+ add a term-wise
# score for texts without the term, which Postings does not read).
LUCENE_LIKE = ("lucene", "robertson", "atire")


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
        self._stop = _stopwords() | _own_stopwords(language)
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


@lru_cache(maxsize=32)
def analyzer_for(language: str, kind: str = WORDS) -> Analyzer:
    """The one ``Analyzer`` of a language and kind (its stop set and stemmer built once), for
    code that analyses without a loaded index: retrieval's query terms, Qdrant's points,
    training's corpus checks."""
    return Analyzer(language, kind)


@dataclass(frozen=True)
class Postings:
    """BM25 as bm25s saves it: every (text, term) score precomputed, one column per term (CSC).

    A question's scores are the sum of its terms' columns; reading and summing them needs only
    numpy, so answering never imports bm25s (and scipy with it).
    """

    data: np.ndarray  # the scores, float32
    indices: np.ndarray  # the text of each score
    indptr: np.ndarray  # term t's scores are data[indptr[t]:indptr[t + 1]]
    num_docs: int

    FILES: ClassVar[tuple[str, ...]] = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy")

    @classmethod
    def of(cls, bm25: Any) -> Postings:
        scores = bm25.scores
        return cls(scores["data"], scores["indices"], scores["indptr"], int(scores["num_docs"]))

    def column(self, tid: int) -> tuple[np.ndarray, np.ndarray]:
        """(texts, scores) of term ``tid``."""
        start, end = int(self.indptr[tid]), int(self.indptr[tid + 1])
        return self.indices[start:end], self.data[start:end]

    def scores(self, tids: list[int]) -> np.ndarray:
        """Summed columns, in the order bm25s sums them (same float32 results).

        A text occurs at most once in a term's column, so the fancy-indexed add is exact; the
        first column is assigned (0 + x is x), which skips reading the zeros.
        """
        out = np.zeros(self.num_docs, dtype=np.float32)
        for n, tid in enumerate(tids):
            texts, values = self.column(tid)
            if n == 0:
                out[texts] = values
            else:
                out[texts] += values
        return out


class LexicalIndex:
    """BM25 over a fixed list of texts; ``scores`` gives every chunk's BM25 score at once.

    Built (and saved) with bm25s; loaded by reading its files with numpy (:class:`Postings`).
    """

    def __init__(self, language: str, kind: str = WORDS) -> None:
        self.analyzer = Analyzer(language, kind)
        self._bm25: Any = None  # the bm25s object, while built in this process (to save it)
        self._postings: Postings | None = None
        self._vocab: dict[str, int] = {}

    def _built(self, bm25: Any) -> LexicalIndex:
        self._bm25 = bm25
        self._postings = Postings.of(bm25)
        self._vocab = bm25.vocab_dict
        return self

    def build(self, texts: list[str]) -> LexicalIndex:
        import bm25s

        tokenized = [self.analyzer.terms(t) or ["\u2205"] for t in texts]
        bm25 = bm25s.BM25()
        bm25.index(tokenized, show_progress=False)
        return self._built(bm25)

    def build_from_ids(self, id_lists: list[list[int]], vocabulary: list[str]) -> LexicalIndex:
        """Index chunks given as term ids over ``vocabulary`` (terms already analysed).

        The scale benchmark uses this for synthetic corpora whose words the analyzer leaves
        as they are, so a million chunks need not go through the regex and the stemmer.
        """
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index((id_lists, {t: i for i, t in enumerate(vocabulary)}), show_progress=False)
        return self._built(bm25)

    def save(self, folder: Path) -> None:
        if self._bm25 is None:
            raise RuntimeError("lexical index is not built in this process")
        self._bm25.save(str(folder), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, language: str, kind: str = WORDS, mmap: bool = False) -> LexicalIndex:
        """Read what :meth:`save` wrote (``mmap``: the arrays stay in their files, paged in as
        questions read their terms' columns). ValueError for a scoring method other than the
        one :meth:`build` uses."""
        import json

        folder = Path(folder)
        with open(folder / "params.index.json", encoding="utf-8") as handle:
            params = json.load(handle)
        if params.get("method", "lucene") not in LUCENE_LIKE:
            raise ValueError(f"BM25 method {params.get('method')!r} in {folder} is not supported")
        with open(folder / "vocab.index.json", encoding="utf-8") as handle:
            vocab = json.load(handle)
        mode: Literal["r"] | None = "r" if mmap else None
        data, indices, indptr = (
            np.load(folder / name, mmap_mode=mode, allow_pickle=False) for name in Postings.FILES
        )
        index = cls(language, kind)
        index._postings = Postings(data, indices, indptr, int(params["num_docs"]))
        index._vocab = vocab
        return index

    def _require(self) -> Postings:
        if self._postings is None:
            raise RuntimeError("lexical index is not built or loaded")
        return self._postings

    def known_terms(self, terms: list[str]) -> list[str]:
        return [t for t in terms if t in self._vocab]

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every chunk for these terms (zeros when none is known)."""
        postings = self._require()
        known = list(dict.fromkeys(self.known_terms(terms)))
        return postings.scores([self._vocab[t] for t in known])

    def texts_with(self, term: str) -> np.ndarray:
        """Ids of the indexed texts that contain ``term`` (empty when it is unknown)."""
        tid = self._vocab.get(term)
        if tid is None:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self._require().column(tid)[0], dtype=np.int64)

    def top_ids(self, terms: list[str], scores: np.ndarray, k: int) -> np.ndarray:
        """Ids of the ``k`` chunks with the highest positive ``scores`` (fewer if fewer match).

        ``scores`` is what :meth:`scores` returned for ``terms``. The same set as an argpartition
        over all chunks (up to ties at the k-th score), without selecting over a million floats:
        the k-th best score among the chunks holding any one query term is a lower bound of the
        k-th best overall, and a chunk with a positive score holds a query term, so only the
        terms' own chunks at or above the largest such bound are ranked (scanning the postings
        instead of all chunks: 1.44 -> 1.06 ms a question at 1M chunks, p50).
        """
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        columns = self._require()
        bound = 0.0
        gathered = []
        for term in dict.fromkeys(self.known_terms(terms)):
            postings = columns.column(self._vocab[term])[0]
            values = scores[postings]
            gathered.append((postings, values))
            if len(postings) >= k:
                kth = len(postings) - k
                bound = max(bound, float(np.partition(values, kth)[kth]))
        if not gathered:
            return np.zeros(0, dtype=np.int64)
        kept = [p[v >= bound] if bound > 0 else p[v > 0] for p, v in gathered]
        above = np.unique(np.concatenate(kept)).astype(np.int64, copy=False)
        if len(above) <= k:
            return above
        return above[np.argpartition(-scores[above], k - 1)[:k]]


def max_normalised(scores: np.ndarray) -> np.ndarray:
    """BM25 scores divided by the largest one (unchanged when none is positive): BM25 has no
    fixed range, so it is fused and compared as a share of the best match."""
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else scores


def shares_by_part(scores: np.ndarray, part_of: np.ndarray) -> np.ndarray:
    """``scores`` each divided by the best among those of its part (``part_of``: each score's
    part number): two language parts' BM25 scores are on scales of their own."""
    out = np.asarray(scores, dtype=np.float32).copy()
    for number in np.unique(part_of):
        mask = part_of == number
        out[mask] = max_normalised(out[mask])
    return out
