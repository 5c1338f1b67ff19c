"""Reuse the vectors of unchanged documents from the live build, so a build embeds only what changed.

Embedding is nearly all of a build's time, so adding, changing or removing one document of a
hundred should not embed the other 99 again. Each build therefore records, per document and per
kind of text (chunks, sentences, sentences in context), where that document's rows are and a key
of what produced them (``vector_keys.json`` in the build folder); the next build takes the rows of
every document whose key is found and encodes only the rest. Why it is done this way:

* The key is a hash of exactly what the encoder is called with (the document's texts, in order)
  and of who calls it (encoder class, name, dimension, thread count, batch size, rag version).
  Texts are per document: chunks never cross a paragraph and a sentence's context is the sentence
  before it in its paragraph (``chunk_sentences``, ``sentences_in_context``), so the texts already
  carry the chunk size, stride, loader and sentence splitter; a changed ``chunk_size`` re-embeds
  the chunks and still reuses the sentence vectors.
* Encoders are not batch-invariant: USE sorts and pads within a call and BLAS kernels depend on
  the matrix shapes and thread count (1.5e-7 apart, measured). So every build, full or
  incremental, encodes each document in its own calls (:func:`lookup` finds what misses,
  ``rag/index/embedding.py`` encodes it, :func:`assemble` puts the rows in order); a reused row
  is then bit for bit what a fresh build computes.
* An entry is checked before it is used: file readable, float32, the encoder's dimension, the
  expected row count, and a SHA-256 of the rows equal to the one recorded when they were written.
  Anything else is encoded again, never trusted.
* The table lives in the build folder, so pruning the old build prunes it: the disk holds one set
  of vectors, never a growing cache.

Splitting into sentences (SoMaJo, ~10 ms a sentence) is the next largest cost, so a document whose
record is unchanged (text, language, offsets, loader; :func:`document_key`) also keeps its
sentences from the live build, renumbered (:func:`sentences_by_document`). Neither reuse sees code
changes made without a new rag version; ``rag index --force`` (``reuse=False``) redoes everything.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from rag import __version__
from rag.index.encoders import Encoder
from rag.ingest.registry import loader_for
from rag.records import Document, Sentence

VECTOR_KEYS = "vector_keys.json"
KEYS_FORMAT = 1


def encoder_identity(encoder: Encoder, batch: int, threads: int | None = None) -> str:
    """What besides the texts decides the vectors' bits: who encodes, how, in which version.

    ``threads``: the BLAS threads of the encoders that will run (worker processes and Ray
    actors use one each, ``rag/index/embedding.py``), when they are not ``encoder``'s own.
    """
    kind = type(encoder)
    return json.dumps(
        {
            "rag": __version__,
            "format": KEYS_FORMAT,
            "class": f"{kind.__module__}.{kind.__qualname__}",
            "name": encoder.name,
            "dimension": int(encoder.dimension),
            "threads": threads if threads is not None else getattr(encoder, "threads", None),
            "batch": batch,
        },
        sort_keys=True,
    )


def texts_key(identity: str, texts: Sequence[str]) -> str:
    """The key of one document's texts of one kind (length-prefixed, so no two lists collide)."""
    digest = hashlib.sha256(identity.encode("utf-8"))
    digest.update(len(texts).to_bytes(8, "little"))
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def rows_digest(rows: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(rows, dtype=np.float32).tobytes()).hexdigest()


@dataclass(frozen=True)
class _Entry:
    file: str
    start: int
    stop: int
    digest: str


class PreviousVectors:
    """The live build's vectors by key; empty when there is no build, no table, or it is unreadable.

    Arrays are opened memory-mapped on first use and dropped with :meth:`close`.
    """

    def __init__(self, build: Path | None, dimension: int) -> None:
        self.build = build
        self.dimension = int(dimension)
        self._entries: dict[str, _Entry] = {}
        self._arrays: dict[str, np.ndarray | None] = {}
        if build is not None:
            self._entries = _read_entries(build / VECTOR_KEYS)

    def take(self, key: str, count: int) -> np.ndarray | None:
        """A copy of the rows stored under ``key`` if they pass every check, else None."""
        entry = self._entries.get(key)
        if entry is None or entry.stop - entry.start != count:
            return None
        array = self._array(entry.file)
        if array is None or entry.stop > array.shape[0]:
            return None
        try:
            rows = np.array(array[entry.start : entry.stop], dtype=np.float32)
        except (OSError, ValueError):
            return None
        return rows if rows_digest(rows) == entry.digest else None

    def _array(self, file: str) -> np.ndarray | None:
        if file not in self._arrays:
            array: np.ndarray | None = None
            if self.build is not None and "/" not in file and file.endswith(".npy"):
                try:
                    array = np.load(self.build / file, mmap_mode="r", allow_pickle=False)
                except (OSError, ValueError):
                    array = None
            if array is not None and not (
                array.ndim == 2 and array.dtype == np.float32 and array.shape[1] == self.dimension
            ):
                array = None
            self._arrays[file] = array
        return self._arrays[file]

    def close(self) -> None:
        self._arrays.clear()


def _read_entries(path: Path) -> dict[str, _Entry]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != KEYS_FORMAT:
            return {}
        entries = {}
        for file, rows in data["files"].items():
            for row in rows:
                start, stop = int(row["rows"][0]), int(row["rows"][1])
                if 0 <= start <= stop:
                    entries[str(row["key"])] = _Entry(str(file), start, stop, str(row["digest"]))
        return entries
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return {}


@dataclass
class Embedded:
    """One kind of text for all documents: the rows in document order and where they came from."""

    vectors: np.ndarray
    keys: list[str]  # one per document group
    bounds: list[tuple[int, int]]  # the group's rows in ``vectors``
    encoded: list[bool]  # True: encoded in this build; False: reused (or nothing to encode)

    @property
    def texts_encoded(self) -> int:
        return sum(b - a for (a, b), e in zip(self.bounds, self.encoded, strict=True) if e)


def lookup(
    groups: Sequence[Sequence[str]], identity: str, previous: PreviousVectors
) -> tuple[list[str], list[np.ndarray | None]]:
    """Each group's key and its reused rows (None: it has to be encoded; empty groups: None)."""
    keys = [texts_key(identity, texts) for texts in groups]
    found = [
        previous.take(key, len(texts)) if texts else None
        for key, texts in zip(keys, groups, strict=True)
    ]
    return keys, found


def assemble(
    groups: Sequence[Sequence[str]],
    keys: Sequence[str],
    found: Sequence[np.ndarray | None],
    fresh: Callable[[int], np.ndarray],
    dimension: int,
) -> Embedded:
    """The rows of every group in order: reused ones from ``found``, the others from
    ``fresh(group_number)`` (called only for non-empty groups that missed)."""
    parts: list[np.ndarray] = []
    bounds: list[tuple[int, int]] = []
    encoded: list[bool] = []
    start = 0
    for number, (texts, rows) in enumerate(zip(groups, found, strict=True)):
        is_fresh = rows is None and len(texts) > 0
        if rows is None:
            rows = (
                np.asarray(fresh(number), dtype=np.float32)
                if texts
                else np.zeros((0, dimension), dtype=np.float32)
            )
            if rows.shape != (len(texts), dimension):
                raise ValueError(f"the encoder gave {rows.shape} for {len(texts)} texts, {dimension}-d")
        parts.append(rows)
        bounds.append((start, start + len(texts)))
        encoded.append(is_fresh)
        start += len(texts)
    vectors = np.concatenate(parts) if parts else np.zeros((0, dimension), dtype=np.float32)
    return Embedded(vectors=vectors, keys=list(keys), bounds=bounds, encoded=encoded)


def write_keys(build: Path, embedded: dict[str, Embedded]) -> None:
    """Record where each group's rows are in ``build`` (file name -> its :class:`Embedded`)."""
    files: dict[str, list[dict[str, Any]]] = {}
    for file, part in embedded.items():
        files[file] = [
            {"key": key, "rows": [a, b], "digest": rows_digest(part.vectors[a:b])}
            for key, (a, b) in zip(part.keys, part.bounds, strict=True)
        ]
    (build / VECTOR_KEYS).write_text(json.dumps({"format": KEYS_FORMAT, "files": files}), encoding="utf-8")


def reuse_counts(embedded: Sequence[Embedded]) -> dict[str, int]:
    """For the manifest: documents embedded (any of their texts encoded) vs reused, and texts."""
    documents = len(embedded[0].keys) if embedded else 0
    fresh = sum(any(part.encoded[i] for part in embedded) for i in range(documents))
    encoded = sum(part.texts_encoded for part in embedded)
    total = sum(len(part.vectors) for part in embedded)
    return {
        "documents_embedded": fresh,
        "documents_reused": documents - fresh,
        "texts_embedded": encoded,
        "texts_reused": total - encoded,
    }


# --- sentences ---------------------------------------------------------------------------------


@functools.cache
def _splitter_version() -> str:
    """SoMaJo's version (read once: importlib.metadata parses the package's files every time)."""
    try:
        return metadata.version("SoMaJo")
    except metadata.PackageNotFoundError:  # pragma: no cover - a declared dependency
        return "?"


def document_key(doc: Document) -> str:
    """What a document's sentences follow from: its record (the path only as far as it picks the
    loader), the splitter and the rag version."""
    loader = type(loader_for(doc.path))
    record = {**asdict(doc), "path": f"{loader.__module__}.{loader.__qualname__}"}
    payload = {"rag": __version__, "somajo": _splitter_version(), "document": record}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def sentences_by_document(
    build: Path | None,
    documents: Sequence[Document],
    split: Callable[[Document, int], list[Sentence]],
) -> tuple[list[Sentence], int]:
    """All documents' sentences (ids unique across them) and how many documents were split.

    A document whose :func:`document_key` matches one of the live build's takes that document's
    sentences, renumbered; the others go through ``split(document, first_id)``.
    """
    previous = _previous_sentences(build)
    out: list[Sentence] = []
    split_count = 0
    for doc in documents:
        kept = previous.get(document_key(doc))
        if kept is not None and all(s.doc_id == doc.doc_id for s in kept):
            first = len(out)
            out.extend([dataclasses.replace(s, sentence_id=first + i) for i, s in enumerate(kept)])
        else:
            out.extend(split(doc, len(out)))
            split_count += 1
    return out, split_count


def _previous_sentences(build: Path | None) -> dict[str, list[Sentence]]:
    """The live build's sentences by :func:`document_key` (empty when unreadable)."""
    if build is None:
        return {}
    try:
        documents = [Document(**d) for d in json.loads((build / "documents.json").read_text("utf-8"))]
        sentences = [Sentence(**s) for s in json.loads((build / "sentences.json").read_text("utf-8"))]
    except (OSError, ValueError, TypeError):
        return {}
    by_id: dict[str, list[Sentence]] = {}
    for sentence in sentences:
        by_id.setdefault(sentence.doc_id, []).append(sentence)
    if len({d.doc_id for d in documents}) != len(documents):
        return {}  # a document id twice: which sentences are whose is not clear
    return {document_key(d): by_id.get(d.doc_id, []) for d in documents}
