"""PDF files: the text layer of each page (pypdf); every sentence knows its 1-based page.

``Document.text`` is the pages' extracted text, blocks separated by blank lines ("\\n\\n", also
between pages); ``Document.pages`` holds where each page starts in it, so offsets index the
extracted text and a sentence's page follows from its start. A page's lines form paragraphs at
blank lines, or where a line ends a sentence well short of the page's full line width; a short
line on its own without final punctuation is a heading. The title is the PDF's metadata title,
else the file name. A scanned PDF (no text layer), an encrypted or a damaged one is one
:class:`DocumentError` with a clear message.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from rag.ingest.extracted import TextAssembler, clean_line, layout_blocks, read_limited
from rag.ingest.loader import MAX_PDF_PAGES, Block, DocumentError
from rag.records import Document

SENTENCE_END = tuple('.!?:»"”…')
HEADING_END_PUNCTUATION = tuple('.!?:;,…»«"“”\'’)')
MAX_HEADING_CHARS = 120
# A line shorter than this share of the page's longest line, ending a sentence, ends a paragraph.
SHORT_LINE = 0.75
_PAGE_NUMBER = re.compile(r"^(?:page|seite)?\s*\d{1,4}(?:\s*(?:/|of|von)\s*\d{1,4})?$", re.I)
_JUNK_TITLES = re.compile(r"^(untitled|microsoft word - .*|document\d*|\s*)$", re.I)


def _heading_like(line: str) -> bool:
    return (
        len(line) <= MAX_HEADING_CHARS
        and not line.endswith(HEADING_END_PUNCTUATION)
        and any(ch.isalpha() for ch in line)
    )


def page_paragraphs(text: str) -> list[tuple[str, bool]]:
    """One page's text as (block text, is_heading), lines of a paragraph joined by "\\n"."""
    lines = [clean_line(line) for line in text.splitlines()]
    groups: list[list[str]] = [[]]
    widest = max((len(line) for line in lines), default=0)
    for line in lines:
        if not line:
            groups.append([])
            continue
        if _PAGE_NUMBER.match(line):
            continue
        groups[-1].append(line)
        short = len(line) < SHORT_LINE * widest
        opens_heading = len(groups[-1]) == 1 and short and _heading_like(line)
        if (line.endswith(SENTENCE_END) and short) or opens_heading:
            groups.append([])  # a paragraph ends, or a short line opening one is a heading
    groups = [g for g in groups if g]
    blocks: list[tuple[str, bool]] = []
    for i, group in enumerate(groups):
        is_heading = len(group) == 1 and i + 1 < len(groups) and _heading_like(group[0])
        blocks.append(("\n".join(group), is_heading))
    return blocks


def _reader(path: Path, raw: bytes) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted:
            try:  # many PDFs are encrypted with an empty password only to restrict printing
                opened = bool(reader.decrypt(""))
            except Exception:  # noqa: BLE001 - e.g. AES without a crypto library
                opened = False
            if not opened:
                raise DocumentError(
                    f"{path} is an encrypted (password-protected) PDF; save it without a password"
                )
        count = len(reader.pages)
    except DocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise DocumentError(f"{path} is a damaged PDF that cannot be read ({type(exc).__name__})") from exc
    if count == 0:
        raise DocumentError(f"{path} is a PDF without pages: there is nothing to read in it")
    if count > MAX_PDF_PAGES:
        raise DocumentError(f"{path} has {count} pages; the limit is {MAX_PDF_PAGES}")
    return reader


def _title(reader: Any) -> str:
    try:
        title = clean_line(str((reader.metadata or {}).get("/Title") or ""))
    except Exception:  # noqa: BLE001 - a damaged info dictionary only loses the title
        return ""
    return "" if _JUNK_TITLES.match(title) else title


class PdfLoader:
    """The :class:`~rag.ingest.loader.DocumentLoader` of PDF files."""

    suffixes: tuple[str, ...] = (".pdf",)
    kind = "pdf"

    def load(self, path: Path, doc_id: str) -> Document:
        path = Path(path)
        raw = read_limited(path, self.kind)
        reader = _reader(path, raw)
        assembler = TextAssembler(path)
        for number, page in enumerate(reader.pages, start=1):
            try:
                text = page.extract_text() or ""
            except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on broken pages
                raise DocumentError(
                    f"{path}: page {number} is damaged and cannot be read ({type(exc).__name__})"
                ) from exc
            assembler.new_page()
            for block, is_heading in page_paragraphs(text):
                assembler.add(block, is_heading)
        if not assembler.text().strip():
            raise DocumentError(
                f"{path} has no text layer (a scanned PDF?); run OCR on it first"
            )
        return assembler.document(doc_id, raw, _title(reader))

    def blocks(self, document: Document) -> list[Block]:
        return layout_blocks(document)
