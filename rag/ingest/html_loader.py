"""Web pages (``.html``, ``.htm``): the main text as trafilatura extracts it for news pages
(navigation, footers, comments and boilerplate left out), with the headings kept.

``Document.text`` is the extracted text, headings and paragraphs separated by blank lines, so
sentence offsets index the extracted text, not the HTML. The title is the page's ``og:title``
or ``<title>``, else trafilatura's title from the page's metadata, else the first heading,
else the file name.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from rag.ingest.extracted import TextAssembler, clean_line, decode_utf8, layout_blocks, read_limited
from rag.ingest.loader import Block, DocumentError
from rag.records import Document

_BLOCK_TAGS = {"head", "p", "item", "quote", "cell", "code"}


def _page_title(page: str) -> str:
    for pattern in (
        r"<meta[^>]+property=[\"']og:title[\"'][^>]+content=[\"']([^\"']*)[\"']",
        r"<meta[^>]+content=[\"']([^\"']*)[\"'][^>]+property=[\"']og:title[\"']",
        r"<title[^>]*>(.*?)</title>",
    ):
        match = re.search(pattern, page, re.I | re.S)
        if match and match.group(1).strip():
            return clean_line(html.unescape(match.group(1)))
    return ""


def extract_blocks(page: str) -> tuple[str, list[tuple[str, bool]]]:
    """trafilatura's title and main-text blocks (text, is_heading) of an HTML page."""
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(
        page, output_format="xml", include_comments=False, include_tables=True
    )
    if not xml:
        return _page_title(page), []
    root = etree.fromstring(xml.encode("utf-8"))
    title = _page_title(page) or clean_line(root.get("title") or "")
    main = root.find("main")
    blocks: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for element in (main if main is not None else root).iter(*_BLOCK_TAGS):
        if any(parent.tag in _BLOCK_TAGS for parent in element.iterancestors()):
            continue  # a paragraph inside a list item or quote: its text is in the outer block
        for line_break in element.iter("lb"):  # a <br>: trafilatura's <lb/>, whose text is empty
            line_break.text = "\n"  # (without this, "hours:<br>Monday" read "hours:Monday")
        lines = [clean_line(line) for line in "".join(element.itertext()).splitlines()]
        text = "\n".join(line for line in lines if line)
        if not text:
            continue
        is_heading = element.tag == "head"
        key = " ".join(text.split())
        if not is_heading and key in seen:
            continue  # trafilatura repeats paragraphs of short pages
        seen.add(key)
        blocks.append((text, is_heading))
    return title, blocks


class HtmlLoader:
    """The :class:`~rag.ingest.loader.DocumentLoader` of HTML pages."""

    suffixes: tuple[str, ...] = (".html", ".htm")
    kind = "text"

    def load(self, path: Path, doc_id: str) -> Document:
        path = Path(path)
        raw = read_limited(path, self.kind)
        page = decode_utf8(path, raw)
        title, blocks = extract_blocks(page)
        if not blocks:
            raise DocumentError(f"{path} has no main text that could be extracted")
        assembler = TextAssembler(path)
        for text, is_heading in blocks:
            assembler.add(text, is_heading)
        if not title:
            title = next((text for text, is_heading in blocks if is_heading), "")
        return assembler.document(doc_id, raw, title)

    def blocks(self, document: Document) -> list[Block]:
        return layout_blocks(document)
