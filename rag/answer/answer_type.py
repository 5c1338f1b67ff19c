"""What kind of answer a question asks for, and whether a sentence can hold one.

Similarity alone cannot tell "the text talks about Softbank" from "the text says how many
people Softbank employs". A question that asks for a count or a year can only be answered by a
sentence with a number or a date in it, and a count of *something* needs that something to
be mentioned. This is the cheap, explainable half of abstention (answer.py has the rest).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.index.lexical import Analyzer

QUANTITY = "quantity"
YEAR = "year"
TIME = "time"
ANY = "any"

_QUANTITY_Q = re.compile(
    r"\b(wie\s+viele?n?|wieviele?n?|wie\s+hoch|wie\s+gro(?:ss|ß)|wie\s+lange|wie\s+alt|"
    r"how\s+many|how\s+much|how\s+high|how\s+large|how\s+long|how\s+old|"
    r"what\s+(?:percentage|share|proportion)|welche[mnrs]?\s+(?:anteil|summe|betrag))\b",
    re.IGNORECASE,
)
# An amount of money needs a currency or "Milliarden" in the answer, not just any number.
_MONEY_Q = re.compile(
    r"\b(wie\s+viel\s+geld|welche[mnrs]?\s+(?:summe|betrag)|wie\s+teuer|was\s+kostet\w*|"
    r"how\s+much\s+money|how\s+much\s+(?:did|does|do|will|would)\b.*\b(?:cost|pay|invest)\w*|"
    r"what\s+(?:sum|amount\s+of\s+money))",
    re.IGNORECASE,
)
_MONEY_S = re.compile(
    r"\b(dollar|euro|franken|yen|pfund|dollars?|euros?|francs?|pounds?|"
    r"millionen|milliarden|billionen|millions?|billions?|mio|mrd)\b|[$€£¥]",
    re.IGNORECASE,
)
_YEAR_Q = re.compile(r"\b(in\s+welchem\s+jahr|welche[ms]?\s+jahr|(?:in\s+)?(?:what|which)\s+year)\b", re.I)
_TIME_Q = re.compile(r"\b(seit\s+wann|wann|since\s+when|when)\b", re.IGNORECASE)
# The noun counted in "wie viele X": German nouns are capitalised, adjectives before them not.
_COUNTED = re.compile(
    r"\b(?:[Ww]ie\s+viele?n?|[Ww]ieviele?n?)\s+(?:[a-zäöü]\w*\s+)?([A-ZÄÖÜ]\w+)|"
    # ... and the noun measured in "wie hoch ist das Bussgeld": the answer must name it too.
    r"\b[Ww]ie\s+(?:hoch|gro(?:ss|ß)|lang|teuer|alt|schwer)\s+(?:ist|war|sind|waren)\s+"
    r"(?:der|die|das|den)\s+(?:[a-zäöü]\w*\s+)?([A-ZÄÖÜ]\w+)"
)
# Nouns so generic that the answer sentence rarely repeats them; the second line are words for
# a measure itself ("Wie hoch ist die Anzahl ...": the answer just gives the number).
_GENERIC_COUNTED = frozenset(
    "prozent mal jahre jahren monate monaten tage tagen leute menschen geld percent times "
    "years months days people money "
    "anzahl zahl prozentsatz anteil menge grösse größe höhe wert betrag summe bevölkerung".split()
)
# Inflected forms only: "weniger streng" (less strict) and "keineswegs" are no quantities.
_NUMBER_WORDS = (
    r"zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|zwanzig|dreissig|dreißig|"
    r"hundert|tausend|dutzend|millionen?|milliarden?|billionen?|hälfte|drittel|viertel|"
    r"doppelt|dreimal|viermal|zweimal|zahlreiche[nmrs]?|mehrere[nmrs]?|einige[nmrs]?|"
    r"wenige[nm]?|keine[nmrs]?|kein|"
    r"two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|twenty|hundred|thousand|dozen|millions?|billions?|half|third|quarter|twice"
)
_QUANTITY_S = re.compile(
    rf"\d|\b({_NUMBER_WORDS})\b|\w+mal\b|\w*fach\w*|\b(ein|eine|einem|an|a|one)\s+(jahr|monat|woche|tag|"
    r"year|month|week|day)",
    re.IGNORECASE,
)
_MONTHS = (
    r"januar|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember|"
    r"january|february|march|june|july|october|december"
)
_YEAR_S = re.compile(r"\b(1[0-9]{3}|20[0-9]{2}|jahr\w*|year\w*)\b", re.IGNORECASE)
_TIME_S = re.compile(
    rf"\b(1[0-9]{{3}}|20[0-9]{{2}}|{_MONTHS}|jahr\w*|jahrzehnt\w*|jahrhundert\w*|"
    r"jahrtausend\w*|damals|seit\w*|kürzlich|bisher|bis\s+anhin|heute|gestern|früh\w*|"
    r"year\w*|decade\w*|century|since|ago|recently|today|yesterday|early|late)\b|\d",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class AnswerType:
    """``kind`` is quantity, year, time or any; ``counted`` the stemmed noun a count is about;
    ``money`` whether the quantity is an amount of money."""

    kind: str = ANY
    counted: str | None = None
    money: bool = False


def expected_answer(question: str, analyzer: Analyzer | None = None) -> AnswerType:
    """Read the question word: 'Wie viele Mitarbeiter ...' -> quantity of 'mitarbeit'."""
    if _MONEY_Q.search(question):
        return AnswerType(QUANTITY, money=True)
    if _QUANTITY_Q.search(question):
        counted = None
        match = _COUNTED.search(question)
        noun = (match.group(1) or match.group(2)) if match else None
        if noun and analyzer is not None and noun.casefold() not in _GENERIC_COUNTED:
            stems = analyzer.terms(noun)
            counted = stems[0] if stems else None
        return AnswerType(QUANTITY, counted)
    if _YEAR_Q.search(question):
        return AnswerType(YEAR)
    if _TIME_Q.search(question):
        return AnswerType(TIME)
    return AnswerType()


def can_answer(
    sentence: str,
    expected: AnswerType,
    analyzer: Analyzer | None = None,
    context: str = "",
    terms: Sequence[str] | None = None,
) -> bool:
    """Whether ``sentence`` has the kind of content ``expected`` asks for.

    The counted thing may also stand in ``context`` (the sentence before), as in "Matsuo zählt
    Sprachmodelle auf. Es sind zwölf." ``terms``, when given, are the stemmed terms of context
    and sentence already computed by the caller (then ``analyzer`` is not needed).
    """
    if expected.kind == QUANTITY:
        if not _QUANTITY_S.search(sentence):
            return False
        if expected.money:
            return bool(_MONEY_S.search(sentence))
        if expected.counted and (terms is not None or analyzer is not None):
            if terms is None:
                terms = analyzer.terms(f"{context} {sentence}")  # type: ignore[union-attr]
            return any(
                term == expected.counted or _shares_stem(term, expected.counted) for term in terms
            )
        return True
    if expected.kind == YEAR:
        return bool(_YEAR_S.search(sentence))
    if expected.kind == TIME:
        return bool(_TIME_S.search(sentence))
    return True


def _shares_stem(term: str, counted: str) -> bool:
    """Compounds count: 'sprachmodell' holds 'modell', 'telekommunikationskonzern' 'konzern'."""
    shorter, longer = sorted((term, counted), key=len)
    return len(shorter) >= 3 and longer.endswith(shorter) or (
        len(shorter) >= 4 and longer.startswith(shorter)
    )
