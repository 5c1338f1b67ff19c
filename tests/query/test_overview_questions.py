"""Overview questions ("Worum geht es?") are told apart from ordinary questions.

Both sets are measured: every overview phrasing must be detected and no ordinary question may
be taken for one (an ordinary question answered with an overview would lose its answer).
"""

from __future__ import annotations

import pytest

from rag.answer.overview import is_overview_question

OVERVIEW = [
    "Worum geht es?",
    "Worum geht es im Artikel?",
    "Worum geht's in dem Text?",
    "Um was geht es hier?",
    "Fasse den Artikel zusammen",
    "Fass den Text kurz zusammen, bitte",
    "Kannst du den Artikel zusammenfassen?",
    "Zusammenfassung bitte",
    "Gib mir einen Überblick",
    "Wovon handelt der Text?",
    "Was ist das Thema des Artikels?",
    "What is this article about?",
    "What is this about?",
    "What's it about?",
    "Summarize the article",
    "Summarize",
    "Please summarise the text",
    "Give me a short summary",
    "Overview please",
    "What is the main topic of the article?",
    "What does the article say?",
    "TL;DR",
]

ORDINARY = [
    "Worum geht es bei Stargate?",
    "Wer leitet den Technologieinvestor Softbank?",
    "Was ist Sakana AI?",
    "Welche vier Faktoren sprechen für Japan?",
    "Was steht im Koalitionsvertrag?",
    "Fasse die Regeln zur KI-Regulierung zusammen",
    "Was ist das Thema von Dengels Projekt in Osaka?",
    "What is Stargate about?",
    "What is the capital of France?",
    "Summarize the fines for repeat offenders",
    "What does Yuko Harayama warn about?",
    "Who is Yutaka Matsuo?",
    "What is the topic of the Osaka project?",
    "Give me an overview of the energy strategy",
    "Und warum?",
    "Why?",
]


def _rates() -> tuple[float, float]:
    found = sum(is_overview_question(q) for q in OVERVIEW) / len(OVERVIEW)
    false = sum(is_overview_question(q) for q in ORDINARY) / len(ORDINARY)
    return found, false


def test_overview_detection_rates() -> None:
    assert len(OVERVIEW) >= 12 and len(ORDINARY) >= 12
    found, false = _rates()
    missed = [q for q in OVERVIEW if not is_overview_question(q)]
    wrong = [q for q in ORDINARY if is_overview_question(q)]
    print(f"\noverview phrasings detected: {found:.0%} of {len(OVERVIEW)}; ordinary questions taken for "
          f"overview: {false:.0%} of {len(ORDINARY)}")
    assert not missed, missed
    assert not wrong, wrong


@pytest.mark.slow
def test_overview_answer_cites_title_lead_and_headings(article_pipeline) -> None:
    for question, lang in [("Worum geht es?", "de"), ("Summarize the article", "en")]:
        answer = article_pipeline.ask(question)
        assert not answer.abstained
        texts = [c.sentence.text for c in answer.citations]
        assert "Japans Aufholjagd bei der künstlichen Intelligenz" in texts[0]
        assert any("Wettrennen um die künstliche Intelligenz" in t for t in texts)
        assert "KI-Regulierung zwischen Europa und USA" in texts
        assert all(f"[{c.marker}]" in answer.text for c in answer.citations)
        assert answer.language == lang
