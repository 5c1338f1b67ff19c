"""On-topic questions the text cannot answer, made from any corpus and its answerable questions.

Users ask about the text's own subjects: the CEO of a firm the text only names, a founding year
it never gives, a figure for another year. Such questions look exactly like answerable ones, so a
model trained only on benchmark near-misses (the answering paragraph withheld) learns too little
about them. ``rag train`` adds three kinds, generated here, all labelled "the text does not say":

* **number swapped:** a year or number of an answerable question replaced by one the corpus
  never contains ("Wie viele Einwohner hatte X 2010?" -> "... 2013?");
* **name swapped:** a name of the question replaced by one the corpus never contains (taken from
  other training questions), so the question asks the same thing about something absent;
* **attribute never given:** a question from the language's ``attribute_questions`` templates
  ("Wie viele Mitarbeiter hat {name}?") about a name the corpus mentions, used only when none of
  the attribute's words occurs in the corpus.

Every candidate is checked against the corpus's own BM25 vocabulary (``absent`` below), so a
question is not generated when the swapped-in word occurs in the text. The generator is
deterministic (a seeded random choice).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from rag.eval.questions import EvalQuestion
from rag.language import get_language
from rag.query.analysis import name_like_words

_NUMBER = re.compile(r"\b\d{1,4}\b")
Absent = Callable[[str], bool]  # whether a word never occurs in the corpus


def _seed(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)


def swapped_number(question: str, absent: Absent) -> str | None:
    """The question with its first number replaced by a nearby one the corpus lacks."""
    match = _NUMBER.search(question)
    if match is None:
        return None
    value = int(match.group())
    steps = (3, -3, 7, -7, 11, 2, -2, 13) if 1000 <= value <= 2100 else (value or 1, 3, 7, 11)
    for step in steps:
        other = value + step
        if other > 0 and absent(str(other)):
            return question[: match.start()] + str(other) + question[match.end() :]
    return None


def swapped_name(
    question: str, pool: Sequence[str], absent: Absent, rng: random.Random, is_name: Callable[[str], bool]
) -> str | None:
    """The question with one of its names (a word ``is_name`` of the corpus) replaced by a
    name of ``pool`` the corpus lacks."""
    names = [w for w in name_like_words(question) if is_name(w) and not absent(w)]
    if not names or not pool:
        return None
    target = names[-1]
    for candidate in rng.sample(list(pool), min(len(pool), 8)):
        if candidate.casefold() != target.casefold() and absent(candidate):
            return re.sub(rf"\b{re.escape(target)}\b", candidate, question, count=1)
    return None


def attribute_questions(
    names: Sequence[tuple[str, str]], languages: Sequence[str], absent: Absent, rng: random.Random, count: int
) -> list[tuple[str, str, str]]:
    """Up to ``count`` (language, question, doc id) triples asking for attributes the corpus
    never gives, about the ``(name, doc id)`` it mentions."""
    options: list[tuple[str, str, str]] = []
    for code in languages:
        for template, words in get_language(code).attribute_questions:
            if all(absent(word) for word in words):
                options.extend((code, template.format(name=name), doc) for name, doc in names)
    rng.shuffle(options)
    return options[:count]


def synthetic_unanswerable(
    questions: Sequence[EvalQuestion],
    absent: Absent,
    name_pool: Sequence[str],
    corpus_names: Sequence[tuple[str, str]],
    share: float = 0.3,
    seed: str = "",
    is_name: Callable[[str], bool] = lambda word: True,
) -> list[EvalQuestion]:
    """About ``share`` x len(questions) unanswerable questions of the three kinds (ids end in
    ``/synthetic-number``, ``-name``, ``-attribute``)."""
    rng = random.Random(_seed(seed or "synthetic"))
    answerable = [q for q in questions if q.answerable and not q.withheld]
    budget = max(1, int(share * len(answerable)))
    made: dict[str, EvalQuestion] = {}
    for q in rng.sample(answerable, len(answerable)):
        if len(made) >= budget:
            break
        kind, text = "number", swapped_number(q.question, absent)
        if text is None:
            kind, text = "name", swapped_name(q.question, name_pool, absent, rng, is_name)
        if text is None or text in made:
            continue
        made[text] = replace(
            q, qid=f"{q.qid}/synthetic-{kind}", question=text, answers=(), answer_start=None, answer_end=None
        )
    languages = sorted({q.lang for q in answerable})
    found = attribute_questions(corpus_names, languages, absent, rng, budget // 3)
    for i, (code, text, doc) in enumerate(found):
        made.setdefault(text, EvalQuestion(f"{seed}/synthetic-attribute-{i}", code, text, (), doc_id=doc))
    return list(made.values())


__all__ = ["attribute_questions", "swapped_name", "swapped_number", "synthetic_unanswerable"]
