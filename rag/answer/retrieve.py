"""Hybrid search: FAISS dense scores fused with BM25, weighted by the question's language.

A fixed lexical weight that helps German questions hurts English questions on German text (on
XQuAD's German paragraphs, USE + 0.6 x BM25 found the right passage first for 0.88 of German
and 0.68 of English questions, USE + 0.3 x BM25 for 0.86 and 0.76; USE alone 0.76 and 0.73).
So the BM25 side gets ``lexical_weight`` when the question is in the language of the text it
asks about and ``cross_lingual_weight`` otherwise, where it can only match names and numbers
and the multilingual dense side must carry the meaning. (Weighting by the share of question
terms found in the corpus was tried first; it also punished paraphrased German questions.)

BM25 is searched per document language (``rag/index/lexical_parts.py``). The text a question
asks about is taken to be the document of the best dense match, and its language decides the
weight for every passage: weighing each passage by its own language instead favoured whichever
document shares the question's language, and questions about the other one lost their answer
(``make eval-mixed``, docs/evaluation.md).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rag.config import Tuning
from rag.index.encoders import Encoder, encode
from rag.index.lexical import analyzer_for
from rag.index.loaded import LoadedIndex
from rag.records import Hit
from rag.search.backend import CandidateQuery, SearchBackend
from rag.search.fusion import PartShares, minmax

# A withheld passage is a document id, or a document id and a paragraph number joined by this.
PARAGRAPH_MARK = "¶"


def passage_key(doc_id: str, paragraph: int | None = None) -> str:
    """The key that withholds a whole document, or one of its paragraphs."""
    return doc_id if paragraph is None else f"{doc_id}{PARAGRAPH_MARK}{paragraph}"


def withheld_by(keys: frozenset[str]) -> Callable[[str, int], bool]:
    """A test of (doc_id, paragraph) against withheld passage keys."""
    docs = {k for k in keys if PARAGRAPH_MARK not in k}
    paragraphs = {(k.split(PARAGRAPH_MARK)[0], int(k.split(PARAGRAPH_MARK)[1])) for k in keys - docs}
    return lambda doc_id, paragraph: doc_id in docs or (doc_id, paragraph) in paragraphs


@dataclass(frozen=True)
class Retrieval:
    """Hits for one question plus what the answer step reuses (vector, terms)."""

    hits: tuple[Hit, ...]
    query_vector: np.ndarray
    # The question's terms as each language part of the index analyses them.
    terms: dict[str, tuple[str, ...]]
    timings_ms: dict[str, float] = field(default_factory=dict)
    # The language of the document the question is taken to ask about (see text_language), and
    # whether the question is in it.
    same_language: bool = True
    text_language: str = ""
    # Passages the search was blind to (the near-miss evaluation withholds the gold paragraph,
    # see passage_key), and their chunks.
    excluded: frozenset[str] = frozenset()
    excluded_chunks: frozenset[int] = frozenset()
    # Vectors of the question's words that the index has none for (word coverage), encoded in
    # the question's own encoder call.
    word_vectors: dict[str, np.ndarray] = field(default_factory=dict)


class Retriever:
    """Finds chunks for a question. Example: ``Retriever(index, encoder).search("Wer ...?")``."""

    def __init__(
        self, index: LoadedIndex, encoder: Encoder, tuning: Tuning, mode: str = "hybrid"
    ) -> None:
        if mode not in ("hybrid", "dense", "lexical"):
            raise ValueError(f"unknown retriever mode {mode!r}")
        self.index = index
        self.encoder = encoder
        self.tuning = tuning
        self.mode = mode
        self.backend: SearchBackend = index.search
        self._analyzers = {lang: analyzer_for(lang) for lang in self.backend.languages}

    @functools.cached_property
    def _shares(self) -> PartShares:
        return PartShares.of(self.index.chunks, self.index.document_language, self.backend.languages)

    def query_terms(self, question: str) -> dict[str, list[str]]:
        """The question analysed in the language of every lexical part (our analyzer, whatever
        the backend)."""
        return {lang: analyzer.terms(question) for lang, analyzer in self._analyzers.items()}

    def _chunks_of(self, keys: frozenset[str]) -> set[int]:
        withheld = withheld_by(keys)
        return {c.chunk_id for c in self.index.chunks if withheld(c.doc_id, c.paragraph)}

    def text_language(self, best_chunk: int | None) -> str:
        """The language of the document the question is taken to ask about: the best match's
        (dense, or BM25 in lexical mode); the corpus's when there is none. In a corpus of one
        language this is always the corpus's language."""
        if best_chunk is None:
            return self.index.language
        doc_id = self.index.chunks[best_chunk].doc_id
        return self.index.document_language.get(doc_id, self.index.language)

    def search(
        self,
        question: str,
        top_k: int = 5,
        language: str | None = None,
        withhold: frozenset[str] = frozenset(),
        words: Sequence[str] = (),
    ) -> Retrieval:
        """The ``top_k`` chunks for ``question``; ``withhold`` passages are searched as if absent.

        ``words`` (the question's words the index has no vectors for) are encoded in the same
        call as the question: a batch of a question and five words costs about what the
        question alone does, five calls would cost five times as much.
        """
        started = time.perf_counter()
        if words:
            batch = getattr(self.encoder, "encode_questions", None)
            texts = [question, *words]
            raw = batch(texts) if batch is not None else encode(self.encoder, texts)
            vectors = np.asarray(raw, np.float32)
            vector = vectors[0]
        else:
            vector = encode(self.encoder, [question])[0]
        encoded = time.perf_counter()
        result = self.search_vector(question, vector, top_k, language, withhold)
        result.timings_ms["encode"] = (encoded - started) * 1000
        if words:
            result.word_vectors.update(zip(words, vectors[1:], strict=True))
        return result

    def search_vector(
        self,
        question: str,
        vector: np.ndarray,
        top_k: int = 5,
        language: str | None = None,
        withhold: frozenset[str] = frozenset(),
    ) -> Retrieval:
        """Search with a precomputed question vector (benchmarks pass synthetic ones)."""
        excluded = self._chunks_of(withhold) if withhold else set()
        n_chunks = len(self.index.chunks) - len(excluded)
        n_candidates = min(n_chunks, max(self.tuning.candidates, 4 * top_k))
        terms = self.query_terms(question)
        found = self.backend.candidates(CandidateQuery(
            vector, terms, n_candidates, frozenset(excluded),
            dense=self.mode != "lexical", lexical=self.mode != "dense",
            parallel_from=self.tuning.parallel_search_from,
        ))
        timings = dict(found.timings_ms)
        t2 = time.perf_counter()
        ids, lexical_found = found.ids, found.lexical
        best: int | None = found.dense_ids[0] if found.dense_ids else None  # the best dense match
        if ids.size == 0:  # lexical mode and no known term: nothing to rank
            rest = (i for i in range(len(self.index.chunks)) if i not in excluded)
            ids = np.fromiter(rest, dtype=np.int64)[: min(top_k, n_chunks)]
            if lexical_found is not None:  # known terms, all in withheld chunks
                lexical_found = self.backend.lexical_scores(terms, ids)
        dense = np.asarray(self.backend.chunk_vectors(ids) @ vector, dtype=np.float32)
        lexical = lexical_found if lexical_found is not None else np.zeros(len(ids), np.float32)
        if best is None and lexical_found is not None and ids.size:
            best = int(ids[int(np.argmax(lexical))])
        text_language = self.text_language(best)
        same_language = language is None or language == text_language
        weight = self.tuning.lexical_weight if same_language else self.tuning.cross_lingual_weight
        fused: np.ndarray
        if self.mode == "dense":
            fused = dense.copy()
        elif self.mode == "lexical":
            fused = lexical.copy()
        else:
            fused = minmax(dense) + weight * self._shares(lexical, ids)
        order = np.argsort(-fused, kind="stable")[:top_k]
        hits = tuple(
            Hit(
                chunk=self.index.chunks[int(ids[i])],
                score=float(fused[i]),
                dense_score=float(dense[i]),
                lexical_score=float(lexical[i]),
                rank=rank,
            )
            for rank, i in enumerate(order, start=1)
        )
        timings["fusion"] = (time.perf_counter() - t2) * 1000
        return Retrieval(
            hits,
            vector,
            {lang: tuple(t) for lang, t in terms.items()},
            timings,
            same_language,
            text_language,
            frozenset(withhold),
            frozenset(excluded),
        )
