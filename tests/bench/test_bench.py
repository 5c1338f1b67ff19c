"""`rag bench --quick` writes every figure; the synthetic corpora and the lexical top-k shortcut."""

from __future__ import annotations

import json

import numpy as np
import pytest

KEYS = {
    "warm_ms", "stages_ms", "baseline_warm_ms", "cold_start_s", "import_floor_s", "index_build_s",
    "encode_chunks_per_s", "peak_rss_mb", "scale", "hit_rate", "machine", "floors", "scale_note",
    "launch", "load",
}
SCALE_KEYS = {
    "chunks", "index_type", "build_s", "query_p50_ms", "recall_at_10_vs_exact", "recall_at_10_rescored",
    "rss_mb", "rss_data_only_mb", "disk_mb",
}


@pytest.mark.slow
def test_rag_bench_quick_writes_every_key(tmp_path, seeds_copy, monkeypatch):
    from rag.app.cli import main

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "tmp.json"
    argv = ["bench", "--quick", "--seeds", str(seeds_copy), "--sizes", "2000,20000", "--out", str(out)]
    assert main(argv) == 0
    report = json.loads(out.read_text("utf-8"))
    assert KEYS <= report.keys()
    assert set(report["warm_ms"]) == set(report["baseline_warm_ms"]) == {"p50", "p95"}
    assert set(report["stages_ms"]) == {"encode", "dense", "lexical", "fusion", "answer"}
    assert [e["chunks"] for e in report["scale"]] == [2000, 20000]
    for entry in report["scale"]:
        assert SCALE_KEYS <= entry.keys()
        assert entry["recall_at_10_vs_exact"] >= 0.95
    # The benchmark's answers are the pipeline's: on the article set (seeds/eval/article.jsonl, 60
    # answerable) its first citations are right as often as tests/test_pipeline.py's in-sample
    # table says (the same counts and slack), and more often than the baseline's top chunk.
    from test_pipeline import IN_SAMPLE

    hits = report["hit_rate"]
    de, en = IN_SAMPLE["first citation right, de"], IN_SAMPLE["first citation right, en"]
    assert hits["answerable_questions"] == de.of + en.of
    floor = (de.measured + en.measured - de.slack) / (de.of + en.of)
    assert hits["ours_first_citation"] >= floor, hits
    assert hits["ours_first_citation"] > hits["baseline_top_chunk"], hits
    assert report["floors"]["better_than_baseline"] is True
    launch = report["launch"]
    assert launch["server_first_answer_s"] > 0 and launch["import_gradio_s"] > 0
    # Every floor whose figures were measured is decided (the million-chunk ones need --sizes 1M).
    undecided = {name for name, ok in report["floors"].items() if ok is None}
    assert undecided == {"million_query_p50_le_5ms", "million_recall_ge_0_95", "million_rss_data_le_1500mb"}
    assert not (tmp_path / "index").exists()  # temporary index folders only


def test_each_floor_follows_its_figures():
    """check_floors: each floor is True on a report that meets it, False when its figure misses,
    None only when its figure is missing."""
    from rag.bench.runner import check_floors

    good = {
        "warm_ms": {"p50": 5, "p95": 20}, "baseline_warm_ms": {"p50": 9},
        "hit_rate": {"ours_first_citation": 0.8, "baseline_top_chunk": 0.5},
        "cold_start_s": 1.0, "import_floor_s": 4.0, "peak_rss_mb": 900,
        "launch": {"server_first_answer_s": 3.0, "import_gradio_s": 2.5},
        "load": {"rest": {"answers_per_s": 200, "p95_ms": 100, "errors": 0}, "gradio": {"errors": 0},
                 "rest_vs_gradio_throughput": 3},
        "scale": [{"chunks": 1_000_000, "query_p50_ms": 4, "recall_at_10_vs_exact": 0.97,
                   "rss_data_only_mb": 1200}],
    }
    floors = check_floors(good)
    assert all(ok is True for ok in floors.values()), floors
    worse = {
        "warm_p50_le_10ms": ("warm_ms", {"p50": 11, "p95": 20}),
        "warm_p95_le_25ms": ("warm_ms", {"p50": 5, "p95": 26}),
        "better_than_baseline": ("hit_rate", {"ours_first_citation": 0.5, "baseline_top_chunk": 0.5}),
        "peak_rss_le_1500mb": ("peak_rss_mb", 1501),
        "server_first_answer_le_import_gradio_plus_1s": ("launch", {"server_first_answer_s": 3.6,
                                                                    "import_gradio_s": 2.5}),
    }
    for name, (key, value) in worse.items():
        assert check_floors({**good, key: value})[name] is False, name
    missing = check_floors({**good, "launch": {}, "load": {}, "scale": []})
    assert missing["server_first_answer_le_import_gradio_plus_1s"] is None
    assert missing["rest_no_errors"] is None and missing["million_recall_ge_0_95"] is None


def test_bench_rejects_bad_sizes(seeds_copy, capsys):
    from rag.app.cli import main

    assert main(["bench", "--seeds", str(seeds_copy), "--sizes", "ten"]) == 2
    assert "--sizes" in capsys.readouterr().err


def test_synthetic_terms_follow_zipf_and_survive_the_analyzer():
    from rag.bench.synthetic import synthetic_terms
    from rag.index.lexical import Analyzer

    analyzer = Analyzer("de")
    corpus = synthetic_terms(3_000, ["japan", "softbank"], analyzer, n_questions=20, seed=2)
    assert len(corpus) == 3_000 and corpus.vocabulary[:2] == ["japan", "softbank"]
    text = corpus.text(7)
    assert analyzer.terms(text) == corpus.terms(7)  # generated words are analyzer fixed points
    counts = np.bincount(corpus.ids, minlength=len(corpus.vocabulary))
    assert counts[0] > 20 * np.median(counts[counts > 0])  # a heavy head and a long tail
    assert all(3 <= len(q) <= 7 for q in corpus.questions)


def test_lexical_top_ids_match_a_full_argpartition():
    from rag.bench.synthetic import synthetic_terms
    from rag.index.lexical import Analyzer, LexicalIndex

    analyzer = Analyzer("de")
    corpus = synthetic_terms(5_000, ["japan"], analyzer, n_questions=60, seed=4)
    lexical = LexicalIndex("de").build_from_ids(corpus.id_lists(), corpus.vocabulary)
    for question in corpus.questions:
        terms = analyzer.terms(" ".join(question))
        scores = lexical.scores(terms)
        for k in (1, 10, 50):
            full = [i for i in np.argpartition(-scores, k - 1)[:k] if scores[i] > 0]
            fast = lexical.top_ids(terms, scores, k)
            assert sorted(scores[full]) == sorted(scores[fast])  # same scores (ties may swap ids)
            assert len(set(fast.tolist())) == len(fast)


def test_rag_bench_incremental_times_each_step_and_embeds_only_the_change(
    tmp_path, monkeypatch, fake_encoder, capsys
):
    """The incremental benchmark's plumbing, with the fake encoder standing in for the model."""
    from rag.app.cli import main

    monkeypatch.setattr("rag.index.encoders.build_encoder", lambda *a, **k: fake_encoder)
    out = tmp_path / "incremental.json"
    assert main(["bench", "--incremental", "--documents", "3", "--out", str(out)]) == 0
    result = json.loads(out.read_text("utf-8"))
    embedded = {step: (result[step]["documents_embedded"], result[step]["documents_reused"])
                for step in ("full", "add", "change", "remove")}
    assert embedded == {"full": (3, 0), "add": (1, 3), "change": (1, 3), "remove": (0, 3)}
    assert result["full"]["sentences"] == 3 * 60 and result["remove"]["documents"] == 3
    assert all(result[step]["seconds"] > 0 for step in embedded)
    printed = capsys.readouterr().out
    assert "add one document" in printed and "full build / add one document" in printed
    assert main(["bench", "--incremental", "--documents", "1"]) == 2
