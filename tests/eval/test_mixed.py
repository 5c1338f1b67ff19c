"""German and English documents in one corpus (real model): each is answered as when alone, and
the lead says whether the quotes are in the question's language; the runner of `make eval-mixed`."""

import json
import shutil
from pathlib import Path

import pytest

from rag.config import Settings
from rag.eval.mixed import MIXED, prepare, question_documents, summarize, table
from rag.eval.questions import EvalFormatError
from rag.pipeline import Pipeline

MIXED_SET = Path(__file__).resolve().parents[2] / "seeds" / "eval" / "mixed"
QUESTIONS = MIXED_SET / "questions.jsonl"
# Questions about either document in either language (ids of seeds/eval/mixed/questions.jsonl).
ASKED = ("en-r03", "en-r05", "de-r03", "de-r07", "de-j01", "en-j02", "en-j06")


def _never_refusing_model(tmp_path: Path) -> Path:
    """The shipped ranker and support model with no "none" threshold: these tests are about which
    sentence each corpus ranks first, not about whether the support suffices (one question near
    the "none" threshold would otherwise decide them)."""
    from rag.answer.model import DEFAULT_MODEL_FILE

    data = json.loads(DEFAULT_MODEL_FILE.read_text("utf-8"))
    data["thresholds"]["none"] = dict.fromkeys(data["thresholds"]["none"], 1e9)
    path = tmp_path / "never-refusing.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _pipeline(tmp_path: Path, name: str, files: list[Path], encoder) -> Pipeline:  # noqa: ANN001
    seeds = tmp_path / name / "seeds"
    seeds.mkdir(parents=True)
    for file in files:
        shutil.copyfile(file, seeds / file.name)
    settings = Settings(
        seeds_dir=seeds, index_dir=tmp_path / name / "index", answer_model=_never_refusing_model(tmp_path)
    )
    return Pipeline.open(settings, encoder=encoder, progress=False, on_status=lambda m: None)


@pytest.mark.slow
def test_each_document_of_a_mixed_corpus_is_answered_as_when_alone(tmp_path, real_encoder, seeds_copy):
    german = next(seeds_copy.glob("*.txt"))
    english = MIXED_SET / "redhaven-trams.md"
    mixed = _pipeline(tmp_path, "mixed", [german, english], real_encoder)
    alone = {
        "de": _pipeline(tmp_path, "de", [german], real_encoder),
        "en": _pipeline(tmp_path, "en", [english], real_encoder),
    }
    assert mixed.index.manifest["languages"] == ["de", "en"]
    questions = {json.loads(line)["id"]: json.loads(line) for line in QUESTIONS.read_text().splitlines()}
    for qid in ASKED:
        q = questions[qid]
        text_language = "en" if q["doc"] == english.name else "de"
        answer = mixed.ask(q["question"])
        by_itself = alone[text_language].ask(q["question"])
        assert not answer.abstained, qid
        first = answer.citations[0].sentence
        assert any(a.casefold() in first.text.casefold() for a in q["answers"]), (qid, first.text)
        assert first.text == by_itself.citations[0].sentence.text, qid
        assert mixed.document(first.doc_id).language == text_language
        # The lead tells the reader when the quotes are in another language than the question.
        assert answer.text.split(" ")[:3] == by_itself.text.split(" ")[:3], qid
    english_answer = mixed.ask(questions["en-r05"]["question"])
    lead = "The text may not answer this. Closest passage: " if english_answer.confidence == "low" else (
        "According to the text: ")
    assert english_answer.text.startswith(lead)


def test_the_runner_makes_one_corpus_per_document_and_one_of_all(tmp_path):
    corpora = prepare(QUESTIONS, MIXED_SET.parents[1], tmp_path)
    assert sorted(corpora) == sorted([MIXED, "japan-ki-aufholjagd.txt", "redhaven-trams.md"])
    seeds, questions = corpora["redhaven-trams.md"]
    assert [p.name for p in seeds.iterdir()] == ["redhaven-trams.md"]
    asked = [json.loads(line) for line in questions.read_text().splitlines()]
    assert asked and all(q["doc"] == "redhaven-trams.md" for q in asked)
    assert len(corpora[MIXED][1].read_text().splitlines()) == len(QUESTIONS.read_text().splitlines())
    both = sorted(p.name for p in corpora[MIXED][0].iterdir())
    assert both == ["japan-ki-aufholjagd.txt", "redhaven-trams.md"]


def test_the_runner_sums_up_per_document_and_question_language():
    def result(qid: str, lang: str, rank: int | None, hits: list[bool], refused: bool, answers=("x",)):  # noqa: ANN001
        return {"id": qid, "lang": lang, "answers": list(answers), "rank": rank,
                "citation_hits": hits, "abstained": refused}

    doc_of = {"a": "d1", "b": "d1", "c": "d2", "n": "d2"}
    mixed = [result("a", "de", 1, [True], False), result("b", "en", 3, [False], False),
             result("c", "en", None, [], True), result("n", "en", None, [], True, answers=())]
    results = {MIXED: mixed, "d1": [result("a", "de", 1, [True], False), result("b", "en", 1, [True], False)],
               "d2": [result("c", "en", 1, [True], False), result("n", "en", None, [], False, answers=())]}
    summary = summarize(results, doc_of)
    assert summary["d1 <- en"][MIXED]["hit@1"] == 0.0 and summary["d1 <- en"]["alone"]["hit@1"] == 1.0
    assert summary["d2 <- en"][MIXED]["refused_answerable"] == 1.0
    assert summary["d2 <- en"][MIXED]["refused_unanswerable"] == 1.0
    assert summary["d2 <- en"]["alone"]["refused_unanswerable"] == 0.0
    assert summary["all <- en"][MIXED]["answerable"] == 2 and summary["all <- en"]["alone"]["hit@1"] == 1.0
    assert "| d1 <- de | 1+0 | 1.00 / 1.00 |" in table(summary)


def test_a_question_without_its_document_is_named(tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "x", "lang": "en", "question": "Who?", "answers": []}\n', encoding="utf-8")
    with pytest.raises(EvalFormatError, match=r"q.jsonl:1: 'doc'"):
        question_documents(bad)
