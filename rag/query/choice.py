"""Asking only some of the documents: ``Pipeline.ask(..., documents=[...])``, ``rag ask
--documents``, ``"documents"`` in ``POST /api/ask``.

The documents not chosen are withheld from the search before ranking (the withhold mechanism of
``rag.answer.retrieve``: their chunks are never candidates, dense or BM25), so a question about
a small document in a large corpus still finds it. A refusal then says that the chosen documents
do not hold the answer; an overview question ("Worum geht es?") covers the chosen documents only.
A name is a document id (as ``rag list`` shows it), its file name or its title (any case).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rag.language import get_language
from rag.query.clean import QuestionError, clean_question, without_markup
from rag.records import Answer, Document


class DocumentChoiceError(QuestionError):
    """A chosen document that is not in the index, or no document chosen; one line for the user."""


def split_names(value: str | Iterable[str] | None) -> list[str] | None:
    """``"a,b"`` or ``["a", "b"]`` as names; None stays None (all documents)."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    if not all(isinstance(item, str) for item in items):
        raise DocumentChoiceError("the chosen documents must be names (text)")
    return [item.strip() for item in items if item.strip()]


def chosen_documents(documents: Sequence[Document], names: Iterable[str]) -> tuple[str, ...]:
    """The ids of the documents ``names`` mean; :class:`DocumentChoiceError` for a name that
    matches none (or several) and for an empty choice."""
    chosen: list[str] = []
    unknown: list[str] = []
    names = list(names)
    if not names:
        raise DocumentChoiceError("choose at least one document (none was given)")
    for name in names:
        wanted = name.strip().casefold()
        matches = [d.doc_id for d in documents if d.doc_id.casefold() == wanted]
        if not matches:
            matches = [d.doc_id for d in documents
                       if wanted in (Path(d.path).name.casefold(), d.title.strip().casefold())]
        if len(matches) > 1:
            raise DocumentChoiceError(f"{name!r} matches several documents ({', '.join(matches)}); "
                                      "name one by its id (rag list)")
        if not matches:
            unknown.append(name)
        chosen.extend(m for m in matches if m not in chosen)
    if unknown:
        known = ", ".join(d.doc_id for d in documents[:10]) + (", ..." if len(documents) > 10 else "")
        raise DocumentChoiceError(
            f"no document {', '.join(repr(n) for n in unknown)} in the index (the documents: {known})"
        )
    return tuple(chosen)


def others_withheld(documents: Sequence[Document], chosen: Iterable[str]) -> frozenset[str]:
    """The withhold keys (``passage_key``: a bare document id) of every document not chosen."""
    keep = set(chosen)
    return frozenset(d.doc_id for d in documents if d.doc_id not in keep)


def choice_refusal(language: str, count: int) -> str:
    """What a refusal says when only some documents were searched."""
    phrases = get_language(language).phrases
    return phrases.chosen_refusal_one if count == 1 else phrases.chosen_refusal_many


def ask_within(pipeline: Any, names: Iterable[str], question: str, history: Sequence[str] = (),
               **options: Any) -> Answer:
    """``pipeline.ask`` searching only the documents ``names`` mean (see the module)."""
    documents = pipeline.index.documents
    chosen = chosen_documents(documents, names)
    clean = clean_question(question, pipeline.settings.max_question_chars)
    searched = without_markup(clean.text)
    language = pipeline.question_language(searched)
    from rag.answer.overview import is_overview_question, overview_answer

    if is_overview_question(searched) and not pipeline.unreadable(language):
        started = time.perf_counter()
        keep = set(chosen)
        overview = overview_answer(clean.text, [d for d in documents if d.doc_id in keep],
                                   [s for s in pipeline.index.sentences if s.doc_id in keep], language)
        return replace(overview, timings_ms={"total": (time.perf_counter() - started) * 1000})
    withhold = frozenset(options.pop("withhold", frozenset())) | others_withheld(documents, chosen)
    answer: Answer = pipeline.ask(question, history, withhold=withhold, **options)
    if answer.abstained and not answer.notice:
        answer = replace(answer, text=choice_refusal(answer.language, len(chosen)))
    return answer
