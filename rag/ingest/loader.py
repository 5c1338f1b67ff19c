"""The seam between file formats and the rest: a :class:`DocumentLoader` per format.

A loader turns a file into a :class:`~rag.records.Document` (whose ``text`` is what citations'
character offsets point into) and the document into :class:`Block`s: paragraphs and headings
with their offsets. Reading another format is adding a loader to :func:`loaders`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from rag.records import Document


class DocumentError(ValueError):
    """A document cannot be used (unreadable, not UTF-8, empty); the message names the file."""


@dataclass(frozen=True)
class Block:
    """A paragraph or heading line: its text and where it stands in the source."""

    text: str
    start: int
    end: int
    is_heading: bool


class DocumentLoader(Protocol):
    """Reads one kind of file. ``suffixes`` are the lower-case file endings it takes."""

    suffixes: tuple[str, ...]

    def load(self, path: Path, doc_id: str) -> Document:
        """The document; :class:`DocumentError` with a message for the user when it cannot be read."""
        ...

    def blocks(self, document: Document) -> list[Block]:
        """Paragraphs and headings in reading order, with offsets into ``document.text``."""
        ...


@lru_cache(maxsize=1)
def loaders() -> tuple[DocumentLoader, ...]:
    """Every format's loader; the first also reads text that comes from no file."""
    from rag.ingest.text import TextLoader

    return (TextLoader(),)


def supported_suffixes() -> tuple[str, ...]:
    return tuple(suffix for loader in loaders() for suffix in loader.suffixes)


def loader_for(path: str | Path) -> DocumentLoader:
    """The loader for a file by its ending; plain text for documents that are no file
    (a SQuAD paragraph's path is ``file.json#a00-p00``)."""
    suffix = Path(str(path).split("#", 1)[0]).suffix.lower()
    fallback = loaders()[0]
    if "#" in str(path):
        return fallback
    return next((loader for loader in loaders() if suffix in loader.suffixes), fallback)


def blocks_of(document: Document) -> list[Block]:
    """The document's paragraphs and headings, as its format's loader reads them."""
    return loader_for(document.path).blocks(document)
