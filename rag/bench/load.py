"""The chat server under load: launch time to a first answer, and many clients asking at once
over REST and Gradio's queue (loopback only).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.bench.common import COLD_QUESTION, BenchOptions, process_env, summary, timed_process

LOAD_CLIENTS = 20
LOAD_QUESTIONS_PER_CLIENT = 25


def _is_loopback_url(url: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _rest_ask(client: Any, question: str) -> dict[str, Any]:
    """One answer from ``POST /api/ask``: one request."""
    body = json.dumps({"question": question, "history": []}).encode("utf-8")
    status, data = await client.request("POST", "/api/ask", body)
    if status != 200:
        raise RuntimeError(f"/api/ask: HTTP {status}: {data[:200]!r}")
    return json.loads(data)


async def _gradio_ask(client: Any, question: str, session: str) -> dict[str, Any]:
    """One answer from Gradio's ``/ask`` route: post the call, then read its event stream."""
    body = json.dumps({"data": [question, []], "session_hash": session}).encode("utf-8")
    status, data = await client.request("POST", "/gradio_api/call/ask", body)
    if status != 200:
        raise RuntimeError(f"/gradio_api/call/ask: HTTP {status}: {data[:200]!r}")
    event_id = json.loads(data)["event_id"]
    status, stream = await client.request("GET", f"/gradio_api/call/ask/{event_id}")
    if status != 200:
        raise RuntimeError(f"/gradio_api/call/ask/{event_id}: HTTP {status}: {stream[:200]!r}")
    event = None
    for line in stream.decode("utf-8").splitlines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event in ("complete", "error"):
            payload = json.loads(line[5:])
            if event == "error":
                raise RuntimeError(f"/ask: {payload}")
            return payload[0]
    raise RuntimeError("/ask: the event stream ended without an answer")


async def _load_route(
    url: str, route: str, questions: Sequence[str], clients: int, per_client: int
) -> dict[str, Any]:
    """``clients`` concurrent clients, each asking ``per_client`` questions one after another."""
    import asyncio
    import uuid

    from rag.bench.http import RawClient

    latencies: list[float] = []
    errors: list[str] = []

    def client_for() -> Any:
        # One client (one keep-alive connection) per simulated user, as each browser tab or
        # gradio_client has. Not httpx: it cost 2.5-4 ms of CPU a request on the 2 cores the
        # server runs on, which measured the load generator as much as the server (rag/bench/http.py).
        return RawClient(url, timeout=120)

    async def ask(client: Any, question: str, session: str) -> dict[str, Any]:
        if route == "rest":
            return await _rest_ask(client, question)
        return await _gradio_ask(client, question, session)

    async def one_client(index: int, start: asyncio.Event) -> None:
        session = uuid.uuid4().hex[:12]
        async with client_for() as client:
            try:  # opens the connection before the clock starts
                await ask(client, questions[index % len(questions)], session)
            except Exception as exc:  # noqa: BLE001
                errors.append(f"warm-up: {type(exc).__name__}: {exc}"[:300])
            ready.append(index)
            await start.wait()
            for turn in range(per_client):
                question = questions[(index * per_client + turn) % len(questions)]
                started = time.perf_counter()
                try:
                    answer = await ask(client, question, session)
                    if not answer.get("answer"):
                        raise RuntimeError(f"no answer text: {str(answer)[:200]}")
                except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    continue
                latencies.append((time.perf_counter() - started) * 1000)

    start = asyncio.Event()
    ready: list[int] = []
    tasks = [asyncio.create_task(one_client(i, start)) for i in range(clients)]
    while len(ready) < clients and not any(t.done() for t in tasks):  # every client warmed up
        await asyncio.sleep(0.02)
    started = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    out: dict[str, Any] = {
        "route": "POST /api/ask" if route == "rest" else "Gradio /ask (POST call + event stream)",
        "clients": clients,
        "questions_per_client": per_client,
        "answered": len(latencies),
        "errors": len(errors),
        "seconds": round(seconds, 3),
        "answers_per_s": round(len(latencies) / seconds, 1) if seconds > 0 else None,
    }
    if latencies:
        out.update({f"{k}_ms": v for k, v in summary(latencies, 1).items()})
    if errors:
        out["first_errors"] = errors[:3]
    return out


def load_test(
    url: str, questions: Sequence[str], clients: int = LOAD_CLIENTS,
    per_client: int = LOAD_QUESTIONS_PER_CLIENT,
) -> dict[str, Any]:
    """The REST route and Gradio's ``/ask`` route of a running ``ui.py``, one after the other.

    asyncio + a minimal HTTP/1.1 client (:mod:`rag.bench.http`), at most ``clients`` requests in
    flight; loopback addresses only (this is a load generator, never pointed at someone else's
    server).
    """
    import asyncio

    if not _is_loopback_url(url):
        raise ValueError(f"the load test only runs against loopback addresses, not {url}")
    if not questions:
        raise ValueError("no questions for the load test")
    rest = asyncio.run(_load_route(url, "rest", questions, clients, per_client))
    gradio = asyncio.run(_load_route(url, "gradio", questions, clients, per_client))
    ratio = None
    if rest.get("answers_per_s") and gradio.get("answers_per_s"):
        ratio = round(rest["answers_per_s"] / gradio["answers_per_s"], 2)
    return {"rest": rest, "gradio": gradio, "rest_vs_gradio_throughput": ratio}


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ui_command(options: BenchOptions, index_dir: Path, port: int) -> list[str] | None:
    """``ui.py`` over ``index_dir`` on a loopback port (None when there is no ui.py beside the package)."""
    ui = Path(__file__).resolve().parents[2] / "ui.py"
    if not ui.is_file():
        return None
    return [
        sys.executable, str(ui), "--host", "127.0.0.1", "--port", str(port),
        "--seeds", str(options.seeds_dir), "--index", str(index_dir),
        *(["--model", options.model] if options.model else []),
        *(["--threads", str(options.threads)] if options.threads else []),
    ]


def _ui_env(base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(base or os.environ, GRADIO_ANALYTICS_ENABLED="False")
    env.pop("RAG_AUTH", None)
    return env


def _gradio_answer_once(port: int, question: str, timeout: float = 30) -> bool:
    """Whether Gradio's ``/ask`` answered ``question`` (False while the server is not up yet)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        body = json.dumps({"data": [question, []]})
        connection.request("POST", "/gradio_api/call/ask", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            return False
        event_id = json.loads(data)["event_id"]
        connection.request("GET", f"/gradio_api/call/ask/{event_id}")
        response = connection.getresponse()
        stream = response.read().decode("utf-8")
        return response.status == 200 and "event: complete" in stream
    except (OSError, http.client.HTTPException, ValueError, KeyError):
        return False
    finally:
        connection.close()


def time_to_first_answer(cmd: list[str], port: int, env: dict[str, str] | None = None,
                         deadline_s: float = 300) -> float:
    """Seconds from starting ``ui.py`` until its ``/ask`` has answered a question (then stopped).

    Polls the cheap ``/api/health`` every 20 ms until the server is up (so the figure is at
    most that much late), then asks. Asking from the first moment instead crashed ui.py under
    load: early calls kept Gradio's event loop busy past the 3 s its own start-up check
    (``networking.url_ok``) waits for the page.
    """
    import urllib.request

    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_ui_env(env))
        up = False
        try:
            while not (up and _gradio_answer_once(port, COLD_QUESTION)):
                if not up:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as r:
                            up = r.status == 200
                    except OSError:
                        pass
                if process.poll() is not None:
                    log.seek(0)
                    tail = log.read().decode("utf-8", "replace")[-2000:]
                    raise RuntimeError(f"ui.py exited with {process.returncode}: {tail}")
                if time.perf_counter() - started > deadline_s:
                    raise RuntimeError(f"ui.py did not answer within {deadline_s:.0f} s")
                time.sleep(0.02)
            return time.perf_counter() - started
        finally:
            stop_process(process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill if it has not exited within 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def bench_launch(options: BenchOptions, index_dir: Path) -> dict[str, Any]:
    """The chat server from launch to its first answered ``/ask``, beside ``import gradio``
    (a new process each), interleaved; medians."""
    port = _free_port()
    cmd = _ui_command(options, index_dir, port)
    if cmd is None:
        return {"skipped": "no ui.py next to the package"}
    options.log("bench: chat server launch to first answer and import gradio, "
                f"{options.process_runs} run(s) each")
    launches, imports = [], []
    floor = [sys.executable, "-c", "import gradio"]
    with tempfile.TemporaryDirectory(prefix="rag-bench-pyc-") as bytecode:
        env = process_env(Path(bytecode))
        timed_process(floor, env)  # untimed: fills the bytecode cache
        time_to_first_answer(cmd, port, env)
        for _ in range(options.process_runs):
            imports.append(timed_process(floor, env))
            launches.append(time_to_first_answer(cmd, port, env))
    return {
        "server_first_answer_s": round(float(np.median(launches)), 3),
        "import_gradio_s": round(float(np.median(imports)), 3),
        "server_first_answer_runs_s": [round(x, 3) for x in launches],
        "import_gradio_runs_s": [round(x, 3) for x in imports],
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def bench_load(options: BenchOptions, index_dir: Path) -> dict[str, Any]:
    """Start ``ui.py`` on a free loopback port over ``index_dir`` and run :func:`load_test`."""
    import urllib.request

    from rag.eval.questions import load_questions

    port = _free_port()
    cmd = _ui_command(options, index_dir, port)
    if cmd is None:
        return {"skipped": "no ui.py next to the package"}
    options.log(f"bench: load test, {LOAD_CLIENTS} clients x {LOAD_QUESTIONS_PER_CLIENT} questions, "
                "POST /api/ask and Gradio's /ask (own server process)")
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_ui_env())
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 300
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    tail = log.read().decode("utf-8", "replace")[-2000:]
                    raise RuntimeError(f"ui.py exited with {process.returncode}: {tail}")
                try:
                    with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("ui.py did not answer within 300 s")
                time.sleep(0.3)
            questions = [q.question for q in load_questions(options.questions)]
            return load_test(url, questions)
        finally:
            stop_process(process)


