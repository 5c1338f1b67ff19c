"""Tell the languages of :mod:`rag.language` apart, for the wording of answers and refusals.

Counting each language's function words is deterministic, needs no model, and is right for the
short questions users type; anything else falls back to the caller's default. Only the
languages whose cues are shared count (German, English): a language added with cues of its own
is told by fastText (rag/language/identify.py), so adding it changes no other question's
language.
"""

from __future__ import annotations

import re

WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect_language(text: str, default: str) -> str:
    """The code of the language with most function words in ``text``; on a tie, the one whose
    distinctive letters (ä, ö, ü, ß) occur; else ``default``."""
    from rag.language import known_languages

    words = [w.casefold() for w in WORD.findall(text[:5000])]
    counts = {lang.code: sum(w in lang.function_words for w in words) for lang in known_languages()}
    best = max(counts.values())
    leaders = [lang for lang in known_languages() if counts[lang.code] == best]
    if len(leaders) == 1:
        return leaders[0].code
    for lang in leaders:
        if lang.distinctive_letters and re.search(f"[{lang.distinctive_letters}]", text, re.I):
            return lang.code
    return default
