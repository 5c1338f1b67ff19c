"""Find the documents of a seeds folder, read each with its format's loader, fingerprint them.

A file that cannot be used (a format that is not supported, a scanned PDF without text, an
encrypted PDF, content that is not what the ending says, over the size limit) is skipped with
its reason, which :func:`load_documents` reports: never silently.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.ingest.loader import REFUSED_SUFFIXES, DocumentError
from rag.ingest.registry import loader_for, supported_suffixes
from rag.records import Document

# Sub-folders of seeds/ that hold question sets or notes, not documents.
NON_DOCUMENT_DIRS = {"eval"}
# Part of the corpus fingerprint: bump it when loaders read the same files differently, so
# that indexes built by older loaders are rebuilt.
LOADERS_VERSION = "formats-3"  # 2: slides, sheets, scans; 3: no "Word Document" placeholder title


@dataclass(frozen=True)
class Skipped:
    """A file of the seeds folder that is not a document, and why."""

    path: Path
    reason: str  # without the file name
    message: str = ""  # the whole message, naming the file

    def __str__(self) -> str:
        return f"skipped: {self.message or f'{self.path}: {self.reason}'}"


class SeedsMissing(DocumentError):
    """The seeds folder does not exist; the message names it as an absolute path."""

    def __init__(self, seeds_dir: Path) -> None:
        self.seeds_dir = Path(seeds_dir).absolute()
        super().__init__(f"seeds folder not found: {self.seeds_dir}")


def scan_seeds(seeds_dir: Path) -> tuple[list[Path], list[Skipped]]:
    """Files of a supported format below ``seeds_dir`` (sorted; question sets and hidden files
    excluded) and the other files, each with the reason it is not read."""
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise SeedsMissing(seeds_dir)
    root = seeds_dir.resolve()
    files: list[Path] = []
    skipped: list[Skipped] = []
    for path in sorted(seeds_dir.rglob("*")):
        rel = path.relative_to(seeds_dir)
        if any(part in NON_DOCUMENT_DIRS or part.startswith(".") for part in rel.parts):
            continue
        if not path.is_file():
            continue
        if path.suffix.lower() in REFUSED_SUFFIXES:
            skipped.append(Skipped(path, REFUSED_SUFFIXES[path.suffix.lower()]))
            continue
        if path.suffix.lower() not in supported_suffixes():
            kind = f"{path.suffix.lower()} files" if path.suffix else "files without an ending"
            skipped.append(Skipped(path, f"{kind} are not supported (supported: {_supported()})"))
            continue
        if not path.resolve().is_relative_to(root):
            # Documents are read only from the seeds folder, never through a link out of it.
            raise DocumentError(f"{path} links outside the seeds folder; copy the file in instead")
        files.append(path)
    return files, skipped


def _supported() -> str:
    return ", ".join(supported_suffixes())


def seed_files(seeds_dir: Path) -> list[Path]:
    """Every document of a supported format below ``seeds_dir`` (question sets excluded), sorted."""
    return scan_seeds(seeds_dir)[0]


def seeds_fingerprint(seeds_dir: Path) -> str:
    """Hash of every document's relative path and bytes: changes whenever the corpus changes."""
    digest = hashlib.sha256(LOADERS_VERSION.encode() + b"\0")
    for path in seed_files(seeds_dir):
        digest.update(path.relative_to(seeds_dir).as_posix().encode())
        digest.update(b"\0")
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError as exc:
            raise DocumentError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def load_document(path: Path, seeds_dir: Path | None = None) -> Document:
    """One file as a document; its id is its path below ``seeds_dir`` without the ending.

    :class:`DocumentError` when the file is too large, its content does not match its ending
    or its loader cannot take text from it.
    """
    path = Path(path)
    rel = path.relative_to(seeds_dir) if seeds_dir else Path(path.name)
    loader = loader_for(path)
    return loader.load(path, rel.with_suffix("").as_posix())


def _report(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def scan_documents(seeds_dir: Path) -> tuple[list[Document], list[Skipped]]:
    """All documents of ``seeds_dir`` that can be read, and the skipped files with reasons."""
    files, skipped = scan_seeds(seeds_dir)
    documents: list[Document] = []
    for path in files:
        try:
            documents.append(load_document(path, Path(seeds_dir)))
        except DocumentError as exc:
            skipped.append(Skipped(path, _reason(exc, path), str(exc)))
    skipped.sort(key=lambda s: s.path)
    return documents, skipped


def _reason(exc: DocumentError, path: Path) -> str:
    """The error message without the leading file name (the report names the file)."""
    message = str(exc)
    return message[len(str(path)) :].lstrip(" :") if message.startswith(str(path)) else message


def load_documents(
    seeds_dir: Path, on_skip: Callable[[str], None] | None = _report
) -> list[Document]:
    """All documents of ``seeds_dir``; each skipped file is reported to ``on_skip`` (stderr by
    default) with its reason. No readable document is an error, not an empty index."""
    documents, skipped = scan_documents(seeds_dir)
    if on_skip is not None:
        for item in skipped:
            on_skip(str(item))
        for doc in documents:
            for note in doc.notes:
                on_skip(f"note: {doc.path}: {note}")
    if not documents:
        detail = "; ".join(str(s) for s in skipped)
        raise DocumentError(
            f"no readable documents ({_supported()}) in {seeds_dir}" + (f" ({detail})" if detail else "")
        )
    return documents


# --- adding and removing documents (``rag add``/``rag remove``) ------------------------------


def safe_file_name(name: str) -> str:
    """A file name safe to put in the seeds folder: letters, digits, ``.-_`` only, no leading
    dot, a lower-case ending. ``"Mein Bericht (2024).PDF"`` -> ``"Mein-Bericht-2024.pdf"``."""
    import re
    import unicodedata

    base = Path(name).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = unicodedata.normalize("NFKD", stem.replace("ß", "ss")).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_")
    stem = re.sub(r"-{2,}", "-", stem)[:120] or "document"
    return stem + re.sub(r"[^a-z0-9.]", "", suffix)


def duplicate_of(seeds_dir: Path, data: bytes) -> Path | None:
    """The document of ``seeds_dir`` with exactly these bytes, if there is one."""
    wanted = hashlib.sha256(data).hexdigest()
    for path in seed_files(seeds_dir):
        try:
            if hashlib.sha256(path.read_bytes()).hexdigest() == wanted:
                return path
        except OSError:
            continue
    return None


class DuplicateDocument(DocumentError):
    """The same bytes are already a document of the seeds folder (``existing``)."""

    def __init__(self, message: str, existing: Path) -> None:
        super().__init__(message)
        self.existing = existing


def add_document(
    seeds_dir: Path, source: Path, name: str | None = None, max_bytes: int | None = None
) -> Path:
    """Copy ``source`` into ``seeds_dir`` under a safe form of ``name`` (default: the source's
    file name) after checking that it can be read; returns the new path.

    :class:`DocumentError` when it cannot (too large for ``max_bytes`` or the loader's limits,
    content not what the ending says, no text), :class:`DuplicateDocument` when the same content
    is already there. Messages name the file as ``name``. Never overwrites: a name already taken
    by other content gets ``-2``, ``-3``... appended.
    """
    import os

    seeds_dir, source = Path(seeds_dir), Path(source)
    shown = name or str(source)
    if not source.is_file():
        raise DocumentError(f"{shown} is not a file")
    safe = safe_file_name(name or source.name)
    if Path(safe).suffix in REFUSED_SUFFIXES:
        raise DocumentError(f"{shown}: {REFUSED_SUFFIXES[Path(safe).suffix]}")
    if Path(safe).suffix not in supported_suffixes():
        suffix = Path(safe).suffix
        raise DocumentError(f"{shown}: {suffix or 'files without an ending'}{' files' if suffix else ''} "
                            f"are not supported (supported: {_supported()})")
    size = source.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise DocumentError(
            f"{shown} is too large ({size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB)"
        )
    seeds_dir.mkdir(parents=True, exist_ok=True)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read {shown}: {exc.strerror or exc}") from exc
    existing = duplicate_of(seeds_dir, data)
    if existing is not None:
        raise DuplicateDocument(f"{shown} is already in the seeds folder as {existing.name}", existing)
    # Refuse what cannot be read before it lands in the seeds folder; the loader sees the file
    # under its safe name (its ending picks the loader), in a private temporary folder.
    import tempfile

    with tempfile.TemporaryDirectory(prefix="rag-add-") as tmp_dir:
        probe = Path(tmp_dir) / safe
        probe.write_bytes(data)
        try:
            load_document(probe)
        except DocumentError as exc:
            raise DocumentError(str(exc).replace(str(probe), shown)) from None
    tmp = seeds_dir / f".{safe}.{os.getpid()}.tmp"
    try:
        tmp.write_bytes(data)
        n = 1
        while True:  # os.link fails on an existing name: another document is never overwritten
            target = seeds_dir / (safe if n == 1 else f"{Path(safe).stem}-{n}{Path(safe).suffix}")
            try:
                os.link(tmp, target)
                return target
            except FileExistsError:
                n += 1
    finally:
        tmp.unlink(missing_ok=True)


def find_document(seeds_dir: Path, name: str) -> Path:
    """The seed file that ``name`` means: its document id, its path below the seeds folder or
    its file name; :class:`DocumentError` when none or several match."""
    seeds_dir = Path(seeds_dir)
    files, skipped = scan_seeds(seeds_dir)
    candidates = files + [s.path for s in skipped]
    matches = []
    for path in candidates:
        rel = path.relative_to(seeds_dir)
        if name in (rel.as_posix(), rel.with_suffix("").as_posix(), path.name):
            matches.append(path)
    if not matches:
        raise DocumentError(f"no document {name!r} in {seeds_dir} (see `rag list`)")
    if len(matches) > 1:
        names = ", ".join(p.relative_to(seeds_dir).as_posix() for p in matches)
        raise DocumentError(f"{name!r} matches several documents ({names}); name the file")
    return matches[0]
