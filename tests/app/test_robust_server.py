"""The running chat server (`python ui.py`) under bad input and load (issue 6).

Bad questions and malformed requests sent to `/ask` come back as an answer, a refusal or one
clear error, and the server keeps serving. The load test sends 20 concurrent clients x 50
questions through `/ask` (Gradio's REST route for the endpoint, one session per client like a
gradio_client ``Client``), reports p50/p95, and checks that the server's memory after 5,000
questions is within 10% of its size after the first 500. Loopback only.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 2000


class AskClient:
    """A small client for `/ask` over Gradio's REST route: POST the call, read its event stream.

    ``gradio_client`` spends ~60 ms of CPU per call in the client, which on a 2-core machine
    would measure the test rather than the server; this one spends well under 1 ms.
    """

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.session = uuid.uuid4().hex[:12]

    def call(self, data: object, raw_body: bytes | None = None) -> tuple[str, object]:
        """(``"complete"`` or ``"error"`` or ``"http <status>"``, payload)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            body = raw_body if raw_body is not None else json.dumps(
                {"data": data, "session_hash": self.session}
            )
            conn.request("POST", "/gradio_api/call/ask", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            payload = response.read()
            if response.status != 200:
                return f"http {response.status}", payload.decode("utf-8", "replace")
            event_id = json.loads(payload)["event_id"]
            conn.request("GET", f"/gradio_api/call/ask/{event_id}")
            response = conn.getresponse()
            event = None
            while True:
                line = response.fp.readline()
                if not line:
                    return "stream ended", None
                line = line.decode("utf-8").rstrip("\r\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    return event, json.loads(line[5:])
        finally:
            conn.close()

    def ask(self, question: str, history: list | None = None) -> dict:
        event, payload = self.call([question, history or []])
        if event != "complete":
            raise RuntimeError(f"/ask failed: {event}: {payload}")
        return payload[0]


@pytest.fixture(scope="module")
def client(ui_server):
    from gradio_client import Client

    return Client(ui_server.url, verbose=False)


def _still_serving(ui_server) -> None:
    assert ui_server.process.poll() is None, ui_server.log()
    result = AskClient(ui_server.url).ask("Wer leitet den Technologieinvestor Softbank?")
    assert result["citations"]


REJECTED = {
    "empty": ("", "empty"),
    "white space": (" \t\n ", "empty"),
    "NUL and ANSI only": ("\x00\x1b[31m\x1b[0m", "empty"),
    "punctuation": ("?!... ;;", "words"),
    "emoji only": ("😀🤖", "words"),
}
ACCEPTED = {
    "200,000 characters": "Wer leitet den Technologieinvestor Softbank? " * 4500,
    "control characters and NUL": "Wer\x00 leitet\x07 den Technologieinvestor\x1b[1m Softbank?",
    "emoji": "🤖 Wer leitet Softbank?",
    "right-to-left": "\u202eمن يقود سوفت بنك؟",
    "Japanese": "ソフトバンクの社長は誰ですか？",
    "script": "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "Markdown": "[a](javascript:alert(1)) ![b](http://127.0.0.1:9/b.png)",
    "SQL": "'; DROP TABLE users; --",
}


@pytest.mark.parametrize("question, message", REJECTED.values(), ids=REJECTED.keys())
def test_ask_rejects_unaskable_questions_with_one_clear_error(client, question, message) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        client.predict(question, api_name="/ask")


@pytest.mark.parametrize("question", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_ask_answers_or_refuses_odd_questions(client, question) -> None:
    result = client.predict(question, api_name="/ask")
    assert result["answer"] and result["abstained"] == (not result["citations"])
    assert len(result["question"]) <= LIMIT
    if len(question) > LIMIT:
        assert f"{len(question):,}" in result["notice"] and f"{LIMIT:,}" in result["notice"]


@pytest.mark.parametrize(
    "data, raw_body, expected",
    [
        ([None, []], None, ("error", "the question must be text")),
        ([12345, []], None, ("error", "the question must be text")),
        ([["a", "list"], []], None, ("error", "the question must be text")),
        (["Wer leitet Softbank?", 42], None, ("error", "history must be a list")),
        (["Wer leitet Softbank?", {"not": "a list"}], None, ("error", "history must be a list")),
        (["\x00" * 10, []], None, ("error", "empty")),
        ([], None, ("error", "enough input values")),
        (None, b"{not json", ("http 422", "JSON decode error")),
        (None, b'{"data": "Wer?"}', ("http 422", "valid list")),
        (None, b"\xff\xfe\x00", ("http 400", "error parsing the body")),
    ],
    ids=["null", "number", "list", "history number", "history object", "NULs", "no data", "bad JSON",
         "data not a list", "binary"],
)
def test_malformed_requests_are_errors_and_the_server_keeps_serving(ui_server, data, raw_body, expected):
    event, payload = AskClient(ui_server.url).call(data, raw_body)
    assert event == expected[0], payload
    assert expected[1] in str(payload) and "Traceback" not in str(payload)
    _still_serving(ui_server)


def test_user_errors_leave_no_traceback_in_the_server_log(ui_server) -> None:
    AskClient(ui_server.url).call([None, []])
    AskClient(ui_server.url).call(["   ", []])
    assert "gradio.exceptions.Error" not in ui_server.log()


def test_history_from_the_api_is_cleaned(client) -> None:
    first = "Wo hat Open AI sein erstes Auslandsbüro eröffnet?"
    plain = client.predict("Und wann war das?", [first], api_name="/ask")
    junk = client.predict("Und wann war das?", ["", "\x00", "?!", first + "\x1b[0m"], api_name="/ask")
    assert junk["retrieval_query"] == plain["retrieval_query"]
    started = time.perf_counter()
    client.predict("Und wann war das?", [first + " Wort" * 40_000] * 20, api_name="/ask")
    assert time.perf_counter() - started < 20


def test_server_listens_on_loopback_only_with_analytics_off(ui_server) -> None:
    import psutil

    listening = [
        c.laddr for c in psutil.Process(ui_server.process.pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening
    conn = http.client.HTTPConnection("127.0.0.1", urllib.parse.urlsplit(ui_server.url).port, timeout=30)
    conn.request("GET", "/config")
    config = json.loads(conn.getresponse().read())
    conn.close()
    assert config["analytics_enabled"] is False
    assert not config.get("share_url")
    assert "gradio.live" not in ui_server.log() and "public link" not in ui_server.log()
    assert "share=True" not in ui_server.log()  # no hint to share it either


def test_load_20_clients_x_50_questions_and_memory(ui_server, tmp_path) -> None:
    """20 concurrent clients x 50 questions: no errors, p50/p95; RSS after 5,000 within 10% of 500."""
    import psutil

    server = psutil.Process(ui_server.process.pid)
    lines = (ROOT / "seeds" / "eval" / "article.jsonl").read_text("utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    questions += list(ACCEPTED.values())[1:]  # odd but valid ones mixed in
    clients = [AskClient(ui_server.url) for _ in range(20)]
    errors: list[str] = []
    lock = threading.Lock()

    def run(per_client: int) -> list[float]:
        latencies: list[float] = []

        def work(index: int, client: AskClient) -> None:
            for turn in range(per_client):
                question = questions[(index * per_client + turn) % len(questions)]
                started = time.perf_counter()
                try:
                    result = client.ask(question)
                    assert result["answer"], result
                except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    continue
                with lock:
                    latencies.append(time.perf_counter() - started)

        threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        return latencies

    started = time.perf_counter()
    run(25)  # the first 500 questions
    rss_500 = server.memory_info().rss
    measured_at = time.perf_counter()
    latencies = sorted(run(50))  # the measured run: 20 clients x 50 questions
    measured_seconds = time.perf_counter() - measured_at
    run(175)  # up to 5,000
    rss_5000 = server.memory_info().rss
    total_seconds = time.perf_counter() - started

    p50 = statistics.median(latencies) * 1000
    p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)] * 1000
    figures = {
        "clients": 20,
        "questions_per_client": 50,
        "answered": len(latencies),
        "errors": len(errors),
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "throughput_per_s": round(len(latencies) / measured_seconds, 1),
        "rss_mb_after_500": round(rss_500 / 2**20, 1),
        "rss_mb_after_5000": round(rss_5000 / 2**20, 1),
        "rss_growth": round(rss_5000 / rss_500 - 1, 4),
        "total_seconds": round(total_seconds, 1),
    }
    print("\nload test on /ask:", json.dumps(figures))
    # Written to the temporary folder, never into the repository: set RAG_REPORTS=DIR to keep it.
    reports = Path(os.environ.get("RAG_REPORTS") or tmp_path)
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "load-test.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")

    assert errors == [], errors[:5]
    assert len(latencies) == 1000
    assert rss_5000 <= rss_500 * 1.10, figures
    _still_serving(ui_server)
