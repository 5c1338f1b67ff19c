"""End to end with the real model: a seeds folder holding a PDF and a Markdown file."""

from __future__ import annotations

import json

import pytest

from .formats import MARKDOWN, make_pdf


@pytest.mark.slow
def test_a_question_answered_by_the_pdf_cites_its_page(tmp_path, real_encoder):
    from rag.app.cli import format_answer
    from rag.config import Settings
    from rag.pipeline import Pipeline

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    make_pdf(seeds / "lighthouse.pdf")
    (seeds / "harbour.md").write_text(MARKDOWN, encoding="utf-8")
    (seeds / "notes.odt").write_bytes(b"PK\x03\x04")
    messages: list[str] = []
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    pipeline = Pipeline.open(settings, encoder=real_encoder, progress=False, on_status=messages.append)
    assert any("skipped" in m and "notes.odt" in m and "not supported" in m for m in messages)

    answer = pipeline.ask("Who lived in the lighthouse tower for thirty-two years?")
    assert not answer.abstained
    data = json.loads(json.dumps(answer.to_dict()))
    pdf_citations = [c for c in data["citations"] if c["doc_id"] == "lighthouse"]
    assert pdf_citations, data
    assert pdf_citations[0]["page"] == 2
    assert "Anna Berg" in " ".join(c["text"] for c in pdf_citations)
    assert all("page" not in c for c in data["citations"] if c["doc_id"] == "harbour")
    assert "page 2" in format_answer(answer)
