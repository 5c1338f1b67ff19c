"""Building with worker processes (`rag index --workers N`) and on Ray (`--ray`): the same index
as one process, the incremental keys still deciding what is embedded, clear messages for bad
options, and no ray on the default path. Logic with the fake encoder in real worker processes;
the real model and a real Ray in the slow tests."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, WORD_FILES, FakeEncoder, two_small_documents

from rag.app.cli import main
from rag.bench.incremental import document_text, write_corpus
from rag.config import IndexTuning, Settings
from rag.index.build import VECTOR_FILES, build_index
from rag.index.embedding import (
    WORDS,
    EmbeddedDocument,
    EmbedRequest,
    InProcess,
    embed_request,
    embedder_for,
)
from rag.index.ray_embed import EmbedActor, RayActors, request_row, row_result
from rag.index.store import current_build, load_index
from rag.index.workers import ProcessPool, by_kind
from rag.ingest import load_documents, seeds_fingerprint

RECORD_FILES = ("sentences.json", "chunks.json", "words.json", "vector_keys.json")

fake_factory = functools.partial(FakeEncoder, 64)  # picklable: each worker makes its own


def build(folder: Path, index_dir: Path, encoder, embedder=None, reuse: bool = True,  # noqa: ANN001
          on_embedded=None) -> Path:  # noqa: ANN001
    params = {**Settings(index_dir=index_dir).index_params(), "model": encoder.name}
    return build_index(index_dir, load_documents(folder), encoder, params, seeds_fingerprint(folder), False,
                       reuse=reuse, embedder=embedder, on_embedded=on_embedded)


def assert_same_builds(a: Path, b: Path, exact: bool = True, keys: bool = True) -> None:
    for file in VECTOR_FILES + WORD_FILES:
        x, y = np.load(a / file), np.load(b / file)
        assert x.dtype == y.dtype and x.shape == y.shape, file
        if exact or file.startswith("sentence_word"):
            assert np.array_equal(x, y), file
        elif file == "word_codes.npy":  # int8 codes of vectors 1e-7 apart: at most one step
            assert np.abs(x.astype(int) - y.astype(int)).max() <= 1, file
        else:
            assert np.allclose(x, y, rtol=0, atol=1e-6), file
    for file in RECORD_FILES if keys else RECORD_FILES[:-1]:
        assert json.loads((a / file).read_text("utf-8")) == json.loads((b / file).read_text("utf-8")), file


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "seeds"
    write_corpus(folder, 5, sentences=9)
    return folder


# --- the per-document function and its records -------------------------------------------------


def test_a_request_is_encoded_kind_by_kind_in_batches_and_words_in_one_call():
    encoder = FakeEncoder()
    texts = tuple(f"Satz Nummer {i} über Basel." for i in range(7))
    request = EmbedRequest("d", {"sentence_vectors.npy": texts, WORDS: ("basel", "satz", "nummer")}, batch=3)
    done = embed_request(encoder, request)
    assert done.doc_id == "d" and done.size == 10 and request.size == 10
    assert encoder.calls == 3 + 1  # 7 texts in calls of at most 3, the words in one
    assert np.array_equal(done.vectors["sentence_vectors.npy"], FakeEncoder().encode(list(texts)))
    assert done.vectors[WORDS].shape == (3, 64)
    with pytest.raises(ValueError):
        EmbedRequest("d", {}, batch=0)


def test_requests_are_split_by_kind_largest_first():
    requests = [EmbedRequest("a", {"x": ("1",), "y": ("1", "2", "3"), "z": ()}, 4),
                EmbedRequest("b", {"x": ("1", "2")}, 4)]
    parts = by_kind(requests)
    assert [(p.doc_id, list(p.texts), p.size) for p in parts] == [
        ("a", ["y"], 3), ("b", ["x"], 2), ("a", ["x"], 1)]


# --- worker processes --------------------------------------------------------------------------


def test_two_workers_give_the_index_of_one_process(corpus, tmp_path):
    """Real worker processes (spawned, fake encoder): every vector, word row, record and
    incremental key as a build by one worker, and the vectors as an in-process build's."""
    one = build(corpus, tmp_path / "one", FakeEncoder(), ProcessPool("fake", 1, fake_factory))
    two = build(corpus, tmp_path / "two", FakeEncoder(), ProcessPool("fake", 2, fake_factory))
    assert_same_builds(one, two)
    here = build(corpus, tmp_path / "here", FakeEncoder())
    assert_same_builds(one, here, keys=False)  # the keys differ: they record the BLAS threads
    manifest = json.loads((two / "manifest.json").read_text("utf-8"))
    assert manifest["embedding"]["documents_embedded"] == 5


def test_with_workers_the_incremental_keys_still_decide_what_is_embedded(corpus, tmp_path):
    pool = ProcessPool("fake", 2, fake_factory)
    build(corpus, tmp_path / "index", FakeEncoder(), pool)
    (corpus / "bericht-001.txt").write_text(document_text(1, 9, variant=3), encoding="utf-8")
    (corpus / "neu.txt").write_text(document_text(77, 6), encoding="utf-8")
    live = build(corpus, tmp_path / "index", FakeEncoder(), pool)
    embedding = json.loads((live / "manifest.json").read_text("utf-8"))["embedding"]
    assert (embedding["documents_embedded"], embedding["documents_reused"]) == (2, 4)
    assert_same_builds(live, build(corpus, tmp_path / "full", FakeEncoder(), pool, reuse=False))
    # Vectors made by one-thread workers are not taken for the build encoder's own (its threads
    # may differ): back in this process, everything is embedded again.
    here = build(corpus, tmp_path / "index", FakeEncoder())
    assert json.loads((here / "manifest.json").read_text("utf-8"))["embedding"]["documents_reused"] == 0


class Dropping(InProcess):
    """An embedder that loses one document's chunks (a fake, for the build's check)."""

    def run(self, requests, sink, advance):  # noqa: ANN001
        for request in requests:
            done = embed_request(self.encoder, request)
            vectors = {k: v for k, v in done.vectors.items() if not (done.doc_id == "bericht-002"
                                                                     and k == "chunk_vectors.npy")}
            sink(EmbeddedDocument(done.doc_id, vectors))


def test_a_document_the_embedder_lost_fails_the_build_and_keeps_the_old_index(corpus, tmp_path):
    from rag.index.folder import StoreError

    before = build(corpus, tmp_path / "index", FakeEncoder())
    (corpus / "bericht-002.txt").write_text(document_text(2, 9, variant=1), encoding="utf-8")
    with pytest.raises(StoreError, match="chunk_vectors.npy rows for 'bericht-002'"):
        build(corpus, tmp_path / "index", FakeEncoder(), Dropping(FakeEncoder()))
    assert current_build(tmp_path / "index") == before


def test_on_embedded_sees_each_embedded_document_once(corpus, tmp_path):
    seen: list[EmbeddedDocument] = []
    params = {**Settings().index_params(), "model": "fake-hash-64"}
    build_index(tmp_path / "index", load_documents(corpus), FakeEncoder(), params, seeds_fingerprint(corpus),
                False, embedder=ProcessPool("fake", 2, fake_factory), on_embedded=seen.append)
    index = load_index(tmp_path / "index")
    kinds = {(d.doc_id, kind) for d in seen for kind in d.vectors}
    assert kinds == {(doc, file) for doc in {s.doc_id for s in index.sentences} for file in VECTOR_FILES} | {
        ("", WORDS)}
    chunk = next(d for d in seen if d.doc_id == "bericht-000" and "chunk_vectors.npy" in d.vectors)
    rows = [i for i, c in enumerate(index.chunks) if c.doc_id == "bericht-000"]
    assert np.array_equal(chunk.vectors["chunk_vectors.npy"], index.chunk_vectors[rows])
    assert chunk.texts["chunk_vectors.npy"] == tuple(index.chunks[i].text for i in rows)


# --- the options -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["--workers", "0"], ["--workers", "-2"], ["--ray", "local", "--workers", "0"]]
)
def test_bad_workers_are_one_line_and_exit_2(tmp_path, capsys, args):
    seeds = two_small_documents(tmp_path / "seeds")
    assert main(["index", "--seeds", str(seeds), "--index", str(tmp_path / "index"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "rag: error: --workers wants a whole number of processes >= 1, got " + args[-1]
    assert not (tmp_path / "index").exists()
    with pytest.raises(ValueError, match="build_workers"):
        IndexTuning(build_workers=0)


def test_ray_without_the_extra_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    seeds = two_small_documents(tmp_path / "seeds")
    assert main(["index", "--seeds", str(seeds), "--index", str(tmp_path / "index"), "--ray", "local"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rag: error: --ray needs the optional 'scale' extra")
    assert "pip install 'rag[scale]'" in err
    assert len(err.splitlines()) == 1 and not (tmp_path / "index").exists()


def test_the_options_pick_the_embedder():
    assert embedder_for("m") is None  # today's build: the build encoder in this process
    pool = embedder_for("m", workers=3)
    assert isinstance(pool, ProcessPool) and pool.workers == 3 and pool.threads == 1
    actors = embedder_for("m", workers=2, ray="ray://head:10001")
    assert isinstance(actors, RayActors) and actors.actors == 2 and actors.address == "ray://head:10001"
    with pytest.raises(ValueError, match="address"):
        RayActors("m", " ")


# --- the Ray path as plain functions -----------------------------------------------------------


def test_the_ray_actor_is_the_per_document_function_over_plain_rows():
    """What Ray runs, without Ray: a request as a row, the actor's batch call, the row read back."""
    request = EmbedRequest("doc-7", {"chunk_vectors.npy": ("Eins zwei.", "Drei vier."),
                                     "sentence_vectors.npy": ("Eins.",)}, batch=1)
    row = request_row(request)
    actor = EmbedActor(fake_factory)
    out = actor({"request": np.array([row["request"]], dtype=object)})
    assert out["doc_id"] == ["doc-7"]
    back = row_result(*(out[name][0] for name in ("doc_id", "kinds", "seconds", "dimension", "vectors")))
    direct = embed_request(FakeEncoder(), request)
    assert set(back.vectors) == set(direct.vectors)
    for kind in direct.vectors:
        assert np.array_equal(back.vectors[kind], direct.vectors[kind])


def test_a_ray_actor_can_write_each_document_where_it_was_embedded():
    """The hook for a search engine every node reaches: ``writer`` makes one writer per actor."""
    written: list[EmbeddedDocument] = []
    actor = EmbedActor(fake_factory, writer=lambda: written.append, return_vectors=False)
    rows = [request_row(EmbedRequest(f"d{i}", {"sentence_vectors.npy": (f"Satz {i}.",)}, 4))["request"]
            for i in range(3)]
    out = actor({"request": np.array(rows, dtype=object)})
    assert [d.doc_id for d in written] == ["d0", "d1", "d2"] and all(d.size == 1 for d in written)
    assert out["vectors"] == [b"", b"", b""]
    assert row_result("d0", out["kinds"][0], 0.0, 64, b"").vectors == {}


# --- the real model, a real Ray ----------------------------------------------------------------


@pytest.fixture(scope="module")
def real_corpus(tmp_path_factory) -> Path:
    """The bundled article and three generated documents."""
    folder = tmp_path_factory.mktemp("parallel") / "seeds"
    write_corpus(folder, 3, sentences=12)
    article = (ROOT / "seeds" / "japan-ki-aufholjagd.txt").read_text("utf-8")
    (folder / "artikel.txt").write_text(article, "utf-8")
    return folder


@pytest.mark.slow
def test_real_model_two_workers_are_bit_for_bit_one_and_within_1e6_of_the_default(real_corpus, tmp_path,
                                                                                 real_encoder):
    model = "use-multilingual"
    one = build(real_corpus, tmp_path / "one", real_encoder, ProcessPool(model, 1))
    two = build(real_corpus, tmp_path / "two", real_encoder, ProcessPool(model, 2))
    assert_same_builds(one, two)
    # Today's build: this process, its own BLAS threads. Bit for bit on the machines measured,
    # promised to float tolerance (another BLAS may sum in another order with two threads).
    here = build(real_corpus, tmp_path / "here", real_encoder)
    assert_same_builds(one, here, exact=False, keys=False)


@pytest.mark.slow
def test_ray_smoke_one_local_cpu_gives_the_one_thread_index(real_corpus, tmp_path):
    """A real Ray (``ray.init(num_cpus=1)``, ~7 s and ~700 MB): the actors' index is the one
    one worker process of one BLAS thread builds."""
    ray = pytest.importorskip("ray", reason="the 'scale' extra (make test installs it)")
    pytest.importorskip("ray.data")
    from rag.index.encoders import build_encoder

    encoder = build_encoder("use-multilingual", threads=1)
    seen: list[EmbeddedDocument] = []
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = build(real_corpus, tmp_path / "ray", encoder, RayActors("use-multilingual", "local"),
                       on_embedded=seen.append)
    finally:
        ray.shutdown()
    assert sorted(d.doc_id for d in seen) == ["", "artikel", "bericht-000", "bericht-001", "bericht-002"]
    article = next(d for d in seen if d.doc_id == "artikel")
    index = load_index(tmp_path / "ray")
    rows = [i for i, s in enumerate(index.sentences) if s.doc_id == "artikel"]
    assert article.texts["sentence_vectors.npy"] == tuple(index.sentences[i].text for i in rows)
    assert np.array_equal(article.vectors["sentence_vectors.npy"], index.sentence_vectors[rows])
    in_process = build(real_corpus, tmp_path / "one", encoder, ProcessPool("use-multilingual", 1))
    assert_same_builds(on_ray, in_process)
    manifest = json.loads((on_ray / "manifest.json").read_text("utf-8"))
    assert manifest["embedding"]["documents_embedded"] == 4


@pytest.mark.slow
def test_the_default_path_never_imports_ray(tmp_path):
    """`rag index`, `rag ask` and the chat's modules in one fresh process: ray stays out (it is
    installed for the tests, so an import anywhere on the way would show)."""
    seeds = two_small_documents(tmp_path / "seeds")
    code = textwrap.dedent(f"""
        import json, sys
        from rag.app.cli import main
        args = ["--seeds", {str(seeds)!r}, "--index", {str(tmp_path / "index")!r}]
        assert main(["index", *args]) == 0
        assert main(["ask", "--json", *args, "Who painted the lighthouse of Skarvik?"]) == 0
        import ui
        from rag.app.web.events import build_app
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "ray")))
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "Ola Nordmann" in done.stdout
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
