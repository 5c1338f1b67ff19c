"""Scanned PDFs and images read by OCR (Tesseract), from pages rendered here (rag/bench/scans.py:
Pillow text with specks and a slight rotation): text, pages, word boxes, the OCR language, empty
pages named, pixel bombs refused."""

from __future__ import annotations

import struct
import zlib

import pytest

from rag.bench.scans import (
    ENGLISH_PAGE,
    GERMAN_PAGES,
    character_accuracy,
    make_photo_png,
    make_scanned_pdf,
    page_texts,
    source_text,
)
from rag.ingest import DocumentError, load_documents, sentences_of
from rag.ingest.files import load_document
from rag.ingest.ocr import installed_languages

needs_tesseract = pytest.mark.skipif(
    not {"deu", "eng"} <= installed_languages(),
    reason="Tesseract with deu and eng (make ocr) is not installed",
)


@needs_tesseract
@pytest.mark.slow
def test_a_scanned_german_pdf_is_read_page_by_page_with_word_boxes(tmp_path):
    path = make_scanned_pdf(tmp_path / "faehre.pdf", blank_pages=1)
    reported: list[str] = []
    [doc] = load_documents(tmp_path, on_skip=reported.append)
    assert doc.language == "de" and len(doc.pages) == 3
    for text, page in zip(page_texts(doc), GERMAN_PAGES, strict=False):
        assert character_accuracy(text, source_text(*page)) > 0.95, text
    assert doc.notes == ("page 3 yielded no text (OCR found none: blank or unreadable)",)
    assert reported == [f"note: {path}: page 3 yielded no text (OCR found none: blank or unreadable)"]
    sentences = sentences_of(doc)
    painted = next(s for s in sentences if "1952" in s.text)
    assert painted.page == 2 and painted.heading == "Der Leuchtturm von Skarvik"
    words = [b for b in doc.boxes if painted.start <= b[0] < painted.end]
    assert [doc.text[b[0] : b[1]] for b in words][:4] == ["Der", "Leuchtturm", "von", "Skarvik"]
    assert all(b[2] == 2 and 0 <= b[3] < b[5] <= 1 and 0 <= b[4] < b[6] <= 1 for b in words)
    first, last = words[0], words[-1]
    assert first[4] < 0.3 and last[6] > first[6]  # near the top of the page, over two lines


@needs_tesseract
@pytest.mark.slow
def test_a_photo_like_png_is_read_in_english(tmp_path, monkeypatch):
    import rag.ingest.ocr as ocr

    used: list[str] = []
    original = ocr.read_image
    monkeypatch.setattr(ocr, "read_image",
                        lambda image, lang: used.append(lang) or original(image, lang))
    doc = load_document(make_photo_png(tmp_path / "notice.png"), tmp_path)
    assert doc.language == "en" and doc.pages == (0,) and doc.notes == ()
    assert character_accuracy(doc.text, source_text(*ENGLISH_PAGE)) > 0.95
    assert used == ["deu+eng", "eng"]  # the first read finds the language, then it is read in it
    tickets = next(s for s in sentences_of(doc) if s.text.startswith("Tickets cost"))
    assert tickets.page == 1


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\0"))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


def test_pixel_bombs_are_refused_before_they_are_decoded(tmp_path, monkeypatch):
    (tmp_path / "huge.png").write_bytes(_png_header(7000, 7000))  # 49 million pixels, a few bytes
    monkeypatch.setattr("rag.ingest.ocr.installed_languages", lambda: frozenset({"deu", "eng"}))
    with pytest.raises(DocumentError, match=r"huge\.png is 7,000 x 7,000 pixels \(49 million\); "
                                            r"the limit is 40 million$"):
        load_document(tmp_path / "huge.png", tmp_path)
    (tmp_path / "bomb.png").write_bytes(_png_header(100_000, 100_000))
    with pytest.raises(DocumentError, match=r"bomb\.png has more pixels than Pillow will open; "
                                            r"the limit is 40"):
        load_document(tmp_path / "bomb.png", tmp_path)

    from fpdf import FPDF

    pdf = FPDF(format=(5000, 5000))  # millimetres: a page of almost 200 x 200 inches, no text
    pdf.add_page()
    pdf.rect(10, 10, 100, 100, style="F")
    pdf.output(str(tmp_path / "poster.pdf"))
    with pytest.raises(DocumentError, match=r"poster\.pdf: page 1 is 197 x 197 inches, too large to read"):
        load_document(tmp_path / "poster.pdf", tmp_path)


def test_without_tesseract_a_scan_is_one_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr("rag.ingest.ocr.installed_languages", lambda: frozenset())
    make_scanned_pdf(tmp_path / "scan.pdf", pages=GERMAN_PAGES[:1])
    with pytest.raises(DocumentError, match=r"scan\.pdf has pages without a text layer \(a scan\); "
                       r"reading it needs Tesseract \(OCR\), which is not installed \(`make ocr`"):
        load_document(tmp_path / "scan.pdf", tmp_path)
    (tmp_path / "note.png").write_bytes(_png_header(10, 10))
    with pytest.raises(DocumentError, match=r"note\.png is an image of text; reading it needs Tesseract"):
        load_document(tmp_path / "note.png", tmp_path)


def test_a_text_named_png_is_refused_by_its_content(tmp_path):
    (tmp_path / "fake.png").write_text("only text", "utf-8")
    with pytest.raises(DocumentError, match=r"fake\.png is text, not an image \(PNG, JPEG or TIFF\)"):
        load_document(tmp_path / "fake.png", tmp_path)


@needs_tesseract
@pytest.mark.slow
def test_a_page_read_once_comes_from_the_cache_the_next_time(tmp_path, monkeypatch):
    import pytesseract

    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    path = make_photo_png(tmp_path / "notice.png")
    first = load_document(path, tmp_path)
    assert len(list((tmp_path / "cache" / "ocr").glob("*.json"))) == 2  # deu+eng, then eng

    def no_tesseract(*args, **kwargs):
        raise AssertionError("Tesseract ran again")

    monkeypatch.setattr(pytesseract, "image_to_data", no_tesseract)
    again = load_document(path, tmp_path)
    assert (again.text, again.boxes) == (first.text, first.boxes)
    monkeypatch.setenv("RAG_CACHE_DIR", "")  # off: Tesseract runs
    with pytest.raises(AssertionError, match="Tesseract ran again"):
        load_document(path, tmp_path)
