"""The lexical side: ß/ss folding, stemming, trigrams, BM25 scores."""

import numpy as np

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


def test_top_ids_are_the_k_best_positive_scores_for_every_k():
    """The pruned top-k equals a full sort (ties aside) at every k, also where pruning bites."""
    import random

    rng = random.Random(7)
    words = ["hafen", "kran", "schiff", "zoll", "fracht", "lager", "brücke", "turm"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(600)]
    index = LexicalIndex("de").build(texts)
    for query in ["hafen kran", "zoll", "fracht lager turm", "wolke"]:
        terms = index.analyzer.terms(query)
        scores = index.scores(terms)
        positive = int((scores > 0).sum())
        for k in [*range(1, 40), 100, 250, 599, 600, 601]:
            top = index.top_ids(terms, scores, k)
            assert len(top) == min(k, positive) and len(set(top.tolist())) == len(top)
            if len(top):
                kth = np.sort(scores)[::-1][len(top) - 1]  # the k-th best score overall
                assert scores[top].min() == kth and (scores[top] > 0).all()
