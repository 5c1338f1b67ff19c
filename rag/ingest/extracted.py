"""What the loaders of PDF, DOCX and HTML files share: their ``Document.text`` is text extracted
from the file, assembled here block by block ("\\n\\n" between blocks), with the blocks' spans kept
in ``Document.layout`` and PDF page starts in ``Document.pages``. Also the title and language
rules every loader follows."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from rag.config import IndexTuning, Tuning
from rag.ingest.loader import Block, DocumentError, check_chars, check_file
from rag.language import guess_language, known_languages
from rag.records import Document

BLOCK_SEPARATOR = "\n\n"
LANGUAGE_SAMPLE_CHARS = 20_000


def title_from_name(path: Path) -> str:
    """The fallback title: the file name without ending, dashes and underscores as spaces."""
    return path.stem.replace("-", " ").replace("_", " ").strip().capitalize() or path.name


def document_language(text: str, declared: str | None = None) -> str:
    """``declared`` (front matter) if given; else fastText's language when it is confident, else
    the function-word guess of :func:`rag.language.guess_language`."""
    if declared and declared.strip():
        return declared.strip().lower()
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    try:
        from rag.language.identify import LanguageIdError, identify_language

        code, probability = identify_language(sample)
    except (ImportError, LanguageIdError):
        code, probability = "", 0.0
    # fastText's language from the probability questions use too; below it the function-word
    # count of rag.language decides (short or mixed texts).
    if code and probability >= Tuning.language_confidence:
        return code
    return guess_language(sample)


# A page-number line of a PDF page or a scan ("3", "Seite 3 von 10", "page 3 of 10", "3 / 10").
PAGE_NUMBER = re.compile(
    r"^(?:" + "|".join(w for lang in known_languages() for w in lang.layout.page_words) + r")?\s*\d{1,4}"
    r"(?:\s*(?:/|" + "|".join(w for lang in known_languages() for w in lang.layout.page_of_words)
    + r")\s*\d{1,4})?$",
    re.I,
)
HEADING_END_PUNCTUATION = tuple('.!?:;,…»«"“”\'’)')


def heading_like(line: str) -> bool:
    """A line of a PDF page or an OCR paragraph that reads like a heading: not too long, no
    final punctuation, a letter."""
    return (
        len(line) <= IndexTuning.max_heading_chars  # the same limit as in plain text
        and not line.endswith(HEADING_END_PUNCTUATION)
        and any(ch.isalpha() for ch in line)
    )


def clean_line(text: str) -> str:
    """White space runs inside a line become one space (extracted text is full of them)."""
    return re.sub(r"[ \t\u00a0\u2000-\u200b\u3000]+", " ", text).strip()


class TextAssembler:
    """Collects headings and paragraphs into one text with their spans (and page starts)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parts: list[str] = []
        self.length = 0
        self.layout: list[tuple[int, int, int]] = []
        self.pages: list[int] = []

    def new_page(self) -> None:
        self.pages.append(self.length + (len(BLOCK_SEPARATOR) if self.parts else 0))

    def add(self, text: str, is_heading: bool = False) -> int:
        """Append a block; returns where it starts in the text (-1 for an empty one)."""
        text = text.strip()
        if not text:
            return -1
        if self.parts:
            self.parts.append(BLOCK_SEPARATOR)
            self.length += len(BLOCK_SEPARATOR)
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        check_chars(self.path, self.length)
        self.layout.append((start, self.length, int(is_heading)))
        return start

    def text(self) -> str:
        return "".join(self.parts)

    def document(self, doc_id: str, raw: bytes, title: str, language: str | None = None,
                 **extra: Any) -> Document:
        """The document; ``extra`` sets its other fields (``rows``, ``boxes``, ``notes``)."""
        text = self.text()
        if not text.strip():
            raise DocumentError(f"{self.path} has no text")
        return Document(
            doc_id=doc_id,
            title=title or title_from_name(self.path),
            language=document_language(text, language),
            path=str(self.path),
            text=text,
            content_hash=hashlib.sha256(raw).hexdigest(),
            pages=tuple(self.pages),
            layout=tuple(self.layout),
            **extra,
        )


def layout_blocks(document: Document) -> list[Block]:
    """The blocks recorded in ``document.layout``; blank-line paragraphs if there is none."""
    text = document.text
    if document.layout:
        return [Block(text[s:e], s, e, bool(h)) for s, e, h in document.layout]
    blocks = []
    for match in re.finditer(r"\S(?:.*?\S)?(?=\s*\n\s*\n|\s*\Z)", text, re.S):
        blocks.append(Block(match.group(), match.start(), match.end(), False))
    return blocks


def read_limited(path: Path, kind: str) -> bytes:
    """The file's bytes after :func:`rag.ingest.loader.check_file` (size and magic bytes)."""
    check_file(path, kind)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror or exc}") from exc


def decode_utf8(path: Path, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 and try again"
        ) from exc
    return text[1:] if text.startswith("\ufeff") else text
