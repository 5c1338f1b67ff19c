"""PDF files: the text layer of each page (pypdf); every sentence knows its 1-based page.

``Document.text`` is the pages' extracted text, blocks separated by blank lines ("\\n\\n", also
between pages); ``Document.pages`` holds where each page starts in it, so offsets index the
extracted text and a sentence's page follows from its start. A page's lines form paragraphs at
blank lines, or where a line ends a sentence well short of the page's full line width; a short
line on its own without final punctuation is a heading. The title is the PDF's metadata title,
else the file name. An encrypted or a damaged PDF is one :class:`DocumentError` with a clear
message.

A page without a text layer (a scan) is rendered with pypdfium2 and read by OCR
(rag/ingest/ocr.py), in the language of the other pages' text when there is enough of it; its
words' boxes go to ``Document.boxes``, and a page that yields no text to ``Document.notes``. A
page too large to render (a pixel bomb: over :data:`~rag.ingest.loader.MAX_IMAGE_PIXELS` at
:data:`MIN_OCR_DPI`) is refused.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from rag.ingest import loader as limits
from rag.ingest.extracted import (
    PAGE_NUMBER,
    TextAssembler,
    clean_line,
    heading_like,
    layout_blocks,
    read_limited,
)
from rag.ingest.loader import MAX_PDF_PAGES, Block, DocumentError
from rag.records import Document

# Scanned pages are rendered at OCR_DPI, or less for a large page, but never below MIN_OCR_DPI.
OCR_DPI = 300
MIN_OCR_DPI = 150
# A page whose text layer holds fewer letters than this is read by OCR (a scan with a stray
# page number or a scanner's stamp in its text layer is still a scan).
MIN_TEXT_LAYER_LETTERS = 3

SENTENCE_END = tuple('.!?:»"”…')
# A line shorter than this share of the page's longest line, ending a sentence, ends a paragraph.
SHORT_LINE = 0.75
_JUNK_TITLES = re.compile(r"^(untitled|microsoft word - .*|document\d*|\s*)$", re.I)


def page_paragraphs(text: str) -> list[tuple[str, bool]]:
    """One page's text as (block text, is_heading), lines of a paragraph joined by "\\n"."""
    lines = [clean_line(line) for line in text.splitlines()]
    groups: list[list[str]] = [[]]
    widest = max((len(line) for line in lines), default=0)
    for line in lines:
        if not line:
            groups.append([])
            continue
        if PAGE_NUMBER.match(line):
            continue
        groups[-1].append(line)
        short = len(line) < SHORT_LINE * widest
        opens_heading = len(groups[-1]) == 1 and short and heading_like(line)
        if (line.endswith(SENTENCE_END) and short) or opens_heading:
            groups.append([])  # a paragraph ends, or a short line opening one is a heading
    groups = [g for g in groups if g]
    blocks: list[tuple[str, bool]] = []
    for i, group in enumerate(groups):
        is_heading = len(group) == 1 and i + 1 < len(groups) and heading_like(group[0])
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


def page_scale(path: Path, number: int, width_pt: float, height_pt: float, dpi: int = OCR_DPI) -> float:
    """pypdfium2's render scale for a page: ``dpi``, less for a large page so that it stays
    within :data:`~rag.ingest.loader.MAX_IMAGE_PIXELS`; a page too large even at
    :data:`MIN_OCR_DPI` is refused (a pixel bomb)."""
    area = max(width_pt, 1.0) * max(height_pt, 1.0) / 72**2  # square inches
    if area * MIN_OCR_DPI**2 > limits.MAX_IMAGE_PIXELS:
        raise DocumentError(
            f"{path}: page {number} is {width_pt / 72:,.0f} x {height_pt / 72:,.0f} inches, too large "
            f"to read ({area * MIN_OCR_DPI**2 / 1e6:,.0f} million pixels at {MIN_OCR_DPI} dpi; the limit "
            f"is {limits.MAX_IMAGE_PIXELS / 1e6:,.0f} million)"
        )
    fitting = (limits.MAX_IMAGE_PIXELS / area) ** 0.5
    return min(dpi, fitting) / 72


def _scanned_pages(path: Path, raw: bytes, scanned: list[bool], texts: list[str],
                   notes: list[str]) -> dict[int, Any]:
    """The OCR pages (rag.ingest.ocr.OcrPage) of the pages without a text layer, by number; a
    page without text is named in ``notes``."""
    import pypdfium2 as pdfium

    from rag.ingest.ocr import PageReader, require_tesseract

    require_tesseract(path, "has pages without a text layer (a scan)")
    hint = "\n".join(t for t, s in zip(texts, scanned, strict=True) if not s)
    reader = PageReader(path, hint if len(hint) >= 200 else "")
    try:
        pdf = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as exc:
        raise DocumentError(f"{path} is a damaged PDF that cannot be rendered ({exc})") from exc
    pages: dict[int, Any] = {}
    try:
        for number, is_scan in enumerate(scanned, start=1):
            if not is_scan:
                continue
            page = pdf[number - 1]
            try:
                width, height = page.get_size()
                scale = page_scale(path, number, width, height)
                image = page.render(scale=scale, grayscale=True).to_pil()
            finally:
                page.close()
            pages[number] = reader.read(image, number, notes)
    finally:
        pdf.close()
    return pages


class PdfLoader:
    """The :class:`~rag.ingest.loader.DocumentLoader` of PDF files."""

    suffixes: tuple[str, ...] = (".pdf",)
    kind = "pdf"

    def load(self, path: Path, doc_id: str) -> Document:
        path = Path(path)
        raw = read_limited(path, self.kind)
        reader = _reader(path, raw)
        texts: list[str] = []
        for number, page in enumerate(reader.pages, start=1):
            try:
                texts.append(page.extract_text() or "")
            except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on broken pages
                raise DocumentError(
                    f"{path}: page {number} is damaged and cannot be read ({type(exc).__name__})"
                ) from exc
        scanned = [sum(ch.isalpha() for ch in text) < MIN_TEXT_LAYER_LETTERS for text in texts]
        boxes: list[tuple[int, int, int, float, float, float, float]] = []
        notes: list[str] = []
        pages_read = _scanned_pages(path, raw, scanned, texts, notes) if any(scanned) else {}
        assembler = TextAssembler(path)
        for number, text in enumerate(texts, start=1):
            assembler.new_page()
            if number in pages_read:
                from rag.ingest.ocr import add_page

                add_page(assembler, pages_read[number], number, boxes)
                continue
            for block, is_heading in page_paragraphs(text):
                assembler.add(block, is_heading)
        if not assembler.text().strip():
            raise DocumentError(
                f"{path} yielded no text: no text layer, and OCR found none on its {len(texts)} page(s)"
            )
        return assembler.document(doc_id, raw, _title(reader), boxes=tuple(boxes), notes=tuple(notes))

    def blocks(self, document: Document) -> list[Block]:
        return layout_blocks(document)
