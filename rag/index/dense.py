"""The vector side: a :class:`VectorIndex` protocol and its FAISS implementation.

FAISS is named only in this module: swapping the vector store means another class with
``add``/``search``/``save``/``load``, nothing else.

Vectors are L2-normalised, so inner product is cosine similarity. An exact flat index is the
right choice while a scan of all vectors costs at most a few milliseconds; past
``IndexTuning.approximate_from`` vectors (rag/config.py, with the HNSW parameters) an HNSW
graph keeps a question in about a millisecond at the cost of a little recall. The numbers come
from ``rag bench`` (README, section "Performance"): a flat scan of 512-d vectors costs about
0.1-0.25 us per vector and question on the 2-core test machines (1-2.5 ms at 10,000 chunks,
12-25 ms at 100,000, 0.2-0.4 s at 1,000,000); HNSW with these parameters answers in 1-3 ms with
recall@10 against exact search of about 0.98 at 1,000,000 synthetic clustered vectors. IVF
(4096 lists) needed nprobe 128 and ~60 ms for 0.97 there, so HNSW it is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.config import IndexTuning

FLAT = "flat"
HNSW = "hnsw"
# HNSW over 8-bit scalar-quantised vectors (FAISS IndexHNSWSQ): the graph searches uint8 codes,
# 4x smaller than float32; the retriever re-scores its candidates with the exact float32 chunk
# vectors (read by row from chunk_vectors.npy, see RowFile: nothing of that file is held).
# Measured on the bench's synthetic vectors at 100,000 (M=32, efSearch 128, one thread): index
# 75 MB vs 221 MB, query p50 0.94 vs 0.89 ms, recall@10 0.976 vs 0.998, build 88 vs 64 s (busy
# cores). At 1,000,000 float32 HNSW holds 2 GB of vectors + 0.26 GB of graph resident, over the
# 1.5 GB budget for index and BM25 together; with 8-bit codes 0.5 GB + the graph (docs/performance.md).
HNSW_SQ8 = "hnsw_sq8"
INDEX_TYPES = (FLAT, HNSW, HNSW_SQ8)


class VectorIndex(Protocol):
    """Nearest neighbours by inner product over L2-normalised float32 vectors."""

    @property
    def dimension(self) -> int: ...

    @property
    def size(self) -> int: ...

    def add(self, vectors: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of shape (n_queries, k), best first; k is capped at ``size``."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the manifest records about the structure (its ``type`` and parameters)."""
        ...

    def save(self, folder: Path) -> None:
        """Write the index into ``folder`` (read back by :func:`load_vector_index`)."""
        ...


def choose_index_type(
    n_vectors: int, approximate_from: int | None = None, quantise_from: int | None = None
) -> str:
    """Exact while small, HNSW once a flat scan would cost more than a few milliseconds, HNSW
    over 8-bit codes once float32 vectors would take too much memory (the thresholds:
    ``IndexTuning.approximate_from`` and ``quantise_from`` unless given)."""
    threshold = IndexTuning.approximate_from if approximate_from is None else approximate_from
    large = IndexTuning.quantise_from if quantise_from is None else quantise_from
    if n_vectors < threshold:
        return FLAT
    return HNSW if n_vectors < large else HNSW_SQ8


class FaissIndex:
    """A FAISS inner-product index (flat or HNSW). Example::

        index = build_vector_index(vectors)          # structure chosen by size
        scores, ids = index.search(question_vector, 50)
        index.save(folder); load_vector_index(folder)
    """

    FILE = "dense.faiss"

    def __init__(self, index: Any, few_queries: int = IndexTuning.few_queries) -> None:
        self._index = index
        self.few_queries = few_queries  # up to this many questions: one OpenMP thread

    @classmethod
    def empty(cls, dimension: int, kind: str, tuning: IndexTuning | None = None) -> FaissIndex:
        import faiss

        tuning = tuning or IndexTuning()
        index: Any
        if kind == FLAT:
            index = faiss.IndexFlatIP(dimension)
        elif kind in (HNSW, HNSW_SQ8):
            if kind == HNSW:
                index = faiss.IndexHNSWFlat(dimension, tuning.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            else:
                index = faiss.IndexHNSWSQ(
                    dimension, faiss.ScalarQuantizer.QT_8bit,  # type: ignore[arg-type]  # an enum int
                    tuning.hnsw_m, faiss.METRIC_INNER_PRODUCT,
                )
            index.hnsw.efConstruction = tuning.hnsw_ef_construction
            index.hnsw.efSearch = tuning.hnsw_ef_search
        else:
            raise ValueError(f"unknown index type {kind!r} (expected one of {', '.join(INDEX_TYPES)})")
        return cls(index, tuning.few_queries)

    @classmethod
    def load(cls, folder: Path, mmap: bool = False, few_queries: int = IndexTuning.few_queries) -> FaissIndex:
        """Read a saved index; RuntimeError when the file is not a FAISS index.

        ``mmap``: the stored vectors stay in the file and are paged in as searches touch them
        (memory-mapped, read-only), instead of being read into memory.
        """
        import faiss

        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mmap else 0
        return cls(faiss.read_index(str(Path(folder) / cls.FILE), flags), few_queries)

    def save(self, folder: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(Path(folder) / self.FILE))

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        import faiss

        if isinstance(self._index, faiss.IndexHNSWSQ):
            return HNSW_SQ8
        return HNSW if isinstance(self._index, faiss.IndexHNSW) else FLAT

    def stored_vectors(self) -> np.ndarray | None:
        """The float32 vectors the index holds, as a read-only array without a copy (None when it
        stores them in another form).

        The retriever scores its candidates with these, so an index needs no second copy of its
        vectors in memory (at 1,000,000 x 512-d chunks that copy was 2 GB).
        """
        import faiss

        index = self._index
        storage = index if isinstance(index, faiss.IndexFlat) else None
        if isinstance(index, faiss.IndexHNSW):
            inner = faiss.downcast_index(index.storage)
            storage = inner if isinstance(inner, faiss.IndexFlat) else None
        if storage is None or storage.ntotal == 0:
            return None
        n, d = int(storage.ntotal), int(storage.d)
        view = faiss.rev_swig_ptr(storage.get_xb(), n * d).reshape(n, d).view(_IndexOwned)
        view.owner = self  # the memory belongs to the FAISS index: keep it alive with the view
        view.flags.writeable = False
        return view

    def add(self, vectors: np.ndarray) -> None:
        if len(vectors):
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            if not self._index.is_trained:  # the quantiser learns each dimension's range first
                self._index.train(vectors)
            self._index.add(vectors)

    def describe(self) -> dict[str, Any]:
        """The structure's type and, for HNSW, its parameters."""
        params: dict[str, Any] = {"type": self.kind}
        if self.kind == HNSW_SQ8:
            params["quantizer"] = "8bit"
        if self.kind in (HNSW, HNSW_SQ8):
            hnsw = self._index.hnsw
            params.update(
                M=int(hnsw.nb_neighbors(1)),
                ef_construction=int(hnsw.efConstruction),
                ef_search=int(hnsw.efSearch),
            )
        return params

    def set_ef_search(self, ef_search: int) -> None:
        """How many graph nodes an HNSW search keeps in its queue (more: better recall, slower)."""
        if self.kind in (HNSW, HNSW_SQ8):
            self._index.hnsw.efSearch = int(ef_search)

    def search(self, queries: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(top_k, self.size))
        if len(queries) > self.few_queries:
            return self._index.search(queries, k)
        # FAISS parallelises over queries: for one question the other OpenMP threads only wait,
        # and on busy cores that waiting made a flat search of 100k vectors 2-4x slower (measured).
        with single_thread():
            return self._index.search(queries, k)


class _IndexOwned(np.ndarray):
    """An array viewing memory that a FAISS index owns; ``owner`` keeps that index alive."""

    owner: Any = None

    def __array_finalize__(self, obj: Any) -> None:
        self.owner = getattr(obj, "owner", None)


class single_thread:  # noqa: N801 - used like a function: ``with single_thread(): ...``
    """FAISS's OpenMP pool at one thread inside the block, as it was after it."""

    def __enter__(self) -> None:
        import faiss

        self._threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)

    def __exit__(self, *exc: object) -> None:
        import faiss

        faiss.omp_set_num_threads(self._threads)


def build_vector_index(
    vectors: np.ndarray,
    index_type: str | None = None,
    approximate_from: int | None = None,
    tuning: IndexTuning | None = None,
) -> FaissIndex:
    """An index holding ``vectors`` (float32, rows L2-normalised).

    ``index_type`` forces a structure; otherwise :func:`choose_index_type` picks one by
    ``tuning``'s thresholds, ``approximate_from`` overriding the first (tests use a tiny one).
    """
    tuning = tuning or IndexTuning()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    threshold = tuning.approximate_from if approximate_from is None else approximate_from
    kind = index_type or choose_index_type(len(vectors), threshold, tuning.quantise_from)
    index = FaissIndex.empty(vectors.shape[1], kind, tuning)
    index.add(vectors)
    return index


class RowFile:
    """The rows of a 2-D ``.npy`` file, read on demand with ``pread``: nothing mapped or held.

    The retriever scores its ~100 candidates with their float32 rows (2 KB each). Memory-mapping
    chunk_vectors.npy instead made the whole 2 GB file resident at 1,000,000 chunks after 200
    questions (measured 2,009 MB for index and BM25, even with ``MADV_RANDOM``: the kernel maps
    64 KB of cached file around every faulting row); reading the rows costs ~1-2 us each.
    """

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            shape, fortran, dtype = (
                np.lib.format.read_array_header_1_0(handle) if version == (1, 0)
                else np.lib.format.read_array_header_2_0(handle)
            )
            self._offset = handle.tell()
        if len(shape) != 2 or fortran or dtype.hasobject:
            raise ValueError(f"{path} is not a 2-D C-ordered numeric array")
        self.path = Path(path)
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(dtype)
        self._row_bytes = self.shape[1] * self.dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, ids: np.ndarray | Sequence[int]) -> np.ndarray:
        """The rows ``ids`` (a sequence of row numbers) as a new array, in that order."""
        rows = np.asarray(ids, dtype=np.int64).reshape(-1)
        if rows.size and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError(f"row ids outside 0..{self.shape[0] - 1}")
        out = np.empty((rows.size, self.shape[1]), dtype=self.dtype)
        for j, i in enumerate(rows.tolist()):
            if os.preadv(self._fd, [out[j]], self._offset + i * self._row_bytes) != self._row_bytes:
                raise OSError(f"{self.path} is shorter than its header says")
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """Every row (tests and small files; the retriever reads rows by id)."""
        whole = self[np.arange(self.shape[0])]
        return whole if dtype is None else whole.astype(dtype)

    def __del__(self) -> None:
        try:
            os.close(self._fd)
        except (AttributeError, OSError):
            pass


def load_vector_index(folder: Path, mmap: bool = False, tuning: IndexTuning | None = None) -> FaissIndex:
    """The vector index saved in ``folder`` (its vectors memory-mapped with ``mmap``)."""
    return FaissIndex.load(folder, mmap=mmap, few_queries=(tuning or IndexTuning()).few_queries)


def exact_search(corpus: np.ndarray, queries: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product top-k without building an index (the reference for recall)."""
    import faiss

    return faiss.knn(np.atleast_2d(queries), corpus, top_k, metric=faiss.METRIC_INNER_PRODUCT)


def library_version() -> str:
    import faiss

    return str(faiss.__version__)
