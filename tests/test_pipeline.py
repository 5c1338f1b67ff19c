"""Answers from the real bundled model over the real article (the behaviour users see)."""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.eval.evaluate import RunOptions, run_eval
from rag.eval.questions import load_questions

pytestmark = pytest.mark.slow
EVAL = Path(__file__).resolve().parent.parent / "seeds" / "eval" / "article.jsonl"
HELD_OUT_EVAL = EVAL.with_name("article-heldout.jsonl")


def lead(answer) -> str:  # noqa: ANN001
    """The framing words an answer of its language, level and quoted language must start with."""
    from rag.language import get_language

    phrases = get_language(answer.language).phrases
    other = answer.language != "de"  # every quote here is from the German article
    if answer.confidence == "low":
        return phrases.low_lead_other_language if other else phrases.low_lead
    return phrases.lead_other_language if other else phrases.lead


def test_softbank_question_cites_masayoshi_son(article_pipeline):
    answer = article_pipeline.ask("Wer leitet den Technologieinvestor Softbank?")
    assert not answer.abstained
    first = answer.citations[0]
    assert "Masayoshi Son" in first.sentence.text
    assert answer.text.startswith(lead(answer)) and "[1]" in answer.text
    doc = article_pipeline.document(first.sentence.doc_id)
    assert doc.text[first.sentence.start : first.sentence.end] == first.sentence.text
    assert first.sentence.paragraph == 2 and first.sentence.sentence == 1


def test_english_question_on_german_text(article_pipeline):
    answer = article_pipeline.ask("Who is the head of Softbank?")
    assert answer.language == "en" and not answer.abstained
    # Masayoshi Son's sentence, or "... der Softbank-Chef Son ..." (both say who leads it).
    assert "Son" in answer.citations[0].sentence.text and "Softbank" in answer.citations[0].sentence.text
    assert answer.text.startswith(lead(answer))


def test_question_typed_with_eszett_finds_swiss_spelling(article_pipeline):
    answer = article_pipeline.ask("Wie hoch ist das Bußgeld für Wiederholungstäter?")
    assert any("Bussgeld" in c.sentence.text for c in answer.citations)


def test_how_high_is_the_fine_cites_the_fine_not_another_sum(article_pipeline):
    question = "Wie hoch ist das Bußgeld für Firmen, die mehrfach gegen die KI-Regeln verstoßen?"
    answer = article_pipeline.ask(question)
    assert "30 Prozent des Umsatzes" in answer.citations[0].sentence.text


@pytest.mark.parametrize(
    "question,refusal",
    [
        ("Wie backe ich einen Apfelkuchen?", "Dazu sagt der Text nichts."),
        ("What is the capital of France?", "The text does not say."),
    ],
)
def test_unanswerable_questions_are_refused_in_their_language(article_pipeline, question, refusal):
    answer = article_pipeline.ask(question)
    assert answer.abstained and answer.citations == () and answer.text == refusal
    assert answer.confidence == "none"
    assert answer.hits  # the closest passages are still shown as sources
    data = answer.to_dict()["refusal"]
    assert data["score"] > data["threshold"]  # the refusal model's log-odds above its threshold


@pytest.mark.parametrize("question", [
    "In welchem Jahr wurde das DFKI gegründet?",  # the DFKI is named, its founding year is not
    "Wie heisst der Chef von Toyota?",  # the issue's examples: Toyota is nowhere in the text
    "Who is the CEO of Toyota?",
    "How many employees does Softbank have?",
])
def test_on_topic_questions_the_text_cannot_answer_are_never_confident(article_pipeline, question):
    answer = article_pipeline.ask(question)
    assert answer.confidence in ("low", "none")
    if answer.confidence == "low":
        assert len(answer.citations) == 1 and answer.text.startswith(lead(answer))


def test_an_answered_question_is_below_the_refusal_threshold(article_pipeline):
    data = article_pipeline.ask("Wer leitet den Technologieinvestor Softbank?").to_dict()
    assert data["refusal"]["score"] < data["refusal"]["threshold"] and not data["abstained"]


OTHER_LANGUAGES = [
    ("Кто руководит компанией Softbank?", "ru"),
    ("谁领导软银公司？", "zh"),
    ("¿Quién dirige Softbank?", "es"),
]


@pytest.mark.parametrize("question,language", OTHER_LANGUAGES)
def test_questions_in_other_encoder_languages_are_answered(article_pipeline, question, language):
    answer = article_pipeline.ask(question)
    assert answer.language == language and not answer.abstained
    assert "Son" in answer.citations[0].sentence.text  # Masayoshi Son, the "Softbank-Chef Son"
    assert answer.text.startswith(lead(answer))
    assert "(quoted in the original language)" in answer.text


def test_a_language_the_model_cannot_read_gets_a_clear_notice(article_pipeline):
    answer = article_pipeline.ask("Ποιος διευθύνει την εταιρεία Softbank;")
    assert answer.abstained and answer.language == "el" and not answer.citations
    assert "cannot read (el)" in answer.text and "German (de)" in answer.text and answer.notice == ""


def test_he_or_she_is_grounded_in_the_paragraph_before(article_pipeline):
    # "Es seien Dinge, die er ... vermisse." names Dengel only in the paragraph before.
    answer = article_pipeline.ask("Seit wann fehlt Dengel diese Haltung bei den Amerikanern?")
    assert "Jahrtausendwende" in answer.citations[0].sentence.text


def test_json_shape_matches_the_cli_contract(article_pipeline):
    data = json.loads(json.dumps(article_pipeline.ask("Wer ist Yuko Harayama?").to_dict()))
    assert {"answer", "citations", "hits", "abstained", "timings_ms"} <= data.keys()
    for citation in data["citations"]:
        assert {"text", "doc_id", "paragraph", "sentence", "start", "end", "score"} <= citation.keys()
    assert {"encode", "dense", "lexical", "fusion", "answer", "total"} <= data["timings_ms"].keys()


# --- answer quality and refusal on the two article question sets, floors from counts ------------
#
# `make train` trains the answer model on seeds/eval/article.jsonl (IN_SAMPLE: its floors say
# little about new text) and never reads seeds/eval/article-heldout.jsonl (HELD_OUT: written before
# the model, used for nothing else). Each set has ONE table below: per figure, the count measured
# when the floors were derived, out of how many questions, and the set's slack: how many questions
# may go the wrong way before the test fails (floor = measured - slack; for the one figure where
# lower is better, ceiling = measured + slack). After a retrain, or any change that moves the
# figures on purpose, re-derive both tables with
#     .venv/bin/python tests/test_pipeline.py
# (it prints them as measured now, in this form) and paste them here, saying why in the commit.


@dataclass(frozen=True)
class Floor:
    measured: int  # questions that counted when the floor was derived
    of: int  # questions the figure is over
    slack: int  # how many questions may go the wrong way
    ceiling: bool = False  # lower is better: at most measured + slack

    @property
    def limit(self) -> int:
        return self.measured + self.slack if self.ceiling else max(0, self.measured - self.slack)

    def holds(self, count: int) -> bool:
        return count <= self.limit if self.ceiling else count >= self.limit


# Measured 2026-12-07 with the shipped answer model (three levels, both written training sets). Slack: 2
# questions per figure in-sample, 1 held-out (12-17 questions per figure there, so one question
# is 6-8 points).
IN_SAMPLE_SLACK = 2
IN_SAMPLE = {
    "hit@1": Floor(53, 60, IN_SAMPLE_SLACK),
    "first citation right, de": Floor(36, 45, IN_SAMPLE_SLACK),
    "first citation right, en": Floor(15, 15, IN_SAMPLE_SLACK),
    "answerable refused": Floor(0, 60, IN_SAMPLE_SLACK, ceiling=True),
    "unanswerable refused": Floor(1, 8, IN_SAMPLE_SLACK),
    "unanswerable above 90% of answerable": Floor(3, 8, IN_SAMPLE_SLACK),
    "unanswerable answered confidently": Floor(0, 8, IN_SAMPLE_SLACK, ceiling=True),
    "confident answers wrong": Floor(0, 68, IN_SAMPLE_SLACK, ceiling=True),
}
IN_SAMPLE_MRR = 0.920  # MRR is no count: each question that loses rank 1 costs it at most 1/60
HELD_OUT_SLACK = 1
HELD_OUT = {
    "hit@1": Floor(11, 17, HELD_OUT_SLACK),
    "first citation right, de": Floor(8, 12, HELD_OUT_SLACK),
    "first citation right, en": Floor(3, 5, HELD_OUT_SLACK),
    "answerable refused": Floor(0, 17, HELD_OUT_SLACK, ceiling=True),
    "unanswerable refused": Floor(0, 12, HELD_OUT_SLACK),
    "unanswerable above 90% of answerable": Floor(3, 12, HELD_OUT_SLACK),
    "unanswerable answered confidently": Floor(0, 12, HELD_OUT_SLACK, ceiling=True),
    "confident answers wrong": Floor(0, 29, HELD_OUT_SLACK, ceiling=True),
}
# Floors that cannot fail yet, the measured count being within the slack of 0 (the support
# model gives "none" to 1 of 8 unanswerable in-sample questions and 0 of 12 held-out ones; most
# get "low", none "high"; docs/evaluation.md).
# tests/test_floors.py checks that this names exactly those, so a retrain that refuses more makes
# them real by removing them here, and no new one slips in unnoticed.
CANNOT_FAIL_YET = {("IN_SAMPLE", "unanswerable refused"), ("HELD_OUT", "unanswerable refused")}


def _first_right(r) -> bool:  # noqa: ANN001
    return bool(r.citation_hits) and r.citation_hits[0] and not r.abstained


def count_figures(results) -> dict[str, tuple[int, int]]:  # noqa: ANN001
    """Per figure of the tables, (questions that count, questions it is over), from `rag eval`'s
    per-question results. A refused answerable question counts as a miss."""
    import numpy as np

    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]

    def score(r) -> float:  # noqa: ANN001 - nothing retrieved counts as refused for sure
        return 1e9 if r.refusal_score is None else r.refusal_score

    cut = float(np.quantile([score(r) for r in answerable], 0.9))  # refuses 10% of the answerable
    figures = {"hit@1": (sum(r.rank == 1 for r in answerable), len(answerable))}
    for lang in ("de", "en"):
        own = [r for r in answerable if r.lang == lang]
        figures[f"first citation right, {lang}"] = (sum(_first_right(r) for r in own), len(own))
    figures["answerable refused"] = (sum(r.abstained for r in answerable), len(answerable))
    figures["unanswerable refused"] = (sum(r.abstained for r in unanswerable), len(unanswerable))
    figures["unanswerable above 90% of answerable"] = (
        sum(score(r) > cut for r in unanswerable), len(unanswerable))
    # The three levels: a confident answer to a question the text cannot answer, and a
    # confident answer whose first citation is wrong, are what a user cannot tell apart.
    figures["unanswerable answered confidently"] = (
        sum(r.confidence == "high" for r in unanswerable), len(unanswerable))
    confident = [r for r in results if r.confidence == "high"]
    figures["confident answers wrong"] = (sum(not _first_right(r) for r in confident), len(results))
    return figures


@dataclass(frozen=True)
class SetRun:
    report: dict
    counts: dict[str, tuple[int, int]]


def _run_set(pipeline, path: Path) -> SetRun:  # noqa: ANN001
    report, results = run_eval(pipeline, load_questions(path), options=RunOptions(progress=False))
    return SetRun(report, count_figures(results))


@pytest.fixture(scope="session")
def in_sample(article_pipeline) -> SetRun:
    """seeds/eval/article.jsonl through `rag eval`'s runner, once for every test that checks it."""
    return _run_set(article_pipeline, EVAL)


@pytest.fixture(scope="session")
def held_out(article_pipeline) -> SetRun:
    return _run_set(article_pipeline, HELD_OUT_EVAL)


def _check(table: dict[str, Floor], run: SetRun, label: str) -> None:
    missed = []
    for figure, floor in table.items():
        count, of = run.counts[figure]
        assert of == floor.of, f"{label}: the set changed ({figure} is over {of}): re-derive the table"
        if not floor.holds(count):
            bound = f"at most {floor.limit}" if floor.ceiling else f"at least {floor.limit}"
            missed.append(f"{figure}: {count}/{of}, must be {bound} (measured {floor.measured}, slack "
                          f"{floor.slack})")
    assert not missed, f"{label} floors missed:\n" + "\n".join(missed)


def test_quality_and_refusal_on_the_held_out_set(held_out) -> None:
    """Out of sample: seeds/eval/article-heldout.jsonl, which the answer model never saw."""
    _check(HELD_OUT, held_out, "held-out (article-heldout.jsonl)")
    # The report's shares are these counts (the figures docs/evaluation.md quotes).
    hit1, n = held_out.counts["hit@1"]
    assert held_out.report["retrieval"]["hit@1"] == pytest.approx(hit1 / n, abs=5e-5)  # rounded to 4 places
    refused, m = held_out.counts["unanswerable refused"]
    assert held_out.report["abstention"]["refused_unanswerable"] == pytest.approx(refused / m, abs=5e-5)


def test_quality_and_refusal_on_the_article_question_set_in_sample(in_sample) -> None:
    """In-sample: seeds/eval/article.jsonl is part of the answer model's training data, so these
    floors guard against regressions only; the held-out test above is the one about new text."""
    _check(IN_SAMPLE, in_sample, "in-sample (article.jsonl)")
    refused, m = in_sample.counts["unanswerable refused"]
    assert in_sample.report["abstention"]["refused_unanswerable"] == pytest.approx(refused / m, abs=5e-5)


def test_ranking_on_the_article_question_set_in_sample(in_sample) -> None:
    """hit@1 is in the table; MRR from counts: two more questions (the slack) off rank 1 cost it
    at most 2/60."""
    _, answerable = IN_SAMPLE["hit@1"].measured, IN_SAMPLE["hit@1"].of
    floor = IN_SAMPLE_MRR - IN_SAMPLE_SLACK / answerable
    assert in_sample.report["retrieval"]["mrr"] >= floor - 1e-9, (in_sample.report["retrieval"], floor)
    hit1, n = in_sample.counts["hit@1"]
    assert in_sample.report["retrieval"]["hit@1"] == pytest.approx(hit1 / n, abs=5e-5)  # rounded to 4 places


CEILINGS = ("answerable refused", "unanswerable answered confidently", "confident answers wrong")


def _derive(pipeline) -> str:  # noqa: ANN001
    """Both tables as measured now, in the form above (see `python tests/test_pipeline.py`)."""
    lines = []
    sets = (("IN_SAMPLE", EVAL, "IN_SAMPLE_SLACK"), ("HELD_OUT", HELD_OUT_EVAL, "HELD_OUT_SLACK"))
    for name, path, slack in sets:
        run = _run_set(pipeline, path)
        lines.append(f"{name} = {{")
        for figure, (count, of) in run.counts.items():
            ceiling = ", ceiling=True" if figure in CEILINGS else ""
            lines.append(f'    "{figure}": Floor({count}, {of}, {slack}{ceiling}),')
        lines.append("}")
        if name == "IN_SAMPLE":
            lines.append(f"IN_SAMPLE_MRR = {run.report['retrieval']['mrr']:.3f}")
    return "\n".join(lines)


def test_question_pasted_with_markup_is_answered_like_plain_text(article_pipeline):
    answer = article_pipeline.ask("<b>Wer</b> leitet den <i>Technologieinvestor</i> Softbank?")
    assert answer.question.startswith("<b>Wer</b>")  # shown as typed
    assert "Masayoshi Son" in answer.citations[0].sentence.text


if __name__ == "__main__":  # re-derive the floor tables: .venv/bin/python tests/test_pipeline.py
    import shutil
    import sys
    import tempfile

    from rag.config import Settings
    from rag.index.encoders import build_encoder
    from rag.pipeline import Pipeline

    with tempfile.TemporaryDirectory(prefix="rag-floors-") as tmp:
        shutil.copytree(EVAL.parents[1], Path(tmp) / "seeds")
        settings = Settings(seeds_dir=Path(tmp) / "seeds", index_dir=Path(tmp) / "index")
        article = Pipeline.open(settings, encoder=build_encoder(), progress=False, on_status=lambda m: None)
        sys.stdout.write(_derive(article) + "\n")
