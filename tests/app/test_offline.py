"""README: "Runs offline", `--model minilm` and `--model /path/to/model`. `rag ask` runs in a
process where every network connection that leaves the machine is refused and recorded (loopback
stays allowed); the default model, the bundled MiniLM by name and by its folder each build an
index and answer without one attempt (real models: slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHILD = """
import ipaddress, socket, sys
attempts = open(sys.argv[1], "a", encoding="utf-8")
real_connect = socket.socket.connect

def connect(self, address):
    host = address[0] if isinstance(address, tuple) else None
    try:
        loopback = host is None or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        attempts.write(f"{host}\\n")
        attempts.flush()
        raise OSError(f"network is off in this test: {address}")
    return real_connect(self, address)

socket.socket.connect = connect
socket.create_connection = lambda address, *a, **k: connect(socket.socket(), address)
from rag.app.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _minilm_folder() -> str:
    from rag.index.encoders import minilm_path

    return str(minilm_path())


@pytest.mark.parametrize("model", ["use-multilingual", "minilm", "local folder"])
def test_ask_runs_offline_with_each_model(tmp_path, seeds_copy, model) -> None:
    model = _minilm_folder() if model == "local folder" else model
    attempts = tmp_path / "attempts.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["HF_HOME"] = str(tmp_path / "hf-home")  # an empty hub cache: nothing to fall back on
    question = "Who is the head of Softbank?"
    args = ["ask", "--json", "--model", model, "--seeds", str(seeds_copy), "--index", str(tmp_path / "i")]
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(attempts), *args, question],
        capture_output=True, text=True, timeout=600, env={**env, "PYTHONIOENCODING": "utf-8"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert not attempts.exists() or attempts.read_text() == "", attempts.read_text()
    data = json.loads(result.stdout)
    assert data["hits"]
    source = Path(seeds_copy / "japan-ki-aufholjagd.txt").read_text("utf-8")
    for item in data["citations"] + data["hits"]:
        assert source[item["start"] : item["end"]] == item["text"]
    if model == "use-multilingual":
        # Masayoshi Son's sentence or "... der Softbank-Chef Son ...": both say who leads it.
        first = data["citations"][0]["text"]
        assert "Son" in first and "Softbank" in first
    else:
        assert any("Son" in h["text"] for h in data["hits"][:3]), [h["text"] for h in data["hits"]]
