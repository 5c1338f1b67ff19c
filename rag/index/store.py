"""Build, save and load the index folder; refuse a stale or foreign index.

Layout (JSON, NumPy and FAISS files only, never pickle)::

    index/
      .lock                 serialises builds (filelock)
      CURRENT               name of the live build folder, replaced atomically
      build-<time>-<pid>/   manifest.json, documents.json, sentences.json, chunks.json,
                            dense.* (the vector index), chunk_vectors.npy, sentence_vectors.npy,
                            context_vectors.npy, vector_keys.json (which rows are whose: reuse.py),
                            bm25_chunks/, bm25_sentences/, trigrams_sentences/ (each with
                            one folder per document language, lexical_parts.py)

A build is written into a fresh folder and only then made live by replacing ``CURRENT``, so a
build killed midway leaves the previous index untouched and loadable. A build embeds only the
documents whose texts changed since the live build (:mod:`rag.index.reuse`).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np

from rag import __version__
from rag.config import Settings
from rag.index.dense import RowFile, VectorIndex, build_vector_index, load_vector_index
from rag.index.encoders import Encoder, encode
from rag.index.lexical import TRIGRAMS
from rag.index.lexical_parts import LexicalParts
from rag.index.names import person_names, place_names, sentence_names
from rag.index.reuse import (
    Embedded,
    PreviousVectors,
    embed_documents,
    encoder_identity,
    reuse_counts,
    sentences_by_document,
    write_keys,
)
from rag.index.words import WordTable
from rag.ingest import load_documents, seeds_fingerprint, sentences_of
from rag.ingest.chunking import chunk_sentences
from rag.jsonfile import read_json
from rag.records import Chunk, Document, Sentence

FORMAT_VERSION = 7  # 6: the word table (words.py); 7: person names
CURRENT = "CURRENT"
LOCK = ".lock"
MANIFEST = "manifest.json"
ENCODE_BATCH = 64
MMAP_FROM_CHUNKS = 100_000  # from here the chunk-level arrays are memory-mapped (see load_index)


class StoreError(RuntimeError):
    """Base for index problems; the message is meant for the user."""


class IndexMissing(StoreError):
    pass


class IndexCorrupt(StoreError):
    pass


class IndexLocked(StoreError):
    pass


@dataclass
class LoadedIndex:
    """Everything the retriever and the answerer need, in memory."""

    path: Path
    manifest: dict[str, Any]
    documents: list[Document]
    sentences: list[Sentence]
    chunks: list[Chunk]
    dense: VectorIndex  # over the chunk vectors
    chunk_vectors: np.ndarray | RowFile  # RowFile: a quantised index's float32 rows, read by id
    sentence_vectors: np.ndarray
    context_vectors: np.ndarray  # each sentence embedded with the one before it (pronouns)
    # One BM25 part per document language (each text stemmed in its own language).
    lexical: LexicalParts
    sentence_lexical: LexicalParts
    sentence_trigrams: LexicalParts
    # The proper names in each sentence (names.py), case-folded; computed when building.
    sentence_names: list[tuple[str, ...]] = field(default_factory=list)
    place_names: frozenset[str] = frozenset()  # the names above that are places
    person_names: frozenset[str] = frozenset()  # and those that name people
    # Each sentence's content words and the corpus's word vectors (words.py): word coverage.
    words: WordTable | None = None

    @property
    def language(self) -> str:
        """The language most of the text is in (see :func:`corpus_language`)."""
        return str(self.manifest["language"])

    @functools.cached_property
    def document_language(self) -> dict[str, str]:
        """Each document's own language, by document id."""
        return {d.doc_id: d.language for d in self.documents}

    def previous_in_paragraph(self, sentence: Sentence) -> Sentence | None:
        """The sentence before ``sentence`` in its paragraph (None for a paragraph's first)."""
        return previous_in_paragraph(self.sentences, sentence.sentence_id)

    @functools.cached_property
    def name_counts(self) -> Counter[str]:
        """In how many sentences each name occurs (a name in most of them says little)."""
        return Counter(name for names in self.sentence_names for name in names)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _read_json(path: Path) -> Any:
    return read_json(path, IndexCorrupt, f"index file {path}")


def corpus_language(documents: Sequence[Document]) -> str:
    """The language most of the text is in: questions whose language is unclear are taken to be
    in it. (Each document is stemmed in its own language, see lexical_parts.py.)"""
    if not documents:
        raise ValueError("a corpus without documents has no language")
    sizes: dict[str, int] = {}
    for doc in documents:
        sizes[doc.language] = sizes.get(doc.language, 0) + len(doc.text)
    return max(sizes, key=sizes.__getitem__)


def encode_texts(encoder: Encoder, texts: Sequence[str], progress: bool, desc: str) -> np.ndarray:
    """Normalised float32 vectors in batches, with a progress bar on stderr."""
    from tqdm import tqdm

    bar = tqdm(total=len(texts), desc=desc, unit="text", disable=not progress, file=sys.stderr)
    out = _encode_batches(encoder, texts, bar.update)
    bar.close()
    return out


def _encode_batches(encoder: Encoder, texts: Sequence[str], advance: Callable[[int], object]) -> np.ndarray:
    out = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
    for begin in range(0, len(texts), ENCODE_BATCH):
        batch = list(texts[begin : begin + ENCODE_BATCH])
        out[begin : begin + len(batch)] = encode(encoder, batch)
        advance(len(batch))
    return out


def embed_by_document(
    index_dir: Path | None,
    encoder: Encoder,
    sentences: Sequence[Sentence],
    chunks: Sequence[Chunk],
    progress: bool,
) -> dict[str, Embedded]:
    """The chunk, sentence and context vectors (by file name), each document encoded in its own
    calls, reusing the live build's rows of unchanged documents (``index_dir`` None: no reuse).

    See :mod:`rag.index.reuse` for why per document and how an entry is checked.
    """
    from tqdm import tqdm

    previous = PreviousVectors(_live_build(index_dir) if index_dir is not None else None, encoder.dimension)
    identity = encoder_identity(encoder, ENCODE_BATCH)
    contexts = sentences_in_context(sentences)
    by_doc = _runs([s.doc_id for s in sentences])
    chunk_groups = _runs([c.doc_id for c in chunks])
    if [doc for doc, _, _ in by_doc] != [doc for doc, _, _ in chunk_groups]:
        raise StoreError("chunks and sentences disagree on the order of the documents")
    kinds = {
        "chunk_vectors.npy": ("chunks", [[c.text for c in chunks[a:b]] for _, a, b in chunk_groups]),
        "sentence_vectors.npy": ("sentences", [[s.text for s in sentences[a:b]] for _, a, b in by_doc]),
        "context_vectors.npy": ("sentences in context", [contexts[a:b] for _, a, b in by_doc]),
    }
    out: dict[str, Embedded] = {}
    try:
        for file, (what, groups) in kinds.items():
            bar = tqdm(desc=f"embedding {what}", unit="text", disable=not progress, file=sys.stderr)

            def plan(total: int, bar: Any = bar) -> None:
                bar.total = total
                bar.refresh()

            def encode_group(texts: Sequence[str], bar: Any = bar) -> np.ndarray:
                return _encode_batches(encoder, texts, bar.update)

            out[file] = embed_documents(groups, identity, encoder.dimension, previous, encode_group, plan)
            bar.close()
    finally:
        previous.close()
    return out


def _live_build(index_dir: Path) -> Path | None:
    try:
        return current_build(index_dir)
    except StoreError:
        return None


def _runs(doc_ids: Sequence[str]) -> list[tuple[str, int, int]]:
    """(doc_id, start, stop) of each run of one document's rows, in order."""
    runs: list[tuple[str, int, int]] = []
    start = 0
    for doc_id, group in groupby(doc_ids):
        stop = start + sum(1 for _ in group)
        runs.append((doc_id, start, stop))
        start = stop
    return runs


def previous_in_paragraph(sentences: Sequence[Sentence], i: int) -> Sentence | None:
    """``sentences[i - 1]`` when it stands in the same paragraph as ``sentences[i]``, else None."""
    if i == 0:
        return None
    previous, sentence = sentences[i - 1], sentences[i]
    same = (previous.doc_id, previous.paragraph) == (sentence.doc_id, sentence.paragraph)
    return previous if same else None


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
) -> Path:
    """Build into a temporary folder, then make it live; returns the live build folder.

    Only documents whose texts changed are embedded and split into sentences: the others'
    vectors and sentences are taken from the live build (:mod:`rag.index.reuse`);
    ``reuse=False`` does everything again. The manifest's ``embedding`` says how many documents
    were embedded, reused and split.

    The caller holds the build lock (see :func:`build_lock`). ``index_type`` forces the FAISS
    structure; otherwise it follows the corpus size (``approximate_from`` overrides the threshold
    of :func:`rag.index.dense.choose_index_type`). The manifest records what was built.
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    sentences, split = sentences_by_document(
        _live_build(index_dir) if reuse else None, documents, sentences_of
    )
    if not sentences:
        raise StoreError("the documents contain no sentences to index")
    chunks = chunk_sentences(sentences, int(params["chunk_size"]), int(params["chunk_stride"]))
    language = corpus_language(documents)

    name = f"build-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.time_ns() % 10**6:06d}"
    tmp = index_dir / f"tmp-{name}"
    tmp.mkdir()
    try:
        embedded = embed_by_document(index_dir if reuse else None, encoder, sentences, chunks, progress)
        chunk_vectors = embedded["chunk_vectors.npy"].vectors
        dense = build_vector_index(chunk_vectors, index_type, approximate_from)
        dense.save(tmp)
        for file, part in embedded.items():
            np.save(tmp / file, part.vectors, allow_pickle=False)
        write_keys(tmp, embedded)
        doc_language = {d.doc_id: d.language for d in documents}
        chunk_languages = [doc_language[c.doc_id] for c in chunks]
        sentence_languages = [doc_language[s.doc_id] for s in sentences]
        sentence_texts = [s.text for s in sentences]
        LexicalParts.build([c.text for c in chunks], chunk_languages).save(tmp / "bm25_chunks")
        LexicalParts.build(sentence_texts, sentence_languages).save(tmp / "bm25_sentences")
        LexicalParts.build(sentence_texts, sentence_languages, TRIGRAMS).save(tmp / "trigrams_sentences")
        WordTable.build(
            sentence_texts, sentence_languages, encoder, int(params.get("max_word_vectors", 200_000))
        ).save(tmp)
        _write_json(tmp / "documents.json", [asdict(d) for d in documents])
        _write_json(tmp / "sentences.json", [asdict(s) for s in sentences])
        _write_json(tmp / "chunks.json", [asdict(c) for c in chunks])
        names = sentence_names(documents, sentences)
        _write_json(
            tmp / "names.json",
            {
                "sentences": names,
                "places": place_names(n for found in names for n in found),
                "persons": person_names(sentences, names),
            },
        )
        files = {
            p.relative_to(tmp).as_posix(): p.stat().st_size
            for p in sorted(tmp.rglob("*"))
            if p.is_file()
        }
        manifest = {
            "format": FORMAT_VERSION,
            "package_version": __version__,
            **params,
            "dimension": int(chunk_vectors.shape[1]),
            "index_type": dense.describe()["type"],
            "vector_index": dense.describe(),
            "language": language,
            "languages": sorted(set(d.language for d in documents)),
            "corpus_fingerprint": corpus_fingerprint,
            "documents": [
                {k: getattr(d, k) for k in ("doc_id", "title", "language", "content_hash")}
                for d in documents
            ],
            "counts": {
                "documents": len(documents),
                "sentences": len(sentences),
                "chunks": len(chunks),
            },
            "files": files,
            "embedding": {**reuse_counts(list(embedded.values())), "documents_split": split},
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build_seconds": round(time.perf_counter() - started, 3),
        }
        _write_json(tmp / MANIFEST, manifest)
        live = index_dir / name
        os.rename(tmp, live)
        _point_current_to(index_dir, name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(index_dir, keep=name)
    return live


def _point_current_to(index_dir: Path, name: str) -> None:
    pointer = index_dir / f".{CURRENT}.{os.getpid()}.tmp"
    pointer.write_text(name + "\n", encoding="utf-8")
    with open(pointer, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer, index_dir / CURRENT)


def _prune(index_dir: Path, keep: str) -> None:
    """Remove older builds and leftovers of killed builds (called under the build lock)."""
    for path in index_dir.iterdir():
        if path.is_dir() and path.name != keep and path.name.startswith(("build-", "tmp-build-")):
            shutil.rmtree(path, ignore_errors=True)


def current_build(index_dir: Path) -> Path:
    """The live build folder; :class:`IndexMissing` when there is none."""
    pointer = Path(index_dir) / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise IndexMissing(f"there is no index in {index_dir} yet") from exc
    if not name or "/" in name or name.startswith("."):
        raise IndexCorrupt(f"{pointer} is damaged")
    path = Path(index_dir) / name
    if not path.is_dir():
        raise IndexMissing(f"{pointer} names {name}, which is missing")
    return path


def read_manifest(index_dir: Path) -> dict[str, Any]:
    return _read_json(current_build(index_dir) / MANIFEST)


def stale_reasons(
    manifest: dict[str, Any], params: dict[str, Any], corpus_fingerprint: str
) -> list[str]:
    """Why this index does not fit the corpus and settings; empty when it does."""
    reasons = []
    if manifest.get("format") != FORMAT_VERSION:
        reasons.append("it was written in another index format")
    if manifest.get("package_version") != __version__:
        reasons.append(f"it was built by rag {manifest.get('package_version')}, this is {__version__}")
    for key, value in params.items():
        if manifest.get(key) != value:
            reasons.append(f"{key} changed ({manifest.get(key)!r} -> {value!r})")
    if manifest.get("corpus_fingerprint") != corpus_fingerprint:
        reasons.append("the documents changed")
    return reasons


def load_index(index_dir: Path, mmap: bool = False) -> LoadedIndex:
    """Load the live build; :class:`IndexCorrupt` for missing, truncated or damaged files."""
    path = current_build(index_dir)
    manifest = _read_json(path / MANIFEST)
    for rel, size in (manifest.get("files") or {}).items():
        file = path / rel
        if not file.is_file() or file.stat().st_size != size:
            raise IndexCorrupt(f"index file {file} is missing or truncated")
    # A large index stays in its files, paged in as searches touch it: the vector codes and the
    # chunks' BM25 columns. A quantised index's float32 vectors are read by row (RowFile).
    mmap = mmap or int((manifest.get("counts") or {}).get("chunks") or 0) >= MMAP_FROM_CHUNKS
    try:
        dense = load_vector_index(path, mmap=mmap)
        # The chunk vectors once: the vector index's own copy when it keeps them as float32.
        held = dense.stored_vectors()
        chunk_vectors = held if held is not None else RowFile(path / "chunk_vectors.npy")
        sentence_vectors = np.load(path / "sentence_vectors.npy", allow_pickle=False)
        context_vectors = np.load(path / "context_vectors.npy", allow_pickle=False)
        languages = [str(lang) for lang in manifest["languages"]]
        lexical = LexicalParts.load(path / "bm25_chunks", languages, mmap=mmap)
        sentence_lexical = LexicalParts.load(path / "bm25_sentences", languages)
        sentence_trigrams = LexicalParts.load(path / "trigrams_sentences", languages, TRIGRAMS)
        words = WordTable.load(path, mmap=mmap)
    except (RuntimeError, ValueError, OSError, KeyError) as exc:
        raise IndexCorrupt(f"index in {path} is damaged: {str(exc).splitlines()[0][:200]}") from exc
    documents = [Document(**d) for d in _read_json(path / "documents.json")]
    sentences = [Sentence(**s) for s in _read_json(path / "sentences.json")]
    chunks = [
        Chunk(**{**c, "sentence_ids": tuple(c["sentence_ids"])}) for c in _read_json(path / "chunks.json")
    ]
    names_file = _read_json(path / "names.json")
    try:
        names_per_sentence = [tuple(names) for names in names_file["sentences"]]
        places = frozenset(names_file["places"])
        persons = frozenset(names_file["persons"])
    except (TypeError, KeyError) as exc:
        raise IndexCorrupt(f"index in {path} is damaged: names.json has no {exc}") from exc
    counts = manifest.get("counts", {})
    if not (
        dense.size == len(chunks) == len(chunk_vectors) == counts.get("chunks")
        and len(sentences) == len(sentence_vectors) == len(context_vectors) == len(names_per_sentence)
        == counts.get("sentences")
        and dense.dimension == manifest.get("dimension")
        and lexical.size == len(chunks)
        and sentence_lexical.size == sentence_trigrams.size == words.size == len(sentences)
        and words.codes.shape[1] == dense.dimension
    ):
        raise IndexCorrupt(f"index in {path} is inconsistent (counts or dimension differ)")
    return LoadedIndex(
        path=path,
        manifest=manifest,
        documents=documents,
        sentences=sentences,
        chunks=chunks,
        dense=dense,
        chunk_vectors=chunk_vectors,
        sentence_vectors=sentence_vectors,
        context_vectors=context_vectors,
        lexical=lexical,
        sentence_lexical=sentence_lexical,
        sentence_trigrams=sentence_trigrams,
        sentence_names=names_per_sentence,
        place_names=places,
        person_names=persons,
        words=words,
    )


def build_lock(index_dir: Path, on_wait: Callable[[str], None] | None = None, timeout: float = 900):
    """A context manager holding the index folder's build lock; waits for another build."""
    from filelock import FileLock, Timeout

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / LOCK))

    class _Guard:
        def __enter__(self) -> None:
            try:
                lock.acquire(timeout=0)
                return
            except Timeout:
                if on_wait:
                    on_wait(f"another build of {index_dir} is running; waiting for it to finish")
            try:
                lock.acquire(timeout=timeout)
            except Timeout as exc:
                raise IndexLocked(f"{index_dir} is locked by another build for over {timeout:.0f} s") from exc

        def __exit__(self, *exc: object) -> None:
            lock.release()

    return _Guard()


# --- opening: load when fresh, else (re)build under the lock ------------------------------

Status = Callable[[str], None]


def report_to_stderr(message: str) -> None:
    """The default :data:`Status`: progress and rebuild reasons go to stderr."""
    print(message, file=sys.stderr, flush=True)


def ensure_index(
    settings: Settings,
    encoder_factory: Callable[[], Encoder],
    on_status: Status = report_to_stderr,
    documents: Sequence[Document] | None = None,
    corpus_fingerprint: str | None = None,
    force: bool = False,
    progress: bool = True,
) -> tuple[LoadedIndex, Encoder | None]:
    """Load the index of ``settings.model_index_dir`` (the model's own folder), (re)building it
    when missing, stale or damaged.

    Returns the index and the encoder if one had to be created for the build (so the caller
    need not load it twice). ``documents``/``corpus_fingerprint`` default to ``settings.seeds_dir``.
    """
    if documents is None:
        corpus_fingerprint = seeds_fingerprint(settings.seeds_dir)
    elif corpus_fingerprint is None:
        raise ValueError("corpus_fingerprint is required with explicit documents")
    params = settings.index_params()

    if not force:
        index = fresh_index(settings, params, corpus_fingerprint, on_status)
        if index is not None:
            return index, None
    with build_lock(settings.model_index_dir, on_wait=on_status):
        # Another process may have built it while we waited for the lock.
        quiet: Status = lambda message: None  # noqa: E731 - the reason was said above
        index = None if force else fresh_index(settings, params, corpus_fingerprint, quiet)
        if index is not None:
            return index, None
        docs = (
            list(documents)
            if documents is not None
            else load_documents(settings.seeds_dir, on_skip=on_status)
        )
        encoder = encoder_factory()
        started = time.perf_counter()
        # --force does everything again; otherwise unchanged documents keep vectors and sentences.
        build_index(
            settings.model_index_dir, docs, encoder, params, corpus_fingerprint, progress=progress,
            reuse=not force,
        )
        index = load_index(settings.model_index_dir)
        counts, embedding = index.manifest["counts"], index.manifest.get("embedding", {})
        on_status(
            f"Index built in {time.perf_counter() - started:.1f} s: {counts['documents']} document(s), "
            f"{counts['sentences']} sentences, {counts['chunks']} chunks "
            f"({embedding.get('documents_embedded')} document(s) embedded, "
            f"{embedding.get('documents_reused')} reused) -> {index.path}"
        )
        return index, encoder


def fresh_index(
    settings: Settings, params: dict[str, Any], fingerprint: str, on_status: Status
) -> LoadedIndex | None:
    """The index if it is there, fits the documents and settings, and loads; else None, with
    the reason passed to ``on_status``."""
    try:
        manifest = read_manifest(settings.model_index_dir)
    except StoreError as exc:
        on_status(f"Building the index: {exc}.")
        return None
    reasons = stale_reasons(manifest, params, fingerprint)
    if reasons:
        on_status("Rebuilding the index: " + "; ".join(reasons) + ".")
        return None
    try:
        return load_index(settings.model_index_dir)
    except StoreError as exc:
        on_status(f"Rebuilding the index: {exc}.")
        return None
