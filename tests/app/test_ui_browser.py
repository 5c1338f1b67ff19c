"""The chat page in headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Types questions, sends them and checks what a reader sees: the cited sentence, highlighted
in its paragraph on hover and in the article view; a refusal; a follow-up; and that markup
typed into the chat stays text; examples that answer on click, plain-text copy and the Markdown
export, conversations that survive a reload, thumbs-down feedback that `rag eval` reads, and
the page at a 390x844 phone viewport. Also measures submit-to-rendered-answer time and saves
screenshots (ui-screenshot*.png in $RAG_REPORTS or pytest's temporary folder, which pytest
prunes; with RAG_UPDATE_SCREENSHOT=1 also docs/screenshot.png, docs/screenshot-phone.png and
docs/screenshot-documents.png, the ones the README shows).

Every wait is on a condition (an element shown, a value stored, a line written), never on a
fixed time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    """Where screenshots go: $RAG_REPORTS if set, else pytest's temporary folder (pruned by pytest,
    never the repository, never a folder of its own left in the system's temporary folder)."""
    folder = Path(os.environ.get("RAG_REPORTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wait_until(condition, what: str, timeout: float = 30.0) -> None:  # noqa: ANN001
    """Wait until ``condition()`` holds (checked every 50 ms); fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def wait_inside(page, target, width: int, height: int) -> dict:  # noqa: ANN001
    """The element's box once it lies inside the viewport (it is placed by script when shown)."""
    locator = page.locator(target) if isinstance(target, str) else target
    locator.first.wait_for(state="visible")
    page.wait_for_function(
        "([e, w, h]) => { const r = e.getBoundingClientRect(); "
        "return r.left >= 0 && r.top >= 0 && r.right <= w && r.bottom <= h; }",
        arg=[locator.first.element_handle(), width, height], timeout=10000,
    )
    return locator.first.bounding_box()


def settle_requests(page) -> None:  # noqa: ANN001
    """Return once every request the page started so far has been seen: after two animation
    frames (layout done, lazy loads started) the page fetches a marker URL, and requests are
    reported in order, so everything before it was recorded first."""
    with page.expect_request(lambda r: "rag-settle-marker" in r.url, timeout=10000):
        page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
            ".then(() => { fetch('/gradio_api/info?rag-settle-marker=1').catch(() => {}); })"
        )
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]

# Clicks "Ask" and resolves with the milliseconds until the new answer is in the page.
TIMED_SEND = """
() => new Promise((resolve) => {
  const count = () => document.querySelectorAll('#chat .rag-answer').length;
  const before = count();
  const observer = new MutationObserver(() => {
    if (count() > before) { observer.disconnect(); resolve(performance.now() - started); }
  });
  observer.observe(document.body, {childList: true, subtree: true});
  const started = performance.now();
  document.querySelector('#send').click();
})
"""


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def _chat_page(browser, url: str, **context_options):
    """The chat open in a fresh browser context, ready for a question; closed afterwards."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.wait_for_selector("#question textarea")
    # The page's restore (its load event) is done, so it cannot land after a first question.
    page.wait_for_function("document.documentElement.dataset.ragReady === '1'", timeout=30000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser, ui_server):
    with _chat_page(browser, ui_server.url, viewport={"width": 1400, "height": 1000}) as chat:
        yield chat


def ask(page, question: str) -> None:
    """Type ``question``, press "Ask" and wait until its answer is in the chat."""
    before = page.locator("#chat .rag-answer").count()
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(f"document.querySelectorAll('#chat .rag-answer').length > {before}", timeout=30000)


def last_answer(page):  # noqa: ANN201
    return page.locator("#chat .rag-answer").last


def test_answer_shows_the_cited_sentence_highlighted(page) -> None:
    ask(page, "Wer leitet den Technologieinvestor Softbank?")
    answer = last_answer(page)
    assert "Masayoshi Son" in answer.inner_text()
    assert "rag-refusal" not in (answer.get_attribute("class") or "")

    # Hovering the citation marker shows its sentence highlighted inside its paragraph.
    cite = answer.locator(".rag-cite").first
    pop = cite.locator(".rag-cite-pop")
    assert not pop.is_visible()
    cite.hover()
    pop.wait_for(state="visible")
    assert "Masayoshi Son" in pop.locator("mark.rag-hl").inner_text()
    box = wait_inside(page, pop, 1400, 1000)  # fails when the pop-up never fits the window
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1400 and box["y"] + box["height"] <= 1000, box
    assert "Seit Jahren investiert er" in pop.inner_text()  # the rest of its paragraph

    # Clicking works as well (keyboard/touch): the marker takes focus and the pop-up stays.
    page.mouse.move(0, 0)
    pop.wait_for(state="hidden")
    cite.locator(".rag-cite-marker").click()
    pop.wait_for(state="visible")

    # The article view marks the cited sentence in the whole text.
    page.get_by_role("tab", name="Article").click()
    marked = page.locator("#article mark.rag-hl")
    marked.first.wait_for(state="visible")
    assert any("Masayoshi Son" in t for t in marked.all_inner_texts())
    assert "Aufholjagd" in page.locator("#article").inner_text()

    # The sources view lists the passages, marking the ones the answer used.
    page.get_by_role("tab", name="Sources").click()
    assert "used in the answer" in page.locator("#sources").inner_text()
    assert page.locator("#sources .rag-src").count() >= 1


def test_refusal_looks_different(page) -> None:
    ask(page, "What is the capital of France?")
    answer = last_answer(page)
    assert "rag-refusal" in answer.get_attribute("class")
    assert answer.locator(".rag-cite").count() == 0


def test_follow_up_in_the_chat_and_reset(page) -> None:
    ask(page, "Wo hat Open AI sein erstes Auslandsbüro eröffnet?")
    ask(page, "Und wann war das?")
    assert "Im vergangenen Jahr" in last_answer(page).inner_text()
    page.click("#reset")
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length === 0")
    # After a reset the follow-up has nothing to lean on any more.
    ask(page, "Und wann war das?")
    assert "Im vergangenen Jahr" not in last_answer(page).inner_text()


def test_markup_in_a_question_is_shown_literally_and_nothing_runs(page, ui_server) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    question = (
        '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> '
        "![pic](http://127.0.0.1:9/pic.png) **fett** ${window.__pwned=3} {{constructor}} $$x^2$$"
    )
    ask(page, question)
    shown = page.locator("#chat .rag-user").last
    assert shown.inner_text() == question
    assert page.locator("#chat .message-content img").count() == 0
    assert page.locator("#chat .message-content script").count() == 0
    assert page.locator("#chat .message-content strong").count() == 0
    assert page.locator("#chat .katex").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []
    assert not [u for u in requests if u.endswith("/x") or "pic.png" in u]


INJECTED = "http://127.0.0.1:9/"  # the discard port: nothing listens, and nothing may ask it
HOSTILE_QUESTIONS = [
    f'<img src={INJECTED}img.png onerror="console.log(\'PWNED img\');alert(1)"> Wer leitet Softbank?',
    f"<script src={INJECTED}s.js></script><script>console.log('PWNED script');alert(2)</script>",
    f"<svg onload=\"fetch('{INJECTED}svg')\"></svg><iframe src={INJECTED}frame></iframe>",
    f"<style>@import '{INJECTED}css';</style><link rel=stylesheet href={INJECTED}l.css>",
    f"<video><source src={INJECTED}v.mp4 onerror=\"console.log('PWNED video')\"></video> Was ist Elyza?",
    f"[klick](javascript:alert(3)) ![bild]({INJECTED}md.png) <a href=\"javascript:alert(4)\">a</a>",
    f"<object data={INJECTED}obj></object><embed src={INJECTED}emb><base href={INJECTED}>",
]


def test_injected_markup_runs_nothing_and_sends_no_request(page, ui_server) -> None:
    """Each hostile question is shown as typed; no script runs, no dialog opens, no console
    marker appears, and the browser sends no request to the injected URL."""
    requests: list[str] = []
    console: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: console.append(m.text))
    for question in HOSTILE_QUESTIONS:
        ask(page, question)
        assert page.locator("#chat .rag-user").last.inner_text() == question
    # Clicking around the rendered answers and views must not trigger anything either.
    page.locator("#chat .rag-user").last.click()
    page.get_by_role("tab", name="Article").click()
    page.get_by_role("tab", name="Sources").click()
    settle_requests(page)  # every request the clicks and renders started is recorded by now
    chat = page.locator("#chat .message-content")
    for tag in ("img", "script", "svg", "iframe", "style", "link", "video", "object", "embed", "base"):
        assert chat.locator(tag).count() == 0, tag
    assert page.locator("#chat a[href^='javascript']").count() == 0
    assert page.dialogs == []
    assert not [m for m in console if "PWNED" in m], console
    assert any("/gradio_api/" in u for u in requests)  # the recorder saw the page's own traffic
    assert not [u for u in requests if u.startswith(INJECTED) or u.startswith("javascript:")], requests


def test_overlong_and_unaskable_questions_in_the_chat(page) -> None:
    """The page says when a question was cut, shows one clear line for an unaskable one, and
    keeps working afterwards."""
    long_question = "Wer leitet den Technologieinvestor Softbank? " * 100
    ask(page, long_question)
    notice = last_answer(page).locator(".rag-notice")
    assert f"{len(long_question):,}" in notice.inner_text() and "2,000" in notice.inner_text()
    page.fill("#question textarea", "?!... 😀")
    page.click("#send")
    page.wait_for_function("document.querySelector('#chat').innerText.includes('with words in it')")
    ask(page, "Wer leitet den Technologieinvestor Softbank?")
    assert "Masayoshi Son" in last_answer(page).inner_text()


def test_screenshot_and_time_to_answer(page, ui_server, screenshots) -> None:
    """Median time from pressing "Ask" to the answer in the page, over 20 questions."""
    lines = (ROOT / "seeds" / "eval" / "article.jsonl").read_text("utf-8").splitlines()
    items = [json.loads(line) for line in lines if line.strip()]
    questions = [q["question"] for q in items if q["lang"] == "de"][:10]
    questions += [q["question"] for q in items if q["lang"] == "en"][:10]
    assert len(questions) == 20
    timings = []
    for question in questions:
        page.fill("#question textarea", question)
        timings.append(page.evaluate(TIMED_SEND))
        page.wait_for_function("document.querySelector('#question textarea').value === ''")
    median = statistics.median(timings)
    print(
        f"\nsubmit -> rendered answer in the browser, 20 questions: median {median:.0f} ms, "
        f"min {min(timings):.0f} ms, max {max(timings):.0f} ms"
    )
    assert median < 3000

    # A screenshot of a typical exchange for the README.
    page.click("#reset")
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length === 0")
    ask(page, "Wo hat Open AI sein erstes Auslandsbüro eröffnet?")
    ask(page, "Und wann war das?")
    page.get_by_role("tab", name="Article").click()
    page.locator("#chat .rag-answer").last.locator(".rag-cite-marker").first.hover()
    page.locator("#chat .rag-answer").last.locator(".rag-cite-pop").first.wait_for(state="visible")
    reports = screenshots
    page.screenshot(path=str(reports / "ui-screenshot.png"))
    if os.environ.get("RAG_UPDATE_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(reports / "ui-screenshot.png", ROOT / "docs" / "screenshot.png")


# --- a chat people keep open: examples, copy, export, reload, feedback, phone --------------------


def test_example_click_answers(page) -> None:
    page.locator("#chat").wait_for()
    page.get_by_text("Wer leitet den Technologieinvestor Softbank?", exact=True).first.click()
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length > 0", timeout=30000)
    assert "Masayoshi Son" in last_answer(page).inner_text()
    # Sources says which passages the answer used, with a legend instead of raw scores.
    sources = page.locator("#sources")
    assert "used in the answer [1]" in sources.inner_text()
    assert "not used" in sources.inner_text()
    assert "best first" in sources.locator(".rag-src-legend").inner_text()
    assert "0." not in sources.locator(".rag-src-head").first.inner_text()


def test_overview_question_is_answered(page) -> None:
    ask(page, "Worum geht es?")
    answer = last_answer(page)
    assert "rag-refusal" not in (answer.get_attribute("class") or "")
    assert "Japans Aufholjagd" in answer.inner_text() and "KI-Regulierung" in answer.inner_text()


def test_summary_requests_in_three_languages_get_the_overview(page) -> None:
    """Any phrasing of a summary request, in German, English and French: the overview, framed in
    the document's language (German for the bundled article), not a refusal or one sentence."""
    for question in ("Gib mir bitte eine kurze Zusammenfassung.", "Summarize the article in a few sentences.",
                     "De quoi parle le texte ?"):
        ask(page, question)
        answer = last_answer(page)
        assert "rag-refusal" not in (answer.get_attribute("class") or ""), question
        text = answer.inner_text()
        assert "Überblick über «Japans Aufholjagd" in text and "KI-Regulierung" in text, (question, text)
        assert "model cannot read" not in text, question


def test_copy_gives_plain_text_and_export_markdown(page, browser, ui_server) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui_server.url.rstrip("/"))
    ask(page, "Wer leitet den Technologieinvestor Softbank?")
    last_answer(page).hover()
    page.locator("#chat button[aria-label='Copy message']").last.click()
    page.wait_for_function("window.ragLastCopy !== undefined")
    copied = page.evaluate("window.ragLastCopy")
    clipboard = page.evaluate("navigator.clipboard.readText()")
    for text in (copied, clipboard):
        assert "<" not in text and "class=" not in text, text
        assert "Masayoshi Son" in text and "[1]" in text
        assert "Sources:" in text and "[1] Japans Aufholjagd" in text and "paragraph 2, sentence 1" in text
    with page.expect_download() as download:
        page.click("#export")
    markdown = Path(download.value.path()).read_text("utf-8")
    assert markdown.startswith("# Conversation")
    assert "**Question:** Wer leitet den Technologieinvestor Softbank?" in markdown
    assert "Masayoshi Son" in markdown and "<span" not in markdown


STORE_KEY = "rag-chat-conversations"  # ui.py's gr.BrowserState storage key
STORED = f"(localStorage.getItem({json.dumps(STORE_KEY)}) || '').length"


def test_reload_keeps_the_conversation_and_past_ones_reopen(page) -> None:
    question = "Wo hat Open AI sein erstes Auslandsbüro eröffnet?"
    empty = page.evaluate(STORED)
    ask(page, question)
    # The browser's local storage is written after the answer: wait until it holds at least the
    # answer's text more than before (the stored value is encrypted, so only its size shows).
    page.wait_for_function(f"{STORED} > {empty + 2 * len(question)}", timeout=30000)
    page.reload()
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length === 1", timeout=30000)
    assert "Tokio" in last_answer(page).inner_text()
    # The history came back too: a follow-up still resolves.
    ask(page, "Und wann war das?")
    assert "Im vergangenen Jahr" in last_answer(page).inner_text()
    # A new conversation starts empty; the old one is in the list and opens again.
    page.click("#reset")
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length === 0")
    ask(page, "Who is Yuko Harayama?")
    page.locator("#past").click()
    page.locator("#past-list input").click()
    page.get_by_role("option", name="Wo hat Open AI sein erstes Auslandsbüro eröffnet?").click()
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length === 2", timeout=30000)
    # Deleting it leaves only the other conversation.
    page.click("#delete")
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length === 0")
    page.locator("#past-list input").click()
    options = page.get_by_role("option").all_inner_texts()
    assert not any("Auslandsbüro" in o for o in options), options
    assert any("Yuko Harayama" in o for o in options), options


def test_why_follow_up_gives_the_reason(page) -> None:
    ask(page, "Wie gross ist das Marktpotenzial der Digitalisierung in Japan im Vergleich zu Deutschland?")
    first = last_answer(page).inner_text()
    assert "viermal so hohes Marktpotenzial" in first
    ask(page, "Und warum?")
    answer = last_answer(page)
    second = answer.inner_text()
    assert second != first
    # The reason sentence, cited; "Einen Grund dafür nennt der Text nicht." (a refusal) fails.
    assert "rag-refusal" not in (answer.get_attribute("class") or ""), second
    assert "Als Grund nennt der Text:" in second
    assert "Auch deshalb kämen so viele KI-Grössen aus den USA nach Japan." in second
    assert answer.locator(".rag-cite").count() == 1


def test_thumbs_down_writes_a_rag_eval_question(page, ui_server) -> None:
    from rag.eval.questions import load_questions

    index_dir = Path(ui_server.option("--index"))
    feedback = index_dir.resolve() / "feedback.jsonl"
    page.get_by_role("tab", name="About").click()
    assert str(feedback) in page.locator("#info").inner_text()
    before = len(feedback.read_text("utf-8").splitlines()) if feedback.exists() else 0
    ask(page, "Wer leitet den Technologieinvestor Softbank?")
    last_answer(page).hover()
    page.locator("#chat button[aria-label='Dislike']").last.click()
    panel = page.locator("#feedback-choice")
    panel.wait_for(state="visible")
    page.locator("#feedback-choice label").filter(has_text="Masayoshi Son").first.click()
    page.click("#feedback-save")
    panel.wait_for(state="hidden")
    lines = feedback.read_text("utf-8").splitlines()
    assert len(lines) == before + 1
    questions = load_questions(feedback)
    assert questions[-1].question == "Wer leitet den Technologieinvestor Softbank?"
    assert questions[-1].lang == "de"
    assert any("Masayoshi Son" in a for a in questions[-1].answers)
    # Thumbs up on an answer: its quoted sentences are kept as the right ones.
    last_answer(page).hover()
    page.locator("#chat button[aria-label='Like']").last.click()
    wait_until(lambda: len(feedback.read_text("utf-8").splitlines()) >= before + 2, "the thumbs-up line")
    assert len(load_questions(feedback)) == before + 2
    assert load_questions(feedback)[-1].question == "Wer leitet den Technologieinvestor Softbank?"


@pytest.fixture
def phone(browser, ui_server):
    with _chat_page(browser, ui_server.url, viewport={"width": 390, "height": 844}, is_mobile=True,
                    has_touch=True, device_scale_factor=2) as chat:
        yield chat


def _box(page, selector: str) -> dict:
    return page.locator(selector).first.evaluate(
        "e => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, "
        "right: r.right}; }"
    )


def test_phone_viewport(phone, screenshots) -> None:
    page = phone
    # The question box is in view from the start and after answers.
    box = _box(page, "#question textarea")
    assert 0 <= box["top"] and box["bottom"] <= 844, box
    ask(page, "Wer leitet den Technologieinvestor Softbank?")
    ask(page, "Welche vier Faktoren sprechen für Japan?")
    # The page scrolls the question box back into view after the answer: wait for it to get there.
    wait_inside(page, "#question textarea", 390, 844)
    box = _box(page, "#question textarea")
    assert 0 <= box["top"] and box["bottom"] <= 844, box
    # The citation pop-up stays inside the viewport and off the question box.
    marker = last_answer(page).locator(".rag-cite-marker").first
    marker.tap()
    pop = last_answer(page).locator(".rag-cite-pop").first
    pop.wait_for(state="visible")
    p = pop.evaluate(
        "e => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, "
        "right: r.right}; }")
    q = _box(page, "#question textarea")
    assert p["left"] >= 0 and p["right"] <= 390 and p["top"] >= 0 and p["bottom"] <= 844, p
    assert p["bottom"] <= q["top"] or p["top"] >= q["bottom"], (p, q)
    # The tabs are reachable: scrolled to and switched.
    tab = page.get_by_role("tab", name="Article")
    tab.scroll_into_view_if_needed()
    tab.tap()
    page.locator("#article mark.rag-hl").first.wait_for(state="visible")
    page.get_by_role("tab", name="Sources").tap()
    assert "used in the answer" in page.locator("#sources").inner_text()
    reports = screenshots
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#question textarea").scroll_into_view_if_needed()
    last_answer(page).locator(".rag-cite-marker").first.tap()
    wait_inside(page, last_answer(page).locator(".rag-cite-pop"), 390, 844)
    page.screenshot(path=str(reports / "ui-screenshot-phone.png"))
    if os.environ.get("RAG_UPDATE_SCREENSHOT"):
        shutil.copyfile(reports / "ui-screenshot-phone.png", ROOT / "docs" / "screenshot-phone.png")


# --- documents added and removed in the page (a server of its own: it changes its seeds) ---------

# Drops files on the upload area as a browser does for files dragged from the desktop.
DROP_FILES = """([selector, files]) => {
  const transfer = new DataTransfer();
  for (const f of files) transfer.items.add(new File([Uint8Array.from(atob(f.data), c => c.charCodeAt(0))],
                                                     f.name, {type: f.type}));
  const target = document.querySelector(selector);
  for (const type of ['dragenter', 'dragover', 'drop']) {
    target.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
  }
}"""


@pytest.fixture
def documents_page(browser, tmp_path):
    from conftest import serving_ui

    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    with serving_ui(tmp_path, seeds) as server, _chat_page(
        browser, server.url, viewport={"width": 1400, "height": 1000}
    ) as chat:
        yield chat, server


def _wait_for_status(page, text: str) -> str:
    page.wait_for_function(
        f"(document.querySelector('#doc-status') || {{}}).innerText?.includes({json.dumps(text)})",
        timeout=120000,
    )
    return page.locator("#doc-status").inner_text()


def test_upload_pdf_and_markdown_ask_with_page_citation_delete_and_ask_again(documents_page, tmp_path,
                                                                            screenshots):
    import base64

    from uploads import GARDEN_MD, PAGE_TWO_FACT, PAGE_TWO_QUESTION, make_pdf

    page, server = documents_page
    seeds = Path(server.option("--seeds"))
    assert "Ask about the article" in page.locator("#rag-intro").inner_text()
    page.get_by_role("tab", name="Documents").click()
    # The PDF through the file chooser, the Markdown file dropped on the upload area.
    pdf = make_pdf(tmp_path / "Nordby lighthouse.pdf")
    page.set_input_files("#upload input[type=file]", str(pdf))
    status = _wait_for_status(page, "The index was updated")
    assert "Added Nordby lighthouse.pdf as Nordby-lighthouse.pdf." in status
    garden = {"name": "garden.md", "type": "text/markdown",
              "data": base64.b64encode(GARDEN_MD.encode()).decode()}
    page.evaluate(DROP_FILES, ["#upload .upload-container", [garden]])
    status = _wait_for_status(page, "Added garden.md")
    assert "The index was updated" in status
    table = page.locator("#doc-table").inner_text()
    assert "Nordby Lighthouse Report" in table and "Garden notes" in table and "pdf" in table
    assert (seeds / "Nordby-lighthouse.pdf").is_file() and (seeds / "garden.md").is_file()
    assert "Ask about the 3 documents" in page.locator("#rag-intro").inner_text()
    reports = screenshots
    page.screenshot(path=str(reports / "ui-screenshot-documents.png"))
    if os.environ.get("RAG_UPDATE_SCREENSHOT"):
        shutil.copyfile(reports / "ui-screenshot-documents.png", ROOT / "docs" / "screenshot-documents.png")

    # A question only the PDF answers: cited with its page, shown in the Article view.
    ask(page, PAGE_TWO_QUESTION)
    answer = last_answer(page)
    assert PAGE_TWO_FACT in answer.inner_text()
    assert "Nordby Lighthouse Report" in answer.locator(".rag-footnotes").inner_text()
    assert "page 2," in answer.locator(".rag-footnotes").inner_text()
    page.get_by_role("tab", name="Article").click()
    assert PAGE_TWO_FACT in page.locator("#article mark.rag-hl").first.inner_text()
    page.screenshot(path=str(reports / "ui-screenshot-pdf-answer.png"))

    # Deleted in the document list: the same question is now refused.
    page.get_by_role("tab", name="Documents").click()
    page.locator("#doc-pick input").click()
    page.get_by_role("option", name="Nordby Lighthouse Report (Nordby-lighthouse.pdf)").click()
    page.click("#doc-delete")
    page.click("#doc-confirm-delete")  # Delete asks first
    _wait_for_status(page, "Removed \u201cNordby Lighthouse Report\u201d")
    assert "Nordby Lighthouse Report" not in page.locator("#doc-table").inner_text()
    assert not (seeds / "Nordby-lighthouse.pdf").exists()
    page.click("#reset")  # a new conversation: the question alone, as `rag ask` gets it
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length === 0")
    ask(page, PAGE_TWO_QUESTION)
    answer = last_answer(page)
    assert PAGE_TWO_FACT not in answer.inner_text() and "Nordby" not in answer.inner_text()
    assert "rag-refusal" in (answer.get_attribute("class") or ""), answer.inner_text()


def test_bad_upload_in_the_page_is_one_clear_message(documents_page, tmp_path) -> None:
    from uploads import make_pdf

    page, server = documents_page
    seeds = Path(server.option("--seeds"))
    before = sorted(p.name for p in seeds.iterdir())
    page.get_by_role("tab", name="Documents").click()
    secret = make_pdf(tmp_path / "secret.pdf", password="geheim")
    page.set_input_files("#upload input[type=file]", str(secret))
    expected = "Not added: secret.pdf is an encrypted (password-protected) PDF; save it without a password"
    _wait_for_status(page, "Not added")
    # The whole status, once Gradio's "processing | 0.3s" overlay has left it (on a busy machine
    # it is still part of the text when the message first appears).
    page.wait_for_function(
        f"(document.querySelector('#doc-status') || {{}}).innerText?.trim() === {json.dumps(expected)}",
        timeout=30000,
    )
    assert sorted(p.name for p in seeds.iterdir()) == before
    ask(page, "Wer leitet den Technologieinvestor Softbank?")  # still serving
    assert "Masayoshi Son" in last_answer(page).inner_text()


def test_high_low_and_refused_answers_look_different(browser, screenshots) -> None:
    """A "low" answer (the closest passage, which may not answer) is seen as such: an amber,
    dashed edge, the "≈" mark and its label, muted text; not like an answer, not like the
    refusal's grey "∅". Rendered from constructed answers with the page's own CSS (the answer
    model that sets "low" is built elsewhere; tests/app/test_surfaces.py forces one end to end)."""
    from rag.app.render import CSS, answer_html
    from rag.records import Answer, Citation, Document, Sentence

    text = "Der Chef heisst Masayoshi Son. Er investiert seit Jahren."
    doc = Document("doc", "Titel", "de", "doc.txt", text, "hash")
    sentence = Sentence(0, "doc", 1, 1, "Der Chef heisst Masayoshi Son.", 0, 30)
    cited = (Citation(1, sentence, 0.9, "Titel"),)
    answers = {
        "high": Answer("Wer?", f"Laut dem Text: {sentence.text} [1]", "de", cited, (), False),
        "low": Answer("Wie viele?", f"Der Text sagt das nicht direkt. Am nächsten kommt: {sentence.text} [1]",
                      "de", cited, (), False, confidence="low"),
        "none": Answer("Was?", "Dazu sagt der Text nichts.", "de", (), (), True),
    }
    body = "".join(f'<div id="{k}">{answer_html(a, {"doc": doc})}</div>' for k, a in answers.items())
    context = browser.new_context(viewport={"width": 900, "height": 600})
    try:
        page = context.new_page()
        page.set_content(f"<html><head><style>{CSS}</style></head><body>{body}</body></html>")
        style = "e => { const s = getComputedStyle(e); return [s.borderLeftStyle, s.borderLeftColor]; }"
        edge = {k: page.eval_on_selector(f"#{k} .rag-answer", style) for k in answers}
        assert edge["low"] == ["dashed", "rgb(217, 119, 6)"], edge  # amber
        assert edge["low"] != edge["none"] and edge["low"] != edge["high"], edge
        label = page.locator("#low .rag-low-label")
        assert label.is_visible() and label.inner_text().startswith("≈")
        assert "may not answer" in label.inner_text()
        assert page.locator("#high .rag-low-label").count() == 0
        assert page.locator("#none .rag-low-label").count() == 0 and "∅" in page.locator("#none").inner_text()
        assert "∅" not in page.locator("#low").inner_text()
        opacity = page.eval_on_selector("#low .rag-answer-text", "e => getComputedStyle(e).opacity")
        assert float(opacity) < 1
        page.screenshot(path=str(screenshots / "ui-screenshot-support-levels.png"))
    finally:
        context.close()


# --- the page itself, served with the fake encoder (tests/fake_ui.py: up in seconds) -----------


@pytest.fixture(scope="module")
def fake_server(tmp_path_factory):
    """ui.py over the bundled article with the fake encoder: what the page does, not what it answers."""
    from conftest import SEEDS, serving_ui

    work = tmp_path_factory.mktemp("fake-ui")
    (work / "seeds").mkdir()
    shutil.copy(SEEDS / "japan-ki-aufholjagd.txt", work / "seeds")
    with serving_ui(work, work / "seeds", fake_encoder=True) as server:
        yield server


@pytest.fixture
def fake_page(browser, fake_server):
    with _chat_page(browser, fake_server.url, viewport={"width": 1400, "height": 1000}) as chat:
        yield chat


DUPLICATE_IDS = """() => {
  const seen = {};
  for (const e of document.querySelectorAll('[id]')) if (e.id) seen[e.id] = (seen[e.id] || 0) + 1;
  return Object.entries(seen).filter(([, n]) => n > 1);
}"""


def test_element_ids_are_unique_with_the_feedback_panel_open(fake_page) -> None:
    page = fake_page
    assert page.evaluate(DUPLICATE_IDS) == []
    ask(page, "Wer leitet den Technologieinvestor Softbank?")
    page.locator("#chat button[aria-label='Dislike']").last.click()
    page.locator("#feedback-choice").wait_for(state="visible")
    assert page.locator("[id='feedback-panel']").count() == 1
    assert page.evaluate(DUPLICATE_IDS) == []


@pytest.fixture
def fake_documents_page(browser, tmp_path):
    """A fake-encoder server of its own (its seeds change) with two documents, and its page."""
    from conftest import SEEDS, serving_ui
    from uploads import GARDEN_MD

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEEDS / "japan-ki-aufholjagd.txt", seeds)
    (seeds / "garden.md").write_text(GARDEN_MD, "utf-8")
    with serving_ui(tmp_path, seeds, fake_encoder=True) as server, _chat_page(
        browser, server.url, viewport={"width": 1400, "height": 1000}
    ) as chat:
        yield chat, seeds


def _pick_document(page, name: str) -> None:
    page.locator("#doc-pick input").click()
    page.get_by_role("option", name=name).click()


def test_the_chat_searches_only_the_chosen_documents(fake_documents_page) -> None:
    """"Search only in": the question is asked of the chosen documents alone (the others
    withheld before ranking, as `rag ask --documents` and "documents" in POST /api/ask do); with
    nothing chosen, of every document."""
    page, _ = fake_documents_page
    picker = page.locator("#search-in")
    picker.wait_for(state="visible")  # two documents: there is something to choose
    picker.locator("input").click()
    page.get_by_role("option", name="Garden notes (garden.md)").click()
    page.keyboard.press("Escape")
    ask(page, "Wer leitet den Technologieinvestor Softbank?")
    only_garden = last_answer(page).inner_text()
    # Only the garden notes were searched: nothing of the Japan article is quoted or named.
    assert "Softbank" not in only_garden and "Japans Aufholjagd" not in only_garden
    assert "Garden notes" in only_garden or "gewählte" in only_garden, only_garden
    # Nothing chosen (the choice is taken off): every document is searched again.
    picker.locator("button.token-remove, .token-remove").first.click()
    page.wait_for_function(
        "document.querySelectorAll('#search-in .token').length === 0", timeout=10000)
    ask(page, "Wer leitet den Technologieinvestor Softbank?")
    assert "Japans Aufholjagd" in last_answer(page).inner_text()  # the article is cited again


def test_deleting_a_document_asks_first(fake_documents_page, screenshots) -> None:
    page, seeds = fake_documents_page
    page.get_by_role("tab", name="Documents").click()
    confirm = page.locator("#doc-confirm-delete")
    assert not confirm.is_visible()
    # "Delete" asks; nothing is gone yet. Cancel keeps the document.
    _pick_document(page, "Garden notes (garden.md)")
    page.click("#doc-delete")
    confirm.wait_for(state="visible")
    assert "Delete \u201cGarden notes\u201d (garden.md)?" in page.locator("#doc-status").inner_text()
    page.screenshot(path=str(screenshots / "ui-screenshot-confirm-delete.png"))
    # The Delete click's handler has answered (the question is shown): nothing was removed.
    assert (seeds / "garden.md").is_file() and "Garden notes" in page.locator("#doc-table").inner_text()
    page.click("#doc-cancel")
    confirm.wait_for(state="hidden")
    assert (seeds / "garden.md").is_file() and page.locator("#doc-status").inner_text().strip() == ""
    # Picking another document takes the question back too.
    page.click("#doc-delete")
    confirm.wait_for(state="visible")
    page.locator("#doc-pick input").click()
    page.get_by_role("option").first.click()
    confirm.wait_for(state="hidden")
    # Delete, then Confirm delete: gone.
    _pick_document(page, "Garden notes (garden.md)")
    page.click("#doc-delete")
    confirm.click()
    _wait_for_status(page, "Removed \u201cGarden notes\u201d")
    assert not (seeds / "garden.md").exists() and not confirm.is_visible()
    assert "Garden notes" not in page.locator("#doc-table").inner_text()
    # The last document: refused at once, nothing to confirm.
    page.locator("#doc-pick input").click()
    page.get_by_role("option").first.click()
    page.click("#doc-delete")
    _wait_for_status(page, "This is the only document")
    assert not confirm.is_visible() and (seeds / "japan-ki-aufholjagd.txt").is_file()
    assert page.dialogs == []  # no browser dialog either


def test_after_a_reload_the_sources_tab_shows_the_restored_answers_sources(fake_page) -> None:
    page = fake_page
    question = "Wer leitet den Technologieinvestor Softbank?"
    empty = page.evaluate(STORED)
    ask(page, question)
    page.get_by_role("tab", name="Sources").click()
    before = page.locator("#sources").inner_text()
    assert page.locator("#sources li.rag-src").count() > 0 and "used in the answer" in before
    # The browser's local storage is written after the answer: wait until it holds it.
    page.wait_for_function(f"{STORED} > {empty + 2 * len(question)}", timeout=30000)
    page.reload()
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length === 1", timeout=30000)
    page.get_by_role("tab", name="Sources").click()
    page.wait_for_function("document.querySelectorAll('#sources li.rag-src').length > 0", timeout=30000)
    assert page.locator("#sources").inner_text() == before


def _past_options(page, some: bool) -> list[str]:  # noqa: ANN001
    """The titles under *Past conversations* (``some``: wait until the list shows any)."""
    page.locator("#past-list input").click()
    if some:
        page.get_by_role("option").first.wait_for(state="visible")
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return options


def test_deleting_a_conversation_can_be_undone(fake_page) -> None:
    """"Delete this conversation" and the chat's own bin icon delete at once, and offer *Undo*,
    which brings the conversation back (in the list and on the page, and after a reload)."""
    page = fake_page
    question = "Wer leitet den Technologieinvestor Softbank?"
    empty = page.evaluate(STORED)
    ask(page, question)
    page.wait_for_function(f"{STORED} > {empty + 2 * len(question)}", timeout=30000)
    undo = page.locator("#conv-undo-button")
    assert not undo.is_visible()
    page.locator("#past").click()
    page.click("#delete")
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length === 0", timeout=30000)
    undo.wait_for(state="visible")
    assert f"Deleted \u201c{question}\u201d" in page.locator("#conv-undo").inner_text()
    assert not any(question in o for o in _past_options(page, some=False))
    undo.click()
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length === 1", timeout=30000)
    undo.wait_for(state="hidden")
    assert any(question in o for o in _past_options(page, some=True))
    # The chat's own bin icon deletes too, with the same way back.
    page.locator("#chat button[aria-label='Clear']").click()
    undo.wait_for(state="visible")
    undo.click()
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length === 1", timeout=30000)
    page.reload()  # what came back is stored again
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length === 1", timeout=30000)
    assert "Softbank" in page.locator("#chat .rag-user").first.inner_text()
    assert page.dialogs == []


@pytest.fixture
def fake_phone(browser, fake_server):
    with _chat_page(browser, fake_server.url, viewport={"width": 390, "height": 844}, is_mobile=True,
                    has_touch=True, device_scale_factor=2) as chat:
        yield chat


# Where the last answer's first line is: in the chat's scrolled box and in the window.
ANSWER_START = """() => {
  const answers = document.querySelectorAll('#chat .rag-answer');
  const last = answers[answers.length - 1];
  let box = last.parentElement;
  while (box && !(['auto', 'scroll'].includes(getComputedStyle(box).overflowY)
                  && box.scrollHeight > box.clientHeight)) box = box.parentElement;
  const a = last.getBoundingClientRect(), b = box.getBoundingClientRect();
  return {top: a.top, height: a.height, box_top: b.top, box_bottom: b.bottom, box_height: b.height,
          window: window.innerHeight};
}"""


def test_a_long_answer_on_a_phone_is_shown_from_its_start(fake_phone, screenshots) -> None:
    """A long answer (the overview, taller than the chat) is scrolled so that its first line is
    in view, in the chat's box and in the window; the question box stays in view too."""
    page = fake_phone
    ask(page, "Wer leitet den Technologieinvestor Softbank?")
    ask(page, "Worum geht es?")
    at = page.evaluate(ANSWER_START)
    assert at["height"] > at["box_height"], at  # a long answer: it cannot be seen whole
    page.wait_for_function(
        f"(() => {{ const a = ({ANSWER_START})(); return a.top >= a.box_top - 1 && a.top < a.box_top + 60 "
        "&& a.top >= 0 && a.top < a.window; })()", timeout=10000)
    wait_inside(page, "#question textarea", 390, 844)
    page.screenshot(path=str(screenshots / "ui-screenshot-phone-long-answer.png"))


# The width of each letter in a weight of the page's font when the browser falls back to two
# different fonts: the same in both only when the letter comes from the page's font itself.
GLYPHS_FROM_PAGE_FONT = """async ([weight, letters]) => {
  const text = document.querySelector('#chat .rag-answer') || document.body;
  const family = getComputedStyle(text).fontFamily.split(',')[0].trim();
  await document.fonts.load(`${weight} 40px ${family}`, letters);
  await document.fonts.ready;
  const ctx = document.createElement('canvas').getContext('2d');
  const width = (letter, fallback) => { ctx.font = `${weight} 40px ${family}, ${fallback}`;
                                        return ctx.measureText(letter).width; };
  const differs = (c) => Math.abs(width(c, 'monospace') - width(c, 'serif')) > 0.01;
  return {family, missing: [...letters].filter(differs)};
}"""


def test_bold_capitals_come_from_one_font(fake_page) -> None:
    """Semibold and bold text (a "USA" heading) takes every letter from the page's own font.
    Gradio's semibold Source Sans Pro file holds only "A", "B" and some Cyrillic letters, so
    "U" and "S" came from the fallback font, and the "A" looked lighter."""
    page = fake_page
    ask(page, "Wer leitet den Technologieinvestor Softbank?")
    letters = "USAJapnKIÜÄÖßusa0123"
    for weight in (400, 600, 700):
        found = page.evaluate(GLYPHS_FROM_PAGE_FONT, [weight, letters])
        assert "Source Sans Pro" in found["family"], found
        assert found["missing"] == [], (weight, found)
    # The source heading the reader sees: its computed weight is one the font has in full.
    heading = page.locator("#sources .rag-src-heading, #chat .rag-ctx-heading").first
    weight = int(heading.evaluate("e => getComputedStyle(e).fontWeight"))
    assert page.evaluate(GLYPHS_FROM_PAGE_FONT, [weight, "USA"])["missing"] == []


@pytest.fixture
def fake_pdf_page(browser, tmp_path):
    """A fake-encoder server over the article and a three-page PDF built here (fpdf2)."""
    from conftest import SEEDS, serving_ui
    from uploads import make_pdf

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEEDS / "japan-ki-aufholjagd.txt", seeds)
    make_pdf(seeds / "lighthouse.pdf")
    with serving_ui(tmp_path, seeds, fake_encoder=True) as server, _chat_page(
        browser, server.url, viewport={"width": 1400, "height": 1000}
    ) as chat:
        yield chat


def test_the_pdf_article_view_marks_page_breaks(fake_pdf_page) -> None:
    from uploads import LIGHTHOUSE_PAGES

    page = fake_pdf_page
    page.get_by_role("tab", name="Article").click()
    page.locator("#article-pick input").click()
    page.get_by_role("option", name="Nordby Lighthouse Report (lighthouse.pdf)").click()
    marks = page.locator("#article .rag-page-break")
    marks.first.wait_for(state="visible")
    assert marks.all_inner_texts() == ["Page 1 of 3", "Page 2 of 3", "Page 3 of 3"]
    # Each mark stands above its page's text and below the page before.
    tops = [marks.nth(i).evaluate("e => e.offsetTop") for i in range(3)]
    texts = [page.locator("#article p.rag-article-p", has_text=p[:30]).first.evaluate("e => e.offsetTop")
             for _, p in LIGHTHOUSE_PAGES]
    assert tops[0] < texts[0] < tops[1] < texts[1] < tops[2] < texts[2], (tops, texts)
