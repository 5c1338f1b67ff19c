"""The cited page in the chat's Article view: for a PDF (text or scanned) or a page image, the page
of the answer's first citation in that document, rendered by rag/app/page_view.py with the cited
sentence highlighted, as an ``<img>`` with the PNG inline (a data URI: no second request, so it
works behind the page's login too). Empty for other formats or when the page cannot be drawn."""

from __future__ import annotations

import base64
from collections.abc import Iterable

from rag.app.page_view import PageError, has_pages, render_page
from rag.app.render import escape
from rag.records import Citation, Document

PAGE_WIDTH = 800


def cited_page_html(doc: Document | None, citations: Iterable[Citation] = ()) -> str:
    """A ``<figure>`` with the page of the first citation into ``doc``; "" when there is none."""
    if doc is None or not has_pages(doc):
        return ""
    cited = next((c for c in citations if c.sentence.doc_id == doc.doc_id), None)
    if cited is None:
        return ""
    s = cited.sentence
    page = s.page or 1
    try:
        rendered = render_page(doc, page, s.start, s.end, width=PAGE_WIDTH)
    except (PageError, OSError, ValueError):
        return ""
    data = base64.b64encode(rendered.png).decode("ascii")
    caption = f"Page {page} of {escape(doc.title)}" + (
        f", [{cited.marker}] highlighted" if rendered.boxes else " (the sentence could not be located on it)"
    )
    return (
        f'<figure class="rag-page" id="page-view" data-page="{page}" style="margin:1em 0">'
        f'<figcaption style="font-size:0.9em;opacity:0.8">{caption}</figcaption>'
        f'<img alt="{caption}" src="data:image/png;base64,{data}" '
        f'style="max-width:100%;border:1px solid #ccc"></figure>'
    )
