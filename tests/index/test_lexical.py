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


TEXTS = [
    "Wiederholungstätern droht in Japan ein Bussgeld in Höhe von 30 Prozent.",
    "Der Chef von Softbank ist Masayoshi Son, der Softbank gross gemacht hat.",
    "Japan baut Rechenzentren für künstliche Intelligenz.",
    "Open AI eröffnete sein erstes Auslandsbüro in Tokio, in Japan.",
]
QUESTIONS = ["Wie hoch ist das Bußgeld in Japan?", "Wer leitet Softbank?", "Wo baut Japan Rechenzentren?",
             "Japan Japan Softbank", "unbekannt"]


def test_loaded_index_scores_exactly_as_bm25s(tmp_path):
    """The numpy reader of the saved columns gives bm25s's own float32 scores, bit for bit."""
    import bm25s
    import numpy as np

    for kind in ("words", TRIGRAMS):
        folder = tmp_path / kind
        LexicalIndex("de", kind).build(TEXTS).save(folder)
        ours = LexicalIndex.load(folder, "de", kind, mmap=kind == TRIGRAMS)
        reference = bm25s.BM25.load(str(folder), load_corpus=False, allow_pickle=False)
        for question in QUESTIONS:
            known = list(dict.fromkeys(ours.known_terms(ours.analyzer.terms(question))))
            expected = (np.asarray(reference.get_scores(known), np.float32) if known
                        else np.zeros(len(TEXTS), np.float32))
            assert np.array_equal(ours.scores(ours.analyzer.terms(question)), expected), (kind, question)


def test_loading_and_scoring_import_neither_bm25s_nor_scipy(tmp_path):
    """bm25s imports scipy (most of a cold `rag ask` before); answering needs neither."""
    import subprocess
    import sys

    LexicalIndex("de").build(TEXTS).save(tmp_path / "bm25")
    code = (
        "import sys\n"
        "from rag.index.lexical import LexicalIndex\n"
        f"index = LexicalIndex.load({str(tmp_path / 'bm25')!r}, 'de')\n"
        "scores = index.scores(index.analyzer.terms('Wer leitet Softbank?'))\n"
        "assert scores.argmax() == 1, scores\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('bm25s', 'scipy')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_unsupported_bm25_method_is_refused(tmp_path):
    import json

    import pytest

    LexicalIndex("de").build(TEXTS).save(tmp_path)
    params = json.loads((tmp_path / "params.index.json").read_text("utf-8"))
    params["method"] = "bm25l"
    (tmp_path / "params.index.json").write_text(json.dumps(params), "utf-8")
    with pytest.raises(ValueError, match="bm25l"):
        LexicalIndex.load(tmp_path, "de")


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
