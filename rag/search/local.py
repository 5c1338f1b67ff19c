"""The default backend: FAISS for the vectors and the numpy BM25 of ``rag/index/lexical*.py``,
in this process, over the files of one build (what ``rag`` always did).

Chunk ids are rows of the build. :meth:`LocalBackend.upsert` and :meth:`delete` rebuild the
in-memory structures over what is held (a build writes a new folder instead, reusing the
vectors of unchanged documents, ``rag/index/reuse.py``); they exist so that the backend
contract holds for both backends and tests can run against either.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from rag.config import IndexTuning
from rag.index.dense import RowFile, VectorIndex, build_vector_index
from rag.index.lexical_parts import LexicalParts
from rag.records import Chunk, Sentence
from rag.search.backend import LOCAL, CandidateQuery, Candidates, ChunkEntry, QueryTerms

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


class LocalBackend:
    """FAISS + numpy BM25 over one build. Example::

        backend = LocalBackend(dense, lexical, chunk_vectors, chunks, sentences)
        backend.candidates(CandidateQuery(vector, backend.query_terms("Wer leitet Softbank?"), 50))
    """

    name = LOCAL

    def __init__(
        self,
        dense: VectorIndex,
        lexical: LexicalParts,
        chunk_vectors: np.ndarray | RowFile,
        chunks: Sequence[Chunk],
        sentences: Sequence[Sentence] = (),
        tuning: IndexTuning | None = None,
    ) -> None:
        self.dense = dense
        self.lexical = lexical
        self.vectors = chunk_vectors
        self._chunks = chunks
        self._sentences = sentences
        self._tuning = tuning or IndexTuning()
        # Row -> chunk id once documents were upserted or deleted here (and the reverse, and the
        # held chunks by id); None: rows are chunk ids.
        self._row_ids: np.ndarray | None = None
        self._row_of: dict[int, int] = {}
        self._held: list[ChunkEntry] | None = None
        self._chunk_of: dict[int, Chunk] = {}

    @classmethod
    def of(cls, entries: Sequence[ChunkEntry], tuning: IndexTuning | None = None) -> LocalBackend:
        """A backend holding ``entries`` in memory (tests, benchmarks; a build writes files)."""
        backend = cls.__new__(cls)
        backend._tuning = tuning or IndexTuning()
        backend._chunks, backend._sentences = [], ()
        backend._rebuild(list(entries))
        return backend

    # --- what the retriever asks -------------------------------------------------------------

    @property
    def dimension(self) -> int:
        return self.dense.dimension

    @property
    def size(self) -> int:
        return self.dense.size

    @property
    def languages(self) -> tuple[str, ...]:
        return self.lexical.languages

    def candidates(self, query: CandidateQuery) -> Candidates:
        timings: dict[str, float] = {}
        withheld = self._rows_of(query.withheld)
        k = query.k

        def dense_search() -> tuple[list[int], float]:
            started = time.perf_counter()
            _, ids = self.dense.search(query.vector, k + len(withheld))
            found = [int(i) for i in ids[0] if i >= 0 and int(i) not in withheld]
            return found, (time.perf_counter() - started) * 1000

        candidates: dict[int, None] = {}
        dense_found: list[int] = []
        dense_side = query.dense and k > 0
        overlap = dense_side and query.lexical and self.size >= query.parallel_from
        # Overlapped, the stage times add up to more than the search took.
        dense_job = _dense_worker().submit(dense_search) if overlap else None
        if dense_side and dense_job is None:
            dense_found, timings["dense"] = dense_search()
            candidates.update((i, None) for i in dense_found[:k])
        elif not dense_side:
            timings["dense"] = 0.0
        t1 = time.perf_counter()
        lexical_all = None
        if query.lexical and self.lexical.knows_any(query.terms):
            lexical_all = self.lexical.scores(query.terms)
            if withheld:
                lexical_all = lexical_all.copy()
                lexical_all[list(withheld)] = 0.0
            top = self.lexical.top_ids(query.terms, lexical_all, k)  # positive scores only
            candidates.update((int(i), None) for i in top)
        timings["lexical"] = (time.perf_counter() - t1) * 1000
        if dense_job is not None:
            dense_found, timings["dense"] = dense_job.result()
            candidates = {**dict.fromkeys(dense_found[:k]), **candidates}
        rows = np.sort(np.fromiter(candidates, dtype=np.int64, count=len(candidates)))
        lexical = lexical_all[rows] if lexical_all is not None else None
        dense_ids = self._ids_of(np.asarray(dense_found[:k], np.int64))
        return Candidates(self._ids_of(rows), tuple(dense_ids.tolist()), lexical, timings)

    def lexical_scores(self, terms: QueryTerms, ids: np.ndarray) -> np.ndarray:
        if not self.lexical.knows_any(terms):
            return np.zeros(len(ids), np.float32)
        return self.lexical.scores(terms)[self._rows(ids)]

    def knows_any(self, terms: QueryTerms) -> bool:
        return self.lexical.knows_any(terms)

    def holds_term(self, language: str, term: str, withheld: frozenset[int] = frozenset()) -> bool:
        holders = self.lexical.texts_with(language, term)
        if not len(holders):
            return False
        if not withheld:
            return True
        ids = self._ids_of(np.asarray(holders, np.int64))
        return any(int(i) not in withheld for i in ids)

    def chunk_vectors(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.vectors[self._rows(ids)])

    def chunks(self, ids: Sequence[int]) -> list[Chunk]:
        if self._held is not None:
            return [self._chunk_of[int(i)] for i in ids]
        return [self._chunks[int(i)] for i in ids]

    def sentences(self, ids: Sequence[int]) -> list[Sentence]:
        return [self._sentences[int(i)] for i in ids]

    def describe(self) -> dict[str, Any]:
        return {"name": LOCAL, "vector_index": self.dense.describe()}

    # --- writing -----------------------------------------------------------------------------

    def upsert(self, doc_id: str, entries: Sequence[ChunkEntry]) -> None:
        held = [e for e in self._entries() if e.chunk.doc_id != doc_id]
        self._rebuild([*held, *entries])

    def delete(self, doc_id: str) -> None:
        self._rebuild([e for e in self._entries() if e.chunk.doc_id != doc_id])

    def _entries(self) -> list[ChunkEntry]:
        if self._held is not None:
            return self._held
        part_of = {int(i): lang for lang in self.lexical.languages for i in self.lexical.ids[lang]}
        vectors = np.asarray(self.vectors[np.arange(self.size)])
        return [ChunkEntry(self._chunks[i], part_of[i], vectors[i]) for i in range(self.size)]

    def _rebuild(self, entries: list[ChunkEntry]) -> None:
        """FAISS and BM25 built again over ``entries`` (rows in that order)."""
        if not entries:
            raise ValueError("the local backend cannot hold no chunks (a build needs a sentence)")
        vectors = np.stack([np.asarray(e.vector, np.float32) for e in entries])
        self.dense = build_vector_index(vectors, tuning=self._tuning)
        self.lexical = LexicalParts.build([e.chunk.text for e in entries], [e.language for e in entries])
        self.vectors = vectors
        self._held = entries
        self._chunk_of = {e.chunk.chunk_id: e.chunk for e in entries}
        self._row_ids = np.asarray([e.chunk.chunk_id for e in entries], np.int64)
        self._row_of = {int(c): r for r, c in enumerate(self._row_ids)}

    # --- rows and chunk ids ------------------------------------------------------------------

    def _ids_of(self, rows: np.ndarray) -> np.ndarray:
        return rows if self._row_ids is None else self._row_ids[rows]

    def _rows(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, np.int64)
        if self._row_ids is None:
            return ids
        return np.asarray([self._row_of[int(i)] for i in ids], np.int64)

    def _rows_of(self, ids: frozenset[int]) -> set[int]:
        if not ids or self._row_ids is None:
            return set(ids)
        return {self._row_of[i] for i in ids if i in self._row_of}
