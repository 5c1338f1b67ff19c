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

from rag.language import get_language, known_languages

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

    def scores_of(self, tids: list[int], ids: np.ndarray) -> np.ndarray:
        """The :meth:`scores` of the texts ``ids`` only, without the full array: each column
        is searched for the ids (its texts are sorted), and the found scores are added in
        the same term order, so every sum is the same float32 value (0 + x is x)."""
        return self.scores_held(tids, ids)[0]

    def scores_held(self, tids: list[int], ids: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """:meth:`scores_of`, and per term which of ``ids`` hold it."""
        out = np.zeros(len(ids), dtype=np.float32)
        wanted = np.asarray(ids, dtype=self.indices.dtype)
        held_by = []
        for texts, values in (self.column(t) for t in tids):
            if len(texts) == 0 or len(wanted) == 0:
                held_by.append(np.zeros(len(wanted), dtype=bool))
                continue
            pos = np.minimum(np.searchsorted(texts, wanted), len(texts) - 1)
            held = texts[pos] == wanted
            out[held] += values[pos[held]]
            held_by.append(held)
        return out, held_by

    def column_facts(self, tid: int) -> tuple[np.float32, bool]:
        """(largest score, texts sorted) of term ``tid``, computed once per term."""
        cache: dict[int, tuple[np.float32, bool]] = self.__dict__.setdefault("_facts", {})
        facts = cache.get(tid)
        if facts is None:
            texts, values = self.column(tid)
            top = np.float32(values.max()) if len(values) else np.float32(0)
            facts = cache[tid] = (top, bool(len(texts) < 2 or (np.diff(texts) > 0).all()))
        return facts


# From this many texts on, a question's BM25 top k is found MaxScore-style (LexicalIndex.search)
# instead of summing whole columns into one score per text: head terms (in about half of a
# million synthetic chunks) made the full sum 5-13 ms. Below it the full sum is used, unchanged.
MAXSCORE_FROM = 100_000
# Terms in at most this share of the texts start as the "rare" ones whose texts are the
# candidates; while the bound fails, the next rarest term joins them, until their postings
# exceed the budget share of the texts (then the full sum is used).
MAXSCORE_RARE_SHARE = 0.01
MAXSCORE_BUDGET_SHARE = 0.02


@dataclass(frozen=True)
class LexicalHits:
    """A question's BM25 top ``k`` (``top``, as :meth:`LexicalIndex.top_ids` gives it) and the
    scores of any texts asked for: from ``full`` (every text's score) when it was computed,
    else summed from the question's columns (:meth:`Postings.scores_of`, the same float32s)."""

    top: np.ndarray
    full: np.ndarray | None = None
    postings: Postings | None = None
    tids: tuple[int, ...] = ()

    def scores_of(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        if self.full is not None:
            return np.asarray(self.full[ids], dtype=np.float32)
        assert self.postings is not None
        return self.postings.scores_of(list(self.tids), ids)


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

    def search(self, terms: list[str], k: int, maxscore_from: int = MAXSCORE_FROM) -> LexicalHits:
        """:meth:`top_ids` of :meth:`scores` (and a way to read scores), the same ids and float32
        scores; from ``maxscore_from`` texts on without summing whole columns when a bound
        proves it unnecessary (:meth:`_maxscore_top`)."""
        postings = self._require()
        tids = [self._vocab[t] for t in dict.fromkeys(self.known_terms(terms))]
        if k > 0 and postings.num_docs >= maxscore_from:
            top = self._maxscore_top(postings, tids, k)
            if top is not None:
                return LexicalHits(top, None, postings, tuple(tids))
        full = postings.scores(tids)
        return LexicalHits(self.top_ids(terms, full, k), full)

    @staticmethod
    def _maxscore_top(postings: Postings, tids: list[int], k: int) -> np.ndarray | None:
        """:meth:`top_ids` of :meth:`scores` without the full sum, or None when not proven.

        The rarest terms' columns are summed (``partial``); a text holding none of them scores
        at most ``head``, the float32 sum of the other terms' largest scores in term order
        (float32 rounding is monotone). ``low``, the best k-th partial score within one rare
        term's texts (less a margin for float32 rounding), is a lower bound of top_ids'
        ``bound``. When low > head, every text top_ids ranks scores at least low, so it is one
        of the few whose partial score plus the head terms' largest reaches low; only those are
        scored exactly, and the same ids come out in the same order, ties included. Else the
        next rarest term joins the partial sum, up to a budget of postings.
        """
        if not tids:
            return np.zeros(0, dtype=np.int64)
        facts = [postings.column_facts(t) for t in tids]
        if not all(ordered for _, ordered in facts):
            return None
        lengths = [int(postings.indptr[t + 1] - postings.indptr[t]) for t in tids]
        order = sorted(range(len(tids)), key=lambda i: lengths[i])
        n = postings.num_docs
        first = max(1, sum(1 for length in lengths if length <= MAXSCORE_RARE_SHARE * n))
        eps = (len(tids) + 2) * 2.0**-22  # relative error of a float32 sum of these terms, generous
        partial = np.zeros(n, dtype=np.float32)
        summed = 0
        for count in range(1, len(tids) + 1):
            i = order[count - 1]
            summed += lengths[i]
            if summed > MAXSCORE_BUDGET_SHARE * n:
                return None
            texts, values = postings.column(tids[i])
            partial[texts] += values
            if count < first:
                continue
            rare = set(order[:count])
            head = np.float32(0)
            for j in range(len(tids)):
                if j not in rare:
                    head = np.float32(head + facts[j][0])
            head_real = sum(float(facts[j][0]) for j in range(len(tids)) if j not in rare)
            best_kth = 0.0
            for j in rare:
                if lengths[j] >= k:
                    own = partial[postings.column(tids[j])[0]]
                    best_kth = max(best_kth, float(np.partition(own, lengths[j] - k)[lengths[j] - k]))
            low = best_kth * (1 - eps) / (1 + eps)
            reach = (low / (1 + eps) - head_real) * (1 - eps)
            if low > float(head) and reach > 0:
                survivors = np.flatnonzero(partial >= reach)
                return LexicalIndex._ranked_above(postings, tids, lengths, k, low, survivors)
        return None

    @staticmethod
    def _ranked_above(
        postings: Postings, tids: list[int], lengths: list[int], k: int, low: float, survivors: np.ndarray
    ) -> np.ndarray:
        """top_ids over ``survivors``, which hold every text scoring at least ``low``, and
        ``low`` is at most top_ids' bound (see :meth:`_maxscore_top`)."""
        scores, held_by = postings.scores_held(tids, survivors)
        bound = 0.0
        for j, held in enumerate(held_by):
            if lengths[j] < k:
                continue
            own = scores[held & (scores >= low)]
            if len(own) >= k:  # else its k-th best is below low, so not the largest
                bound = max(bound, float(np.partition(own, len(own) - k)[len(own) - k]))
        mask = scores >= bound
        above = survivors[mask]
        if len(above) <= k:
            return above
        return above[np.argpartition(-scores[mask], k - 1)[:k]]

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
        k-th best overall, so only chunks at or above the largest such bound are ranked.
        """
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        columns = self._require()
        bound = 0.0
        for term in dict.fromkeys(self.known_terms(terms)):
            postings = columns.column(self._vocab[term])[0]
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
