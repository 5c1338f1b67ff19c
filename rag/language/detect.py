"""Tell German from English, for the wording of answers and refusals.

Counting function words is deterministic, needs no model, and is right for the short questions
users type; anything else falls back to the caller's default.
"""

from __future__ import annotations

import re

GERMAN_WORDS = frozenset(
    """der die das den dem des ein eine einer eines einem einen und oder nicht ist sind war
    waren wird werden wurde hat haben hatte wer wie was wo wann warum wieso weshalb welche
    welcher welches wem wen wessen woher wohin womit wofür worauf wieviel wieviele viele
    mit von für auf aus bei nach über unter zum zur im am vom ins auch noch schon nur sich
    sie er es wir ihr ihre sein seine kann können soll sollen will wollen dass als zu gibt
    laut gemäss gemäß bis seit durch gegen ohne um denn doch sehr mehr welchen""".split()
)
ENGLISH_WORDS = frozenset(
    """the a an and or not is are was were will would be been has have had who how what where
    when why which whom whose with from for on at by of in to into about does do did can could
    should shall may might it its they their he his she her we our you your this that these
    those there than then many much more most according say says said""".split()
)
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect_language(text: str, default: str = "de") -> str:
    """Return 'de' or 'en'; ``default`` when the text gives no evidence either way."""
    words = [w.casefold() for w in WORD.findall(text[:5000])]
    german = sum(w in GERMAN_WORDS for w in words)
    english = sum(w in ENGLISH_WORDS for w in words)
    if german == english:
        if re.search(r"[äöüß]", text, re.I):
            return "de"
        return default
    return "de" if german > english else "en"
