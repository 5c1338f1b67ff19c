"""How much the text supports an answer, as every surface shows it (``Answer.confidence``).

"high": the cited sentence answers; shown as an ordinary answer. "low": the closest passage,
which may not answer; the page gives it its own muted amber look with a "≈" mark
(``rag/app/render.py``), and the terminal (``rag ask``, ``rag chat``) and the copied text lead
with :data:`LOW_LINE`. "none": "the text does not say", shown greyed with "∅". The JSON of
``rag ask --json``, ``/ask`` and ``POST /api/ask`` carries the level as ``confidence``.
"""

from __future__ import annotations

from rag.records import LOW, Answer

LOW_MARK = "≈"
LOW_LABEL = "Weak support: the closest passage, which may not answer the question"
LOW_LINE = f"{LOW_MARK} {LOW_LABEL}."


def support_line(answer: Answer) -> str:
    """The line that goes before an answer's text in plain text ("" for high and none)."""
    return LOW_LINE if answer.confidence == LOW and answer.citations else ""
