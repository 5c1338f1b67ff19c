"""Opening the index: load the live build when it fits the documents and settings, else build
it again under the lock. The pieces live beside it: the folder (``CURRENT``, the lock,
staleness) in :mod:`rag.index.folder`, building in :mod:`rag.index.build`, the loaded index in
:mod:`rag.index.loaded`.

Example::

    index, built_with = ensure_index(Path("index"), Path("seeds"), settings.index_params(),
                                     lambda: build_encoder(settings.model))
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.config import IndexTuning
from rag.index.build import build_index, corpus_language, encode_texts
from rag.index.embedding import Embedder
from rag.index.encoders import Encoder
from rag.index.folder import (
    CURRENT,
    FORMAT_VERSION,
    MANIFEST,
    IndexCorrupt,
    IndexLocked,
    IndexMissing,
    StoreError,
    build_lock,
    current_build,
    read_manifest,
    stale_reasons,
)
from rag.index.loaded import LoadedIndex, load_index, previous_in_paragraph
from rag.ingest import load_documents, seeds_fingerprint
from rag.records import Document

__all__ = [
    "CURRENT", "FORMAT_VERSION", "MANIFEST", "IndexCorrupt", "IndexLocked", "IndexMissing", "LoadedIndex",
    "Status", "StoreError", "build_index", "build_lock", "corpus_language", "current_build", "encode_texts",
    "ensure_index", "fresh_index", "load_index", "previous_in_paragraph", "read_manifest",
    "report_to_stderr", "stale_reasons",
]

Status = Callable[[str], None]


def report_to_stderr(message: str) -> None:
    """The default :data:`Status`: progress and rebuild reasons go to stderr."""
    print(message, file=sys.stderr, flush=True)


def ensure_index(
    index_dir: Path,
    seeds_dir: Path | None,
    params: dict[str, Any],
    encoder_factory: Callable[[], Encoder],
    on_status: Status = report_to_stderr,
    documents: Sequence[Document] | None = None,
    corpus_fingerprint: str | None = None,
    force: bool = False,
    progress: bool = True,
    tuning: IndexTuning | None = None,
    embedder: Embedder | None = None,
) -> tuple[LoadedIndex, Encoder | None]:
    """Load the index in ``index_dir`` (a model's own folder), (re)building it from
    ``documents`` or the files of ``seeds_dir`` when it is missing, stale or damaged.

    ``params`` are the settings the index depends on (``Settings.index_params()``): a change in
    any of them means a rebuild. Returns the index and the encoder if one had to be created for
    the build (so the caller need not load it twice). ``corpus_fingerprint`` is required with
    explicit ``documents``. ``embedder``: where a build encodes (``rag index --workers/--ray``,
    :mod:`rag.index.embedding`; default: here, with the encoder).
    """
    index_dir = Path(index_dir)
    if documents is None:
        if seeds_dir is None:
            raise ValueError("ensure_index needs documents or a seeds folder")
        corpus_fingerprint = seeds_fingerprint(seeds_dir)
    elif corpus_fingerprint is None:
        raise ValueError("corpus_fingerprint is required with explicit documents")
    if not force:
        index = fresh_index(index_dir, params, corpus_fingerprint, on_status, tuning)
        if index is not None:
            return index, None
    with build_lock(index_dir, on_wait=on_status):
        # Another process may have built it while we waited for the lock.
        quiet: Status = lambda message: None  # noqa: E731 - the reason was said above
        index = None if force else fresh_index(index_dir, params, corpus_fingerprint, quiet, tuning)
        if index is not None:
            return index, None
        if documents is not None:
            docs = list(documents)
        else:
            assert seeds_dir is not None  # checked above
            docs = load_documents(seeds_dir, on_skip=on_status)
        encoder = encoder_factory()
        started = time.perf_counter()
        # --force does everything again; otherwise unchanged documents keep vectors and sentences.
        build_index(
            index_dir, docs, encoder, params, corpus_fingerprint, progress=progress, reuse=not force,
            tuning=tuning, embedder=embedder,
        )
        index = load_index(index_dir, tuning=tuning)
        counts, embedding = index.manifest["counts"], index.manifest.get("embedding", {})
        on_status(
            f"Index built in {time.perf_counter() - started:.1f} s: {counts['documents']} document(s), "
            f"{counts['sentences']} sentences, {counts['chunks']} chunks "
            f"({embedding.get('documents_embedded')} document(s) embedded, "
            f"{embedding.get('documents_reused')} reused) -> {index.path}"
        )
        return index, encoder


def fresh_index(
    index_dir: Path,
    params: dict[str, Any],
    fingerprint: str,
    on_status: Status,
    tuning: IndexTuning | None = None,
) -> LoadedIndex | None:
    """The index if it is there, fits the documents and settings, and loads; else None, with
    the reason passed to ``on_status``."""
    try:
        manifest = read_manifest(index_dir)
    except StoreError as exc:
        on_status(f"Building the index: {exc}.")
        return None
    reasons = stale_reasons(manifest, params, fingerprint)
    if reasons:
        on_status("Rebuilding the index: " + "; ".join(reasons) + ".")
        return None
    try:
        return load_index(index_dir, tuning=tuning)
    except StoreError as exc:
        on_status(f"Rebuilding the index: {exc}.")
        return None
