"""PowerPoint files (``.pptx``) read with python-pptx: each slide is a page.

A slide gives its title (a heading; "Slide N" when it has none), then the text of its other
shapes in their order (text frames, tables row by row, groups opened), then its speaker notes.
``Document.pages`` holds where each slide starts, so a citation names its slide as ``page``.
The title is the core properties' title, else the first slide's title, else the file name.
Macro-bearing files (``.pptm``, or a ``.pptx`` holding a VBA project) are refused.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.ingest import loader as limits
from rag.ingest.extracted import TextAssembler, clean_line, layout_blocks, read_limited
from rag.ingest.loader import Block, DocumentError
from rag.ingest.office import check_office_zip
from rag.records import Document


def _frame_paragraphs(frame: Any) -> Iterator[str]:
    for paragraph in frame.paragraphs:
        text = clean_line(paragraph.text.replace("\x0b", " "))  # \v: a line break inside a paragraph
        if text:
            yield text


def _shape_texts(shapes: Any, skip: Any = None) -> Iterator[str]:
    """The text of ``shapes`` in order: text frames by paragraph, tables by row, groups opened."""
    for shape in shapes:
        if skip is not None and shape.shape_id == skip:
            continue
        if getattr(shape, "shape_type", None) is not None and shape.shape_type == 6:  # GROUP
            yield from _shape_texts(shape.shapes)
            continue
        if getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                cells = [clean_line(" ".join(cell.text.split())) for cell in row.cells]
                line = "; ".join(c for c in cells if c)
                if line:
                    yield line
            continue
        if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield from _frame_paragraphs(shape.text_frame)


def slide_blocks(presentation: Any) -> list[tuple[str, list[str], list[str]]]:
    """(title, body paragraphs, notes paragraphs) of each slide, in order."""
    slides = []
    for slide in presentation.slides:
        title_shape = slide.shapes.title
        title = clean_line(" ".join(title_shape.text.split())) if title_shape is not None else ""
        body = list(_shape_texts(slide.shapes, title_shape.shape_id if title_shape is not None else None))
        notes: list[str] = []
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = list(_frame_paragraphs(slide.notes_slide.notes_text_frame))
        slides.append((title, body, notes))
    return slides


class PptxLoader:
    """The :class:`~rag.ingest.loader.DocumentLoader` of PowerPoint (.pptx) files."""

    suffixes: tuple[str, ...] = (".pptx",)
    kind = "pptx"

    def load(self, path: Path, doc_id: str) -> Document:
        from pptx import Presentation

        path = Path(path)
        raw = read_limited(path, self.kind)
        check_office_zip(path, raw, "PowerPoint file")
        try:
            presentation = Presentation(io.BytesIO(raw))
            count = len(presentation.slides)
            if count > limits.MAX_SLIDES:
                raise DocumentError(f"{path} has {count} slides; the limit is {limits.MAX_SLIDES}")
            slides = slide_blocks(presentation)
            core_title = clean_line(presentation.core_properties.title or "")
        except DocumentError:
            raise
        except Exception as exc:  # noqa: BLE001 - python-pptx/lxml raise many kinds on bad files
            raise DocumentError(f"{path} is a damaged PowerPoint file ({type(exc).__name__})") from exc
        if not slides:
            raise DocumentError(f"{path} has no slides: there is nothing to read in it")
        assembler = TextAssembler(path)
        for number, (title, body, notes) in enumerate(slides, start=1):
            assembler.new_page()
            if not body and not notes and not title:
                continue
            assembler.add(title or f"Slide {number}", is_heading=True)
            for text in body + notes:
                assembler.add(text)
        if not any(body or notes for _, body, notes in slides):
            raise DocumentError(f"{path} has no text on its slides")
        first_title = next((t for t, _, _ in slides if t), "")
        return assembler.document(doc_id, raw, core_title or first_title)

    def blocks(self, document: Document) -> list[Block]:
        return layout_blocks(document)
