"""Typed records passed between the pipeline's stages.

Every record is frozen and carries stable ids plus character offsets into its source file, so a
citation can always be traced back to the exact place it was quoted from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One source file from ``seeds/``; ``text`` is the whole file as read (offsets point into it)."""

    doc_id: str
    title: str
    language: str
    path: str
    text: str
    content_hash: str
    body_start: int = 0  # where the body starts after an optional front matter block
    # For formats whose ``text`` is extracted (PDF, DOCX, HTML): where each page starts in
    # ``text`` (PDF only, page 1 first) and the (start, end, is_heading) spans of its blocks.
    pages: tuple[int, ...] = ()
    layout: tuple[tuple[int, int, int], ...] = ()
    # Spreadsheets (XLSX, CSV): (start in ``text``, row number in its sheet) of each row's block;
    # a row is one sentence and its citation names sheet (the heading) and row.
    rows: tuple[tuple[int, int], ...] = ()
    # Pages read by OCR: each word's (start, end) in ``text``, its 1-based page and its box on
    # that page as fractions of the page's width and height (left, top, right, bottom).
    boxes: tuple[tuple[int, int, int, float, float, float, float], ...] = ()
    # What the reader should know about a document that was read (a scanned page without text).
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # documents.json gives lists; keep the record hashable and comparable.
        object.__setattr__(self, "pages", tuple(int(p) for p in self.pages))
        object.__setattr__(
            self, "layout", tuple((int(b[0]), int(b[1]), int(b[2])) for b in self.layout)
        )
        object.__setattr__(self, "rows", tuple((int(r[0]), int(r[1])) for r in self.rows))
        object.__setattr__(self, "boxes", tuple(
            (int(b[0]), int(b[1]), int(b[2]), float(b[3]), float(b[4]), float(b[5]), float(b[6]))
            for b in self.boxes
        ))
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))


@dataclass(frozen=True)
class Sentence:
    """A sentence with its place in the document: paragraph/sentence numbers count from 1."""

    sentence_id: int
    doc_id: str
    paragraph: int
    sentence: int
    text: str
    start: int
    end: int
    heading: str = ""
    kind: str = "body"  # "body", "teaser" or "heading"
    page: int | None = None  # 1-based page of a PDF document (slide of a deck); None without pages
    row: int | None = None  # the row of a spreadsheet (its sheet is the heading); None otherwise


@dataclass(frozen=True)
class Chunk:
    """A window of neighbouring sentences of one paragraph: the unit retrieval works on."""

    chunk_id: int
    doc_id: str
    paragraph: int
    sentence_ids: tuple[int, ...]
    text: str
    start: int
    end: int
    heading: str = ""


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with the scores that ranked it (rank counts from 1)."""

    chunk: Chunk
    score: float
    dense_score: float
    lexical_score: float
    rank: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "chunk_id": self.chunk.chunk_id,
            "doc_id": self.chunk.doc_id,
            "paragraph": self.chunk.paragraph,
            "heading": self.chunk.heading,
            "text": self.chunk.text,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "score": round(float(self.score), 4),
            "dense_score": round(float(self.dense_score), 4),
            "lexical_score": round(float(self.lexical_score), 4),
        }


@dataclass(frozen=True)
class Citation:
    """A quoted sentence; ``marker`` is the n of the ``[n]`` in the answer text."""

    marker: int
    sentence: Sentence
    score: float
    doc_title: str = ""

    def to_dict(self) -> dict[str, Any]:
        s = self.sentence
        return {
            "marker": self.marker,
            "sentence_id": s.sentence_id,  # for GET /api/page?sentence=...
            "text": s.text,
            "doc_id": s.doc_id,
            "doc_title": self.doc_title,
            "heading": s.heading,
            "paragraph": s.paragraph,
            "sentence": s.sentence,
            "start": s.start,
            "end": s.end,
            "score": round(float(self.score), 4),
            **({"page": s.page} if s.page is not None else {}),
            **({"row": s.row, **({"sheet": s.heading} if s.heading else {})} if s.row is not None else {}),
        }


HIGH, LOW, NONE = "high", "low", "none"
CONFIDENCE_LEVELS = (HIGH, LOW, NONE)


@dataclass(frozen=True)
class Answer:
    """What the pipeline returns for one question; ``abstained`` means "the text does not say".

    ``confidence`` says how well the text supports the answer: ``"high"`` (the cited sentence
    answers), ``"low"`` (the closest passage, which may not answer) or ``"none"`` (the text does
    not say; exactly when ``abstained``). Left empty it follows ``abstained``.
    """

    question: str
    text: str
    language: str
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    abstained: bool
    timings_ms: dict[str, float] = field(default_factory=dict)
    notice: str = ""  # e.g. that an overlong question was shortened
    retrieval_query: str = ""  # the query actually searched (differs for follow-up questions)
    # The refusal model's log-odds that the text does not answer, and the threshold it was held
    # against (None when nothing was retrieved).
    refusal_score: float | None = None
    refusal_threshold: float | None = None
    confidence: str = ""
    # At or below this refusal score the answer is confident ("high").
    high_threshold: float | None = None

    def __post_init__(self) -> None:
        level = self.confidence or (NONE if self.abstained else HIGH)
        if level not in CONFIDENCE_LEVELS:
            raise ValueError(f"confidence must be one of {', '.join(CONFIDENCE_LEVELS)}, not {level!r}")
        if (level == NONE) != bool(self.abstained):
            raise ValueError(f"confidence {level!r} does not go with abstained={self.abstained}")
        object.__setattr__(self, "confidence", level)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "question": self.question,
            "answer": self.text,
            "language": self.language,
            "confidence": self.confidence,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "hits": [h.to_dict() for h in self.hits],
            "timings_ms": {k: round(float(v), 3) for k, v in self.timings_ms.items()},
        }
        if self.notice:
            data["notice"] = self.notice
        if self.refusal_score is not None and self.refusal_threshold is not None:
            refusal = {
                "score": round(self.refusal_score, 4),
                "threshold": round(self.refusal_threshold, 4),
            }
            if self.high_threshold is not None:
                refusal["high_threshold"] = round(self.high_threshold, 4)
            data["refusal"] = refusal
        if self.retrieval_query and self.retrieval_query != self.question:
            data["retrieval_query"] = self.retrieval_query
        return data
