"""Group neighbouring sentences of one paragraph into overlapping windows (the retrieval unit).

Windows never cross a paragraph, so a hit always points to one place in the text; with a
stride of 1 every sentence is the middle of some window, which keeps its neighbours as context.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from rag.records import Chunk, Sentence


def chunk_sentences(sentences: Sequence[Sentence], size: int = 3, stride: int = 1) -> list[Chunk]:
    """Windows of at most ``size`` sentences, ``stride`` apart, per (document, paragraph).

    Example::

        chunks = chunk_sentences(sentences, size=3, stride=1)
    """
    if size < 1 or stride < 1:
        raise ValueError("chunk size and stride must be >= 1")
    chunks: list[Chunk] = []
    for _, group in groupby(sentences, key=lambda s: (s.doc_id, s.paragraph)):
        para = list(group)
        starts = list(range(0, max(1, len(para) - size + 1), stride))
        if starts[-1] + size < len(para):  # make sure the tail is covered
            starts.append(len(para) - size)
        for begin in starts:
            window = para[begin : begin + size]
            chunks.append(
                Chunk(
                    chunk_id=len(chunks),
                    doc_id=window[0].doc_id,
                    paragraph=window[0].paragraph,
                    sentence_ids=tuple(s.sentence_id for s in window),
                    text=" ".join(s.text for s in window),
                    start=window[0].start,
                    end=window[-1].end,
                    heading=window[0].heading,
                )
            )
    return chunks
