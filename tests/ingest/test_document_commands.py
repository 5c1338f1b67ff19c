"""`rag list`, `rag add`, `rag remove` in-process, with the fake encoder for the rebuilds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.app.cli import main
from rag.ingest.files import safe_file_name

from .formats import MARKDOWN, make_pdf


@pytest.fixture
def corpus(tmp_path, monkeypatch, fake_encoder):
    monkeypatch.setattr("rag.index.encoders.build_encoder", lambda *a, **k: fake_encoder)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "harbour.md").write_text(MARKDOWN, encoding="utf-8")
    return seeds, ["--seeds", str(seeds), "--index", str(tmp_path / "index")]


def manifest_ids(tmp_path):
    from rag.index.store import read_manifest

    return sorted(d["doc_id"] for d in read_manifest(tmp_path / "index")["documents"])


def test_list_as_table_and_json(corpus, capsys):
    seeds, common = corpus
    make_pdf(seeds / "lighthouse.pdf")
    (seeds / "notes.xyz").write_text("x", "utf-8")
    assert main(["list", *common]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["document", "format", "lang", "sentences", "pages", "title"]
    assert any(line.startswith("lighthouse") and "The Nordby Lighthouse" in line for line in lines)
    assert "skipped" in err and "notes.xyz" in err and "not supported" in err

    assert main(["list", *common, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    docs = {d["doc_id"]: d for d in data["documents"]}
    assert docs["lighthouse"]["format"] == "pdf" and docs["lighthouse"]["pages"] == 3
    assert (docs["harbour"]["title"], docs["harbour"]["language"], docs["harbour"]["format"]) == (
        "The Harbour Report", "en", "md")
    assert docs["harbour"]["sentences"] > 5
    assert data["skipped"][0]["path"].endswith("notes.xyz")


def test_add_copies_with_a_safe_name_refuses_duplicates_and_rebuilds(corpus, tmp_path, capsys):
    seeds, common = corpus
    upload = make_pdf(tmp_path / "Nordby Leuchtturm (Entwurf).PDF")
    assert main(["add", *common, str(upload)]) == 0
    assert (seeds / "Nordby-Leuchtturm-Entwurf.pdf").is_file()
    assert "Index built" in capsys.readouterr().err
    assert manifest_ids(tmp_path) == ["Nordby-Leuchtturm-Entwurf", "harbour"]

    copy = tmp_path / "same-bytes.pdf"
    copy.write_bytes(upload.read_bytes())
    assert main(["add", *common, str(copy)]) == 2
    assert "already in the seeds folder as Nordby-Leuchtturm-Entwurf.pdf" in capsys.readouterr().err

    (tmp_path / "notes.odt").write_bytes(b"PK\x03\x04")
    assert main(["add", *common, str(tmp_path / "notes.odt")]) == 2
    assert "not supported" in capsys.readouterr().err
    fake = tmp_path / "fake.pdf"
    fake.write_text("just text", "utf-8")
    assert main(["add", *common, str(fake)]) == 2
    assert "is text, not a PDF" in capsys.readouterr().err
    assert sorted(p.name for p in seeds.iterdir()) == ["Nordby-Leuchtturm-Entwurf.pdf", "harbour.md"]


def test_remove_deletes_and_rebuilds(corpus, tmp_path, capsys):
    seeds, common = corpus
    make_pdf(seeds / "lighthouse.pdf")
    assert main(["index", *common]) == 0
    assert manifest_ids(tmp_path) == ["harbour", "lighthouse"]
    assert main(["remove", *common, "lighthouse"]) == 0
    assert not (seeds / "lighthouse.pdf").exists()
    assert "Rebuilding the index: the documents changed" in capsys.readouterr().err
    assert manifest_ids(tmp_path) == ["harbour"]
    assert main(["remove", *common, "nothing-here"]) == 2
    assert "no document 'nothing-here'" in capsys.readouterr().err
    # The last document stays, as in the page: with none left nothing could be asked.
    assert main(["remove", *common, "harbour"]) == 2
    assert "only document" in capsys.readouterr().err
    assert manifest_ids(tmp_path) == ["harbour"] and any(seeds.glob("harbour.*"))


def test_safe_file_names():
    assert safe_file_name("Mein Bericht (2024).PDF") == "Mein-Bericht-2024.pdf"
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name(".hidden.md") == "hidden.md"
    assert safe_file_name("Größe über.docx") == "Grosse-uber.docx"
    assert safe_file_name("a - b.txt") == "a-b.txt"  # runs of separators become one hyphen
    assert safe_file_name("__x__.md") == safe_file_name("-.x-.md") == "x.md"  # none at either end
    assert safe_file_name("(((.pdf") == "document.pdf"  # nothing usable left of the name
    assert safe_file_name("x.Pd$f") == "x.pdf"  # the ending: lower case, letters and digits only
    assert safe_file_name("report.tar.GZ") == "report.tar.gz"
    assert safe_file_name("A" * 200 + ".md") == "A" * 120 + ".md"  # the name part is cut at 120
    assert safe_file_name("..\\..\\evil.md") == "evil.md"  # Windows-style folders too


def test_add_under_a_taken_name_appends_a_number_and_overwrites_nothing(tmp_path):
    from rag.ingest.files import add_document

    seeds = tmp_path / "seeds"
    added = []
    for n in range(1, 5):
        upload = tmp_path / f"upload{n}" / "Notes (final).TXT"
        upload.parent.mkdir()
        upload.write_text(f"Version {n} of the notes.\n", encoding="utf-8")
        added.append(add_document(seeds, upload))
    names = ["Notes-final.txt", "Notes-final-2.txt", "Notes-final-3.txt", "Notes-final-4.txt"]
    assert [p.name for p in added] == names and all(p.parent == seeds for p in added)
    assert sorted(p.name for p in seeds.iterdir()) == sorted(names)  # no temporary file left
    assert [p.read_text("utf-8") for p in added] == [f"Version {n} of the notes.\n" for n in range(1, 5)]


def test_add_says_in_one_line_why_a_file_cannot_be_added(tmp_path, monkeypatch):
    """Each refusal names the file as the user gave it and says why; a file exactly at the size
    limit is accepted; a seeds folder that does not exist yet is made, parents included."""
    from pathlib import Path

    import pytest

    from rag.ingest import DocumentError
    from rag.ingest.files import add_document

    seeds = tmp_path / "new" / "seeds"
    folder = tmp_path / "a folder.txt"
    folder.mkdir()
    with pytest.raises(DocumentError, match=r"^my upload is not a file$"):
        add_document(seeds, folder, name="my upload")
    bare = tmp_path / "README"
    bare.write_text("Notes.\n", encoding="utf-8")
    no_ending = r"^README: files without an ending are not supported \(supported: "
    with pytest.raises(DocumentError, match=no_ending):
        add_document(seeds, bare, name="README")
    slides = tmp_path / "slides.odp"
    slides.write_bytes(b"PK\x03\x04")
    with pytest.raises(DocumentError, match=r"^slides\.odp: \.odp files are not supported \(supported: "):
        add_document(seeds, slides, name="slides.odp")

    notes = tmp_path / "notes.txt"
    notes.write_text("Der Hafen von Nordby wurde 1871 gebaut.\n", encoding="utf-8")
    real_read = Path.read_bytes

    def unreadable(path: Path) -> bytes:
        if path == notes:
            raise PermissionError(13, "Permission denied")
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", unreadable)
    with pytest.raises(DocumentError, match=r"^cannot read notes\.txt: Permission denied$"):
        add_document(seeds, notes, name="notes.txt")
    monkeypatch.undo()

    added = add_document(seeds, notes, max_bytes=notes.stat().st_size)  # at the limit: accepted
    assert added == seeds / "notes.txt" and added.read_bytes() == notes.read_bytes()
    assert sorted(p.name for p in seeds.iterdir()) == ["notes.txt"]  # no temporary file left


def test_a_failed_write_reports_its_own_error_and_leaves_nothing(tmp_path, monkeypatch):
    """When the copy into the seeds folder cannot be written (a full disk), that error reaches
    the caller, not a FileNotFoundError from removing the temporary file that never came to be
    (a surviving mutant of add_document: ``missing_ok`` in the clean-up)."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    upload = tmp_path / "notes.txt"
    upload.write_text("Ein kurzer Text mit einem Satz.\n", encoding="utf-8")
    real_write = Path.write_bytes

    def write_bytes(self, data):  # noqa: ANN001, ANN202
        if self.parent == seeds:  # the temporary copy in the seeds folder, not the probe
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    from rag.ingest.files import add_document

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    with pytest.raises(OSError, match="No space left") as raised:
        add_document(seeds, upload)
    assert not isinstance(raised.value, FileNotFoundError)
    assert list(seeds.iterdir()) == []
