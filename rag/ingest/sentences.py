"""Split a document's paragraphs into sentences that keep their character offsets.

Sentence splitting uses SoMaJo (the language's model, ``de_CMC`` for German): on the article it
is the one splitter that ends a sentence inside «...» correctly when another sentence follows,
and it knows abbreviations (z. B., Dr., u. a.) and ordinal dates (3. Oktober). Every sentence
keeps its character offsets into the *source* (``document.text``; for Markdown through the
block's offset map, since the sentence's text has its markup removed), so a citation can be
highlighted in place; a PDF's sentences also know their page.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from functools import lru_cache

from rag.ingest.registry import blocks_of
from rag.language import get_language
from rag.records import Document, Sentence


@lru_cache(maxsize=4)
def _somajo(model: str):  # noqa: ANN202 - SoMaJo has no public type
    from somajo import SoMaJo

    return SoMaJo(model, split_camel_case=False, character_offsets=True)


def split_sentences(paragraphs: list[str], language: str) -> list[list[tuple[int, int]]]:
    """Sentence spans (start, end) per paragraph, relative to each paragraph string."""
    tokenizer = _somajo(get_language(language).splitter_model)
    spans: list[list[tuple[int, int]]] = []
    for paragraph in paragraphs:
        spans.append(
            [
                (sentence[0].character_offset[0], sentence[-1].character_offset[1])
                for sentence in tokenizer.tokenize_text([paragraph])
            ]
        )
    return spans


def _sentence_text_fix(paragraph: str, start: int, end: int) -> tuple[int, int]:
    """Trim white space SoMaJo may include; keep closing quotes that belong to the sentence."""
    while start < end and paragraph[start].isspace():
        start += 1
    while end > start and paragraph[end - 1].isspace():
        end -= 1
    return start, end


def page_of(doc: Document, offset: int) -> int | None:
    """The 1-based page holding ``doc.text[offset]`` (None for documents without pages)."""
    if not doc.pages:
        return None
    return max(1, bisect_right(doc.pages, offset))


def sentences_of(doc: Document, first_id: int = 0, teaser: bool | None = None) -> list[Sentence]:
    """Sentences of one document, numbered per paragraph, each with its section heading.

    The first paragraph counts as a teaser when the document has section headings later on
    (news articles); it is still quotable.
    """
    blocks = blocks_of(doc)
    paragraphs = [b for b in blocks if not b.is_heading]
    if teaser is None:
        teaser = any(b.is_heading for b in blocks) and bool(blocks) and not blocks[0].is_heading
    rows = dict(doc.rows)  # a spreadsheet row is one sentence, never split
    spans = split_sentences([p.text for p in paragraphs if p.start not in rows], doc.language)
    spans_iter = iter(spans)
    spans = [[(0, len(p.text))] if p.start in rows else next(spans_iter) for p in paragraphs]
    by_block = {id(p): s for p, s in zip(paragraphs, spans, strict=True)}

    sentences: list[Sentence] = []
    heading = ""
    paragraph_no = 0
    for block in blocks:
        if block.is_heading:
            heading = block.text
            continue
        paragraph_no += 1
        kind = "teaser" if teaser and paragraph_no == 1 else "body"
        for sentence_no, (s, e) in enumerate(by_block[id(block)], start=1):
            s, e = _sentence_text_fix(block.text, s, e)
            if s >= e:
                continue
            source_start, source_end = block.source_span(s, e)
            sentences.append(
                Sentence(
                    sentence_id=first_id + len(sentences),
                    doc_id=doc.doc_id,
                    paragraph=paragraph_no,
                    sentence=sentence_no,
                    text=block.text[s:e],
                    start=source_start,
                    end=source_end,
                    heading=heading,
                    kind=kind,
                    page=page_of(doc, source_start),
                    row=rows.get(block.start),
                )
            )
    return sentences


def sentences_of_all(docs: Iterable[Document]) -> list[Sentence]:
    """Sentences of several documents with ids unique across them."""
    out: list[Sentence] = []
    for doc in docs:
        out.extend(sentences_of(doc, first_id=len(out)))
    return out
