"""The answer's text: a short lead in the question's language, then the quoted sentences.

The answer is extractive: every word inside the quotes is the document's own, so every claim
can be checked. Only the framing words follow the question's language.
"""

from __future__ import annotations

from rag.language import get_language
from rag.records import Citation


def compose_text(citations: tuple[Citation, ...], language: str, source_language: str) -> str:
    """The quotes with ``[n]`` markers after a lead, or the refusal when there are none."""
    phrases = get_language(language).phrases
    if not citations:
        return phrases.refusal
    lead = phrases.lead if language == source_language else phrases.lead_other_language
    quotes = " ".join(f"{c.sentence.text} [{c.marker}]" for c in citations)
    return f"{lead} {quotes}"
