"""Markup in a question is dropped for searching only (the question is shown as typed)."""

from rag.query.clean import without_markup


def test_html_tags_and_markdown_links_are_dropped_for_search():
    assert without_markup("<b>Wer</b> leitet <i>Softbank</i>?") == "Wer leitet Softbank ?"
    assert without_markup("Was sagt [Dengel](http://x.example/a)?") == "Was sagt Dengel ?"
    assert without_markup("![bild](http://127.0.0.1:9/x.png) Wer ist Son?") == "bild Wer ist Son?"


def test_comparisons_are_not_tags_and_nothing_left_keeps_the_text():
    assert without_markup("Ist 1 < 2 > 0?") == "Ist 1 < 2 > 0?"
    assert without_markup("<img src=x onerror=alert(1)>") == "<img src=x onerror=alert(1)>"
