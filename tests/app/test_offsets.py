"""Offsets of every output of the chat server index the source file: Gradio's /ask endpoint and
POST /api/ask (real model, real server: slow). The CLI's JSON and terminal offsets are checked
fast in tests/test_promises.py."""

from __future__ import annotations

import json
import urllib.request

import pytest

pytestmark = pytest.mark.slow

QUESTIONS = [
    "Wer leitet den Technologieinvestor Softbank?",
    "Who is the head of Softbank?",
    "Wie hoch ist das Bußgeld für Wiederholungstäter?",
]


def _assert_offsets_index_the_source(answer: dict, seeds) -> None:  # noqa: ANN001
    assert answer["citations"] and answer["hits"], answer
    for item in answer["citations"] + answer["hits"]:
        source = (seeds / f"{item['doc_id']}.txt").read_text("utf-8")
        assert source[item["start"] : item["end"]] == item["text"], item


@pytest.mark.parametrize("question", QUESTIONS)
def test_gradio_ask_endpoint_offsets_index_the_source(ui_server, seeds_copy, question) -> None:
    from gradio_client import Client

    answer = Client(ui_server.url, verbose=False).predict(question, api_name="/ask")
    _assert_offsets_index_the_source(answer, seeds_copy)


@pytest.mark.parametrize("question", QUESTIONS)
def test_rest_api_ask_offsets_index_the_source(ui_server, seeds_copy, question) -> None:
    request = urllib.request.Request(
        ui_server.url + "api/ask", data=json.dumps({"question": question}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    _assert_offsets_index_the_source(answer, seeds_copy)
