"""The seam between file formats and the rest: the :class:`DocumentLoader` protocol each format
implements, the :class:`Block` it yields, the limits every loader keeps and the content check.

A loader turns a file into a :class:`~rag.records.Document` (whose ``text`` is what citations'
character offsets point into) and the document into :class:`Block`s: paragraphs and headings
with their offsets. Reading another format is adding a loader to
:func:`rag.ingest.registry.loaders`; this module imports no format module (an import contract
in pyproject.toml), so the formats import it without a cycle.

Plain text and Markdown documents hold the file's own text; PDF, DOCX and HTML documents hold
the text extracted from the file (offsets index that), with their blocks in ``Document.layout``.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rag.records import Document

# Limits for any one file, so that a huge upload or a PDF/zip bomb cannot exhaust memory.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_PDF_PAGES = 2000
MAX_CHARS = 5_000_000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # a DOCX, PPTX or XLSX file's parts after unzipping
MAX_ZIP_MEMBERS = 10_000  # parts of one DOCX, PPTX or XLSX file
MAX_SLIDES = 2000
MAX_SHEET_CELLS = 2_000_000  # cells of one workbook or CSV file (empty ones included)
# An image or a PDF page read by OCR: above this many pixels it is refused (a pixel bomb); an A4
# page at 300 dpi has 8.7 million.
MAX_IMAGE_PIXELS = 40_000_000

# Endings refused with a reason of their own, not as "not supported": files that carry macros.
REFUSED_SUFFIXES = {
    suffix: f"{suffix} files carry macros, which are never opened here; save it as {plain} (without macros)"
    for suffix, plain in ((".pptm", ".pptx"), (".xlsm", ".xlsx"), (".docm", ".docx"), (".potm", ".pptx"),
                          (".ppsm", ".pptx"), (".xltm", ".xlsx"))
}


class DocumentError(ValueError):
    """A document cannot be used (unreadable, not UTF-8, empty); the message names the file."""


@dataclass(frozen=True)
class Block:
    """A paragraph or heading: its text and where it stands in the source.

    ``offsets`` is set when ``text`` is not a plain slice of ``document.text`` (Markdown with its
    markup removed): ``offsets[i]`` is the index in ``document.text`` of ``text[i]``.
    """

    text: str
    start: int
    end: int
    is_heading: bool
    offsets: tuple[int, ...] | None = None

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Where ``text[start:end]`` (non-empty) stands in ``document.text``."""
        if self.offsets is None:
            return self.start + start, self.start + end
        return self.offsets[start], self.offsets[end - 1] + 1


class DocumentLoader(Protocol):
    """Reads one kind of file. ``suffixes`` are the lower-case file endings it takes; ``kind``
    says what the bytes must look like (``"text"``, ``"pdf"``, ``"docx"``, ``"pptx"``, ``"xlsx"``
    or ``"image"``)."""

    suffixes: tuple[str, ...]
    kind: str

    def load(self, path: Path, doc_id: str) -> Document:
        """The document; :class:`DocumentError` with a message for the user when it cannot be read."""
        ...

    def blocks(self, document: Document) -> list[Block]:
        """Paragraphs and headings in reading order, with offsets into ``document.text``."""
        ...


# The first bytes of executable programs: Windows (MZ), Linux (ELF), macOS (Mach-O, universal).
_PROGRAM_MAGIC = (b"\x7fELF", b"\xfe\xed\xfa", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",
                  b"\xca\xfe\xba\xbe")


# Office files are zip archives told apart by their main part.
_OFFICE_PARTS = (("word/document.xml", "docx"), ("ppt/presentation.xml", "pptx"), ("xl/workbook.xml", "xlsx"))
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")


def _content_kind(head: bytes, path: Path) -> str:
    """What the bytes are: "pdf", "docx", "pptx", "xlsx", "zip" (another zip file), "image" (PNG,
    JPEG, TIFF), "program", "binary" or "text"."""
    if head.startswith(_PROGRAM_MAGIC) or (head.startswith(b"MZ") and b"\x00" in head[:64]):
        return "program"  # (a text may well start with the letters "MZ"; a program has NULs there)
    if head.lstrip(b"\r\n\t \x00\xef\xbb\xbf")[:5] == b"%PDF-" or b"%PDF-" in head[:1024]:
        return "pdf"
    if head[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError):
            return "binary"
        return next((kind for part, kind in _OFFICE_PARTS if part in names), "zip")
    if head.startswith(_IMAGE_MAGIC):
        return "image"
    return "text"  # whether it is UTF-8 is the loader's check, with a precise message


_KIND_NAMES = {"pdf": "a PDF", "docx": "a Word (.docx) file", "pptx": "a PowerPoint (.pptx) file",
               "xlsx": "an Excel (.xlsx) file", "image": "an image (PNG, JPEG or TIFF)",
               "zip": "a zip archive",
               "program": "a program (an executable file)", "binary": "a binary file", "text": "text"}


def check_file(path: Path, expected_kind: str) -> None:
    """:class:`DocumentError` when the file is too large or its content is not what its ending
    says (checked by magic bytes, not by the name)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(2048)
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size > MAX_FILE_BYTES:
        raise DocumentError(
            f"{path} is too large ({size / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES / 2**20:.0f} MB)"
        )
    if size == 0 or (expected_kind != "text" and size <= len(head) and not head.strip()):
        # (not "is text, not a PDF": an empty file is no format at all)
        raise DocumentError(f"{path} is empty: there is nothing to read in it")
    found = _content_kind(head, path)
    if found != expected_kind:
        raise DocumentError(
            f"{path} is {_KIND_NAMES[found]}, not {_KIND_NAMES[expected_kind]} as its ending "
            f"{path.suffix!r} says"
        )


def check_chars(path: Path, count: int) -> None:
    if count > MAX_CHARS:
        raise DocumentError(f"{path} holds more than {MAX_CHARS:,} characters of text; split it up")
