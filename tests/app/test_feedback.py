"""Thumbs up/down from the page become `rag eval` questions (rag/app/feedback.py)."""

from __future__ import annotations

import json

from rag.app.feedback import FeedbackLog, default_feedback_path
from rag.eval.questions import load_questions


def test_feedback_lines_are_rag_eval_questions(tmp_path) -> None:
    log = FeedbackLog(tmp_path / "sub" / "feedback.jsonl")
    log.add("Wer leitet Softbank?", "de", ["Der Chef von Softbank, Masayoshi Son"], "down")
    log.add("What is the capital of France?", "EN", [], "down")
    log.add("Wer leitet Softbank?", "de", ["  ", "Masayoshi Son"], "up")
    questions = load_questions(log.path)
    assert [q.question for q in questions] == ["Wer leitet Softbank?", "What is the capital of France?",
                                               "Wer leitet Softbank?"]
    assert questions[1].answers == () and questions[1].lang == "en"
    assert questions[2].answers == ("Masayoshi Son",)
    assert len({q.qid for q in questions}) == 3
    first = json.loads(log.path.read_text("utf-8").splitlines()[0])
    assert {"id", "lang", "question", "answers"} <= set(first)


def test_default_location_is_beside_the_index_folder(tmp_path) -> None:
    assert default_feedback_path(tmp_path / "index") == (tmp_path / "index" / "feedback.jsonl").resolve()
