"""Reading page images with Tesseract (Debian's ``tesseract-ocr``, installed by ``make ocr``)
through pytesseract, keeping every word's box.

A page image becomes paragraphs of lines of words (Tesseract's own layout analysis); each word
keeps its box as fractions of the page's width and height, so a citation can be drawn on the
page at any size (``Document.boxes``). The document's language picks Tesseract's language: the
text layer's language when other pages have one, else the language of the first scanned page as
read with German and English together; pages are then read with that language alone (the first
again too) when its model is installed. A page that yields no text is named in
``Document.notes``, never dropped silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.ingest.extracted import PAGE_NUMBER
from rag.ingest.loader import DocumentError
from rag.language import ocr_fallback_models, tesseract_model

# Words Tesseract is less sure of than this (0-100) are specks of noise, not text.
MIN_CONFIDENCE = 40
# A page with fewer pixels darker than INK_LEVEL (0-255) than this share of its area is blank.
INK_LEVEL = 128
BLANK_SHARE = 0.0002
# One page longer than this in Tesseract is not read (its page is named in Document.notes).
PAGE_TIMEOUT_S = 120
# Tesseract's layout (block, paragraph, line) is kept; its page-number lines are not text.


class OcrTimeout(RuntimeError):
    """Tesseract took longer than PAGE_TIMEOUT_S on one page."""


@dataclass(frozen=True)
class Word:
    text: str
    box: tuple[float, float, float, float]  # left, top, right, bottom as fractions of the page


@dataclass
class OcrPage:
    """One page's paragraphs; each paragraph is lines, each line words."""

    paragraphs: list[list[list[Word]]] = field(default_factory=list)

    def text(self) -> str:
        return "\n\n".join(paragraph_text(p)[0] for p in self.paragraphs)


def paragraph_text(lines: list[list[Word]]) -> tuple[str, list[tuple[int, int]]]:
    """A paragraph's text (words joined by spaces, lines by "\\n") and each word's span in it."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    for i, line in enumerate(lines):
        if i:
            parts.append("\n")
            length += 1
        for j, word in enumerate(line):
            if j:
                parts.append(" ")
                length += 1
            spans.append((length, length + len(word.text)))
            parts.append(word.text)
            length += len(word.text)
    return "".join(parts), spans


@lru_cache(maxsize=1)
def installed_languages() -> frozenset[str]:
    """Tesseract's installed language models; empty when Tesseract is not installed."""
    try:
        import pytesseract

        return frozenset(pytesseract.get_languages(config=""))
    except Exception:  # noqa: BLE001 - not installed, not runnable: no OCR
        return frozenset()


def tesseract_language(language: str | None) -> str:
    """Tesseract's ``lang`` for a document language: its own model when installed, else German and
    English together (those installed)."""
    installed = installed_languages()
    code = tesseract_model(language)
    if code and code in installed:
        return code
    fallback = [c for c in ocr_fallback_models() if c in installed]
    return "+".join(fallback) or "eng"


def require_tesseract(path: Path, what: str) -> None:
    if not installed_languages():
        raise DocumentError(
            f"{path} {what}; reading it needs Tesseract (OCR), which is not installed "
            "(`make ocr`, or apt-get install tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng)"
        )


def read_image(image: Any, lang: str) -> OcrPage:
    """Tesseract's words of one page image, grouped into paragraphs and lines."""
    from PIL import ImageFilter

    # Tesseract's OpenMP threads spin while they wait: on a busy machine one page took 20 s of CPU
    # instead of 2. One thread per page (the tests and benchmarks share 2 cores).
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    gray = image.convert("L").filter(ImageFilter.MedianFilter(3))  # dust and specks away, strokes kept
    width, height = gray.size
    dark = sum(gray.histogram()[:INK_LEVEL])
    if dark < BLANK_SHARE * width * height:
        # A blank page (or only faint dust): Tesseract would binarise the dust and spend minutes.
        return OcrPage()
    data = _cached_data(gray, lang)
    grouped: dict[tuple[int, int], dict[int, list[Word]]] = {}
    for i, text in enumerate(data["text"]):
        text = " ".join(str(text).split())
        try:
            confidence = float(data["conf"][i])
        except (TypeError, ValueError):
            confidence = -1.0
        if not text or confidence < MIN_CONFIDENCE:
            continue
        left, top = int(data["left"][i]), int(data["top"][i])
        box = (left / width, top / height, (left + int(data["width"][i])) / width,
               (top + int(data["height"][i])) / height)
        key = (int(data["block_num"][i]), int(data["par_num"][i]))
        grouped.setdefault(key, {}).setdefault(int(data["line_num"][i]), []).append(Word(text, box))
    page = OcrPage()
    for key in sorted(grouped):
        lines = [grouped[key][n] for n in sorted(grouped[key]) if _is_text(grouped[key][n])]
        if not lines:
            continue
        if len(lines) == 1 and PAGE_NUMBER.match(" ".join(w.text for w in lines[0])):
            continue
        if not any(ch.isalnum() for line in lines for w in line for ch in w.text):
            continue  # specks read as punctuation
        page.paragraphs.append(lines)
    return page


def _is_text(line: list[Word]) -> bool:
    """A line of text, not specks read as marks: a word of two letters or digits at least."""
    return any(sum(ch.isalnum() for ch in word.text) >= 2 for word in line)


_DATA_KEYS = ("text", "conf", "left", "top", "width", "height", "block_num", "par_num", "line_num")
_CACHE_FORMAT = 1


@lru_cache(maxsize=1)
def _tesseract_version() -> str:
    import pytesseract

    try:
        return str(pytesseract.get_tesseract_version())
    except Exception:  # noqa: BLE001 - no version, no cache hits across versions either
        return "unknown"


def ocr_cache_dir() -> Path | None:
    """Where Tesseract's results are kept by page image (``$RAG_CACHE_DIR/ocr``, else
    ``~/.cache/rag/ocr``; an empty ``RAG_CACHE_DIR`` switches it off): an index rebuild after
    another document changed reads a scan again in milliseconds instead of seconds per page."""
    configured = os.environ.get("RAG_CACHE_DIR")
    if configured is not None and not configured.strip():
        return None
    if configured:
        return Path(configured) / "ocr"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag" / "ocr"


def _cached_data(gray: Any, lang: str) -> dict[str, list[Any]]:
    """pytesseract's ``image_to_data`` of ``gray``, from the cache when this image was read before
    in ``lang`` by this Tesseract."""
    import hashlib
    import json

    import pytesseract

    digest = hashlib.sha256(f"{_CACHE_FORMAT}|{lang}|{_tesseract_version()}|{gray.size}|".encode())
    digest.update(gray.tobytes())
    folder = ocr_cache_dir()
    entry = folder / f"{digest.hexdigest()}.json" if folder is not None else None
    if entry is not None:
        try:
            cached = json.loads(entry.read_text("utf-8"))
            if isinstance(cached, dict) and all(isinstance(cached.get(k), list) for k in _DATA_KEYS):
                return cached
        except (OSError, ValueError):
            pass
    try:
        data = pytesseract.image_to_data(gray, lang=lang, output_type=pytesseract.Output.DICT,
                                         timeout=PAGE_TIMEOUT_S)
    except RuntimeError as exc:  # pytesseract's timeout
        raise OcrTimeout(str(exc)) from exc
    kept = {k: list(data[k]) for k in _DATA_KEYS}
    if entry is not None:
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            tmp = entry.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(kept), "utf-8")
            os.replace(tmp, entry)
        except OSError:
            pass  # a read-only home: no cache
    return kept


class PageReader:
    """Reads the scanned pages of one document in the document's language (see the module)."""

    def __init__(self, path: Path, language_hint: str = "") -> None:
        self.path = path
        self.lang = ""
        if language_hint.strip():
            from rag.ingest.extracted import document_language

            self.lang = tesseract_language(document_language(language_hint))

    def read(self, image: Any, number: int, notes: list[str]) -> OcrPage:
        """Page ``number``'s text; a page without text, or one Tesseract gave up on, is named in
        ``notes``."""
        try:
            page = self._read(image)
        except OcrTimeout:
            notes.append(f"page {number} could not be read: OCR took longer than {PAGE_TIMEOUT_S} s")
            return OcrPage()
        if not page.paragraphs:
            notes.append(f"page {number} yielded no text (OCR found none: blank or unreadable)")
        return page

    def _read(self, image: Any) -> OcrPage:
        if self.lang:
            return read_image(image, self.lang)
        first_lang = tesseract_language(None)
        page = read_image(image, first_lang)
        text = page.text()
        if not text.strip():
            return page  # the language is decided by the next page that holds text
        from rag.ingest.extracted import document_language

        self.lang = tesseract_language(document_language(text))
        return page if self.lang == first_lang else read_image(image, self.lang)


def add_page(assembler: Any, page: OcrPage, number: int,
             boxes: list[tuple[int, int, int, float, float, float, float]]) -> None:
    """One OCR page's paragraphs into a :class:`~rag.ingest.extracted.TextAssembler`, each word's
    box into ``boxes`` with its offsets. A one-line paragraph that reads like a heading is one."""
    from rag.ingest.extracted import heading_like

    for i, lines in enumerate(page.paragraphs):
        text, spans = paragraph_text(lines)
        is_heading = len(lines) == 1 and i + 1 < len(page.paragraphs) and heading_like(text)
        start = assembler.add(text, is_heading)
        if start < 0:
            continue
        words = [w for line in lines for w in line]
        for (s, e), word in zip(spans, words, strict=True):
            boxes.append((start + s, start + e, number, *word.box))
