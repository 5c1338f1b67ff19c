"""A user error on the command line is one line on stderr and exit status 2 (in-process, fast)."""

from __future__ import annotations

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
