"""`rag eval` end to end: user errors (fast), report files, and real runs (slow, real model).

Everything is written under tmp_path; the repo's own index/ and seeds/ are never touched.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.answer.model import AnswerModel
from rag.app.cli import main
from rag.eval.evaluate import BLOCKS, QuestionResult, build_report
from rag.eval.report import compare_text, summary_table, write_report

PNG = b"\x89PNG\r\n\x1a\n"
REPORT_KEYS = [
    "config", "counts", "retrieval", "answer", "abstention", "support", "latency_ms", "by_language",
]

TINY_JSONL = [
    {"id": "de-1", "lang": "de", "question": "Wer ist der Chef von Softbank?", "answers": ["Masayoshi Son"]},
    {"id": "en-1", "lang": "en", "question": "Who leads the DFKI?", "answers": ["Andreas Dengel"]},
    {"id": "na-1", "lang": "en", "question": "What was Rakuten's revenue last year?", "answers": []},
]


def _squad(paragraphs: list[tuple[str, list[tuple[str, str, str]]]]) -> dict:
    """[(context, [(qid, question, answer)])] -> SQuAD JSON with answer_start computed."""
    data = []
    for a, (context, qas) in enumerate(paragraphs):
        data.append(
            {
                "title": f"Artikel {a}",
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {
                                "id": qid,
                                "question": question,
                                "answers": [{"text": answer, "answer_start": context.index(answer)}],
                            }
                            for qid, question, answer in qas
                        ],
                    }
                ],
            }
        )
    return {"version": "1.1", "data": data}


DE_PARAGRAPHS = [
    (
        "Die Stadt Bern ist die Bundesstadt der Schweiz. Sie liegt an der Aare. "
        "Im Jahr 1191 wurde Bern von Herzog Berchtold V. gegründet.",
        [("q1", "Wer gründete Bern?", "Herzog Berchtold V."), ("q2", "An welchem Fluss liegt Bern?", "Aare")],
    ),
    (
        "Der Rhein entspringt in den Alpen. Er mündet in die Nordsee. "
        "Seine Länge beträgt rund 1230 Kilometer.",
        [("q3", "Wie lang ist der Rhein?", "1230 Kilometer")],
    ),
]
EN_QUESTIONS = [
    ("Who founded Bern?", "Duke Berchtold V"),
    ("Which river is Bern on?", "Aare"),
    ("How long is the Rhine?", "1230 kilometres"),
]


def _write_jsonl(path, items):
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return path


def _write_squad(tmp_path):
    de = tmp_path / "tiny.de.json"
    de.write_text(json.dumps(_squad(DE_PARAGRAPHS), ensure_ascii=False), encoding="utf-8")
    # The parallel file: same structure, English questions (its contexts stay German here; only
    # the questions are taken from it).
    en_paragraphs, n = [], 0
    for context, qas in DE_PARAGRAPHS:
        en_qas = []
        for qid, _, answer in qas:
            en_qas.append((qid, EN_QUESTIONS[n][0], answer))
            n += 1
        en_paragraphs.append((context, en_qas))
    en = tmp_path / "tiny.en.json"
    en.write_text(json.dumps(_squad(en_paragraphs), ensure_ascii=False), encoding="utf-8")
    return de, en


# --------------------------------------------------------------------------- user errors (fast)


def test_malformed_jsonl_line_is_one_clear_error(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(TINY_JSONL[0]) + '\n{"id": "x", "lang": "de"\n', encoding="utf-8")
    assert main(["eval", str(path), "--index", str(tmp_path / "idx"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"rag: error: {path}:2: not valid JSON")
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "idx").exists() and not (tmp_path / "out").exists()


def test_malformed_squad_file_names_the_file(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{"data": [{"paragraphs": [{"context": "x"}]}]}', encoding="utf-8")
    assert main(["eval", "--format", "squad", str(path), "--index", str(tmp_path / "idx")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"rag: error: {path}: article 0 paragraph 0 lacks")
    assert len(err.splitlines()) == 1


def test_option_errors(tmp_path, capsys):
    jsonl = _write_jsonl(tmp_path / "q.jsonl", TINY_JSONL)
    assert main(["eval", str(jsonl), "--questions", str(jsonl)]) == 2
    message = "--questions and --articles work only with --format squad"
    assert message in capsys.readouterr().err
    assert main(["eval", str(jsonl), "--compare", str(tmp_path / "nope.json")]) == 2
    assert "--compare" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["eval", str(jsonl), "--fail-under", "hit@7=0.5"])
    assert info.value.code == 2
    assert "unknown metric 'hit@7'" in capsys.readouterr().err


# --------------------------------------------------------------------------- report files (fast)


def _results():
    def r(qid, lang, answers, rank, hits, abstained, latency):
        cited = tuple(f"Satz {i} mit | Strich" for i in range(len(hits)))
        return QuestionResult(
            qid, lang, f"Frage {qid}?", tuple(answers), rank, tuple(hits), cited, abstained, latency
        )

    return [
        r("a", "de", ["x"], 1, [True], False, 3.0),
        r("b", "de", ["y"], None, [False], False, 5.0),
        r("c", "en", ["z"], 2, [False, True], False, 4.0),
        r("d", "en", [], None, [], True, 6.0),
    ]


def test_write_report_files(tmp_path):
    results = _results()
    report = build_report(results, {"name": "tiny", "model": "m", "retriever": "hybrid", "top_k": 5})
    files = write_report(tmp_path / "out", report, results)
    names = sorted(p.name for p in files)
    assert names == ["hit_at_k.png", "latency.png", "report.json", "report.md", "results.jsonl"]
    for png in ("hit_at_k.png", "latency.png"):
        assert (tmp_path / "out" / png).read_bytes().startswith(PNG)
    assert json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8")) == report
    lines = (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b", "c", "d"]
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# Evaluation: tiny")
    assert "| retrieval hit@1 | 0.333 | 0.500 | 0.000 |" in md  # all, de, en: ranks 1, None | 2
    assert "| abstention refused_unanswerable | 1.000 | – | 1.000 |" in md
    assert "![hit@k by language](hit_at_k.png)" in md and "![latency histogram](latency.png)" in md
    assert "Satz 0 mit \\| Strich" in md  # pipes escaped inside table cells
    assert "| 1 | b | de | Frage b? | y |" in md  # the worst case comes first
    assert "| `model` | m |" in md


def test_summary_table_and_compare():
    results = _results()
    this = build_report(results, {"retriever": "hybrid", "created_at": "t1"})
    other = build_report(results[:2], {"retriever": "dense", "created_at": "t2"})
    table = summary_table(this)
    assert table.splitlines()[0] == "| figure | all | de | en |"
    assert len(table.splitlines()) == 2 + sum(len(v) for v in BLOCKS.values())
    text = compare_text(this, other, "this run", "before")
    assert "| section | figure | this run | before | Δ |" in text
    assert "| all | counts questions | 4 | 2 | +2 |" in text
    assert "| all | retrieval hit@1 | 0.333 | 0.500 | -0.167 |" in text
    assert "| de | retrieval hit@1 | 0.500 | 0.500 | = |" in text
    assert "| en | retrieval hit@1 | 0.000 | – | n/a |" in text
    assert '- `retriever`: "hybrid" vs "dense"' in text
    assert "created_at" not in text


# --------------------------------------------------------------------------- real runs (slow)


def _result_lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").open(encoding="utf-8")]


@pytest.fixture
def shared_encoder(monkeypatch, real_encoder):
    """Make `rag eval` in this process reuse the session's model instead of loading it again."""
    import rag.index.encoders

    monkeypatch.setattr(rag.index.encoders, "build_encoder", lambda *a, **k: real_encoder)
    return real_encoder


@pytest.mark.slow
def test_eval_jsonl_end_to_end(tmp_path, capsys, article_pipeline, shared_encoder):
    settings = article_pipeline.settings
    jsonl = _write_jsonl(tmp_path / "tiny.jsonl", TINY_JSONL)
    out = tmp_path / "report"
    common = ["--seeds", str(settings.seeds_dir), "--index", str(settings.index_dir)]
    assert main(["eval", str(jsonl), *common, "--out", str(out), "--top-k", "3"]) == 0
    captured = capsys.readouterr()
    assert "| retrieval hit@10 |" in captured.out
    assert "eval tiny" in captured.err  # the progress bar is on stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert list(report) == REPORT_KEYS
    assert report["counts"] == {"questions": 3, "answerable": 2, "unanswerable": 1}
    assert list(report["by_language"]) == ["de", "en"]
    assert set(report["by_language"]["de"]) == set(REPORT_KEYS) - {"config", "by_language"}
    assert report["by_language"]["de"]["abstention"]["refused_unanswerable"] is None
    assert report["config"]["top_k"] == 3 and report["config"]["retriever"] == "hybrid"
    assert report["retrieval"]["hit@10"] == 1.0  # both names are in the article
    # Each figure is what the per-question lines give (the two answerable questions' ranks).
    ranks = [r["rank"] for r in _result_lines(out) if r["answers"]]
    assert len(ranks) == 2
    for k in (1, 3, 5):
        assert report["retrieval"][f"hit@{k}"] == pytest.approx(sum(bool(r) and r <= k for r in ranks) / 2)
    assert report["retrieval"]["mrr"] == pytest.approx(sum(1 / r if r else 0 for r in ranks) / 2, abs=1e-3)
    assert (out / "hit_at_k.png").read_bytes().startswith(PNG)
    assert (out / "latency.png").read_bytes().startswith(PNG)
    assert "## Worst cases" in (out / "report.md").read_text(encoding="utf-8")

    # --compare with itself, and a --fail-under that cannot be met
    second = tmp_path / "second"
    code = main(
        [
            "eval",
            str(jsonl),
            *common,
            "--out",
            str(second),
            "--top-k",
            "3",
            "--no-charts",
            "--compare",
            str(out / "report.json"),
            "--fail-under",
            "hit@10=1.01",
            "--fail-under",
            "mrr=0",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "| all | retrieval hit@10 | 1.000 | 1.000 | = |" in captured.out
    assert "below threshold: hit@10 = 1, required >= 1.01" in captured.err
    assert "mrr" not in captured.err.split("below threshold:", 1)[1]
    assert not (second / "hit_at_k.png").exists()


@pytest.mark.slow
def test_eval_squad_own_index_reused_and_cross_lingual(tmp_path, capsys, shared_encoder):
    de, en = _write_squad(tmp_path)
    index = tmp_path / "idx"
    base = [
        "eval",
        "--format",
        "squad",
        str(de),
        "--index",
        str(index),
        "--seeds",
        str(tmp_path / "no-seeds"),
    ]
    assert main([*base, "--out", str(tmp_path / "de"), "--retriever", "dense"]) == 0
    first = capsys.readouterr()
    assert "Index built" in first.err
    [folder] = [p for p in index.iterdir() if p.is_dir()]
    assert folder.name.startswith("squad-tiny.de-use-multilingual-")
    report = json.loads((tmp_path / "de" / "report.json").read_text(encoding="utf-8"))
    assert list(report) == REPORT_KEYS
    assert report["counts"] == {"questions": 3, "answerable": 3, "unanswerable": 0}
    assert report["abstention"]["refused_unanswerable"] is None
    assert report["retrieval"]["hit@10"] == 1.0  # the corpus has fewer than 10 chunks
    assert list(report["by_language"]) == ["de"]
    assert report["config"]["documents"] == 2

    # Same file: the index is reused; English questions from the parallel file.
    assert main([*base, "--questions", str(en), "--out", str(tmp_path / "en"), "--retriever", "hybrid"]) == 0
    second = capsys.readouterr()
    assert "Index built" not in second.err and "Building" not in second.err
    assert [p.name for p in index.iterdir() if p.is_dir()] == [folder.name]
    report = json.loads((tmp_path / "en" / "report.json").read_text(encoding="utf-8"))
    assert list(report["by_language"]) == ["en"]
    assert report["config"]["parallel_questions"] == str(en)
    assert report["config"]["name"] == "tiny.de-q-tiny.en"

    # A changed file gets its own index folder.
    de.write_text(de.read_text(encoding="utf-8").replace("Aare", "Aare (Fluss)"), encoding="utf-8")
    assert main([*base, "--out", str(tmp_path / "de2")]) == 0
    capsys.readouterr()
    assert len([p for p in index.iterdir() if p.is_dir()]) == 2


@pytest.mark.slow
def test_eval_withhold_gold_and_articles(tmp_path, capsys, shared_encoder):
    """--withhold-gold adds one unanswerable copy per question whose answer stands in no other
    paragraph, asked without that paragraph; --articles keeps whole articles only."""
    de, _ = _write_squad(tmp_path)
    base = ["eval", "--format", "squad", str(de), "--index", str(tmp_path / "idx"), "--no-charts"]
    assert main([*base, "--withhold-gold", "--out", str(tmp_path / "all")]) == 0
    report = json.loads((tmp_path / "all" / "report.json").read_text(encoding="utf-8"))
    # All three answers ("Herzog Berchtold V.", "Aare", "1230 Kilometer") are unique.
    assert report["counts"] == {"questions": 6, "answerable": 3, "unanswerable": 3}
    assert report["config"]["withhold_gold"] is True
    results = _result_lines(tmp_path / "all")
    # The trade-off: the threshold moved until 1/5/10% of the answerable questions are refused
    # (a quantile of their refusal scores), and the share of the withheld copies above it.
    answerable = np.array([r["refusal_score"] for r in results if r["answers"]])
    copies_scores = np.array([r["refusal_score"] for r in results if not r["answers"]])
    for rate in (0.01, 0.05, 0.10):
        expected = float(np.mean(copies_scores > np.quantile(answerable, 1 - rate)))
        assert report["abstention"][f"refused_unanswerable@{rate:.0%}"] == pytest.approx(expected), rate
    copies = [r for r in results if r["id"].endswith("/withheld")]
    assert len(copies) == 3 and all(r["answers"] == [] for r in copies)
    assert all(isinstance(r["refusal_score"], float) for r in results)
    # A withheld paragraph is never cited: the Rhine question cannot cite its own paragraph.
    rhine = next(r for r in copies if r["id"] == "q3/withheld")
    assert not any("1230" in sentence for sentence in rhine["cited"])

    assert main([*base, "--articles", "1", "--withhold-gold", "--out", str(tmp_path / "one")]) == 0
    report = json.loads((tmp_path / "one" / "report.json").read_text(encoding="utf-8"))
    assert report["counts"] == {"questions": 2, "answerable": 1, "unanswerable": 1}
    assert report["config"]["articles"] == "1" and report["config"]["documents"] == 1
    with pytest.raises(SystemExit):
        main([*base, "--articles", "5-3"])  # not a range: argparse's usage error


@pytest.mark.slow
def test_rag_train_writes_a_model_that_answers(tmp_path, capsys, shared_encoder):
    """`rag train` on a SQuAD file and a JSONL file made here writes a plain JSON model with its
    training record, deterministically, and the model loads."""
    de, en = _write_squad(tmp_path)
    jsonl = _write_jsonl(tmp_path / "own.jsonl", TINY_JSONL)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "doc.txt").write_text(
        "---\nlanguage: de\n---\nMasayoshi Son ist der Chef von Softbank. Andreas Dengel leitet das DFKI.\n",
        encoding="utf-8",
    )
    args = ["train", "--squad", str(de), "--squad", f"{de}={en}", "--jsonl", str(jsonl),
            "--seeds", str(seeds), "--index", str(tmp_path / "idx")]
    assert main([*args, "--out", str(tmp_path / "a.json")]) == 0
    assert main([*args, "--out", str(tmp_path / "b.json")]) == 0
    a = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    for key in ("ranker", "refusal", "thresholds"):
        assert a[key] == b[key]
    files = {f["file"] for f in a["training"]["files"]}
    assert files == {"tiny.de.json", "tiny.en.json", "own.jsonl"}
    # The synthetic questions the text cannot answer, made from every file, are one source.
    sources = {"tiny.de.json=tiny.de.json", "tiny.de.json=tiny.en.json", "own.jsonl", "synthetic"}
    assert set(a["training"]["examples"]) == sources
    assert a["training"]["examples"]["synthetic"]["answerable"] == 0
    assert a["training"]["examples"]["synthetic"]["cannot_answer"] > 0
    model = AnswerModel.load(tmp_path / "a.json")
    assert set(model.thresholds) >= {"same-de"}
    assert "Wrote" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "c.json")]) == 2  # nothing to train on


@pytest.mark.slow
def test_eval_with_documents_searches_only_those(tmp_path, shared_encoder):
    from conftest import two_small_documents

    seeds = two_small_documents(tmp_path / "seeds")
    jsonl = _write_jsonl(tmp_path / "q.jsonl", [
        {"id": "en-1", "lang": "en", "question": "When was the lighthouse of Skarvik painted?",
         "answers": ["1952"]},
    ])
    common = ["--seeds", str(seeds), "--index", str(tmp_path / "idx"), "--no-charts"]
    assert main(["eval", str(jsonl), *common, "--out", str(tmp_path / "all")]) == 0
    assert main(["eval", str(jsonl), *common, "--out", str(tmp_path / "bakery"),
                 "--documents", "bakery"]) == 0
    everything = json.loads((tmp_path / "all" / "results.jsonl").read_text("utf-8"))
    chosen = json.loads((tmp_path / "bakery" / "results.jsonl").read_text("utf-8"))
    assert everything["rank"] == 1 and "1952" in everything["top_chunk"]
    assert chosen["rank"] is None and "Skarvik" not in (chosen["top_chunk"] or "")
    report = json.loads((tmp_path / "bakery" / "report.json").read_text("utf-8"))
    assert report["config"]["documents_chosen"] == ["bakery"]
    assert main(["eval", str(jsonl), *common, "--documents", "nosuch"]) == 2
