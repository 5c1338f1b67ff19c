"""The lexical side: ß/ss folding, stemming, trigrams, BM25 scores."""

from rag.index.lexical import TRIGRAMS, Analyzer, LexicalIndex


def test_eszett_and_umlauts_match_swiss_spelling():
    words = Analyzer("de")
    assert words.terms("Bußgeld") == words.terms("Bussgeld")
    assert words.terms("größte") == words.terms("grösste")
    assert "softbank" in words.terms("Wer leitet Softbank?")
    assert "wer" not in words.terms("Wer leitet Softbank?")  # stop word


def test_trigrams_match_inflections_and_cognates():
    grams = Analyzer("de", TRIGRAMS)
    assert grams.terms("KI") == ["#ki", "ki#"]
    shared = set(grams.terms("infrastructure")) & set(grams.terms("Infrastruktur"))
    assert len(shared) >= 6


def test_bm25_ranks_the_matching_text_first_and_knows_its_terms():
    texts = [
        "Wiederholungstätern droht in Japan ein Bussgeld in Höhe von 30 Prozent.",
        "Der Chef von Softbank ist Masayoshi Son.",
        "Japan baut Rechenzentren.",
    ]
    index = LexicalIndex("de").build(texts)
    terms = index.analyzer.terms("Wie hoch ist das Bußgeld in Japan?")
    scores = index.scores(terms)
    assert scores.argmax() == 0 and scores[1] == 0
    assert index.known_terms(index.analyzer.terms("Softbank Umsatz")) == ["softbank"]
    assert not index.scores(["unbekannt"]).any()
