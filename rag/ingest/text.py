"""Plain text files (``.txt``), with an optional front matter block.

A file with blank lines between paragraphs is read as blank-line blocks (hard-wrapped text);
otherwise each line is a paragraph, as in the bundled article. A short line without final
punctuation that is followed by text, or a Markdown ``#`` line, is a section heading.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from rag.config import IndexTuning
from rag.ingest.extracted import decode_utf8, document_language, read_limited, title_from_name
from rag.ingest.loader import Block, DocumentError, check_chars
from rag.records import Document

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
FINAL_PUNCTUATION = tuple('.!?:;…»«"“”\'’)')


def parse_front_matter(text: str) -> tuple[dict[str, str], int]:
    """``key: value`` lines between ``---`` fences at the top; returns them and the body start."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, 0
    meta = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            meta[key.strip().lower()] = value.strip()
    return meta, match.end()


def load_text_document(path: Path, doc_id: str) -> Document:
    """Read one seed file strictly as UTF-8; title and language come from front matter if any.

    The language without front matter is fastText's when it is confident, else the
    function-word guess (:func:`rag.ingest.extracted.document_language`).
    """
    path = Path(path)
    raw = read_limited(path, "text")
    text = decode_utf8(path, raw)  # offsets refer to the decoded text without a BOM
    check_chars(path, len(text))
    meta, body_start = parse_front_matter(text)
    if not text[body_start:].strip():
        raise DocumentError(f"{path} has no text")
    title = meta.get("title") or title_from_name(path)
    language = document_language(text[body_start:], meta.get("language"))
    return Document(
        doc_id=doc_id,
        title=title,
        language=language,
        path=str(path),
        text=text,
        content_hash=hashlib.sha256(raw).hexdigest(),
        body_start=body_start,
    )


def _line_spans(text: str, start: int) -> Iterator[tuple[int, int]]:
    for match in re.finditer(r"[^\r\n]+", text[start:]):
        yield start + match.start(), start + match.end()


def _is_heading(line: str, next_is_text: bool) -> bool:
    stripped = line.strip()
    if stripped.startswith("#"):
        return True
    return (
        next_is_text
        and len(stripped) <= IndexTuning.max_heading_chars
        and not stripped.endswith(FINAL_PUNCTUATION)
    )


def split_blocks(doc: Document) -> list[Block]:
    """Paragraphs and headings of the body.

    A file with blank lines between paragraphs is read as blank-line blocks (hard-wrapped text);
    otherwise each line is a paragraph, as in the bundled article. A short line without final
    punctuation that is followed by text is a section heading.
    """
    text, body = doc.text, doc.body_start
    lines = [(s, e) for s, e in _line_spans(text, body) if text[s:e].strip()]
    has_blank_separators = re.search(r"\n[ \t]*\r?\n", text[body:].strip()) is not None
    groups: list[list[tuple[int, int]]] = []
    if has_blank_separators:
        current: list[tuple[int, int]] = []
        previous_end = None
        for s, e in lines:
            if previous_end is not None and text[previous_end:s].count("\n") > 1:
                groups.append(current)
                current = []
            current.append((s, e))
            previous_end = e
        if current:
            groups.append(current)
    else:
        groups = [[span] for span in lines]

    blocks: list[Block] = []
    for gi, group in enumerate(groups):
        first_s, first_e = group[0]
        first_line = text[first_s:first_e]
        # With blank-line paragraphs a heading is a block of its own (or a Markdown '#' line);
        # otherwise the first line of a hard-wrapped paragraph would pass for one.
        next_is_text = gi + 1 < len(groups) and (len(group) == 1 or not has_blank_separators)
        if _is_heading(first_line, next_is_text):
            h_start = first_s + (len(first_line) - len(first_line.lstrip(" \t#")))
            blocks.append(Block(text[h_start:first_e].strip(), h_start, first_e, True))
            group = group[1:]
        if group:
            s, e = group[0][0], group[-1][1]
            lead = len(text[s:e]) - len(text[s:e].lstrip())
            trail = len(text[s:e]) - len(text[s:e].rstrip())
            blocks.append(Block(text[s + lead : e - trail], s + lead, e - trail, False))
    return blocks


class TextLoader:
    """The :class:`~rag.ingest.loader.DocumentLoader` of ``.txt`` files (and of text that comes
    from no file); Markdown has its own, :class:`rag.ingest.markdown_loader.MarkdownLoader`."""

    suffixes: tuple[str, ...] = (".txt",)
    kind = "text"

    def load(self, path: Path, doc_id: str) -> Document:
        return load_text_document(path, doc_id)

    def blocks(self, document: Document) -> list[Block]:
        return split_blocks(document)
