"""Proper names in sentences and questions: a small stand-in for named-entity recognition.

Abstention needs names (answer.py): "Wann wurde das DFKI gegründet?" is not answered by a
sentence about the G-7, however similar the wording. No German NER model ships on
PyPI, and German capitalises every noun, so capitalisation alone cannot tell "Softbank" from
"Bank". A word counts as a name when it is capitalised, is not at the start of a sentence or
quote (unless it is a name elsewhere in the corpus), and is not a German common noun in the
Wiktionary list of the `german-nouns` package (places, surnames and given names there count as
names). Compounds of listed nouns ("Industriemetropole", "Unternehmensvorständen") are common
nouns too. English text needs no list: its common nouns are lower case.

The list is read once, when an index is built; the names of every sentence are stored in the
index, so answering a question never loads it.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable, Sequence

from rag.language import get_language, known_languages
from rag.records import Document, Sentence

# Rows of these kinds are names, not common nouns.
_PROPER_KINDS = ("Toponym", "Nachname", "Vorname", "Eigenname", "Straßenname")
# "Alphabet", "X", "KI-Aktien": a token is a run of letters/digits with inner hyphens or dots.
_TOKEN = re.compile(r"\w(?:[\w.'’]*\w)?(?:-\w(?:[\w.'’]*\w)?)*")
# A quote or colon starts a new clause, so the next word is capitalised like a sentence start.
_CLAUSE_START = re.compile(r"[«»\"“”„:;(]\s*$")
_GENITIVE = re.compile(r"(?:['’]s|['’]|s)$")
_LINKING = ("", "s", "es", "n", "en", "e", "er")
MIN_PART = 3  # shortest compound part looked up
LONG_HEAD = 5  # a compound ending in a listed noun this long is a common noun
# Endings that make nouns of verbs and adjectives ("Verlässlichkeit", "Ausprobieren").
_NOUN_SUFFIX = re.compile(r"(?:keit|heit|ung|schaft|tät|ismus|nis|tion)(?:en|s)?$|[a-zäöü]{5}en$")
# Capitalised words that are not names even though they are missing from the noun list.
_NOT_NAMES = frozenset(word for lang in known_languages() for word in lang.not_names)


@functools.lru_cache(maxsize=1)
def german_nouns() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """(common noun forms, proper noun forms, given names, place names), case-folded."""
    from german_nouns.config import CSV_FILE_PATH

    common: set[str] = set()
    proper: set[str] = set()
    given: set[str] = set()
    places: set[str] = set()
    with open(CSV_FILE_PATH, encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        form_columns = [i for i, name in enumerate(header) if i == 0 or i >= 7]
        for row in rows:
            target = proper if any(kind in row[1] for kind in _PROPER_KINDS) else common
            if "Vorname" in row[1]:
                given.add(row[0].casefold())
            if "Toponym" in row[1]:
                places.add(row[0].casefold())
            for i in form_columns:
                if i < len(row) and row[i]:
                    target.add(row[i].casefold())
    return frozenset(common), frozenset(proper), frozenset(given), frozenset(places)


@functools.lru_cache(maxsize=65536)
def is_common_noun(word: str) -> bool:
    """Whether a capitalised German word is a common noun (compounds included)."""
    common, proper, _, _ = german_nouns()
    folded = word.casefold()
    if folded in common:  # "Plan" is also a place, "China" also porcelain: common wins
        return True
    if folded in proper:
        return False
    if _NOUN_SUFFIX.search(folded):
        return True
    # A compound whose last part is a listed noun: "Industrie|metropole", "Cyber|experten".
    # A short last part must follow a listed noun ("Unternehmens|vorstand"), or "Soft|bank"
    # would be a common noun.
    for cut in range(2, len(folded) - MIN_PART + 1):
        head = folded[cut:]
        if head not in common:
            continue
        if len(head) >= LONG_HEAD:
            return True
        modifier = folded[:cut]
        for link in _LINKING:
            if not modifier.endswith(link):
                continue
            stem = modifier[: len(modifier) - len(link)] if link else modifier
            if len(stem) >= MIN_PART and stem in common:
                return True
    return False


def _parts(token: str) -> list[str]:
    return [part for part in token.split("-") if part]


def _capitalised(word: str) -> bool:
    return word[:1].isupper() or any(ch.isupper() for ch in word[1:])


def candidate_names(text: str, language: str) -> list[str]:
    """The names in the text, case-folded, skipping words at a sentence or clause start (their
    capital says nothing). A listed noun right after a given name is a surname ("Andreas
    Dengel", "Masayoshi Son").
    """
    inside: list[str] = []
    # In a language that capitalises every noun, the noun list tells names from nouns.
    check_nouns = get_language(language).capitalises_nouns
    given = german_nouns()[2] if check_nouns else frozenset()
    first = True
    previous = ""
    for match in _TOKEN.finditer(text):
        starts_clause = first or bool(_CLAUSE_START.search(text[: match.start()]))
        first = False
        for i, part in enumerate(_parts(match.group())):
            part = part.strip(".'’")
            after_given = previous in given
            previous = part.casefold()
            if not part or not part[:1].isalpha() or not _capitalised(part):
                continue
            folded = part.casefold()
            if folded in _NOT_NAMES:
                continue
            is_acronym = len(part) > 1 and part.isupper()
            if check_nouns and not is_acronym and not after_given and is_common_noun(part):
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
    found = [candidate_names(text, language) for text in texts]
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
    places = german_nouns()[3]
    english = {"tokyo", "japan", "china", "europe", "germany", "america", "usa", "us"}
    return sorted(n for n in set(names) if n in places or n in english)


def person_names(sentences: Sequence[Sentence], names: Sequence[Sequence[str]]) -> list[str]:
    """The names that name people: given names ("Masayoshi", "Priya"), and a name written
    right after one ("Son" in "Masayoshi Son"). "Wer leitet ...?" is answered by a person, and
    a sentence that only adds a firm or a place does not answer it."""
    given = german_nouns()[2]
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
