"""Images of pages (``.png``, ``.jpg``/``.jpeg``, ``.tif``/``.tiff``): read by OCR (rag/ingest/ocr.py).

Every frame of a TIFF is a page; a PNG or JPEG is one page. A photo's EXIF rotation is applied
first. An image above :data:`~rag.ingest.loader.MAX_IMAGE_PIXELS` pixels (a pixel bomb) is refused
before it is decoded. Each word's box is kept in ``Document.boxes``; a page without text is named
in ``Document.notes``.
"""

from __future__ import annotations

import io
from pathlib import Path

from rag.ingest import loader as limits
from rag.ingest.extracted import TextAssembler, layout_blocks, read_limited, title_from_name
from rag.ingest.loader import Block, DocumentError
from rag.ingest.ocr import PageReader, add_page, require_tesseract
from rag.records import Document


def check_pixels(path: Path, width: int, height: int, where: str = "") -> None:
    if width * height > limits.MAX_IMAGE_PIXELS:
        raise DocumentError(
            f"{path}{where} is {width:,} x {height:,} pixels ({width * height / 1e6:,.0f} million); "
            f"the limit is {limits.MAX_IMAGE_PIXELS / 1e6:,.0f} million"
        )


class ImageLoader:
    """The :class:`~rag.ingest.loader.DocumentLoader` of page images."""

    suffixes: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
    kind = "image"

    def load(self, path: Path, doc_id: str) -> Document:
        from PIL import Image, ImageOps, UnidentifiedImageError

        path = Path(path)
        raw = read_limited(path, self.kind)
        try:
            image = Image.open(io.BytesIO(raw))  # reads the header only
            frames = int(getattr(image, "n_frames", 1))
        except Image.DecompressionBombError as exc:  # Pillow's own limit, far above ours
            raise DocumentError(
                f"{path} has more pixels than Pillow will open; the limit is "
                f"{limits.MAX_IMAGE_PIXELS / 1e6:,.0f} million"
            ) from exc
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise DocumentError(f"{path} is a damaged image ({type(exc).__name__})") from exc
        if frames > limits.MAX_PDF_PAGES:
            raise DocumentError(f"{path} has {frames} pages; the limit is {limits.MAX_PDF_PAGES}")
        require_tesseract(path, "is an image of text")
        reader = PageReader(path)
        assembler = TextAssembler(path)
        boxes: list[tuple[int, int, int, float, float, float, float]] = []
        notes: list[str] = []
        for number in range(1, frames + 1):
            try:
                image.seek(number - 1)
                check_pixels(path, *image.size, f" (page {number})" if frames > 1 else "")
                frame = ImageOps.exif_transpose(image.copy()) if frames == 1 else image.copy()
                frame.load()
            except DocumentError:
                raise
            except (OSError, ValueError, Image.DecompressionBombError, EOFError) as exc:
                raise DocumentError(f"{path}: page {number} is damaged ({type(exc).__name__})") from exc
            assembler.new_page()
            page = reader.read(frame, number, notes)
            add_page(assembler, page, number, boxes)
        if not assembler.text().strip():
            raise DocumentError(f"{path} yielded no text: OCR found none on its {frames} page(s)")
        return assembler.document(doc_id, raw, title_from_name(path), boxes=tuple(boxes), notes=tuple(notes))

    def blocks(self, document: Document) -> list[Block]:
        return layout_blocks(document)
