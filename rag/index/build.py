"""Building one index: split the documents into sentences and chunks, embed them (reusing the
live build's vectors of unchanged documents, :mod:`rag.index.reuse`), and write every file of a
build folder (see :mod:`rag.index.folder` for the folder around it)::

    build-<time>-<pid>/   manifest.json, documents.json, sentences.json, chunks.json, names.json,
                          dense.* (the vector index), chunk_vectors.npy, sentence_vectors.npy,
                          context_vectors.npy, vector_keys.json (which rows are whose: reuse.py),
                          bm25_chunks/, bm25_sentences/, trigrams_sentences/ (each with one
                          folder per document language, lexical_parts.py), the word table
                          (words.py)
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np

from rag import __version__
from rag.config import IndexTuning
from rag.index.dense import build_vector_index
from rag.index.embedding import (
    VOCABULARY_ID,
    WORDS,
    EmbeddedDocument,
    Embedder,
    EmbedRequest,
    InProcess,
    Sink,
    encode_in_batches,
)
from rag.index.encoders import Encoder
from rag.index.folder import (
    FORMAT_VERSION,
    MANIFEST,
    StoreError,
    live_build,
    make_live,
    new_build,
    prune,
    write_json,
)
from rag.index.lexical import TRIGRAMS
from rag.index.lexical_parts import LexicalParts
from rag.index.loaded import previous_in_paragraph
from rag.index.names import person_names, place_names, sentence_names
from rag.index.reuse import (
    Embedded,
    PreviousVectors,
    assemble,
    encoder_identity,
    lookup,
    reuse_counts,
    sentences_by_document,
    write_keys,
)
from rag.index.words import Vocabulary, WordTable
from rag.ingest import sentences_of
from rag.ingest.chunking import chunk_sentences
from rag.records import Chunk, Document, Sentence

VECTOR_FILES = ("chunk_vectors.npy", "sentence_vectors.npy", "context_vectors.npy")


def corpus_language(documents: Sequence[Document]) -> str:
    """The language most of the text is in: questions whose language is unclear are taken to be
    in it. (Each document is stemmed in its own language, see lexical_parts.py.)"""
    if not documents:
        raise ValueError("a corpus without documents has no language")
    sizes: dict[str, int] = {}
    for doc in documents:
        sizes[doc.language] = sizes.get(doc.language, 0) + len(doc.text)
    return max(sizes, key=sizes.__getitem__)


def encode_texts(
    encoder: Encoder, texts: Sequence[str], progress: bool, desc: str, batch: int = IndexTuning.encode_batch
) -> np.ndarray:
    """Normalised float32 vectors in batches, with a progress bar on stderr."""
    from tqdm import tqdm

    bar = tqdm(total=len(texts), desc=desc, unit="text", disable=not progress, file=sys.stderr)
    out = encode_in_batches(encoder, texts, batch, bar.update)
    bar.close()
    return out


@dataclass
class BuildVectors:
    """What the embedding step gives the build: the three vector files (rows of reused and
    newly encoded documents, in order) and, when the embedder encoded it, the vocabulary's rows."""

    files: dict[str, Embedded]
    words: np.ndarray | None = None


class LocalSink:
    """Where a local build writes each embedded document: by document and kind, until the vector
    files are assembled in document order. The one place embedded documents are written; another
    store hooks in beside it (``build_index(on_embedded=...)``)."""

    def __init__(self, then: Sink | None = None) -> None:
        self.rows: dict[tuple[str, str], np.ndarray] = {}
        self.then = then

    def __call__(self, document: EmbeddedDocument) -> None:
        for kind, rows in document.vectors.items():
            if (document.doc_id, kind) in self.rows:
                raise StoreError(f"{document.doc_id!r} was embedded twice ({kind})")
            self.rows[(document.doc_id, kind)] = rows
        if self.then is not None:
            self.then(document)

    def take(self, doc_id: str, kind: str) -> np.ndarray:
        try:
            return self.rows.pop((doc_id, kind))
        except KeyError:
            raise StoreError(f"the embedder gave no {kind} rows for {doc_id!r}") from None


def embed_by_document(
    index_dir: Path | None,
    encoder: Encoder,
    sentences: Sequence[Sentence],
    chunks: Sequence[Chunk],
    progress: bool,
    batch: int = IndexTuning.encode_batch,
    embedder: Embedder | None = None,
    words: Sequence[str] | None = None,
    on_embedded: Sink | None = None,
) -> BuildVectors:
    """The chunk, sentence and context vectors (by file name), each document encoded in its own
    calls, reusing the live build's rows of unchanged documents (``index_dir`` None: no reuse).

    ``embedder`` runs the encoding (default: :class:`InProcess` with ``encoder``; see
    :mod:`rag.index.embedding`); ``words`` (the vocabulary, in order) is then encoded by it too,
    in one call. ``on_embedded`` sees every embedded document after the build has it. See
    :mod:`rag.index.reuse` for why per document and how an entry is checked.
    """
    from tqdm import tqdm

    embedder = embedder or InProcess(encoder)
    previous = PreviousVectors(live_build(index_dir) if index_dir is not None else None, encoder.dimension)
    identity = encoder_identity(encoder, batch, embedder.threads)
    contexts = sentences_in_context(sentences)
    by_doc = _runs([s.doc_id for s in sentences])
    chunk_groups = _runs([c.doc_id for c in chunks])
    if [doc for doc, _, _ in by_doc] != [doc for doc, _, _ in chunk_groups]:
        raise StoreError("chunks and sentences disagree on the order of the documents")
    doc_ids = [doc for doc, _, _ in by_doc]
    groups = {
        "chunk_vectors.npy": [[c.text for c in chunks[a:b]] for _, a, b in chunk_groups],
        "sentence_vectors.npy": [[s.text for s in sentences[a:b]] for _, a, b in by_doc],
        "context_vectors.npy": [contexts[a:b] for _, a, b in by_doc],
    }
    try:
        looked_up = {file: lookup(texts, identity, previous) for file, texts in groups.items()}
    finally:
        previous.close()
    requests = []
    for number, doc_id in enumerate(doc_ids):
        missing = {
            file: tuple(texts[number])
            for file, texts in groups.items()
            if texts[number] and looked_up[file][1][number] is None
        }
        if missing:
            requests.append(EmbedRequest(doc_id, missing, batch))
    if words:
        requests.append(EmbedRequest(VOCABULARY_ID, {WORDS: tuple(words)}, batch))
    sink = LocalSink(on_embedded)
    total = sum(r.size for r in requests)
    bar = tqdm(total=total, desc="embedding", unit="text", disable=not progress or not total, file=sys.stderr)
    try:
        embedder.run(requests, sink, bar.update)
    finally:
        bar.close()
    files: dict[str, Embedded] = {}
    for file, texts in groups.items():

        def fresh(number: int, file: str = file) -> np.ndarray:
            return sink.take(doc_ids[number], file)

        files[file] = assemble(texts, looked_up[file][0], looked_up[file][1], fresh, encoder.dimension)
    word_rows = sink.take(VOCABULARY_ID, WORDS) if words else None
    return BuildVectors(files, word_rows)


def _runs(doc_ids: Sequence[str]) -> list[tuple[str, int, int]]:
    """(doc_id, start, stop) of each run of one document's rows, in order."""
    runs: list[tuple[str, int, int]] = []
    start = 0
    for doc_id, group in groupby(doc_ids):
        stop = start + sum(1 for _ in group)
        runs.append((doc_id, start, stop))
        start = stop
    return runs


def sentences_in_context(sentences: Sequence[Sentence]) -> list[str]:
    """Each sentence preceded by the previous one of its paragraph: "Er nennt ..." then knows who."""
    texts = []
    for i, sentence in enumerate(sentences):
        previous = previous_in_paragraph(sentences, i)
        texts.append(f"{previous.text} {sentence.text}" if previous is not None else sentence.text)
    return texts


def build_index(
    index_dir: Path,
    documents: Sequence[Document],
    encoder: Encoder,
    params: dict[str, Any],
    corpus_fingerprint: str,
    progress: bool = True,
    index_type: str | None = None,
    approximate_from: int | None = None,
    reuse: bool = True,
    tuning: IndexTuning | None = None,
    embedder: Embedder | None = None,
    on_embedded: Sink | None = None,
) -> Path:
    """Build into a temporary folder, then make it live; returns the live build folder.

    ``embedder`` decides where texts are encoded (default: here, with ``encoder``; worker
    processes or Ray actors, :mod:`rag.index.embedding`); with one of its own, the word table's
    vocabulary goes through it too. ``on_embedded`` is called with every document embedded (not
    the reused ones): the hook for a store that takes documents as they come.

    Only documents whose texts changed are embedded and split into sentences: the others'
    vectors and sentences are taken from the live build (:mod:`rag.index.reuse`);
    ``reuse=False`` does everything again. The manifest's ``embedding`` says how many documents
    were embedded, reused and split.

    The caller holds the build lock (see :func:`rag.index.folder.build_lock`). ``index_type``
    forces the FAISS structure; otherwise it follows the corpus size (``approximate_from``
    overrides ``tuning.approximate_from``, see :func:`rag.index.dense.choose_index_type`). The
    manifest records what was built.
    """
    started = time.perf_counter()
    tuning = tuning or IndexTuning()
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    previous = live_build(index_dir) if reuse else None
    sentences, split = sentences_by_document(previous, documents, sentences_of)
    if not sentences:
        raise StoreError("the documents contain no sentences to index")
    chunks = chunk_sentences(sentences, int(params["chunk_size"]), int(params["chunk_stride"]))
    name, tmp = new_build(index_dir)
    written: _WrittenSearch | None = None
    try:
        max_words = int(params.get("max_word_vectors", 200_000))
        # Another embedder also encodes the vocabulary (one call, beside the documents); here,
        # the word table encodes it itself after the documents, as it always did.
        own = embedder is not None and not isinstance(embedder, InProcess)
        layout = _vocabulary(documents, sentences) if own else None
        built = embed_by_document(
            index_dir if reuse else None, encoder, sentences, chunks, progress, tuning.encode_batch,
            embedder, layout.words[:max_words] if layout is not None else None, on_embedded,
        )
        embedded = built.files
        vectors = embedded["chunk_vectors.npy"].vectors
        for file, part in embedded.items():
            np.save(tmp / file, part.vectors, allow_pickle=False)
        write_keys(tmp, embedded)
        words = (
            WordTable.from_vectors(layout, built.words)
            if layout is not None and built.words is not None
            else None
        )
        written = _write_chunk_search(
            tmp, index_dir, name, documents, chunks, vectors, params, index_type, approximate_from,
            tuning, previous,
        )
        _write_search_tables(tmp, documents, sentences, encoder, max_words, words)
        _write_records(tmp, documents, sentences, chunks)
        embedding = {**reuse_counts(list(embedded.values())), "documents_split": split}
        manifest = _manifest(tmp, params, written.described, documents, sentences, chunks, corpus_fingerprint,
                             embedding)
        manifest["build_seconds"] = round(time.perf_counter() - started, 3)
        write_json(tmp / MANIFEST, manifest)
        live = make_live(index_dir, tmp, name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if written is not None:
            written.abandon()
        raise
    written.made_live()
    prune(index_dir, keep=name)
    return live


def _nothing() -> None:
    pass


@dataclass(frozen=True)
class _WrittenSearch:
    """What a build wrote for chunk search, as the manifest records it; ``made_live`` and
    ``abandon`` let a backend switch its alias, or drop what a failed build created."""

    described: dict[str, Any]
    made_live: Callable[[], None] = _nothing
    abandon: Callable[[], None] = _nothing


def _write_chunk_search(
    tmp: Path,
    index_dir: Path,
    name: str,
    documents: Sequence[Document],
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    params: dict[str, Any],
    index_type: str | None,
    approximate_from: int | None,
    tuning: IndexTuning,
    previous: Path | None,
) -> _WrittenSearch:
    """The chunks' vector index and BM25: FAISS and bm25s files here, or Qdrant's engine
    (``params["backend"]``, rag/search/)."""
    doc_language = {d.doc_id: d.language for d in documents}
    chunk_languages = [doc_language[c.doc_id] for c in chunks]
    if params.get("backend", "local") == "qdrant":
        from rag.search.qdrant_build import write_qdrant

        described, made_live, abandon = write_qdrant(
            tmp, index_dir, name, chunks, chunk_languages, vectors, params, tuning, previous
        )
        return _WrittenSearch(described, made_live, abandon)
    dense = build_vector_index(vectors, index_type, approximate_from, tuning)
    dense.save(tmp)
    LexicalParts.build([c.text for c in chunks], chunk_languages).save(tmp / "bm25_chunks")
    return _WrittenSearch({"name": "local", "dimension": int(dense.dimension), **dense.describe()})


def _write_search_tables(
    tmp: Path,
    documents: Sequence[Document],
    sentences: Sequence[Sentence],
    encoder: Encoder,
    max_word_vectors: int,
    words: WordTable | None = None,
) -> None:
    """BM25 over sentences, sentence trigrams (each per document language) and the word table
    (``words``, else encoded here): the answer step's; the chunks' search is the backend's
    (:func:`_write_chunk_search`)."""
    doc_language = {d.doc_id: d.language for d in documents}
    sentence_languages = [doc_language[s.doc_id] for s in sentences]
    sentence_texts = [s.text for s in sentences]
    LexicalParts.build(sentence_texts, sentence_languages).save(tmp / "bm25_sentences")
    LexicalParts.build(sentence_texts, sentence_languages, TRIGRAMS).save(tmp / "trigrams_sentences")
    if words is None:
        words = WordTable.build(sentence_texts, sentence_languages, encoder, max_word_vectors)
    words.save(tmp)


def _vocabulary(documents: Sequence[Document], sentences: Sequence[Sentence]) -> Vocabulary:
    """The word table's words, as :meth:`WordTable.build` finds them."""
    doc_language = {d.doc_id: d.language for d in documents}
    return Vocabulary.of([s.text for s in sentences], [doc_language[s.doc_id] for s in sentences])


def _write_records(
    tmp: Path, documents: Sequence[Document], sentences: Sequence[Sentence], chunks: Sequence[Chunk]
) -> None:
    """The documents, sentences and chunks, and each sentence's names (places and persons)."""
    write_json(tmp / "documents.json", [asdict(d) for d in documents])
    write_json(tmp / "sentences.json", [asdict(s) for s in sentences])
    write_json(tmp / "chunks.json", [asdict(c) for c in chunks])
    names = sentence_names(documents, sentences)
    write_json(
        tmp / "names.json",
        {
            "sentences": names,
            "places": place_names(n for found in names for n in found),
            "persons": person_names(sentences, names),
        },
    )


def _manifest(
    tmp: Path,
    params: dict[str, Any],
    search: dict[str, Any],
    documents: Sequence[Document],
    sentences: Sequence[Sentence],
    chunks: Sequence[Chunk],
    corpus_fingerprint: str,
    embedding: dict[str, Any],
) -> dict[str, Any]:
    """What the build holds (every file with its size), what it was built from and with."""
    # A Qdrant Edge shard (rag/search/qdrant.py) writes its own files as it is opened: the
    # engine checks them, not their sizes here.
    files = {p.relative_to(tmp).as_posix(): p.stat().st_size for p in sorted(tmp.rglob("*"))
             if p.is_file() and p.relative_to(tmp).parts[0] != "qdrant"}
    return {
        "format": FORMAT_VERSION,
        "package_version": __version__,
        **params,
        "dimension": int(search["dimension"]),
        "index_type": search["type"],
        "vector_index": {k: v for k, v in search.items() if k not in ("name", "dimension")},
        "search_backend": search,
        "language": corpus_language(documents),
        "languages": sorted(set(d.language for d in documents)),
        "corpus_fingerprint": corpus_fingerprint,
        "documents": [
            {k: getattr(d, k) for k in ("doc_id", "title", "language", "content_hash")} for d in documents
        ],
        "counts": {"documents": len(documents), "sentences": len(sentences), "chunks": len(chunks)},
        "files": files,
        "embedding": embedding,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
