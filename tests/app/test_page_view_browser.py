"""The chat's Article view shows the cited page of a scanned PDF with the sentence highlighted
(headless Chromium, the real server and model). Saves page-view-browser.png ($RAG_REPORTS or a
temporary folder)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conftest import serving_ui  # noqa: E402
from ingest.formats import make_pdf  # noqa: E402
from test_ui_browser import _chat_page, ask, browser, last_answer  # noqa: E402, F401

from rag.bench.scans import make_scanned_pdf  # noqa: E402
from rag.ingest.ocr import installed_languages  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not {"deu", "eng"} <= installed_languages(), reason="Tesseract (make ocr) missing"),
]


def test_the_article_view_shows_the_cited_page_of_a_scan_highlighted(tmp_path, browser):  # noqa: F811
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    make_scanned_pdf(seeds / "faehre.pdf")
    make_pdf(seeds / "lighthouse.pdf")
    with serving_ui(tmp_path, seeds) as server, _chat_page(
        browser, server.url, viewport={"width": 1400, "height": 1000}
    ) as page:
        ask(page, "Wann wurde der Leuchtturm von Skarvik rot und weiß gestrichen?")
        assert "1952" in last_answer(page).inner_text()
        page.get_by_role("tab", name="Article").click()
        figure = page.locator("#article #page-view")
        figure.wait_for(state="visible")
        assert figure.get_attribute("data-page") == "2"
        assert "Page 2 of" in figure.inner_text() and "[1] highlighted" in figure.inner_text()
        image = figure.locator("img")
        image.scroll_into_view_if_needed()
        assert page.evaluate("(img) => img.complete && img.naturalWidth", image.element_handle()) == 800
        folder = Path(os.environ.get("RAG_REPORTS") or tempfile.mkdtemp(prefix="rag-screenshots-"))
        folder.mkdir(parents=True, exist_ok=True)
        image.screenshot(path=str(folder / "page-view-browser.png"))
        print(f"screenshot: {folder / 'page-view-browser.png'}")
