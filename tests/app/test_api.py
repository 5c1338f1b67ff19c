"""The one-request REST API (`/api/ask`, `/api/documents`, `/api/health`) of the real chat server,
called over HTTP with urllib: answers, errors as JSON with 4xx, OpenAPI, and the login rule."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def call(base: str, path: str, body: object = None, raw: bytes | None = None, method: str | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of one request; 4xx/5xx are returned, not raised."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(
        base.rstrip("/") + path, data=data, method=method or ("POST" if data is not None else "GET"),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), dict(exc.headers)


def test_ask_returns_the_json_of_rag_ask_in_one_request(ui_server) -> None:
    question = "Welche vier Faktoren sprechen für Japan?"
    status, result, headers = call(ui_server.url, "/api/ask", {"question": question})
    assert status == 200 and headers["content-type"].startswith("application/json")
    expected = ui_server.cli_answer(question)
    assert set(result["timings_ms"]) == set(expected.pop("timings_ms"))
    result.pop("timings_ms")
    assert result == expected
    assert result["citations"] and not result["abstained"]


def test_follow_up_uses_the_history_and_unanswerable_is_refused(ui_server) -> None:
    first = "Wo hat Open AI sein erstes Auslandsbüro eröffnet?"
    _, alone, _ = call(ui_server.url, "/api/ask", {"question": "Und wann war das?"})
    status, follow, _ = call(ui_server.url, "/api/ask", {"question": "Und wann war das?", "history": [first]})
    assert status == 200
    assert "retrieval_query" not in alone  # searched as typed
    assert "Open AI" in follow["retrieval_query"] or "Auslandsbüro" in follow["retrieval_query"]
    status, refused, _ = call(ui_server.url, "/api/ask", {"question": "What is the capital of France?"})
    assert status == 200 and refused["abstained"] is True and refused["citations"] == []


@pytest.mark.parametrize(
    "body, raw, status, message",
    [
        ({"question": ""}, None, 400, "empty"),
        ({"question": "   \x00 "}, None, 400, "empty"),
        ({"question": "?!"}, None, 400, "words"),
        ({"question": 12345}, None, 400, "must be text"),
        ({"question": None}, None, 400, "must be text"),
        ({}, None, 400, '"question"'),
        ({"question": "Wer leitet Softbank?", "history": "no list"}, None, 400, "history"),
        ({"question": "Wer leitet Softbank?", "history": {"a": 1}}, None, 400, "history"),
        (None, b"{not json", 400, "JSON"),
        (None, b"\xff\xfe\x00", 400, "JSON"),
        (None, b'["Wer leitet Softbank?"]', 400, "JSON object"),
    ],
    ids=["empty", "blank", "no words", "number", "null", "no question", "history text",
         "history object", "bad JSON", "binary", "array"],
)
def test_errors_are_json_with_a_4xx_status(ui_server, body, raw, status, message) -> None:
    got, payload, _ = call(ui_server.url, "/api/ask", body, raw=raw)
    assert got == status, payload
    assert set(payload) == {"error"} and message in payload["error"], payload
    assert call(ui_server.url, "/api/health")[0] == 200  # still serving
    assert "Traceback" not in ui_server.log()


def test_a_body_over_the_limit_is_refused_before_it_is_read(ui_server) -> None:
    import http.client
    import urllib.parse

    port = urllib.parse.urlsplit(ui_server.url).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.putrequest("POST", "/api/ask")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(64 * 2**20))  # announced, never sent
    conn.endheaders(b'{"question": "')
    response = conn.getresponse()
    payload = json.loads(response.read())
    conn.close()
    assert response.status == 413 and "larger" in payload["error"]
    assert call(ui_server.url, "/api/health")[0] == 200


def test_wrong_method_and_unknown_route_are_json_errors(ui_server) -> None:
    status, payload, _ = call(ui_server.url, "/api/ask", method="GET")
    assert status == 405 and "error" in payload
    status, payload, _ = call(ui_server.url, "/api/nothing-here")
    assert status == 404 and "error" in payload


def test_limits_and_cleaning_are_those_of_the_page(ui_server) -> None:
    long_question = "Wer leitet Softbank? " + "Wort " * 1000
    status, result, _ = call(ui_server.url, "/api/ask", {"question": long_question})
    assert status == 200 and len(result["question"]) <= 2000 and "2,000" in result["notice"]
    marked = {"question": "<b>Wer</b> leitet \x1b[1mSoftbank\x1b[0m?", "history": [None, 3, ""]}
    status, result, _ = call(ui_server.url, "/api/ask", marked)
    assert status == 200 and result["question"] == "<b>Wer</b> leitet Softbank?"


def test_documents_and_health(ui_server) -> None:
    status, payload, _ = call(ui_server.url, "/api/documents")
    assert status == 200
    (doc,) = [d for d in payload["documents"] if d["doc_id"] == "japan-ki-aufholjagd"]
    assert doc["title"] == "Japans Aufholjagd bei der künstlichen Intelligenz" and doc["language"] == "de"
    assert doc["sentences"] > 40 and doc["paragraphs"] > 10 and doc["format"] == "txt"
    status, health, _ = call(ui_server.url, "/api/health")
    assert status == 200 and health["status"] == "ok" and health["model"] == "use-multilingual"
    assert health["counts"]["sentences"] == sum(d["sentences"] for d in payload["documents"])


def test_openapi_description_is_served(ui_server) -> None:
    status, spec, _ = call(ui_server.url, "/api/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    assert {"/ask", "/documents", "/health"} <= set(spec["paths"])
    assert spec["servers"] == [{"url": "/api"}]
    schema = spec["paths"]["/ask"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"question", "history"} <= set(schema["properties"])
    with urllib.request.urlopen(ui_server.url.rstrip("/") + "/api/docs", timeout=30) as response:
        assert response.status == 200  # the browsable description
    with urllib.request.urlopen(ui_server.url, timeout=30) as response:
        assert response.status == 200 and b"gradio" in response.read().lower()  # the page is still there


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory, seeds_copy):
    """`ui.py --auth` on loopback (its own index folder); killed at the end."""
    from conftest import serving_ui

    work = tmp_path_factory.mktemp("ui-auth")
    with serving_ui(work, seeds_copy, "--auth", "anna:geheim", drop_env=("RAG_AUTH",)) as server:
        yield server.url.rstrip("/")


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_with_a_login_every_route_wants_http_basic_auth(auth_server) -> None:
    for path, body in (("/api/ask", {"question": "Wer leitet Softbank?"}), ("/api/documents", None),
                       ("/api/health", None)):
        status, payload, headers = call(auth_server, path, body)
        assert status == 401 and "error" in payload and headers["www-authenticate"].startswith("Basic")
        assert call(auth_server, path, body, headers=_basic("anna", "falsch"))[0] == 401
        assert call(auth_server, path, body, headers={"Authorization": "Basic %%%"})[0] == 401
        status, payload, _ = call(auth_server, path, body, headers=_basic("anna", "geheim"))
        assert status == 200, payload
    status, payload, _ = call(auth_server, "/api/ask", {"question": ""}, headers=_basic("anna", "geheim"))
    assert status == 400 and "empty" in payload["error"]


def test_load_generator_measures_both_routes(ui_server) -> None:
    """`rag bench`'s load generator (asyncio, rag.bench.http) on both routes, small: figures, no errors."""
    from rag.bench.runner import format_load, load_test

    questions = ["Wer leitet den Technologieinvestor Softbank?", "Who is Yuko Harayama?"]
    load = load_test(ui_server.url, questions, clients=4, per_client=3)
    for key in ("rest", "gradio"):
        entry = load[key]
        assert entry["answered"] == 12 and entry["errors"] == 0, entry
        assert entry["answers_per_s"] > 0 and entry["p95_ms"] >= entry["p50_ms"] > 0
    assert load["rest_vs_gradio_throughput"] > 0
    assert "POST /api/ask" in "\n".join(format_load(load))
    with pytest.raises(ValueError, match="loopback"):
        load_test("http://example.org:7860", questions)


def test_worker_batches_waiting_questions_and_answers_as_one_by_one(article_pipeline, real_encoder) -> None:
    """20 questions at once through the API's worker: primed in batches, same answers as alone."""
    import asyncio
    import threading

    from rag.app.api import ApiError, PipelineWorker, QuestionBatcher
    from rag.pipeline import Pipeline

    lines = (ROOT / "seeds" / "eval" / "article.jsonl").read_text("utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()][:20]
    batcher = QuestionBatcher(real_encoder)
    pipeline = Pipeline(article_pipeline.index, batcher, article_pipeline.settings)
    worker = PipelineWorker(pipeline, threading.Lock())

    async def all_at_once() -> list:
        return await asyncio.gather(*(worker.ask(q, []) for q in questions), worker.ask("", []),
                                    return_exceptions=True)

    results = asyncio.run(all_at_once())
    assert isinstance(results[-1], ApiError) and results[-1].status == 400
    assert batcher.batches >= 1 and batcher.primed_texts >= 2
    for question, result in zip(questions, results, strict=False):
        alone = article_pipeline.ask(question).to_dict()
        assert result["answer"] == alone["answer"], question
        assert [c["start"] for c in result["citations"]] == [c["start"] for c in alone["citations"]]
        assert [h["chunk_id"] for h in result["hits"]] == [h["chunk_id"] for h in alone["hits"]]
