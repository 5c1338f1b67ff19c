"""Incremental builds: only added or changed documents are embedded, and the result is bit for bit
a full rebuild. Logic with a fake encoder that records what it is asked to encode; one slow test
with the real model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import WORD_FILES, FakeEncoder

from rag.app.cli import main
from rag.bench.incremental import document_text, write_corpus
from rag.config import Settings, index_location
from rag.index.build import VECTOR_FILES, sentences_in_context
from rag.index.reuse import VECTOR_KEYS
from rag.index.store import (
    build_index,
    current_build,
    ensure_index,
    load_index,
)
from rag.ingest import load_documents, seeds_fingerprint, sentences_of, sentences_of_all
from rag.ingest.chunking import chunk_sentences


class RecordingFakeEncoder(FakeEncoder):
    """The fake hashing encoder, keeping every document text it was asked to encode (a fake, for
    logic). The word table's vocabulary is encoded anew at every build, full or incremental, in
    one call (rag/index/words.py; ``test_the_word_table_is_the_same_as_a_full_rebuild``): those
    words are counted in ``words``, not in ``texts``, since these tests are about what is reused."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__(dim)
        self.texts: list[str] = []
        self.words: list[str] = []

    def encode(self, texts) -> np.ndarray:  # noqa: ANN001
        caller = sys._getframe(2).f_globals.get("__name__", "")  # encode() -> WordTable.build
        if caller == "rag.index.words":
            self.words.extend(texts)
            self.calls -= 1  # counted in words, not in calls
        else:
            self.texts.extend(texts)
        return super().encode(texts)


def texts_of(folder: Path, names: list[str] | None = None, chunk_size: int = 3) -> set[str]:
    """Every text a build embeds for the documents in ``folder`` (all, or those named)."""
    docs = [d for d in load_documents(folder) if names is None or d.doc_id in names]
    out: set[str] = set()
    for doc in docs:
        sentences = sentences_of(doc)
        out.update(s.text for s in sentences)
        out.update(sentences_in_context(sentences))
        out.update(c.text for c in chunk_sentences(sentences, chunk_size, 1))
    return out


def build(
    folder: Path, index_dir: Path, encoder: FakeEncoder, reuse: bool = True, chunk_size: int = 3
) -> Path:
    params = {**Settings(index_dir=index_dir).index_params(), "model": encoder.name, "chunk_size": chunk_size}
    return build_index(
        index_dir, load_documents(folder), encoder, params, seeds_fingerprint(folder), False, reuse=reuse
    )


def assert_same_as_full_rebuild(folder: Path, index_dir: Path, tmp_path: Path, chunk_size: int = 3) -> None:
    fresh = build(folder, tmp_path / "fresh", RecordingFakeEncoder(), reuse=False, chunk_size=chunk_size)
    live = current_build(index_dir)
    for file in VECTOR_FILES + WORD_FILES:
        a, b = np.load(live / file), np.load(fresh / file)
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), file
    for file in ("sentences.json", "chunks.json", "names.json", "words.json"):
        assert json.loads((live / file).read_text("utf-8")) == json.loads((fresh / file).read_text("utf-8"))
    load_index(index_dir)  # and the incremental build loads


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "seeds"
    write_corpus(folder, 4, sentences=9)
    return folder


def test_texts_never_cross_a_document(corpus):
    """What makes per-document reuse sound: all documents' texts are each document's texts."""
    docs = load_documents(corpus)
    together = sentences_of_all(docs)
    chunks = chunk_sentences(together, 3, 1)
    contexts = sentences_in_context(together)
    per_doc_chunks, per_doc_contexts = [], []
    for doc in docs:
        own = sentences_of(doc)
        per_doc_chunks += [c.text for c in chunk_sentences(own, 3, 1)]
        per_doc_contexts += sentences_in_context(own)
    assert [c.text for c in chunks] == per_doc_chunks
    assert contexts == per_doc_contexts


def test_first_build_embeds_everything_and_says_so(corpus, tmp_path):
    encoder = RecordingFakeEncoder()
    live = build(corpus, tmp_path / "index", encoder)
    embedding = json.loads((live / "manifest.json").read_text("utf-8"))["embedding"]
    assert embedding["documents_embedded"] == 4 and embedding["documents_reused"] == 0
    assert set(encoder.texts) == texts_of(corpus)
    assert embedding["texts_embedded"] == len(encoder.texts) and embedding["texts_reused"] == 0


def test_adding_a_document_embeds_only_it(corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(corpus, index_dir, RecordingFakeEncoder())
    (corpus / "neu.txt").write_text(document_text(99, 7), encoding="utf-8")
    encoder = RecordingFakeEncoder()
    live = build(corpus, index_dir, encoder)
    assert set(encoder.texts) == texts_of(corpus, ["neu"])
    embedding = json.loads((live / "manifest.json").read_text("utf-8"))["embedding"]
    assert (embedding["documents_embedded"], embedding["documents_reused"]) == (1, 4)
    assert embedding["texts_embedded"] == len(encoder.texts)
    assert_same_as_full_rebuild(corpus, index_dir, tmp_path)


def test_changing_a_document_embeds_only_it(corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(corpus, index_dir, RecordingFakeEncoder())
    (corpus / "bericht-002.txt").write_text(document_text(2, 9, variant=5), encoding="utf-8")
    encoder = RecordingFakeEncoder()
    build(corpus, index_dir, encoder)
    assert encoder.texts and set(encoder.texts) <= texts_of(corpus, ["bericht-002"])
    assert not set(encoder.texts) & texts_of(corpus, ["bericht-000", "bericht-001", "bericht-003"])
    assert_same_as_full_rebuild(corpus, index_dir, tmp_path)


def test_a_same_length_edit_is_embedded_again_and_bit_for_bit_a_full_rebuild(corpus, tmp_path):
    """One letter changed, the byte length of every text kept: the vectors are keyed by the texts'
    bytes, not their lengths, so the changed sentence is embedded again (a key of lengths reused
    the old vectors and failed here)."""
    index_dir = tmp_path / "index"
    build(corpus, index_dir, RecordingFakeEncoder())
    path = corpus / "bericht-002.txt"
    text = path.read_text("utf-8")
    body = text.index("---\n", 4) + 4
    word = next(w.strip(".,") for w in text[body:].split() if len(w.strip(".,")) >= 6 and w.isalpha())
    at = text.index(word, body)
    swapped = word[:-1] + ("x" if word[-1] != "x" else "y")  # same length, same byte length
    edited = text[:at] + swapped + text[at + len(word):]
    assert len(edited.encode("utf-8")) == len(text.encode("utf-8")) and edited != text
    assert not np.array_equal(*FakeEncoder().encode([word, swapped]))  # the fake sees the edit
    path.write_text(edited, encoding="utf-8")
    encoder = RecordingFakeEncoder()
    build(corpus, index_dir, encoder)
    assert any(swapped in t for t in encoder.texts), "the edited sentence was not embedded again"
    assert set(encoder.texts) <= texts_of(corpus, ["bericht-002"])  # only the edited document
    assert_same_as_full_rebuild(corpus, index_dir, tmp_path)


def test_removing_a_document_embeds_nothing_and_prunes_its_entries(corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(corpus, index_dir, RecordingFakeEncoder())
    (corpus / "bericht-001.txt").unlink()
    encoder = RecordingFakeEncoder()
    live = build(corpus, index_dir, encoder)
    assert encoder.texts == [] and encoder.calls == 0
    assert_same_as_full_rebuild(corpus, index_dir, tmp_path)
    # One build on disk, and its table names only the three documents left (3 per kind).
    assert [p.name for p in index_dir.iterdir() if p.name.startswith("build-")] == [live.name]
    table = json.loads((live / VECTOR_KEYS).read_text("utf-8"))["files"]
    assert sorted(table) == sorted(VECTOR_FILES) and all(len(rows) == 3 for rows in table.values())


def test_a_new_chunk_size_reuses_sentence_vectors(corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(corpus, index_dir, RecordingFakeEncoder())
    encoder = RecordingFakeEncoder()
    build(corpus, index_dir, encoder, chunk_size=2)
    docs = load_documents(corpus)
    chunk_texts = {c.text for c in chunk_sentences(sentences_of_all(docs), 2, 1)}
    assert encoder.texts and set(encoder.texts) <= chunk_texts
    assert_same_as_full_rebuild(corpus, index_dir, tmp_path, chunk_size=2)


def test_another_encoder_reuses_nothing(corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(corpus, index_dir, RecordingFakeEncoder(64))
    other = RecordingFakeEncoder(32)  # another name and dimension
    build(corpus, index_dir, other)
    assert set(other.texts) == texts_of(corpus)


def test_reuse_false_embeds_everything(corpus, tmp_path):
    index_dir = tmp_path / "index"
    build(corpus, index_dir, RecordingFakeEncoder())
    encoder = RecordingFakeEncoder()
    build(corpus, index_dir, encoder, reuse=False)
    assert set(encoder.texts) == texts_of(corpus)


def test_damaged_entries_are_embedded_again_never_trusted(corpus, tmp_path):
    index_dir = tmp_path / "index"
    live = build(corpus, index_dir, RecordingFakeEncoder())
    table = json.loads((live / VECTOR_KEYS).read_text("utf-8"))["files"]
    # Same size, other bits: one value of the second document's sentence rows.
    sentences = np.load(live / "sentence_vectors.npy")
    start = table["sentence_vectors.npy"][1]["rows"][0]
    sentences[start, 0] += 0.5
    np.save(live / "sentence_vectors.npy", sentences)
    # Another dimension for every context row.
    contexts = np.load(live / "context_vectors.npy")
    np.save(live / "context_vectors.npy", np.ascontiguousarray(contexts[:, :32]))
    encoder = RecordingFakeEncoder()
    live = build(corpus, index_dir, encoder)
    docs = load_documents(corpus)
    second = sentences_of(docs[1])
    everything = sentences_of_all(docs)
    # The tampered document's sentences and every sentence in context, nothing else.
    assert len(encoder.texts) == len(second) + len(everything)
    assert {s.text for s in second} | set(sentences_in_context(everything)) == set(encoder.texts)
    embedding = json.loads((live / "manifest.json").read_text("utf-8"))["embedding"]
    assert embedding["texts_embedded"] == len(encoder.texts)
    assert_same_as_full_rebuild(corpus, index_dir, tmp_path)


@pytest.mark.parametrize("damage", ["{", '{"format": 1, "files": {"chunk_vectors.npy": [{"key": 1}]}}', None])
def test_an_unreadable_or_missing_table_means_a_full_embedding(corpus, tmp_path, damage):
    index_dir = tmp_path / "index"
    live = build(corpus, index_dir, RecordingFakeEncoder())
    if damage is None:
        (live / VECTOR_KEYS).unlink()  # as in a build made before incremental builds
    else:
        (live / VECTOR_KEYS).write_text(damage, encoding="utf-8")
    encoder = RecordingFakeEncoder()
    build(corpus, index_dir, encoder)
    assert set(encoder.texts) == texts_of(corpus)
    assert_same_as_full_rebuild(corpus, index_dir, tmp_path)


def test_ensure_index_reuses_and_force_does_not(corpus, tmp_path):
    settings = Settings(seeds_dir=corpus, index_dir=tmp_path / "index")
    encoder = RecordingFakeEncoder()
    ensure_index(*index_location(settings), lambda: encoder, lambda m: None, progress=False)
    (corpus / "neu.txt").write_text(document_text(42, 6), encoding="utf-8")
    encoder.texts.clear()
    index, built = ensure_index(*index_location(settings), lambda: encoder, lambda m: None, progress=False)
    assert built is encoder and set(encoder.texts) == texts_of(corpus, ["neu"])
    assert index.manifest["embedding"]["documents_embedded"] == 1
    encoder.texts.clear()
    ensure_index(*index_location(settings), lambda: encoder, lambda m: None, force=True, progress=False)
    assert set(encoder.texts) == texts_of(corpus)


def test_rag_add_and_remove_embed_only_what_changed(corpus, tmp_path, monkeypatch, capsys):
    encoder = RecordingFakeEncoder()
    monkeypatch.setattr("rag.index.encoders.build_encoder", lambda *a, **k: encoder)
    common = ["--seeds", str(corpus), "--index", str(tmp_path / "index")]
    assert main(["index", *common]) == 0
    upload = tmp_path / "upload" / "hafen.txt"
    upload.parent.mkdir()
    upload.write_text(document_text(7, 8, variant=3), encoding="utf-8")
    encoder.texts.clear()
    assert main(["add", *common, str(upload)]) == 0
    assert set(encoder.texts) == texts_of(corpus, ["hafen"])
    encoder.texts.clear()
    assert main(["remove", *common, "bericht-003"]) == 0
    assert encoder.texts == []
    manifest = load_index(tmp_path / "index").manifest
    assert manifest["embedding"]["documents_embedded"] == 0 and manifest["counts"]["documents"] == 4
    capsys.readouterr()


@pytest.mark.slow
def test_incremental_build_with_the_real_model_is_bit_for_bit_a_full_rebuild(tmp_path, real_encoder):
    folder = tmp_path / "seeds"
    write_corpus(folder, 3, sentences=12)
    settings = Settings(seeds_dir=folder, index_dir=tmp_path / "index")
    ensure_index(*index_location(settings), lambda: real_encoder, lambda m: None, progress=False)
    (folder / "neu.txt").write_text(document_text(50, 10), encoding="utf-8")
    (folder / "bericht-001.txt").write_text(document_text(1, 12, variant=2), encoding="utf-8")
    (folder / "bericht-002.txt").unlink()
    index, _ = ensure_index(*index_location(settings), lambda: real_encoder, lambda m: None, progress=False)
    assert index.manifest["embedding"]["documents_embedded"] == 2  # the new and the changed one
    assert index.manifest["embedding"]["documents_reused"] == 1
    full_settings = settings.with_(index_dir=tmp_path / "full")
    full, _ = ensure_index(
        *index_location(full_settings), lambda: real_encoder, lambda m: None, progress=False,
    )
    assert full.manifest["embedding"]["documents_reused"] == 0
    for name in ("chunk_vectors", "sentence_vectors", "context_vectors"):
        a, b = np.asarray(getattr(index, name)), np.asarray(getattr(full, name))
        assert a.shape == b.shape and np.array_equal(a, b), name
    # The reused rows are what encoding that document alone gives.
    first = [s.text for s in index.sentences if s.doc_id == "bericht-000"]
    rows = [i for i, s in enumerate(index.sentences) if s.doc_id == "bericht-000"]
    assert np.array_equal(index.sentence_vectors[rows], real_encoder.encode(first))


def test_unchanged_documents_keep_their_sentences(corpus, tmp_path, monkeypatch):
    import rag.index.build as building

    split: list[str] = []
    real_split = building.sentences_of

    def counting_split(doc, first_id=0):  # noqa: ANN001, ANN202
        split.append(doc.doc_id)
        return real_split(doc, first_id)

    monkeypatch.setattr(building, "sentences_of", counting_split)
    index_dir = tmp_path / "index"
    build(corpus, index_dir, RecordingFakeEncoder())
    assert sorted(split) == ["bericht-000", "bericht-001", "bericht-002", "bericht-003"]
    split.clear()
    (corpus / "bericht-001.txt").write_text(document_text(1, 9, variant=4), encoding="utf-8")
    (corpus / "bericht-000.txt").unlink()  # the others' sentence ids all move down
    (corpus / "neu.txt").write_text(document_text(77, 5), encoding="utf-8")
    live = build(corpus, index_dir, RecordingFakeEncoder())
    assert sorted(split) == ["bericht-001", "neu"]
    assert json.loads((live / "manifest.json").read_text("utf-8"))["embedding"]["documents_split"] == 2
    split.clear()
    build(corpus, index_dir, RecordingFakeEncoder(), reuse=False)
    assert len(split) == 4
    assert_same_as_full_rebuild(corpus, index_dir, tmp_path)


def test_an_index_built_by_another_process_while_we_waited_is_used(corpus, tmp_path, monkeypatch):
    """ensure_index checks again under the build lock: when the index was built meanwhile (by the
    process that held the lock) it is loaded, no encoder is made and nothing is embedded."""
    import contextlib

    import rag.index.store as store

    settings = Settings(seeds_dir=corpus, index_dir=tmp_path / "index")
    real_lock = store.build_lock

    @contextlib.contextmanager
    def lock_held_by_another_build(folder, on_wait=None):  # noqa: ANN001, ANN202
        # What the process that held the lock did meanwhile: the same build ensure_index makes.
        build_index(settings.model_index_dir, load_documents(corpus), RecordingFakeEncoder(),
                    settings.index_params(), seeds_fingerprint(corpus), False)
        with real_lock(folder, on_wait=on_wait):
            yield

    monkeypatch.setattr(store, "build_lock", lock_held_by_another_build)
    made: list[RecordingFakeEncoder] = []
    index, built = ensure_index(
        *index_location(settings), lambda: made.append(RecordingFakeEncoder()) or made[-1],
                                lambda m: None, progress=False)
    assert built is None and made == []
    assert index.manifest["counts"]["documents"] == 4


def test_an_index_folder_with_missing_parents_is_created(corpus, tmp_path):
    live = build(corpus, tmp_path / "new" / "nested" / "index", RecordingFakeEncoder())
    assert live.parent == tmp_path / "new" / "nested" / "index"
    load_index(tmp_path / "new" / "nested" / "index")
