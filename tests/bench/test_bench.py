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
    assert 0 <= report["hit_rate"]["ours_first_citation"] <= 1
    launch = report["launch"]
    assert launch["server_first_answer_s"] > 0 and launch["import_gradio_s"] > 0
    assert report["floors"]["server_first_answer_le_import_gradio_plus_1s"] is not None
    assert not (tmp_path / "index").exists()  # temporary index folders only


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
