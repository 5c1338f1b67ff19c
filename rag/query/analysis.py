"""The question analysed once: what the features, word coverage, selection and the answer read.

Example::

    q = analyse_question("Wie viele Mitarbeiter hat Softbank?", "de")
    q.words        # ('mitarbeiter', 'softbank')
    q.slot         # 'quantity': a confident answer must hold a number the question lacks
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.answer_type import ANY, QUANTITY, TIME, YEAR, AnswerType, counted_noun, expected_answer
from rag.index.words import content_words, numbers_in
from rag.language import known_languages

PERSON, NAME, PLACE, REASON = "person", "name", "place", "reason"
SLOTS = (QUANTITY, YEAR, TIME, PERSON, NAME, PLACE, REASON)
# Scripts written without spaces between words: their "words" are whole clauses, so word
# coverage gets neutral values there (the encoder still reads the question as a whole).
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_CAPITALISED = re.compile(r"[^\W\d_][\w'’-]*")


def _either(attribute: str) -> re.Pattern[str] | None:
    pieces = [getattr(lang.answer_cues, attribute) for lang in known_languages()]
    joined = "|".join(piece for piece in pieces if piece)
    return re.compile(rf"\b(?:{joined})\b", re.IGNORECASE) if joined else None


_SLOT_PATTERNS = tuple(
    (slot, pattern)
    for slot, pattern in (
        (REASON, _either("reason_question")),
        (PERSON, _either("person_question")),
        (PLACE, _either("place_question")),
        (NAME, _either("name_question")),
    )
    if pattern is not None
)
_NOT_NAMES = frozenset(word.casefold() for lang in known_languages() for word in lang.not_names)


@dataclass(frozen=True)
class AnalysedQuestion:
    """A question as every later stage reads it.

    ``words``: its content words, case-folded, each once; ``key_words``: those it writes as
    names (capitalised after its first word, or acronyms); ``numbers``: its digit runs;
    ``answer_type``: the kind of number or date it asks for (``counted`` not yet stemmed:
    ``counted_noun`` holds the word); ``slot``: what a confident answer must add to it
    (quantity, year, time, person, name, place, a reason, or ``any``); ``spaced``: whether its script
    separates words (word coverage means nothing otherwise).
    """

    text: str
    language: str
    words: tuple[str, ...]
    key_words: tuple[str, ...]
    numbers: frozenset[str]
    answer_type: AnswerType
    counted_noun: str | None
    slot: str
    spaced: bool

    @property
    def typed(self) -> bool:
        return self.answer_type.kind != ANY


def name_like_words(question: str) -> list[str]:
    """Words the question writes as names: capitalised (or an acronym) and not its first word,
    not a pronoun. In German every noun qualifies too, which is fine: a noun the text never
    uses is as telling as a name."""
    words = _CAPITALISED.findall(question)
    return [
        w for i, w in enumerate(words)
        if i > 0 and (w[:1].isupper() or (len(w) > 1 and w.isupper())) and w.casefold() not in _NOT_NAMES
    ]


def analyse_question(text: str, language: str) -> AnalysedQuestion:
    """Analyse ``text`` (as searched: a follow-up already resolved) asked in ``language``."""
    spaced = not _UNSPACED.search(text)
    words = tuple(dict.fromkeys(content_words(text, language))) if spaced else ()
    names = {w.casefold() for w in name_like_words(text)}
    answer_type = expected_answer(text)
    slot = answer_type.kind
    if slot == ANY:
        slot = next((s for s, pattern in _SLOT_PATTERNS if pattern.search(text)), ANY)
    return AnalysedQuestion(
        text=text,
        language=language,
        words=words,
        key_words=tuple(w for w in words if w in names),
        numbers=numbers_in(text),
        answer_type=answer_type,
        counted_noun=counted_noun(text),
        slot=slot,
        spaced=spaced,
    )


__all__ = [
    "AnalysedQuestion", "SLOTS", "analyse_question", "name_like_words", "PERSON", "NAME", "PLACE", "REASON",
]
