"""GET /api/page: a PDF page (text layer or scan) or a page image as PNG, the cited sentence's
boxes highlighted (rag/app/page_view.py), over a real index of generated files."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.formats import make_pdf, make_pptx  # noqa: E402

from rag.bench.scans import make_scanned_pdf  # noqa: E402
from rag.ingest.ocr import installed_languages  # noqa: E402


def _client(tmp_path, scanned: bool = False):
    from conftest import FakeEncoder
    from fastapi.testclient import TestClient

    from rag.app.api import build_api
    from rag.config import Settings
    from rag.pipeline import Pipeline

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    make_pdf(seeds / "lighthouse.pdf")
    make_pptx(seeds / "ferry.pptx")
    if scanned:
        make_scanned_pdf(seeds / "faehre.pdf")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    pipeline = Pipeline.open(settings, encoder=FakeEncoder(), progress=False, on_status=lambda m: None)
    return pipeline, TestClient(build_api(pipeline))


def _yellow_share(png: bytes, box: list[float]) -> float:
    """The share of highlight-coloured pixels inside ``box`` (fractions of the page)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = image.size
    crop = image.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w) + 1, int(box[3] * h) + 1))
    pixels = list(crop.convert("RGB").tobytes())
    pixels = list(zip(pixels[0::3], pixels[1::3], pixels[2::3], strict=True))
    return sum(1 for r, g, b in pixels if r > 200 and g > 150 and b < 150) / max(1, len(pixels))


def test_a_text_pdf_page_with_the_cited_sentence_highlighted(tmp_path):
    pipeline, client = _client(tmp_path)
    anna = next(s for s in pipeline.index.sentences if s.text.startswith("The keeper Anna Berg"))
    response = client.get("/page", params={"document": "lighthouse", "start": anna.start, "end": anna.end})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    boxes = json.loads(response.headers["x-highlight"])
    assert 1 <= len(boxes) <= 3  # one rectangle per line of the sentence
    assert all(0 <= b[0] < b[2] <= 1 and 0 < b[1] < b[3] < 0.3 for b in boxes)  # near the top of page 2
    assert _yellow_share(response.content, boxes[0]) > 0.3
    from PIL import Image

    image = Image.open(io.BytesIO(response.content))
    assert image.width == 1000 and 1.3 < image.height / image.width < 1.5  # A4
    import os

    if os.environ.get("RAG_REPORTS"):  # the page to look at
        Path(os.environ["RAG_REPORTS"], "page-view-text.png").write_bytes(response.content)
    from rag.records import Citation

    cited = Citation(1, anna, 1.0).to_dict()
    by_id = client.get("/page", params={"document": "lighthouse", "sentence": cited["sentence_id"]})
    assert by_id.status_code == 200 and json.loads(by_id.headers["x-highlight"]) == boxes
    plain = client.get("/page", params={"document": "lighthouse", "page": 1, "width": 400})
    assert plain.status_code == 200 and json.loads(plain.headers["x-highlight"]) == []
    assert Image.open(io.BytesIO(plain.content)).width == 400


@pytest.mark.parametrize(
    "params, status, message",
    [
        ({"document": "nosuch", "page": 1}, 404, "no document 'nosuch'"),
        ({"document": "lighthouse", "page": 9}, 404, "has 3 page(s); there is no page 9"),
        ({"document": "ferry", "page": 1}, 400, "is not a PDF or an image"),
        ({"document": "lighthouse", "page": "two"}, 400, "page"),
        ({"document": "lighthouse", "start": 5}, 400, "give both start and end"),
        ({"document": "lighthouse", "start": 5, "end": 10**9}, 400, "start and end must satisfy"),
        ({"document": "lighthouse", "page": 1, "width": 10**6}, 400, "width must be between"),
        ({"document": "lighthouse", "sentence": 10**6}, 404, "no sentence"),
    ],
)
def test_bad_page_requests_are_json_errors(tmp_path, params, status, message):
    _, client = _client(tmp_path)
    response = client.get("/page", params=params)
    assert response.status_code == status and message in response.json()["error"]


def test_a_changed_file_is_not_shown_with_stale_boxes(tmp_path):
    pipeline, client = _client(tmp_path)
    make_pdf(tmp_path / "seeds" / "lighthouse.pdf", title="Another title")
    response = client.get("/page", params={"document": "lighthouse", "page": 1})
    assert response.status_code == 409 and "changed since the index was built" in response.json()["error"]


@pytest.mark.slow
@pytest.mark.skipif(not {"deu", "eng"} <= installed_languages(), reason="Tesseract (make ocr) missing")
def test_a_scanned_page_highlights_the_words_ocr_found(tmp_path):
    pipeline, client = _client(tmp_path, scanned=True)
    painted = next(s for s in pipeline.index.sentences if s.doc_id == "faehre" and "1952" in s.text)
    assert painted.page == 2
    response = client.get("/page", params={"document": "faehre", "start": painted.start, "end": painted.end})
    assert response.status_code == 200
    boxes = json.loads(response.headers["x-highlight"])
    assert len(boxes) == 2 and all(b[1] < 0.3 for b in boxes)  # two lines near the top
    assert _yellow_share(response.content, boxes[0]) > 0.3
    import os

    if os.environ.get("RAG_REPORTS"):  # the page to look at
        Path(os.environ["RAG_REPORTS"], "page-view-scan.png").write_bytes(response.content)
