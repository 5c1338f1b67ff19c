"""Shared fixtures: one real encoder per session, a real index of the bundled article in a
temporary folder, and a deterministic fake encoder for fast logic tests."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

# pytest imports this tree (pyproject.toml: pythonpath = ["."]); the processes the tests start
# (`python -m rag`, `ui.py`, `rag index`) import it too, never the tree a shared venv was
# installed from. Not under mutmut (`make mutants`): its mutated copy cannot be imported by a
# process started in another folder (the trampolines look for setup.cfg in the working folder).
if not os.environ.get("MUTANT_UNDER_TEST"):
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(ROOT))]
    )

# The word table's files (rag/index/words.py): made anew at every build, compared between builds.
WORD_FILES = ("word_codes.npy", "word_scales.npy", "sentence_word_ids.npy", "sentence_word_offsets.npy")


SKARVIK_TEXT = "The lighthouse of Skarvik was painted red and white in 1952 by the keeper Ola Nordmann.\n"
BAKERY_TEXT = "The bakery on Elm Street sells rye bread and cinnamon buns. It opens at six every day.\n"


def two_small_documents(seeds: Path) -> Path:
    """``seeds`` made and given two one-line English documents, a lighthouse's and a bakery's:
    which of them is chosen decides whether the lighthouse question can be answered."""
    seeds.mkdir()
    (seeds / "skarvik.txt").write_text(SKARVIK_TEXT, "utf-8")
    (seeds / "bakery.txt").write_text(BAKERY_TEXT, "utf-8")
    return seeds


class FakeEncoder:
    """Deterministic bag-of-words hashing encoder: a fake, for logic tests only.

    Texts that share words get similar vectors, which is enough to test ranking plumbing.
    """

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls = 0

    @property
    def name(self) -> str:
        return f"fake-hash-{self.dim}"

    @property
    def dimension(self) -> int:
        return self.dim

    def encode(self, texts) -> np.ndarray:  # noqa: ANN001
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in str(text).casefold().split():
                word = word.strip(".,;:!?«»\"'()")
                if not word:
                    continue
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[row, h % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture(scope="session")
def real_encoder():
    """The bundled default model (USE multilingual, the direct numpy encoder that gives the
    sentence-transformers module's vectors to 1e-6), loaded once."""
    from rag.index.encoders import build_encoder

    return build_encoder()


@pytest.fixture(scope="session")
def seeds_copy(tmp_path_factory) -> Path:
    """A private copy of seeds/ so tests never touch the user's files."""
    target = tmp_path_factory.mktemp("seeds") / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture(scope="session")
def article_pipeline(tmp_path_factory, real_encoder, seeds_copy):
    """A real pipeline (real model, real FAISS index on disk) over the bundled article."""
    from rag.config import Settings
    from rag.pipeline import Pipeline

    index_dir = tmp_path_factory.mktemp("index")
    settings = Settings(seeds_dir=seeds_copy, index_dir=index_dir)
    return Pipeline.open(settings, encoder=real_encoder, progress=False, on_status=lambda m: None)


# --- the chat server (ui.py) in a subprocess, for tests/test_ui_*.py ---------------------------


class UIServer:
    """A running `python ui.py` on a free loopback port with a private index folder."""

    def __init__(self, url: str, process, log_path: Path) -> None:  # noqa: ANN001
        self.url = url
        self.process = process
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def option(self, name: str) -> str:
        """The value the server was started with for ``name`` (e.g. ``--index``)."""
        return self.process.args[self.process.args.index(name) + 1]

    def cli_answer(self, question: str) -> dict:
        """What `rag ask --json` prints for ``question`` over this server's seeds and index."""
        import json
        import subprocess
        import sys

        cli = subprocess.run(
            [sys.executable, "-m", "rag", "ask", "--json", "--index", self.option("--index"),
             "--seeds", self.option("--seeds"), question],
            capture_output=True, text=True, timeout=300, check=True,
        )
        return json.loads(cli.stdout)


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving_ui(work: Path, seeds: Path, *extra: str, drop_env: tuple[str, ...] = (),
               fake_encoder: bool = False):
    """`python ui.py` on a free loopback port (its own index folder in ``work``), up once its
    /api/health answers (a 401 counts: it is up and wants the login); always stopped.
    ``fake_encoder``: tests/fake_ui.py instead (ui.py with :class:`FakeEncoder`, up in seconds)."""
    import os
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    port = _free_port()
    log_path = work / "server.log"
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    for name in drop_env:
        env.pop(name, None)
    script = ROOT / "tests" / "fake_ui.py" if fake_encoder else ROOT / "ui.py"
    cmd = [sys.executable, str(script), "--host", "127.0.0.1", "--port", str(port),
           "--index", str(work / "index"), "--seeds", str(seeds), *extra]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 240
        while True:
            if process.poll() is not None:
                pytest.fail(f"ui.py exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url + "api/health", timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # e.g. 401: up, and asking for the login
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"ui.py did not answer on {url} within 240 s:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield UIServer(url, process, log_path)
    finally:
        from rag.bench.runner import stop_process

        stop_process(process)


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory, seeds_copy):
    """`python ui.py` started once per session (it builds its own index first); always killed."""
    with serving_ui(tmp_path_factory.mktemp("ui"), seeds_copy) as server:
        yield server
