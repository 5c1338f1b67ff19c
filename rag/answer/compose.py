"""The answer's text: a short lead in the question's language, then the quoted sentences.

The answer is extractive: every word inside the quotes is the document's own, so every claim
can be checked. Only the framing words follow the question's language.
"""

from __future__ import annotations

from rag.language import get_language
from rag.records import LOW, Citation


def compose_text(
    citations: tuple[Citation, ...], language: str, source_language: str, confidence: str = ""
) -> str:
    """The quotes with ``[n]`` markers after a lead, or the refusal when there are none.

    A ``"low"`` answer leads with what it is ("The text may not answer this. Closest
    passage: ..."), so it never reads like a confident one.
    """
    phrases = get_language(language).phrases
    if not citations:
        return phrases.refusal
    same = language == source_language
    if confidence == LOW:
        lead = phrases.low_lead if same else phrases.low_lead_other_language
    else:
        lead = phrases.lead if same else phrases.lead_other_language
    quotes = " ".join(f"{c.sentence.text} [{c.marker}]" for c in citations)
    return f"{lead} {quotes}"
