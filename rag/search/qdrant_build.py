"""Writing a build's chunks into Qdrant, and opening them again.

A full build creates a new shard (Qdrant Edge: ``<build>/qdrant/``) or collection (a cluster:
``<alias>-<build>``) and, once the build is live, points the alias at it and drops the previous
one. A build whose documents partly changed (the default ``rag index``) starts from the live
build's points instead: it deletes the points of removed or changed chunks and upserts the new
ones (Qdrant Edge: into a copy of the live shard; a cluster: in place, where the alias already
points). New texts are weighted with the average text length of the last full build; a new
document language needs a full build (its sparse vector is part of the collection's schema).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import IndexTuning
from rag.records import Chunk, Sentence
from rag.search.backend import ChunkEntry
from rag.search.qdrant import (
    EDGE,
    KEYS_FILE,
    REMOTE,
    SHARD_FOLDER,
    EdgeTransport,
    QdrantBackend,
    RemoteTransport,
    Transport,
    point_data,
    point_key,
)
from rag.search.sparse import average_length, collisions


def alias_for(index_dir: Path) -> str:
    """The cluster alias of an index folder (its collections are ``<alias>-<build>``)."""
    digest = hashlib.sha256(str(Path(index_dir).resolve()).encode("utf-8", "surrogateescape")).hexdigest()
    return f"rag-{digest[:12]}"


def _previous_search(previous: Path | None) -> dict[str, Any] | None:
    if previous is None:
        return None
    from rag.jsonfile import read_json

    try:
        manifest = read_json(previous / "manifest.json", ValueError, "manifest")
    except ValueError:
        return None
    search = manifest.get("search_backend") or {}
    return search if search.get("name") == "qdrant" and (previous / KEYS_FILE).is_file() else None


def write_qdrant(
    tmp: Path,
    index_dir: Path,
    name: str,
    chunks: Sequence[Chunk],
    chunk_languages: Sequence[str],
    vectors: np.ndarray,
    params: dict[str, Any],
    tuning: IndexTuning,
    previous: Path | None,
) -> tuple[dict[str, Any], Callable[[], None], Callable[[], None]]:
    """Write the chunks; returns what the manifest records, what to do once the build is live
    (switch the alias, drop the previous collection) and what to do if the build fails."""
    from rag.index.lexical import analyzer_for

    started = time.perf_counter()
    url = params.get("qdrant_url")
    kind = REMOTE if url else EDGE
    languages = sorted(set(chunk_languages))
    dimension = int(vectors.shape[1])
    analyzers = {lang: analyzer_for(lang) for lang in languages}
    terms = [analyzers[lang].terms(c.text) for c, lang in zip(chunks, chunk_languages, strict=True)]
    keys = np.fromiter((point_key(c) for c in chunks), np.uint64, count=len(chunks))
    if len(np.unique(keys)) != len(keys):
        raise ValueError("two chunks share a point key (the same text at the same place twice)")
    np.save(tmp / KEYS_FILE, keys, allow_pickle=False)
    before = _previous_search(previous)
    incremental = (
        before is not None and before.get("transport") == kind and before.get("url") == url
        and before.get("languages") == languages and before.get("dimension") == dimension
    )
    alias = alias_for(index_dir)
    transport: Transport
    if incremental:
        assert before is not None and previous is not None
        avgdl = {lang: float(before["avgdl"][lang]) for lang in languages}
        if kind == EDGE:
            shutil.copytree(previous / SHARD_FOLDER, tmp / SHARD_FOLDER)
            transport = EdgeTransport(tmp / SHARD_FOLDER).open()
            collection = None
        else:
            collection = str(before["collection"])
            transport = RemoteTransport(str(url), collection)
        old = np.load(previous / KEYS_FILE, allow_pickle=False)
        gone = np.setdiff1d(old, keys).tolist()
        new_rows = np.flatnonzero(~np.isin(keys, old)).tolist()
    else:
        avgdl = {lang: average_length([t for t, lg in zip(terms, chunk_languages, strict=True) if lg == lang])
                 for lang in languages}
        if kind == EDGE:
            transport = EdgeTransport(tmp / SHARD_FOLDER)
            collection = None
        else:
            collection = f"{alias}-{name}"
            transport = RemoteTransport(str(url), collection)
        transport.create(dimension, languages, tuning, len(chunks))
        gone, new_rows = [], list(range(len(chunks)))

    def abandon() -> None:
        if kind == REMOTE and not incremental:
            assert isinstance(transport, RemoteTransport)
            transport.drop()
        transport.close()

    try:
        transport.delete([int(k) for k in gone])
        for begin in range(0, len(new_rows), tuning.qdrant_batch):
            batch = new_rows[begin : begin + tuning.qdrant_batch]
            transport.upsert([
                point_data(ChunkEntry(chunks[i], chunk_languages[i], vectors[i]), avgdl[chunk_languages[i]],
                           terms[i])
                for i in batch
            ])
        transport.finish()
        held = transport.count()
        if held != len(chunks):
            raise ValueError(f"Qdrant holds {held} points for {len(chunks)} chunks")
    except BaseException:
        abandon()
        raise
    if kind == EDGE:
        transport.close()  # the folder is renamed when the build goes live
    vocabulary: dict[str, set[str]] = {}
    for t, lang in zip(terms, chunk_languages, strict=True):
        vocabulary.setdefault(lang, set()).update(t)
    described = {
        "name": "qdrant", "transport": kind, "url": url, "collection": collection,
        "alias": alias if kind == REMOTE else None, "dimension": dimension, "type": "qdrant",
        "languages": languages, "avgdl": avgdl, "mode": "incremental" if incremental else "full",
        "upserted": len(new_rows), "deleted": len(gone),
        "hash_collisions": sum(collisions(v) for v in vocabulary.values()),
        "hnsw": {"m": tuning.hnsw_m, "ef_construct": tuning.hnsw_ef_construction,
                 "ef": tuning.hnsw_ef_search},
        "write_seconds": round(time.perf_counter() - started, 3),
    }
    previous_collection = before.get("collection") if before else None

    def made_live() -> None:
        if kind != REMOTE:
            return
        assert isinstance(transport, RemoteTransport)
        if not incremental:
            transport.switch_alias(alias)
            if previous_collection and previous_collection != collection:
                transport.client.delete_collection(str(previous_collection))
        transport.close()

    return described, made_live, abandon


def open_qdrant(
    path: Path, manifest: dict[str, Any], chunks: Sequence[Chunk], sentences: Sequence[Sentence],
    tuning: IndexTuning,
) -> QdrantBackend:
    """The backend over a build written by :func:`write_qdrant`."""
    search = manifest["search_backend"]
    transport: Transport
    if search.get("transport") == REMOTE:
        transport = RemoteTransport(str(search["url"]), str(search["collection"]))
    else:
        transport = EdgeTransport(path / SHARD_FOLDER).open()
    keys = np.load(path / KEYS_FILE, allow_pickle=False)
    if len(keys) != len(chunks):
        raise ValueError(f"{KEYS_FILE} has {len(keys)} keys for {len(chunks)} chunks")
    described = {k: search.get(k) for k in ("url", "collection", "alias", "mode")}
    from rag.index.dense import RowFile

    rows = RowFile(path / "chunk_vectors.npy")  # written by every build (reuse.py reads it too)
    if rows.shape != (len(chunks), int(search["dimension"])):
        raise ValueError("chunk_vectors.npy does not fit the chunks")
    return QdrantBackend(transport, keys, chunks, sentences, search["languages"], int(search["dimension"]),
                         search.get("avgdl"), tuning, described, rows)
