"""Sentence windows never cross a paragraph and cover every sentence."""

import pytest

from rag.ingest.chunking import chunk_sentences
from rag.records import Sentence


def sentences(paragraph_sizes):
    out = []
    pos = 0
    for p, size in enumerate(paragraph_sizes, start=1):
        for n in range(1, size + 1):
            text = f"P{p}S{n}."
            out.append(Sentence(len(out), "doc", p, n, text, pos, pos + len(text)))
            pos += len(text) + 1
    return out


def test_windows_of_three_with_stride_one():
    chunks = chunk_sentences(sentences([5, 2, 1]), size=3, stride=1)
    assert [c.sentence_ids for c in chunks] == [(0, 1, 2), (1, 2, 3), (2, 3, 4), (5, 6), (7,)]
    assert chunks[0].text == "P1S1. P1S2. P1S3."
    assert chunks[0].start == 0 and chunks[0].end == chunks[0].start + len(chunks[0].text)


def test_stride_two_still_covers_the_tail():
    chunks = chunk_sentences(sentences([6]), size=3, stride=2)
    assert [c.sentence_ids for c in chunks] == [(0, 1, 2), (2, 3, 4), (3, 4, 5)]


@pytest.mark.parametrize("size,stride", [(1, 1), (2, 1), (3, 1), (3, 2), (3, 3), (4, 2)])
def test_every_sentence_is_in_a_window_and_windows_stay_in_their_paragraph(size, stride):
    sents = sentences([1, 4, 7, 2])
    chunks = chunk_sentences(sents, size=size, stride=stride)
    covered = {i for c in chunks for i in c.sentence_ids}
    assert covered == {s.sentence_id for s in sents}
    for chunk in chunks:
        assert len(chunk.sentence_ids) <= size
        assert len({sents[i].paragraph for i in chunk.sentence_ids}) == 1
    assert [c.chunk_id for c in chunks] == list(range(len(chunks)))


def test_invalid_parameters():
    with pytest.raises(ValueError):
        chunk_sentences([], size=0)
