"""Find the documents of a seeds folder, read each with its format's loader, fingerprint them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rag.ingest.loader import DocumentError, loader_for, supported_suffixes
from rag.records import Document

# Sub-folders of seeds/ that hold question sets or notes, not documents.
NON_DOCUMENT_DIRS = {"eval"}


def seed_files(seeds_dir: Path) -> list[Path]:
    """Every document of a supported format below ``seeds_dir`` (question sets excluded), sorted."""
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise DocumentError(f"seeds folder not found: {seeds_dir}")
    root = seeds_dir.resolve()
    files = []
    for path in sorted(seeds_dir.rglob("*")):
        rel = path.relative_to(seeds_dir)
        if any(part in NON_DOCUMENT_DIRS or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix.lower() in supported_suffixes():
            if not path.resolve().is_relative_to(root):
                # Documents are read only from the seeds folder, never through a link out of it.
                raise DocumentError(f"{path} links outside the seeds folder; copy the file in instead")
            files.append(path)
    return files


def seeds_fingerprint(seeds_dir: Path) -> str:
    """Hash of every document's relative path and bytes: changes whenever the corpus changes."""
    digest = hashlib.sha256()
    for path in seed_files(seeds_dir):
        digest.update(path.relative_to(seeds_dir).as_posix().encode())
        digest.update(b"\0")
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError as exc:
            raise DocumentError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def load_document(path: Path, seeds_dir: Path | None = None) -> Document:
    """One file as a document; its id is its path below ``seeds_dir`` without the ending."""
    path = Path(path)
    rel = path.relative_to(seeds_dir) if seeds_dir else Path(path.name)
    return loader_for(path).load(path, rel.with_suffix("").as_posix())


def load_documents(seeds_dir: Path) -> list[Document]:
    """All documents of ``seeds_dir``; an empty folder is an error, not an empty index."""
    files = seed_files(seeds_dir)
    if not files:
        raise DocumentError(f"no .txt or .md documents in {seeds_dir}")
    return [load_document(path, Path(seeds_dir)) for path in files]

