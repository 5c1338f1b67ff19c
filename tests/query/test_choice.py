"""Choosing the documents a question searches (rag/query/choice.py): withheld before ranking,
so a one-paragraph document among 200 that match the question better is still found; a refusal
says the chosen documents do not hold the answer; an unknown name is one clear error."""

from __future__ import annotations

import pytest

from rag.query.choice import DocumentChoiceError, chosen_documents

QUESTION = "Who feeds the seagulls every morning?"
SMALL = "The keeper Ola Nordmann feeds the seagulls with herring at dawn."


@pytest.fixture(scope="module")
def crowded(tmp_path_factory):
    """A fake-encoder pipeline over 200 documents that repeat the question's words and one small
    document that answers it."""
    from conftest import FakeEncoder

    from rag.config import Settings
    from rag.pipeline import Pipeline

    root = tmp_path_factory.mktemp("crowded")
    seeds = root / "seeds"
    seeds.mkdir()
    for i in range(200):
        (seeds / f"town-{i:03d}.txt").write_text(
            f"Who feeds the seagulls every morning in Town {i}? Nobody in Town {i} knows who feeds "
            f"the seagulls every morning.\n", "utf-8")
    (seeds / "skarvik.txt").write_text(f"---\ntitle: Skarvik Lighthouse\n---\n{SMALL}\n", "utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=root / "index")
    return Pipeline.open(settings, encoder=FakeEncoder(), progress=False, on_status=lambda m: None)


def test_the_small_document_is_drowned_without_a_choice_and_found_with_one(crowded):
    everything = crowded.ask(QUESTION)
    assert "skarvik" not in {h.chunk.doc_id for h in everything.hits}  # 200 better matches
    retrieval = crowded.retriever.search(QUESTION, crowded.settings.tuning.candidates)
    assert "skarvik" not in {h.chunk.doc_id for h in retrieval.hits}  # a filter afterwards: nothing

    chosen = crowded.ask(QUESTION, documents=["skarvik"])
    assert chosen.hits and {h.chunk.doc_id for h in chosen.hits} == {"skarvik"}
    assert not chosen.abstained
    assert [c.sentence.text for c in chosen.citations] == [SMALL]
    assert crowded.ask(QUESTION, documents=["Skarvik Lighthouse"]).citations == chosen.citations  # title
    assert crowded.ask(QUESTION, documents=["skarvik.txt"]).citations == chosen.citations  # file name


def test_other_documents_are_never_cited_and_an_overview_covers_the_choice(crowded):
    answer = crowded.ask(QUESTION, documents=["town-001", "town-002"])
    assert {h.chunk.doc_id for h in answer.hits} <= {"town-001", "town-002"}
    assert all(c.sentence.doc_id in ("town-001", "town-002") for c in answer.citations)
    overview = crowded.ask("What is this about?", documents=["skarvik"])
    assert {c.sentence.doc_id for c in overview.citations} == {"skarvik"}


def test_unknown_or_empty_choices_are_one_clear_error(crowded):
    with pytest.raises(DocumentChoiceError, match=r"^no document 'nosuch' in the index \(the documents: "):
        crowded.ask(QUESTION, documents=["skarvik", "nosuch"])
    with pytest.raises(DocumentChoiceError, match="choose at least one document"):
        crowded.ask(QUESTION, documents=[])
    docs = crowded.index.documents
    assert chosen_documents(docs, ["SKARVIK", "skarvik.txt"]) == ("skarvik",)


def test_rest_takes_documents_and_reports_unknown_ones_as_400(crowded):
    from fastapi.testclient import TestClient

    from rag.app.api import build_api

    client = TestClient(build_api(crowded))
    ok = client.post("/ask", json={"question": QUESTION, "documents": ["skarvik"]})
    assert ok.status_code == 200
    assert [c["doc_id"] for c in ok.json()["citations"]] == ["skarvik"]
    assert ok.json() == {**crowded.ask(QUESTION, documents=["skarvik"]).to_dict(),
                         "timings_ms": ok.json()["timings_ms"]}
    unknown = client.post("/ask", json={"question": QUESTION, "documents": ["nosuch"]})
    assert unknown.status_code == 400 and "no document 'nosuch'" in unknown.json()["error"]
    wrong = client.post("/ask", json={"question": QUESTION, "documents": "skarvik"})
    assert wrong.status_code == 400 and '"documents" must be a list' in wrong.json()["error"]
    everything = client.post("/ask", json={"question": QUESTION})
    assert "skarvik" not in {h["doc_id"] for h in everything.json()["hits"]}


REAL_TOPICS = [
    "The bakery on {street} Street sells rye bread and cinnamon buns. It opens at six every day.",
    "The football club of {street} won the regional cup. Its coach trains the team twice a week.",
    "The library on {street} Street lends books and films. Its reading room is quiet and bright.",
    "The market on {street} Square sells fish and vegetables. Farmers come there on Saturdays.",
]


@pytest.mark.slow
def test_a_one_paragraph_document_among_200_answers_when_chosen_and_refuses_when_not(
    tmp_path, real_encoder
):
    """The acceptance case with the real model: answered from the chosen small document; asked of
    other documents, refused with the choice's words (never answered from another document)."""
    from conftest import SKARVIK_TEXT

    from rag.config import Settings
    from rag.pipeline import Pipeline

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for i in range(200):
        text = REAL_TOPICS[i % len(REAL_TOPICS)].format(street=f"Elm {i}")
        (seeds / f"note-{i:03d}.txt").write_text(text + "\n", "utf-8")
    (seeds / "skarvik.txt").write_text(SKARVIK_TEXT, "utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    pipeline = Pipeline.open(settings, encoder=real_encoder, progress=False, on_status=lambda m: None)
    question = "When was the lighthouse of Skarvik painted red and white?"
    chosen = pipeline.ask(question, documents=["skarvik"])
    assert not chosen.abstained and "1952" in chosen.citations[0].sentence.text
    refused = pipeline.ask(question, documents=["note-000", "note-001", "note-002"])
    assert refused.abstained and refused.citations == ()
    assert refused.text == "The chosen documents do not say."
    everything = pipeline.ask(question)
    assert "1952" in everything.citations[0].sentence.text  # all documents: answered as before


def test_the_refusal_names_the_choice_in_the_question_language():
    from rag.query.choice import choice_refusal

    assert choice_refusal("de", 1) == "Dazu sagt das gewählte Dokument nichts."
    assert choice_refusal("de", 3) == "Dazu sagen die gewählten Dokumente nichts."
    assert choice_refusal("en", 1) == "The chosen document does not say."
    assert choice_refusal("es", 2) == "The chosen documents do not say."


@pytest.mark.slow
def test_cli_ask_takes_documents_and_names_an_unknown_one_in_one_line(tmp_path):
    import json
    import os
    import subprocess
    import sys

    from conftest import two_small_documents

    seeds = two_small_documents(tmp_path / "seeds")
    common = ["--seeds", str(seeds), "--index", str(tmp_path / "index")]

    def rag(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "rag.app.cli", "ask", *common, *args],
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONIOENCODING": "utf-8"})

    answered = rag("--json", "--documents", "skarvik", "When was the lighthouse painted?")
    assert answered.returncode == 0, answered.stderr
    data = json.loads(answered.stdout)
    assert [c["doc_id"] for c in data["citations"]] == ["skarvik"]
    assert {h["doc_id"] for h in data["hits"]} == {"skarvik"}
    unknown = rag("--documents", "skarvik,nosuch", "When was the lighthouse painted?")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.strip().splitlines()[-1].startswith("rag: error: no document 'nosuch' in the index")
