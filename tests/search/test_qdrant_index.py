"""Building, opening and answering with ``--backend qdrant`` (Qdrant Edge in a temporary folder),
against the local backend; the remote transport's alias switch on qdrant-client's in-memory
stand-in; a real Qdrant service only when ``RAG_QDRANT_URL`` is set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.config import QDRANT_FOLDER, Settings
from rag.pipeline import Pipeline

pytest.importorskip("qdrant_edge")
pytest.importorskip("qdrant_client")

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [json.loads(line) for line in (ROOT / "seeds/eval/article.jsonl").read_text("utf-8").splitlines()
             if line.strip()][:12]


def _open(seeds: Path, index: Path, encoder, **settings) -> Pipeline:
    return Pipeline.open(Settings(seeds_dir=seeds, index_dir=index, **settings), encoder=encoder,
                         progress=False, on_status=lambda m: None)


@pytest.fixture(scope="module")
def qdrant_article(tmp_path_factory, real_encoder, seeds_copy) -> Pipeline:
    return _open(seeds_copy, tmp_path_factory.mktemp("qdrant-index"), real_encoder, backend="qdrant")


def _answer(pipeline: Pipeline, question: str) -> tuple:
    answer = pipeline.ask(question)
    return (answer.confidence, [c.sentence.text for c in answer.citations],
            [(h.chunk.chunk_id, round(h.score, 5), round(h.lexical_score, 4)) for h in answer.hits])


def test_answers_are_those_of_the_local_backend(article_pipeline, qdrant_article) -> None:
    assert qdrant_article.index.search.name == "qdrant"
    assert article_pipeline.index.search.name == "local"
    answered = 0
    for row in QUESTIONS:
        local, qdrant = _answer(article_pipeline, row["question"]), _answer(qdrant_article, row["question"])
        assert qdrant == local, row["question"]
        answered += local[0] != "none"
    assert answered >= 6  # real answers were compared, not refusals only


def test_the_build_records_its_backend(qdrant_article, article_pipeline) -> None:
    manifest = qdrant_article.index.manifest
    assert manifest["backend"] == "qdrant" and manifest["search_backend"]["transport"] == "edge"
    assert manifest["search_backend"]["mode"] == "full"
    assert manifest["search_backend"]["hash_collisions"] == 0
    assert qdrant_article.index.path.parent.name == QDRANT_FOLDER  # beside the local build, not over it
    assert not (qdrant_article.index.path / "dense.faiss").exists()
    assert not (qdrant_article.index.path / "bm25_chunks").exists()
    assert qdrant_article.info["backend"] == "qdrant" and article_pipeline.info["backend"] == "local"
    assert article_pipeline.index.manifest["search_backend"]["name"] == "local"


def test_a_changed_document_is_upserted_and_a_removed_one_deleted(tmp_path, real_encoder) -> None:
    from conftest import two_small_documents

    seeds = two_small_documents(tmp_path / "seeds")
    index = tmp_path / "index"
    first = _open(seeds, index, real_encoder, backend="qdrant")
    assert first.index.manifest["search_backend"]["mode"] == "full"
    (seeds / "bakery.txt").unlink()
    ferry = "The ferry to Skarvik leaves at seven. Tickets are sold on board.\n"
    (seeds / "ferry.txt").write_text(ferry, "utf-8")
    second = _open(seeds, index, real_encoder, backend="qdrant")
    search = second.index.manifest["search_backend"]
    assert search["mode"] == "incremental"
    assert search["deleted"] == 1 and search["upserted"] == len(second.index.chunks) - 1
    assert second.index.search.size == len(second.index.chunks)
    fresh = _open(seeds, tmp_path / "fresh", real_encoder, backend="qdrant")
    for question in ("When does the ferry leave?", "Who painted the lighthouse?", "Where is the bakery?"):
        assert _answer(second, question)[:2] == _answer(fresh, question)[:2]
    assert second.ask("Where is the bakery?").confidence != "high"


def test_the_remote_transport_switches_its_alias_in_one_step() -> None:
    from qdrant_client import QdrantClient

    from rag.config import IndexTuning
    from rag.search.qdrant import RemoteTransport

    client = QdrantClient(":memory:")
    old = RemoteTransport(":memory:", "rag-x-old", client=client)
    new = RemoteTransport(":memory:", "rag-x-new", client=client)
    for transport in (old, new):
        transport.create(4, ["de"], IndexTuning(), 1)
    old.switch_alias("rag-x")
    new.switch_alias("rag-x")
    aliases = {a.alias_name: a.collection_name for a in client.get_aliases().aliases}
    assert aliases == {"rag-x": "rag-x-new"}


def test_settings_choose_and_check_the_backend(tmp_path) -> None:
    settings = Settings(index_dir=tmp_path, backend="qdrant", qdrant_url="http://qdrant:6333")
    assert settings.index_params()["backend"] == "qdrant"
    assert settings.index_params()["qdrant_url"] == "http://qdrant:6333"
    assert settings.model_index_dir == tmp_path / QDRANT_FOLDER
    assert Settings(index_dir=tmp_path).model_index_dir == tmp_path
    with pytest.raises(ValueError, match="backend must be one of"):
        Settings(backend="milvus")
    with pytest.raises(ValueError, match="--backend qdrant"):
        Settings(qdrant_url="http://qdrant:6333")


def test_an_index_built_before_the_backend_setting_stays_fresh() -> None:
    from rag.index.folder import stale_reasons

    manifest = {"format": 7, "model": "m", "corpus_fingerprint": "f"}
    reasons = stale_reasons(manifest, {"model": "m", "backend": "local"}, "f")
    assert not any("backend" in r for r in reasons)
    assert any("backend" in r for r in stale_reasons(manifest, {"model": "m", "backend": "qdrant"}, "f"))


def test_options_read_the_url_and_say_how_to_install(monkeypatch) -> None:
    import argparse
    import importlib.util

    from rag.app.options import backend_choice

    monkeypatch.setenv("RAG_QDRANT_URL", "http://qdrant:6333")
    args = argparse.Namespace(backend="qdrant", qdrant_url=None)
    assert backend_choice(args) == ("qdrant", "http://qdrant:6333")
    no_choice = argparse.Namespace(backend=None, qdrant_url=None)
    assert backend_choice(no_choice) == (None, None)  # the variable counts for --backend qdrant only
    assert backend_choice(argparse.Namespace(backend=None, qdrant_url="http://q:1")) == ("qdrant", "http://q:1")
    with pytest.raises(ValueError, match="not --backend local"):
        backend_choice(argparse.Namespace(backend="local", qdrant_url="http://q:1"))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.startswith("qdrant") else real(name, *a))
    with pytest.raises(ValueError, match=r"pip install 'rag\[qdrant\]'"):
        backend_choice(args)


def test_rag_ask_without_the_extra_says_how_to_install(tmp_path) -> None:
    """In a process where the qdrant packages cannot be imported: one line, exit status 2."""
    code = (
        "import sys; sys.modules['qdrant_edge'] = None; sys.modules['qdrant_client'] = None\n"
        "import importlib.util; real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda n, *a: None if n.startswith('qdrant') else real(n, *a)\n"
        "from rag.app.cli import main\n"
        f"sys.exit(main(['ask', '--backend', 'qdrant', '--index', {str(tmp_path)!r}, 'Wer?']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=ROOT)
    assert result.returncode == 2, result.stderr
    assert "pip install 'rag[qdrant]'" in result.stderr and "Traceback" not in result.stderr


def test_the_default_path_never_imports_qdrant(article_pipeline) -> None:
    """A default `rag ask` and the chat's modules, in a fresh process: no qdrant module loaded."""
    index = article_pipeline.settings.index_dir
    seeds = article_pipeline.settings.seeds_dir
    code = (
        "import sys, io, contextlib\n"
        "from rag.app.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    status = main(['ask', '--index', {str(index)!r}, '--seeds', {str(seeds)!r}, '--json',\n"
        "                   'Wer leitet den Technologieinvestor Softbank?'])\n"
        "assert status == 0, status\n"
        "assert 'citations' in out.getvalue()\n"
        "import ui, rag.app.web.server\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('qdrant_edge', 'qdrant_client', 'rag')\n"
        "             and ('qdrant' in m)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.skipif(not os.environ.get("RAG_QDRANT_URL"), reason="no Qdrant service: set RAG_QDRANT_URL")
def test_a_real_qdrant_service(tmp_path, real_encoder, seeds_copy, article_pipeline) -> None:
    """Against the service at $RAG_QDRANT_URL: a full build goes live through the alias, and the
    answers are the local backend's."""
    url = os.environ["RAG_QDRANT_URL"]
    pipeline = _open(seeds_copy, tmp_path / "index", real_encoder, backend="qdrant", qdrant_url=url)
    search = pipeline.index.manifest["search_backend"]
    assert search["transport"] == "remote" and search["collection"].startswith(search["alias"])
    from qdrant_client import QdrantClient

    aliases = {a.alias_name: a.collection_name for a in QdrantClient(url=url).get_aliases().aliases}
    assert aliases[search["alias"]] == search["collection"]
    for row in QUESTIONS[:5]:
        assert _answer(pipeline, row["question"]) == _answer(article_pipeline, row["question"])
    assert np.isfinite(pipeline.ask("Wer leitet Softbank?").hits[0].score)


@pytest.mark.slow
def test_the_chat_server_answers_from_qdrant(tmp_path) -> None:
    """ui.py with --backend qdrant: the REST answer is `rag ask --backend qdrant`'s, from a
    Qdrant build."""
    import urllib.request

    from conftest import serving_ui, two_small_documents

    seeds = two_small_documents(tmp_path / "seeds")
    with serving_ui(tmp_path, seeds, "--backend", "qdrant") as server:
        request = urllib.request.Request(
            server.url + "api/ask", data=json.dumps({"question": "Who painted the lighthouse?"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
    assert "Ola Nordmann" in answer["citations"][0]["text"]
    assert list((tmp_path / "index" / QDRANT_FOLDER).glob("build-*/qdrant"))
    assert not list((tmp_path / "index").glob("build-*"))  # no local build was made
    cli = subprocess.run(
        [sys.executable, "-m", "rag", "ask", "--json", "--backend", "qdrant",
         "--index", str(tmp_path / "index"), "--seeds", str(seeds), "Who painted the lighthouse?"],
        capture_output=True, text=True, timeout=300, check=True, cwd=ROOT,
    )
    assert json.loads(cli.stdout)["citations"] == answer["citations"]
