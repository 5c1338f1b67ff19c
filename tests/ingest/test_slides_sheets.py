"""Slides (.pptx) and sheets (.xlsx, .csv) from real files, and their hostile cousins."""

from __future__ import annotations

import zipfile

import pytest

from rag.ingest import DocumentError, blocks_of, load_documents, sentences_of
from rag.ingest.files import add_document, load_document
from rag.records import Citation

from .formats import CSV, make_pptx, make_xlsx

# --- PowerPoint -----------------------------------------------------------------------------


def test_pptx_slides_are_pages_with_titles_text_frames_tables_and_notes(tmp_path):
    doc = load_document(make_pptx(tmp_path / "ferry.pptx"), tmp_path)
    assert doc.title == "The Nordby Ferry"  # the first slide's title (no core title)
    assert doc.language == "en"
    assert len(doc.pages) == 4
    headings = [b.text for b in blocks_of(doc) if b.is_heading]
    assert headings == ["The Nordby Ferry", "Timetable", "The new ship", "Prices"]
    sentences = sentences_of(doc)
    assert all(doc.text[s.start : s.end] == s.text for s in sentences)
    by_text = {s.text: s for s in sentences}
    aurora = by_text["The new ferry Aurora carries 240 passengers and 60 cars."]
    assert (aurora.page, aurora.heading) == (3, "The new ship")
    captain = by_text["The captain of the Aurora is Liv Hansen."]  # speaker notes are read
    assert captain.page == 3
    assert by_text["It returns from Vik at six."].page == 2
    assert any(s.text == "Adult; 12 euros" and s.page == 4 for s in sentences)  # a table row
    cited = Citation(1, aurora, 1.0, doc.title).to_dict()
    assert cited["page"] == 3 and "row" not in cited


def test_pptx_core_title_wins_and_slide_limit(tmp_path, monkeypatch):
    path = make_pptx(tmp_path / "deck.pptx", core_title="Ferry plans 2025")
    assert load_document(path, tmp_path).title == "Ferry plans 2025"
    monkeypatch.setattr("rag.ingest.loader.MAX_SLIDES", 3)
    with pytest.raises(DocumentError, match=r"deck\.pptx has 4 slides; the limit is 3$"):
        load_document(path, tmp_path)


# --- Excel and CSV --------------------------------------------------------------------------


def test_xlsx_rows_are_sentences_of_header_value_pairs_citing_sheet_and_row(tmp_path):
    doc = load_document(make_xlsx(tmp_path / "staff.xlsx"), tmp_path)
    assert doc.title == "Staff"  # the file name
    sentences = sentences_of(doc)
    assert [(s.heading, s.row, s.text) for s in sentences] == [
        ("Staff", 2, "Name: Anna Berg; Role: keeper; Years of service: 32; Harbour: Nordby"),
        ("Staff", 3, "Name: Henrik Olsen; Role: engineer; Years of service: 4; Harbour: Vik"),
        ("Staff", 5, "Name: Liv Hansen; Role: captain; Years of service: 11"),
        ("Ships", 2, "Ship: Aurora; Passengers: 240"),
        ("Ships", 3, "Ship: Total"),  # the formula is never computed; it has no saved value
    ]
    assert all(doc.text[s.start : s.end] == s.text for s in sentences)
    assert all(s.page is None for s in sentences)
    cited = Citation(1, sentences[2], 1.0, doc.title).to_dict()
    assert (cited["sheet"], cited["row"]) == ("Staff", 5)


def test_a_long_row_with_full_stops_stays_one_sentence(tmp_path):
    rows = [["Topic", "Text"], ["History", "Built in 1871. Electrified in 1923. Automatic since 1989."]]
    doc = load_document(make_xlsx(tmp_path / "notes.xlsx", rows=rows), tmp_path)
    texts = [s.text for s in sentences_of(doc) if s.heading == "Staff"]
    assert texts == ["Topic: History; Text: Built in 1871. Electrified in 1923. Automatic since 1989."]


def test_csv_rows_with_semicolons_and_a_formula_cell_kept_as_text(tmp_path):
    (tmp_path / "staff.csv").write_text(CSV, "utf-8")
    doc = load_document(tmp_path / "staff.csv", tmp_path)
    sentences = sentences_of(doc)
    assert [(s.row, s.text) for s in sentences] == [
        (2, "Name: Anna Berg; Role: keeper; Note: Kept a diary of every storm; the museum holds it"),
        (3, 'Name: Henrik Olsen; Role: engineer; Note: =HYPERLINK("http://evil.example/x","click me")'),
    ]
    cited = Citation(1, sentences[1], 1.0).to_dict()
    assert cited["row"] == 3 and "sheet" not in cited


def test_sheet_cell_limit(tmp_path, monkeypatch):
    (tmp_path / "staff.csv").write_text(CSV, "utf-8")
    make_xlsx(tmp_path / "staff.xlsx")
    monkeypatch.setattr("rag.ingest.loader.MAX_SHEET_CELLS", 8)
    with pytest.raises(DocumentError, match=r"staff\.csv has more than 8 cells; the limit is 8$"):
        load_document(tmp_path / "staff.csv", tmp_path)
    with pytest.raises(DocumentError, match=r"staff\.xlsx has more than 8 cells"):
        load_document(tmp_path / "staff.xlsx", tmp_path)


# --- hostile files --------------------------------------------------------------------------


def _with_macros(source, target):
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            new.writestr(item, old.read(item.filename))
        new.writestr("ppt/vbaProject.bin" if target.suffix.startswith(".pp") else "xl/vbaProject.bin",
                     b"\xd0\xcf\x11\xe0 macro")
    return target


def test_macro_files_are_refused_by_ending_and_by_content(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.md").write_text("# Good\n\nA readable document.\n", "utf-8")
    _with_macros(make_pptx(tmp_path / "deck.pptx"), seeds / "deck.pptm")
    _with_macros(make_xlsx(tmp_path / "book.xlsx"), seeds / "book.xlsm")
    _with_macros(make_xlsx(tmp_path / "book2.xlsx"), seeds / "hidden.xlsx")  # macros, plain ending
    reported: list[str] = []
    docs = load_documents(seeds, on_skip=reported.append)
    assert [d.doc_id for d in docs] == ["good"]
    by_name = {name: line for line in reported for name in ("deck.pptm", "book.xlsm", "hidden.xlsx")
               if f"/{name}" in line}
    assert ".pptm files carry macros, which are never opened here; save it as .pptx" in by_name["deck.pptm"]
    assert ".xlsm files carry macros" in by_name["book.xlsm"]
    assert "holds macros (a VBA project), which are never opened here" in by_name["hidden.xlsx"]
    before = sorted(p.name for p in seeds.iterdir())
    with pytest.raises(DocumentError, match=r"^book\.xlsm: \.xlsm files carry macros"):
        add_document(seeds, seeds / "book.xlsm", name="book.xlsm")
    assert sorted(p.name for p in seeds.iterdir()) == before


def test_a_zip_bomb_named_xlsx_is_refused_before_unpacking(tmp_path, monkeypatch):
    path = make_xlsx(tmp_path / "bomb.xlsx")
    with zipfile.ZipFile(path, "a") as archive:  # 8 MB of zeros in a few kilobytes
        archive.writestr("xl/media/zeros.bin", b"\0" * (8 * 2**20), zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 2**20
    monkeypatch.setattr("rag.ingest.loader.MAX_UNPACKED_BYTES", 4 * 2**20)
    with pytest.raises(DocumentError, match=r"bomb\.xlsx unpacks to 8 MB; the limit is 4 MB$"):
        load_document(path, tmp_path)
    (tmp_path / "plain.xlsx").write_bytes(b"PK\x03\x04")  # a cut-off zip
    with pytest.raises(DocumentError, match=r"plain\.xlsx is a binary file, not an Excel \(\.xlsx\) file"):
        load_document(tmp_path / "plain.xlsx", tmp_path)


def test_a_zip_archive_or_a_word_file_named_pptx_is_refused(tmp_path):
    from .formats import make_docx

    make_docx(tmp_path / "word.pptx")
    with pytest.raises(DocumentError, match=r"word\.pptx is a Word \(\.docx\) file, not a PowerPoint"):
        load_document(tmp_path / "word.pptx", tmp_path)
    with zipfile.ZipFile(tmp_path / "other.xlsx", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(DocumentError, match=r"other\.xlsx is a zip archive, not an Excel \(\.xlsx\) file"):
        load_document(tmp_path / "other.xlsx", tmp_path)
