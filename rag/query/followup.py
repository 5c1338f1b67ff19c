"""Resolve follow-up questions ("Und wer ist sein Partner?") against the conversation.

A chat user asks "Wer ist Andreas Dengel?" and then "Und wer ist sein Partner?". The second
question alone names nobody, so retrieval would search for *anybody's* partner. This module
decides, with a few deterministic rules, whether a question leans on the previous one and,
if it does, adds the previous question's topic words to the text that is searched:

    >>> contextualize("Und wer ist sein Partner?", ["Wer ist Andreas Dengel?"])
    'Und wer ist sein Partner? (Andreas Dengel)'
    >>> contextualize("Wer leitet das DFKI?", ["Wer ist der Chef von Softbank?"])
    'Wer leitet das DFKI?'

A question is a follow-up when it

* starts like a continuation ("Und ...", "And ...", "What about ...", "Und was ist mit ..."),
* refers back with a pronoun or adverb (er/sie/sein/ihr/dort/damals/dies..., he/she/his/her/it/
  there/then/those..., "das"/"that" standing alone as a pronoun), or
* is so short that it has no content word of its own ("Bis wann?", "Why?").

Anything else stands on its own and passes through unchanged. Only the *topic* of the
previous question is added (its content words, without question words and function words),
not the whole question: appending "Wer ist Andreas Dengel?" in full would pull retrieval
back to the first answer instead of the partner. A follow-up of a follow-up inherits the
topic resolved for the question before it, so a three-turn thread stays on its subject.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.language import known_languages
from rag.records import Sentence

__all__ = ["contextualize", "is_follow_up", "topic_words", "is_why_question", "causal_neighbour"]

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


def _cues(attribute: str) -> frozenset[str]:
    """A follow-up cue over every known language: questions may come in any of them."""
    return frozenset(word for lang in known_languages() for word in getattr(lang.follow_up, attribute))


# Words and phrases that start a continuation of the previous turn ("Und ...", "What about").
_CONTINUATION_STARTS = _cues("continuation_starts")
_CONTINUATION_PHRASES = tuple(p for lang in known_languages() for p in lang.follow_up.continuation_phrases)
# Pronouns that point back to someone or something named before: a question with one of
# these in its main clause is a follow-up.
_STRONG_ANAPHORS = _cues("strong_anaphors")
# Possessives and adverbs that may also point into the question itself ("Welches Motto hat
# Son damals ausgerufen?", "Wie lange läuft Dengels Projekt und wer ist sein Partner?"): they
# make a follow-up only when the question names nothing of its own (no capitalised word
# after the first one).
_WEAK_ANAPHORS = _cues("weak_anaphors")
# "das"/"that"/"this" are pronouns only when they stand alone: last word ("Wann war das?",
# "When was that?"), before a preposition ("Was bedeutet das für Japan?") or, in English,
# right after an auxiliary ("What does that mean?"); not as an article or conjunction
# ("das DFKI", "das erste Büro", "said that").
_DEMONSTRATIVES = _cues("demonstratives")
_ARTICLE_DEMONSTRATIVES = _cues("article_demonstratives")
# Function words that can follow the article "das" ("das erste ...", "das Land") are not
# prepositions; only a preposition after "das" marks it as a pronoun.
_ARTICLE_OK = _cues("article_followers")
_AUXILIARIES = _cues("auxiliaries")
# "es" next to these verbs is impersonal ("gibt es", "geht es um"), not a reference.
_IMPERSONAL = _cues("impersonal_verbs")
# Existential "there is/are" is not a reference to a place.
_EXISTENTIAL_AFTER_THERE = _cues("existential_after_there")
# Capitalised words that name nobody: polite "Sie", "I".
_NOT_NAMES = _cues("polite_pronouns")
# Question words and function words: never topic words, and a question made only of them has
# nothing of its own to search for.
_FUNCTION_WORDS = _cues("function_words")

# "the telecom companies ... their": a subject named in the question, its own possessive.
_SUBJECT_DETERMINERS = _cues("subject_determiners")
_OWN_SUBJECT_POSSESSIVES = _cues("own_subject_possessives")
_NOUN_LINKS = _cues("noun_links")
_SUBJECT_REACH = 3  # the determiner stands among the first words (after "why are", "how do")

# Possessives that come before the thing they belong to ("his company"); in front of every name
# in the question they cannot point into it.
_POSSESSIVES = _cues("possessives")
# "there" next to "is"/"are" is existential; "es" next to "gibt" impersonal.
_EXISTENTIAL_ADVERBS = _cues("existential_adverbs")
_IMPERSONAL_PRONOUNS = _cues("impersonal_pronouns")
_SHORT = 3  # a question of at most this many words with no content word is elliptical


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _continues(lowered: list[str], text: str) -> bool:
    if lowered and lowered[0] in _CONTINUATION_STARTS:
        return True
    flat = " ".join(lowered)
    return any(flat.startswith(p) for p in _CONTINUATION_PHRASES) or text.lstrip().startswith("...")


def _main_clause(text: str) -> str:
    """The text before the first comma: pronouns in a subordinate clause ("..., damit sie
    taugen", "..., wenn es um sein Gespür geht") usually point into the question itself."""
    head, comma, _ = text.partition(",")
    return head if comma and _words(head) else text


def _names_something(words: list[str]) -> bool:
    """A capitalised word after the first one (German nouns count too), or an acronym."""
    return any(
        (i > 0 and w[:1].isupper() and w not in _NOT_NAMES) or (len(w) > 1 and w.isupper())
        for i, w in enumerate(words)
    )


def _is_name(words: list[str], i: int) -> bool:
    w = words[i]
    return (i > 0 and w[:1].isupper() and w not in _NOT_NAMES) or (len(w) > 1 and w.isupper())


# "and"/"und" between two clauses of one question: a pronoun after it points to what the first
# clause named ("Which company did Son found and what does it develop?").
_CLAUSE_JOINS = _cues("clause_joins")
# A cleft "What is it that ...": "it" announces what follows.
_CLEFT_PRONOUNS = _cues("cleft_pronouns")
_CLEFT = _cues("cleft_words")


def _own_subject(lowered: list[str], i: int) -> bool:
    """True when the possessive at ``i`` points to a subject the question names itself: a
    determiner and a content word among the first words before it ("Why are the telecom
    companies building their own ...?"), and no linking word right before it ("What is the
    role of its founder?" still refers back)."""
    if lowered[i] not in _OWN_SUBJECT_POSSESSIVES or lowered[i - 1] in _NOUN_LINKS:
        return False
    return any(
        lowered[j] in _SUBJECT_DETERMINERS and lowered[j + 1] not in _FUNCTION_WORDS
        for j in range(min(i - 1, _SUBJECT_REACH))
    )


def _refers_back(text: str) -> bool:
    words = _words(_main_clause(text))
    lowered = [w.casefold() for w in words]
    weak = False
    named_before = False  # a name earlier in this question (so a pronoun may point to it)
    joined = False  # an "and"/"und" after such a name: a second clause of the same question
    for i, word in enumerate(lowered):
        if _is_name(words, i):
            named_before = True
        if word in _CLAUSE_JOINS and named_before and i > 1:
            joined = True
        following = lowered[i + 1] if i + 1 < len(words) else ""
        previous = lowered[i - 1] if i > 0 else ""
        if word in _STRONG_ANAPHORS:
            existential = {following, previous} & _EXISTENTIAL_AFTER_THERE
            if word in _EXISTENTIAL_ADVERBS and existential:
                continue
            if i > 0 and words[i] in _NOT_NAMES:
                continue  # polite "Sie" ("Können Sie mir sagen ...")
            if joined:
                continue  # "... Son ... and what does it develop?": points into the question
            if word in _CLEFT_PRONOUNS and following in _CLEFT and _names_something(words[i + 1 :]):
                continue  # "What is it that makes Japan attractive?"
            return True
        if joined and word in _DEMONSTRATIVES:
            continue
        if word in _DEMONSTRATIVES:
            if not following:
                return True
            is_article = word in _ARTICLE_DEMONSTRATIVES
            if is_article and following in _FUNCTION_WORDS and following not in _ARTICLE_OK:
                return True
            if not is_article and previous in _AUXILIARIES:
                return True
        if word in _IMPERSONAL_PRONOUNS and (previous in _IMPERSONAL or following in _IMPERSONAL):
            continue
        if word in _WEAK_ANAPHORS:
            if _own_subject(lowered, i):
                continue  # "the telecom companies ... their own models": the question's subject
            if not named_before and word in _POSSESSIVES and _names_something(words[i + 1 :]):
                return True  # "What does his company develop with Open AI?": his before any name
            weak = True
    return weak and not _names_something(words)


def topic_words(question: str) -> list[str]:
    """The content words of ``question`` in their order, without question and function words."""
    out: list[str] = []
    seen: set[str] = set()
    for word in _words(question):
        key = word.casefold()
        if key in _FUNCTION_WORDS or key in _STRONG_ANAPHORS or key in _WEAK_ANAPHORS or key in seen:
            continue
        seen.add(key)
        out.append(word)
    return out


def is_follow_up(question: str) -> bool:
    """True when ``question`` leans on the previous turn (see the module docstring)."""
    words = _words(question)
    if not words:
        return False
    lowered = [w.casefold() for w in words]
    if _continues(lowered, question) or _refers_back(question) or is_why_question(question):
        return True
    return len(words) <= _SHORT and not topic_words(question)


def _resolved_topic(history: Sequence[str], depth: int = 3) -> list[str]:
    """Topic words of the last question, including what it inherited if it was a follow-up."""
    if not history or depth == 0:
        return []
    last = history[-1]
    own = topic_words(last)
    if is_follow_up(last):
        inherited = [w for w in _resolved_topic(history[:-1], depth - 1)
                     if w.casefold() not in {o.casefold() for o in own}]
        return inherited + own
    return own


def contextualize(question: str, history: Sequence[str] = ()) -> str:
    """The text to search for ``question`` given the user's earlier questions (oldest first).

    Standalone questions come back unchanged; follow-ups get the previous question's topic
    words appended in parentheses (the answer still shows the question as typed).
    """
    history = [h for h in history if h and h.strip()]
    if not history or not is_follow_up(question):
        return question
    own = {w.casefold() for w in topic_words(question)}
    topic = [w for w in _resolved_topic(history) if w.casefold() not in own]
    if not topic:
        return question
    return f"{question} ({' '.join(topic)})"


# "Und warum?", "Why is that?": a question for the reason of the previous answer, with nothing
# of its own to search for.
_WHY = _cues("why_words")
_WHY_LEADS = _cues("why_leads")
_WHY_FILLERS = _cues("why_fillers")


def is_why_question(question: str) -> bool:
    """True for a bare "why" follow-up ("Und warum?", "Wieso das?", "Why is that?")."""
    words = [w.casefold() for w in _words(question)]
    while words and words[0] in _WHY_LEADS:
        words = words[1:]
    return bool(words) and words[0] in _WHY and all(w in _WHY_FILLERS for w in words[1:])


# A sentence that gives a cause or a purpose.
_CAUSAL = re.compile(
    r"\b(?:" + "|".join(lang.follow_up.causal for lang in known_languages() if lang.follow_up.causal)
    + r")\b",
    re.IGNORECASE,
)


def causal_neighbour(
    cited: Sequence[Sentence], sentences: Sequence[Sentence], reach: int = 2
) -> Sentence | None:
    """The sentence next to one of ``cited`` (same document, up to ``reach`` sentences away,
    nearest first, the following before the preceding one) that states a cause; None if none.

    ``sentences`` are the index's sentences in document order (``sentence_id`` = position).
    """
    taken = {s.sentence_id for s in cited}
    for sentence in cited:
        for distance in range(1, reach + 1):
            for at in (sentence.sentence_id + distance, sentence.sentence_id - distance):
                if not 0 <= at < len(sentences) or at in taken:
                    continue
                other = sentences[at]
                if other.doc_id == sentence.doc_id and _CAUSAL.search(other.text):
                    return other
    return None
