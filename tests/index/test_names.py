"""Names found with the real Wiktionary noun list (german-nouns), on the real article."""

from pathlib import Path

import pytest

from rag.index.names import corpus_names, names_in_question, place_names
from rag.ingest import load_documents, sentences_of_all
from rag.language import get_language

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture(scope="module")
def article_names() -> dict[str, tuple[str, ...]]:
    sentences = sentences_of_all(load_documents(SEEDS))
    found = corpus_names([s.text for s in sentences], "de")
    return {s.text: names for s, names in zip(sentences, found, strict=True)}


def _names_of(article_names: dict[str, tuple[str, ...]], start: str) -> tuple[str, ...]:
    (names,) = [names for text, names in article_names.items() if text.startswith(start)]
    return names


def test_common_nouns_and_their_compounds_are_no_names():
    is_common_noun = get_language("de").nouns.is_common_noun
    compounds = ("Industriemetropole", "Unternehmensvorständen", "Cyberexperten", "Verlässlichkeit")
    for word in ("Regierung", *compounds):
        assert is_common_noun(word), word
    for word in ("Softbank", "Deepseek", "Harayama", "Osaka"):
        assert not is_common_noun(word), word


def test_names_of_people_companies_and_places(article_names):
    head = set(_names_of(article_names, "Der Chef des Technologieinvestors"))
    assert head >= {"softbank", "masayoshi", "son"}
    assert "sakana" in _names_of(article_names, "Zuerst siedelten")
    assert set(_names_of(article_names, "Ein Spin-off")) >= {"elyza", "kddi", "matsuo"}  # "Matsuos" -> matsuo
    assert not {"regierung", "chip", "franken"} & set(_names_of(article_names, "Die Regierung unterstützt"))


def test_a_surname_that_is_also_a_noun_is_learnt_from_its_given_name(article_names):
    # "Dengel" is a listed noun; "Andreas Dengel" makes it a name, also in "Dengel betont ...".
    assert "dengel" in _names_of(article_names, "Für den deutschen KI-Forscher Andreas Dengel")
    assert "dengel" in _names_of(article_names, "Dengel betont")


def test_question_names_must_be_written_as_names():
    vocabulary = {"dfki", "dengel", "expert", "japan"}
    assert names_in_question("Wann wurde das DFKI gegründet?", vocabulary) == ("dfki",)
    assert names_in_question("Seit wann fehlt Dengels Haltung?", vocabulary) == ("dengel",)
    assert names_in_question("Who is Japan's expert on AI?", vocabulary) == ("japan",)


def test_places_are_told_apart():
    assert place_names(["tokio", "europa", "softbank", "dfki"]) == ["europa", "tokio"]
