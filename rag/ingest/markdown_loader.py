"""Markdown files (``.md``, ``.markdown``) read with a CommonMark parser (markdown-it-py).

Headings (``#`` and underlined) are section headings; every paragraph and list item is a block
of its own; code blocks and raw HTML are left out. Inline markup (emphasis, links, code spans,
images) is removed from a block's text, and :attr:`Block.offsets` maps each character of the
cleaned text back to the file, so a sentence's ``start``/``end`` still index ``document.text``
(the whole file, front matter included). A file without any blank line is read one paragraph
per line, like a ``.txt`` file (the bundled article's layout).
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.ingest.loader import Block
from rag.ingest.text import load_text_document, parse_front_matter
from rag.records import Document

_SKIPPED_INLINE = {"image", "html_inline"}


@lru_cache(maxsize=1)
def _parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


class _Cleaner:
    """Builds a block's cleaned text and its map to source offsets, walking inline tokens."""

    def __init__(self, source: str, lo: int, hi: int) -> None:
        self.source, self.cursor, self.hi = source, lo, hi
        self.chars: list[str] = []
        self.offsets: list[int] = []
        self.pieces: list[tuple[str, list[int]]] = []

    def emit(self, content: str) -> None:
        pos = self.source.find(content, self.cursor, self.hi)
        if pos >= 0:
            self.chars.extend(content)
            self.offsets.extend(range(pos, pos + len(content)))
            self.cursor = pos + len(content)
            return
        for ch in content:  # escapes and entities: align character by character
            pos = self.source.find(ch, self.cursor, self.hi)
            if pos < 0:
                pos = min(self.cursor, self.hi - 1)
            else:
                self.cursor = pos + 1
            self.chars.append(ch)
            self.offsets.append(pos)

    def line_break(self, split: bool) -> None:
        if split:
            self.flush()
            return
        pos = self.source.find("\n", self.cursor, self.hi)
        if pos >= 0:
            self.chars.append("\n")
            self.offsets.append(pos)
            self.cursor = pos + 1
        else:
            self.emit(" ")

    def skip_link_target(self) -> None:
        """After a link's text: step over ``](url "title")`` or ``][ref]``."""
        src, at = self.source, self.cursor
        if at < self.hi and src[at] == "]":
            at += 1
            if at < self.hi and src[at] in "([":
                closing = ")" if src[at] == "(" else "]"
                depth = 0
                while at < self.hi:
                    if src[at] in "([":
                        depth += 1
                    elif src[at] == closing:
                        depth -= 1
                        if depth == 0:
                            at += 1
                            break
                    at += 1
            self.cursor = at

    def flush(self) -> None:
        self.pieces.append(("".join(self.chars), self.offsets))
        self.chars, self.offsets = [], []


def _trimmed(text: str, offsets: list[int]) -> tuple[str, list[int]]:
    start, end = 0, len(text)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return text[start:end], offsets[start:end]


def markdown_blocks(document: Document) -> list[Block]:
    """Headings, paragraphs and list items of the body, markup removed, offsets into the file."""
    base = document.body_start
    body = document.text[base:]
    line_starts = [0] + [m.end() for m in re.finditer("\n", body)]
    one_per_line = re.search(r"\n[ \t]*\r?\n", body.strip()) is None

    def line_offset(line: int) -> int:
        return line_starts[line] if line < len(line_starts) else len(body)

    tokens = _parser().parse(body)
    blocks: list[Block] = []
    for i, token in enumerate(tokens):
        if token.type != "inline" or token.map is None:
            continue
        is_heading = i > 0 and tokens[i - 1].type == "heading_open"
        cleaner = _Cleaner(body, line_offset(token.map[0]), line_offset(token.map[1]))
        for child in token.children or []:
            if child.type in ("text", "text_special", "code_inline"):
                cleaner.emit(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                cleaner.line_break(split=one_per_line and not is_heading)
            elif child.type == "link_close":
                cleaner.skip_link_target()
            elif child.type in _SKIPPED_INLINE:
                continue
        cleaner.flush()
        for raw_text, raw_offsets in cleaner.pieces:
            text, offsets = _trimmed(raw_text, raw_offsets)
            if not text:
                continue
            source = tuple(base + o for o in offsets)
            blocks.append(Block(text, source[0], source[-1] + 1, is_heading, source))
    return blocks


def first_heading(document: Document) -> str:
    """The text of the document's first level-1 heading (markup removed), or ``""``."""
    tokens = _parser().parse(document.text[document.body_start :])
    for i, token in enumerate(tokens[:-1]):
        if token.type == "heading_open" and token.tag == "h1":
            return " ".join(_clean(tokens[i + 1]).split())
    return ""


def _clean(inline: Any) -> str:
    return "".join(
        c.content for c in inline.children or [] if c.type in ("text", "text_special", "code_inline")
    )


class MarkdownLoader:
    """The :class:`~rag.ingest.loader.DocumentLoader` of Markdown files. The title is front
    matter's ``title:``, else the first ``#`` heading, else the file name."""

    suffixes: tuple[str, ...] = (".md", ".markdown")
    kind = "text"

    def load(self, path: Path, doc_id: str) -> Document:
        document = load_text_document(Path(path), doc_id)
        meta, _ = parse_front_matter(document.text)
        if not meta.get("title"):
            title = first_heading(document)
            if title:
                document = replace(document, title=title)
        return document

    def blocks(self, document: Document) -> list[Block]:
        return markdown_blocks(document)
