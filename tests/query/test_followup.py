"""Follow-up questions: which questions lean on the previous turn, and what is searched then.

Pure and fast: no model, no index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.query.followup import contextualize, is_follow_up, topic_words

EVAL = Path(__file__).resolve().parents[2] / "seeds" / "eval" / "article.jsonl"


@pytest.mark.parametrize(
    "question",
    [
        "Und wer ist sein Partner?",
        "Wo hat er im Januar ein Projekt gestartet?",
        "Wovor warnt sie?",
        "Bis wann?",
        "Und wann war das?",
        "Und wo?",
        "Wie lange soll es dauern?",
        "Und wie streng sind die Regeln dort?",
        "Was bedeutet das für Japan?",
        "When was that?",
        "Where is it based?",
        "Which university does he teach at?",
        "What does that mean?",
        "And what about nuclear power?",
        "What about Europe?",
        "By when?",
        "Why?",
    ],
)
def test_elliptical_questions_are_follow_ups(question: str) -> None:
    assert is_follow_up(question)


@pytest.mark.parametrize(
    "question",
    [
        "Wer leitet das DFKI?",
        "Wer ist der Chef von Softbank?",
        "Wie viel Geld will das Stargate-Vorhaben in die KI-Infrastruktur stecken?",
        "Welches Motto hat Son damals ausgerufen?",  # names its subject itself
        "Womit vergleicht der Artikel Son, wenn es um sein Gespür für KI-Trends geht?",
        "Womit müssen KI-Agenten trainiert werden, damit sie in der Praxis taugen?",
        "Gibt es in Japan Atomkraftwerke?",  # impersonal "es"
        "Können Sie mir sagen, wer Softbank leitet?",  # polite "Sie"
        "Who runs Softbank?",
        "Is there a fine for repeat offenders?",  # existential "there"
        "Who said that Japan could catch up?",  # "that" as a conjunction
        "How many telecom companies in Japan have built their own AI models?",
    ],
)
def test_standalone_questions_are_not_follow_ups(question: str) -> None:
    assert not is_follow_up(question)


def test_no_question_of_the_evaluation_set_counts_as_a_follow_up() -> None:
    """The evaluation questions were written to stand alone; none may be rewritten."""
    lines = EVAL.read_text("utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    assert questions
    flagged = [q for q in questions if is_follow_up(q)]
    assert flagged == []


def test_follow_up_gets_the_topic_of_the_previous_question() -> None:
    query = contextualize("Und wer ist sein Partner?", ["Wer ist Andreas Dengel?"])
    assert query.startswith("Und wer ist sein Partner?")
    assert "Andreas Dengel" in query
    assert "Wer ist" not in query.removeprefix("Und wer ist sein Partner?")  # topic words only


def test_english_follow_up() -> None:
    query = contextualize("When was that?", ["Where did Open AI open its first foreign office?"])
    assert "Open AI" in query and "foreign office" in query
    assert "Where" not in query and "did" not in query


def test_standalone_question_is_not_disturbed() -> None:
    history = ["Wer ist der Chef von Softbank?"]
    assert contextualize("Wer leitet das DFKI?", history) == "Wer leitet das DFKI?"
    assert contextualize("Who runs Softbank?", ["Who is Andreas Dengel?"]) == "Who runs Softbank?"


def test_without_history_nothing_changes() -> None:
    assert contextualize("Und wer ist sein Partner?") == "Und wer ist sein Partner?"
    assert contextualize("Und wer ist sein Partner?", ["", "   "]) == "Und wer ist sein Partner?"


def test_only_the_last_question_counts() -> None:
    history = ["Wer ist Yuko Harayama?", "Wer ist Andreas Dengel?"]
    query = contextualize("Wo hat er im Januar ein Projekt gestartet?", history)
    assert "Dengel" in query and "Harayama" not in query


def test_follow_up_of_a_follow_up_keeps_the_thread() -> None:
    history = ["Wer ist Andreas Dengel?", "Wo hat er im Januar ein Projekt gestartet?"]
    query = contextualize("Und wie lange dauert es?", history)
    assert "Dengel" in query and "Projekt" in query


def test_words_already_in_the_question_are_not_repeated() -> None:
    query = contextualize("Und was macht Softbank dort?", ["Was macht Softbank in Japan?"])
    assert query.count("Softbank") == 1
    assert "Japan" in query


def test_topic_words_drop_question_and_function_words() -> None:
    assert topic_words("Wer ist der Chef von Softbank?") == ["Chef", "Softbank"]
    assert topic_words("Who is Yuko Harayama?") == ["Yuko", "Harayama"]
    assert topic_words("Bis wann?") == []


def test_deterministic() -> None:
    args = ("Wie lange soll es dauern?", ["Welches Projekt hat Dengel in Osaka gestartet?"])
    assert len({contextualize(*args) for _ in range(5)}) == 1
