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
from rag.language import known_languages

QUANTITY = "quantity"
YEAR = "year"
TIME = "time"
ANY = "any"


def _either(attribute: str) -> str:
    """One alternation of a cue over every known language: a question may come in any of them
    and the text may be in another."""
    pieces = [getattr(lang.answer_cues, attribute) for lang in known_languages()]
    return "|".join(piece for piece in pieces if piece)


_QUANTITY_Q = re.compile(rf"\b({_either('quantity_question')})\b", re.IGNORECASE)
# An amount of money needs a currency or "Milliarden" in the answer, not just any number.
_MONEY_Q = re.compile(rf"\b({_either('money_question')})", re.IGNORECASE)
_MONEY_S = re.compile(rf"\b({_either('currency_words')})\b|[$€£¥]", re.IGNORECASE)
_YEAR_Q = re.compile(rf"\b({_either('year_question')})\b", re.IGNORECASE)
_TIME_Q = re.compile(rf"\b({_either('time_question')})\b", re.IGNORECASE)
# The noun counted in "wie viele X" or measured in "wie hoch ist das Bussgeld".
_COUNTED = [
    re.compile(lang.answer_cues.counted_noun) for lang in known_languages() if lang.answer_cues.counted_noun
]
_GENERIC_COUNTED = frozenset(w for lang in known_languages() for w in lang.answer_cues.generic_counted)
_QUANTITY_S = re.compile(rf"\d|{_either('quantity_words')}", re.IGNORECASE)
_YEAR_S = re.compile(rf"\b(1[0-9]{{3}}|20[0-9]{{2}}|{_either('year_words')})\b", re.IGNORECASE)
_REASON_S = re.compile(rf"\b({_either('reason_words')})\b", re.IGNORECASE)
_TIME_S = re.compile(
    rf"\b(1[0-9]{{3}}|20[0-9]{{2}}|{_either('months')}|{_either('time_words')})\b|\d", re.IGNORECASE
)


def gives_reason(sentence: str) -> bool:
    """Whether a sentence states a cause or a purpose ("weil", "because", "um ... zu")."""
    return bool(_REASON_S.search(sentence))


def counted_noun(question: str) -> str | None:
    for pattern in _COUNTED:
        match = pattern.search(question)
        if match:
            return next((group for group in match.groups() if group), None)
    return None


def counted_stem(noun: str, analyzer: Analyzer) -> str | None:
    """The stem a sentence must hold for a count of ``noun`` (None for generic nouns)."""
    if noun.casefold() in _GENERIC_COUNTED:
        return None
    stems = analyzer.terms(noun)
    return stems[0] if stems else None


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
        noun = counted_noun(question)
        if noun and analyzer is not None:
            counted = counted_stem(noun, analyzer)
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
