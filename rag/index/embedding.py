"""Embedding a build's documents: one function per document, run where the build says.

A build (``rag/index/build.py``) finds which documents' texts miss the live build's vectors
(``rag/index/reuse.py``) and asks an :class:`Embedder` for them as :class:`EmbedRequest` records,
one per document. Every embedder runs the same per-document function, :func:`embed_request`, and
hands each :class:`EmbeddedDocument` to one sink; where they run is all that differs:

* :class:`InProcess`: here, with the build's encoder (``--threads`` BLAS threads): today's build;
* :class:`rag.index.workers.ProcessPool`: ``rag index --workers N``, N processes of one BLAS
  thread each (on busy cores one process with 2 BLAS threads encodes 34-135 sentences a second,
  one with 1 thread 220-470, measured in docs/scale.md);
* :class:`rag.index.ray_embed.RayActors`: ``rag index --ray ADDRESS|local``, Ray Data
  ``map_batches`` actors (the optional ``rag[scale]`` extra).

Since each document is encoded in its own calls whatever runs it, the vectors do not depend on
which process encodes which document, only on the encoder and its BLAS threads (which
:func:`rag.index.reuse.encoder_identity` records, so the incremental keys stay right).

Example::

    request = EmbedRequest("doc-1", {"sentence_vectors.npy": ("Satz eins.", "Satz zwei.")}, batch=64)
    embed_request(encoder, request).vectors["sentence_vectors.npy"].shape     # (2, 512)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from rag.index.encoders import Encoder, encode

# The vocabulary of the word table (rag/index/words.py): encoded in one call in its fixed order,
# unlike a document's texts (batches of IndexTuning.encode_batch).
WORDS = "words"
# The request id of the vocabulary (document ids are never empty).
VOCABULARY_ID = ""


@dataclass(frozen=True)
class EmbedRequest:
    """One document's texts to encode, by kind (the vector file they go to), each kind in its
    own calls of at most ``batch`` texts (kind :data:`WORDS`: one call)."""

    doc_id: str
    texts: Mapping[str, tuple[str, ...]]
    batch: int

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError("batch must be >= 1")

    @property
    def size(self) -> int:
        return sum(len(texts) for texts in self.texts.values())


@dataclass(frozen=True)
class EmbeddedDocument:
    """One document's vectors by kind (L2-normalised float32 rows, in the order of its texts)."""

    doc_id: str
    vectors: Mapping[str, np.ndarray]
    seconds: float = 0.0  # spent encoding, where it ran
    texts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(len(rows) for rows in self.vectors.values())


def encode_in_batches(
    encoder: Encoder, texts: Sequence[str], batch_size: int, advance: Callable[[int], object] | None = None
) -> np.ndarray:
    """``texts`` encoded in calls of at most ``batch_size`` (what the incremental keys assume)."""
    out = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
    for begin in range(0, len(texts), batch_size):
        batch = list(texts[begin : begin + batch_size])
        out[begin : begin + len(batch)] = encode(encoder, batch)
        if advance is not None:
            advance(len(batch))
    return out


def embed_request(
    encoder: Encoder, request: EmbedRequest, advance: Callable[[int], object] | None = None
) -> EmbeddedDocument:
    """The per-document function every embedder runs (in this process, a worker or a Ray actor)."""
    started = time.perf_counter()
    vectors = {}
    for kind, texts in request.texts.items():
        if kind == WORDS:
            vectors[kind] = encode(encoder, list(texts))
            if advance is not None:
                advance(len(texts))
        else:
            vectors[kind] = encode_in_batches(encoder, texts, request.batch, advance)
    return EmbeddedDocument(request.doc_id, vectors, time.perf_counter() - started, dict(request.texts))


Sink = Callable[[EmbeddedDocument], None]


class Embedder(Protocol):
    """Runs :func:`embed_request` for every request and passes each result to ``sink`` (in any
    order; the build puts them in place by ``doc_id``)."""

    @property
    def threads(self) -> int | None:
        """BLAS threads of each encoder that runs (part of the vectors' identity); None: the
        build encoder's own."""
        ...

    def run(self, requests: Sequence[EmbedRequest], sink: Sink, advance: Callable[[int], object]) -> None: ...


class InProcess:
    """Today's build: every request encoded here, one after the other, with ``encoder``."""

    threads = None

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder

    def run(self, requests: Sequence[EmbedRequest], sink: Sink, advance: Callable[[int], object]) -> None:
        for request in requests:
            sink(embed_request(self.encoder, request, advance))


def check_workers(workers: int) -> int:
    """``--workers`` as a count, or a ValueError a user can read."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"--workers wants a whole number of processes >= 1, got {workers!r}")
    return workers


def embedder_for(model: str, workers: int | None = None, ray: str | None = None) -> Embedder | None:
    """The embedder ``rag index`` options ask for: None (the build's own encoder, here: today's
    build), :class:`rag.index.workers.ProcessPool` for ``workers``, or
    :class:`rag.index.ray_embed.RayActors` for a Ray address (``workers`` actors; default: the
    cluster's CPUs). Imports what it returns only."""
    if workers is not None:
        check_workers(workers)
    if ray is not None:
        from rag.index.ray_embed import RayActors

        return RayActors(model, ray, actors=workers)
    if workers is None:
        return None
    from rag.index.workers import ProcessPool

    return ProcessPool(model, workers)
