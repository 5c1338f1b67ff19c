"""Proper names in sentences and questions: a small stand-in for named-entity recognition.

Abstention needs names (answer.py): "Wann wurde das DFKI gegründet?" is not answered by a
sentence about the G-7, however similar the wording. No German NER model ships on
PyPI, and German capitalises every noun, so capitalisation alone cannot tell "Softbank" from
"Bank". A word counts as a name when it is capitalised, is not at the start of a sentence or
quote (unless it is a name elsewhere in the corpus), and, in a language that capitalises every
noun, is not a common noun of the language's noun list (:class:`rag.language.nouns.NounLexicon`,
German's from Wiktionary). English text needs no list: its common nouns are lower case.

The list is read once, when an index is built; the names of every sentence are stored in the
index, so answering a question never loads it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from rag.language import get_language, known_languages
from rag.records import Document, Sentence

# "Alphabet", "X", "KI-Aktien": a token is a run of letters/digits with inner hyphens or dots.
_TOKEN = re.compile(r"\w(?:[\w.'’]*\w)?(?:-\w(?:[\w.'’]*\w)?)*")
# A quote or colon starts a new clause, so the next word is capitalised like a sentence start.
_CLAUSE_START = re.compile(r"[«»\"“”„:;(]\s*$")
_GENITIVE = re.compile(r"(?:['’]s|['’]|s)$")
# Capitalised words that are not names even though they are missing from the noun list.
_NOT_NAMES = frozenset(word for lang in known_languages() for word in lang.not_names)


@functools.lru_cache(maxsize=1)
def noun_tables() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """(common nouns, proper nouns, given names, places) of every known language's noun list."""
    tables = [lang.nouns.tables for lang in known_languages() if lang.nouns is not None]
    if len(tables) == 1:
        return tables[0]
    common, proper, given, places = (frozenset().union(*(t[i] for t in tables)) for i in range(4))
    return common, proper, given, places


german_nouns = noun_tables  # the name rag/eval/train.py reads them by


def _given_names() -> frozenset[str]:
    """Given names of every known language's noun list (a name after one is a surname)."""
    return frozenset(name for lang in known_languages() if lang.nouns for name in lang.nouns.given_names)


def _parts(token: str) -> list[str]:
    return [part for part in token.split("-") if part]


def _capitalised(word: str) -> bool:
    return word[:1].isupper() or any(ch.isupper() for ch in word[1:])


def _noun_check(texts: Sequence[str], language: str) -> tuple[frozenset[str] | None, frozenset[str]]:
    """In a language that capitalises every noun, which capitalised words of ``texts`` its noun
    list calls common nouns (asked once for all of them), and its given names; else (None, {})."""
    lang = get_language(language)
    nouns = lang.nouns if lang.capitalises_nouns else None
    if nouns is None:
        return None, frozenset()
    capitalised = {
        part for text in texts for match in _TOKEN.finditer(text) for part in _clean_parts(match.group())
        if part[:1].isalpha() and _capitalised(part)
    }
    return nouns.common_among(capitalised), nouns.given_names


def _clean_parts(token: str) -> list[str]:
    return [part.strip(".'’") for part in _parts(token)]


def _candidates(text: str, common: frozenset[str] | None, given: frozenset[str]) -> list[str]:
    inside: list[str] = []
    first = True
    previous = ""
    for match in _TOKEN.finditer(text):
        starts_clause = first or bool(_CLAUSE_START.search(text[: match.start()]))
        first = False
        for i, part in enumerate(_clean_parts(match.group())):
            after_given = previous in given
            previous = part.casefold()
            if not part or not part[:1].isalpha() or not _capitalised(part):
                continue
            folded = part.casefold()
            if folded in _NOT_NAMES:
                continue
            is_acronym = len(part) > 1 and part.isupper()
            if common is not None and not is_acronym and not after_given and part in common:
                continue
            if not (starts_clause and i == 0) or is_acronym:
                inside.append(folded)
    return inside


def corpus_names(texts: Sequence[str], language: str) -> list[tuple[str, ...]]:
    """The names in each text.

    A word found as a name anywhere ("Andreas Dengel") is a name wherever it is capitalised
    ("Dengel betont ...", also at a sentence start), unless the corpus also has it in lower
    case; a genitive "Matsuos" is reported as "matsuo" when that is a name too.
    """
    common, given = _noun_check(texts, language)
    found = [_candidates(text, common, given) for text in texts]
    lower = {
        word.casefold() for text in texts for word in _TOKEN.findall(text) if word[:1].islower()
    }
    known = {name for names in found for name in names} - lower
    return [known_names(text, known) for text in texts]


def known_names(text: str, known: Iterable[str]) -> tuple[str, ...]:
    """The capitalised words of ``text`` that are in ``known``, a genitive ("Matsuos",
    "Japan's") as its base name; an acronym keeps its s ("USA" is not "US")."""
    found = []
    for match in _TOKEN.finditer(text):
        for part in _parts(match.group()):
            part = part.strip(".'’")
            if not part or not _capitalised(part):
                continue
            folded = part.casefold()
            base = folded if part.isupper() else _GENITIVE.sub("", folded)
            if base != folded and len(base) > 2 and base in known:
                found.append(base)
            elif folded in known:
                found.append(folded)
    return tuple(dict.fromkeys(found))


def names_in_question(question: str, vocabulary: Iterable[str]) -> tuple[str, ...]:
    """The corpus's names that the question writes as names (capitalised), also as genitive
    ("Dengels"). A lower-case "expert" in an English question is no name even if the German
    text has "Tokyo Expert Support Center"."""
    known = vocabulary if isinstance(vocabulary, (set, frozenset, dict)) else set(vocabulary)
    return known_names(question, known)


def place_names(names: Iterable[str]) -> list[str]:
    """The names that are places ("Tokio", "Europa"): where something happens, rarely what a
    question is about."""
    places = {place for lang in known_languages() for place in lang.place_names}
    places.update(place for lang in known_languages() if lang.nouns for place in lang.nouns.places)
    return sorted(n for n in set(names) if n in places)


def person_names(sentences: Sequence[Sentence], names: Sequence[Sequence[str]]) -> list[str]:
    """The names that name people: given names ("Masayoshi", "Priya"), and a name written
    right after one ("Son" in "Masayoshi Son"). "Wer leitet ...?" is answered by a person, and
    a sentence that only adds a firm or a place does not answer it."""
    given = _given_names()
    found: set[str] = set()
    for sentence, own in zip(sentences, names, strict=True):
        if not own:
            continue
        words = [w.casefold() for w in _TOKEN.findall(sentence.text)]
        for i, word in enumerate(words):
            if word in given and word in own:
                found.add(word)
                if i + 1 < len(words) and words[i + 1] in own:
                    found.add(words[i + 1])
    return sorted(found)


def sentence_names(documents: Sequence[Document], sentences: Sequence[Sentence]) -> list[list[str]]:
    """Each sentence's names, found over all documents of the sentence's language at once.

    A name learnt in one document ("Andreas Dengel") is then known in the others ("Dengel").
    """
    language_of = {d.doc_id: d.language for d in documents}
    by_language: dict[str, list[Sentence]] = {}
    for sentence in sentences:
        by_language.setdefault(language_of[sentence.doc_id], []).append(sentence)
    names: dict[int, list[str]] = {}
    for language, members in by_language.items():
        found = corpus_names([s.text for s in members], language)
        names.update({s.sentence_id: list(n) for s, n in zip(members, found, strict=True)})
    return [names[s.sentence_id] for s in sentences]
