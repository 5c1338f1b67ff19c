"""Near-miss questions: real questions made unanswerable by withholding what answers them.

A question about a text is answerable; the same question asked with the passage that answers it
withheld from the index is a near miss: the text is on its topic, the closest sentences are
plausible, and the right reaction is to refuse. The searcher, the candidates and the name
counts are all blind to the withheld passage (``Pipeline.ask(withhold=...)``).
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.answer.retrieve import passage_key
from rag.eval.questions import EvalQuestion, normalize_for_match
from rag.records import Document, Sentence


def withhold_gold(questions: Sequence[EvalQuestion], documents: Sequence[Document]) -> list[EvalQuestion]:
    """Near-miss copies: each question whose answer string occurs in no other paragraph, asked
    with its gold paragraph withheld, so the text cannot answer it and the right reaction is to
    refuse. (A question whose answer also stands elsewhere could still be answered.)"""
    texts = {d.doc_id: normalize_for_match(d.text) for d in documents}
    copies = []
    for q in questions:
        if not q.answers or q.doc_id is None:
            continue
        answer = normalize_for_match(q.answers[0])
        if any(answer in text for doc_id, text in texts.items() if doc_id != q.doc_id):
            continue
        copies.append(
            EvalQuestion(f"{q.qid}/withheld", q.lang, q.question, (), withheld=(passage_key(q.doc_id),))
        )
    return copies


def withhold_answer_paragraphs(
    questions: Sequence[EvalQuestion], sentences: Sequence[Sentence]
) -> list[EvalQuestion]:
    """Near-miss copies of questions known by their answer strings (the JSONL format): asked
    with every paragraph withheld whose sentences contain one of the answers."""
    normalised = [normalize_for_match(s.text) for s in sentences]
    copies = []
    for q in questions:
        answers = [normalize_for_match(a) for a in q.answers]
        keys = {
            passage_key(s.doc_id, s.paragraph)
            for s, text in zip(sentences, normalised, strict=True)
            if any(a in text for a in answers)
        }
        if keys:
            withheld = tuple(sorted(keys))
            copies.append(EvalQuestion(f"{q.qid}/withheld", q.lang, q.question, (), withheld=withheld))
    return copies
