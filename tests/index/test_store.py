"""Index round trip, staleness and atomic replacement, with a fake encoder (logic only)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings, index_location
from rag.index.store import (
    CURRENT,
    MANIFEST,
    IndexCorrupt,
    IndexMissing,
    build_index,
    current_build,
    ensure_index,
    load_index,
    read_manifest,
    stale_reasons,
)
from rag.ingest import load_documents, seeds_fingerprint
from rag.pipeline import Pipeline


@pytest.fixture
def built(tmp_path, fake_encoder, seeds_copy):
    index_dir = tmp_path / "index"
    settings = Settings(seeds_dir=seeds_copy, index_dir=index_dir)
    docs = load_documents(seeds_copy)
    build_index(index_dir, docs, fake_encoder, settings.index_params(), seeds_fingerprint(seeds_copy), False)
    return settings


def test_round_trip_keeps_tables_vectors_and_manifest(built, fake_encoder):
    index = load_index(built.index_dir)
    m = index.manifest
    for key in ("model", "dimension", "chunk_size", "chunk_stride", "corpus_fingerprint",
                "package_version", "built_at", "index_type", "counts", "format"):
        assert key in m
    assert m["dimension"] == fake_encoder.dim == index.dense.dimension
    assert index.dense.size == len(index.chunks) == m["counts"]["chunks"]
    assert len(index.sentences) == m["counts"]["sentences"] == len(index.sentence_vectors)
    doc = index.documents[0]
    for s in index.sentences:
        assert doc.text[s.start : s.end] == s.text
    # The stored vectors are the encoder's, normalised.
    again = fake_encoder.encode([index.chunks[0].text])[0]
    assert np.allclose(index.chunk_vectors[0], again, atol=1e-6)
    assert np.allclose(np.linalg.norm(index.sentence_vectors, axis=1), 1.0, atol=1e-5)


def test_files_are_json_numpy_faiss_never_pickle(built):
    build = current_build(built.index_dir)
    suffixes = {p.suffix for p in build.rglob("*") if p.is_file()}
    assert suffixes <= {".json", ".npy", ".faiss", ".npz", ""}, suffixes
    for npy in build.rglob("*.npy"):
        np.load(npy, allow_pickle=False)  # raises if an object array (pickle) was stored


def test_stale_reasons_name_what_changed(built, seeds_copy):
    manifest = read_manifest(built.index_dir)
    params = built.index_params()
    fingerprint = seeds_fingerprint(seeds_copy)
    assert stale_reasons(manifest, params, fingerprint) == []
    assert "model changed" in stale_reasons(manifest, {**params, "model": "minilm"}, fingerprint)[0]
    assert any("chunk_size" in r for r in stale_reasons(manifest, {**params, "chunk_size": 2}, fingerprint))
    assert stale_reasons(manifest, params, "0" * 64) == ["the documents changed"]
    older = {**manifest, "package_version": "0.0.1"}
    assert any("built by rag" in r for r in stale_reasons(older, params, fingerprint))


def test_rebuild_when_seeds_change_says_so_and_replaces_atomically(built, fake_encoder, seeds_copy, tmp_path):
    seeds = tmp_path / "seeds2"
    shutil.copytree(seeds_copy, seeds)
    settings = built.with_(seeds_dir=seeds)
    first = current_build(settings.index_dir)
    second = "Ein zweites Dokument über Kyoto. Es hat zwei Sätze."
    (seeds / "zweites.txt").write_text(second, encoding="utf-8")
    messages = []
    index, _ = ensure_index(*index_location(settings), lambda: fake_encoder, messages.append, progress=False)
    assert any("documents changed" in m for m in messages)
    assert index.manifest["counts"]["documents"] == 2
    assert current_build(settings.index_dir) != first
    assert not first.exists()  # the old build is pruned once the new one is live
    messages.clear()
    ensure_index(*index_location(settings), lambda: fake_encoder, messages.append, progress=False)
    assert messages == []  # fresh: loaded, not rebuilt


def test_missing_and_corrupt_index_are_reported(tmp_path, built):
    with pytest.raises(IndexMissing):
        load_index(tmp_path / "nothing")
    build = current_build(built.index_dir)
    (build / "chunks.json").write_text("[", encoding="utf-8")
    with pytest.raises(IndexCorrupt):
        load_index(built.index_dir)
    (built.index_dir / CURRENT).write_text("../elsewhere\n", encoding="utf-8")
    with pytest.raises(IndexCorrupt):
        load_index(built.index_dir)


def test_manifest_is_plain_json(built):
    text = (current_build(built.index_dir) / "manifest.json").read_text(encoding="utf-8")
    assert json.loads(text)["counts"]["documents"] == 1


def test_pipeline_with_fake_encoder_returns_consistent_citations(built, fake_encoder):
    pipeline = Pipeline.open(built, encoder=fake_encoder, progress=False, on_status=lambda m: None)
    answer = pipeline.ask("Wer leitet den Technologieinvestor Softbank?")
    assert answer.hits and [h.rank for h in answer.hits] == list(range(1, len(answer.hits) + 1))
    scores = [h.score for h in answer.hits]
    assert scores == sorted(scores, reverse=True)
    for n, citation in enumerate(answer.citations, start=1):
        assert citation.marker == n and f"[{n}]" in answer.text
        assert citation.sentence.text in answer.text


def test_every_model_has_its_own_index_folder(tmp_path, fake_encoder, seeds_copy):
    """Switching models builds each one's index once; switching back loads, never rebuilds."""
    index_dir = tmp_path / "index"
    default = Settings(seeds_dir=seeds_copy, index_dir=index_dir)
    other = default.with_(model="some-name")
    assert default.model_index_dir == index_dir  # the default model: index/ as always
    assert other.model_index_dir == index_dir / "some-name"

    def open_with(settings: Settings):  # noqa: ANN202
        messages: list[str] = []
        index, built_with = ensure_index(
            *index_location(settings), lambda: fake_encoder, messages.append, progress=False)
        return (index, built_with), messages

    (first, built), _ = open_with(default)
    assert built is fake_encoder
    (second, built), _ = open_with(other)
    assert built is fake_encoder and second.path.parent == index_dir / "some-name"
    assert second.manifest["model"] == "some-name" and first.manifest["model"] == default.model
    assert current_build(index_dir) == first.path  # the default's index is still live
    for settings, index in ((default, first), (other, second)):
        (again, built), messages = open_with(settings)
        assert built is None and messages == [] and again.path == index.path


def test_model_folder_names_are_short_safe_and_distinct():
    from rag.config import model_index_dir, model_slug

    assert model_slug("all-MiniLM-L6-v2") == "minilm"  # an alias: the canonical name
    assert model_slug("MiniLM") == "minilm"  # the canonical name
    assert model_index_dir(Path("index"), "use-multilingual") == Path("index")
    a, b = model_slug("/home/me/models/My Model/"), model_slug("/srv/models/My Model")
    assert a.startswith("my-model-") and b.startswith("my-model-") and a != b
    hub = model_slug("sentence-transformers/all-mpnet-base-v2")
    assert hub.startswith("all-mpnet-base-v2-") and "/" not in hub
    for tricky in ("build-1", "squad-x", "CURRENT", "..", "/", ".hidden"):
        slug = model_slug(tricky)
        assert not slug.startswith(("build-", "tmp-", "squad-", ".")) and slug.lower() != "current", slug
        assert "/" not in slug and slug


def test_stale_reasons_name_each_change_with_its_values(tmp_path, fake_encoder, capsys):
    from rag import __version__
    from rag.index.store import FORMAT_VERSION, stale_reasons

    current = {"format": FORMAT_VERSION, "package_version": __version__, "chunk_size": 5,
               "corpus_fingerprint": "abc"}
    assert stale_reasons(current, {"chunk_size": 5}, "abc") == []
    old = {"format": 1, "package_version": "0.0.1", "chunk_size": 7, "corpus_fingerprint": "xyz"}
    assert stale_reasons(old, {"chunk_size": 5, "model": "use"}, "abc") == [
        "it was written in another index format",
        f"it was built by rag 0.0.1, this is {__version__}",
        "chunk_size changed (7 -> 5)",
        "model changed (None -> 'use')",
        "the documents changed",
    ]
    # The default status report is stderr, one line each, nothing on stdout.
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "fuji.txt").write_text("Der Fuji ist der höchste Berg Japans.\n", encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    Pipeline.open(settings, encoder=fake_encoder, progress=False)
    out, err = capsys.readouterr()
    assert out == "" and any(line.startswith("Index built") for line in err.splitlines())


def _tamper(build: Path, file: str, change) -> None:  # noqa: ANN001
    """Rewrite one file of a build and record its new size in the manifest, so only the
    consistency check between the loaded parts can notice."""
    path = build / file
    if file.endswith(".json"):
        path.write_text(json.dumps(change(json.loads(path.read_text("utf-8")))), encoding="utf-8")
    else:
        np.save(path, change(np.load(path)), allow_pickle=False)
    manifest = json.loads((build / MANIFEST).read_text("utf-8"))
    manifest["files"][file] = path.stat().st_size
    (build / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("file,change", [
    ("chunks.json", lambda chunks: chunks[:-1]),  # the vector index holds one chunk more
    ("sentence_vectors.npy", lambda rows: rows[:-1]),  # a sentence without its vector
    ("context_vectors.npy", lambda rows: rows[:-1]),
    ("sentence_word_offsets.npy", lambda offsets: offsets[:-1]),  # the word table one sentence short
])
def test_an_index_whose_parts_disagree_in_size_is_corrupt_not_loaded(built, file, change):
    """Every part of a loaded index must describe the same chunks and sentences: any one that
    does not (a file replaced by hand, a half-copied folder) is refused with one message. Written
    against surviving mutants in load_index (``and`` -> ``or`` in the size checks)."""
    build = current_build(built.model_index_dir)
    if file == "sentence_word_offsets.npy":  # keep the table itself consistent: ids end earlier
        offsets = np.load(build / file)
        _tamper(build, "sentence_word_ids.npy", lambda ids: ids[: int(offsets[-2])])
    _tamper(build, file, change)
    with pytest.raises(IndexCorrupt, match="inconsistent"):
        load_index(built.model_index_dir)


class _FailingEncoder:
    """A fake encoder that fails after its first batch (as a killed or crashing model would)."""

    def __init__(self, base) -> None:  # noqa: ANN001
        self.base, self.calls = base, 0
        self.name, self.dimension = base.name, base.dimension

    def encode(self, texts):  # noqa: ANN001, ANN201
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("the model crashed")
        return self.base.encode(texts)


def test_a_failed_build_leaves_no_temporary_folder_and_the_live_index_untouched(
    built, fake_encoder, seeds_copy
):
    """The clean-up of a failed build (a surviving mutant of build_index reached only by the
    killed-build test in a child process): its tmp- folder goes, the live build stays."""
    index_dir = built.model_index_dir
    live = current_build(index_dir)
    docs = load_documents(seeds_copy)
    with pytest.raises(RuntimeError, match="crashed"):
        build_index(index_dir, docs, _FailingEncoder(fake_encoder), built.index_params(), "other", False,
                    reuse=False)
    assert not [p for p in index_dir.iterdir() if p.name.startswith("tmp-")]
    assert current_build(index_dir) == live and load_index(index_dir).path == live


def test_encode_texts_gives_the_encoders_rows_in_order(fake_encoder, capsys):
    """``encode_texts`` (the bench's and the real builds' batch encoding) returns every text's
    row in order, across batch boundaries, with a progress bar only when asked (a surviving
    mutant: its call of the batch loop with other arguments, reached only by real builds)."""
    from rag.config import IndexTuning
    from rag.index.build import encode_texts

    texts = [f"Satz Nummer {i} über Softbank" for i in range(IndexTuning().encode_batch + 5)]
    rows = encode_texts(fake_encoder, texts, progress=False, desc="test")
    assert rows.shape == (len(texts), fake_encoder.dimension) and rows.dtype == np.float32
    assert np.allclose(rows, fake_encoder.encode(texts))
    assert capsys.readouterr().err == ""
    encode_texts(fake_encoder, texts[:3], progress=True, desc="probe")
    assert "probe" in capsys.readouterr().err
