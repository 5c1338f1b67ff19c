"""The question analysed once (rag/query/analysis.py)."""

from __future__ import annotations

from rag.answer.answer_type import ANY, QUANTITY, TIME
from rag.query.analysis import NAME, PERSON, PLACE, REASON, analyse_question


def test_words_names_numbers_and_the_slot():
    q = analyse_question("Wie viele Mitarbeiter hatte Softbank 2023?", "de")
    assert q.words == ("mitarbeiter", "softbank")
    assert q.key_words == ("mitarbeiter", "softbank")  # capitalised after the first word
    assert q.numbers == {"2023"}
    assert q.slot == QUANTITY and q.typed and q.counted_noun == "Mitarbeiter"


def test_slots_of_person_name_and_place_questions_in_german_and_english():
    assert analyse_question("Wer leitet Softbank?", "de").slot == PERSON
    assert analyse_question("Who runs Softbank?", "en").slot == PERSON
    assert analyse_question("Welches Modell hat Deepseek gebaut?", "de").slot == NAME
    assert analyse_question("Which model did Deepseek build?", "en").slot == NAME
    assert analyse_question("Wo hat Open AI ein Büro eröffnet?", "de").slot == PLACE
    assert analyse_question("Warum investiert Japan?", "de").slot == REASON
    assert analyse_question("why was the water wheel scrapped", "en").slot == REASON
    assert analyse_question("Was macht Softbank in Japan?", "de").slot == ANY


def test_slots_of_questions_as_people_type_them():
    assert analyse_question("Wie hieß die Bäckerei, die früher im Haus war?", "de").slot == NAME
    assert analyse_question("What's the DFKI's Osaka project called?", "en").slot == NAME
    assert analyse_question("whats the name of the choir's pianist", "en").slot == NAME
    assert analyse_question("Wie schwer ist das Steuergerät?", "de").slot == QUANTITY
    assert analyse_question("How wide is the main dome?", "en").slot == QUANTITY
    assert analyse_question("What time does the library open on Saturdays?", "en").slot == TIME
    assert analyse_question("Um wie viel Uhr öffnet die Bibliothek?", "de").slot == TIME


def test_a_script_without_spaces_gets_no_words():
    q = analyse_question("软银的老板是谁？", "zh")
    assert not q.spaced and q.words == ()
