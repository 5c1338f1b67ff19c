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


@pytest.mark.slow
def test_slides_sheets_and_a_scan_are_cited_by_slide_row_and_page(tmp_path, real_encoder):
    """A deck, a workbook, a CSV file and a scanned German PDF in one corpus, with the real
    model: each answer cites its slide (page 3), its sheet and row, or page 2 of the scan."""
    from rag.app.cli import format_answer
    from rag.bench.scans import make_scanned_pdf
    from rag.config import Settings
    from rag.ingest.ocr import installed_languages
    from rag.pipeline import Pipeline

    from .formats import CSV, make_pptx, make_xlsx

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    make_pptx(seeds / "ferry.pptx")
    make_xlsx(seeds / "staff.xlsx")
    (seeds / "notes.csv").write_text(CSV, "utf-8")
    ocr = {"deu", "eng"} <= installed_languages()
    if ocr:
        make_scanned_pdf(seeds / "faehre.pdf")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    pipeline = Pipeline.open(settings, encoder=real_encoder, progress=False, on_status=lambda m: None)

    slide = pipeline.ask("How many passengers does the Aurora carry?")
    cited = slide.citations[0].to_dict()
    assert (cited["doc_id"], cited["page"]) == ("ferry", 3) and "240 passengers" in cited["text"]
    assert "page 3" in format_answer(slide)

    row = pipeline.ask("How many years of service does Anna Berg have?", documents=["staff"])
    cited = row.citations[0].to_dict()
    assert (cited["sheet"], cited["row"]) == ("Staff", 2) and "Years of service: 32" in cited["text"]
    assert "Staff, row 2" in format_answer(row)

    if ocr:
        scan = pipeline.ask("Wann wurde der Leuchtturm von Skarvik rot und weiß gestrichen?")
        cited = scan.citations[0].to_dict()
        assert (cited["doc_id"], cited["page"]) == ("faehre", 2) and "1952" in cited["text"]
