"""HTML for the chat: escaping, a sentence highlighted in its paragraph, sources, article."""

from __future__ import annotations

import re

import pytest

from rag.app.render import (
    CSS,
    answer_html,
    answer_plain,
    article_html,
    error_html,
    escape,
    sentence_in_context,
    sources_html,
    user_html,
)
from rag.records import Answer, Chunk, Citation, Document, Hit, Sentence

TEXT = (
    "Ein Teaser ohne Überschrift.\n"
    "Erste Überschrift\n"
    "Satz eins steht hier. Satz <zwei> mit ${x} & «Zitat».\n"
    "Zweite Überschrift\n"
    "Noch ein Absatz.\n"
)


def _doc(text: str = TEXT) -> Document:
    return Document("doc", "Titel <i>", "de", "doc.txt", text, "hash")


def _sentence(text: str, heading: str = "Erste Überschrift", paragraph: int = 2, n: int = 2) -> Sentence:
    start = TEXT.index(text)
    return Sentence(1, "doc", paragraph, n, text, start, start + len(text), heading)


def _answer(citations: tuple[Citation, ...], text: str, abstained: bool = False) -> Answer:
    sentence = citations[0].sentence if citations else _sentence("Satz eins steht hier.")
    chunk = Chunk(
        0, "doc", 2, (0, 1), "Satz eins steht hier.", sentence.start, sentence.end, "Erste Überschrift"
    )
    hits = (Hit(chunk, 0.91234, 0.5, 0.25, 1),)
    return Answer("Frage?", text, "de", citations, hits, abstained, {"total": 4.2})


def test_escape_neutralises_markup_and_template_syntax() -> None:
    out = escape('<img src=x onerror="alert(1)"> ${a} {{b}} `c` \'d\' &')
    assert "<" not in out and ">" not in out and '"' not in out and "'" not in out
    assert "$" not in out and "{" not in out and "}" not in out and "`" not in out
    assert "&amp;" in out


def test_user_message_is_shown_literally() -> None:
    html = user_html("<script>alert(1)</script> **fett** [link](http://x)")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "**fett**" in html  # no Markdown processing here; the chat has it switched off


def test_sentence_is_highlighted_inside_its_paragraph_with_its_heading() -> None:
    s = _sentence("Satz <zwei> mit ${x} & «Zitat».")
    html = sentence_in_context(_doc(), s.start, s.end)
    assert '<span class="rag-ctx-heading">Erste Überschrift</span>' in html
    assert "Satz eins steht hier." in html  # the rest of the paragraph is there
    mark = re.search(r'<mark class="rag-hl">(.*?)</mark>', html).group(1)
    assert mark == escape("Satz <zwei> mit ${x} & «Zitat».")
    assert "Noch ein Absatz" not in html  # only its own paragraph
    assert "Titel &lt;i&gt;" in html


def test_answer_markers_become_citations_with_context() -> None:
    s = _sentence("Satz eins steht hier.", n=1)
    citation = Citation(1, s, 0.87, "Titel")
    html = answer_html(_answer((citation,), "Laut dem Text: Satz eins steht hier. [1]"), {"doc": _doc()})
    assert 'class="rag-cite"' in html and 'tabindex="0"' in html
    assert "[1]" in html and "rag-cite-pop" in html
    assert '<mark class="rag-hl">Satz eins steht hier.</mark>' in html
    assert "paragraph 2, sentence 1" in html
    assert "rag-refusal" not in html


def test_markers_without_a_citation_stay_text() -> None:
    s = _sentence("Satz eins steht hier.", n=1)
    html = answer_html(_answer((Citation(1, s, 0.8),), "A [1] B [7]"), {"doc": _doc()})
    assert html.count('class="rag-cite"') == 1
    assert "B [7]" in html


def test_refusal_looks_different() -> None:
    html = answer_html(_answer((), "Dazu sagt der Text nichts.", abstained=True), {"doc": _doc()})
    assert "rag-refusal" in html
    assert "rag-cite" not in html
    assert "Dazu sagt der Text nichts." in html


def test_error_is_escaped() -> None:
    assert "<b>" not in error_html("<b>bad</b>")


def test_sources_list_scores_and_marks_cited_sentences() -> None:
    s = _sentence("Satz eins steht hier.", n=1)
    answer = _answer((Citation(1, s, 0.8),), "x [1]")
    html = sources_html(answer.hits, answer.citations)
    assert "score 0.912" in html and "dense 0.500" in html and "lexical 0.250" in html
    assert '<mark class="rag-hl">Satz eins steht hier.</mark>' in html
    assert "Erste Überschrift" in html
    assert "Ask a question" in sources_html([])


def test_article_view_has_whole_text_and_marks_cited_sentences() -> None:
    s = _sentence("Satz <zwei> mit ${x} & «Zitat».")
    html = article_html(_doc(), [Citation(2, s, 0.8)])
    assert html.count("<h3") == 2
    assert "Ein Teaser ohne Überschrift." in html and "Noch ein Absatz." in html
    assert f'<mark class="rag-hl">{escape(s.text)}</mark><sup class="rag-mark-label">[2]</sup>' in html
    assert "<zwei>" not in html and "${x}" not in html


@pytest.mark.parametrize("bad", ["<img src=x onerror=alert(1)>", "<script>x</script>", "${alert(1)}"])
def test_document_text_is_escaped_in_the_article(bad: str) -> None:
    text = f"Titel\nEin Absatz mit {bad} darin.\n"
    html = article_html(Document("d", "T", "de", "d.txt", text, "h"))
    assert bad not in html
    assert "<img" not in html and "<script" not in html


@pytest.mark.slow
def test_real_article_offsets(article_pipeline) -> None:
    """Every sentence of the bundled article is found inside a paragraph of its document."""
    docs = {d.doc_id: d for d in article_pipeline.index.documents}
    for s in article_pipeline.index.sentences:
        html = sentence_in_context(docs[s.doc_id], s.start, s.end)
        assert f'<mark class="rag-hl">{escape(s.text)}</mark>' in html
        if s.heading:
            assert escape(s.heading) in html



def _low_answer() -> Answer:
    citation = Citation(1, _sentence("Satz eins steht hier."), 0.4, "Titel")
    text = "Der Text sagt das nicht direkt. Am nächsten kommt: Satz eins steht hier. [1]"
    sentence = citation.sentence
    chunk = Chunk(0, "doc", 2, (0, 1), sentence.text, sentence.start, sentence.end, "Erste Überschrift")
    return Answer("Frage?", text, "de", (citation,), (Hit(chunk, 0.5, 0.5, 0.2, 1),), False,
                  {"total": 4.2}, confidence="low")


def test_a_low_answer_has_its_own_look_distinct_from_high_and_from_the_refusal() -> None:
    """Three levels of support, three looks: "low" is amber, marked "≈" with a short label."""
    low = answer_html(_low_answer(), {"doc": _doc()})
    citation = Citation(1, _sentence("Satz eins steht hier."), 0.9, "Titel")
    high = answer_html(_answer((citation,), "Laut dem Text: Satz eins steht hier. [1]"), {"doc": _doc()})
    refusal = answer_html(_answer((), "Dazu sagt der Text nichts.", abstained=True), {"doc": _doc()})
    assert 'class="rag-answer rag-low"' in low
    assert "≈" in low and "rag-low-label" in low and "may not answer" in low
    assert "rag-cite" in low  # still cited: the closest passage can be checked
    assert "rag-low" not in high and "≈" not in high
    assert "rag-refusal" not in low and "∅" not in low
    assert "rag-low" not in refusal and "≈" not in refusal
    assert ".rag-low {" in CSS and ".rag-low-label" in CSS


def test_a_low_answer_is_marked_in_the_copied_and_the_terminal_text() -> None:
    from rag.app.cli import format_answer

    low = _low_answer()
    plain = answer_plain(low)
    assert plain.splitlines()[0].startswith("≈ ")
    assert "Am nächsten kommt" in plain and "Sources:" in plain
    printed = format_answer(low)
    assert printed.splitlines()[0].startswith("≈ ") and "may not answer" in printed.splitlines()[0]
    citation = Citation(1, _sentence("Satz eins steht hier."), 0.9, "Titel")
    high = _answer((citation,), "Laut dem Text: Satz eins steht hier. [1]")
    assert "≈" not in answer_plain(high) and "≈" not in format_answer(high)
    refused = _answer((), "Dazu sagt der Text nichts.", abstained=True)
    assert "≈" not in answer_plain(refused) and "≈" not in format_answer(refused)


def test_sources_and_citations_name_their_document_and_page_and_a_title_heading_once() -> None:
    """With several documents each source names its document, and a PDF passage its page; a
    section headed by the document's own title is not shown as "X › X"; a cited title is called
    the title, not "paragraph 0, sentence 0"."""
    from rag.app.cli import format_answer

    text = "Bericht\nErster Satz auf Seite eins.\nZweiter Satz auf Seite zwei.\n"
    pdf = Document("bericht", "Bericht", "de", "bericht.pdf", text, "h", pages=(0, text.index("Zweiter")))
    other = _doc()
    start = text.index("Zweiter")
    sentence = Sentence(1, "bericht", 2, 1, "Zweiter Satz auf Seite zwei.", start, len(text) - 1, "Bericht",
                        page=2)
    chunk = Chunk(0, "bericht", 2, (1,), sentence.text, sentence.start, sentence.end, "Bericht")
    documents = {"bericht": pdf, "doc": other}
    html = sources_html([Hit(chunk, 1.0, 0.5, 0.5, 1)], (), documents)
    assert "Bericht, page 2, paragraph 2" in html
    assert 'rag-src-heading">Bericht<' not in html  # the heading that repeats the title: once
    alone = sources_html([Hit(chunk, 1.0, 0.5, 0.5, 1)], (), {"bericht": pdf})
    assert ">page 2, paragraph 2<" in alone  # one document: no need to name it

    citation = Citation(1, sentence, 0.9, "Bericht")
    title = Citation(2, Sentence(-1, "bericht", 0, 0, "Bericht", 0, 7, "", "heading"), 1.0, "Bericht")
    answer = Answer("Was?", "Laut dem Text: Zweiter Satz auf Seite zwei. [1] Bericht [2]", "de",
                    (citation, title), (), False)
    for shown in (answer_html(answer, documents), answer_plain(answer), format_answer(answer)):
        assert "Bericht, page 2, paragraph 2, sentence 1" in shown, shown
        assert "Bericht › Bericht" not in shown and "paragraph 0" not in shown, shown
        assert "Bericht, title" in shown, shown


def test_the_article_view_of_a_real_three_page_pdf_marks_where_each_page_starts(tmp_path) -> None:
    """A PDF built here (fpdf2, three pages) read by the PDF loader: the Article view has a mark
    before each page's first text, "Page 1 of 3" to "Page 3 of 3", in reading order."""
    import html as html_lib

    from uploads import LIGHTHOUSE_PAGES, make_pdf

    from rag.ingest.registry import loader_for

    path = make_pdf(tmp_path / "lighthouse.pdf")
    doc = loader_for(path).load(path, "lighthouse")
    assert len(doc.pages) == 3
    shown = html_lib.unescape(article_html(doc))
    marks = [shown.index(f"Page {n} of 3") for n in (1, 2, 3)]
    assert marks == sorted(marks) and shown.count('class="rag-page-break"') == 3
    for n, (heading, paragraph) in enumerate(LIGHTHOUSE_PAGES, start=1):
        at = shown.index(paragraph[:40])
        # The page's own text comes after its mark and before the next page's.
        assert marks[n - 1] < shown.index(heading) < at, heading
        assert n == 3 or at < marks[n], heading
    # A document without pages (plain text) has none.
    assert "rag-page-break" not in article_html(_doc())


def test_an_answer_without_a_search_lists_the_sentences_it_quotes_as_its_sources() -> None:
    """The overview is made without a search (no hits): its Sources are the sentences it quotes,
    each with its document when there are several, instead of "Ask a question ..."."""
    first = Document("a", "Erster Titel", "de", "a.txt", "Satz eins steht hier.", "h1")
    second = Document("b", "Second title", "en", "b.md", "Sentence two is here.", "h2")
    cited = (Citation(1, Sentence(0, "a", 1, 1, "Satz eins steht hier.", 0, 21), 0.0, "Erster Titel"),
             Citation(2, Sentence(1, "b", 1, 1, "Sentence two is here.", 0, 21), 0.0, "Second title"))
    html = sources_html([], cited, {"a": first, "b": second})
    assert "Ask a question" not in html and html.count('class="rag-src rag-src-is-used"') == 2
    assert "Erster Titel, paragraph 1" in html and "Second title, paragraph 1" in html
    titled = Citation(3, Sentence(2, "b", 0, 0, "Second title", 0, 12), 0.0, "Second title")
    assert "Second title, title<" in sources_html([], [titled], {"a": first, "b": second})
    assert '<mark class="rag-hl">Sentence two is here.</mark>' in html and "dense" not in html
