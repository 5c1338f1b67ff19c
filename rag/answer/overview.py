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
from rag.records import Answer, Citation, Document, Sentence

__all__ = ["is_overview_question", "overview_answer", "reason_answer"]

# Whole-question patterns, matched against the question lower-cased with punctuation removed
# and runs of white space collapsed. They describe asking for the gist of the text as a whole;
# a question naming anything else ("Worum geht es bei Stargate?") is an ordinary question.
_TEXT = (
    r"(?:der |die |das |dem |den |diese[rnms]? |this |the |that )?"
    r"(?:text|artikel|article|dokument|document|beitrag|bericht|story|texts|dokumente|documents|artikels"
    r"|textes|dokuments|page|seite|paper)"
)
_OVERVIEW = [
    # German
    r"worum geht(?: es|'s)?(?: (?:im|in|bei) " + _TEXT + r"| hier| da)?",
    r"um was geht(?: es|'s)?(?: (?:im|in) " + _TEXT + r"| hier)?",
    r"was ist (?:das )?(?:thema|das thema|der inhalt|die kernaussage|die hauptaussage)"
    r"(?: (?:des|der|dieses) \w+)?",
    r"(?:was steht|was steht drin|was sagt) (?:im|in) " + _TEXT + r"(?: drin)?",
    r"(?:kannst du |können sie |bitte )?(?:fasse?|fass) (?:mir )?" + _TEXT
    + r" (?:kurz )?zusammen(?: bitte)?",
    r"(?:kannst du |können sie )?(?:mir )?" + _TEXT + r" (?:kurz )?zusammenfassen(?: bitte)?",
    r"(?:kurze |eine )?zusammenfassung(?: (?:des|der|vom) \w+)?(?: bitte)?",
    r"(?:gib mir )?(?:einen )?(?:kurzen )?(?:überblick|ueberblick)(?: (?:über|ueber) " + _TEXT
    + r")?(?: bitte)?",
    r"(?:was ist )?(?:die |der )?(?:kernaussage|hauptthema|inhalt)(?: des \w+)?",
    r"wovon handelt " + _TEXT,
    r"(?:wovon|worüber|worueber) (?:handelt|berichtet|spricht|schreibt) " + _TEXT,
    # English
    r"what(?: is|s|'s) (?:this|it|" + _TEXT + r")(?: all)? about",
    r"what(?: is|s|'s) the (?:main )?(?:topic|gist|point|subject)(?: of " + _TEXT + r")?",
    r"what does " + _TEXT + r" (?:say|cover|discuss|talk about)",
    r"(?:please |can you |could you )?summari[sz]e(?: " + _TEXT + r")?(?: for me)?(?: please)?",
    r"(?:give me )?(?:a )?(?:short |brief |quick )?(?:summary|overview|tl ?dr|tldr)(?: of " + _TEXT
    + r")?(?: please)?",
    r"what (?:is|are) (?:" + _TEXT + r") (?:mainly |mostly )?about",
    r"(?:tell me )?what (?:this|the text|the article) is about",
]
_OVERVIEW_RE = re.compile(r"^(?:" + "|".join(_OVERVIEW) + r")$")
_PUNCT = re.compile(r"[^\w' ]+")


def _normal(question: str) -> str:
    text = _PUNCT.sub(" ", question.casefold().replace("’", "'"))
    return " ".join(text.split())


def is_overview_question(question: str) -> bool:
    """True when ``question`` asks what the text is about as a whole (German or English)."""
    return bool(_OVERVIEW_RE.match(_normal(question)))


_WORDS = {
    "de": ("Überblick über", "Einstieg", "Abschnitte", "Das Dokument hat weder Einleitung noch Abschnitte."),
    "en": ("Overview of", "Lead", "Sections", "The document has neither a lead nor sections."),
}


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


def overview_answer(
    question: str,
    documents: Sequence[Document],
    sentences: Sequence[Sentence],
    language: str,
    max_documents: int = 5,
) -> Answer:
    """One short cited overview per document (title, lead sentences, section headings)."""
    words = _WORDS.get(language, _WORDS["en"])
    several = len(documents) > 1
    lead_limit, heading_limit = (2, 4) if several else (3, 8)
    citations: list[Citation] = []
    parts: list[str] = []

    def cite(sentence: Sentence, title: str) -> str:
        citations.append(Citation(len(citations) + 1, sentence, 1.0, title))
        return f"[{len(citations)}]"

    for doc in documents[:max_documents]:
        title = _title_sentence(doc)
        text = f"{words[0]} «{doc.title}» {cite(title, doc.title)}:"
        lead = _lead(doc, sentences, lead_limit)
        heads = _headings(doc)[:heading_limit]
        if lead:
            text += " " + " ".join(f"{s.text} {cite(s, doc.title)}" for s in lead)
        if heads:
            text += f" {words[2]}: " + "; ".join(f"{h.text} {cite(h, doc.title)}" for h in heads) + "."
        if not lead and not heads:
            text += " " + words[3]
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


_NO_REASON = {
    "de": "Einen Grund dafür nennt der Text nicht.",
    "en": "The text gives no reason for this.",
}
_REASON_LEAD = {"de": "Als Grund nennt der Text:", "en": "The text gives this reason:"}


def reason_answer(question: str, reason: Sentence | None, title: str, language: str) -> Answer:
    """The answer to "Why?": the causal sentence, cited, or a plain "no reason given"."""
    if reason is None:
        return Answer(question, _NO_REASON.get(language, _NO_REASON["en"]), language, (), (), True)
    citation = Citation(1, reason, 1.0, title)
    lead = _REASON_LEAD.get(language, _REASON_LEAD["en"])
    return Answer(question, f"{lead} {reason.text} [1]", language, (citation,), (), False)
