"""Seeds, front matter, headings, teaser and the German sentence split with offsets."""

from pathlib import Path

import pytest

from rag.ingest import DocumentError, load_documents, seed_files, seeds_fingerprint, sentences_of
from rag.ingest.files import load_document
from rag.ingest.text import parse_front_matter, split_blocks

HARD = (
    "Er habe sich auf Japan konzentriert, erklärte er im «Handelsblatt». «Dabei habe ich "
    "festgestellt, dass wir ähnliche Werte haben.» Er nennt Verlässlichkeit.\n"
    "Laut Dr. Müller kommen u. a. Firmen wie z. B. Sony am 3. Oktober 2040 zur G-7 nach Tokio. "
    "Der Anteil steigt von rund 10 auf über 20 Prozent.\n"
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sentence_ends_inside_guillemets_and_abbreviations_do_not_split(tmp_path):
    doc = load_document(write(tmp_path, "a.txt", HARD), tmp_path)
    texts = [s.text for s in sentences_of(doc)]
    assert texts == [
        "Er habe sich auf Japan konzentriert, erklärte er im «Handelsblatt».",
        "«Dabei habe ich festgestellt, dass wir ähnliche Werte haben.»",
        "Er nennt Verlässlichkeit.",
        "Laut Dr. Müller kommen u. a. Firmen wie z. B. Sony am 3. Oktober 2040 zur G-7 nach Tokio.",
        "Der Anteil steigt von rund 10 auf über 20 Prozent.",
    ]


def test_offsets_point_into_the_source_file_even_after_front_matter(tmp_path):
    text = "---\ntitle: Probe\nlanguage: de\n---\n" + HARD
    doc = load_document(write(tmp_path, "b.md", text), tmp_path)
    assert doc.title == "Probe" and doc.language == "de" and doc.body_start > 0
    for sentence in sentences_of(doc):
        assert text[sentence.start : sentence.end] == sentence.text


def test_headings_teaser_and_numbering(tmp_path):
    text = (
        "Japan will aufholen. Vier Gründe sprechen dafür.\n"
        "Erster Absatz mit Inhalt.\n"
        "Regulierung zwischen Europa und USA\n"
        "Zweiter Absatz. Mit zwei Sätzen.\n"
    )
    doc = load_document(write(tmp_path, "c.txt", text), tmp_path)
    blocks = split_blocks(doc)
    assert [b.is_heading for b in blocks] == [False, False, True, False]
    sentences = sentences_of(doc)
    assert [(s.paragraph, s.sentence, s.kind) for s in sentences] == [
        (1, 1, "teaser"), (1, 2, "teaser"), (2, 1, "body"), (3, 1, "body"), (3, 2, "body"),
    ]
    assert sentences[3].heading == "Regulierung zwischen Europa und USA"
    assert sentences[0].heading == ""


def test_blank_line_paragraphs_join_hard_wrapped_lines(tmp_path):
    text = "Ein Satz, der\numgebrochen ist.\n\nNeuer Absatz.\n"
    doc = load_document(write(tmp_path, "d.txt", text), tmp_path)
    sentences = sentences_of(doc)
    assert [s.paragraph for s in sentences] == [1, 2]
    assert sentences[0].text == "Ein Satz, der\numgebrochen ist."


def test_bundled_article_is_split_with_its_quirks():
    docs = load_documents(Path(__file__).resolve().parents[2] / "seeds")
    assert docs, "the bundled article must be in seeds/"
    article = next(d for d in docs if d.language == "de")
    sentences = sentences_of(article)
    texts = [s.text for s in sentences]
    assert "«Dabei habe ich festgestellt, dass wir ähnliche Werte haben.»" in texts
    assert any(t.startswith("Er nennt Verlässlichkeit") for t in texts)
    assert sentences[0].kind == "teaser"
    headings = {s.heading for s in sentences}
    assert "KI-Regulierung zwischen Europa und USA" in headings
    for s in sentences:
        assert article.text[s.start : s.end] == s.text


def test_seed_files_take_every_document_but_not_question_sets(tmp_path):
    write(tmp_path, "one.txt", "Eins. Zwei.")
    write(tmp_path, "two.md", "Drei.")
    (tmp_path / "eval").mkdir()
    write(tmp_path / "eval", "questions.txt", "not a document")
    write(tmp_path, "notes.json", "{}")
    assert [p.name for p in seed_files(tmp_path)] == ["one.txt", "two.md"]
    assert [d.doc_id for d in load_documents(tmp_path)] == ["one", "two"]


def test_fingerprint_changes_with_content_and_names(tmp_path):
    write(tmp_path, "one.txt", "Eins.")
    before = seeds_fingerprint(tmp_path)
    write(tmp_path, "one.txt", "Eins!")
    changed = seeds_fingerprint(tmp_path)
    write(tmp_path, "two.txt", "Zwei.")
    assert len({before, changed, seeds_fingerprint(tmp_path)}) == 3


def test_bad_seeds_give_clear_errors(tmp_path):
    with pytest.raises(DocumentError, match="no readable documents"):
        load_documents(tmp_path)
    (tmp_path / "latin1.txt").write_bytes("Gr\xf6sse".encode("latin-1"))
    with pytest.raises(DocumentError, match="not UTF-8"):
        load_documents(tmp_path)
    with pytest.raises(DocumentError, match="not found"):
        load_documents(tmp_path / "missing")


def test_front_matter_parsing():
    head = "---\ntitle: T: x\nlanguage: en\n---\n"
    meta, start = parse_front_matter(head + "Body")
    assert meta == {"title": "T: x", "language": "en"} and start == len(head)
    assert parse_front_matter("No front matter") == ({}, 0)


def test_each_skipped_file_is_one_line_on_stderr_and_its_reason_without_the_name(tmp_path, capsys):
    from rag.ingest.files import scan_documents

    (tmp_path / "good.txt").write_text("Ein Satz hier.\n", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Gr\xf6sse".encode("latin-1"))
    (tmp_path / "empty.md").write_text("   \n", encoding="utf-8")
    documents, skipped = scan_documents(tmp_path)
    assert [d.doc_id for d in documents] == ["good"]
    assert [(s.path.name, s.reason) for s in skipped] == [
        ("empty.md", "has no text"),
        ("latin1.txt", "is not UTF-8 text (byte 2); save it as UTF-8 and try again"),
    ]
    assert [s.message for s in skipped] == [f"{s.path} {s.reason}" for s in skipped]

    assert [d.doc_id for d in load_documents(tmp_path)] == ["good"]  # the default reports to stderr
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines() == [f"skipped: {s.path} {s.reason}" for s in skipped]
