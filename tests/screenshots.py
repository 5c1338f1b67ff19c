"""`make screenshots`: the README's pictures of a multi-document answer with its Sources tab.

Starts ``ui.py`` (the real model) over two documents in a temporary folder, the bundled German
article and the English one of ``seeds/eval/mixed/``, asks for an overview (which quotes both)
and saves what headless Chromium (Debian's, `make browser`) shows, with the Sources
tab open: ``docs/screenshot-sources.png`` (desktop, 1400x1000), ``-phone.png`` (390x844, the page
down to the third source) and ``-dark.png`` (desktop in dark mode).
Usage: ``python tests/screenshots.py [FOLDER]`` (default ``docs``)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import serving_ui  # noqa: E402

DOCUMENTS = [ROOT / "seeds" / "japan-ki-aufholjagd.txt",
             ROOT / "seeds" / "eval" / "mixed" / "redhaven-trams.md"]
QUESTIONS = ["What are the documents about?"]
SHOTS = {  # name: (browser context options, page address suffix)
    "screenshot-sources.png": ({"viewport": {"width": 1400, "height": 1000}}, ""),
    "screenshot-sources-phone.png": ({"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                                      "has_touch": True, "device_scale_factor": 2}, ""),
    "screenshot-sources-dark.png": ({"viewport": {"width": 1400, "height": 1000}, "color_scheme": "dark"},
                                    "?__theme=dark"),
}


def take(url: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            for name, (options, suffix) in SHOTS.items():
                context = browser.new_context(**options)
                page = context.new_page()
                page.goto(url + suffix)
                page.wait_for_selector("#question textarea")
                for question in QUESTIONS:
                    count = page.locator("#chat .rag-answer").count()
                    page.fill("#question textarea", question)
                    page.click("#send")
                    page.wait_for_function(
                        f"document.querySelectorAll('#chat .rag-answer').length > {count}", timeout=120000)
                page.get_by_role("tab", name="Sources").click()
                page.locator("#sources li.rag-src").first.wait_for(state="visible")
                phone = options["viewport"]["width"] < 640
                if not phone:  # a citation's pop-up open, as the reader sees it on hover
                    page.locator("#chat .rag-answer").last.locator(".rag-cite-marker").nth(6).hover()
                page.wait_for_timeout(400)  # the pop-up's and the tab's transitions
                saved.append(out / name)
                if phone:  # the page from the top down to the third source
                    third = page.locator("#sources li.rag-src").nth(2).bounding_box()
                    bottom = third["y"] + third["height"] + 12 + page.evaluate("window.scrollY")
                    page.screenshot(path=str(out / name), full_page=True,
                                    clip={"x": 0, "y": 0, "width": 390, "height": bottom})
                else:
                    page.screenshot(path=str(out / name))
                context.close()
        finally:
            browser.close()
    return saved


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else ROOT / "docs").resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rag-screenshots-") as folder:
        work = Path(folder)
        (work / "seeds").mkdir()
        for document in DOCUMENTS:
            shutil.copy(document, work / "seeds")
        with serving_ui(work, work / "seeds") as server:
            for path in take(server.url, out):
                print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
