"""Uploads leave no copies in the system temp folder: Gradio keeps each uploaded file in its
upload folder (GRADIO_TEMP_DIR); the server deletes it as soon as it is stored or refused.
The server runs in this process (``ui.main``, fake encoder, a free loopback port)."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

import pytest
from conftest import SEEDS, FakeEncoder

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import ui  # noqa: E402  (ui.py is a script at the top of the repository)

ARTICLE = SEEDS / "japan-ki-aufholjagd.txt"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _files_below(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def serve(tmp_path, monkeypatch):
    """``serve(body)``: ui.main launched for real; ``body(url)`` runs while it serves, then it
    stops. Returns (the seeds folder, Gradio's upload folder)."""
    import gradio as gr

    import rag.index.encoders as encoders

    upload_dir = tmp_path / "gradio-tmp"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(upload_dir))
    monkeypatch.setattr(encoders, "build_encoder", lambda *a, **k: FakeEncoder())
    monkeypatch.setattr(encoders, "preload", lambda *a, **k: None)
    monkeypatch.delenv("RAG_AUTH", raising=False)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds / ARTICLE.name)

    def run(body) -> tuple[Path, Path]:
        def serve_then_stop(self) -> None:
            try:
                body(self.local_url, self)
            finally:
                self.close()

        monkeypatch.setattr(gr.Blocks, "block_thread", serve_then_stop)
        assert ui.main(["--port", str(_free_port()), "--index", str(tmp_path / "index"),
                        "--seeds", str(seeds)]) == 0
        return seeds, upload_dir

    return run


def test_uploads_over_http_leave_no_copy_in_gradios_upload_folder(serve, tmp_path) -> None:
    from gradio_client import Client, handle_file

    good = tmp_path / "in" / "garden.md"
    good.parent.mkdir()
    good.write_text("# Garden\n\nThe tomatoes were planted in April.\n", "utf-8")
    empty = tmp_path / "in" / "blank.pdf"
    empty.write_bytes(b"")
    results: list[dict] = []

    def body(url: str, demo) -> None:
        client = Client(url, verbose=False)
        results.append(client.predict([handle_file(good), handle_file(empty)], api_name="/add_documents"))
        results.append(client.predict([handle_file(good)], api_name="/add_documents"))  # a duplicate

    seeds, upload_dir = serve(body)
    statuses = [[r["status"] for r in result["added"]] for result in results]
    assert statuses == [["added", "refused"], ["duplicate"]], results
    assert (seeds / "garden.md").read_text("utf-8").startswith("# Garden")
    assert upload_dir.is_dir()  # Gradio did keep them there, on the way in
    assert _files_below(upload_dir) == [], [(p, p.stat().st_size) for p in upload_dir.rglob("*")]


def test_the_pages_upload_handler_deletes_gradios_copies_stored_or_refused(serve, tmp_path) -> None:
    """The page's own handler (what dropping files on the page runs) with files where Gradio
    puts them: each in its own folder in the upload folder."""

    def body(url: str, demo) -> None:
        from gradio.utils import get_upload_folder

        folder = Path(get_upload_folder())
        good, bad = folder / "a1" / "notes.md", folder / "b2" / "scan.pdf"
        for path in (good, bad):
            path.parent.mkdir(parents=True)
        good.write_text("# Notes\n\nThe ferry leaves at noon.\n", "utf-8")
        bad.write_text("only text", "utf-8")
        on_upload = next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "on_upload")
        on_upload([str(good), str(bad)])
        outside = tmp_path / "elsewhere.md"  # never deleted: not in Gradio's upload folder
        outside.write_text("# Elsewhere\n\nA line.\n", "utf-8")
        on_upload([str(outside)])
        assert outside.is_file()

    seeds, upload_dir = serve(body)
    assert (seeds / "notes.md").is_file() and not (seeds / "scan.pdf").exists()
    assert upload_dir.is_dir() and list(upload_dir.iterdir()) == []  # the files and their folders
