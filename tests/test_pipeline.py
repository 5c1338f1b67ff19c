"""Answers from the real bundled model over the real article (the behaviour users see)."""

import json
from pathlib import Path

import pytest

from rag.eval.evaluate import RunOptions, run_eval
from rag.eval.questions import load_questions

pytestmark = pytest.mark.slow
EVAL = Path(__file__).resolve().parent.parent / "seeds" / "eval" / "article.jsonl"


def test_softbank_question_cites_masayoshi_son(article_pipeline):
    answer = article_pipeline.ask("Wer leitet den Technologieinvestor Softbank?")
    assert not answer.abstained
    first = answer.citations[0]
    assert "Masayoshi Son" in first.sentence.text
    assert answer.text.startswith("Laut dem Text:") and "[1]" in answer.text
    doc = article_pipeline.document(first.sentence.doc_id)
    assert doc.text[first.sentence.start : first.sentence.end] == first.sentence.text
    assert first.sentence.paragraph == 2 and first.sentence.sentence == 1


def test_english_question_on_german_text(article_pipeline):
    answer = article_pipeline.ask("Who is the head of Softbank?")
    assert answer.language == "en" and not answer.abstained
    assert "Masayoshi Son" in answer.citations[0].sentence.text
    assert answer.text.startswith("According to the text")


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
        ("In welchem Jahr wurde das DFKI gegründet?", "Dazu sagt der Text nichts."),
        ("What is the capital of France?", "The text does not say."),
    ],
)
def test_unanswerable_questions_are_refused_in_their_language(article_pipeline, question, refusal):
    answer = article_pipeline.ask(question)
    assert answer.abstained and answer.citations == () and answer.text == refusal
    assert answer.hits  # the closest passages are still shown as sources
    data = answer.to_dict()["refusal"]
    assert data["score"] > data["threshold"]  # the refusal model's log-odds above its threshold


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
    assert answer.text.startswith("According to the text (quoted in the original language):")


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


def _score_question_set(pipeline, path: Path) -> dict[str, float]:
    """The figures the floors below check, computed by `rag eval`'s own runner."""
    report, _ = run_eval(pipeline, load_questions(path), options=RunOptions(progress=False))
    by_language = report["by_language"]
    return {
        "de_questions": by_language["de"]["counts"]["answerable"],
        "en_questions": by_language["en"]["counts"]["answerable"],
        "unanswerable": report["counts"]["unanswerable"],
        "de": by_language["de"]["answer"]["top_citation_hit"],
        "en": by_language["en"]["answer"]["top_citation_hit"],
        "all": report["answer"]["top_citation_hit"],
        "refused_answerable": report["abstention"]["refused_answerable"],
        "refused_unanswerable": report["abstention"]["refused_unanswerable"],
        "answerable": report["counts"]["answerable"],
        "hit@1": report["retrieval"]["hit@1"],
        "mrr": report["retrieval"]["mrr"],
    }


def test_quality_on_the_article_question_set(article_pipeline):
    """Regression floor on seeds/eval/article.jsonl (in-sample: the answer model was trained on
    it; figures in docs/evaluation.md). Measured: German first citation 36/45 (0.80), English
    15/15, answerable refused 1/60. Floors allow about two more German misses, one more English
    miss and two more answerable refusals."""
    figures = _score_question_set(article_pipeline, EVAL)
    assert figures["de_questions"] >= 25 and figures["en_questions"] >= 10 and figures["unanswerable"] >= 5
    assert figures["de"] >= 0.75 and figures["en"] >= 0.90, figures
    assert figures["refused_answerable"] <= 0.05, figures


# Ranking floors on the same set, from counts. Measured (docs/evaluation.md): hit@1 53/60 = 0.883,
# MRR 0.920 over 60 answerable questions. Slack: two more questions may lose rank 1, so hit@1 >=
# 51/60 = 0.850; each such question costs MRR at most 1/60 (rank 1 -> out of the top 10), two cost
# 0.033, so MRR >= 0.920 - 0.033 = 0.887 (rounded down to 0.885). A change that moves more than
# two questions off rank 1 fails; rerun `rag eval seeds/eval/article.jsonl` and say why.
ANSWERABLE = 60
HIT1_FLOOR = 51 / ANSWERABLE
MRR_FLOOR = 0.885


def test_ranking_on_the_article_question_set(article_pipeline):
    figures = _score_question_set(article_pipeline, EVAL)
    assert figures["answerable"] == ANSWERABLE, "the question set changed: recompute the floors"
    assert figures["hit@1"] >= HIT1_FLOOR, figures
    assert figures["mrr"] >= MRR_FLOOR, figures


def test_held_out_question_set_is_reported_not_gated(article_pipeline, capsys):
    """seeds/eval/article-heldout.jsonl is the article set nothing was trained or tuned on: its
    figures are printed for the record; gating on them would make it a tuning target."""
    figures = _score_question_set(article_pipeline, EVAL.with_name("article-heldout.jsonl"))
    with capsys.disabled():
        print(f"\nheld-out article questions: {figures}")
    assert figures["unanswerable"] >= 10 and figures["de_questions"] >= 10


def test_question_pasted_with_markup_is_answered_like_plain_text(article_pipeline):
    answer = article_pipeline.ask("<b>Wer</b> leitet den <i>Technologieinvestor</i> Softbank?")
    assert answer.question.startswith("<b>Wer</b>")  # shown as typed
    assert "Masayoshi Son" in answer.citations[0].sentence.text
