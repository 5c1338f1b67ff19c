"""Index and seed faults (issue 6): each gives a clear message or a rebuild, never answers from a
foreign or half-written index. Builds are serialised by a lock and a killed build leaves the
previous index intact -- shown with real `rag index` processes.

The fault tests use the fake encoder (logic only); the process tests use the real model.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rag.app.cli import EXIT_USER_ERROR, main
from rag.config import Settings
from rag.index.store import CURRENT, MANIFEST, current_build, ensure_index, load_index
from rag.ingest import DocumentError
from rag.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = ROOT / "seeds" / "japan-ki-aufholjagd.txt"
QUESTION = "Wer leitet den Technologieinvestor Softbank?"


@pytest.fixture
def seeds(tmp_path) -> Path:
    """The article's front matter and first four paragraphs (Softbank's chief among them): the
    faults need a real document, not a long one -- each test builds it twice, and `make mutants`
    runs these tests for every mutant of the index and ingest code."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    lines = ARTICLE.read_text("utf-8").splitlines(keepends=True)
    (folder / ARTICLE.name).write_text("".join(lines[:9]), encoding="utf-8")
    return folder


@pytest.fixture
def opened(tmp_path, seeds, fake_encoder):
    """Open (and so build) an index; returns a function that opens it again, with its messages."""
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")

    def open_again(encoder=fake_encoder) -> tuple[Pipeline, list[str]]:
        messages: list[str] = []
        pipeline = Pipeline.open(settings, encoder=encoder, progress=False, on_status=messages.append)
        return pipeline, messages

    first, _ = open_again()
    return settings, first, open_again


def _build(settings: Settings) -> Path:
    return current_build(settings.index_dir)


def _edit_manifest(settings: Settings, **changes) -> None:
    path = _build(settings) / MANIFEST
    manifest = json.loads(path.read_text("utf-8"))
    manifest.update(changes)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _assert_rebuilt(before: Path, pipeline: Pipeline, messages: list[str], reason: str) -> None:
    assert any(m.startswith("Rebuilding the index") and reason in m for m in messages), messages
    assert any(m.startswith("Index built") for m in messages)
    assert pipeline.index.path != before and not before.exists()  # the bad build is gone
    assert pipeline.ask(QUESTION).hits  # and the new one finds passages


def test_deleted_faiss_file_is_rebuilt(opened) -> None:
    settings, first, open_again = opened
    (first.index.path / "dense.faiss").unlink()
    _assert_rebuilt(first.index.path, *open_again(), "missing or truncated")


def test_truncated_faiss_file_is_rebuilt(opened) -> None:
    settings, first, open_again = opened
    faiss_file = first.index.path / "dense.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    _assert_rebuilt(first.index.path, *open_again(), "missing or truncated")


def test_garbage_faiss_file_of_the_right_size_is_rebuilt(opened) -> None:
    settings, first, open_again = opened
    faiss_file = first.index.path / "dense.faiss"
    faiss_file.write_bytes(b"\0" * faiss_file.stat().st_size)
    _assert_rebuilt(first.index.path, *open_again(), "damaged")


def test_truncated_table_is_rebuilt(opened) -> None:
    settings, first, open_again = opened
    table = first.index.path / "sentences.json"
    table.write_bytes(table.read_bytes()[:-50])
    _assert_rebuilt(first.index.path, *open_again(), "missing or truncated")


def test_names_table_of_the_wrong_shape_is_rebuilt(opened) -> None:
    settings, first, open_again = opened
    names = first.index.path / "names.json"
    size = names.stat().st_size
    names.write_bytes(b"[]" + b" " * (size - 2))  # valid JSON, right size, wrong content
    _assert_rebuilt(first.index.path, *open_again(), "damaged")


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"model": "minilm"}, "model changed"),
        ({"model": "some/other-model"}, "model changed"),
        ({"package_version": "0.0.1"}, "built by rag 0.0.1"),
        ({"format": 1}, "another index format"),
        ({"chunk_size": 7}, "chunk_size changed"),
    ],
    ids=["other model", "foreign model id", "other version", "other format", "other chunking"],
)
def test_manifest_from_another_model_or_version_is_rebuilt(opened, changes, reason) -> None:
    settings, first, open_again = opened
    _edit_manifest(settings, **changes)
    _assert_rebuilt(first.index.path, *open_again(), reason)


def test_vectors_from_another_encoder_are_rebuilt_not_searched(opened) -> None:
    """A manifest naming our model over vectors of another size: searching used to crash."""
    from conftest import FakeEncoder

    settings, first, open_again = opened
    pipeline, messages = open_again(FakeEncoder(dim=32))
    _assert_rebuilt(first.index.path, pipeline, messages, "64 dimensions, the model gives 32")


def test_changed_seeds_are_rebuilt_and_answered_from(opened, seeds) -> None:
    settings, first, open_again = opened
    (seeds / "neu.txt").write_text("Der Fuji ist der höchste Berg Japans.", encoding="utf-8")
    pipeline, messages = open_again()
    _assert_rebuilt(first.index.path, pipeline, messages, "the documents changed")
    assert pipeline.index.manifest["counts"]["documents"] == 2


def test_damaged_current_pointer_is_rebuilt(opened) -> None:
    settings, first, open_again = opened
    (settings.index_dir / CURRENT).write_text("build-that-never-was\n", encoding="utf-8")
    pipeline, messages = open_again()
    assert any("missing" in m for m in messages) and pipeline.ask(QUESTION).hits


@pytest.mark.parametrize("fault", ["empty", "not utf-8", "unreadable", "link outside", "missing"])
def test_seed_faults_are_a_clear_error_never_the_old_index(
    opened, seeds, tmp_path, monkeypatch, fault
) -> None:
    settings, first, open_again = opened
    if fault == "empty":
        (seeds / ARTICLE.name).unlink()
        expected = "no readable documents"
    elif fault == "not utf-8":
        # A bad file next to good ones is skipped and reported (tests/ingest); alone, it is an error.
        (seeds / ARTICLE.name).unlink()
        (seeds / "alt.txt").write_bytes("Grösse und Gewicht in Zürich.".encode("latin-1"))
        expected = "alt.txt is not UTF-8"
    elif fault == "unreadable":
        victim = seeds / ARTICLE.name
        real_read_bytes = Path.read_bytes

        def read_bytes(self: Path) -> bytes:
            if self.name == victim.name:
                raise PermissionError(13, "Permission denied", str(self))
            return real_read_bytes(self)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)  # chmod 000 does not stop root
        expected = "cannot read"
    elif fault == "link outside":
        outside = tmp_path / "secret.txt"
        outside.write_text("Das Passwort ist geheim.", encoding="utf-8")
        (seeds / "link.txt").symlink_to(outside)
        expected = "links outside the seeds folder"
    else:
        shutil.rmtree(seeds)
        expected = "seeds folder not found"
    with pytest.raises(DocumentError, match=expected):
        open_again()
    assert current_build(settings.index_dir) == first.index.path  # the last good index is kept

    # The command line says the same in one line with exit status 2.
    code = main(["ask", "--seeds", str(seeds), "--index", str(settings.index_dir), QUESTION])
    assert code == EXIT_USER_ERROR


def test_cli_seed_fault_ends_in_one_error_line(tmp_path, capsys) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "bad.md").write_bytes(b"\xff\xfe\x00Text")
    code = main(["index", "--seeds", str(tmp_path / "seeds"), "--index", str(tmp_path / "index")])
    err = capsys.readouterr().err
    assert code == EXIT_USER_ERROR
    # A status line may come first ("Building the index: ..."); the error is one line, last.
    last = err.strip().splitlines()[-1]
    assert last.startswith("rag: error:") and "bad.md is not UTF-8" in last and "Traceback" not in err


# --- real processes: the build lock and a build killed midway ---------------------------------
# `rag index` runs in its own process with the fake encoder; the test decides when a build goes
# on (the encoder waits for a line on stdin after saying "paused"), so nothing depends on timing.

CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
from conftest import FakeEncoder
import rag.index.encoders as encoders

class Paused(FakeEncoder):
    paused = sys.argv[2] != "pause"
    def encode(self, texts):
        if not self.paused:
            self.paused = True
            print("paused", flush=True)  # inside build_index: tmp-build-* is being written
            sys.stdin.readline()
        return super().encode(texts)

encoders.build_encoder = lambda *a, **k: Paused()
import rag.index.names as names
names.german_nouns = lambda: (frozenset(),) * 4  # the noun list costs seconds per process
encoders.preload = lambda *a, **k: None
from rag.app import cli
cli._load_extra_commands = lambda: None  # `rag index` needs none of the other subcommands
sys.exit(cli.main(sys.argv[3:]))
"""


def _rag_index(seeds: Path, index: Path, pause: bool) -> subprocess.Popen:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1"}
    args = ["index", "--force", "--seeds", str(seeds), "--index", str(index)]
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ROOT / "tests"), "pause" if pause else "go", *args],
        cwd=index.parent, env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _wait_for_line(stream, wanted: str, process: subprocess.Popen) -> list[str]:
    """Read ``stream`` until a line holds ``wanted`` (blocking; the process's end is an error)."""
    seen: list[str] = []
    for line in stream:
        seen.append(line)
        if wanted in line:
            return seen
    process.wait(timeout=60)
    raise AssertionError(f"never said {wanted!r} (exit {process.returncode}): {seen}")


def test_two_index_runs_at_once_are_serialised(tmp_path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "fuji.txt").write_text("Der Fuji ist der höchste Berg Japans.\n", encoding="utf-8")
    index = tmp_path / "index"
    first = _rag_index(seeds, index, pause=True)
    second = None
    try:
        _wait_for_line(first.stdout, "paused", first)  # the first holds the lock, mid-build
        second = _rag_index(seeds, index, pause=False)
        _wait_for_line(second.stderr, "waiting for it to finish", second)
        assert second.poll() is None and not list(index.glob("build-*"))  # it waits, nothing done
        first.stdin.write("\n")
        first.stdin.flush()  # let the first finish; then the second builds in turn
        results = [p.communicate(timeout=300) for p in (first, second)]
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.kill()
                p.communicate()
    assert first.returncode == 0 and second.returncode == 0, results
    assert "waiting" not in results[0][1]
    assert all(err.count("Index built") == 1 for _, err in results)
    loaded = load_index(index)
    assert loaded.manifest["counts"]["documents"] == 1
    leftovers = sorted(p.name for p in index.iterdir() if p.is_dir())
    assert leftovers == [loaded.path.name]  # one complete build, no tmp-*


def test_build_killed_midway_leaves_the_previous_index_intact(opened, seeds) -> None:
    settings, previous, open_again = opened
    before = previous.ask(QUESTION)
    assert before.hits

    build = _rag_index(seeds, settings.index_dir, pause=True)
    try:
        _wait_for_line(build.stdout, "paused", build)
        tmp = next(settings.index_dir.glob("tmp-build-*"))
        assert build.poll() is None and not (tmp / MANIFEST).exists(), "not midway"
        build.send_signal(signal.SIGKILL)
        build.wait(timeout=30)
    finally:
        if build.poll() is None:
            build.kill()
        build.communicate()
    assert build.returncode == -signal.SIGKILL

    # The half-written folder is there, but CURRENT still names the previous build, which loads
    # and answers exactly as before.
    assert tmp.exists()
    assert current_build(settings.index_dir) == previous.index.path
    again, messages = open_again()
    assert again.index.manifest == previous.index.manifest and not messages
    assert again.ask(QUESTION).to_dict()["hits"] == before.to_dict()["hits"]

    # The next build cleans up the killed one's leftovers.
    rebuilt, _ = ensure_index(settings, lambda: again.encoder, on_status=lambda m: None, force=True,
                              progress=False)
    assert not tmp.exists()
    assert sorted(p.name for p in settings.index_dir.iterdir() if p.is_dir()) == [rebuilt.path.name]
