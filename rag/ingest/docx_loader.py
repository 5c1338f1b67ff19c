"""Word documents (``.docx``) read with python-docx: paragraphs and tables in body order.

Headings come from paragraph styles ("Title", "Heading 1".."Heading 9", also the German
"Überschrift" styles); every other paragraph and every table row is a block. ``Document.text``
is the extracted text, blocks separated by blank lines, so offsets index the extracted text.
The title is the core properties' title, else the first "Title" paragraph, else the first
heading, else the file name. A file without core properties has none: python-docx's placeholder
title "Word Document" (which it reports then, and which files saved by it may carry) is no title.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from rag.ingest.extracted import TextAssembler, clean_line, layout_blocks, read_limited
from rag.ingest.loader import MAX_UNPACKED_BYTES, Block, DocumentError
from rag.language import known_languages
from rag.records import Document

# Word's names of heading styles, in every known language ("Heading 1", "Überschrift 1").
_HEADING_STYLE = re.compile(
    "^(" + "|".join(s for lang in known_languages() for s in lang.layout.heading_styles) + ")$", re.I
)
# python-docx's default core properties (CorePropertiesPart.default) carry this title.
_PLACEHOLDER_TITLE = "Word Document"


def _core_title(word: Any) -> str:
    """The core properties' title; "" when the file has no core properties part (python-docx
    would make up a default one) or its title is python-docx's placeholder."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    try:
        word.part.package.part_related_by(RT.CORE_PROPERTIES)
    except KeyError:
        return ""
    title = clean_line(word.core_properties.title or "")
    return "" if title == _PLACEHOLDER_TITLE else title


def _style_name(paragraph: Any) -> str:
    try:
        return str(paragraph.style.name or "") if paragraph.style is not None else ""
    except (KeyError, AttributeError):
        return ""


def _check_unpacked(path: Path, raw: bytes) -> None:
    """Refuse a zip bomb before python-docx unpacks it into memory."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise DocumentError(f"{path} is a damaged Word file ({exc})") from exc
    if total > MAX_UNPACKED_BYTES:
        raise DocumentError(
            f"{path} unpacks to {total / 2**20:.0f} MB; the limit is {MAX_UNPACKED_BYTES / 2**20:.0f} MB"
        )


def docx_blocks(document: Any) -> list[tuple[str, bool, str]]:
    """(text, is_heading, style name) of the body's paragraphs and table rows, in order."""
    from docx.table import Table

    blocks: list[tuple[str, bool, str]] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = clean_line(" ".join(cell.text.split()))
                    if text and (not cells or cells[-1] != text):  # merged cells repeat
                        cells.append(text)
                if cells:
                    blocks.append(("; ".join(cells), False, "table"))
            continue
        lines = [clean_line(line) for line in item.text.splitlines()]
        text = "\n".join(line for line in lines if line)
        if text:
            style = _style_name(item)
            blocks.append((text, bool(_HEADING_STYLE.match(style)), style))
    return blocks


class DocxLoader:
    """The :class:`~rag.ingest.loader.DocumentLoader` of Word (.docx) files."""

    suffixes: tuple[str, ...] = (".docx",)
    kind = "docx"

    def load(self, path: Path, doc_id: str) -> Document:
        import docx

        path = Path(path)
        raw = read_limited(path, self.kind)
        _check_unpacked(path, raw)
        try:
            word = docx.Document(io.BytesIO(raw))
            blocks = docx_blocks(word)
            core_title = _core_title(word)
        except DocumentError:
            raise
        except Exception as exc:  # noqa: BLE001 - python-docx/lxml raise many kinds on bad files
            raise DocumentError(f"{path} is a damaged Word file ({type(exc).__name__})") from exc
        assembler = TextAssembler(path)
        for text, is_heading, _ in blocks:
            assembler.add(text, is_heading)
        title = (
            core_title
            or next((t for t, _, style in blocks if style.lower() in ("title", "titel")), "")
            or next((t for t, heading, _ in blocks if heading), "")
        )
        return assembler.document(doc_id, raw, " ".join(title.split()))

    def blocks(self, document: Document) -> list[Block]:
        return layout_blocks(document)
