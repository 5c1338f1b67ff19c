"""Two unrelated questions in a row: the second stands alone and must be searched as typed.

Beside tests/query/test_followup_conversations.py (second questions that need the first):
here the follow-up logic must *not* merge. Both rates are printed; ``rag/query/followup.py``
must keep every stand-alone question unchanged and still resolve every real follow-up.
"""

from __future__ import annotations

import pytest

from rag.query.followup import contextualize, is_follow_up, is_why_question

# (first question, an unrelated second question that names its own subject)
STANDALONE: list[tuple[str, str]] = [
    ("Wer ist Andreas Dengel?", "Wer leitet den Technologieinvestor Softbank?"),
    ("Wer ist der Chef von Softbank?", "Wie hoch ist das Bussgeld für Wiederholungstäter?"),
    ("Wo hat Open AI sein erstes Auslandsbüro eröffnet?", "Welche vier Faktoren sprechen für Japan?"),
    ("Wer ist Yuko Harayama?", "Bis wann soll der Anteil des Atomstroms steigen?"),
    ("Was ist Sakana AI?", "Mit wie viel Geld unterstützt die Regierung die Chipindustrie?"),
    ("Wer ist Yutaka Matsuo?", "Welches Startup ist Entwicklungspartner von KDDI?"),
    ("Wie streng sind die Regeln in Japan?", "Wer hat Sakana AI gegründet?"),
    ("Was ist Stargate?", "Was vermisst Dengel in den USA?"),
    ("Wer ist Andreas Dengel?", "Was entwickelt Softbank mit Open AI?"),
    ("Wer ist Masayoshi Son?", "Wie gross ist das Marktpotenzial in Japan im Vergleich zu Deutschland?"),
    ("Welche Telekomkonzerne haben eigene Modelle?", "Worin sind japanische Elektronikkonzerne führend?"),
    ("Wer ist Yuko Harayama?", "Wo liegt die Osaka Metropolitan University?"),
    ("Who is Andreas Dengel?", "Who leads Softbank?"),
    ("Who founded Sakana AI?", "How high is the fine for repeat offenders in Japan?"),
    ("Where did Open AI open its first foreign office?", "Which four factors favour Japan?"),
    ("Who is Yutaka Matsuo?", "How much money does the government give the chip industry?"),
    ("What is Stargate?", "Who is Yuko Harayama?"),
    ("Who is the head of Softbank?", "What does Dengel miss in the USA?"),
    ("How strict are the rules in Japan?", "By when should the share of nuclear power rise?"),
    ("What is Elyza?", "Which university does Yutaka Matsuo teach at?"),
    ("Who is Masayoshi Son?", "What did the Diplomat call Japan?"),
    ("Wer ist der Chef von Softbank?", "Was ist die Osaka Metropolitan University?"),
    # A pronoun that points into the question itself, not back.
    ("Wer ist Yuko Harayama?", "Which company does Son lead and what does it develop?"),
    ("Who is Andreas Dengel?", "What is it that makes Japan attractive to AI companies?"),
    ("Wer ist Yutaka Matsuo?", "How does Japan regulate AI and what does that cost companies?"),
    ("Wer ist Andreas Dengel?", "Wer leitet Softbank und woran ist er beteiligt?"),
    ("Who is Andreas Dengel?", "What does Matsuo say about his country?"),
]

# Real follow-ups (the second questions of test_followup_conversations.py and a few more).
FOLLOW_UPS: list[tuple[str, str]] = [
    ("Wer ist Andreas Dengel?", "Und wer ist sein Partner?"),
    ("Wer ist Andreas Dengel?", "Wo hat er im Januar ein Projekt gestartet?"),
    ("Wer ist der Chef von Softbank?", "An welchem US-Projekt ist er beteiligt?"),
    ("Wer ist Yutaka Matsuo?", "Und in welchem Rat sitzt er?"),
    ("Wer ist Yuko Harayama?", "Wovor warnt sie?"),
    ("Wie hoch soll der Anteil des Atomstroms steigen?", "Bis wann?"),
    ("Welches Bussgeld droht Wiederholungstätern in Japan?", "Und wie streng sind die Regeln dort?"),
    ("Wo hat Open AI sein erstes Auslandsbüro eröffnet?", "Und wann war das?"),
    ("Wer hat das Startup Sakana AI gegründet?", "Und wo?"),
    ("Welches Projekt hat Dengel in Osaka gestartet?", "Wie lange soll es dauern?"),
    ("Where did Open AI open its first foreign office?", "When was that?"),
    ("Who founded Sakana AI?", "Where is it based?"),
    ("Who is Yutaka Matsuo?", "Which university does he teach at?"),
    ("Who is Andreas Dengel?", "What does he miss in the USA?"),
    ("How high is the fine for repeat offenders in Japan?", "And how strict are the rules there?"),
    ("How much should the share of nuclear power rise?", "By when?"),
    ("Who is the head of Softbank?", "What does his company develop together with Open AI?"),
    ("Who is Yuko Harayama?", "What does she warn about?"),
    ("Wer ist Andreas Dengel?", "Und was ist mit Yutaka Matsuo?"),
    ("Who is Andreas Dengel?", "What about Masayoshi Son?"),
]


def rates() -> tuple[int, int]:
    standalone = sum(contextualize(second, [first]) == second for first, second in STANDALONE)
    follow = sum(contextualize(second, [first]) != second for first, second in FOLLOW_UPS)
    return standalone, follow


def test_standalone_questions_are_searched_as_typed_and_follow_ups_resolved() -> None:
    assert len(STANDALONE) >= 20
    standalone, follow = rates()
    merged = [(f, s, contextualize(s, [f])) for f, s in STANDALONE if contextualize(s, [f]) != s]
    missed = [(f, s) for f, s in FOLLOW_UPS if contextualize(s, [f]) == s]
    print(f"\nstand-alone second questions searched as typed: {standalone}/{len(STANDALONE)}; "
          f"follow-ups resolved: {follow}/{len(FOLLOW_UPS)}")
    assert not merged, merged
    assert not missed, missed


def test_why_questions() -> None:
    for question in ["Und warum?", "Warum?", "Wieso?", "Weshalb das?", "Why?", "And why?", "Why is that?",
                     "Warum ist das so?", "Wieso denn?"]:
        assert is_why_question(question), question
        assert is_follow_up(question), question
    for question in ["Warum investiert Softbank in Japan?", "Why does Dengel prefer Japan?",
                     "Wer leitet Softbank?"]:
        assert not is_why_question(question), question


def test_causal_neighbour_finds_the_reason_next_to_the_answer() -> None:
    from rag.answer.overview import reason_answer
    from rag.query.followup import causal_neighbour
    from rag.records import Sentence

    texts = ["Japan hat ein grosses Marktpotenzial.", "Die Regeln sind weniger streng.",
             "Auch deshalb kommen viele KI-Grössen nach Japan.", "Der Markt wächst."]
    sentences = [Sentence(i, "d", 1, i + 1, t, i * 50, i * 50 + len(t)) for i, t in enumerate(texts)]
    reason = causal_neighbour([sentences[1]], sentences)
    assert reason is sentences[2]
    answer = reason_answer("Und warum?", reason, "Titel", "de")
    assert "deshalb" in answer.text and answer.citations[0].sentence is reason and not answer.abstained
    assert causal_neighbour([sentences[3]], sentences[3:]) is None
    none = reason_answer("Why?", None, "", "en")
    assert none.abstained and "no reason" in none.text


@pytest.mark.parametrize("language, lead, none", [
    ("de", "Als Grund nennt der Text:", "Einen Grund dafür nennt der Text nicht."),
    ("en", "The text gives this reason:", "The text gives no reason for this."),
    ("fr", "Le texte donne cette raison :", "Le texte n'en donne pas la raison."),  # its own module
    ("it", "The text gives this reason:", "The text gives no reason for this."),  # English otherwise
])
def test_reason_answer_is_the_cited_sentence_or_a_plain_no_reason(language, lead, none) -> None:
    from rag.answer.overview import reason_answer
    from rag.records import Sentence

    reason = Sentence(7, "doc", 2, 3, "Auch deshalb kommen viele nach Japan.", 120, 157)
    answer = reason_answer("Und warum?", reason, "Titel", language)
    assert (answer.question, answer.text, answer.language) == (
        "Und warum?", f"{lead} {reason.text} [1]", language)
    assert answer.hits == () and answer.abstained is False
    (citation,) = answer.citations
    assert (citation.marker, citation.sentence, citation.doc_title) == (1, reason, "Titel")
    assert citation.score == 1.0
    assert answer.to_dict()["citations"][0]["doc_title"] == "Titel"
    missing = reason_answer("Why?", None, "Titel", language)
    assert (missing.question, missing.text, missing.language) == ("Why?", none, language)
    assert missing.citations == () and missing.hits == () and missing.abstained is True
    assert missing.to_dict()["answer"] == none
