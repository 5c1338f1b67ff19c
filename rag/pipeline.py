"""The one facade that the CLI, the chat and the evaluation call.

Example::

    pipeline = Pipeline.open(Settings())          # builds index/ first if missing or stale
    answer = pipeline.ask("Wer leitet Softbank?")
    print(answer.text, [c.sentence.text for c in answer.citations])
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from rag.answer.builder import ANSWER_POOL, AnswerBuilder, compose_text, rerank_hits
from rag.answer.retrieve import Retriever
from rag.config import Settings
from rag.index.store import (
    LoadedIndex,
    StoreError,
    build_index,
    build_lock,
    load_index,
    read_manifest,
    stale_reasons,
)
from rag.ingest.documents import DocumentError, load_documents, seeds_fingerprint
from rag.language import LANGUAGES, detect_language
from rag.query.clean import QuestionError, clean_history, clean_question, without_markup
from rag.records import Answer, Document

__all__ = ["Pipeline", "QuestionError", "DocumentError", "StoreError", "ensure_index"]

Status = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_index(
    settings: Settings,
    encoder_factory: Callable[[], Any],
    on_status: Status = _stderr,
    documents: Sequence[Document] | None = None,
    corpus_fingerprint: str | None = None,
    force: bool = False,
    progress: bool = True,
) -> tuple[LoadedIndex, Any | None]:
    """Load the index of ``settings.index_dir``, (re)building it when missing, stale or damaged.

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
    with build_lock(settings.index_dir, on_wait=on_status):
        # Another process may have built it while we waited for the lock.
        quiet: Status = lambda message: None  # noqa: E731 - the reason was said above
        index = None if force else fresh_index(settings, params, corpus_fingerprint, quiet)
        if index is not None:
            return index, None
        docs = list(documents) if documents is not None else load_documents(settings.seeds_dir)
        encoder = encoder_factory()
        started = time.perf_counter()
        build_index(
            settings.index_dir, docs, encoder, params, corpus_fingerprint, progress=progress
        )
        index = load_index(settings.index_dir)
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
        manifest = read_manifest(settings.index_dir)
    except StoreError as exc:
        on_status(f"Building the index: {exc}.")
        return None
    reasons = stale_reasons(manifest, params, fingerprint)
    if reasons:
        on_status("Rebuilding the index: " + "; ".join(reasons) + ".")
        return None
    try:
        return load_index(settings.index_dir)
    except StoreError as exc:
        on_status(f"Rebuilding the index: {exc}.")
        return None


class Pipeline:
    """Question in, cited :class:`~rag.records.Answer` out; load once, then ask many times."""

    def __init__(self, index: LoadedIndex, encoder: Any, settings: Settings) -> None:
        self.index = index
        self.encoder = encoder
        self.settings = settings
        self.retriever = Retriever(
            index, encoder, settings.lexical_weight, settings.retriever, settings.cross_lingual_weight
        )
        self.builder = AnswerBuilder(
            index,
            max_citations=settings.max_citations,
            citation_ratio=settings.citation_ratio,
            min_score=settings.min_score,
            min_score_cross=settings.min_score_cross,
        )

    @classmethod
    def open(
        cls,
        settings: Settings,
        on_status: Status = _stderr,
        encoder: Any | None = None,
        progress: bool = True,
        documents: Sequence[Document] | None = None,
        corpus_fingerprint: str | None = None,
    ) -> Pipeline:
        """Load (or build) the index and the encoder named in ``settings``."""
        from rag.index.encoders import build_encoder

        def factory() -> Any:
            return encoder if encoder is not None else build_encoder(settings.model, settings.threads)

        index, built_with = ensure_index(
            settings, factory, on_status, documents, corpus_fingerprint, progress=progress
        )
        model = encoder or built_with or factory()
        dimension = getattr(model, "get_embedding_dimension", lambda: None)()
        if dimension is not None and dimension != index.dense.d:
            # The manifest names this model, yet the vectors came from another encoder: searching
            # would fail or, worse, compare unrelated vectors.
            on_status(
                f"Rebuilding the index: its vectors have {index.dense.d} dimensions, "
                f"the model gives {dimension}."
            )
            index, _ = ensure_index(
                settings, lambda: model, on_status, documents, corpus_fingerprint,
                force=True, progress=progress,
            )
        return cls(index, model, settings)

    @property
    def info(self) -> dict[str, Any]:
        """What the UI and reports show: model, index folder, counts, build time."""
        m = self.index.manifest
        return {
            "model": m.get("model"),
            "dimension": m.get("dimension"),
            "index": str(self.index.path),
            "index_type": m.get("index_type"),
            "built_at": m.get("built_at"),
            "counts": m.get("counts"),
            "documents": m.get("documents"),
            "retriever": self.settings.retriever,
        }

    def document(self, doc_id: str) -> Document | None:
        return next((d for d in self.index.documents if d.doc_id == doc_id), None)

    def retrieval_query(self, question: str, history: Sequence[str] = ()) -> str:
        """The text to search for; follow-up questions are resolved against the history."""
        from rag.query.followup import contextualize

        return contextualize(question, history)

    def ask(self, question: str, history: Sequence[str] = (), *, search_k: int | None = None) -> Answer:
        """Answer one question; ``history`` holds the user's earlier questions, oldest first.

        The answer's sentences come from the top ``ANSWER_POOL`` chunks; ``Answer.hits`` holds
        the first ``top_k`` of them after re-ranking, or ``search_k`` (for evaluation, so hit@10
        needs no second search).
        Raises :class:`QuestionError` for input that cannot be asked (e.g. empty).
        """
        started = time.perf_counter()
        clean = clean_question(question, self.settings.max_question_chars)
        searched = without_markup(clean.text)
        # Function words missing (a name, a number): the text's language if it has a module.
        fallback = self.index.language if self.index.language in LANGUAGES else "en"
        language = detect_language(searched, default=fallback)
        history = [without_markup(h) for h in clean_history(history, self.settings.max_question_chars)]
        query = self.retrieval_query(searched, history)
        top_k = self.settings.top_k
        shown = max(top_k, search_k or 0)
        retrieval = self.retriever.search(query, max(shown, ANSWER_POOL), language)
        t_answer = time.perf_counter()
        selection = self.builder.select(retrieval, query)
        hits = rerank_hits(retrieval.hits, selection.scored)
        text = compose_text(selection.citations, language, self.index.language)
        timings = dict(retrieval.timings_ms)
        timings["answer"] = (time.perf_counter() - t_answer) * 1000
        timings["total"] = (time.perf_counter() - started) * 1000
        notice = ""
        if clean.truncated:
            notice = (
                f"The question had {clean.original_chars:,} characters; only the first "
                f"{len(clean.text):,} were used, the limit is {self.settings.max_question_chars:,}."
            )
        return Answer(
            question=clean.text,
            text=text,
            language=language,
            citations=selection.citations,
            hits=hits[:shown],
            abstained=selection.abstained,
            timings_ms=timings,
            notice=notice,
            retrieval_query=query,
        )

    def ask_batch(self, questions: Sequence[str]) -> list[Answer]:
        return [self.ask(q) for q in questions]


def default_settings(**overrides: Any) -> Settings:
    """Settings relative to the current folder, with CLI/UI overrides applied."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
