"""The product's promises, each with a fast test that fails when the promise breaks (fake encoder,
small real indexes in temporary folders; the real model's versions are in tests/test_pipeline.py,
tests/app/test_cli.py and tests/app/test_offsets.py). docs/testing.md maps each hand-made break
of a promise to the test here that catches it."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import SEEDS, FakeEncoder

from rag.answer.retrieve import Retriever
from rag.app.cli import main
from rag.config import Settings
from rag.pipeline import Pipeline

ARTICLE = SEEDS / "japan-ki-aufholjagd.txt"
SOFTBANK = "Wer leitet den Technologieinvestor Softbank?"


def _quiet(_: str) -> None:
    pass


@pytest.fixture
def article(tmp_path) -> Settings:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds / ARTICLE.name)
    return Settings(seeds_dir=seeds, index_dir=tmp_path / "index")


@pytest.fixture
def fake_cli(monkeypatch):
    """`rag` in-process with the fake encoder in place of the real model."""
    import rag.index.encoders as encoders

    monkeypatch.setattr(encoders, "build_encoder", lambda *a, **k: FakeEncoder())
    monkeypatch.setattr(encoders, "preload", lambda *a, **k: None)


def _open(settings: Settings, encoder=None) -> Pipeline:
    return Pipeline.open(settings, encoder=encoder or FakeEncoder(), progress=False, on_status=_quiet)


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Pipeline:
    """One fake-encoder pipeline over the article for the tests that only ask."""
    work = tmp_path_factory.mktemp("shared")
    (work / "seeds").mkdir()
    shutil.copy(ARTICLE, work / "seeds" / ARTICLE.name)
    return _open(Settings(seeds_dir=work / "seeds", index_dir=work / "index"))


# --- offsets: every output's start/end index the source file ----------------------------------


def test_cli_json_offsets_index_the_source_file(article, fake_cli, capsys) -> None:
    args = ["ask", "--json", "--seeds", str(article.seeds_dir), "--index", str(article.index_dir)]
    assert main([*args, SOFTBANK]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["citations"] and data["hits"]
    for item in data["citations"] + data["hits"]:
        source = (article.seeds_dir / f"{item['doc_id']}.txt").read_text("utf-8")
        assert source[item["start"] : item["end"]] == item["text"], item


def test_terminal_chars_a_b_index_the_source_file(article, fake_cli, capsys) -> None:
    args = ["ask", "--seeds", str(article.seeds_dir), "--index", str(article.index_dir)]
    assert main([*args, SOFTBANK]) == 0
    out = capsys.readouterr().out
    spans = [tuple(map(int, m)) for m in re.findall(r"\(chars (\d+)-(\d+), score", out)]
    assert spans, out
    source = ARTICLE.read_text("utf-8")
    answer = out.split("\n\n")[0]
    # Each quoted sentence stands right before its marker, after the lead or the previous marker
    # (the lead is "Laut dem Text:" or, for weak support, "Der Text sagt das nicht direkt. ...").
    for marker, (start, end) in enumerate(spans, start=1):
        quote = f"{source[start:end]} [{marker}]"
        assert quote in answer, (marker, start, end, answer)
        before = answer[: answer.index(quote)].rstrip()
        assert before.endswith((":", f"[{marker - 1}]")), (marker, answer)


# --- refusal: the learned model's threshold decides ---------------------------------------------


def _model_with_thresholds(tmp_path: Path, value: float) -> Path:
    from rag.answer.model import DEFAULT_MODEL_FILE

    data = json.loads(DEFAULT_MODEL_FILE.read_text("utf-8"))
    data["thresholds"] = {kind: dict.fromkeys(data["thresholds"]["none"], value) for kind in ("none", "high")}
    path = tmp_path / f"model-{value:g}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("threshold,refused", [(-1e9, True), (1e9, False)])
def test_the_refusal_threshold_decides(article, tmp_path, threshold, refused) -> None:
    """Any score above a threshold of -1e9 refuses; no score is above 1e9."""
    from dataclasses import replace

    settings = replace(article, answer_model=_model_with_thresholds(tmp_path, threshold))
    pipeline = _open(settings)
    for question in (SOFTBANK, "What is the capital of France?"):
        answer = pipeline.ask(question)
        assert answer.abstained is refused and bool(answer.citations) is not refused
        assert answer.refusal_threshold == threshold
        assert answer.hits  # the closest passages are shown either way
        if refused:
            assert answer.text in ("Dazu sagt der Text nichts.", "The text does not say.")


# --- retrieval: the lexical and the dense side each find what the other cannot ------------------


class SynonymEncoder(FakeEncoder):
    """The fake encoder, but "automobile" means "car": only a dense model would know that."""

    def encode(self, texts):  # noqa: ANN001
        return super().encode([str(t).replace("automobile", "car") for t in texts])


DOCS = {
    "a-boat.md": "A small boat floated across the quiet lake at dawn.",
    "b-plane.md": "Several pilots flew the new plane over the snowy mountains.",
    "c-train.md": "The night train left the station two hours late.",
    "z-garage.md": "The red car stood in the garage all winter long.",  # last: no accidental rank 1
}


@pytest.fixture
def vehicles(tmp_path) -> Pipeline:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, text in DOCS.items():
        (seeds / name).write_text(f"---\ntitle: {name}\nlanguage: en\n---\n{text}\n", encoding="utf-8")
    return _open(Settings(seeds_dir=seeds, index_dir=tmp_path / "index"), SynonymEncoder())


def _top(pipeline: Pipeline, question: str, mode: str) -> str:
    retriever = Retriever(pipeline.index, pipeline.encoder, pipeline.settings.tuning, mode)
    return retriever.search(question, 3, "en").hits[0].chunk.doc_id


def test_a_question_only_bm25_can_find(vehicles) -> None:
    # "cars" stems to BM25's "car"; the fake encoder has no word in common with any text.
    assert _top(vehicles, "cars", "lexical") == "z-garage"
    assert _top(vehicles, "cars", "dense") != "z-garage"
    assert _top(vehicles, "cars", "hybrid") == "z-garage"
    assert vehicles.ask("cars").hits[0].chunk.doc_id == "z-garage"


def test_a_question_only_the_dense_side_can_find(vehicles) -> None:
    # No text holds "automobile"; the encoder reads it as "car".
    assert _top(vehicles, "automobile", "dense") == "z-garage"
    assert _top(vehicles, "automobile", "lexical") != "z-garage"
    assert _top(vehicles, "automobile", "hybrid") == "z-garage"
    assert vehicles.ask("automobile").hits[0].chunk.doc_id == "z-garage"


def test_cli_retriever_lexical_ranks_by_bm25_alone(vehicles, fake_cli, capsys) -> None:
    settings = vehicles.settings
    args = ["ask", "--json", "--retriever", "lexical", "--seeds", str(settings.seeds_dir),
            "--index", str(settings.index_dir)]
    assert main([*args, "cars"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits[0]["doc_id"] == "z-garage" and hits[0]["lexical_score"] > 0
    assert all(h["lexical_score"] == 0 for h in hits[1:])


# --- the passages are re-ordered by their best sentence -------------------------------------------


def test_hits_are_reranked_by_their_best_sentence(shared) -> None:
    from rag.answer.selection import rerank_hits

    pipeline = shared
    retrieval = pipeline.retriever.search(SOFTBANK, 10, "de")
    selection = pipeline.selector.select(retrieval, pipeline.analyse(SOFTBANK))
    reranked = rerank_hits(retrieval.hits, selection.candidates, 3.0)
    assert [h.rank for h in reranked] == list(range(1, len(reranked) + 1))
    best = {}
    for i, sentence in enumerate(selection.candidates.sentences):
        best[sentence.sentence_id] = max(best.get(sentence.sentence_id, -1e9), selection.candidates.base[i])
    floor = min(best.values())
    for hit in reranked:
        fused = next(h.score for h in retrieval.hits if h.chunk.chunk_id == hit.chunk.chunk_id)
        bonus = max(best.get(s, floor) for s in hit.chunk.sentence_ids)
        assert hit.score == pytest.approx(fused + 3.0 * bonus)
    # The order is the pipeline's, and it differs from the fused search order on this question.
    assert [h.chunk.chunk_id for h in pipeline.ask(SOFTBANK).hits] == [
        h.chunk.chunk_id for h in reranked[: pipeline.settings.top_k]
    ]
    assert [h.chunk.chunk_id for h in reranked] != [h.chunk.chunk_id for h in retrieval.hits]


# --- staleness: a content change rebuilds ---------------------------------------------------------


def test_a_content_change_of_the_same_size_and_time_rebuilds(tmp_path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    doc = seeds / "berge.txt"
    doc.write_text("Der Fuji ist der höchste Berg Japans.\n", encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    first = _open(settings)
    stat = doc.stat()
    doc.write_text("Der Kita ist der höchste Berg Japans.\n", encoding="utf-8")  # same size
    os.utime(doc, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same time
    messages: list[str] = []
    second = Pipeline.open(settings, encoder=FakeEncoder(), progress=False, on_status=messages.append)
    assert any("the documents changed" in m for m in messages), messages
    assert second.index.path != first.index.path
    assert "Kita" in second.ask("Welcher Berg ist der höchste?").hits[0].chunk.text


# --- follow-ups and languages --------------------------------------------------------------------


def test_a_follow_up_is_searched_with_the_earlier_question(shared) -> None:
    pipeline = shared
    earlier = "Wo hat Open AI sein erstes Auslandsbüro eröffnet?"
    alone = pipeline.ask("Und wann war das?")
    follow_up = pipeline.ask("Und wann war das?", [earlier])
    assert alone.retrieval_query == "Und wann war das?"
    assert follow_up.question == "Und wann war das?"
    assert "Auslandsbüro" in follow_up.retrieval_query
    assert "Tokio" in follow_up.hits[0].chunk.text  # OpenAI's first office abroad, in the article


@pytest.mark.parametrize(
    "question,language,opening",
    [
        (SOFTBANK, "de", {"high": "Laut dem Text:", "low": "Der Text sagt das nicht direkt."}),
        ("Who is the head of Softbank?", "en", {
            "high": "According to the text (quoted in the original language):",
            "low": "The text may not answer this. Closest passage (quoted in the original language):",
        }),
        ("¿Quién dirige Softbank?", "es", {
            "high": "According to the text (quoted in the original language):",
            "low": "The text may not answer this. Closest passage (quoted in the original language):",
        }),
    ],
)
def test_the_question_language_sets_the_wording_and_the_lexical_weight(
    shared, question, language, opening
) -> None:
    pipeline = shared
    answer = pipeline.ask(question)
    assert answer.language == language
    if not answer.abstained:
        assert answer.text.startswith(opening[answer.confidence])
    same = pipeline.retriever.search(question, 5, answer.language).same_language
    assert same is (language == "de")


def test_a_language_the_model_cannot_read_gets_a_notice_not_an_answer(shared, monkeypatch) -> None:
    # As for the default model, which reads no Greek.
    monkeypatch.setattr(shared, "readable", frozenset({"de", "en"}))
    answer = shared.ask("Ποιος διευθύνει την εταιρεία Softbank;")
    assert answer.abstained and answer.language == "el" and "cannot read (el)" in answer.text
    assert answer.notice == ""  # one message: the notice is the answer, no refusal beside it


@pytest.mark.parametrize("question", [
    "Qui dirige Softbank ?",  # French; fastText's first guess is Catalan (0.59), French second
    "Qui dirigeix Softbank?",  # Catalan: close to Spanish and French
    "Kto kieruje Softbank?",  # Polish; first guess Slovenian
    "Wer isch dr Chef vo Softbank?",  # Swiss German
])
def test_a_short_question_in_a_language_close_to_a_readable_one_is_answered(shared, question) -> None:
    answer = shared.ask(question)
    assert answer.language in shared.readable, answer.language
    assert "cannot read" not in answer.text and answer.notice == ""


@pytest.mark.parametrize("question, language", [
    ("Ποιος διευθύνει την εταιρεία Softbank;", "el"),  # another script
    ("कौन चलाता है सॉफ्टबैंक?", "hi"),
    ("Kuka johtaa Softbankia?", "fi"),  # a language with no reader among its neighbours
    ("Ki vezeti a Softbankot?", "hu"),
])
def test_a_truly_unreadable_question_gets_one_language_message(shared, question, language) -> None:
    from rag.app.render import answer_html, answer_plain

    answer = shared.ask(question)
    assert answer.abstained and answer.language == language and answer.notice == ""
    assert answer.text.startswith("The question seems to be in a language the model cannot read")
    assert f"({language})" in answer.text
    assert "The text does not say" not in answer.text
    # Shown once: the page and the copied text carry the message once, and nothing else.
    html = answer_html(answer, {})
    assert html.count("cannot read") == 2 and "rag-notice" not in html  # the text and its copy
    assert answer_plain(answer) == answer.text


# --- README claims --------------------------------------------------------------------------------


def test_documents_in_sub_folders_are_indexed_and_hidden_or_eval_ones_are_not(tmp_path) -> None:
    seeds = tmp_path / "seeds"
    (seeds / "asien" / "japan").mkdir(parents=True)
    (seeds / "eval").mkdir()
    (seeds / ".hidden").mkdir()
    shutil.copy(ARTICLE, seeds / "asien" / "japan" / ARTICLE.name)
    (seeds / "berge.md").write_text("# Berge\n\nDer Fuji ist der höchste Berg Japans.\n", encoding="utf-8")
    (seeds / "eval" / "notes.txt").write_text("Nicht indexieren.", encoding="utf-8")
    (seeds / ".hidden" / "secret.txt").write_text("Nicht indexieren.", encoding="utf-8")
    pipeline = _open(Settings(seeds_dir=seeds, index_dir=tmp_path / "index"))
    assert sorted(d.doc_id for d in pipeline.index.documents) == ["asien/japan/japan-ki-aufholjagd", "berge"]
    answer = pipeline.ask(SOFTBANK)
    assert answer.citations[0].sentence.doc_id == "asien/japan/japan-ki-aufholjagd"
