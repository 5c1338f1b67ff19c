"""``Pipeline.ask_many``, the batch form of ``ask``: several questions prepared as ``ask`` prepares
them (``Pipeline.prepare``), the texts they search encoded in one call, then answered. The REST
API's worker answers through it, so it must give what ``ask`` gives, question for question."""

from __future__ import annotations

import asyncio
import shutil
import threading

import numpy as np
import pytest
from conftest import SEEDS, FakeEncoder

from rag.config import Settings
from rag.index.encoders import QuestionBatcher
from rag.pipeline import Pipeline, Request
from rag.query.clean import QuestionError

ARTICLE = SEEDS / "japan-ki-aufholjagd.txt"
MARKET = "Wie gross ist das Marktpotenzial der Digitalisierung in Japan im Vergleich zu Deutschland?"


class BatchingFake(FakeEncoder):
    """The fake encoder with the batch call the real one has; counts the texts of each call."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def encode_questions(self, texts) -> np.ndarray:  # noqa: ANN001
        self.batches.append(len(texts))
        return self.encode(texts)


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory):
    """The same index opened twice: plain (questions one by one) and with a QuestionBatcher."""
    work = tmp_path_factory.mktemp("ask-many")
    (work / "seeds").mkdir()
    shutil.copy(ARTICLE, work / "seeds")
    settings = Settings(seeds_dir=work / "seeds", index_dir=work / "index")
    plain = Pipeline.open(settings, encoder=FakeEncoder(), progress=False, on_status=lambda m: None)
    fake = BatchingFake()
    batched = Pipeline(plain.index, QuestionBatcher(fake), plain.settings)
    return plain, batched, fake


REQUESTS = [
    Request("Wer leitet den Technologieinvestor Softbank?"),
    Request("Und wann war das?", ["Wo hat Open AI sein erstes Auslandsbüro eröffnet?"]),
    Request("Und warum?", [MARKET]),  # the reason next to the previous answer
    Request("Worum geht es?"),  # the overview: no search
    Request(""),  # cannot be asked: its error, in its place
    Request("Who is Yuko Harayama?", [], ["japan-ki-aufholjagd"]),
    Request("Welche vier Faktoren sprechen für Japan?", "not a list"),  # a bad history: its error
]


def _json(answer) -> dict:  # noqa: ANN001
    return {k: v for k, v in answer.to_dict().items() if k != "timings_ms"}


def test_ask_many_answers_each_question_as_ask_does_with_one_encoder_batch(pipelines) -> None:
    plain, batched, fake = pipelines
    lock = threading.Lock()
    results = list(batched.ask_many(REQUESTS, lock))
    assert len(results) == len(REQUESTS) and not lock.locked()
    for request, result in zip(REQUESTS, results, strict=True):
        try:
            alone = plain.ask(request.question, request.history, documents=request.documents)
        except QuestionError as exc:
            assert isinstance(result, QuestionError) and str(result) == str(exc), request
            continue
        assert not isinstance(result, Exception), (request, result)
        assert _json(result) == _json(alone), request
    # Every searched text of the batch in the first call, one call: the priming.
    assert fake.batches and fake.batches[0] >= 4
    assert batched.encoder.batches == 1 and batched.encoder._primed == {}  # cleared afterwards


def test_ask_is_prepare_then_answer(pipelines) -> None:
    """The single ask takes the same two steps as the batch form, so the two cannot drift."""
    plain, _, _ = pipelines
    prepared = plain.prepare("Und wann war das?", ["Wo hat Open AI sein erstes Auslandsbüro eröffnet?"])
    assert prepared.texts and prepared.texts[0] == prepared.query != "Und wann war das?"
    assert _json(plain.answer(prepared)) == _json(
        plain.ask("Und wann war das?", ["Wo hat Open AI sein erstes Auslandsbüro eröffnet?"]))
    assert plain.prepare("Worum geht es?").answered is not None  # no search: nothing to encode
    assert plain.prepare("Worum geht es?").texts == []


def test_the_rest_api_worker_answers_through_ask_many(pipelines, monkeypatch) -> None:
    """The API prepares nothing of its own: its worker hands the waiting questions to ask_many."""
    from rag.app.api import PipelineWorker

    _, batched, _ = pipelines
    seen: list[int] = []
    real = Pipeline.ask_many

    def spy(self, requests, lock=None):  # noqa: ANN001, ANN202
        seen.append(len(requests))
        return real(self, requests, lock)

    monkeypatch.setattr(Pipeline, "ask_many", spy)
    worker = PipelineWorker(batched, threading.Lock())

    async def together() -> list:
        return await asyncio.gather(*(worker.ask(r.question, r.history) for r in REQUESTS[:3]))

    answers = asyncio.run(together())
    assert sum(seen) == 3 and [a["question"] for a in answers] == [r.question for r in REQUESTS[:3]]
