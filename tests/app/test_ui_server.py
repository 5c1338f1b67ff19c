"""The real chat server (`python ui.py`) in a subprocess, asked through its `/ask` API with
gradio_client, the way the README shows."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

ANSWER_KEYS = {"question", "answer", "language", "abstained", "citations", "hits", "timings_ms"}
CITATION_KEYS = {"marker", "text", "doc_id", "heading", "paragraph", "sentence", "start", "end", "score"}


@pytest.fixture(scope="module")
def client(ui_server):
    from gradio_client import Client

    return Client(ui_server.url, verbose=False)


def _cited(result: dict) -> list[str]:
    return [c["text"] for c in result["citations"]]


def _check_shape(result: dict) -> None:
    assert ANSWER_KEYS <= set(result)
    assert result["hits"], "an answer always lists the passages it searched"
    for citation in result["citations"]:
        assert CITATION_KEYS <= set(citation)
        assert f"[{citation['marker']}]" in result["answer"]


def test_start_up_built_the_index_and_said_so(ui_server) -> None:
    log = ui_server.log()
    assert "Building the index" in log and "Index built" in log


def test_only_ask_and_the_document_endpoints_are_public(client) -> None:
    """The page's own events (chat turns, conversations, feedback) are private; scripts get
    /ask and the same document changes the page offers (tests/app/test_documents_server.py)."""
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/ask", "/add_documents", "/remove_document"}


@pytest.mark.parametrize(
    "question, language, cited",
    [
        ("Wer leitet den Technologieinvestor Softbank?", "de", "Masayoshi Son"),
        ("When did Open AI open its first foreign office?", "en", "Auslandsbüro in Tokio"),
    ],
    ids=["German question", "English question"],
)
def test_question_is_answered_in_its_language(client, question, language, cited) -> None:
    result = client.predict(question, api_name="/ask")
    _check_shape(result)
    assert result["abstained"] is False
    assert result["language"] == language
    assert any(cited in text for text in _cited(result))


@pytest.mark.parametrize("question", ["What is the capital of France?", "Wie hoch ist der Mount Everest?"])
def test_off_topic_question_is_never_answered_as_if_the_text_said_it(client, question: str) -> None:
    """Refused, or at most the closest passage shown as what it is (one quote under the "may
    not answer" lead), never a confident quote: the support model decides which of the two."""
    result = client.predict(question, api_name="/ask")
    assert result["confidence"] in ("none", "low")
    if result["abstained"]:
        assert result["citations"] == [] and "[1]" not in result["answer"]
    else:
        assert len(result["citations"]) == 1
        assert result["answer"].startswith(("Der Text sagt das nicht direkt", "The text may not answer"))


def test_follow_up_question_uses_the_history(client) -> None:
    first = "Wo hat Open AI sein erstes Auslandsbüro eröffnet?"
    alone = client.predict("Und wann war das?", api_name="/ask")
    result = client.predict("Und wann war das?", [first], api_name="/ask")
    _check_shape(result)
    assert any("Im vergangenen Jahr" in text for text in _cited(result))
    assert "Auslandsbüro" in result["retrieval_query"]
    assert "retrieval_query" not in alone  # without history the question is searched as typed


def test_empty_question_is_a_clear_error(client) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="empty"):
        client.predict("   ", api_name="/ask")


def test_markup_in_the_question_comes_back_as_plain_text(client) -> None:
    question = "<b>Wer</b> leitet **Softbank**?"
    result = client.predict(question, api_name="/ask")
    assert result["question"] == question


def test_same_json_as_the_command_line(client, ui_server) -> None:
    """`/ask` returns what `rag ask --json` prints (timings aside), on the same index."""
    question = "Welche vier Faktoren sprechen für Japan?"
    expected = ui_server.cli_answer(question)
    result = client.predict(question, api_name="/ask")
    expected.pop("timings_ms")
    result.pop("timings_ms")
    assert result == expected


def test_why_follow_up_through_the_api_gives_a_reason_not_the_same_answer(client) -> None:
    first = "Wie gross ist das Marktpotenzial der Digitalisierung in Japan im Vergleich zu Deutschland?"
    before = client.predict(first, api_name="/ask")
    result = client.predict("Und warum?", [first], api_name="/ask")
    assert _cited(result) != _cited(before)
    # The sentence after the market figure gives the reason; "the text gives no reason" (a
    # refusal) fails, as does any other sentence.
    assert result["abstained"] is False, result["answer"]
    assert _cited(result) == ["Er sagt: Auch deshalb kämen so viele KI-Grössen aus den USA nach Japan."]
    assert result["answer"].startswith("Als Grund nennt der Text:")


def test_overview_question_through_the_api(client) -> None:
    result = client.predict("What is this article about?", api_name="/ask")
    assert result["abstained"] is False
    assert "Japans Aufholjagd bei der künstlichen Intelligenz" in _cited(result)
