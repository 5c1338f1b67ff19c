"""What kind of answer a question asks for, and which sentences can hold it."""

from rag.answer.answer_type import ANY, QUANTITY, TIME, YEAR, can_answer, expected_answer
from rag.index.lexical import Analyzer

A = Analyzer("de")


def test_question_words():
    assert expected_answer("Wie viele Mitarbeiter hat Softbank?", A).kind == QUANTITY
    assert expected_answer("Wie viele Mitarbeiter hat Softbank?", A).counted == "mitarbeit"
    assert expected_answer("Vor wie vielen grossen Managern sprach er?", A).counted == "manag"
    assert expected_answer("How many telecom companies?", A).kind == QUANTITY
    assert expected_answer("In welchem Jahr wurde Sakana AI gegründet?", A).kind == YEAR
    assert expected_answer("Seit wann arbeitet Softbank mit Open AI?", A).kind == TIME
    assert expected_answer("Wer leitet Softbank?", A).kind == ANY


def test_a_count_needs_a_number_and_its_noun():
    count = expected_answer("Wie viele Sprachmodelle zählt Matsuo auf?", A)
    assert can_answer("Er zählt ein Dutzend Sprachmodelle japanischer Unternehmen auf.", count, A)
    assert not can_answer("Er zählt Sprachmodelle japanischer Unternehmen auf.", count, A)
    staff = expected_answer("Wie viele Mitarbeiter hat Softbank?", A)
    assert not can_answer("Son sprach vor mehr als 500 Unternehmensvorständen.", staff, A)
    assert can_answer("Es sind 500.", staff, A, context="Softbank hat viele Mitarbeiter.")


def test_years_and_times():
    year = expected_answer("In welchem Jahr eröffnete Open AI ein Büro?", A)
    assert can_answer("Im vergangenen Jahr eröffnete Open AI ein Büro.", year)
    assert can_answer("Das Büro öffnete 2024.", year)
    assert not can_answer("Open AI eröffnete ein Büro in Tokio.", year)
    when = expected_answer("Seit wann entwickelt Softbank Anwendungen?", A)
    assert can_answer("Softbank entwickelt seit Februar Anwendungen.", when)


def test_an_amount_of_money_needs_a_currency():
    money = expected_answer("Mit welcher Summe fördert der Staat die Chip-Branche?", A)
    assert money.kind == QUANTITY and money.money
    assert can_answer("Die Regierung unterstützt die Industrie mit mehr als 60 Milliarden Franken.", money)
    assert not can_answer("Das Projekt ist auf fünf Jahre angelegt.", money)
    assert expected_answer("How much did the Osaka project cost?", A).money


def test_comparatives_are_no_quantities():
    size = expected_answer("Wie hoch ist das Bussgeld?", A)
    assert not can_answer("Die Regeln sind weniger streng als in Europa.", size)
    assert not can_answer("Eine Aufholjagd ist keineswegs garantiert.", size)
    assert can_answer("Es sind wenige.", size) and can_answer("Es gibt keine.", size)


def test_the_measured_noun_must_be_named_like_a_counted_one():
    fine = expected_answer("Wie hoch ist das Bussgeld für Firmen, die mehrfach verstossen?", A)
    assert fine.kind == QUANTITY and fine.counted == "bussgeld"
    assert not can_answer("Die Regierung unterstützt die Industrie mit 60 Milliarden Franken.", fine, A)
    assert can_answer("Wiederholungstätern droht ein Bussgeld von 30 Prozent des Umsatzes.", fine, A)
    # A word for the measure itself is not repeated by the answer ("711.988 Einwohner").
    assert expected_answer("Wie groß war die Bevölkerung Warschaus im Jahr 1901?", A).counted is None


def test_any_question_takes_any_sentence():
    anything = expected_answer("Wer leitet Softbank?", A)
    for sentence in ["Masayoshi Son leitet Softbank.", "Ohne Zahl und ohne Jahr.", "Es sind 500."]:
        assert can_answer(sentence, anything, A)


def test_compounds_share_a_stem_at_the_end_from_3_letters_or_at_the_start_from_4():
    from rag.answer.answer_type import _shares_stem

    assert _shares_stem("sprachmodell", "modell") and _shares_stem("modell", "sprachmodell")  # either order
    assert _shares_stem("amt", "finanzamt") and not _shares_stem("mt", "finanzamt")  # the end: >= 3
    assert _shares_stem("konz", "konzernchef") and not _shares_stem("kon", "konzernchef")  # the start: >= 4
    assert _shares_stem("zins", "leitzins")  # the shorter one sorts last alphabetically
    assert not _shares_stem("modell", "modul")
    # In a count: "Sprachmodelle" counts as the asked-for "Modelle".
    models = expected_answer("Wie viele Modelle zählt Matsuo auf?", A)
    assert models.counted == "modell"
    assert can_answer("Er zählt zwölf Sprachmodelle auf.", models, A)
    assert not can_answer("Er zählt zwölf Firmen auf.", models, A)
