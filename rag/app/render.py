"""HTML for the chat: answers with citation pop-ups, the sources list and the article view.

Everything that comes from a user or a document goes through :func:`escape` before it is
placed in markup, so a question such as ``<img src=x onerror=alert(1)>`` or ``**bold**`` is
shown literally. Markup is built only here, from fixed strings; ``ui.py`` hands it to Gradio
with Markdown rendering switched off.

Example::

    html = answer_html(answer, {d.doc_id: d for d in pipeline.index.documents})
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.app.documents import DocumentRow, human_size
from rag.app.support import LOW_LABEL, LOW_MARK, citation_place, support_line
from rag.ingest import blocks_of
from rag.ingest.sentences import page_of
from rag.records import LOW, Answer, Chunk, Citation, Document, Hit, Sentence

__all__ = [
    "escape",
    "user_html",
    "answer_html",
    "error_html",
    "sentence_in_context",
    "sources_html",
    "article_html",
    "answer_plain",
    "CSS",
]

# Besides the five HTML specials, neutralise the characters template engines react to
# (``${...}``, ``{{...}}``, backticks): Gradio's HTML component fills a JS/Handlebars template.
_EXTRA = str.maketrans({"$": "&#36;", "{": "&#123;", "}": "&#125;", "`": "&#96;"})
_MARKER = re.compile(r"\[(\d+)\]")


def escape(text: object) -> str:
    """Text -> HTML that displays exactly that text and can never become markup."""
    return html.escape(str(text), quote=True).translate(_EXTRA)


@dataclass(frozen=True)
class _Paragraph:
    start: int
    end: int
    heading: str


@functools.lru_cache(maxsize=64)
def _paragraphs(doc: Document) -> tuple[_Paragraph, ...]:
    """Paragraph spans of ``doc`` with the heading of the section they stand in.

    Cached: every citation pop-up of every answer looks its paragraph up here.
    """
    out, heading = [], ""
    for block in blocks_of(doc):
        if block.is_heading:
            heading = block.text
        else:
            out.append(_Paragraph(block.start, block.end, heading))
    return tuple(out)


def _paragraph_at(doc: Document, start: int, end: int) -> _Paragraph:
    for p in _paragraphs(doc):
        if p.start <= start and end <= p.end:
            return p
    # Offsets outside every paragraph (should not happen): show just the span itself.
    return _Paragraph(start, end, "")


def _marked(text: str, spans: Sequence[tuple[int, int, str]], offset: int) -> str:
    """``text`` (starting at ``offset`` in its document) with ``<mark>`` around each span."""
    out, pos = [], 0
    for start, end, label in sorted(spans):
        s, e = max(start - offset, pos), min(end - offset, len(text))
        if s >= e:
            continue
        out.append(escape(text[pos:s]))
        tag = f'<sup class="rag-mark-label">{escape(label)}</sup>' if label else ""
        out.append(f'<mark class="rag-hl">{escape(text[s:e])}</mark>{tag}')
        pos = e
    out.append(escape(text[pos:]))
    return "".join(out)


def sentence_in_context(doc: Document, start: int, end: int, heading: str | None = None) -> str:
    """The paragraph holding ``doc.text[start:end]``, that sentence highlighted, under its heading."""
    paragraph = _paragraph_at(doc, start, end)
    heading = paragraph.heading if heading is None else heading
    head = f'<span class="rag-ctx-heading">{escape(heading)}</span>' if heading else ""
    body = _marked(doc.text[paragraph.start : paragraph.end], [(start, end, "")], paragraph.start)
    title = f'<span class="rag-ctx-title">{escape(doc.title)}</span>'
    return f'{title}{head}<span class="rag-ctx-text">{body}</span>'


def user_html(question: str) -> str:
    """A user's message, shown exactly as typed."""
    return f'<span class="rag-user">{escape(question)}</span>'


def _citation_html(citation: Citation, doc: Document | None) -> str:
    s = citation.sentence
    n = citation.marker
    where = citation_place(citation)
    if doc is not None:
        context = sentence_in_context(doc, s.start, s.end, s.heading)
    else:
        context = f'<span class="rag-ctx-text"><mark class="rag-hl">{escape(s.text)}</mark></span>'
    return (
        f'<span class="rag-cite" tabindex="0" data-marker="{n}" data-start="{s.start}" data-end="{s.end}">'
        f'<span class="rag-cite-marker">[{n}]</span>'
        f'<span class="rag-cite-pop" role="tooltip">{context}'
        f'<span class="rag-ctx-where">{escape(where)} · score {citation.score:.2f}</span></span></span>'
    )


def answer_plain(answer: Answer) -> str:
    """The answer as plain text: its text with the ``[n]`` markers, then the numbered sources
    (title, section, paragraph, sentence) and each quoted sentence; what the copy button copies."""
    lines = [answer.text.strip()]
    if support := support_line(answer):
        lines.insert(0, support)
    if answer.notice:
        lines.insert(0, answer.notice)
    if answer.citations and not answer.abstained:
        lines.append("")
        lines.append("Sources:")
        lines.extend(
            f"[{c.marker}] {citation_place(c)}: \u201c{c.sentence.text}\u201d" for c in answer.citations
        )
    return "\n".join(lines)


def _copy_text(text: str) -> str:
    """Plain text in a hidden element, read by the page's copy and export handlers (Gradio's
    sanitizer keeps no ``data-*`` attributes, so the text travels as hidden content)."""
    return f'<span class="rag-copy" aria-hidden="true">{escape(text)}</span>'


def answer_html(answer: Answer, documents: Mapping[str, Document], elapsed_ms: float | None = None) -> str:
    """An answer with each ``[n]`` turned into a citation that shows its place on hover/click.

    A refusal ("the article does not say") gets its own look and no citations. The element
    carries the plain-text version (:func:`answer_plain`) in ``data-copy``.
    """
    copy = _copy_text(answer_plain(answer))
    notice = f'<div class="rag-notice">{escape(answer.notice)}</div>' if answer.notice else ""
    timing = answer.timings_ms.get("total") if elapsed_ms is None else elapsed_ms
    meta = f'<div class="rag-meta">{timing:.0f} ms</div>' if timing is not None else ""
    if answer.abstained or not answer.citations:
        return (
            f'<div class="rag-answer rag-refusal">{copy}{notice}<span class="rag-refusal-icon">∅</span> '
            f"{escape(answer.text)}{meta}</div>"
        )
    by_marker = {c.marker: c for c in answer.citations}
    parts, pos = [], 0
    for match in _MARKER.finditer(answer.text):
        citation = by_marker.get(int(match.group(1)))
        if citation is None:
            continue
        parts.append(escape(answer.text[pos : match.start()]))
        parts.append(_citation_html(citation, documents.get(citation.sentence.doc_id)))
        pos = match.end()
    parts.append(escape(answer.text[pos:]))
    foot = "".join(
        f'<li><span class="rag-cite-marker">[{c.marker}]</span> {escape(citation_place(c))}</li>'
        for c in answer.citations
    )
    kind, mark = "rag-answer", ""
    if answer.confidence == LOW:  # the closest passage, which may not answer: its own look
        kind += " rag-low"
        mark = (f'<div class="rag-low-label"><span class="rag-low-mark" aria-hidden="true">{LOW_MARK}</span> '
                f"{escape(LOW_LABEL)}</div>")
    return (
        f'<div class="{kind}">{copy}{notice}{mark}<div class="rag-answer-text">{"".join(parts)}</div>'
        f'<ol class="rag-footnotes">{foot}</ol>{meta}</div>'
    )


def error_html(message: str) -> str:
    return f'<div class="rag-answer rag-error">{_copy_text(message)}{escape(message)}</div>'


SOURCES_LEGEND = (
    "Passages found for the question, best first. The bar shows how well each matches, relative "
    "to the best one (meaning and shared words combined); passages marked \u201cused in the answer\u201d "
    "hold a quoted sentence [n]."
)


def _hit_place(hit: Hit, documents: Mapping[str, Document]) -> str:
    """ "Title, page 2, paragraph 3": the document named when there are several, its page for a
    PDF."""
    chunk = hit.chunk
    doc = documents.get(chunk.doc_id)
    parts = [doc.title] if doc is not None and len(documents) > 1 else []
    if doc is not None and doc.pages:
        parts.append(f"page {page_of(doc, chunk.start)}")
    is_title = doc is not None and chunk.paragraph == 0 and chunk.text.strip() == doc.title.strip()
    parts.append("title" if is_title else f"paragraph {chunk.paragraph}")
    return ", ".join(parts)


def sources_html(
    hits: Iterable[Hit], cited: Iterable[Citation] = (), documents: Mapping[str, Document] | None = None
) -> str:
    """The retrieved passages, best first: a relevance bar, whether the answer quotes them, and
    where each stands (its document when there are several, its page in a PDF)."""
    documents = documents or {}
    cited = list(cited)
    cited_spans = [(c.sentence.start, c.sentence.end, f"[{c.marker}]", c.sentence.doc_id) for c in cited]
    hits = list(hits)
    if not hits:  # an answer made without a search (the overview): the sentences it quotes
        hits = [Hit(Chunk(-1, c.sentence.doc_id, c.sentence.paragraph, (), c.sentence.text, c.sentence.start,
                          c.sentence.end, c.sentence.heading), 1.0, 0.0, 0.0, rank)
                for rank, c in enumerate(cited, start=1)]
    best = max((h.score for h in hits), default=0.0)
    rows = []
    for hit in hits:
        chunk = hit.chunk
        spans = [sp[:3] for sp in cited_spans
                 if sp[3] == chunk.doc_id and chunk.start <= sp[0] and sp[1] <= chunk.end]
        doc = documents.get(chunk.doc_id)
        shown_heading = chunk.heading if doc is None or chunk.heading != doc.title else ""
        heading = f'<div class="rag-src-heading">{escape(shown_heading)}</div>' if shown_heading else ""
        share = max(0.04, min(1.0, hit.score / best)) if best > 0 else 0.0
        markers = " ".join(escape(sp[2]) for sp in spans)
        used = (
            f'<span class="rag-src-used">used in the answer {markers}</span>'
            if spans else '<span class="rag-src-unused">not used</span>'
        )
        title = f"score {hit.score:.3f} · dense {hit.dense_score:.3f} · lexical {hit.lexical_score:.3f}"
        bar = (f'<span class="rag-src-bar" title="{escape(title)}">'
               f'<span style="width:{share * 100:.0f}%"></span></span>') if chunk.chunk_id >= 0 else ""
        rows.append(
            f'<li class="rag-src{" rag-src-is-used" if spans else ""}"><div class="rag-src-head">'
            f'<span class="rag-src-rank">#{hit.rank}</span>{bar}'
            f'{used}<span class="rag-src-where">{escape(_hit_place(hit, documents))}</span></div>'
            f'{heading}<div class="rag-src-text">{_marked(chunk.text, spans, chunk.start)}</div></li>'
        )
    if not rows:
        return '<div class="rag-empty">Ask a question to see the passages it was answered from.</div>'
    legend = f'<p class="rag-src-legend">{escape(SOURCES_LEGEND)}</p>'
    return f'{legend}<ol class="rag-sources">{"".join(rows)}</ol>'


def answer_sources_html(answer: object, documents: Mapping[str, Document] | None = None) -> str:
    """:func:`sources_html` of an answer as its JSON (``Answer.to_dict()``, which the page keeps
    with each turn in the browser): the Sources view when the answer comes and, the same, when
    its conversation is opened again (after a reload). What cannot be read (an old or damaged
    entry) gives the empty view."""
    try:
        data = answer if isinstance(answer, Mapping) else {}
        hits = [
            Hit(Chunk(int(h["chunk_id"]), str(h["doc_id"]), int(h["paragraph"]), (), str(h["text"]),
                      int(h["start"]), int(h["end"]), str(h.get("heading") or "")),
                float(h["score"]), float(h["dense_score"]), float(h["lexical_score"]), int(h["rank"]))
            for h in data.get("hits") or []
        ]
        cited = [
            Citation(int(c["marker"]),
                     Sentence(-1, str(c["doc_id"]), int(c["paragraph"]), int(c["sentence"]), str(c["text"]),
                              int(c["start"]), int(c["end"]), str(c.get("heading") or ""),
                              page=c.get("page")),
                     float(c["score"]), str(c.get("doc_title") or ""))
            for c in data.get("citations") or []
        ]
    except (KeyError, TypeError, ValueError, AttributeError):
        return sources_html([])
    return sources_html(hits, cited, documents)


def article_html(doc: Document, cited: Iterable[Citation] = ()) -> str:
    """The whole document, headings and paragraphs, with the last answer's sentences marked."""
    spans = [
        (c.sentence.start, c.sentence.end, f"[{c.marker}]") for c in cited if c.sentence.doc_id == doc.doc_id
    ]
    parts = [f'<h2 class="rag-article-title">{escape(doc.title)}</h2>']
    shown_page = 0
    for block in blocks_of(doc):
        # A document with pages (PDF, scan, slides): a mark where each page starts, before the
        # first block on it (a paragraph running over a page's end keeps its page's number).
        page = page_of(doc, block.start) or 0
        while shown_page < page:
            shown_page += 1
            parts.append(page_break_html(shown_page, len(doc.pages)))
        if block.is_heading:
            parts.append(f'<h3 class="rag-article-heading">{escape(block.text)}</h3>')
            continue
        inside = [sp for sp in spans if block.start <= sp[0] and sp[1] <= block.end]
        parts.append(f'<p class="rag-article-p">{_marked(block.text, inside, block.start)}</p>')
    return f'<article class="rag-article">{"".join(parts)}</article>'



def page_break_html(page: int, pages: int) -> str:
    """The mark where page ``page`` (of ``pages``) starts in the Article view."""
    return (f'<div class="rag-page-break" data-page="{page}" role="separator" aria-label="Page {page}">'
            f'<span>Page {page} of {pages}</span></div>')


def intro_html(titles: Sequence[str]) -> str:
    """The page's opening lines: "the article" for one document, "the N documents" for more."""
    if len(titles) == 1:
        what, whose = "the article", "the article's"
    else:
        what, whose = f"the {len(titles)} documents", "the documents'"
    return (
        "<div id='rag-intro'><h1 style='margin:0'>rag — answers you can check</h1>"
        f"<p style='margin:0.2rem 0 0 0'>Ask about {what} in German or English. Every answer is "
        f"made of {whose} own sentences; hover over or click a citation [n] to see it in its "
        "paragraph. Add or remove documents under Documents.</p></div>"
    )


def chat_placeholder(count: int) -> str:
    what = "the article" if count == 1 else "the documents"
    return f"Ask a question about {what}, e.g. one of the examples below."


def change_html(lines: Sequence[tuple[str, str]]) -> str:
    """What an upload or a delete did, one line each: ``(kind, text)`` with kind "ok",
    "duplicate" or "error" (file names come from users: escaped like everything else)."""
    items = "".join(f'<li class="rag-doc-{escape(kind)}">{escape(text)}</li>' for kind, text in lines)
    return f'<ul class="rag-doc-status">{items}</ul>' if items else ""


def documents_html(rows: Sequence[DocumentRow]) -> str:
    """The documents questions search, one table row each (title and file, language, format,
    size, sentences, pages)."""
    head = "".join(f"<th>{h}</th>" for h in ("Title", "Language", "Format", "Size", "Sentences", "Pages"))
    body = "".join(
        f'<tr data-doc="{escape(r.doc_id)}"><td><span class="rag-doc-title">{escape(r.title)}</span>'
        f'<span class="rag-doc-file">{escape(Path(r.path).name)}</span></td>'
        f"<td>{escape(r.language)}</td><td>{escape(r.format)}</td><td>{escape(human_size(r.bytes))}</td>"
        f"<td>{r.sentences}</td><td>{r.pages or ''}</td></tr>"
        for r in rows
    )
    return (f'<table class="rag-docs"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
            f'<p class="rag-src-legend">{len(rows)} document(s); questions search all of them.</p>')

CSS = """
.rag-user { white-space: pre-wrap; }
.rag-copy { display: none !important; }
.rag-answer-text { line-height: 1.55; }
.rag-answer { position: relative; }
.rag-cite { display: inline-block; cursor: help; outline: none; }
.rag-cite:focus .rag-cite-marker { text-decoration: underline; }
.rag-cite-marker { color: var(--color-accent, #f97316); font-weight: 600; font-size: 0.85em;
  vertical-align: super; padding: 0 1px; }
.rag-cite-pop { display: none; position: fixed; z-index: 1000; width: min(34rem, 60vw); margin-top: 1.4em;
  background: var(--background-fill-primary, #fff); color: var(--body-text-color, #111);
  border: 1px solid var(--border-color-primary, #ccc); border-radius: 8px; padding: 0.6rem 0.75rem;
  box-shadow: 0 6px 24px rgba(0,0,0,0.18); font-size: 0.9em; line-height: 1.45; white-space: normal;
  font-style: normal; font-weight: normal; text-align: left; }
.rag-cite:hover .rag-cite-pop, .rag-cite:focus .rag-cite-pop, .rag-cite:focus-within .rag-cite-pop {
  display: block; }
.rag-ctx-title { display: block; font-size: 0.8em; opacity: 0.7; }
.rag-ctx-heading { display: block; font-weight: 700; margin-bottom: 0.25rem; }
.rag-ctx-text { display: block; }
.rag-ctx-where { display: block; font-size: 0.8em; opacity: 0.7; margin-top: 0.35rem; }
mark.rag-hl { background: #fde68a; color: #111; padding: 0 1px; border-radius: 2px; }
.rag-mark-label { color: #b45309; font-weight: 600; }
.rag-footnotes { margin: 0.4rem 0 0 0; padding-left: 0; list-style: none; font-size: 0.8em; opacity: 0.8; }
.rag-meta { font-size: 0.75em; opacity: 0.6; margin-top: 0.25rem; }
.rag-refusal { font-style: italic; border-left: 4px solid #9ca3af; padding-left: 0.6rem; opacity: 0.9; }
.rag-refusal-icon { font-style: normal; font-weight: 700; color: #6b7280; }
/* "low": the closest passage, which may not answer: amber, muted, marked "≈" (never like a
   confident answer, nor like the refusal's grey "∅"). */
.rag-low { border-left: 4px dashed #d97706; padding-left: 0.6rem; background: rgba(217, 119, 6, 0.06); }
.rag-low .rag-answer-text { opacity: 0.8; }
.rag-low-label { font-size: 0.8em; color: #b45309; margin-bottom: 0.2rem; }
.rag-low-mark { font-weight: 700; font-size: 1.15em; }
.rag-error { border-left: 4px solid #dc2626; padding-left: 0.6rem; }
.rag-notice { font-size: 0.8em; color: #b45309; margin-bottom: 0.3rem; }
.rag-sources { padding-left: 0; list-style: none; margin: 0; }
.rag-src { border-bottom: 1px solid var(--border-color-primary, #ddd); padding: 0.5rem 0; }
.rag-src-head { display: flex; align-items: center; gap: 0.5rem; font-size: 0.8em; flex-wrap: wrap; }
.rag-src-rank { font-weight: 700; opacity: 0.75; }
.rag-src-bar { display: inline-block; width: 5rem; height: 0.5rem; border-radius: 4px;
  background: var(--border-color-primary, #e5e7eb); overflow: hidden; }
.rag-src-bar > span { display: block; height: 100%; background: var(--color-accent, #f97316); }
.rag-src-used { color: #047857; font-weight: 600; }
.rag-src-unused { opacity: 0.6; }
.rag-src-where { opacity: 0.6; }
.rag-src-is-used { border-left: 3px solid #10b981; padding-left: 0.5rem; }
.rag-src-legend { font-size: 0.8em; opacity: 0.75; margin: 0 0 0.4rem 0; }
.rag-src-heading { font-weight: 700; font-size: 0.9em; }
.rag-article { position: relative; max-height: 70vh; overflow-y: auto; line-height: 1.55;
  padding-right: 0.5rem; }
.rag-article-heading { margin: 1rem 0 0.3rem 0; }
.rag-page-break { display: flex; align-items: center; gap: 0.6rem; margin: 1rem 0 0.6rem 0;
  font-size: 0.75em; opacity: 0.7; }
.rag-page-break::before, .rag-page-break::after { content: ""; flex: 1;
  border-top: 1px dashed currentColor; }
.rag-status { font-size: 0.85em; opacity: 0.8; }
.rag-docs { width: 100%; border-collapse: collapse; font-size: 0.85em; }
.rag-docs th { text-align: left; font-weight: 600; opacity: 0.75;
  border-bottom: 1px solid var(--border-color-primary, #ddd); }
.rag-docs td, .rag-docs th { padding: 0.3rem 0.4rem 0.3rem 0; vertical-align: top; }
.rag-docs tr + tr td { border-top: 1px solid var(--border-color-primary, #eee); }
.rag-doc-title { display: block; font-weight: 600; }
.rag-doc-file { display: block; font-size: 0.85em; opacity: 0.65; }
.rag-doc-status { list-style: none; padding-left: 0; margin: 0.3rem 0; font-size: 0.9em; }
.rag-doc-status li { border-left: 4px solid #10b981; padding-left: 0.5rem; margin: 0.2rem 0; }
.rag-doc-status li.rag-doc-duplicate { border-left-color: #f59e0b; }
.rag-doc-status li.rag-doc-error { border-left-color: #dc2626; }
/* Phones: the question box in view after an answer; the pop-up inside the viewport, in its top
   part, never over the input below the chat. */
@media (max-width: 640px) {
  #rag-intro p { display: none; }
  #rag-intro h1 { font-size: 1.1rem; }
  #chat { height: 52vh !important; max-height: 52vh !important; }
  .rag-cite-pop { position: fixed; left: 8px !important; right: 8px !important; top: 8px !important;
    width: auto; max-height: 38vh; overflow-y: auto; margin-top: 0; }
  .rag-article { max-height: 50vh; }
}
"""
