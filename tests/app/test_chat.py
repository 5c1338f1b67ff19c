"""`rag chat` driven as a real terminal program (pexpect, a pseudo-terminal): a question and its
citation, a follow-up that uses the conversation, :sources, :new, and clean exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "rag> "


@pytest.fixture(scope="module")
def chat_index(tmp_path_factory, seeds_copy) -> Path:
    index_dir = tmp_path_factory.mktemp("chat") / "index"
    subprocess.run(
        [sys.executable, "-m", "rag.app.cli", "index", "--seeds", str(seeds_copy), "--index", str(index_dir)],
        cwd=ROOT, check=True, capture_output=True, timeout=600,
    )
    return index_dir


def spawn_chat(index_dir: Path, seeds: Path, history_file: Path):  # noqa: ANN201
    env = dict(os.environ, TERM="dumb", PYTHONUNBUFFERED="1", COLUMNS="120")
    env.pop("RAG_CHAT_HISTORY", None)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "rag.app.cli", "chat", "--index", str(index_dir), "--seeds", str(seeds),
         "--history-file", str(history_file)],
        cwd=str(ROOT), env=env, encoding="utf-8", timeout=120, dimensions=(40, 120),
        # Ctrl-C as at a terminal, however the suite was started: a suite run in the background
        # of a non-interactive shell (nohup ... &) inherits SIGINT ignored, and Python then
        # leaves it ignored in the chat too.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    child.expect("Ctrl-D leaves")
    child.expect_exact(PROMPT)
    return child


def ask(child, line: str) -> str:  # noqa: ANN001
    child.sendline(line)
    child.expect_exact(PROMPT)
    return child.before


def test_conversation_in_a_terminal(chat_index, seeds_copy, tmp_path) -> None:
    history_file = tmp_path / "history"
    child = spawn_chat(chat_index, seeds_copy, history_file)

    first = ask(child, "Wo hat Open AI sein erstes Auslandsbüro eröffnet?")
    assert "Tokio" in first and "[1]" in first
    # The citation with its place: document, paragraph, sentence, character offsets.
    assert "[1] Japans Aufholjagd bei der künstlichen Intelligenz, paragraph 5, sentence 3 (chars" in first

    follow = ask(child, "Und wann war das?")
    assert "[1]" in follow and "Im vergangenen Jahr" in follow  # the history found the office again

    sources = ask(child, ":sources")
    assert "Sources of: Und wann war das?" in sources
    assert "1. Japans Aufholjagd" in sources and "dense" in sources and "lexical" in sources

    assert "new conversation" in ask(child, ":new")
    assert "No answer yet" in ask(child, ":sources")
    alone = ask(child, "Und wann war das?")  # without the history: not the office sentence
    assert "Im vergangenen Jahr eröffnete dann Open AI" not in alone

    assert "words in it" in ask(child, "?!")  # a user error is one line; the session goes on
    child.sendeof()  # Ctrl-D
    child.expect("Bye.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "Traceback" not in (child.before or "")
    saved = history_file.read_text("utf-8")
    assert "Und wann war das?" in saved and ":sources" in saved  # readline history kept


@pytest.mark.parametrize("how", ["ctrl-c at the prompt", ":quit"])
def test_leaving_is_clean(chat_index, seeds_copy, tmp_path, how) -> None:
    child = spawn_chat(chat_index, seeds_copy, tmp_path / "history")
    assert "[1]" in ask(child, "Wer leitet den Technologieinvestor Softbank?")
    if how == ":quit":
        child.sendline(":quit")
    else:
        child.sendintr()
    child.expect("Bye.")
    child.expect(pexpect.EOF)
    output = child.before or ""
    child.close()
    assert child.exitstatus == 0 and child.signalstatus is None
    assert "Traceback" not in output and "KeyboardInterrupt" not in output


def test_piped_input_works_without_a_terminal(chat_index, seeds_copy) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rag.app.cli", "chat", "--index", str(chat_index), "--seeds", str(seeds_copy),
         "--history-file", ""],
        input="Who is Yuko Harayama?\n:sources\n", cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "[1]" in done.stdout and "Sources of: Who is Yuko Harayama?" in done.stdout
    assert done.stdout.rstrip().endswith("Bye.")
