"""The seam between retrieval and storage: what the retriever asks of the engine that holds the
chunks, and nothing of how it answers.

Ids are chunk ids (rows of the build's chunk table). Fusion, re-scoring and choosing the answer
stay in ``rag/answer``: a backend returns candidates and raw scores, so two backends that return
the same candidates with the same scores give the same answers (``--backend local|qdrant``,
docs/scale.md).

Example::

    found = index.search.candidates(CandidateQuery(vector, terms, k=50))
    found.ids, found.dense_ids[:1], found.lexical     # sorted union, best dense match, BM25 of ids
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rag.records import Chunk, Sentence

LOCAL = "local"
QDRANT = "qdrant"
BACKENDS = (LOCAL, QDRANT)

# A question's terms per language part, each analysed in that part's language (our analyzer).
QueryTerms = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class CandidateQuery:
    """One question as storage sees it: its vector, its terms per language, how many candidates
    each side should give, and chunks the search must act as if absent (``withheld``)."""

    vector: np.ndarray
    terms: QueryTerms
    k: int
    withheld: frozenset[int] = frozenset()
    dense: bool = True  # search the vectors
    lexical: bool = True  # search BM25 (per language part, ``k`` each)
    # From this many chunks a backend may search both sides at once (``Tuning.parallel_search_from``).
    parallel_from: int = 100_000


@dataclass(frozen=True)
class Candidates:
    """The union of both sides' candidates, sorted, with what fusion needs of them.

    ``dense_ids``: the dense side's candidates best first (its first is the question's best
    match, which decides the text's language). ``lexical``: BM25 of every id in ``ids`` (zero for
    the ones that hold no query term), or None when no part knows any query term.
    """

    ids: np.ndarray
    dense_ids: tuple[int, ...] = ()
    lexical: np.ndarray | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkEntry:
    """A chunk as it is written to storage: its record, language and float32 vector."""

    chunk: Chunk
    language: str
    vector: np.ndarray


@runtime_checkable
class SearchBackend(Protocol):
    """What retrieval needs of storage (local FAISS + numpy BM25, or Qdrant's engine)."""

    name: str

    @property
    def dimension(self) -> int: ...

    @property
    def size(self) -> int:
        """Chunks held."""
        ...

    @property
    def languages(self) -> tuple[str, ...]:
        """The language parts of the lexical side (one BM25 per document language)."""
        ...

    def candidates(self, query: CandidateQuery) -> Candidates:
        """Dense and BM25 candidates of one question (``query.k`` per side and per part)."""
        ...

    def lexical_scores(self, terms: QueryTerms, ids: np.ndarray) -> np.ndarray:
        """BM25 of the chunks ``ids`` within their own language part (float32, zeros where
        no term occurs)."""
        ...

    def knows_any(self, terms: QueryTerms) -> bool:
        """Whether any part holds any of its terms."""
        ...

    def holds_term(self, language: str, term: str, withheld: frozenset[int] = frozenset()) -> bool:
        """Whether a chunk of the ``language`` part outside ``withheld`` holds the analysed term."""
        ...

    def chunk_vectors(self, ids: np.ndarray) -> np.ndarray:
        """The float32 vectors of the chunks ``ids``, in that order (fusion re-scores with them)."""
        ...

    def chunks(self, ids: Sequence[int]) -> list[Chunk]:
        """The chunk records ``ids``, in that order."""
        ...

    def sentences(self, ids: Sequence[int]) -> list[Sentence]:
        """The sentence records ``ids``, in that order."""
        ...

    def upsert(self, doc_id: str, entries: Sequence[ChunkEntry]) -> None:
        """Write a document's chunks (replacing what the backend held of it)."""
        ...

    def delete(self, doc_id: str) -> None:
        """Remove a document's chunks."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the manifest and an evaluation report record about the backend."""
        ...


class BackendUnavailable(RuntimeError):
    """The chosen backend cannot be used here (its optional package is missing, its service
    is not reachable); the message says what to do."""
