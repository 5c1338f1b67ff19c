"""Build, save and load the index folder; refuse a stale or foreign index.

Layout (JSON, NumPy and FAISS files only, never pickle)::

    index/
      .lock                 serialises builds (filelock)
      CURRENT               name of the live build folder, replaced atomically
      build-<time>-<pid>/   manifest.json, documents.json, sentences.json, chunks.json,
                            dense.* (the vector index), chunk_vectors.npy, sentence_vectors.npy,
                            context_vectors.npy,
                            bm25_chunks/, bm25_sentences/, trigrams_sentences/

A build is written into a fresh folder and only then made live by replacing ``CURRENT``, so a
build killed midway leaves the previous index untouched and loadable.
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
from pathlib import Path
from typing import Any

import numpy as np

from rag import __version__
from rag.config import Settings
from rag.index.dense import RowFile, VectorIndex, build_vector_index, load_vector_index
from rag.index.encoders import Encoder, encode
from rag.index.lexical import TRIGRAMS, LexicalIndex
from rag.index.names import place_names, sentence_names
from rag.ingest import load_documents, seeds_fingerprint, sentences_of_all
from rag.ingest.chunking import chunk_sentences
from rag.jsonfile import read_json
from rag.records import Chunk, Document, Sentence

FORMAT_VERSION = 4
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
    lexical: LexicalIndex
    sentence_lexical: LexicalIndex
    sentence_trigrams: LexicalIndex
    # The proper names in each sentence (names.py), case-folded; computed when building.
    sentence_names: list[tuple[str, ...]] = field(default_factory=list)
    place_names: frozenset[str] = frozenset()  # the names above that are places

    @property
    def language(self) -> str:
        """The language most of the text is in (see :func:`corpus_language`)."""
        return str(self.manifest["language"])

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
    """The language most of the text is in: it picks the stemmer of the lexical index."""
    if not documents:
        raise ValueError("a corpus without documents has no language")
    sizes: dict[str, int] = {}
    for doc in documents:
        sizes[doc.language] = sizes.get(doc.language, 0) + len(doc.text)
    return max(sizes, key=sizes.__getitem__)


def encode_texts(encoder: Encoder, texts: Sequence[str], progress: bool, desc: str) -> np.ndarray:
    """Normalised float32 vectors in batches, with a progress bar on stderr."""
    from tqdm import tqdm

    out = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
    bar = tqdm(total=len(texts), desc=desc, unit="text", disable=not progress, file=sys.stderr)
    for begin in range(0, len(texts), ENCODE_BATCH):
        batch = list(texts[begin : begin + ENCODE_BATCH])
        out[begin : begin + len(batch)] = encode(encoder, batch)
        bar.update(len(batch))
    bar.close()
    return out


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
) -> Path:
    """Build into a temporary folder, then make it live; returns the live build folder.

    The caller holds the build lock (see :func:`build_lock`). ``index_type`` forces the FAISS
    structure; otherwise it follows the corpus size (``approximate_from`` overrides the threshold
    of :func:`rag.index.dense.choose_index_type`). The manifest records what was built.
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    sentences = sentences_of_all(documents)
    if not sentences:
        raise StoreError("the documents contain no sentences to index")
    chunks = chunk_sentences(sentences, int(params["chunk_size"]), int(params["chunk_stride"]))
    language = corpus_language(documents)

    name = f"build-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.time_ns() % 10**6:06d}"
    tmp = index_dir / f"tmp-{name}"
    tmp.mkdir()
    try:
        chunk_vectors = encode_texts(encoder, [c.text for c in chunks], progress, "embedding chunks")
        sentence_vectors = encode_texts(
            encoder, [s.text for s in sentences], progress, "embedding sentences"
        )
        context_vectors = encode_texts(
            encoder, sentences_in_context(sentences), progress, "embedding sentences in context"
        )
        dense = build_vector_index(chunk_vectors, index_type, approximate_from)
        dense.save(tmp)
        np.save(tmp / "chunk_vectors.npy", chunk_vectors, allow_pickle=False)
        np.save(tmp / "sentence_vectors.npy", sentence_vectors, allow_pickle=False)
        np.save(tmp / "context_vectors.npy", context_vectors, allow_pickle=False)
        LexicalIndex(language).build([c.text for c in chunks]).save(tmp / "bm25_chunks")
        LexicalIndex(language).build([s.text for s in sentences]).save(tmp / "bm25_sentences")
        LexicalIndex(language, TRIGRAMS).build([s.text for s in sentences]).save(
            tmp / "trigrams_sentences"
        )
        _write_json(tmp / "documents.json", [asdict(d) for d in documents])
        _write_json(tmp / "sentences.json", [asdict(s) for s in sentences])
        _write_json(tmp / "chunks.json", [asdict(c) for c in chunks])
        names = sentence_names(documents, sentences)
        _write_json(
            tmp / "names.json",
            {"sentences": names, "places": place_names(n for found in names for n in found)},
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
        language = str(manifest["language"])
        lexical = LexicalIndex.load(path / "bm25_chunks", language, mmap=mmap)
        sentence_lexical = LexicalIndex.load(path / "bm25_sentences", language)
        sentence_trigrams = LexicalIndex.load(path / "trigrams_sentences", language, TRIGRAMS)
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
    except (TypeError, KeyError) as exc:
        raise IndexCorrupt(f"index in {path} is damaged: names.json has no {exc}") from exc
    counts = manifest.get("counts", {})
    if not (
        dense.size == len(chunks) == len(chunk_vectors) == counts.get("chunks")
        and len(sentences) == len(sentence_vectors) == len(context_vectors) == len(names_per_sentence)
        == counts.get("sentences")
        and dense.dimension == manifest.get("dimension")
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
        build_index(
            settings.model_index_dir, docs, encoder, params, corpus_fingerprint, progress=progress
        )
        index = load_index(settings.model_index_dir)
        counts = index.manifest["counts"]
        on_status(
            f"Index built in {time.perf_counter() - started:.1f} s: {counts['documents']} document(s), "
            f"{counts['sentences']} sentences, {counts['chunks']} chunks -> {index.path}"
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
