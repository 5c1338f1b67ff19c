"""The language objects: detection, and that every language-dependent cue comes from them."""

from rag.index.lexical import Analyzer
from rag.language import LANGUAGES, detect_language, get_language


def test_language_detection():
    assert detect_language("Wer leitet den Technologieinvestor Softbank?", default="en") == "de"
    assert detect_language("Who runs the technology investor Softbank?", default="de") == "en"
    assert detect_language("Softbank?", default="de") == "de"  # no evidence: the default
    assert detect_language("Softbank?", default="en") == "en"
    assert detect_language("Größe?", default="en") == "de"  # a tie broken by German letters


def test_every_registered_language_is_complete():
    for code, lang in LANGUAGES.items():
        assert lang.code == code
        assert lang.function_words and lang.question_words and lang.stemmer
        assert lang.phrases.refusal and lang.phrases.lead
        assert lang.answer_cues.quantity_question and lang.answer_cues.time_question
        if lang.shares_cues:  # follow-ups are told by the shared cues (French has none of its own)
            assert lang.follow_up.function_words and lang.follow_up.strong_anaphors


def test_a_language_without_a_module_is_generic_not_german():
    spanish = get_language("es")
    assert spanish.stemmer is None
    assert spanish.phrases == LANGUAGES["en"].phrases
    # Words are matched as written: no German stemming of a Spanish text.
    assert Analyzer("es").terms("científicos") == ["científicos"]


def test_identify_language_reads_many_scripts_offline():
    from rag.language.identify import ENCODER_LANGUAGES, identify_language

    cases = {
        "Кто руководит компанией Softbank?": "ru",
        "谁领导软银公司？": "zh",
        "¿Quién dirige la empresa Softbank?": "es",
        "Wie viele Mitarbeiter hat Softbank?": "de",
        "How many employees does Softbank have?": "en",
        "Softbank'ı kim yönetiyor?": "tr",
    }
    for text, code in cases.items():
        found, probability = identify_language(text)
        assert found == code, (text, found)
        assert code in ENCODER_LANGUAGES and 0 < probability <= 1
    assert identify_language("2040 ?!") == ("", 0.0)


def test_german_answers_that_quote_another_language_say_so_as_english_ones_do() -> None:
    from rag.answer.compose import compose_text
    from rag.records import Citation, Sentence

    cited = (Citation(1, Sentence(0, "d", 1, 1, "Son runs Softbank.", 0, 18), 1.0),)
    assert compose_text(cited, "de", "de") == "Laut dem Text: Son runs Softbank. [1]"
    assert compose_text(cited, "de", "en") == "Laut dem Text (im Original zitiert): Son runs Softbank. [1]"
    english = compose_text(cited, "en", "de")
    assert english.startswith("According to the text (quoted in the original language):")
