"""How much the text supports an answer, as every surface shows it (``Answer.confidence``).

"high": the cited sentence answers; shown as an ordinary answer. "low": the closest passage,
which may not answer; the page gives it its own muted amber look with a "≈" mark
(``rag/app/render.py``), and the terminal (``rag ask``, ``rag chat``) and the copied text lead
with :data:`LOW_LINE`. "none": "the text does not say", shown greyed with "∅". The JSON of
``rag ask --json``, ``/ask`` and ``POST /api/ask`` carries the level as ``confidence``.
"""

from __future__ import annotations

from rag.records import LOW, Answer, Citation

LOW_MARK = "≈"
LOW_LABEL = "Weak support: the closest passage, which may not answer the question"
LOW_LINE = f"{LOW_MARK} {LOW_LABEL}."


def support_line(answer: Answer) -> str:
    """The line that goes before an answer's text in plain text ("" for high and none)."""
    return LOW_LINE if answer.confidence == LOW and answer.citations else ""


def section(title: str, heading: str) -> str:
    """"Title › Heading", the heading left out when it only repeats the title ("X › X")."""
    return f"{title} › {heading}" if heading and heading != title else title


def citation_place(citation: Citation) -> str:
    """Where a quoted sentence stands, for the footnotes, the terminal and the copied text:
    "Title › Heading, page 2, paragraph 3, sentence 1" (a sheet's row: "row 5"); a cited title
    or heading (an overview's) says so instead of "paragraph 0, sentence 0"."""
    s = citation.sentence
    where = section(citation.doc_title or s.doc_id, s.heading)
    page = f"page {s.page}, " if s.page is not None else ""
    row = getattr(s, "row", None)
    page += f"row {row}, " if row is not None else ""  # a spreadsheet row (its sheet: the heading)
    if s.kind == "heading" and s.sentence == 0:
        return f"{where}, {page}{'title' if s.paragraph == 0 else 'heading'}"
    return f"{where}, {page}paragraph {s.paragraph}, sentence {s.sentence}"
