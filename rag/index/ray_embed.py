"""``rag index --ray ADDRESS|local``: the build's documents embedded by Ray Data actors.

Needs the optional extra (``pip install 'rag[scale]'``, which brings ``ray[data]``); nothing
else in rag imports ray, and this module imports it only inside :meth:`RayActors.run`.

Each document becomes one row of a Ray dataset; ``map_batches`` runs :class:`EmbedActor` on a
pool of actors (one CPU and one BLAS thread each, the encoder loaded once per actor), and every
actor calls the same per-document function as the local build,
:func:`rag.index.embedding.embed_request`. Rows travel as plain columns (the request as JSON,
the vectors as float32 bytes), so no object of ours has to be pickled into Ray's Arrow blocks.

Two ways to write the result:

* back to the driver (the default): the driver hands each :class:`EmbeddedDocument` to the
  build's sink, as the other embedders do, and the local index is written as always;
* in the actor as well (``writer``): a callable made once per actor by ``writer()`` that takes
  each :class:`EmbeddedDocument` where it was computed, e.g. an upsert into a search engine that
  every node can reach. With ``return_vectors=False`` only the document id and counts then come
  back to the driver (no local index can be assembled from that: it is for a build that writes
  to such an engine alone).

Example::

    RayActors("use-multilingual", address="local", actors=2).run(requests, sink, advance)
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rag.index.embedding import EmbeddedDocument, EmbedRequest, Sink, check_workers, embed_request
from rag.index.encoders import Encoder
from rag.index.folder import StoreError
from rag.index.workers import one_thread_encoder

INSTALL_HINT = (
    "--ray needs the optional 'scale' extra (Ray Data): pip install 'rag[scale]' "
    "(in a clone: .venv/bin/pip install -e '.[scale]')"
)
LOCAL = "local"

Writer = Callable[[EmbeddedDocument], None]


class ScaleExtraMissing(StoreError):
    """``--ray`` without ray installed: says how to install it."""


def request_row(request: EmbedRequest) -> dict[str, str]:
    """A request as one dataset row (plain JSON: Ray's blocks hold it as a string column)."""
    return {"request": json.dumps({"doc_id": request.doc_id, "batch": request.batch,
                                   "texts": {k: list(v) for k, v in request.texts.items()}},
                                  ensure_ascii=False)}


def row_request(row: str) -> EmbedRequest:
    data = json.loads(row)
    texts = {kind: tuple(values) for kind, values in data["texts"].items()}
    return EmbedRequest(str(data["doc_id"]), texts, int(data["batch"]))


def result_row(document: EmbeddedDocument, with_vectors: bool = True) -> dict[str, Any]:
    """An embedded document as plain columns: its id, kinds with row counts, float32 bytes."""
    kinds = [[kind, len(rows)] for kind, rows in document.vectors.items()]
    data = b"".join(
        np.ascontiguousarray(rows, dtype=np.float32).tobytes() for rows in document.vectors.values()
    )
    dims = {int(rows.shape[1]) for rows in document.vectors.values() if rows.ndim == 2}
    return {"doc_id": document.doc_id, "kinds": json.dumps(kinds), "seconds": float(document.seconds),
            "dimension": dims.pop() if len(dims) == 1 else 0, "vectors": data if with_vectors else b""}


def row_result(doc_id: str, kinds: str, seconds: float, dimension: int, data: bytes) -> EmbeddedDocument:
    """:func:`result_row` read back (kinds without bytes: written in the actor, no vectors here)."""
    vectors: dict[str, np.ndarray] = {}
    flat = np.frombuffer(data, dtype=np.float32) if data else np.zeros(0, dtype=np.float32)
    start = 0
    for kind, count in json.loads(kinds):
        if not data:
            continue
        stop = start + int(count) * int(dimension)
        vectors[kind] = flat[start:stop].reshape(int(count), int(dimension)).copy()
        start = stop
    return EmbeddedDocument(doc_id, vectors, float(seconds))


class EmbedActor:
    """One Ray actor: the encoder loaded once (one BLAS thread), then every batch of rows
    embedded with :func:`embed_request`; with ``writer``, each result is written here."""

    def __init__(
        self, make_encoder: Callable[[], Encoder], writer: Callable[[], Writer] | None = None,
        return_vectors: bool = True,
    ) -> None:
        self.encoder = make_encoder()
        self.write = writer() if writer is not None else None
        self.return_vectors = return_vectors

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"doc_id": [], "kinds": [], "seconds": [], "dimension": [], "vectors": []}
        for row in batch["request"]:
            document = embed_request(self.encoder, row_request(str(row)))
            if self.write is not None:
                self.write(document)
            for name, value in result_row(document, self.return_vectors).items():
                out[name].append(value)
        return out


def require_ray() -> None:
    """Raise :class:`ScaleExtraMissing` (with how to install it) unless Ray Data can be imported."""
    _import_ray()


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401 - the extra brings it; a bare `pip install ray` does not
    except ImportError as exc:
        raise ScaleExtraMissing(INSTALL_HINT) from exc
    return ray


class RayActors:
    """Embeds on a Ray cluster (``address``: ``ray://host:10001``, ``auto``, or ``local`` for
    a Ray started in this process), ``actors`` at a time (default: the cluster's CPUs)."""

    threads = 1

    def __init__(self, model: str, address: str = LOCAL, actors: int | None = None,
                 writer: Callable[[], Writer] | None = None, return_vectors: bool = True,
                 make_encoder: Callable[[], Encoder] | None = None) -> None:
        if not address or not address.strip():
            raise ValueError("--ray wants an address (ray://HOST:PORT, auto) or 'local'")
        self.model = model
        self.address = address.strip()
        self.actors = check_workers(actors) if actors is not None else None
        self.writer = writer
        self.return_vectors = return_vectors
        self.make_encoder = make_encoder or one_thread_encoder(model)

    def run(self, requests: Sequence[EmbedRequest], sink: Sink, advance: Callable[[int], object]) -> None:
        if not requests:
            return
        ray = _import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                       "logging_level": logging.WARNING}
            if self.address != LOCAL:
                options["address"] = self.address
            ray.init(**options)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the build has its own
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        try:
            self._run(ray, requests, sink, advance)
        finally:
            if started_here:
                ray.shutdown()

    def _run(
        self, ray: Any, requests: Sequence[EmbedRequest], sink: Sink, advance: Callable[[int], object]
    ) -> None:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        actors = max(1, min(self.actors or cpus, len(requests)))
        rows = [request_row(r) for r in sorted(requests, key=lambda r: -r.size)]
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
            EmbedActor,
            fn_constructor_kwargs={"make_encoder": self.make_encoder, "writer": self.writer,
                                   "return_vectors": self.return_vectors},
            batch_size=1,
            batch_format="numpy",
            num_cpus=1,
            compute=ray.data.ActorPoolStrategy(size=actors),
        )
        by_id = {r.doc_id: r for r in requests}
        for row in dataset.iter_rows():
            document = row_result(str(row["doc_id"]), str(row["kinds"]), float(row["seconds"]),
                                  int(row["dimension"]), bytes(row["vectors"]))
            request = by_id[document.doc_id]
            if self.return_vectors:
                sink(dataclasses.replace(document, texts=dict(request.texts)))  # the texts stayed here
            advance(request.size)
