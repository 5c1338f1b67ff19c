"""Overview questions ("Worum geht es?", "Summarize the article") and "Why?" follow-ups.

An overview question asks for no fact, so retrieval finds nothing that answers it and the
answer model refuses. Instead it gets an extractive overview of each document: its title, its
lead (teaser) sentences and its section headings, each cited like any quoted sentence::

    if is_overview_question(question):
        answer = overview_answer(question, index.documents, index.sentences, language)

A "why" follow-up ("Und warum?", "Why?") gets :func:`reason_answer`: the sentence next to the
previous answer's sentence that states a cause (see :func:`rag.query.followup.causal_neighbour`),
or a clear "the text gives no reason" when there is none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.ingest import blocks_of
from rag.language import get_language, overview_cues
from rag.records import Answer, Citation, Document, Sentence

__all__ = ["is_overview_question", "overview_answer", "reason_answer"]

# Whole-question patterns of every known language, matched against the question lower-cased
# with punctuation removed and runs of white space collapsed. They describe asking for the gist
# of the text as a whole; a question naming anything else ("Worum geht es bei Stargate?") is an
# ordinary question.
_CUES = overview_cues()
_TEXT = (
    r"(?:(?:" + "|".join(d for c in _CUES for d in c.text_determiners) + r") )?"
    r"(?:" + "|".join(dict.fromkeys(w for c in _CUES for w in c.text_words)) + r")"
)
_OVERVIEW = [pattern.replace("{text}", _TEXT) for c in _CUES for pattern in c.patterns]
_OVERVIEW_RE = re.compile(r"^(?:" + "|".join(_OVERVIEW) + r")$")
_PUNCT = re.compile(r"[^\w' ]+")


def _normal(question: str) -> str:
    text = _PUNCT.sub(" ", question.casefold().replace("’", "'"))
    return " ".join(text.split())


# Any phrasing, in the languages the encoder reads: a word or phrase that asks for a summary,
# an overview or what the text is about, and besides it only words that name the text, politeness
# and length ("Gib mir bitte eine kurze Zusammenfassung.", "Summarize the article in a few
# sentences.", "De quoi parle le texte ?"). A word of anything else ("Summarize the fines ...",
# "Worum geht es bei Stargate?") makes it an ordinary question.
_ASKS_SUMMARY = tuple(phrase for c in _CUES for phrase in c.requests)
# Words that may stand beside it: the text itself, politeness, length, asking.
_BESIDE = frozenset(word for c in _CUES for word in c.fillers)
# The same for scripts written without spaces (removed as strings).
_BESIDE_UNSPACED = tuple(filler for c in _CUES for filler in c.unspaced_fillers)
_ELISION = re.compile(r"^(?:" + "|".join(e for c in _CUES for e in c.elisions) + r")['’]")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _plain(question: str) -> str:
    """Lower case, punctuation and symbols (but not the marks of Thai or Hindi) as spaces."""
    import unicodedata

    text = "".join(
        " " if unicodedata.category(ch)[0] in "PSZC" and ch not in "'’" else ch
        for ch in question.casefold().replace("’", "'")
    )
    return " ".join(text.split())


def _asks_summary(question: str) -> bool:
    text = " " + _plain(question) + " "
    found = False
    for phrase in sorted(_ASKS_SUMMARY, key=len, reverse=True):
        key = phrase.casefold()
        if _UNSPACED.search(key):
            if key in text:
                text, found = text.replace(key, " "), True
        elif f" {key} " in text:
            text, found = text.replace(f" {key} ", " "), True
    if not found:
        return False
    if _UNSPACED.search(text):  # Chinese, Japanese, Korean, Thai: no spaces to count words by
        for filler in sorted(_BESIDE_UNSPACED, key=len, reverse=True):
            text = text.replace(filler, " ")
    return all(w in _BESIDE or _ELISION.sub("", w) in _BESIDE for w in _WORD.findall(text))


def is_overview_question(question: str) -> bool:
    """True when ``question`` asks what the text is about as a whole, or for a summary or an
    overview of it, in any language the encoder reads."""
    return bool(_OVERVIEW_RE.match(_normal(question))) or _asks_summary(question)


def _title_sentence(doc: Document) -> Sentence:
    """The title as a citable span: where it stands in the front matter, else an empty span."""
    at = doc.text.find(doc.title, 0, max(doc.body_start, 0) or len(doc.text))
    start, end = (at, at + len(doc.title)) if at >= 0 else (0, 0)
    return Sentence(-1, doc.doc_id, 0, 0, doc.title, start, end, "", "heading")


def _headings(doc: Document) -> list[Sentence]:
    out: list[Sentence] = []
    paragraph = 0
    for block in blocks_of(doc):
        if not block.is_heading:
            paragraph += 1
            continue
        out.append(Sentence(-1, doc.doc_id, paragraph + 1, 0, block.text, block.start, block.end, block.text,
                            "heading"))
    return out


def _lead(doc: Document, sentences: Sequence[Sentence], limit: int) -> list[Sentence]:
    mine = [s for s in sentences if s.doc_id == doc.doc_id]
    teaser = [s for s in mine if s.kind == "teaser"]
    return (teaser or [s for s in mine if s.paragraph == 1])[:limit]


# With several documents the overview stays short: about this many citations in all, shared out
# among the documents shown (each its title and at least one lead sentence).
OVERVIEW_CITATIONS = 12


def _limits(shown: int) -> tuple[int, int]:
    """(lead sentences, headings) per document when ``shown`` documents are overviewed."""
    if shown <= 1:
        return 3, 8
    budget = max(2, OVERVIEW_CITATIONS // shown) - 1  # besides the title
    lead = min(2, budget)
    return lead, budget - lead


def overview_answer(
    question: str,
    documents: Sequence[Document],
    sentences: Sequence[Sentence],
    language: str,
    max_documents: int = 5,
) -> Answer:
    """One short cited overview per document (title, lead sentences, section headings), each
    framed in the document's own language (its :class:`~rag.language.base.Phrases`; a language
    without a module borrows English ones), at most about :data:`OVERVIEW_CITATIONS` citations
    in all."""
    lead_limit, heading_limit = _limits(min(len(documents), max_documents))
    citations: list[Citation] = []
    parts: list[str] = []

    def cite(sentence: Sentence, title: str) -> str:
        citations.append(Citation(len(citations) + 1, sentence, 1.0, title))
        return f"[{len(citations)}]"

    for doc in documents[:max_documents]:
        words = get_language(doc.language).phrases
        title = _title_sentence(doc)
        text = f"{words.overview_of} «{doc.title}» {cite(title, doc.title)}:"
        lead = _lead(doc, sentences, lead_limit)
        heads = [h for h in _headings(doc) if h.text != doc.title][:heading_limit]  # title once
        if lead:
            text += " " + " ".join(f"{s.text} {cite(s, doc.title)}" for s in lead)
        if heads:
            text += f" {words.sections}: " + "; ".join(f"{h.text} {cite(h, doc.title)}" for h in heads) + "."
        if not lead and not heads:
            text += " " + words.no_lead_or_sections
        parts.append(text)
    if len(documents) > max_documents:
        parts.append(f"(+{len(documents) - max_documents})")
    return Answer(
        question=question,
        text="\n".join(parts),
        language=language,
        citations=tuple(citations),
        hits=(),
        abstained=not citations,
        retrieval_query="",
    )


def reason_answer(question: str, reason: Sentence | None, title: str, language: str) -> Answer:
    """The answer to "Why?": the causal sentence, cited, or a plain "no reason given"."""
    phrases = get_language(language).phrases
    if reason is None:
        return Answer(question, phrases.no_reason, language, (), (), True)
    citation = Citation(1, reason, 1.0, title)
    lead = phrases.reason_lead
    return Answer(question, f"{lead} {reason.text} [1]", language, (citation,), (), False)
