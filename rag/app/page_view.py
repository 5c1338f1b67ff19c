"""The page itself: a PDF page (text layer or scan) or a page image, rendered as PNG with pypdfium2
(Pillow for images), the cited sentence's boxes highlighted.

Where a sentence stands on its page: on a page read by OCR, the boxes of its words
(``Document.boxes``); on a PDF page with a text layer, the boxes of its characters as pdfium
finds them (the sentence is matched by its non-space characters, since pdfium and the text
extraction space lines differently). Boxes of one line are merged into one rectangle. Served by
``GET /api/page`` (rag/app/api.py); pdfium is not thread-safe, so rendering holds a lock.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.records import Document

PDF_SUFFIXES = (".pdf",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
DEFAULT_WIDTH = 1000
MAX_WIDTH = 2000
HIGHLIGHT = (255, 214, 0, 110)  # translucent yellow
OUTLINE = (230, 140, 0, 255)
_render_lock = threading.Lock()
_hashes: dict[tuple[str, int, int], str] = {}

Box = tuple[float, float, float, float]  # left, top, right, bottom as fractions of the page


class PageError(ValueError):
    """The page cannot be shown; ``status`` is the HTTP status (404 unknown, 400 bad request)."""

    def __init__(self, message: str, status: int = 404) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RenderedPage:
    png: bytes
    boxes: tuple[Box, ...]  # the highlighted rectangles


def has_pages(document: Document) -> bool:
    """Whether the page view can show ``document`` (a PDF or a page image)."""
    return Path(document.path).suffix.lower() in PDF_SUFFIXES + IMAGE_SUFFIXES


def merge_lines(boxes: Sequence[Box]) -> list[Box]:
    """Boxes in reading order merged into one rectangle per line (a box that overlaps the last
    rectangle's height by more than half joins it)."""
    lines: list[list[float]] = []
    for left, top, right, bottom in boxes:
        if lines:
            last = lines[-1]
            overlap = min(bottom, last[3]) - max(top, last[1])
            if overlap > 0.5 * min(bottom - top, last[3] - last[1]) and left >= last[0] - 0.01:
                last[0], last[1] = min(last[0], left), min(last[1], top)
                last[2], last[3] = max(last[2], right), max(last[3], bottom)
                continue
        lines.append([left, top, right, bottom])
    return [(a, b, c, d) for a, b, c, d in lines]


def ocr_boxes(document: Document, page: int, start: int, end: int) -> list[Box]:
    """The OCR word boxes of ``document.text[start:end]`` on ``page``."""
    return [(b[3], b[4], b[5], b[6]) for b in document.boxes if b[2] == page and b[0] < end and b[1] > start]


def text_layer_boxes(pdf_page: Any, text: str) -> list[Box]:
    """The character boxes of ``text`` on a PDF page with a text layer (none when not found)."""
    import pypdfium2.raw as pdfium_c

    width, height = pdf_page.get_size()
    textpage = pdf_page.get_textpage()
    try:
        chars: list[str] = []
        where: list[int] = []
        for i in range(textpage.count_chars()):
            char = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, i) or 32)
            if not char.isspace():
                chars.append(char.casefold())
                where.append(i)
        needle = "".join(ch.casefold() for ch in text if not ch.isspace())
        found = "".join(chars).find(needle) if needle else -1
        if found < 0:
            return []
        boxes = []
        for i in where[found : found + len(needle)]:
            left, bottom, right, top = textpage.get_charbox(i)
            boxes.append((left / width, 1 - top / height, right / width, 1 - bottom / height))
        return boxes
    finally:
        textpage.close()


def _check_file(document: Document) -> Path:
    path = Path(document.path)
    try:
        stat = path.stat()
    except OSError:
        raise PageError(f"the file of {document.doc_id!r} is gone; rebuild the index") from None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _hashes:
        _hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    if _hashes[key] != document.content_hash:
        raise PageError(f"the file of {document.doc_id!r} changed since the index was built; rebuild it", 409)
    return path


def render_page(document: Document, page: int, start: int | None = None, end: int | None = None,
                width: int = DEFAULT_WIDTH) -> RenderedPage:
    """Page ``page`` (from 1) of ``document`` as PNG, ``width`` pixels wide, with the boxes of
    ``document.text[start:end]`` highlighted when given. :class:`PageError` when it cannot be."""
    from PIL import Image, ImageDraw

    if not has_pages(document):
        raise PageError(f"{document.doc_id!r} is not a PDF or an image: it has no pages to show", 400)
    count = max(1, len(document.pages))
    if not 1 <= page <= count:
        raise PageError(f"{document.doc_id!r} has {count} page(s); there is no page {page}")
    if not 50 <= width <= MAX_WIDTH:
        raise PageError(f"width must be between 50 and {MAX_WIDTH} pixels", 400)
    path = _check_file(document)
    boxes: list[Box] = []
    with _render_lock:
        if Path(path).suffix.lower() in PDF_SUFFIXES:
            import pypdfium2 as pdfium

            pdf = pdfium.PdfDocument(str(path))
            try:
                pdf_page = pdf[page - 1]
                try:
                    if start is not None and end is not None:
                        boxes = ocr_boxes(document, page, start, end) or text_layer_boxes(
                            pdf_page, document.text[start:end])
                    page_width, _ = pdf_page.get_size()
                    image = pdf_page.render(scale=width / page_width).to_pil().convert("RGBA")
                finally:
                    pdf_page.close()
            finally:
                pdf.close()
        else:
            from PIL import ImageOps

            with Image.open(path) as source:
                source.seek(page - 1)
                frame = ImageOps.exif_transpose(source.copy()) if count == 1 else source.copy()
            frame.thumbnail((width, width * 4)) if frame.width > width else None
            if frame.width < width:
                frame = frame.resize((width, round(frame.height * width / frame.width)))
            image = frame.convert("RGBA")
            if start is not None and end is not None:
                boxes = ocr_boxes(document, page, start, end)
    merged = merge_lines(boxes)
    if merged:
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        w, h = image.size
        pad = 0.003
        for left, top, right, bottom in merged:
            rect = ((left - pad) * w, (top - pad) * h, (right + pad) * w, (bottom + pad) * h)
            draw.rectangle(rect, fill=HIGHLIGHT, outline=OUTLINE, width=2)
        image = Image.alpha_composite(image, overlay)
    out = io.BytesIO()
    image.convert("RGB").save(out, "PNG", optimize=False)
    return RenderedPage(out.getvalue(), tuple(merged))
