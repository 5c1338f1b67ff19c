"""The chat server's routes in this process: FastAPI's TestClient over the REST API
(``rag/app/api.py``) and over the page's Gradio app (``ui.build_app``), the fake encoder under
both. Fast versions of what tests/app/test_api.py, test_ui_server.py and the browser tests check
over a real server: `POST /api/ask` with a history, the "Why?" follow-up, thumbs up and down
written to the feedback file."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from conftest import SEEDS, FakeEncoder
from fastapi.testclient import TestClient

from rag.config import Settings
from rag.eval.questions import load_questions
from rag.pipeline import Pipeline

ARTICLE = SEEDS / "japan-ki-aufholjagd.txt"
OFFICE = "Wo hat Open AI sein erstes Auslandsbüro eröffnet?"
WHEN = "Und wann war das?"
MARKET = "Wie gross ist das Marktpotenzial der Digitalisierung in Japan im Vergleich zu Deutschland?"
# The sentence after the market figure, the one next to it that gives a reason ("deshalb").
REASON = "Er sagt: Auch deshalb kämen so viele KI-Grössen aus den USA nach Japan."
SOFTBANK = "Wer leitet den Technologieinvestor Softbank?"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Pipeline:
    work = tmp_path_factory.mktemp("server")
    (work / "seeds").mkdir()
    shutil.copy(ARTICLE, work / "seeds" / ARTICLE.name)
    settings = Settings(seeds_dir=work / "seeds", index_dir=work / "index")
    return Pipeline.open(settings, encoder=FakeEncoder(), progress=False, on_status=lambda m: None)


def _without_timings(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


# --- POST /api/ask ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(pipeline):
    from fastapi import FastAPI
    from starlette.routing import Mount

    from rag.app.api import build_api

    # Mounted at /api as ui.py mounts it beside the page.
    app = FastAPI(routes=[Mount("/api", app=build_api(pipeline, threading.Lock()))])
    with TestClient(app) as client:
        yield client


def test_api_ask_uses_the_history_for_a_follow_up(api, pipeline) -> None:
    alone = api.post("/api/ask", json={"question": WHEN}).json()
    followed = api.post("/api/ask", json={"question": WHEN, "history": [OFFICE]})
    assert followed.status_code == 200
    result = followed.json()
    # Searched with the earlier question's topic, exactly as the pipeline does with that history.
    assert "retrieval_query" not in alone  # only a follow-up's differs from the question
    assert "Auslandsbüro" in result["retrieval_query"] and "Open" in result["retrieval_query"]
    assert result["question"] == WHEN  # shown as typed
    assert _without_timings(result) == _without_timings(pipeline.ask(WHEN, [OFFICE]).to_dict())
    assert _without_timings(alone) == _without_timings(pipeline.ask(WHEN).to_dict())


def test_api_ask_errors_are_json_with_a_4xx(api) -> None:
    assert api.post("/api/ask", json={"question": "  "}).status_code == 400
    bad = api.post("/api/ask", json={"question": WHEN, "history": "nope"})
    assert bad.status_code == 400 and "history" in bad.json()["error"]


# --- the page's Gradio app ------------------------------------------------------------------------


class Page:
    """The page's events called as the browser calls them (Gradio's queue: join, then read the
    session's event stream until the call completes); the session keeps the page's states."""

    def __init__(self, client: TestClient, demo, session: str) -> None:  # noqa: ANN001
        self.client, self.demo, self.session = client, demo, session

    def fn_index(self, name: str) -> int:
        [index] = [i for i, f in self.demo.fns.items() if f.fn is not None and f.fn.__name__ == name][:1]
        return index

    def event(self, name: str, data: list, event_data: dict | None = None) -> list:
        joined = self.client.post("/gradio_api/queue/join", json={
            "data": data, "fn_index": self.fn_index(name), "session_hash": self.session,
            "event_data": event_data, "trigger_id": None,
        })
        assert joined.status_code == 200, joined.text
        done = None
        with self.client.stream("GET", f"/gradio_api/queue/data?session_hash={self.session}") as stream:
            for line in stream.iter_lines():  # to its end: the stream closes after the last event
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("msg") == "process_completed":
                        done = message
        assert done is not None and done["success"], done
        return done["output"]["data"]

    def ask(self, question: str) -> str:
        """The question asked in the page; the chat's last message (the answer's HTML)."""
        # respond(question, messages, history, turns, conv_id, store, search_in): the states are the
        # session's (the page sends none, and gets none back); no document chosen: all searched.
        chat = self.event("respond", [question, None, None, None, None, None, []])[1]
        assert chat[-2]["role"] == "user" and chat[-1]["role"] == "assistant"
        return "".join(part["text"] for part in chat[-1]["content"] if part.get("type") == "text")

    def call(self, api_name: str, *data) -> dict:  # noqa: ANN002
        """A named API route (`/ask`) through its one-call route, as gradio_client does."""
        posted = self.client.post(f"/gradio_api/call/{api_name}", json={"data": list(data)})
        assert posted.status_code == 200, posted.text
        with self.client.stream("GET", f"/gradio_api/call/{api_name}/{posted.json()['event_id']}") as stream:
            body = "".join(stream.iter_text())
        event, _, data_line = body.strip().partition("\n")
        assert event == "event: complete", body
        return json.loads(data_line.removeprefix("data: "))[0]


@pytest.fixture(scope="module")
def app(pipeline, tmp_path_factory):
    import gradio as gr
    from fastapi import FastAPI

    import ui

    feedback = tmp_path_factory.mktemp("feedback") / "feedback.jsonl"
    demo = ui.build_app(pipeline, "", feedback_path=feedback)
    demo.queue()
    with TestClient(gr.mount_gradio_app(FastAPI(), demo, path="/")) as client:
        yield client, demo, feedback


@pytest.fixture
def page(app, request) -> Page:
    client, demo, _ = app
    return Page(client, demo, request.node.name)


def _cited(answer: dict) -> list[str]:
    return [c["text"] for c in answer["citations"]]


def test_why_through_the_ask_route_cites_the_reason_sentence(page) -> None:
    before = page.call("ask", MARKET, [])
    assert "viermal so hohes Marktpotenzial" in _cited(before)[0]
    why = page.call("ask", "Und warum?", [MARKET])
    assert why["abstained"] is False, why["answer"]  # "the text gives no reason" is a failure here
    assert _cited(why) == [REASON]
    assert why["answer"].startswith("Als Grund nennt der Text:") and REASON in why["answer"]
    first, reason = before["citations"][0], why["citations"][0]
    assert reason["doc_id"] == first["doc_id"] and reason["paragraph"] == first["paragraph"]
    assert reason["sentence"] == first["sentence"] + 1  # the next sentence of the same paragraph


def test_why_in_the_page_cites_the_reason_next_to_the_last_answer(page, pipeline) -> None:
    import html

    first = html.unescape(page.ask(MARKET))
    assert "viermal so hohes Marktpotenzial" in first
    why = html.unescape(page.ask("Und warum?"))
    assert "rag-refusal" not in why and "Einen Grund dafür nennt der Text nicht" not in why
    assert "Als Grund nennt der Text:" in why and REASON in why


def test_thumbs_up_and_down_in_the_page_are_written_as_rag_eval_questions(page, app, pipeline) -> None:
    feedback: Path = app[2]
    before = len(load_questions(feedback)) if feedback.exists() else 0
    page.ask(SOFTBANK)  # chat message 1
    page.ask(OFFICE)  # chat message 3
    softbank = [c.sentence.text for c in pipeline.ask(SOFTBANK).citations]
    assert softbank
    # Thumbs up on the first answer: saved at once, its cited sentences as the right answers.
    page.event("on_like", [None], {"index": [1, None], "value": "", "liked": True})
    questions = load_questions(feedback)
    assert len(questions) == before + 1
    assert questions[-1].question == SOFTBANK and questions[-1].lang == "de"
    assert list(questions[-1].answers) == softbank
    # Thumbs down on the second: nothing is written until a sentence is picked and saved.
    panel, choice, _, _ = page.event("on_like", [None], {"index": [3, None], "value": "", "liked": False})
    assert panel["visible"] is True
    assert len(load_questions(feedback)) == before + 1
    picked = next(c for c in choice["choices"] if "Tokio" in c[0])[0]
    page.event("save_feedback", [picked, None, None])  # the choice; the target and turns are states
    questions = load_questions(feedback)
    assert len(questions) == before + 2
    assert questions[-1].question == OFFICE and questions[-1].answers == (picked,)
    lines = [json.loads(line) for line in feedback.read_text("utf-8").splitlines()]
    assert [line["verdict"] for line in lines[-2:]] == ["up", "down"]


def test_the_batcher_gives_primed_rows_and_encodes_only_the_rest_in_one_call(fake_encoder):
    """A question and its words the index has no vectors for are encoded in one call
    (``Retriever.search``); under load the API primes them with the other waiting questions, so
    that call must take the primed rows and encode only what is left (without this, REST fell
    from 212 to 124 answers/s: every question was encoded again)."""
    import numpy as np

    from rag.app.api import QuestionBatcher

    class Counting:
        name, dimension = fake_encoder.name, fake_encoder.dimension

        def __init__(self) -> None:
            self.batches: list[list[str]] = []

        def encode(self, texts):  # noqa: ANN001, ANN202
            return fake_encoder.encode(texts)

        def encode_questions(self, texts):  # noqa: ANN001, ANN202
            self.batches.append(list(texts))
            return fake_encoder.encode(texts)

    base = Counting()
    batcher = QuestionBatcher(base)
    batcher.prime(["Wer leitet Softbank?", "leitet", "Who runs Softbank?"])
    assert len(base.batches) == 1
    rows = batcher.encode_questions(["Wer leitet Softbank?", "leitet", "technologieinvestor"])
    assert base.batches[1:] == [["technologieinvestor"]]  # only the text not primed
    assert np.allclose(rows, fake_encoder.encode(["Wer leitet Softbank?", "leitet", "technologieinvestor"]))
    batcher.encode_questions(["Wer leitet Softbank?", "leitet"])
    assert len(base.batches) == 2  # everything primed: no encoder call at all
