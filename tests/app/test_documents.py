"""Adding and removing documents as the chat does (rag/app/documents.py): bad uploads each get
one clear message and change nothing; a rebuild swaps the live pipeline while questions asked
meanwhile are answered by the old one. The fake encoder builds the indexes (fast logic tests);
tests/app/test_documents_server.py does the same over HTTP with the real model."""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path

import pytest
from uploads import (
    BAD_UPLOAD_MESSAGES,
    GARDEN_MD,
    PAGE_TWO_FACT,
    PAGE_TWO_QUESTION,
    make_bad_uploads,
    make_pdf,
)

from rag.app.documents import DocumentDesk, LivePipeline, add_files

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = "japan-ki-aufholjagd"


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def seeds(tmp_path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", target)
    return target


@pytest.fixture
def desk(tmp_path, seeds, fake_encoder):
    from rag.config import Settings
    from rag.pipeline import Pipeline

    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    pipeline = Pipeline.open(settings, encoder=fake_encoder, progress=False, on_status=lambda m: None)
    return DocumentDesk(LivePipeline(pipeline, threading.Lock()))


@pytest.mark.parametrize("kind", sorted(BAD_UPLOAD_MESSAGES))
def test_each_bad_upload_is_refused_with_its_reason_and_changes_nothing(kind, tmp_path, seeds) -> None:
    bad = make_bad_uploads(tmp_path / "uploads")[kind]
    before = _snapshot(seeds)
    [result] = add_files(seeds, [(bad, bad.name)])
    assert result.status == "refused"
    assert result.message.startswith(f"Not added: {bad.name}")
    assert BAD_UPLOAD_MESSAGES[kind] in result.message
    assert str(tmp_path) not in result.message  # the server's folders are nobody's business
    assert _snapshot(seeds) == before


def test_oversize_upload_is_refused_before_it_is_read(tmp_path, seeds) -> None:
    big = tmp_path / "big.txt"
    big.write_text("Ein Satz über den Hafen. " * 60_000, "utf-8")  # 1.5 MB
    before = _snapshot(seeds)
    [result] = add_files(seeds, [(big, "big.txt")], max_bytes=2**20)
    assert result.status == "refused"
    size = big.stat().st_size / 2**20
    assert f"big.txt is too large ({size:.1f} MB; the limit is 1 MB)" in result.message
    assert _snapshot(seeds) == before


@pytest.mark.parametrize("name", [
    "../../evil.md", "..\\..\\evil.md", "/etc/evil.md", "sub/../../evil.md", "....//evil.md",
])
def test_path_traversal_names_land_inside_the_seeds_folder(name, tmp_path, seeds) -> None:
    source = tmp_path / "upload.md"
    source.write_text(GARDEN_MD, "utf-8")
    [result] = add_files(seeds, [(source, name)])
    assert result.status == "added", result.message
    assert result.path is not None and result.path.parent == seeds
    assert result.path.suffix == ".md" and ".." not in result.path.name and "\\" not in result.path.name
    assert not (tmp_path / "evil.md").exists() and not (seeds.parent / "evil.md").exists()


def test_duplicate_content_is_recognised_and_names_the_document_it_repeats(tmp_path, seeds) -> None:
    copy = tmp_path / "my-copy.txt"
    copy.write_bytes((seeds / f"{ARTICLE}.txt").read_bytes())
    before = _snapshot(seeds)
    [result] = add_files(seeds, [(copy, copy.name)], titles={ARTICLE: "Japans Aufholjagd"})
    assert result.status == "duplicate" and result.path == seeds / f"{ARTICLE}.txt"
    assert result.message == (f"my-copy.txt is already here: it has the same content as \u201cJapans "
                              f"Aufholjagd\u201d ({ARTICLE}.txt). Not added again.")
    assert _snapshot(seeds) == before


def test_same_name_other_content_never_overwrites(tmp_path, seeds) -> None:
    first, second = tmp_path / "a" / "notes.md", tmp_path / "b" / "notes.md"
    for path, text in [(first, GARDEN_MD), (second, GARDEN_MD.replace("April", "March"))]:
        path.parent.mkdir()
        path.write_text(text, "utf-8")
    results = add_files(seeds, [(first, "notes.md"), (second, "notes.md"), (first, "notes.md")])
    assert [r.status for r in results] == ["added", "added", "duplicate"]
    assert [r.path.name for r in results[:2]] == ["notes.md", "notes-2.md"]
    assert (seeds / "notes.md").read_text("utf-8") == GARDEN_MD


def test_add_rebuilds_and_swaps_the_live_pipeline(desk, tmp_path, seeds) -> None:
    pdf = make_pdf(tmp_path / "Lighthouse (draft).PDF")
    old = desk.live.current
    change = desk.add([(pdf, pdf.name)])
    assert change.rebuilt and not change.error, change
    assert [r.status for r in change.added] == ["added"]
    assert (seeds / "Lighthouse-draft.pdf").is_file()
    assert desk.live.current is not old and desk.live.version == 2
    rows = {r.doc_id: r for r in desk.rows()}
    assert rows["Lighthouse-draft"].pages == 3 and rows["Lighthouse-draft"].format == "pdf"
    assert rows["Lighthouse-draft"].title == "Nordby Lighthouse Report"
    answer = desk.live.ask(PAGE_TWO_QUESTION)
    assert any(c.sentence.doc_id == "Lighthouse-draft" and c.sentence.page == 2 for c in answer.citations)


def test_only_bad_files_leave_the_index_alone(desk, tmp_path) -> None:
    bad = make_bad_uploads(tmp_path / "uploads")
    old = desk.live.current
    change = desk.add([(path, path.name) for path in bad.values()])
    assert not change.rebuilt and [r.status for r in change.added] == ["refused"] * len(bad)
    assert desk.live.current is old


def test_remove_rebuilds_and_the_last_document_stays(desk, tmp_path, seeds) -> None:
    md = tmp_path / "garden.md"
    md.write_text(GARDEN_MD, "utf-8")
    desk.add([(md, md.name)])
    change = desk.remove("garden")
    assert change.removed == "Garden notes" and change.rebuilt
    assert not (seeds / "garden.md").exists()
    assert [r.doc_id for r in desk.rows()] == [ARTICLE]
    refused = desk.remove(ARTICLE)
    assert "only document" in refused.error and not refused.rebuilt
    assert (seeds / f"{ARTICLE}.txt").is_file()
    assert "no document 'nope'" in desk.remove("nope").error


def test_questions_during_a_rebuild_are_answered_by_the_old_pipeline(desk, tmp_path) -> None:
    """The rebuild is held at its start (its status message) until a question has been answered."""
    rebuilding, asked = threading.Event(), threading.Event()

    def hold(message: str) -> None:
        rebuilding.set()
        assert asked.wait(timeout=60)

    desk.on_status = hold
    pdf = make_pdf(tmp_path / "lighthouse.pdf")
    worker = threading.Thread(target=desk.add, args=([(pdf, pdf.name)],))
    worker.start()
    try:
        assert rebuilding.wait(timeout=60)
        with desk.live.lock:
            during = desk.live.current.ask(PAGE_TWO_QUESTION)
            version = desk.live.version
    finally:
        asked.set()
        worker.join(timeout=120)
    assert version == 1 and not any(c.sentence.doc_id == "lighthouse" for c in during.citations)
    after = desk.live.ask(PAGE_TWO_QUESTION)
    assert desk.live.version == 2
    assert any(PAGE_TWO_FACT in c.sentence.text for c in after.citations)
