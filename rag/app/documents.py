"""The documents of the seeds folder, listed, added and removed: what `rag list/add/remove` and
the chat's document panel share, with typed results.

The chat also needs the running server to answer from the new index without a restart:
:class:`LivePipeline` is the pipeline the server answers with, and :class:`DocumentDesk`
changes the seeds folder, rebuilds the index with the store's own :func:`ensure_index` (under
its build lock) and swaps the pipeline. Questions asked meanwhile are answered by the old one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rag.config import Settings, index_location
from rag.index.encoders import EncoderWrapper
from rag.ingest import DocumentError
from rag.records import Document, Sentence


@dataclass(frozen=True)
class DocumentRow:
    """One document as `rag list` and the chat's document list show it."""

    doc_id: str
    title: str
    language: str
    format: str  # the file ending without the dot: "pdf", "md", ...
    bytes: int | None  # the file's size (None when the file is gone)
    sentences: int
    paragraphs: int
    pages: int | None  # PDF only
    characters: int
    path: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def public_dict(self) -> dict[str, Any]:
        """For the chat's API: the file's name, not where the server keeps it."""
        row = asdict(self)
        row["file"] = Path(row.pop("path")).name
        return row


@dataclass(frozen=True)
class SkippedFile:
    """A file of the seeds folder that is not a document, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class AddResult:
    """What became of one file given to :func:`add_files`."""

    name: str  # as the user named it (an upload's own file name)
    status: Literal["added", "duplicate", "refused"]
    message: str  # one line for the user
    path: Path | None = None  # the new file (added) or the one it duplicates (duplicate)

    @property
    def doc_id(self) -> str | None:
        return self.path.stem if self.path is not None else None


@dataclass(frozen=True)
class Change:
    """What an upload or a delete in the chat did: per file, and to the index."""

    added: tuple[AddResult, ...] = ()
    removed: str | None = None  # the removed document's title
    rebuilt: bool = False
    seconds: float = 0.0  # changing the files, rebuilding and swapping the pipeline
    error: str = ""  # a refused delete, or a rebuild that failed (the old index still serves)

    def lines(self) -> list[tuple[str, str]]:
        """``(kind, text)`` lines for the page; kind is "ok", "duplicate" or "error"."""
        kinds = {"added": "ok", "duplicate": "duplicate", "refused": "error"}
        lines = [(kinds[r.status], r.message) for r in self.added]
        if self.removed is not None:
            lines.append(("ok", f"Removed \u201c{self.removed}\u201d."))
        if self.error:
            lines.append(("error", self.error))
        if self.rebuilt:
            lines.append(("ok", f"The index was updated in {self.seconds:.1f} s; questions now search it."))
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": [{"name": r.name, "status": r.status, "message": r.message, "doc_id": r.doc_id}
                      for r in self.added],
            "removed": self.removed, "rebuilt": self.rebuilt, "seconds": round(self.seconds, 3),
            "error": self.error,
        }


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 2**20:
        return f"{size / 1024:.0f} KB"
    return f"{size / 2**20:.1f} MB"


def _file_size(path: str) -> int | None:
    try:
        return Path(path).stat().st_size
    except OSError:
        return None


def document_row(doc: Document, sentences: Sequence[Sentence]) -> DocumentRow:
    """``doc``'s row; ``sentences`` are its own."""
    return DocumentRow(
        doc_id=doc.doc_id,
        title=doc.title,
        language=doc.language,
        format=Path(doc.path).suffix.lower().lstrip("."),
        bytes=_file_size(doc.path),
        sentences=len(sentences),
        paragraphs=len({s.paragraph for s in sentences}),
        pages=len(doc.pages) or None,
        characters=len(doc.text) - doc.body_start,
        path=doc.path,
    )


def list_documents(seeds_dir: Path) -> tuple[list[DocumentRow], list[SkippedFile]]:
    """Every readable document of the seeds folder (read from the files, as `rag list` does)
    and the files that are skipped, with reasons."""
    from rag.ingest import sentences_of
    from rag.ingest.files import scan_documents

    documents, skipped = scan_documents(seeds_dir)
    rows = [document_row(doc, sentences_of(doc)) for doc in documents]
    return rows, [SkippedFile(str(s.path), s.reason) for s in skipped]


def indexed_rows(documents: Sequence[Document], sentences: Iterable[Sentence]) -> list[DocumentRow]:
    """The rows of an index's documents, from the index (what questions search)."""
    by_doc: dict[str, list[Sentence]] = {d.doc_id: [] for d in documents}
    for sentence in sentences:
        by_doc.setdefault(sentence.doc_id, []).append(sentence)
    return [document_row(doc, by_doc[doc.doc_id]) for doc in documents]


def add_files(
    seeds_dir: Path,
    files: Sequence[tuple[Path, str]],
    max_bytes: int | None = None,
    titles: Mapping[str, str] | None = None,
) -> list[AddResult]:
    """Copy each readable ``(file, name)`` into the seeds folder under a safe form of ``name``.

    Nothing is raised for a bad file: each gets its :class:`AddResult` (refused with the reason,
    or a duplicate naming the document it repeats; ``titles`` maps document ids to titles for
    that message). Two files with the same content in one call: the second is the duplicate.
    """
    from rag.ingest.files import DuplicateDocument, add_document

    results = []
    for source, name in files:
        shown = Path(name).name or "(no name)"
        try:
            target = add_document(seeds_dir, Path(source), name=shown, max_bytes=max_bytes)
        except DuplicateDocument as exc:
            title = (titles or {}).get(exc.existing.stem)
            what = f"\u201c{title}\u201d ({exc.existing.name})" if title else exc.existing.name
            results.append(AddResult(shown, "duplicate",
                                     f"{shown} is already here: it has the same content as {what}. "
                                     f"Not added again.", exc.existing))
            continue
        except DocumentError as exc:
            results.append(AddResult(shown, "refused", f"Not added: {exc}"))
            continue
        except OSError as exc:
            results.append(AddResult(shown, "refused", f"Not added: {shown}: {exc.strerror or exc}"))
            continue
        results.append(AddResult(shown, "added", f"Added {shown} as {target.name}.", target))
    return results


def discard_uploads(paths: Iterable[Path], upload_dir: Path) -> None:
    """Delete the server's temporary copies of uploaded files once they are stored in the
    seeds folder or refused, with the folder each came in when that is left empty. Only files
    inside ``upload_dir`` (Gradio's upload folder) are touched, never the folder itself."""
    root = Path(upload_dir).resolve()
    for path in paths:
        try:
            path = Path(path).resolve()
            if not path.is_relative_to(root) or path == root:
                continue
            path.unlink(missing_ok=True)
            if path.parent != root and not any(path.parent.iterdir()):
                path.parent.rmdir()
        except OSError:  # gone already, or busy: Gradio's own clean-up takes it later
            continue


def remove_document(seeds_dir: Path, name: str) -> Path:
    """Delete the document ``name`` means (id, path below the seeds folder or file name) from
    the seeds folder; returns its path. :class:`DocumentError` when none or several match."""
    from rag.ingest.files import find_document

    path = find_document(Path(seeds_dir), name)
    path.unlink()
    return path


def rebuild(settings: Settings, encoder_factory: Callable[[], Any],
            on_status: Callable[[str], None]) -> Any:
    """The index of the seeds folder as it is now, rebuilt as `rag add`/`rag remove` do (the
    store's :func:`ensure_index`: under the build lock, switched atomically); the loaded index."""
    from rag.index.store import ensure_index

    index, _ = ensure_index(*index_location(settings), encoder_factory,
        on_status=on_status, progress=False, tuning=settings.index_tuning,
    )
    return index


# --- the running chat server ----------------------------------------------------------------


class LivePipeline:
    """The pipeline a server answers with; :meth:`swap` puts a new one in its place.

    Any attribute is the current pipeline's, so the REST API and Gradio's ``/ask`` take it as
    they take a :class:`~rag.pipeline.Pipeline`. Read ``current`` once per question, holding
    ``lock`` (the one every question holds): a question never sees two pipelines.
    """

    def __init__(self, pipeline: Any, lock: threading.Lock) -> None:
        self._current = pipeline
        self.lock = lock
        self.version = 1

    @property
    def current(self) -> Any:
        return self._current

    def __getattr__(self, name: str) -> Any:
        return getattr(self._current, name)

    def swap(self, pipeline: Any) -> None:
        """Answer with ``pipeline`` from the next question on (waits for the one in progress)."""
        with self.lock:
            self._current = pipeline
            self.version += 1


class SerialEncoder(EncoderWrapper):
    """The server's encoder for a rebuild: each batch is encoded holding the question lock, so
    a rebuild and the questions answered meanwhile never use the (not thread-safe) model at
    once; a question waits one batch at most."""

    def __init__(self, encoder: Any, lock: threading.Lock) -> None:
        super().__init__(encoder)
        self.lock = lock

    def encode(self, texts: Sequence[str]) -> Any:
        with self.lock:
            return self.base.encode(texts)


@dataclass
class DocumentDesk:
    """Adds and removes documents for the chat: the files change, the index is rebuilt, the
    live pipeline is swapped. One change at a time (a second upload waits for the first)."""

    live: LivePipeline
    on_status: Callable[[str], None] = lambda message: None
    _changing: threading.Lock = field(default_factory=threading.Lock)

    @property
    def settings(self) -> Settings:
        return self.live.current.settings

    def rows(self) -> list[DocumentRow]:
        """The documents questions search now (the live index)."""
        index = self.live.current.index
        return indexed_rows(index.documents, index.sentences)

    def titles(self) -> dict[str, str]:
        return {d.doc_id: d.title for d in self.live.current.index.documents}

    def add(self, files: Sequence[tuple[Path, str]]) -> Change:
        """Add ``(file, name)`` pairs (an upload's temporary file and its own name)."""
        with self._changing:
            started = time.perf_counter()
            results = add_files(self.settings.seeds_dir, files, self.settings.max_upload_bytes,
                                self.titles())
            added = [r.path for r in results if r.status == "added" and r.path is not None]
            if not added:
                return Change(tuple(results))
            error = self._rebuild()
            if error:  # the old index keeps serving; the files that could not be indexed go
                for path in added:
                    path.unlink(missing_ok=True)
            return Change(tuple(results), rebuilt=not error, error=error,
                          seconds=time.perf_counter() - started)

    def remove(self, doc_id: str) -> Change:
        """Delete the document ``doc_id`` (as the list shows it) from the seeds folder."""
        with self._changing:
            started = time.perf_counter()
            titles = self.titles()
            if doc_id not in titles:
                return Change(error=f"There is no document {doc_id!r} (any more); pick one from the list.")
            if len(titles) == 1:
                return Change(error="This is the only document: add another before removing it.")
            doc = next(d for d in self.live.current.index.documents if d.doc_id == doc_id)
            path = Path(doc.path)
            if not path.is_file():
                return Change(error=f"{path.name} is no longer in the seeds folder.")
            backup = path.read_bytes()
            path.unlink()
            error = self._rebuild()
            if error:  # put it back: the index still holds it
                path.write_bytes(backup)
                return Change(error=error)
            return Change(removed=titles[doc_id], rebuilt=True, seconds=time.perf_counter() - started)

    def _rebuild(self) -> str:
        """Rebuild and swap; "" when done, else the message (the old pipeline keeps serving)."""
        from rag.index.store import StoreError
        from rag.pipeline import Pipeline

        old = self.live.current
        try:
            index = rebuild(old.settings, lambda: SerialEncoder(old.encoder, self.live.lock),
                            self.on_status)
            new = Pipeline(index, old.encoder, old.settings)
            new.selector  # noqa: B018 - loaded now, not by the first question
        except (DocumentError, StoreError, OSError) as exc:
            return f"The index could not be updated ({exc}); the previous documents are still searched."
        self.live.swap(new)
        return ""

