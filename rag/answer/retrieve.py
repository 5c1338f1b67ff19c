"""Hybrid search: FAISS dense scores fused with BM25, weighted by the question's language.

A fixed lexical weight that helps German questions hurts English questions on German text (on
XQuAD's German paragraphs, USE + 0.6 x BM25 found the right passage first for 0.88 of German
and 0.68 of English questions, USE + 0.3 x BM25 for 0.86 and 0.76; USE alone 0.76 and 0.73).
So the BM25 side gets ``lexical_weight`` when the question is in the language of the text it
asks about and ``cross_lingual_weight`` otherwise, where it can only match names and numbers
and the multilingual dense side must carry the meaning. (Weighting by the share of question
terms found in the corpus was tried first; it also punished paraphrased German questions.)

BM25 is searched per document language (``rag/index/lexical_parts.py``). The text a question
asks about is taken to be the document of the best dense match, and its language decides the
weight for every passage: weighing each passage by its own language instead favoured whichever
document shares the question's language, and questions about the other one lost their answer
(``make eval-mixed``, docs/evaluation.md).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from rag.config import Tuning
from rag.index.encoders import Encoder, encode
from rag.index.lexical_parts import LexicalParts
from rag.index.loaded import LoadedIndex
from rag.records import Hit

# A withheld passage is a document id, or a document id and a paragraph number joined by this.
PARAGRAPH_MARK = "¶"
# From ``Tuning.parallel_search_from`` chunks the dense search runs in a second thread while
# BM25 scores in the caller's (FAISS and numpy's fancy indexing release the GIL). At 1M chunks
# (dense ~1.3 ms, BM25 ~4 ms) it cut the search's p50 by 0.6-0.9 ms in alternating runs
# (docs/performance.md); on the article the hand-off would cost more than the 0.1 ms the dense
# side takes.
_dense_pool: ThreadPoolExecutor | None = None
_dense_pool_lock = threading.Lock()


def _dense_worker() -> ThreadPoolExecutor:
    """One thread for dense searches that overlap the lexical side (created when first needed)."""
    global _dense_pool
    with _dense_pool_lock:
        if _dense_pool is None:
            _dense_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-dense")
        return _dense_pool


def _forget_dense_worker() -> None:
    """In a forked child: the pool's thread did not come along, and work handed to it would
    wait forever (seen in the mutation run, whose tests run in forks); the child makes its own."""
    global _dense_pool, _dense_pool_lock
    _dense_pool, _dense_pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_dense_worker)


def passage_key(doc_id: str, paragraph: int | None = None) -> str:
    """The key that withholds a whole document, or one of its paragraphs."""
    return doc_id if paragraph is None else f"{doc_id}{PARAGRAPH_MARK}{paragraph}"


def withheld_by(keys: frozenset[str]) -> Callable[[str, int], bool]:
    """A test of (doc_id, paragraph) against withheld passage keys."""
    docs = {k for k in keys if PARAGRAPH_MARK not in k}
    paragraphs = {(k.split(PARAGRAPH_MARK)[0], int(k.split(PARAGRAPH_MARK)[1])) for k in keys - docs}
    return lambda doc_id, paragraph: doc_id in docs or (doc_id, paragraph) in paragraphs


@dataclass(frozen=True)
class Retrieval:
    """Hits for one question plus what the answer step reuses (vector, terms)."""

    hits: tuple[Hit, ...]
    query_vector: np.ndarray
    # The question's terms as each language part of the index analyses them.
    terms: dict[str, tuple[str, ...]]
    timings_ms: dict[str, float] = field(default_factory=dict)
    # The language of the document the question is taken to ask about (see text_language), and
    # whether the question is in it.
    same_language: bool = True
    text_language: str = ""
    # Passages the search was blind to (the near-miss evaluation withholds the gold paragraph,
    # see passage_key), and their chunks.
    excluded: frozenset[str] = frozenset()
    excluded_chunks: frozenset[int] = frozenset()
    # Vectors of the question's words that the index has none for (word coverage), encoded in
    # the question's own encoder call.
    word_vectors: dict[str, np.ndarray] = field(default_factory=dict)


def _minmax(values: np.ndarray) -> np.ndarray:
    if values.size == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values) if high > 0 else np.zeros_like(values)
    return (values - low) / (high - low)


class Retriever:
    """Finds chunks for a question. Example: ``Retriever(index, encoder).search("Wer ...?")``."""

    def __init__(
        self, index: LoadedIndex, encoder: Encoder, tuning: Tuning, mode: str = "hybrid"
    ) -> None:
        if mode not in ("hybrid", "dense", "lexical"):
            raise ValueError(f"unknown retriever mode {mode!r}")
        self.index = index
        self.encoder = encoder
        self.tuning = tuning
        self.mode = mode
        self.lexical: LexicalParts = index.lexical

    def _chunks_of(self, keys: frozenset[str]) -> set[int]:
        withheld = withheld_by(keys)
        return {c.chunk_id for c in self.index.chunks if withheld(c.doc_id, c.paragraph)}

    def text_language(self, best_chunk: int | None) -> str:
        """The language of the document the question is taken to ask about: the best match's
        (dense, or BM25 in lexical mode); the corpus's when there is none. In a corpus of one
        language this is always the corpus's language."""
        if best_chunk is None:
            return self.index.language
        doc_id = self.index.chunks[best_chunk].doc_id
        return self.index.document_language.get(doc_id, self.index.language)

    def search(
        self,
        question: str,
        top_k: int = 5,
        language: str | None = None,
        withhold: frozenset[str] = frozenset(),
        words: Sequence[str] = (),
    ) -> Retrieval:
        """The ``top_k`` chunks for ``question``; ``withhold`` passages are searched as if absent.

        ``words`` (the question's words the index has no vectors for) are encoded in the same
        call as the question: a batch of a question and five words costs about what the
        question alone does, five calls would cost five times as much.
        """
        started = time.perf_counter()
        if words:
            batch = getattr(self.encoder, "encode_questions", None)
            texts = [question, *words]
            raw = batch(texts) if batch is not None else encode(self.encoder, texts)
            vectors = np.asarray(raw, np.float32)
            vector = vectors[0]
        else:
            vector = encode(self.encoder, [question])[0]
        encoded = time.perf_counter()
        result = self.search_vector(question, vector, top_k, language, withhold)
        result.timings_ms["encode"] = (encoded - started) * 1000
        if words:
            result.word_vectors.update(zip(words, vectors[1:], strict=True))
        return result

    def search_vector(
        self,
        question: str,
        vector: np.ndarray,
        top_k: int = 5,
        language: str | None = None,
        withhold: frozenset[str] = frozenset(),
    ) -> Retrieval:
        """Search with a precomputed question vector (benchmarks pass synthetic ones)."""
        timings: dict[str, float] = {}
        excluded = self._chunks_of(withhold) if withhold else set()
        n_chunks = len(self.index.chunks) - len(excluded)
        n_candidates = min(n_chunks, max(self.tuning.candidates, 4 * top_k))

        def dense_search() -> tuple[list[int], float]:
            started = time.perf_counter()
            _, ids = self.index.dense.search(vector, n_candidates + len(excluded))
            found = [int(i) for i in ids[0] if i >= 0 and int(i) not in excluded]
            return found, (time.perf_counter() - started) * 1000

        candidates: dict[int, None] = {}
        best: int | None = None  # the best dense match
        dense_side = self.mode != "lexical" and n_candidates > 0
        overlap = (
            dense_side and self.mode != "dense" and len(self.index.chunks) >= self.tuning.parallel_search_from
        )
        # Overlapped, the stage times add up to more than the search took.
        dense_job = _dense_worker().submit(dense_search) if overlap else None
        if dense_side and dense_job is None:
            found, timings["dense"] = dense_search()
            candidates.update((i, None) for i in found[:n_candidates])
            best = found[0] if found else None
        elif not dense_side:
            timings["dense"] = 0.0
        t1 = time.perf_counter()

        terms = self.lexical.query_terms(question)
        lexical_all = None
        if self.mode != "dense" and self.lexical.knows_any(terms):
            lexical_all = self.lexical.scores(terms)
            if excluded:
                lexical_all = lexical_all.copy()
                lexical_all[list(excluded)] = 0.0
            top = self.lexical.top_ids(terms, lexical_all, n_candidates)  # positive scores only
            candidates.update((int(i), None) for i in top)
        timings["lexical"] = (time.perf_counter() - t1) * 1000
        if dense_job is not None:
            found, timings["dense"] = dense_job.result()
            # The dense candidates first, as without the overlap (the order of ``candidates``
            # does not matter below: the ids are sorted).
            candidates = {**dict.fromkeys(found[:n_candidates]), **candidates}
            best = found[0] if found else None
        t2 = time.perf_counter()

        ids = np.sort(np.fromiter(candidates, dtype=np.int64, count=len(candidates)))
        if ids.size == 0:  # lexical mode and no known term: nothing to rank
            rest = (i for i in range(len(self.index.chunks)) if i not in excluded)
            ids = np.fromiter(rest, dtype=np.int64)[: min(top_k, n_chunks)]
        dense = np.asarray(self.index.chunk_vectors[ids] @ vector, dtype=np.float32)
        lexical = lexical_all[ids] if lexical_all is not None else np.zeros(len(ids), np.float32)
        if best is None and lexical_all is not None and ids.size:
            best = int(ids[int(np.argmax(lexical))])
        text_language = self.text_language(best)
        same_language = language is None or language == text_language
        weight = self.tuning.lexical_weight if same_language else self.tuning.cross_lingual_weight
        fused: np.ndarray
        if self.mode == "dense":
            fused = dense.copy()
        elif self.mode == "lexical":
            fused = lexical.copy()
        else:
            fused = _minmax(dense) + weight * self.lexical.normalised(lexical, ids)
        order = np.argsort(-fused, kind="stable")[:top_k]
        hits = tuple(
            Hit(
                chunk=self.index.chunks[int(ids[i])],
                score=float(fused[i]),
                dense_score=float(dense[i]),
                lexical_score=float(lexical[i]),
                rank=rank,
            )
            for rank, i in enumerate(order, start=1)
        )
        timings["fusion"] = (time.perf_counter() - t2) * 1000
        return Retrieval(
            hits,
            vector,
            {lang: tuple(t) for lang, t in terms.items()},
            timings,
            same_language,
            text_language,
            frozenset(withhold),
            frozenset(excluded),
        )
