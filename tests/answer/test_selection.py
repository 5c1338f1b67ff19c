"""Which sentences are cited, and when the answer is refused (fake encoder, the shipped answer
model): written against the mutants that survived `make mutants` on rag/answer/selection.py."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
from conftest import SEEDS, FakeEncoder

from rag.answer.selection import rerank_hits
from rag.config import Settings
from rag.pipeline import Pipeline

ARTICLE = SEEDS / "japan-ki-aufholjagd.txt"
QUESTIONS = [
    "Wer leitet den Technologieinvestor Softbank?",
    "Wie hoch ist das Bußgeld für Wiederholungstäter?",
    "Wo hat Open AI sein erstes Auslandsbüro eröffnet?",
    "Who is Yuko Harayama?",
]


def model_file(folder, none: dict[str, float], high: dict[str, float] | None = None):  # noqa: ANN001, ANN201
    """The shipped ranker and support model with the given thresholds, written to ``folder``."""
    from rag.answer.model import DEFAULT_MODEL_FILE

    data = json.loads(DEFAULT_MODEL_FILE.read_text("utf-8"))
    data["thresholds"] = {"none": none, "high": high if high is not None else dict(none)}
    path = folder / "model.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Pipeline:
    """The article over the fake encoder, whose vectors the support model was not trained on:
    every group's thresholds are open (never refused, always confident), so these tests see
    the ranker's choice; tests of the thresholds set their own."""
    work = tmp_path_factory.mktemp("selection")
    (work / "seeds").mkdir()
    shutil.copy(ARTICLE, work / "seeds" / ARTICLE.name)
    open_all = dict.fromkeys(("same-de", "en-de", "cross-de", "same-en"), 1e9)
    settings = Settings(
        seeds_dir=work / "seeds", index_dir=work / "index", answer_model=model_file(work, open_all)
    )
    return Pipeline.open(settings, encoder=FakeEncoder(), progress=False, on_status=lambda m: None)


def _with(pipeline: Pipeline, **tuning) -> Pipeline:
    settings = replace(pipeline.settings, tuning=pipeline.settings.tuning.with_(**tuning))
    return Pipeline(pipeline.index, pipeline.encoder, settings)


def _select(pipeline: Pipeline, question: str):
    """What ``Pipeline.ask`` selects for ``question`` (same language, words and pool)."""
    analysed = pipeline.analyse(question)
    retrieval = pipeline.retriever.search(
        question, pipeline.settings.tuning.answer_pool, analysed.language,
        words=pipeline.extractor.coverage.missing_words(analysed),
    )
    return pipeline.selector.select(retrieval, analysed)


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_best_scored_sentences_are_cited_best_first(pipeline, question) -> None:
    tuning = pipeline.settings.tuning
    selection = _select(pipeline, question)
    # A refusal would leave nothing to check: it fails (pick a question the shipped model answers
    # with the fake encoder), it never skips.
    assert not selection.abstained, f"refused with the fake encoder: {question}"
    scores = selection.scores
    order = np.argsort(-scores, kind="stable")
    best = float(scores[order[0]])
    cited = [c.sentence.sentence_id for c in selection.citations]
    ids = [selection.candidates.sentences[int(i)].sentence_id for i in order]
    # The best candidate first, then each next one while its share is high enough.
    expected = [ids[0]]
    for i in order[1:]:
        if len(expected) >= tuning.max_citations or np.exp(scores[i] - best) < tuning.extra_citation_share:
            break
        expected.append(selection.candidates.sentences[int(i)].sentence_id)
    assert cited == expected
    cited_scores = [c.score for c in selection.citations]
    assert cited_scores == sorted(cited_scores, reverse=True)
    assert selection.citations[0].score == pytest.approx(best)


def test_max_citations_and_the_share_limit_the_citations(pipeline) -> None:
    question = QUESTIONS[0]
    every = _with(pipeline, extra_citation_share=1e-12, max_citations=3)
    assert len(_select(every, question).citations) == 3  # any share counts: up to the maximum
    one = _with(pipeline, extra_citation_share=1e-12, max_citations=1)
    assert len(_select(one, question).citations) == 1
    two = _with(pipeline, extra_citation_share=1e-12, max_citations=2)
    selection = _select(two, question)
    order = np.argsort(-selection.scores, kind="stable")
    second = selection.candidates.sentences[int(order[1])].sentence_id
    assert [c.marker for c in selection.citations] == [1, 2]
    assert selection.citations[1].sentence.sentence_id == second  # the runner-up, not the third


def test_citations_carry_the_document_title(pipeline) -> None:
    answer = pipeline.ask(QUESTIONS[0])
    assert answer.citations
    title = "Japans Aufholjagd bei der künstlichen Intelligenz"
    assert {c.doc_title for c in answer.citations} == {title}
    assert answer.to_dict()["citations"][0]["doc_title"] == title


def test_nothing_retrieved_is_a_refusal(pipeline) -> None:
    answer = pipeline.ask(QUESTIONS[0], withhold=frozenset({"japan-ki-aufholjagd"}))
    assert answer.abstained and answer.citations == () and answer.hits == ()


def test_a_question_in_another_language_is_held_against_the_cross_language_threshold(
    pipeline, tmp_path
) -> None:
    path = model_file(tmp_path, {"same-de": -1e9, "en-de": 1e9})  # refuse German, answer English
    split = Pipeline(pipeline.index, pipeline.encoder, replace(pipeline.settings, answer_model=path))
    german = split.ask("Wer leitet den Technologieinvestor Softbank?")
    english = split.ask("Who is the head of Softbank?")
    assert german.abstained and german.refusal_threshold == -1e9
    assert not english.abstained and english.refusal_threshold == 1e9


def test_a_passage_outside_the_answer_pool_is_ranked_by_the_pools_weakest_sentence(pipeline) -> None:
    """With more hits shown than ``answer_pool`` (``--top-k 20``), the passages below the pool have
    no scored sentence; each gets the pool's lowest sentence score as its bonus, not a free one."""
    tuning = pipeline.settings.tuning
    question = QUESTIONS[0]
    shown = 2 * tuning.answer_pool
    wide = Pipeline(pipeline.index, pipeline.encoder, replace(pipeline.settings, top_k=shown))
    answer = wide.ask(question)
    retrieval = pipeline.retriever.search(question, shown, "de")
    candidates = pipeline.selector.select(retrieval, pipeline.analyse(question)).candidates
    pooled = {s.sentence_id for s in candidates.sentences}
    fused = {h.chunk.chunk_id: h.score for h in retrieval.hits}
    floor = float(candidates.base.min())
    outside = [h for h in answer.hits if not pooled & set(h.chunk.sentence_ids)]
    assert len(answer.hits) == shown and outside  # the case is there
    for hit in outside:
        assert hit.score == pytest.approx(fused[hit.chunk.chunk_id] + tuning.rerank_weight * floor)
    assert [h.rank for h in answer.hits] == list(range(1, shown + 1))
    assert [h.score for h in answer.hits] == sorted((h.score for h in answer.hits), reverse=True)
    # Nothing pooled (no candidates): the bonus is 0, the fused order and scores stay.
    bare = rerank_hits(retrieval.hits, None, tuning.rerank_weight)
    pairs = [(h.chunk.chunk_id, h.score) for h in retrieval.hits]
    assert [(h.chunk.chunk_id, h.score) for h in bare] == pairs


def test_the_threshold_is_the_one_of_the_indexed_language(pipeline, tmp_path) -> None:
    """Of several languages' thresholds, a German question over the German index takes
    ``same-de`` -- not the first, nor the strictest of its kind."""
    path = model_file(tmp_path, {"same-aa": -1e9, "same-de": 1e9, "cross-aa": -1e9, "cross-de": 1e9})
    split = Pipeline(pipeline.index, pipeline.encoder, replace(pipeline.settings, answer_model=path))
    answer = split.ask(QUESTIONS[0])
    assert not answer.abstained and answer.refusal_threshold == 1e9


def test_the_answer_text_is_the_lead_of_the_questions_language_then_each_quote_with_its_marker() -> None:
    from rag.answer.compose import compose_text
    from rag.records import Citation, Sentence

    one = Sentence(0, "d", 1, 1, "Son leitet Softbank.", 0, 20)
    two = Sentence(1, "d", 1, 2, "Er investiert in KI.", 21, 41)
    cited = (Citation(1, one, 2.0), Citation(2, two, 1.0))
    german = compose_text(cited, "de", "de")
    assert german == "Laut dem Text: Son leitet Softbank. [1] Er investiert in KI. [2]"
    assert compose_text(cited, "en", "en").startswith("According to the text: Son leitet")
    assert compose_text(cited, "en", "de").startswith(
        "According to the text (quoted in the original language): Son leitet")
    assert compose_text((), "en", "de") == compose_text((), "en", "en") != ""  # the refusal


def test_a_runner_up_exactly_at_the_share_is_cited_and_every_answer_reports_its_refusal_score(
    pipeline, tmp_path
) -> None:
    """The share is a floor (a runner-up exactly at it is cited); answered and refused answers
    alike carry the refusal model's score and the threshold it was held against."""

    question = QUESTIONS[0]
    free = _select(_with(pipeline, extra_citation_share=1e-12, max_citations=3), question)
    order = np.argsort(-free.scores, kind="stable")
    runner_up_share = float(np.exp(free.scores - free.scores[order[0]])[order[1]])
    at_share = _select(_with(pipeline, extra_citation_share=runner_up_share, max_citations=3), question)
    assert len(at_share.citations) >= 2
    above = _select(_with(pipeline, extra_citation_share=min(1.0, runner_up_share * 1.0001), max_citations=3),
                    question)
    assert len(above.citations) == 1

    answered = pipeline.ask(question)
    assert not answered.abstained and answered.refusal_score is not None
    assert answered.refusal_score <= answered.refusal_threshold
    path = model_file(tmp_path, dict.fromkeys(("same-de", "en-de", "cross-de", "same-en"), -1e9))
    strict = Pipeline(pipeline.index, pipeline.encoder, replace(pipeline.settings, answer_model=path))
    refused = strict.ask(question)
    assert refused.abstained and refused.refusal_score == pytest.approx(answered.refusal_score)
    assert refused.to_dict()["refusal"] == {
        "score": round(refused.refusal_score, 4), "threshold": -1e9, "high_threshold": -1e9
    }


def _with_thresholds(pipeline: Pipeline, none: float, high: float) -> Pipeline:
    """The pipeline with every group's two thresholds set (the ranker and support model kept)."""
    from rag.answer.selection import AnswerSelector

    model = pipeline.selector.model
    groups = set(model.thresholds)
    changed = replace(
        model, thresholds=dict.fromkeys(groups, none), high_thresholds=dict.fromkeys(groups, high)
    )
    other = Pipeline(pipeline.index, pipeline.encoder, pipeline.settings)
    other.selector = AnswerSelector(other.extractor, changed, pipeline.settings.tuning)
    return other


def test_the_support_score_against_two_thresholds_gives_three_levels(pipeline) -> None:
    question = QUESTIONS[0]
    score = pipeline.ask(question).refusal_score
    assert score is not None
    levels = {}
    for name, (none, high) in {
        "high": (score + 2, score + 1),
        "low": (score + 1, score - 1),
        "none": (score - 1, score - 2),
    }.items():
        answer = _with_thresholds(pipeline, none, high).ask(question)
        levels[name] = answer
        assert answer.confidence == name
        assert answer.abstained == (name == "none")
        assert answer.to_dict()["confidence"] == name
        assert answer.to_dict()["refusal"]["high_threshold"] == pytest.approx(high, abs=1e-4)
    # A confident answer may cite several sentences, a low one only the closest, and says so.
    assert len(levels["low"].citations) == 1
    assert levels["low"].citations[0].sentence == levels["high"].citations[0].sentence
    assert levels["low"].text.startswith("Der Text sagt das nicht direkt. Am nächsten kommt:")
    assert levels["high"].text.startswith("Laut dem Text:")
    assert not levels["none"].citations and levels["none"].text == "Dazu sagt der Text nichts."
