"""The one facade that the CLI, the chat and the evaluation call.

Example::

    pipeline = Pipeline.open(Settings())          # builds index/ first if missing or stale
    answer = pipeline.ask("Wer leitet Softbank?")
    print(answer.text, [c.sentence.text for c in answer.citations])
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any

from rag.answer.compose import compose_text
from rag.answer.features import FeatureExtractor
from rag.answer.model import DEFAULT_MODEL_FILE, AnswerModel
from rag.answer.overview import is_overview_question, overview_answer, reason_answer
from rag.answer.retrieve import Retriever
from rag.answer.selection import AnswerSelector, rerank_hits
from rag.config import Settings, index_location
from rag.index.encoders import DEFAULT_MODEL, Encoder, QuestionBatcher
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
from rag.query.clean import CleanQuestion, QuestionError, clean_history, clean_question, without_markup
from rag.records import Answer, Citation, Document

__all__ = ["Pipeline", "Prepared", "Request", "QuestionError", "DocumentError", "StoreError"]


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
        if model.dimension != index.search.dimension:
            # The manifest names this model, yet the vectors came from another encoder: searching
            # would fail or, worse, compare unrelated vectors.
            on_status(
                f"Rebuilding the index: its vectors have {index.search.dimension} dimensions, "
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
            "backend": (m.get("search_backend") or {}).get("name", "local"),
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

    def prepare(self, question: object, history: object = ()) -> Prepared:
        """Everything ``ask`` does before it searches: the question cleaned (a
        :class:`QuestionError` for one that cannot be asked), its language, the history cleaned,
        and the text searched with its analysis and the words the index has no vectors for. A
        question answered without a search (a language the encoder cannot read, an overview
        request) carries its answer; a bare "Why?" after a history is searched only when the
        previous answer quoted nothing, so its search is left to :meth:`answer`."""
        from rag.query.followup import is_why_question

        started = time.perf_counter()
        clean = clean_question(question, self.settings.max_question_chars)
        searched = without_markup(clean.text)
        language = self.question_language(searched)
        base = Prepared(clean=clean, searched=searched, language=language, started=started)
        if notice := self.unreadable(language):  # one message: the notice is the answer
            return replace(base, answered=Answer(
                question=clean.text,
                text=notice,
                language=language,
                citations=(),
                hits=(),
                abstained=True,
                timings_ms={"total": (time.perf_counter() - started) * 1000},
            ))
        if is_overview_question(searched):  # "Worum geht es?": title, lead and headings, cited
            overview = overview_answer(clean.text, self.index.documents, self.index.sentences, language)
            return replace(base, answered=replace(
                overview, timings_ms={"total": (time.perf_counter() - started) * 1000}))
        earlier = tuple(without_markup(h) for h in clean_history(history, self.settings.max_question_chars))
        prepared = replace(base, history=earlier)
        if earlier and is_why_question(searched):
            return prepared
        return self._with_search(prepared)

    def _with_search(self, prepared: Prepared) -> Prepared:
        query = self.retrieval_query(prepared.searched, list(prepared.history))
        analysed = self.analyse(query, prepared.language)
        words = tuple(self.extractor.coverage.missing_words(analysed))
        return replace(prepared, query=query, analysed=analysed, words=words)

    def answer(
        self, prepared: Prepared, *, search_k: int | None = None, withhold: frozenset[str] = frozenset()
    ) -> Answer:
        """The answer to a question made ready by :meth:`prepare` (see :meth:`ask`)."""
        if prepared.answered is not None:
            return prepared.answered
        started, clean, language = prepared.started, prepared.clean, prepared.language
        history = prepared.history
        if prepared.analysed is None:  # a bare "Why?": the reason next to the previous answer
            why = self.why_answer(clean.text, prepared.searched, list(history), language)
            if why is not None:
                return replace(why, timings_ms={"total": (time.perf_counter() - started) * 1000})
            prepared = self._with_search(prepared)
        query, analysed = prepared.query, prepared.analysed
        assert analysed is not None
        top_k = self.settings.top_k
        shown = max(top_k, search_k or 0)
        retrieval = self.retriever.search(
            query, max(shown, self.settings.tuning.answer_pool), language, withhold, words=prepared.words,
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
        The same steps as :meth:`ask_many` for one question: :meth:`prepare`, then :meth:`answer`.
        """
        if documents is not None:
            from rag.query.choice import ask_within

            return ask_within(self, documents, question, history, search_k=search_k, withhold=withhold)
        return self.answer(self.prepare(question, history), search_k=search_k, withhold=withhold)

    def ask_many(
        self, requests: Sequence[Request], lock: AbstractContextManager[Any] | None = None
    ) -> Iterator[Answer | Exception]:
        """Several questions at once: each is prepared (:meth:`prepare`), the texts all of them
        search are encoded in one call when the encoder takes batches
        (:class:`~rag.index.encoders.QuestionBatcher`: the weights are streamed once, not once
        per question), then each is answered as :meth:`ask` answers it. Yields, in order, each
        answer or the exception its question raised (:class:`QuestionError` for one that cannot
        be asked). ``lock`` is held while preparing and around each answer, and released in
        between, so other questions (the page's) are not kept waiting for the whole batch."""
        hold: AbstractContextManager[Any] = lock if lock is not None else contextlib.nullcontext()
        prepared: list[Prepared | Exception] = []
        with hold:
            for request in requests:
                try:
                    prepared.append(self.prepare(request.question, request.history))
                except Exception as exc:  # noqa: BLE001 - reported with its question, in order
                    prepared.append(exc)
            batcher = self.encoder if isinstance(self.encoder, QuestionBatcher) else None
            if batcher is not None and len(requests) > 1:
                texts = [t for p in prepared if isinstance(p, Prepared) for t in p.texts]
                try:
                    batcher.prime(texts)
                except Exception:  # noqa: BLE001 - unprimed questions are encoded one by one
                    batcher.clear()
        try:
            for request, ready in zip(requests, prepared, strict=True):
                if isinstance(ready, Exception):
                    yield ready
                    continue
                with hold:
                    try:
                        if request.documents is not None:
                            result: Answer | Exception = self.ask(
                                request.question, request.history,  # type: ignore[arg-type]
                                documents=request.documents)
                        else:
                            result = self.answer(replace(ready, started=time.perf_counter()))
                    except Exception as exc:  # noqa: BLE001 - reported with its question
                        result = exc
                yield result
        finally:
            if batcher is not None:
                with hold:
                    batcher.clear()


@dataclass(frozen=True)
class Request:
    """One question for :meth:`Pipeline.ask_many`: the question, the earlier questions of its
    conversation (oldest first) and the documents to search (None: all)."""

    question: object
    history: object = ()
    documents: Sequence[str] | None = None


@dataclass(frozen=True)
class Prepared:
    """A question made ready to answer (:meth:`Pipeline.prepare`): cleaned, its language known,
    its history cleaned, and what it searches for (``query``, its ``analysed`` form and the
    ``words`` encoded with it); ``answered`` when no search is needed."""

    clean: CleanQuestion
    searched: str
    language: str
    started: float
    history: tuple[str, ...] = ()
    answered: Answer | None = None
    query: str = ""
    analysed: AnalysedQuestion | None = None
    words: tuple[str, ...] = ()

    @property
    def texts(self) -> list[str]:
        """What answering it will encode: the text searched and its words (none: no search yet)."""
        return [self.query, *self.words] if self.analysed is not None else []
