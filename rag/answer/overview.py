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


# Any phrasing, in the languages the encoder reads: a word or phrase that asks for a summary,
# an overview or what the text is about, and besides it only words that name the text, politeness
# and length ("Gib mir bitte eine kurze Zusammenfassung.", "Summarize the article in a few
# sentences.", "De quoi parle le texte ?"). A word of anything else ("Summarize the fines ...",
# "Worum geht es bei Stargate?") makes it an ordinary question.
_ASKS_SUMMARY = (
    # de, en
    "zusammenfassung", "zusammenfassen", "zusammenfasst", "fasse zusammen", "fass zusammen",
    "überblick", "ueberblick", "übersicht", "kernaussage", "kernaussagen", "worum geht es", "worum gehts",
    "worum geht's", "um was geht es", "wovon handelt", "worüber", "summary", "summarize", "summarise",
    "overview", "gist", "tl dr", "tldr", "what is it about", "what's it about", "what is this about",
    "what is the text about", "what is the article about", "key points", "main points",
    # fr, es, it, pt, nl, pl
    "résumé", "résume", "résumer", "resume", "résumez", "resumez", "de quoi parle", "de quoi s'agit",
    "de quoi il s'agit", "de quoi traite", "aperçu", "resumen", "resumir", "resume", "resúmeme",
    "de qué trata", "de que trata", "de qué habla", "riassunto", "riassumi", "riassumere", "sintesi",
    "di cosa parla", "di che cosa parla", "di cosa tratta", "resumo", "resuma", "sobre o que é",
    "do que trata", "samenvatting", "samenvatten", "vat samen", "waar gaat", "waarover gaat",
    "podsumowanie", "podsumuj", "streszczenie", "streść", "o czym jest", "o czym jest tekst",
    # ru, tr, ar
    "резюме", "кратко", "краткое содержание", "перескажи", "о чём", "о чем", "özet", "özetle",
    "özetler", "ne hakkında", "ملخص", "لخص", "تلخيص", "عن ماذا",
    # ja, ko, zh, th
    "要約", "概要", "まとめ", "何について", "요약", "무엇에 관한", "总结", "摘要", "概括", "总结一下",
    "讲什么", "关于什么", "สรุป",
)
# Words that may stand beside it: the text itself, politeness, length, asking.
_BESIDE = frozenset("""
    der die das den dem des diese dieser diesen dieses dokument dokuments dokumente text textes texte
    artikel artikels beitrag bericht inhalt inhalts bitte mir mal doch kurz kurze kurzen kurzes knapp
    knappe eine einen ein einer in wenigen paar einigen sätzen sätze satz worten gib geben kannst
    können könntest sie du mach schreib schreibe geht es hier im da ist was the a an this that these
    text texts article articles document documents page paper story report please me give can could
    would you write make short brief quick few sentences sentence words in of for about is it what
    le la les l' ce cet cette un une du de des texte article document court courte brève bref
    quelques phrases mots s'il te vous plaît plait peux pouvez tu me moi en donne donnez fais faites
    el los las este esta un una del texto artículo documento breve corto corta pocas frases palabras
    por favor puedes hazme dame en il lo questo questa testo articolo breve poche frasi parole per
    favore puoi fammi dammi o os um uma do da artigo texto het deze een tekst artikel kort korte
    alsjeblieft graag in enkele zinnen ten tekst over are what's main
    artykuł krótkie krótko proszę w kilku zdaniach
    текст статья статьи текста пожалуйста коротко в нескольких предложениях этот эта про
    bu metin metni makale makaleyi kısa lütfen birkaç cümlede النص المقال هذا من فضلك باختصار
""".split())
# The same for scripts written without spaces (removed as strings).
_BESIDE_UNSPACED = (
    "这篇文章", "这篇", "文章", "本文", "文本", "这个", "一下", "请", "的", "内容", "了", "吗", "是",
    "この", "記事", "文章", "テキスト", "を", "して", "ください", "の", "は", "ですか", "簡単に",
    "이", "기사", "글", "텍스트", "를", "을", "해줘", "해 주세요", "주세요", "은", "는", "입니까",
    "บทความ", "นี้", "ข้อความ", "ให้", "หน่อย", "ครับ", "ค่ะ",
)
_ELISION = re.compile(r"^(?:l|d|s|qu|c|j|n|m|t|dell|dall|all|nell|sull)['’]")
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
    framed in the document's own language (German words for a German document, else English),
    at most about :data:`OVERVIEW_CITATIONS` citations in all."""
    lead_limit, heading_limit = _limits(min(len(documents), max_documents))
    citations: list[Citation] = []
    parts: list[str] = []

    def cite(sentence: Sentence, title: str) -> str:
        citations.append(Citation(len(citations) + 1, sentence, 1.0, title))
        return f"[{len(citations)}]"

    for doc in documents[:max_documents]:
        words = _WORDS.get(doc.language, _WORDS["en"])
        title = _title_sentence(doc)
        text = f"{words[0]} «{doc.title}» {cite(title, doc.title)}:"
        lead = _lead(doc, sentences, lead_limit)
        heads = [h for h in _headings(doc) if h.text != doc.title][:heading_limit]  # title once
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
