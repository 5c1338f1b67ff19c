"""`rag index` and `rag ask` as a user runs them: a real process, the real model."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def run_rag(*args, cwd=None):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "rag.app.cli", *args],
        capture_output=True, text=True, timeout=300, env=env, cwd=cwd,
    )


def test_ask_builds_the_index_then_answers_with_json(tmp_path, seeds_copy):
    index = tmp_path / "index"
    common = ["--seeds", str(seeds_copy), "--index", str(index)]
    first = run_rag("ask", *common, "--json", "Wer leitet den Technologieinvestor Softbank?")
    assert first.returncode == 0, first.stderr
    assert "Building the index" in first.stderr
    data = json.loads(first.stdout)
    assert "Masayoshi Son" in data["citations"][0]["text"]
    assert data["abstained"] is False and data["hits"]

    text = run_rag("ask", *common, "Wer leitet den Technologieinvestor Softbank?")
    assert text.returncode == 0 and "Building" not in text.stderr and "Rebuilding" not in text.stderr
    assert "[1]" in text.stdout and "paragraph 2, sentence 1" in text.stdout

    (seeds_copy / "neu.txt").write_text("Kyoto ist eine Stadt in Japan.", encoding="utf-8")
    try:
        changed = run_rag("ask", *common, "Wo liegt Kyoto?")
        assert changed.returncode == 0
        assert "Rebuilding the index: the documents changed" in changed.stderr
        assert "Kyoto" in changed.stdout
    finally:
        (seeds_copy / "neu.txt").unlink()

