"""The one facade that the CLI, the chat and the evaluation call.

Example::

    pipeline = Pipeline.open(Settings())          # builds index/ first if missing or stale
    answer = pipeline.ask("Wer leitet Softbank?")
    print(answer.text, [c.sentence.text for c in answer.citations])
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from rag.answer.compose import compose_text
from rag.answer.features import FeatureExtractor
from rag.answer.model import DEFAULT_MODEL_FILE, AnswerModel
from rag.answer.overview import is_overview_question, overview_answer, reason_answer
from rag.answer.retrieve import Retriever
from rag.answer.selection import AnswerSelector, rerank_hits
from rag.config import Settings, index_location
from rag.index.encoders import DEFAULT_MODEL, Encoder
from rag.index.store import LoadedIndex, Status, StoreError, ensure_index, report_to_stderr
from rag.ingest import DocumentError
from rag.language import FALLBACK_LANGUAGE, LANGUAGES, detect_language
from rag.language.identify import (
    ENCODER_LANGUAGE_NAMES,
    ENCODER_LANGUAGES,
    identify_candidates,
    identify_language,
    readable_language,
)
from rag.query.analysis import AnalysedQuestion, analyse_question
from rag.query.clean import QuestionError, clean_history, clean_question, without_markup
from rag.records import Answer, Citation, Document

__all__ = ["Pipeline", "QuestionError", "DocumentError", "StoreError"]


class Pipeline:
    """Question in, cited :class:`~rag.records.Answer` out; load once, then ask many times."""

    def __init__(self, index: LoadedIndex, encoder: Encoder, settings: Settings) -> None:
        self.index = index
        self.encoder = encoder
        self.settings = settings
        self.retriever = Retriever(index, encoder, settings.tuning, settings.retriever)
        self.extractor = FeatureExtractor(index, settings.tuning)
        # Which question languages the encoder reads (known for the default model only).
        self.readable = ENCODER_LANGUAGES if settings.model == DEFAULT_MODEL else None

    @functools.cached_property
    def selector(self) -> AnswerSelector:
        """The learned ranker and refusal model, loaded at the first question (or by ``open``)."""
        model = AnswerModel.load(self.settings.answer_model or DEFAULT_MODEL_FILE)
        return AnswerSelector(self.extractor, model, self.settings.tuning)

    @classmethod
    def open(
        cls,
        settings: Settings,
        on_status: Status = report_to_stderr,
        encoder: Encoder | None = None,
        progress: bool = True,
        documents: Sequence[Document] | None = None,
        corpus_fingerprint: str | None = None,
        load_answer_model: bool = True,
    ) -> Pipeline:
        """Load (or build) the index and the encoder named in ``settings``, and the answer model
        (``load_answer_model=False``: not yet, as when training one)."""
        from rag.index.encoders import build_encoder

        def factory() -> Encoder:
            return encoder if encoder is not None else build_encoder(settings.model, settings.threads)

        where = index_location(settings)
        index, built_with = ensure_index(
            *where, factory, on_status, documents, corpus_fingerprint, progress=progress,
            tuning=settings.index_tuning,
        )
        model = encoder or built_with or factory()
        if model.dimension != index.dense.dimension:
            # The manifest names this model, yet the vectors came from another encoder: searching
            # would fail or, worse, compare unrelated vectors.
            on_status(
                f"Rebuilding the index: its vectors have {index.dense.dimension} dimensions, "
                f"the model gives {model.dimension}."
            )
            index, _ = ensure_index(
                *where, lambda: model, on_status, documents, corpus_fingerprint,
                force=True, progress=progress, tuning=settings.index_tuning,
            )
        pipeline = cls(index, model, settings)
        if load_answer_model:
            pipeline.selector  # noqa: B018 - a missing or damaged answer model is reported now
        return pipeline

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

    def question_language(self, question: str) -> str:
        """The question's language: fastText's when it is confident, else the function words'
        (German or English), else the text's language."""
        if self.readable is None:
            code, probability = identify_language(question)
        else:  # a first guess the encoder cannot read may be a neighbour of one it reads
            code, probability = readable_language(identify_candidates(question), self.readable)
        if probability >= self.settings.tuning.language_confidence:
            return code
        fallback = self.index.language if self.index.language in LANGUAGES else FALLBACK_LANGUAGE
        return detect_language(question, default=fallback)

    def analyse(self, question: str, language: str | None = None) -> AnalysedQuestion:
        """The question analysed once (``rag.query.analysis``) in ``language`` (identified when
        not given): what retrieval, the features, the selection and the answer read."""
        return analyse_question(question, language or self.question_language(question))

    def cited_language(self, citations: Sequence[Citation], language: str) -> str:
        """The language of the quoted documents: the question's when every one is in it, else
        another one (the lead then says the quotes are in the original language)."""
        cited = {self.index.document_language.get(c.sentence.doc_id, self.index.language) for c in citations}
        if not cited:
            return self.index.language
        return language if cited == {language} else sorted(cited - {language})[0]

    def unreadable(self, language: str) -> str:
        """A notice when the encoder cannot read questions in ``language`` (else "")."""
        if self.readable is None or language in self.readable:
            return ""
        names = ", ".join(f"{n} ({c})" for c, n in sorted(ENCODER_LANGUAGE_NAMES.items()))
        return (
            f"The question seems to be in a language the model cannot read ({language}), so it is "
            f"not answered. Please ask in one of: {names}."
        )

    def why_answer(
        self, question: str, searched: str, history: Sequence[str], language: str
    ) -> Answer | None:
        """The answer to a bare "Und warum?" / "Why?" after ``history``: the sentence next to the
        previous answer's sentences that gives a reason, or "the text gives no reason"; None when
        ``searched`` is no such question or the previous answer quoted nothing (it is then asked
        as any other question).

        The previous answer is asked again from ``history`` alone, so every surface (the page,
        Gradio's ``/ask``, ``POST /api/ask``, ``rag ask --history``, ``rag chat``) gives the same
        answer for the same conversation.
        """
        from rag.query.followup import causal_neighbour, is_why_question

        if not history or not is_why_question(searched):
            return None
        previous = self.ask(history[-1], history[:-1])
        sentences = self.index.sentences
        cited = [
            sentences[c.sentence.sentence_id]
            for c in previous.citations
            if 0 <= c.sentence.sentence_id < len(sentences)
        ]
        if previous.abstained or not cited:
            return None
        reason = causal_neighbour(cited, sentences)
        title = ""
        if reason is not None:
            document = self.document(reason.doc_id)
            title = document.title if document is not None else ""
        return reason_answer(question.strip(), reason, title, language)

    def _answer_without_search(self, question: str, searched: str, language: str) -> Answer | None:
        """The answer when the question needs no search: a language the encoder cannot read
        (the notice is the answer) or an overview ("Worum geht es?": title, lead and headings,
        cited); None otherwise."""
        if notice := self.unreadable(language):
            return Answer(
                question=question, text=notice, language=language, citations=(), hits=(), abstained=True
            )
        if is_overview_question(searched):
            return overview_answer(question, self.index.documents, self.index.sentences, language)
        return None

    def ask(
        self,
        question: str,
        history: Sequence[str] = (),
        *,
        search_k: int | None = None,
        withhold: frozenset[str] = frozenset(),
        documents: Sequence[str] | None = None,
    ) -> Answer:
        """Answer one question; ``history`` holds the user's earlier questions, oldest first.

        The answer's sentences come from the top ``tuning.answer_pool`` chunks; ``Answer.hits`` holds
        the first ``top_k`` of them after re-ranking, or ``search_k`` (for evaluation, so hit@10
        needs no second search). ``withhold`` passages (``rag.answer.retrieve.passage_key``) are
        answered from as if they were not in the index (the near-miss evaluation withholds a
        question's gold paragraph). ``documents`` (names or ids) limits the search to those
        documents, the others withheld (``rag.query.choice``).
        Raises :class:`QuestionError` for input that cannot be asked (e.g. empty).
        """
        if documents is not None:
            from rag.query.choice import ask_within

            return ask_within(self, documents, question, history, search_k=search_k, withhold=withhold)
        started = time.perf_counter()
        clean = clean_question(question, self.settings.max_question_chars)
        searched = without_markup(clean.text)
        language = self.question_language(searched)
        if (early := self._answer_without_search(clean.text, searched, language)) is not None:
            return replace(early, timings_ms={"total": (time.perf_counter() - started) * 1000})
        history = [without_markup(h) for h in clean_history(history, self.settings.max_question_chars)]
        if history and (why := self.why_answer(clean.text, searched, history, language)) is not None:
            return replace(why, timings_ms={"total": (time.perf_counter() - started) * 1000})
        query = self.retrieval_query(searched, history)
        top_k = self.settings.top_k
        shown = max(top_k, search_k or 0)
        analysed = self.analyse(query, language)
        retrieval = self.retriever.search(
            query, max(shown, self.settings.tuning.answer_pool), language, withhold,
            words=self.extractor.coverage.missing_words(analysed),
        )
        t_answer = time.perf_counter()
        selection = self.selector.select(retrieval, analysed)
        hits = rerank_hits(retrieval.hits, selection.candidates, self.settings.tuning.rerank_weight)
        text = compose_text(
            selection.citations, language, self.cited_language(selection.citations, language),
            selection.confidence,
        )
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
            refusal_score=selection.refusal_logit,
            refusal_threshold=selection.threshold,
            confidence=selection.confidence,
            high_threshold=selection.high_threshold,
        )
