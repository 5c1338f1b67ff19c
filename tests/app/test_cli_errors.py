"""A user error on the command line is one line on stderr and exit status 2 (in-process, fast)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEEDS, FakeEncoder

import rag.index.encoders as encoders
from rag.app.cli import EXIT_USER_ERROR, main


@pytest.fixture(autouse=True)
def no_real_model(monkeypatch):
    monkeypatch.setattr(encoders, "build_encoder", lambda *a, **k: FakeEncoder())
    monkeypatch.setattr(encoders, "preload", lambda *a, **k: None)


@pytest.mark.parametrize(
    "args,message",
    [
        (["ask", "--model", "/nonexistent", "Wer?"], "model folder not found: /nonexistent"),
        (["index", "--model", "./no/such/model"], "model folder not found: ./no/such/model"),
        (["ask", "--seeds", "{tmp}/nope", "Wer?"], "nope"),
        (["ask", "--seeds", str(SEEDS), "   "], "Please type a question"),
        (["ask", "--top-k", "0", "Wer?"], "top"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(tmp_path, capsys, args, message) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code = main([*args, "--index", str(tmp_path / "index")] if args[0] == "index" else
                [args[0], "--index", str(tmp_path / "index"), *args[1:]])
    err = capsys.readouterr().err
    assert code == EXIT_USER_ERROR, err
    assert err.count("\n") == 1 and err.startswith("rag: error:") and message in err, err
    assert not (tmp_path / "index").exists() or not any((tmp_path / "index").glob("build-*"))


def test_outside_the_project_folder_it_says_where_it_looked(tmp_path, monkeypatch, capsys) -> None:
    """`rag ask` in a folder without seeds/: one line naming the folder looked in (absolute) and
    how to point elsewhere."""
    monkeypatch.delenv("RAG_SEEDS", raising=False)
    monkeypatch.delenv("RAG_INDEX", raising=False)
    monkeypatch.chdir(tmp_path)
    code = main(["ask", "Wer leitet Softbank?"])
    captured = capsys.readouterr()
    assert code == EXIT_USER_ERROR, captured.err
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("rag: error:"), captured.err
    assert f"seeds folder not found: {Path.cwd() / 'seeds'} " in captured.err, captured.err
    for hint in ("--seeds DIR", "RAG_SEEDS", "--index DIR", "RAG_INDEX"):
        assert hint in captured.err, captured.err


def test_rag_seeds_and_rag_index_are_the_defaults_of_the_options(tmp_path, monkeypatch, capsys) -> None:
    import shutil

    seeds = tmp_path / "elsewhere" / "seeds"
    shutil.copytree(SEEDS, seeds)
    work = tmp_path / "empty"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("RAG_SEEDS", str(seeds))
    monkeypatch.setenv("RAG_INDEX", str(tmp_path / "elsewhere" / "index"))
    code = main(["ask", "--json", "Wer leitet den Technologieinvestor Softbank?"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert '"hits"' in captured.out
    assert (tmp_path / "elsewhere" / "index" / "CURRENT").is_file()
    assert list(work.iterdir()) == []  # nothing written where it ran
    # An option given on the command line still wins over the variable.
    monkeypatch.setenv("RAG_SEEDS", str(tmp_path / "nowhere"))
    assert main(["list", "--seeds", str(seeds)]) == 0
    assert main(["list"]) == EXIT_USER_ERROR
    assert "nowhere" in capsys.readouterr().err
