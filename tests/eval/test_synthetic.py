"""Synthetic on-topic questions the text cannot answer (rag/eval/synthetic.py)."""

from __future__ import annotations

import random

from rag.eval.questions import EvalQuestion
from rag.eval.synthetic import attribute_questions, swapped_name, swapped_number, synthetic_unanswerable

CORPUS = {"softbank", "son", "japan", "2010", "2013", "500", "chef"}


def absent(word: str) -> bool:
    return word.casefold() not in CORPUS


def test_a_number_is_swapped_for_a_nearby_one_the_corpus_lacks():
    # 2013 is in the corpus, so 2010 + 3 is skipped for 2010 - 3.
    swapped = swapped_number("Wie viele Einwohner hatte Japan 2010?", absent)
    assert swapped == "Wie viele Einwohner hatte Japan 2007?"
    assert swapped_number("Wer leitet Softbank?", absent) is None


def test_a_name_of_the_corpus_is_swapped_for_one_it_lacks():
    rng = random.Random(0)
    swapped = swapped_name(
        "Wer ist der Chef von Softbank?", ["Toyota"], absent, rng, lambda w: w == "Softbank"
    )
    assert swapped == "Wer ist der Chef von Toyota?"
    # No name of the corpus in the question, or nothing absent to swap in: nothing made.
    def is_name(word: str) -> bool:
        return word in ("Softbank", "Toyota")

    assert swapped_name("Wer ist der Chef von Toyota?", ["Honda"], absent, rng, is_name) is None
    assert swapped_name("Wer ist der Chef von Softbank?", ["Japan"], absent, rng, is_name) is None


def test_attribute_questions_only_for_attributes_the_corpus_never_names():
    rng = random.Random(0)
    made = attribute_questions([("Softbank", "doc")], ["de"], absent, rng, 20)
    texts = {text for _, text, _ in made}
    assert "Wie viele Mitarbeiter hat Softbank?" in texts
    assert not any("Chef" in text for text in texts)  # the corpus says "chef"


def test_the_generated_questions_are_unanswerable_and_keep_their_origin():
    questions = [
        EvalQuestion("q1", "de", "Wie viele Einwohner hatte Japan 2010?", ("127 Millionen",), doc_id="d"),
        EvalQuestion("q2", "de", "Wer ist der Chef von Softbank?", ("Son",), doc_id="d"),
    ]
    made = synthetic_unanswerable(
        questions, absent, ["Toyota"], [("Softbank", "d")], share=1.0, seed="t",
        is_name=lambda w: w == "Softbank",
    )
    assert {q.qid for q in made} >= {"q1/synthetic-number", "q2/synthetic-name"}
    assert all(not q.answerable and q.doc_id == "d" for q in made)
    assert len({q.question for q in made}) == len(made)
