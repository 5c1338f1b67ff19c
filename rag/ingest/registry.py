"""The registry of document formats: every :class:`~rag.ingest.loader.DocumentLoader`, and
which one reads a file (by its ending) or a document.

Example::

    from rag.ingest.registry import loader_for
    loader_for("bericht.pdf").kind      # 'pdf'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from rag.ingest.loader import Block, DocumentLoader
from rag.records import Document


@lru_cache(maxsize=1)
def loaders() -> tuple[DocumentLoader, ...]:
    """Every format's loader; the first also reads text that comes from no file."""
    from rag.ingest.docx_loader import DocxLoader
    from rag.ingest.html_loader import HtmlLoader
    from rag.ingest.image_loader import ImageLoader
    from rag.ingest.markdown_loader import MarkdownLoader
    from rag.ingest.pdf_loader import PdfLoader
    from rag.ingest.sheet_loader import CsvLoader, XlsxLoader
    from rag.ingest.slides_loader import PptxLoader
    from rag.ingest.text import TextLoader

    return (TextLoader(), MarkdownLoader(), HtmlLoader(), PdfLoader(), DocxLoader(), PptxLoader(),
            XlsxLoader(), CsvLoader(), ImageLoader())


def supported_suffixes() -> tuple[str, ...]:
    return tuple(suffix for loader in loaders() for suffix in loader.suffixes)


def loader_for(path: str | Path) -> DocumentLoader:
    """The loader for a file by its ending; plain text for documents that are no file
    (a SQuAD paragraph's path is ``file.json#a00-p00``)."""
    suffix = Path(str(path).split("#", 1)[0]).suffix.lower()
    fallback = loaders()[0]
    if "#" in str(path):
        return fallback
    return next((loader for loader in loaders() if suffix in loader.suffixes), fallback)


def blocks_of(document: Document) -> list[Block]:
    """The document's paragraphs and headings, as its format's loader reads them."""
    return loader_for(document.path).blocks(document)
