"""The loaded index: every array and table the retriever and the answerer read, in memory (or
memory-mapped for a large one), checked against the manifest as it is read."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import IndexTuning
from rag.index.dense import RowFile, VectorIndex, load_vector_index
from rag.index.folder import MANIFEST, IndexCorrupt, current_build, read_index_json
from rag.index.lexical import TRIGRAMS
from rag.index.lexical_parts import LexicalParts
from rag.index.words import WordTable
from rag.records import Chunk, Document, Sentence
from rag.search.backend import BackendUnavailable, SearchBackend
from rag.search.local import LocalBackend


@dataclass
class LoadedIndex:
    """Everything the retriever and the answerer need, in memory."""

    path: Path
    manifest: dict[str, Any]
    documents: list[Document]
    sentences: list[Sentence]
    chunks: list[Chunk]
    # The local backend's parts (None when another backend holds the chunks: ``search``).
    dense: VectorIndex | None  # over the chunk vectors
    chunk_vectors: np.ndarray | RowFile | None  # RowFile: a quantised index's float32 rows, read by id
    sentence_vectors: np.ndarray
    context_vectors: np.ndarray  # each sentence embedded with the one before it (pronouns)
    # One BM25 part per document language (each text stemmed in its own language).
    lexical: LexicalParts | None
    sentence_lexical: LexicalParts
    sentence_trigrams: LexicalParts
    # The proper names in each sentence (names.py), case-folded; computed when building.
    sentence_names: list[tuple[str, ...]] = field(default_factory=list)
    place_names: frozenset[str] = frozenset()  # the names above that are places
    person_names: frozenset[str] = frozenset()  # and those that name people
    # Each sentence's content words and the corpus's word vectors (words.py): word coverage.
    words: WordTable | None = None
    # The engine that holds the chunks (rag/search/); None: the local one over the fields above.
    backend: SearchBackend | None = None

    @functools.cached_property
    def search(self) -> SearchBackend:
        """What retrieval asks of storage (candidates, BM25, vectors by id)."""
        if self.backend is not None:
            return self.backend
        if self.dense is None or self.lexical is None or self.chunk_vectors is None:
            raise IndexCorrupt(f"index in {self.path} has neither a backend nor local search files")
        return LocalBackend(self.dense, self.lexical, self.chunk_vectors, self.chunks, self.sentences)

    @property
    def language(self) -> str:
        """The language most of the text is in (see :func:`rag.index.build.corpus_language`)."""
        return str(self.manifest["language"])

    @functools.cached_property
    def document_language(self) -> dict[str, str]:
        """Each document's own language, by document id."""
        return {d.doc_id: d.language for d in self.documents}

    def previous_in_paragraph(self, sentence: Sentence) -> Sentence | None:
        """The sentence before ``sentence`` in its paragraph (None for a paragraph's first)."""
        return previous_in_paragraph(self.sentences, sentence.sentence_id)

    def previous_sentences(self, sentences: Sequence[Sentence]) -> list[Sentence | None]:
        """:meth:`previous_in_paragraph` of each of ``sentences``, in one call."""
        return [previous_in_paragraph(self.sentences, s.sentence_id) for s in sentences]

    @functools.cached_property
    def name_counts(self) -> Counter[str]:
        """In how many sentences each name occurs (a name in most of them says little)."""
        return Counter(name for names in self.sentence_names for name in names)


def previous_in_paragraph(sentences: Sequence[Sentence], i: int) -> Sentence | None:
    """``sentences[i - 1]`` when it stands in the same paragraph as ``sentences[i]``, else None."""
    if i == 0:
        return None
    previous, sentence = sentences[i - 1], sentences[i]
    same = (previous.doc_id, previous.paragraph) == (sentence.doc_id, sentence.paragraph)
    return previous if same else None


def load_index(index_dir: Path, mmap: bool = False, tuning: IndexTuning | None = None) -> LoadedIndex:
    """Load the live build; :class:`IndexCorrupt` for missing, truncated or damaged files.

    A large index (``tuning.mmap_from_chunks``) or ``mmap`` keeps its vector codes and the
    chunks' BM25 columns in their files, paged in as searches touch them."""
    tuning = tuning or IndexTuning()
    path = current_build(index_dir)
    manifest = read_index_json(path / MANIFEST)
    _check_files(path, manifest)
    mmap = mmap or int((manifest.get("counts") or {}).get("chunks") or 0) >= tuning.mmap_from_chunks
    local = (manifest.get("search_backend") or {}).get("name", "local") == "local"
    dense: VectorIndex | None = None
    chunk_vectors: np.ndarray | RowFile | None = None
    lexical: LexicalParts | None = None
    try:
        languages = [str(lang) for lang in manifest["languages"]]
        if local:
            dense = load_vector_index(path, mmap=mmap, tuning=tuning)
            # The chunk vectors once: the vector index's own copy when it keeps them as float32.
            held = dense.stored_vectors()
            chunk_vectors = held if held is not None else RowFile(path / "chunk_vectors.npy")
            lexical = LexicalParts.load(path / "bm25_chunks", languages, mmap=mmap)
        sentence_vectors = np.load(path / "sentence_vectors.npy", allow_pickle=False)
        context_vectors = np.load(path / "context_vectors.npy", allow_pickle=False)
        sentence_lexical = LexicalParts.load(path / "bm25_sentences", languages)
        sentence_trigrams = LexicalParts.load(path / "trigrams_sentences", languages, TRIGRAMS)
        words = WordTable.load(path, mmap=mmap)
    except (RuntimeError, ValueError, OSError, KeyError) as exc:
        raise IndexCorrupt(f"index in {path} is damaged: {str(exc).splitlines()[0][:200]}") from exc
    documents, sentences, chunks = _read_tables(path)
    names_per_sentence, places, persons = _read_names(path)
    backend = None if local else _open_backend(path, manifest, chunks, sentences, tuning)
    counts = manifest.get("counts", {})
    dimension = manifest.get("dimension")
    if not (
        (backend.size if backend is not None else dense.size if dense is not None else -1)
        == len(chunks) == counts.get("chunks")
        and (chunk_vectors is None or len(chunk_vectors) == len(chunks))
        and (lexical is None or lexical.size == len(chunks))
        and (dense is None or dense.dimension == dimension)
        and (backend is None or backend.dimension == dimension)
        and len(sentences) == len(sentence_vectors) == len(context_vectors) == len(names_per_sentence)
        == counts.get("sentences")
        and sentence_lexical.size == sentence_trigrams.size == words.size == len(sentences)
        and words.codes.shape[1] == dimension
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
        backend=backend,
    )


def _open_backend(
    path: Path, manifest: dict[str, Any], chunks: list[Chunk], sentences: list[Sentence], tuning: IndexTuning
) -> SearchBackend:
    """The engine a build's chunks were written to (rag/search/); IndexCorrupt when it cannot be
    read (a BackendUnavailable, e.g. the optional package missing, is the user's to fix)."""
    from rag.search.qdrant_build import open_qdrant

    try:
        return open_qdrant(path, manifest, chunks, sentences, tuning)
    except BackendUnavailable:
        raise
    except Exception as exc:  # the engine's own errors (a damaged shard, a missing collection)
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise IndexCorrupt(f"index in {path}: its Qdrant points cannot be read ({reason})") from exc


def _check_files(path: Path, manifest: dict[str, Any]) -> None:
    for rel, size in (manifest.get("files") or {}).items():
        file = path / rel
        if not file.is_file() or file.stat().st_size != size:
            raise IndexCorrupt(f"index file {file} is missing or truncated")


def _read_tables(path: Path) -> tuple[list[Document], list[Sentence], list[Chunk]]:
    documents = [Document(**d) for d in read_index_json(path / "documents.json")]
    sentences = [Sentence(**s) for s in read_index_json(path / "sentences.json")]
    chunks = [Chunk(**{**c, "sentence_ids": tuple(c["sentence_ids"])})
              for c in read_index_json(path / "chunks.json")]
    return documents, sentences, chunks


def _read_names(path: Path) -> tuple[list[tuple[str, ...]], frozenset[str], frozenset[str]]:
    names_file = read_index_json(path / "names.json")
    try:
        names_per_sentence = [tuple(names) for names in names_file["sentences"]]
        places = frozenset(names_file["places"])
        persons = frozenset(names_file["persons"])
    except (TypeError, KeyError) as exc:
        raise IndexCorrupt(f"index in {path} is damaged: names.json has no {exc}") from exc
    return names_per_sentence, places, persons
