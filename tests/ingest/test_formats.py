"""Every format from a real file: titles, headings, sentences, offsets, pages, skip reasons."""

from __future__ import annotations

import re

import pytest

from rag.ingest import DocumentError, blocks_of, load_documents, sentences_of
from rag.ingest import loader as loader_module
from rag.ingest.files import load_document, scan_documents
from rag.records import Citation

from .formats import HTML, MARKDOWN, PDF_PAGES, make_docx, make_pdf


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def assert_words_in_order(words_: list[str], source: str) -> None:
    pos = 0
    for word in words_:
        found = source.find(word, pos)
        assert found >= 0, f"{word!r} not found in order in {source!r}"
        pos = found + len(word)


# --- Markdown -------------------------------------------------------------------------------


@pytest.fixture
def markdown_doc(tmp_path):
    path = tmp_path / "harbour.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    return load_document(path, tmp_path)


def test_markdown_title_headings_and_blocks(markdown_doc):
    assert markdown_doc.title == "The Harbour Report"
    assert markdown_doc.language == "en"
    blocks = blocks_of(markdown_doc)
    assert [b.text for b in blocks if b.is_heading] == ["The Harbour Report", "Money and ships"]
    texts = [b.text for b in blocks if not b.is_heading]
    assert texts[1] == "The port handled 4.2 million containers in 2023."
    assert texts[2] == "Its director is Maria Keller, who took office in May."
    assert not any("code blocks" in t for t in texts)
    assert texts[-1] == "A quoted sentence about the harbour."


def test_markdown_sentences_have_no_markup_and_map_to_the_source(markdown_doc):
    sentences = sentences_of(markdown_doc)
    texts = [s.text for s in sentences]
    assert "Intro paragraph with emphasis and a link to the site." in texts
    assert "Escaped *stars* and an & entity stay readable." in texts
    for s in sentences:
        assert not re.search(r"\*\*|\]\(|`|https?:", s.text), s.text
        source = markdown_doc.text[s.start : s.end]
        assert_words_in_order(words(s.text), source)
        assert s.text[0] == source[0] and s.text[-1] == source[-1]
        assert s.page is None
    director = next(s for s in sentences if s.text.startswith("Its director"))
    assert markdown_doc.text[director.start : director.end] == (
        "Its director is [Maria Keller](https://example.org/keller), who took office in May."
    )
    assert director.heading == "Money and ships"
    assert "page" not in Citation(1, director, 1.0).to_dict()


def test_markdown_entities_without_their_character_in_the_source_keep_the_offsets(tmp_path):
    """'©' and '—' appear nowhere in the source: each maps to where its entity starts."""
    path = tmp_path / "prices.md"
    path.write_text("&copy; Nordby Harbour 2024. Prices rose &mdash; a record.\n", encoding="utf-8")
    doc = load_document(path, tmp_path)
    sentences = sentences_of(doc)
    assert [s.text for s in sentences] == ["© Nordby Harbour 2024.", "Prices rose — a record."]
    assert [doc.text[s.start : s.end] for s in sentences] == [
        "&copy; Nordby Harbour 2024.", "Prices rose &mdash; a record.",
    ]


def test_markdown_text_after_an_image_or_inline_html_is_kept(tmp_path):
    """An image or inline HTML is left out of the sentence; the text after it stays, mapped to
    its place in the source."""
    path = tmp_path / "pier.md"
    path.write_text("The pier ![a map](map.png) opened in 1871. It has <b>two</b> cranes today.\n",
                    encoding="utf-8")
    doc = load_document(path, tmp_path)
    sentences = sentences_of(doc)
    assert [" ".join(s.text.split()) for s in sentences] == [
        "The pier opened in 1871.", "It has two cranes today."]
    assert doc.text[sentences[1].start : sentences[1].end] == "It has <b>two</b> cranes today."


def test_markdown_link_targets_are_stepped_over_even_when_they_repeat_the_text(tmp_path):
    """The text after a link also stands in the link's title: its offsets must still point past
    the link, for inline ``(url "title")`` and reference ``[ref]`` links alike."""
    path = tmp_path / "guide.md"
    guide = 'Read [the guide](https://example.org/guide "Note: the guide is short.") the guide is short.'
    road = 'See [the map][map] the map is old.'
    wiki = 'Open [the wiki](https://example.org/Fuji_(Berg) "Note: the wiki is big.") the wiki is big.'
    path.write_text(f'{guide}\n\n{road}\n\n{wiki}\n\n[map]: https://example.org/map "the map is old"\n',
                    "utf-8")
    doc = load_document(path, tmp_path)
    sentences = sentences_of(doc)
    assert [s.text for s in sentences] == [
        "Read the guide the guide is short.", "See the map the map is old.", "Open the wiki the wiki is big.",
    ]
    assert [doc.text[s.start : s.end] for s in sentences] == [guide, road, wiki]  # (nested) brackets too


def test_markdown_repeated_lines_of_one_paragraph_each_map_to_their_own_place(tmp_path):
    path = tmp_path / "regen.md"
    text = "# Wetter\n\nEs regnet.\nEs regnet heute.\nEs regnet.\n\nDann scheint die Sonne.\n"
    path.write_text(text, "utf-8")
    doc = load_document(path, tmp_path)
    sentences = sentences_of(doc)
    assert [(s.text, s.start) for s in sentences] == [
        ("Es regnet.", 10), ("Es regnet heute.", 21), ("Es regnet.", 38), ("Dann scheint die Sonne.", 50),
    ]
    assert all(doc.text[s.start : s.end] == s.text for s in sentences)


def test_markdown_without_blank_lines_reads_one_paragraph_per_line(tmp_path):
    path = tmp_path / "lines.md"
    path.write_text("Erster Absatz hier.\nZweiter Absatz dort.\n", encoding="utf-8")
    sentences = sentences_of(load_document(path, tmp_path))
    assert [(s.paragraph, s.text) for s in sentences] == [
        (1, "Erster Absatz hier."), (2, "Zweiter Absatz dort."),
    ]


# --- HTML -----------------------------------------------------------------------------------


def test_html_main_text_title_and_headings(tmp_path):
    path = tmp_path / "news.html"
    path.write_text(HTML, encoding="utf-8")
    doc = load_document(path, tmp_path)
    assert doc.title == "The harbour grows"
    assert doc.language == "en"
    assert "Sport" not in doc.text and "Copyright" not in doc.text
    headings = [b.text for b in blocks_of(doc) if b.is_heading]
    assert "New cranes" in headings
    sentences = sentences_of(doc)
    assert any(s.text.startswith("Six new cranes arrived from Shanghai") for s in sentences)
    assert sum("80 million euros" in s.text for s in sentences) == 1  # no repeated paragraphs
    for s in sentences:
        assert doc.text[s.start : s.end] == s.text
    cranes = next(s for s in sentences if s.text.startswith("Six new cranes"))
    assert cranes.heading == "New cranes"


def test_html_title_falls_back_to_title_tag(tmp_path):
    path = tmp_path / "plain.htm"
    path.write_text(HTML.replace('<meta property="og:title" content="The harbour grows">', ""), "utf-8")
    assert load_document(path, tmp_path).title == "Harbour news | Example Times"


# --- PDF ------------------------------------------------------------------------------------


def test_pdf_pages_title_headings_and_offsets(tmp_path):
    doc = load_document(make_pdf(tmp_path / "lighthouse.pdf"), tmp_path)
    assert doc.title == "The Nordby Lighthouse"
    assert doc.language == "en"
    assert len(doc.pages) == 3 and doc.pages[0] == 0
    starts = [doc.text[p : p + 13] for p in doc.pages]  # each page offset is where its text starts
    assert starts == ["Chapter One\n\n", "Chapter Two\n\n", "Chapter Three"]
    headings = [b.text for b in blocks_of(doc) if b.is_heading]
    assert headings == ["Chapter One", "Chapter Two", "Chapter Three"]
    sentences = sentences_of(doc)
    for s in sentences:
        assert doc.text[s.start : s.end] == s.text
        assert doc.pages[s.page - 1] <= s.start
    by_page = {s.page for s in sentences}
    assert by_page == {1, 2, 3}
    anna = next(s for s in sentences if s.text.startswith("The keeper Anna Berg"))
    assert anna.page == 2 and anna.heading == "Chapter Two"
    assert Citation(1, anna, 1.0, doc.title).to_dict()["page"] == 2
    auto = next(s for s in sentences if "automatic" in s.text)
    assert auto.page == 3


def test_pdf_without_title_metadata_is_named_after_the_file(tmp_path):
    doc = load_document(make_pdf(tmp_path / "nordby-light.pdf", title=None), tmp_path)
    assert doc.title == "Nordby light"


# --- DOCX -----------------------------------------------------------------------------------


def test_docx_headings_from_styles_title_and_table(tmp_path):
    doc = load_document(make_docx(tmp_path / "review.docx"), tmp_path)
    assert doc.title == "Annual Harbour Review"
    blocks = blocks_of(doc)
    assert [b.text for b in blocks if b.is_heading] == ["Annual Harbour Review", "Traffic", "Cranes"]
    sentences = sentences_of(doc)
    for s in sentences:
        assert doc.text[s.start : s.end] == s.text
    assert [s.text for s in sentences if s.heading == "Traffic"] == [
        "The port handled 4.2 million containers.", "That is a record.", "Ships came from 40 countries.",
    ]
    assert any("2023; 4.2 million" in s.text for s in sentences)


def test_docx_core_properties_title_wins(tmp_path):
    doc = load_document(make_docx(tmp_path / "review.docx", core_title="Review 2023"), tmp_path)
    assert doc.title == "Review 2023"


def _without_core_properties(path):
    """The Word file rewritten without docProps/core.xml, its relationship and content type
    (as some generators write them); python-docx then reports the title "Word Document"."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    del parts["docProps/core.xml"]
    parts["_rels/.rels"] = re.sub(rb"<Relationship [^>]*core-properties[^>]*/>", b"", parts["_rels/.rels"])
    parts["[Content_Types].xml"] = re.sub(rb'<Override PartName="/docProps/core.xml"[^>]*/>', b"",
                                          parts["[Content_Types].xml"])
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def test_a_word_file_without_document_properties_takes_its_title_paragraph_or_file_name(tmp_path):
    import docx

    path = _without_core_properties(make_docx(tmp_path / "review.docx"))
    assert docx.Document(str(path)).core_properties.title == "Word Document"  # the placeholder
    assert load_document(path, tmp_path).title == "Annual Harbour Review"  # its Title paragraph
    # a generator that saved python-docx's placeholder into the file: the same
    placeholder = make_docx(tmp_path / "placeholder.docx", core_title="Word Document")
    assert load_document(placeholder, tmp_path).title == "Annual Harbour Review"
    # no Title paragraph or heading either: the file name
    word = docx.Document()
    word.add_paragraph("The ferry leaves at noon.")
    word.save(str(tmp_path / "ferry_times.docx"))
    bare = _without_core_properties(tmp_path / "ferry_times.docx")
    assert load_document(bare, tmp_path).title == "Ferry times"


# --- language -------------------------------------------------------------------------------


def test_language_from_front_matter_else_identified(tmp_path):
    (tmp_path / "fr.txt").write_text(
        "Le port a traité un nombre record de conteneurs l'année dernière. "
        "La directrice prévoit une croissance continue.", "utf-8")
    (tmp_path / "forced.md").write_text("---\nlanguage: de\n---\nThis text is English.\n", "utf-8")
    docs = {d.doc_id: d for d in load_documents(tmp_path, on_skip=None)}
    assert docs["fr"].language == "fr"
    assert docs["forced"].language == "de"


# --- skipped files and their reasons --------------------------------------------------------


def test_unreadable_files_are_reported_with_reasons(tmp_path):
    (tmp_path / "good.md").write_text("# Good\n\nA readable document.\n", "utf-8")
    (tmp_path / "slides.odp").write_bytes(b"PK\x03\x04")
    make_pdf(tmp_path / "scan.pdf", text=False)
    make_pdf(tmp_path / "secret.pdf", password="s3cret")
    (tmp_path / "fake.pdf").write_text("This is only text pretending to be a PDF.", "utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage")
    make_docx(tmp_path / "actually-word.txt")
    reported: list[str] = []
    docs = load_documents(tmp_path, on_skip=reported.append)
    assert [d.doc_id for d in docs] == ["good"]
    names = {"slides.odp", "scan.pdf", "secret.pdf", "fake.pdf", "broken.pdf", "actually-word.txt"}
    assert len(reported) == len(names) and all(line.startswith("skipped: ") for line in reported)
    reasons = {name: line for line in reported for name in names if f"/{name}" in line}
    assert set(reasons) == names
    assert ".odp files are not supported" in reasons["slides.odp"]
    assert "no text layer" in reasons["scan.pdf"]
    assert "encrypted" in reasons["secret.pdf"]
    assert "is text, not a PDF" in reasons["fake.pdf"]
    assert "damaged PDF" in reasons["broken.pdf"] or "no text layer" in reasons["broken.pdf"]
    assert "Word (.docx) file, not text" in reasons["actually-word.txt"]


@pytest.mark.parametrize("name", ["empty.pdf", "empty.docx", "empty.txt", "blank.pdf"])
def test_an_empty_file_is_reported_as_empty_not_as_text(name, tmp_path):
    path = tmp_path / name
    path.write_bytes(b" \n" if name.startswith("blank") else b"")
    with pytest.raises(DocumentError) as caught:
        load_document(path, tmp_path)
    assert str(caught.value) == f"{path} is empty: there is nothing to read in it"


def test_encrypted_pdf_is_one_clear_error(tmp_path):
    with pytest.raises(DocumentError, match=r"secret\.pdf is an encrypted \(password-protected\) PDF"):
        load_document(make_pdf(tmp_path / "secret.pdf", password="pw"), tmp_path)


def test_size_page_and_character_limits(tmp_path, monkeypatch):
    path = make_pdf(tmp_path / "big.pdf")
    monkeypatch.setattr(loader_module, "MAX_FILE_BYTES", 100)
    with pytest.raises(DocumentError, match="too large"):
        load_document(path, tmp_path)
    monkeypatch.undo()
    monkeypatch.setattr("rag.ingest.pdf_loader.MAX_PDF_PAGES", 2)
    with pytest.raises(DocumentError, match="has 3 pages; the limit is 2"):
        load_document(path, tmp_path)
    monkeypatch.undo()
    monkeypatch.setattr(loader_module, "MAX_CHARS", 50)
    with pytest.raises(DocumentError, match="more than 50 characters"):
        load_document(path, tmp_path)
    (tmp_path / "long.txt").write_text("Word. " * 20, "utf-8")
    with pytest.raises(DocumentError, match="more than 50 characters"):
        load_document(tmp_path / "long.txt", tmp_path)


def test_a_file_over_the_size_limit_is_named_with_its_size_and_the_limit(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    path.write_bytes(b"Ein Satz. " * 360_000)  # 3.4 MB
    monkeypatch.setattr(loader_module, "MAX_FILE_BYTES", 3 * 2**20)
    with pytest.raises(DocumentError) as caught:
        load_document(path, tmp_path)
    assert str(caught.value) == f"{path} is too large (3.4 MB; the limit is 3 MB)"


def test_text_after_a_hash_heading_line_stays_and_a_short_last_line_is_no_heading(tmp_path):
    """A '#' line starts a section and the lines under it are its first paragraph; a short line
    at the very end, with nothing after it, is text, not a heading."""
    path = tmp_path / "hafen.txt"
    path.write_text("Der Hafen ist alt. Er hat zwei Kräne.\n\n# Geschichte\nDer Hafen wurde 1871 gebaut.\n\n"
                    "Vielen Dank an alle Leser\n", encoding="utf-8")
    blocks = [(b.text, b.is_heading) for b in blocks_of(load_document(path, tmp_path))]
    assert blocks == [
        ("Der Hafen ist alt. Er hat zwei Kräne.", False), ("Geschichte", True),
        ("Der Hafen wurde 1871 gebaut.", False), ("Vielen Dank an alle Leser", False),
    ]


def test_a_damaged_pdf_page_is_named_by_its_number_from_one(tmp_path, monkeypatch):
    """The message names the page a reader would look at: the second page is "page 2"."""
    from pypdf import PageObject

    path = make_pdf(tmp_path / "broken.pdf")
    real, calls = PageObject.extract_text, []

    def extract_text(page, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls.append(1)
        if len(calls) == 2:
            raise ValueError("broken content stream")
        return real(page, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", extract_text)
    with pytest.raises(DocumentError) as caught:
        load_document(path, tmp_path)
    assert f"{path}: page 2 is damaged and cannot be read (ValueError)" in str(caught.value)


def test_only_unreadable_files_is_an_error_naming_them(tmp_path):
    make_pdf(tmp_path / "scan.pdf", text=False)
    with pytest.raises(DocumentError, match="no readable documents.*scan.pdf.*no text layer"):
        load_documents(tmp_path, on_skip=None)
    docs, skipped = scan_documents(tmp_path)
    assert docs == [] and [s.path.name for s in skipped] == ["scan.pdf"]


def test_pdf_sentences_cover_the_text(tmp_path):
    doc = load_document(make_pdf(tmp_path / "l.pdf"), tmp_path)
    joined = " ".join(" ".join(s.text.split()) for s in sentences_of(doc))
    for _, paragraphs in PDF_PAGES:
        for paragraph in paragraphs:
            assert paragraph in joined


# --- one clear message for a bad file or name (mutants that survived `make mutants`) ------------


def test_a_damaged_word_file_is_one_error_naming_the_file(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "broken.docx", "w") as archive:  # a zip that claims to be Word
        archive.writestr("word/document.xml", "<w:document>cut off")
    # The exception's own type names the fault (python-docx misses a part of the package here).
    with pytest.raises(DocumentError, match=r"broken\.docx is a damaged Word file \(KeyError\)$"):
        load_document(tmp_path / "broken.docx", tmp_path)


def test_a_word_file_without_title_or_heading_is_named_after_the_file(tmp_path):
    import docx

    word = docx.Document()
    word.add_paragraph("The ferry leaves at noon. It returns at six.")
    word.save(str(tmp_path / "ferry_times.docx"))
    doc = load_document(tmp_path / "ferry_times.docx", tmp_path)
    assert doc.title == "Ferry times"
    assert [s.text for s in sentences_of(doc)] == ["The ferry leaves at noon.", "It returns at six."]


def test_a_name_that_matches_several_documents_is_one_error_listing_them(tmp_path):
    from rag.ingest.files import find_document

    (tmp_path / "report.md").write_text("# Report\n\nThe first one.\n", "utf-8")
    (tmp_path / "report.txt").write_text("The second one.\n", "utf-8")
    with pytest.raises(DocumentError, match=r"^'report' matches several documents "
                       r"\(report\.md, report\.txt\); name the file$"):
        find_document(tmp_path, "report")
    assert find_document(tmp_path, "report.txt") == tmp_path / "report.txt"


def test_a_word_file_that_unpacks_beyond_the_limit_is_refused_before_unpacking(tmp_path, monkeypatch):
    import zipfile

    path = make_docx(tmp_path / "harbour.docx")
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    monkeypatch.setattr("rag.ingest.docx_loader.MAX_UNPACKED_BYTES", unpacked)  # exactly at it: read
    assert load_document(path, tmp_path).title == "Annual Harbour Review"
    monkeypatch.setattr("rag.ingest.docx_loader.MAX_UNPACKED_BYTES", unpacked - 1)
    with pytest.raises(DocumentError, match=r"harbour\.docx unpacks to \d+ MB; the limit is \d+ MB$"):
        load_document(path, tmp_path)
    with zipfile.ZipFile(path, "a") as archive:  # a zip bomb: 8 MB of zeros in a few kilobytes
        archive.writestr("word/media/zeros.bin", b"\0" * (8 * 2**20), zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 2**20
    monkeypatch.setattr("rag.ingest.docx_loader.MAX_UNPACKED_BYTES", 4 * 2**20)
    total = round((unpacked + 8 * 2**20) / 2**20)
    with pytest.raises(DocumentError, match=rf"harbour\.docx unpacks to {total} MB; the limit is 4 MB$"):
        load_document(path, tmp_path)


def test_html_without_title_takes_its_first_heading_or_else_the_file_name(tmp_path):
    body = "<p>The ferry leaves at noon every day of the week.</p><p>It returns at six.</p>"
    (tmp_path / "ferry_times.html").write_text(f"<html><body><main>{body}</main></body></html>", "utf-8")
    assert load_document(tmp_path / "ferry_times.html", tmp_path).title == "Ferry times"
    headed = f"<html><body><main><h2>Timetable</h2>{body}<h2>Prices</h2></main></body></html>"
    (tmp_path / "headed.html").write_text(headed, "utf-8")
    assert load_document(tmp_path / "headed.html", tmp_path).title == "Timetable"


def test_a_pdf_heading_is_short_has_letters_and_no_closing_punctuation():
    from rag.config import IndexTuning
    from rag.ingest.extracted import heading_like as _heading_like

    MAX_HEADING_CHARS = IndexTuning.max_heading_chars

    assert _heading_like("Chapter Two") and _heading_like("A" * MAX_HEADING_CHARS)
    assert not _heading_like("A" * (MAX_HEADING_CHARS + 1))  # too long, even without a full stop
    assert not _heading_like("It rained.") and not _heading_like("Prices:")  # a sentence, a lead-in
    assert not _heading_like("2024 – 2025")  # no letter


def test_an_extracted_document_without_its_layout_falls_back_to_blank_line_paragraphs(tmp_path):
    from dataclasses import replace

    from rag.ingest.extracted import layout_blocks

    (tmp_path / "news.html").write_text(HTML, encoding="utf-8")
    doc = load_document(tmp_path / "news.html", tmp_path)
    bare = replace(doc, layout=())
    blocks = layout_blocks(bare)
    paragraphs = [p.strip() for p in doc.text.split("\n\n") if p.strip()]
    assert [b.text for b in blocks] == paragraphs and len(blocks) > 3
    assert all(doc.text[b.start : b.end] == b.text and not b.is_heading for b in blocks)


def test_html_meta_title_in_any_case_and_order_tables_kept(tmp_path):
    from rag.ingest.html_loader import _page_title

    assert _page_title('<META CONTENT="The Harbour &amp; Port" PROPERTY="og:title">') == "The Harbour & Port"
    assert _page_title("<meta property='og:title' content='Og first'><title>Tag</title>") == "Og first"
    assert _page_title("<TITLE>\n  Harbour news\n</TITLE>") == "Harbour news"
    assert _page_title("<meta property='og:title' content=' '><title>Tag</title>") == "Tag"  # blank: next
    assert _page_title("<p>No title</p>") == ""
    page = HTML.replace('<meta property="og:title" content="The harbour grows">',
                        '<META CONTENT="The Harbour Grows" PROPERTY="og:title">')
    page = page.replace("<title>Harbour news | Example Times</title>", "").replace("</article>", (
        "<table><tr><td>Cranes</td><td>Six</td></tr><tr><td>Ships in March</td><td>Forty</td></tr></table>"
        "</article>"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "News.html").write_text(page, "utf-8")
    doc = load_document(tmp_path / "sub" / "News.html", tmp_path)
    assert (doc.doc_id, doc.title) == ("sub/News", "The Harbour Grows")
    texts = [b.text for b in blocks_of(doc)]
    assert "Ships in March" in texts and "Forty" in texts  # tables are text too
    empty = "<html><head><title>Empty</title></head><body></body></html>"
    (tmp_path / "empty.html").write_text(empty, "utf-8")
    with pytest.raises(DocumentError, match=r"empty\.html has no main text that could be extracted$"):
        load_document(tmp_path / "empty.html", tmp_path)


def test_a_pdf_locked_with_an_empty_password_is_read_and_junk_titles_fall_back_to_the_name(tmp_path):
    """Many PDFs are encrypted with an empty user password only to restrict printing: readable."""
    from fpdf import FPDF
    from fpdf.enums import EncryptionMethod

    pdf = FPDF()
    pdf.set_title("Microsoft Word - Entwurf3.docx")  # what Word leaves behind: not a title
    pdf.set_encryption(owner_password="owner", user_password="", encryption_method=EncryptionMethod.RC4)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "The lighthouse of Nordby was built in 1871.")
    pdf.output(str(tmp_path / "nordby_light.pdf"))
    doc = load_document(tmp_path / "nordby_light.pdf", tmp_path)
    assert [s.text for s in sentences_of(doc)] == ["The lighthouse of Nordby was built in 1871."]
    assert doc.title == "Nordby light" and doc.pages == (0,)


def test_docx_title_style_wins_over_an_earlier_heading_and_merged_cells_count_once(tmp_path):
    import docx

    word = docx.Document()
    word.add_heading("Contents", level=1)
    word.add_paragraph("The Nordby  Harbour\tReview", style="Title")  # white space is normalised
    word.add_paragraph("The port handled 4.2 million containers.")
    table = word.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "Traffic by year"
    table.cell(1, 0).text, table.cell(1, 1).text, table.cell(1, 2).text = "2023", "4.2 million", "record"
    (tmp_path / "port").mkdir()
    word.save(str(tmp_path / "port" / "review.docx"))
    doc = load_document(tmp_path / "port" / "review.docx", tmp_path)
    assert (doc.doc_id, doc.title) == ("port/review", "The Nordby Harbour Review")
    rows = [b.text for b in blocks_of(doc) if "Traffic" in b.text or "2023" in b.text]
    assert rows == ["Traffic by year", "2023; 4.2 million; record"]


HARBOUR_REPORT = """<html><head><title>Harbour report</title></head><body><main><article>
<h1>Harbour report</h1>
<p>The harbour of Nordby handled forty ships in March, more than ever before in spring.</p>
<ul><li><p>Six new cranes arrived from Shanghai in the first week of March.</p></li>
<li><p>The old pier was closed for repairs until the end of the summer season.</p></li></ul>
<p></p>
<blockquote><p>We will need more space for the ships next year, said the harbour master.</p></blockquote>
<p>Opening hours:<br>Monday to Friday from eight to six.<br>Saturday from nine to noon.</p>
<h2>Costs</h2>
<p>The cranes cost 80 million euros, paid by the city and the state together.</p>
<p>The harbour of Nordby handled forty ships in March, more than ever before in spring.</p>
<p>The next report follows in June, with the figures of the second quarter.</p>
</article></main></body></html>"""


def test_html_blocks_keep_list_items_quotes_line_breaks_and_drop_repeats(tmp_path):
    """Every block after a nested paragraph, an empty one or a repeat is still read; a <br>
    is a line break (not words run together); a repeated paragraph is read once."""
    from rag.ingest.html_loader import extract_blocks

    title, blocks = extract_blocks(HARBOUR_REPORT)
    assert title == "Harbour report"
    assert blocks == [
        ("Harbour report", True),
        ("The harbour of Nordby handled forty ships in March, more than ever before in spring.", False),
        ("Six new cranes arrived from Shanghai in the first week of March.", False),
        ("The old pier was closed for repairs until the end of the summer season.", False),
        ("We will need more space for the ships next year, said the harbour master.", False),
        ("Opening hours:\nMonday to Friday from eight to six.\nSaturday from nine to noon.", False),
        ("Costs", True),
        ("The cranes cost 80 million euros, paid by the city and the state together.", False),
        ("The next report follows in June, with the figures of the second quarter.", False),
    ]
    (tmp_path / "report.html").write_text(HARBOUR_REPORT, "utf-8")
    doc = load_document(tmp_path / "report.html", tmp_path)
    assert "hours:Monday" not in doc.text and "six.Saturday" not in doc.text
    sentences = sentences_of(doc)
    assert all(doc.text[s.start : s.end] == s.text for s in sentences)
    assert sum("forty ships" in s.text for s in sentences) == 1


def test_markdown_sentences_wrapped_over_lines_keep_the_break_and_map_to_the_source(tmp_path):
    """A sentence wrapped onto the next line (a soft break, blank lines between paragraphs) is
    one sentence; its text keeps the line break at the source's own new line, and links and
    emphasis at a line's end are stepped over exactly."""
    source = ("# Nordby\n\nThe harbour of *Nordby*\nis very old. It has [a pier](https://x.org/p)\n"
              "and two [cranes][c].\n\nLast line.\n\n[c]: https://x.org/c\n")
    (tmp_path / "wrapped.md").write_text(source, "utf-8")
    doc = load_document(tmp_path / "wrapped.md", tmp_path)
    sentences = sentences_of(doc)
    assert [(s.text, s.start, s.end) for s in sentences] == [
        ("The harbour of Nordby\nis very old.", 10, 46),
        ("It has a pier\nand two cranes.", 47, 100),
        ("Last line.", 102, 112),
    ]
    assert doc.text[10:46] == "The harbour of *Nordby*\nis very old."
    assert doc.text[47:100] == "It has [a pier](https://x.org/p)\nand two [cranes][c]."


def test_a_word_title_in_a_style_named_titel_and_a_pdf_at_the_page_limit(tmp_path, monkeypatch):
    """German Word names the title style "Titel"; a PDF with exactly the page limit is read."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    word = docx.Document()
    word.styles.add_style("Titel", WD_STYLE_TYPE.PARAGRAPH)
    word.add_paragraph("Jahresbericht des Hafens", style="Titel")
    word.add_paragraph("Der Hafen wuchs stark. Es kamen viele Schiffe.")
    word.save(str(tmp_path / "bericht_2024.docx"))
    assert load_document(tmp_path / "bericht_2024.docx", tmp_path).title == "Jahresbericht des Hafens"

    monkeypatch.setattr("rag.ingest.pdf_loader.MAX_PDF_PAGES", 3)
    doc = load_document(make_pdf(tmp_path / "three.pdf"), tmp_path)
    assert len(doc.pages) == 3
