"""Metric functions on small hand-computed cases, the question loaders and their errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.eval.evaluate import (
    BLOCKS,
    QuestionResult,
    build_report,
    check_thresholds,
    citation_hits,
    contains_answer,
    first_hit_rank,
    hit_at_k,
    judge,
    lookup,
    mean,
    mrr,
    parse_threshold,
    passage_hits,
    percentile,
    share,
    summarize,
    worst_cases,
)
from rag.eval.questions import EvalFormatError, EvalQuestion, load_questions, normalize
from rag.records import Answer, Chunk, Citation, Hit, Sentence

# --------------------------------------------------------------------------- matching


def test_normalize_nfc_casefold_and_white_space():
    assert normalize("  Grösse\n des \t MARKTS ") == "grösse des markts"
    assert normalize("Cafe\u0301") == "café"  # combining accent -> NFC
    assert normalize("Straße") == "strasse"  # case folding maps ß to ss (Swiss spelling)


def test_contains_answer():
    assert contains_answer("Die Grösse des\nMarkts zählt.", ["grösse des markts"])
    assert contains_answer("An der Strasse", ["Straße"])
    assert contains_answer("x", ["nope", "X"])
    assert not contains_answer("Masayoshi Son", ["Son Masayoshi"])
    assert not contains_answer("anything", [])


def test_passage_hits_uses_the_span_for_squad_questions():
    q = EvalQuestion("q1", "de", "Wer?", ("Son",), doc_id="a00-p00", answer_start=10, answer_end=13)
    assert passage_hits(q, "a00-p00", 0, 20, "")  # covers 10..13
    assert passage_hits(q, "a00-p00", 10, 13, "")  # exactly the span
    assert not passage_hits(q, "a00-p00", 11, 40, "Son")  # starts inside the span
    assert not passage_hits(q, "a00-p00", 0, 12, "Son")  # ends inside the span
    assert not passage_hits(q, "a00-p01", 0, 100, "Son")  # the text alone is not enough


def test_citation_hits_takes_the_answer_string_in_the_gold_paragraph():
    q = EvalQuestion("q1", "de", "Wer?", ("Son",), doc_id="a00-p00", answer_start=10, answer_end=13)
    assert citation_hits(q, "a00-p00", 0, 20, "")  # covers the span
    assert citation_hits(q, "a00-p00", 40, 80, "Später sagte Son nichts.")  # string, same paragraph
    assert not citation_hits(q, "a00-p01", 0, 100, "Son")  # another paragraph
    assert not citation_hits(q, "a00-p00", 40, 80, "Masayoshi")  # neither span nor string
    unanswerable = EvalQuestion("na", "de", "Wer?", ())
    assert not citation_hits(unanswerable, "doc", 0, 10, "alles")


def test_passage_hits_unanswerable_never_hits():
    q = EvalQuestion("na", "de", "Wer?", ())
    assert not passage_hits(q, "doc", 0, 10, "alles")


# --------------------------------------------------------------------------- pure metrics


def test_first_hit_rank():
    assert first_hit_rank([False, True, True]) == 2
    assert first_hit_rank([True]) == 1
    assert first_hit_rank([False, False]) is None
    assert first_hit_rank([]) is None


def test_share_and_mean_are_none_when_empty():
    assert share(1, 4) == 0.25
    assert share(0, 0) is None
    assert mean([1, 2]) == 1.5
    assert mean([]) is None


def test_hit_at_k():
    ranks = [1, 3, None, 2]
    assert hit_at_k(ranks, 1) == 0.25
    assert hit_at_k(ranks, 2) == 0.5
    assert hit_at_k(ranks, 3) == 0.75
    assert hit_at_k(ranks, 10) == 0.75
    assert hit_at_k([], 5) is None


def test_mrr():
    assert mrr([1, 2, None, 4]) == (1 + 0.5 + 0 + 0.25) / 4 == 0.4375
    assert mrr([None]) == 0.0
    assert mrr([]) is None


def test_percentile_hand_computed_and_like_numpy():
    assert percentile([40, 10, 30, 20], 50) == 25.0
    assert percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)  # 30 + 0.85 * 10
    assert percentile([10, 20, 30, 40], 0) == 10
    assert percentile([10, 20, 30, 40], 100) == 40
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    values = [3.1, 0.2, 9.9, 4.4, 4.4, 12.0, 1.5]
    for p in (5, 50, 90, 95, 99):
        assert percentile(values, p) == pytest.approx(float(np.percentile(values, p)))
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def _result(qid, lang, answers, rank, hits, abstained, latency, refusal=None):
    return QuestionResult(
        qid=qid,
        lang=lang,
        question=f"question {qid}?",
        answers=tuple(answers),
        rank=rank,
        citation_hits=tuple(hits),
        cited=tuple(f"sentence {i}" for i in range(len(hits))),
        abstained=abstained,
        latency_ms=latency,
        refusal_score=refusal,
    )


# Five questions, figures computed by hand in the test below.
RESULTS = [
    _result("r1", "de", ["a"], 1, [True, False], False, 10.0, -2.0),
    _result("r2", "de", ["b"], 3, [False, True, True], False, 20.0, 0.5),
    _result("r3", "en", ["c"], None, [], True, 30.0, 1.5),
    _result("r4", "en", [], None, [], True, 40.0, 1.45),
    _result("r5", "de", [], None, [False], False, 50.0, 1.35),  # unanswerable, answered anyway
]


def test_summarize_hand_computed():
    s = summarize(RESULTS)
    assert s["counts"] == {"questions": 5, "answerable": 3, "unanswerable": 2}
    # ranks of the answerable questions: 1, 3, None
    assert s["retrieval"] == {
        "hit@1": 1 / 3,
        "hit@3": 2 / 3,
        "hit@5": 2 / 3,
        "hit@10": 2 / 3,
        "mrr": (1 + 1 / 3 + 0) / 3,
    }
    assert s["answer"] == {
        "top_citation_hit": 1 / 3,  # r1
        "any_citation_hit": 2 / 3,  # r1, r2
        "citation_precision": 3 / 5,  # T F | F T T ; r5's citation is not on an answerable question
        "mean_citations": 2.5,  # r1: 2, r2: 3 (r3 abstained)
    }
    # Answerable refusal scores -2, 0.5, 1.5: refusing 1% / 5% / 10% of them puts the threshold
    # at their 99th / 95th / 90th percentile, 1.48 / 1.4 / 1.3 (linear between 0.5 and 1.5);
    # of the unanswerable ones (1.45, 1.35) none / one / both lie above.
    assert s["abstention"] == {
        "refused_unanswerable": 0.5,
        "refused_answerable": 1 / 3,
        "refused_unanswerable@1%": 0.0,
        "refused_unanswerable@5%": 0.5,
        "refused_unanswerable@10%": 1.0,
    }
    assert s["latency_ms"] == {"p50": 30.0, "p95": pytest.approx(48.0)}  # 40 + 0.8 * 10


def test_summarize_empty_groups_give_none():
    en = summarize([r for r in RESULTS if r.lang == "en"])
    assert en["counts"] == {"questions": 2, "answerable": 1, "unanswerable": 1}
    assert en["retrieval"]["hit@1"] == 0.0 and en["retrieval"]["mrr"] == 0.0
    assert en["answer"]["citation_precision"] is None  # no citations at all
    assert en["answer"]["mean_citations"] is None  # no answered answerable question
    # one answerable question (1.5): every threshold is 1.5, above the unanswerable 1.45
    assert en["abstention"] == {
        "refused_unanswerable": 1.0,
        "refused_answerable": 1.0,
        "refused_unanswerable@1%": 0.0,
        "refused_unanswerable@5%": 0.0,
        "refused_unanswerable@10%": 0.0,
    }
    nothing = summarize([])
    assert nothing["counts"] == {"questions": 0, "answerable": 0, "unanswerable": 0}
    assert all(
        v is None
        for block in ("retrieval", "answer", "abstention", "latency_ms")
        for v in nothing[block].values()
    )


def test_build_report_keys_rounding_and_languages():
    report = build_report(RESULTS, {"model": "m"})
    assert list(report) == ["config", *BLOCKS, "by_language"]
    assert report["config"] == {"model": "m"}
    assert list(report["by_language"]) == ["de", "en"]
    for lang_block in report["by_language"].values():
        assert list(lang_block) == list(BLOCKS)
        for block, names in BLOCKS.items():
            assert list(lang_block[block]) == list(names)
    assert report["retrieval"]["hit@1"] == 0.3333
    assert report["retrieval"]["mrr"] == 0.4444
    de = report["by_language"]["de"]
    assert de["counts"] == {"questions": 3, "answerable": 2, "unanswerable": 1}
    assert de["retrieval"]["mrr"] == 0.6667  # (1 + 1/3) / 2
    assert de["abstention"]["refused_unanswerable"] == 0.0
    assert de["latency_ms"] == {"p50": 20.0, "p95": 47.0}  # 20 + 0.9 * 30
    json.dumps(report)  # JSON-ready


# --------------------------------------------------------------------------- judge


def _answer(hits_texts, cited, abstained=False):
    chunks = [Chunk(i, "doc", 1, (i,), text, 100 * i, 100 * i + 50) for i, text in enumerate(hits_texts)]
    hits = tuple(Hit(c, 1.0 - c.chunk_id / 10, 0.5, 0.0, c.chunk_id + 1) for c in chunks)
    citations = tuple(
        Citation(n, Sentence(n, "doc", 1, n, text, 10 * n, 10 * n + 5), 0.5)
        for n, text in enumerate(cited, 1)
    )
    return Answer("q", "text", "de", citations, hits, abstained, {"total": 12.5})


def test_judge_string_answers():
    q = EvalQuestion("q1", "de", "Wer leitet Softbank?", ("Masayoshi Son",))
    answer = _answer(
        ["Softbank ist gross.", "Chef ist  masayoshi\nson.", "Masayoshi Son"],
        ["Softbank ist gross.", "Chef ist Masayoshi Son."],
    )
    r = judge(q, answer)
    assert r.rank == 2
    assert r.citation_hits == (False, True)
    assert r.cited == ("Softbank ist gross.", "Chef ist Masayoshi Son.")
    assert r.latency_ms == 12.5 and not r.abstained
    assert judge(q, answer, search_k=1).rank is None  # only the top hit is looked at


def test_judge_unanswerable_has_no_rank():
    r = judge(EvalQuestion("na", "en", "Revenue?", ()), _answer(["x"], [], abstained=True))
    assert r.rank is None and r.abstained and r.citation_hits == ()


# --------------------------------------------------------------------------- worst cases, thresholds


def test_worst_cases_order_and_reasons():
    results = [
        *RESULTS,
        _result("r6", "de", ["d"], 2, [False, True], False, 1.0),  # first citation wrong
        _result("r7", "de", ["e"], None, [False], False, 1.0),  # not retrieved, wrong citation
        _result("r8", "de", ["f"], 4, [False], False, 1.0),  # retrieved, wrong citation
    ]
    cases = [(r.qid, why) for r, why in worst_cases(results)]
    assert [qid for qid, _ in cases] == ["r7", "r8", "r5", "r3", "r2", "r6"]
    assert cases[0][1] == "cited the wrong sentences (not in the top 10)"
    assert cases[1][1] == "cited the wrong sentences (found at rank 4)"
    assert cases[2][1] == "answered a question the text cannot answer"
    assert cases[3][1] == "refused (not in the top 10)"
    assert cases[4][1] == "first citation wrong, a later one right (found at rank 3)"
    assert len(worst_cases(results, limit=2)) == 2


def test_parse_threshold():
    assert parse_threshold("hit@5=0.8") == ("hit@5", 0.8)
    assert parse_threshold("by_language.en.answer.top_citation_hit = 0.5") == (
        "by_language.en.answer.top_citation_hit",
        0.5,
    )
    for bad in ("hit@5", "hit@5=x", "=0.3", "hit@7=0.3"):
        with pytest.raises(ValueError):
            parse_threshold(bad)


def test_lookup_and_check_thresholds():
    report = build_report(RESULTS, {})
    assert lookup(report, "hit@1") == 0.3333
    assert lookup(report, "retrieval.hit@3") == 0.6667
    assert lookup(report, "by_language.de.mrr") == 0.6667
    assert lookup(report, "by_language.en.answer.citation_precision") is None
    with pytest.raises(KeyError):
        lookup(report, "by_language.fr.mrr")
    failures = check_thresholds(
        report,
        [
            ("hit@3", 0.6),
            ("hit@1", 0.5),
            ("by_language.en.citation_precision", 0.1),
            ("by_language.fr.mrr", 0),
        ],
    )
    assert failures == [
        "hit@1 = 0.3333, required >= 0.5",
        "by_language.en.citation_precision: no questions to measure it on (null), required >= 0.1",
        "by_language.fr.mrr: not in the report",
    ]


# --------------------------------------------------------------------------- loaders


def _write(tmp_path, text, name="q.jsonl"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_load_questions_reads_the_format(tmp_path):
    path = _write(
        tmp_path,
        "\ufeff"
        + json.dumps({"id": "a", "lang": "DE", "question": "Wer?", "answers": ["Son"]})
        + "\n\n"
        + json.dumps({"id": 7, "lang": "en", "question": "Who?", "answers": [], "note": "extra ok"})
        + "\n",
    )
    questions = load_questions(path)
    assert questions == [
        EvalQuestion("a", "de", "Wer?", ("Son",)),
        EvalQuestion("7", "en", "Who?", ()),
    ]
    assert questions[0].answerable and not questions[1].answerable


@pytest.mark.parametrize(
    ("lines", "where", "words"),
    [
        (
            ['{"id": "a", "lang": "de", "question": "Wer?", "answers": ["x"]}', "{not json"],
            2,
            "not valid JSON",
        ),
        (['{"id": "a", "lang": "de", "question": "Wer?"}'], 1, "missing key(s) answers"),
        (['["a", "de"]'], 1, "expected a JSON object"),
        (['{"id": "a", "lang": "de", "question": "  ", "answers": []}'], 1, "'question' must be"),
        (['{"id": "a", "lang": "de", "question": "Wer?", "answers": "x"}'], 1, "'answers' must be a list"),
        (['{"id": "a", "lang": "de", "question": "Wer?", "answers": [""]}'], 1, "'answers' must be a list"),
        (['{"id": "", "lang": "de", "question": "Wer?", "answers": []}'], 1, "'id' must be"),
        (['{"id": "a", "lang": 3, "question": "Wer?", "answers": []}'], 1, "'lang' must be"),
        (
            ['{"id": "a", "lang": "de", "question": "Wer?", "answers": []}'] * 2,
            2,
            "id 'a' repeats the id of line 1",
        ),
    ],
)
def test_load_questions_errors_name_file_and_line(tmp_path, lines, where, words):
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(EvalFormatError) as info:
        load_questions(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{where}: ")
    assert words in message
    assert "\n" not in message


def test_load_questions_file_level_errors(tmp_path):
    with pytest.raises(EvalFormatError, match="file not found"):
        load_questions(tmp_path / "missing.jsonl")
    with pytest.raises(EvalFormatError, match="no questions"):
        load_questions(_write(tmp_path, "\n  \n"))
    with pytest.raises(EvalFormatError, match=r"q.jsonl:2: not valid UTF-8"):
        load_questions(
            _write(tmp_path, b'{"id": "a", "lang": "de", "question": "W?", "answers": []}\n\xff\n')
        )
    squad = _write(tmp_path, '{"version": "1.1",\n "data": []}', name="s.json")
    with pytest.raises(EvalFormatError, match="use --format squad"):
        load_questions(squad)


def test_squad_questions_keep_the_span(tmp_path):
    from rag.eval.squad import load_squad

    data = {
        "data": [
            {
                "title": "T",
                "paragraphs": [
                    {
                        "context": "Berlin ist die Hauptstadt.",
                        "qas": [
                            {
                                "id": "x1",
                                "question": "Was ist Berlin?",
                                "answers": [{"text": "Hauptstadt", "answer_start": 15}],
                            }
                        ],
                    }
                ],
            }
        ]
    }
    path = _write(tmp_path, json.dumps(data), name="s.json")
    _, [q] = load_squad(path)
    assert q == EvalQuestion("x1", "", "Was ist Berlin?", ("Hauptstadt",), "a00-p00", 15, 25)
    data["data"][0]["paragraphs"][0]["qas"][0]["answers"] = []
    with pytest.raises(EvalFormatError, match="question x1 has no answer span"):
        load_squad(_write(tmp_path, json.dumps(data), name="s2.json"))


def test_best_right_high_is_the_ceiling_of_one_threshold_chosen_on_the_results():
    from rag.eval.evaluate import best_right_high

    # By support score: right (-3), wrong (-2), right (-1), right (0), unanswerable (1), right
    # (nothing retrieved: never confident). Four answerable questions.
    results = [
        _result("a", "de", ["x"], 1, [True], False, 1.0, -3.0),
        _result("b", "de", ["x"], 1, [False], False, 1.0, -2.0),
        _result("c", "de", ["x"], 1, [True], False, 1.0, -1.0),
        _result("d", "de", ["x"], 1, [True], False, 1.0, 0.0),
        _result("e", "de", [], None, [True], False, 1.0, 1.0),
        _result("f", "de", ["x"], 1, [True], False, 1.0, None),
    ]
    # 75% precision: the first four (3 of 4 right) -> 3 of 5 answerable questions.
    assert best_right_high(results, 0.75) == pytest.approx(3 / 5)
    # 80%: only the first one (the second one drops it to 50%, the fourth to 75%).
    assert best_right_high(results, 0.8) == pytest.approx(1 / 5)
    assert best_right_high([results[1]], 0.5) == 0.0
    assert best_right_high([results[4]], 0.5) is None  # no answerable question


def test_separation_auc_counts_wrong_answers_scored_above_right_ones():
    from rag.eval.evaluate import separation_auc

    right = [_result(f"r{i}", "de", ["x"], 1, [True], False, 1.0, s) for i, s in enumerate((-2.0, 0.0))]
    wrong = [
        _result("w1", "de", ["x"], 1, [False], False, 1.0, 1.0),  # a wrong first citation
        _result("w2", "de", [], None, [], False, 1.0, -1.0),  # unanswerable, scored between
    ]
    # Pairs (wrong above right): w1 > both, w2 > r0 only -> 3 of 4.
    assert separation_auc(right + wrong) == pytest.approx(0.75)
    # A tie counts half.
    tied = [right[0], _result("w3", "de", [], None, [], False, 1.0, -2.0)]
    assert separation_auc(tied) == pytest.approx(0.5)
    assert separation_auc(right) is None
