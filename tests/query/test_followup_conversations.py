"""Two-turn conversations over the bundled article, answered by the real pipeline.

The second question of each pair only makes sense after the first ("Bis wann?"). We count
how often the second answer cites a correct sentence with the conversation history and
without it: the difference is what follow-up resolution (rag/query/followup.py) fixes.
"""

from __future__ import annotations

import pytest

# (first question, follow-up, substrings of which one must be in a cited sentence)
CONVERSATIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("Wer ist Andreas Dengel?", "Und wer ist sein Partner?", ("Osaka Metropolitan", "Japan als Partner")),
    ("Wer ist Andreas Dengel?", "Wo hat er im Januar ein Projekt gestartet?", ("Osaka",)),
    ("Wer ist der Chef von Softbank?", "An welchem US-Projekt ist er beteiligt?", ("Stargate",)),
    ("Wer ist Yutaka Matsuo?", "Und in welchem Rat sitzt er?", ("KI-Rats",)),
    ("Wer ist Yuko Harayama?", "Wovor warnt sie?", ("keineswegs garantiert", "keine Garantie")),
    ("Wie hoch soll der Anteil des Atomstroms steigen?", "Bis wann?", ("2040",)),
    ("Welches Bussgeld droht Wiederholungstätern in Japan?", "Und wie streng sind die Regeln dort?",
     ("weniger streng",)),
    ("Wo hat Open AI sein erstes Auslandsbüro eröffnet?", "Und wann war das?", ("Im vergangenen Jahr",)),
    ("Wer hat das Startup Sakana AI gegründet?", "Und wo?", ("Sakana AI in Japan",)),
    ("Welches Projekt hat Dengel in Osaka gestartet?", "Wie lange soll es dauern?", ("fünf Jahre",)),
    ("Where did Open AI open its first foreign office?", "When was that?", ("Im vergangenen Jahr",)),
    ("Who founded Sakana AI?", "Where is it based?", ("Sakana AI in Japan",)),
    ("Who is Yutaka Matsuo?", "Which university does he teach at?", ("Tokio-Universität",)),
    ("Who is Andreas Dengel?", "What does he miss in the USA?", ("Jahrtausendwende",)),
    ("How high is the fine for repeat offenders in Japan?", "And how strict are the rules there?",
     ("weniger streng",)),
    ("How much should the share of nuclear power rise?", "By when?", ("2040",)),
    ("Who is the head of Softbank?", "What does his company develop together with Open AI?",
     ("Gemeinsam mit dem KI-Mega-Startup",)),
    ("Who is Yuko Harayama?", "What does she warn about?", ("keineswegs garantiert", "keine Garantie")),
]


def _cites(answer, expected: tuple[str, ...]) -> bool:  # noqa: ANN001
    return any(e in c.sentence.text for c in answer.citations for e in expected)


@pytest.mark.slow
def test_follow_up_conversations(article_pipeline) -> None:
    assert len(CONVERSATIONS) >= 10
    with_history = without_history = 0
    lines = []
    for first, follow_up, expected in CONVERSATIONS:
        resolved = article_pipeline.ask(follow_up, [first])
        alone = article_pipeline.ask(follow_up)
        with_history += _cites(resolved, expected)
        without_history += _cites(alone, expected)
        marks = ("ok " if _cites(resolved, expected) else "BAD", "ok " if _cites(alone, expected) else "bad")
        lines.append(
            f"  {marks[0]} / {marks[1]}  {first!r} -> {follow_up!r}  searched: {resolved.retrieval_query!r}"
        )
    print("\nfollow-up conversations (with history / without):")
    print("\n".join(lines))
    print(
        f"second answer cites a correct sentence: {with_history}/{len(CONVERSATIONS)} with history, "
        f"{without_history}/{len(CONVERSATIONS)} without"
    )
    assert with_history >= 8
    assert with_history > without_history


@pytest.mark.slow
def test_history_does_not_disturb_a_standalone_question(article_pipeline) -> None:
    alone = article_pipeline.ask("Wer leitet das DFKI?")
    after = article_pipeline.ask("Wer leitet das DFKI?", ["Wer ist der Chef von Softbank?"])
    assert after.retrieval_query == "Wer leitet das DFKI?"
    assert [c.sentence.text for c in after.citations] == [c.sentence.text for c in alone.citations]
