"""Train the answer model (ranker + support model) from question sets with known answers: ``rag train``.

For every question the pipeline retrieves as it would when answering and the candidates get
their features (``rag/answer/features.py``); a candidate is right when it stands in the gold
paragraph and holds the answer string. The ranker is a listwise linear model (softmax over each
question's candidates). The support model is a logistic regression whose positives are questions
whose first citation would be wrong or that the text cannot answer: near-miss copies of SQuAD
questions asked with their gold paragraph withheld, JSONL questions with ``answers: []``,
synthetic ones (``synthetic.py``), and answerable questions the ranker gets wrong. It reads
ranker scores that are out-of-fold (each question's from a ranker not trained on its article),
so it does not learn the in-sample ranker's over-confidence. Two thresholds per group (language
pair, ``refusal_group``), set on out-of-fold support scores (see :func:`train`).

Every training file weighs the same in total, however many questions it has: a small question
set written against the project's own article counts as much as one XQuAD language pair, so the
models also learn how real, paraphrased questions about a long news text look.

Deterministic (L-BFGS from zeros, fixed folds) and quick: the features of ~7,000 questions take
under a minute, the fit a few seconds. The result is plain JSON (no pickle) with its training
data (file names and SHA-256), settings and counts.
"""

from __future__ import annotations

import hashlib
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag import __version__
from rag.answer.answer_type import ANY
from rag.answer.features import FEATURES, Candidates
from rag.answer.model import FORMAT, REFUSAL_FEATURES, refusal_group, refusal_inputs
from rag.config import Settings
from rag.eval.evaluate import citation_hits
from rag.eval.nearmiss import withhold_gold
from rag.eval.questions import EvalQuestion, load_questions
from rag.eval.squad import article_of, corpus_fingerprint, load_squad_run
from rag.eval.synthetic import synthetic_unanswerable
from rag.index.encoders import Encoder
from rag.pipeline import Pipeline
from rag.query.analysis import name_like_words

FOLDS = 4


@dataclass(frozen=True)
class Example:
    """One question's candidates with their labels (all 0 when the text cannot answer)."""

    candidates: Candidates
    labels: np.ndarray
    answerable: bool
    group: str
    fold: int
    source: str


SYNTHETIC = "synthetic"
# A language pair gets thresholds of its own from this many answerable training questions on.
MIN_GROUP_EXAMPLES = 40


@dataclass(frozen=True)
class JsonlSource:
    """A JSONL question file asked over a seeds folder (``None``: the settings' own)."""

    questions: Path
    seeds: Path | None = None

    @property
    def name(self) -> str:
        return self.questions.name if self.seeds is None else f"{self.questions.name}={self.seeds.name}"

    def index_dir(self, settings: Settings) -> Path:
        """An index folder of its own for a corpus other than the settings' seeds."""
        digest = hashlib.sha256(str(self.seeds).encode()).hexdigest()[:10]
        return Path(settings.index_dir) / f"squad-jsonl-{settings.model.replace('/', '-')[:30]}-{digest}"


@dataclass(frozen=True)
class SquadSource:
    """A SQuAD file's paragraphs, with the questions of it or of a parallel file."""

    corpus: Path
    questions: Path | None = None

    @property
    def name(self) -> str:
        return f"{self.corpus.name}={(self.questions or self.corpus).name}"


def file_record(path: Path) -> dict[str, str]:
    """A training file as the model records it: its name and content hash, never its path."""
    return {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _examples_of(
    pipeline: Pipeline,
    questions: Sequence[EvalQuestion],
    fold_of: Callable[[EvalQuestion], int],
    source: str,
) -> list[Example]:
    examples = []
    for q in questions:
        language = pipeline.question_language(q.question)
        if pipeline.unreadable(language):
            continue
        analysed = pipeline.analyse(q.question, language)
        retrieval = pipeline.retriever.search(
            q.question, pipeline.settings.tuning.answer_pool, language, frozenset(q.withheld),
            words=pipeline.extractor.coverage.missing_words(analysed),
        )
        candidates = pipeline.extractor.candidates(retrieval, analysed)
        if candidates is None:
            continue
        labels = np.array(
            [q.answerable and citation_hits(q, s.doc_id, s.start, s.end, s.text)
             for s in candidates.sentences],
            dtype=np.int8,
        )
        group = refusal_group(
            retrieval.same_language, retrieval.text_language, language, typed=analysed.slot != ANY
        )
        # Every synthetic question of every corpus weighs together as one source.
        origin = SYNTHETIC if "/synthetic-" in q.qid else source
        examples.append(Example(candidates, labels, q.answerable, group, fold_of(q), origin))
    return examples


def absent_from(pipeline: Pipeline) -> Callable[[str], bool]:
    """Whether a word occurs nowhere in the pipeline's corpus (in no language part, as a stem)."""
    from rag.index.lexical import analyzer_for

    search = pipeline.index.search

    def absent(word: str) -> bool:
        for language in search.languages:
            stems = analyzer_for(language).terms(word)
            if stems and any(search.holds_term(language, stem) for stem in stems):
                return False
        return True

    return absent


def corpus_names(pipeline: Pipeline, limit: int = 40) -> list[tuple[str, str]]:
    """Names the corpus mentions in a few sentences (not places), as written, with a document
    that holds them: the subjects of attribute questions."""
    from rag.index.names import german_nouns

    index = pipeline.index
    counts = index.name_counts
    _, _, given, places = german_nouns()
    most = max(2.0, pipeline.settings.tuning.specific_name_share * len(index.sentences))
    chosen = sorted(
        (
            n for n, c in counts.items()
            if 2 <= c <= most and len(n) > 2 and n not in index.place_names | given | places
        ),
        key=lambda n: (-counts[n], n),
    )[:limit]
    found = []
    for name in chosen:
        pattern = re.compile(rf"\b{re.escape(name)}\b", re.IGNORECASE)
        for sentence in index.sentences:
            match = pattern.search(sentence.text)
            if match and match.group()[:1].isupper():
                found.append((match.group(), sentence.doc_id))
                break
    return found


def _name_pool(question_sets: Sequence[Sequence[EvalQuestion]]) -> list[str]:
    """Names written in the training questions of every source: what name swaps draw from."""
    texts = [q.question for questions in question_sets for q in questions]
    from rag.index.names import german_nouns

    common, _, _, _ = german_nouns()
    return sorted(
        {w for t in texts for w in name_like_words(t) if len(w) > 2 and w.casefold() not in common}
    )


def collect(
    settings: Settings,
    squad: Sequence[SquadSource] = (),
    jsonl: Sequence[JsonlSource | Path] = (),
    articles: frozenset[int] | None = None,
    encoder: Encoder | None = None,
    log: Callable[[str], None] = lambda message: print(message, file=sys.stderr, flush=True),
    synthetic_share: float = 0.3,
) -> list[Example]:
    """The training examples of every source, each through a real index of its corpus, with
    ``synthetic_share`` x its answerable questions of synthetic unanswerable ones (synthetic.py)."""
    examples: list[Example] = []
    sources = [j if isinstance(j, JsonlSource) else JsonlSource(Path(j)) for j in jsonl]
    # Every question file is read once: its questions feed the name pool and its examples.
    squad_runs = [load_squad_run(s.corpus, s.questions, settings, articles) for s in squad]
    jsonl_questions = [load_questions(item.questions) for item in sources]
    # Two files of one name (user/train.jsonl, user2/train.jsonl) are two sources: their folder
    # tells them apart.
    plain = [item.name for item in sources]
    label = [
        name if plain.count(name) == 1 else f"{item.questions.parent.name}/{name}"
        for item, name in zip(sources, plain, strict=True)
    ]
    question_sets = [run[1] for run in squad_runs] + jsonl_questions
    pool = _name_pool(question_sets) if synthetic_share > 0 else []

    def synthetic(pipeline: Pipeline, questions: Sequence[EvalQuestion], seed: str) -> list[EvalQuestion]:
        if synthetic_share <= 0:
            return []
        known = pipeline.index.name_counts
        made = synthetic_unanswerable(
            questions, absent_from(pipeline), pool, corpus_names(pipeline), synthetic_share, seed,
            is_name=lambda word: word.casefold() in known,
        )
        log(f"train: {seed}: {len(made)} synthetic questions the text cannot answer")
        return made

    for source, (documents, questions, index_dir) in zip(squad, squad_runs, strict=True):
        started = time.perf_counter()
        pipeline = Pipeline.open(
            settings.with_(index_dir=index_dir, per_model_index=False),
            on_status=log,
            encoder=encoder,
            progress=False,
            documents=documents,
            corpus_fingerprint=corpus_fingerprint(documents),
            load_answer_model=False,
        )
        encoder = pipeline.encoder
        copies = withhold_gold(questions, documents)
        # Folds by article, so out-of-fold ranker scores never come from the question's article.
        found = sorted({article_of(d.doc_id) for d in documents})
        fold = {a: i * FOLDS // len(found) for i, a in enumerate(found)}

        def fold_of(q: EvalQuestion, fold: dict[int, int] = fold) -> int:
            return fold[article_of(q.doc_id or q.withheld[0])]

        extra = synthetic(pipeline, questions, source.name)
        made = _examples_of(pipeline, [*questions, *copies, *extra], fold_of, source.name)
        examples += made
        log(f"train: {source.name}: {len(made)} examples in {time.perf_counter() - started:.0f} s")
    for item, questions, name in zip(sources, jsonl_questions, label, strict=True):
        own = settings if item.seeds is None else settings.with_(
            seeds_dir=item.seeds, index_dir=item.index_dir(settings), per_model_index=False
        )
        pipeline = Pipeline.open(own, on_status=log, encoder=encoder, progress=False, load_answer_model=False)
        encoder = pipeline.encoder
        # No near-miss copies here: on the article they taught the refusal model to refuse 4x
        # more of the set's own answerable questions (6.7% instead of 1.7%, in-sample).
        extra = synthetic(pipeline, questions, name)
        made = _examples_of(
            pipeline,
            [*questions, *extra],
            lambda q: int(hashlib.sha256(q.qid.split("/synthetic")[0].encode()).hexdigest(), 16) % FOLDS,
            name,
        )
        examples += made
        log(f"train: {name}: {len(made)} examples")
    return examples


# --- the two linear models ------------------------------------------------------------------------


def _standardise(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = matrix.std(0)
    return matrix.mean(0), np.where(scale > 1e-6, scale, 1.0)


def fit_ranker(
    matrix: np.ndarray, labels: np.ndarray, sizes: np.ndarray, l2: float, weights: np.ndarray | None = None
) -> dict[str, Any]:
    """Weights maximising the (weighted) summed log-probability of each question's right
    candidates under a softmax over its candidates (questions without one are left out)."""
    from scipy.optimize import minimize

    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    has_right = np.add.reduceat(labels.astype(np.float64), starts) > 0
    keep = np.repeat(has_right, sizes)
    question_weight = np.ones(len(sizes)) if weights is None else np.asarray(weights, np.float64)
    matrix, y, sizes = matrix[keep], labels[keep].astype(np.float64), sizes[has_right]
    question_weight = question_weight[has_right]
    mean, scale = _standardise(matrix)
    z = (matrix - mean) / scale
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    owner = np.repeat(np.arange(len(sizes)), sizes)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = z @ w
        top = np.maximum.reduceat(s, starts)
        e = np.exp(s - top[owner])
        total = np.add.reduceat(e, starts)
        right = np.add.reduceat(e * y, starts)
        value = -np.sum(question_weight * (np.log(right) - np.log(total))) + l2 * w @ w
        grad = z.T @ (question_weight[owner] * (e / total[owner] - e * y / right[owner])) + 2 * l2 * w
        return float(value), grad

    result = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return {"mean": mean.tolist(), "scale": scale.tolist(), "weights": result.x.tolist()}


def fit_logistic(
    matrix: np.ndarray, target: np.ndarray, l2: float, weights: np.ndarray | None = None
) -> dict[str, Any]:
    """Weighted logistic regression with an L2 penalty on the (standardised) weights, not the bias."""
    from scipy.optimize import minimize

    sample_weight = np.ones(len(matrix)) if weights is None else np.asarray(weights, np.float64)
    mean, scale = _standardise(matrix)
    z = np.hstack([(matrix - mean) / scale, np.ones((len(matrix), 1))])
    penalty = np.ones(z.shape[1])
    penalty[-1] = 0.0

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = z @ w
        value = np.sum(sample_weight * (np.logaddexp(0, s) - target * s)) + l2 * np.sum(penalty * w * w)
        p = 1 / (1 + np.exp(-s))
        return float(value), z.T @ (sample_weight * (p - target)) + 2 * l2 * penalty * w

    result = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 1000})
    return {
        "mean": mean.tolist(), "scale": scale.tolist(),
        "weights": result.x[:-1].tolist(), "bias": float(result.x[-1]),
    }


def _scores(model: dict[str, Any], matrix: np.ndarray) -> np.ndarray:
    weights = np.asarray(model["weights"]) / np.asarray(model["scale"])
    return matrix @ weights - float(np.asarray(model["mean"]) @ weights) + float(model.get("bias", 0.0))


def _ranker_data(examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    matrix = np.concatenate([e.candidates.matrix for e in examples]).astype(np.float64)
    labels = np.concatenate([e.labels for e in examples])
    sizes = np.array([len(e.candidates) for e in examples])
    return matrix, labels, sizes


def source_weights(examples: Sequence[Example]) -> np.ndarray:
    """One weight per example so that every source (training file) weighs the same in total
    (the synthetic questions of every file together count as one source)."""
    sizes: dict[str, int] = {}
    for e in examples:
        sizes[e.source] = sizes.get(e.source, 0) + 1
    share = len(examples) / len(sizes)
    return np.array([share / sizes[e.source] for e in examples])


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][min(np.searchsorted(cumulative, q * cumulative[-1]), len(values) - 1)])


def pooled_groups(examples: Sequence[Example]) -> dict[str, str]:
    """Each group's threshold key. A language pair splits into its typed and open questions
    (``en-de:typed``, ``en-de:any``) when each part has ``MIN_GROUP_EXAMPLES`` answerable
    questions; else it is one group (``en-de``); a pair with fewer than that in all becomes
    ``cross-<text language>`` (a few French questions set no threshold of their own)."""
    answerable: Counter[str] = Counter()
    for e in examples:
        answerable[e.group] += e.answerable
    per_pair: Counter[str] = Counter()
    for group, count in answerable.items():
        per_pair[group.partition(":")[0]] += count

    def key(group: str) -> str:
        pair = group.partition(":")[0]
        if per_pair[pair] < MIN_GROUP_EXAMPLES and not pair.startswith(("same-", "cross-")):
            return "cross-" + pair.rpartition("-")[2]
        if all(answerable[f"{pair}:{part}"] >= MIN_GROUP_EXAMPLES for part in ("typed", "any")):
            return group
        return pair

    return {group: key(group) for group in answerable}


def high_threshold(logits: np.ndarray, wrong: np.ndarray, weights: np.ndarray, precision: float) -> float:
    """The highest threshold at which the answers at or below it are right at least
    ``precision`` of the time (weighted); below the lowest logit when none is."""
    order = np.argsort(logits, kind="stable")
    right = np.cumsum(weights[order] * (1 - wrong[order]))
    total = np.cumsum(weights[order])
    ok = np.flatnonzero(right >= precision * total)
    if not len(ok):
        return float(logits.min()) - 1.0
    return float(logits[order][ok[-1]])


def train(
    examples: Sequence[Example],
    l2: float = 1.0,
    false_refusal_rate: float = 0.04,
    high_precision: float = 0.9,
) -> dict[str, Any]:
    """The answer model's JSON content (without the ``training`` record).

    The support model learns "the first citation would be wrong or the text cannot answer"
    from out-of-fold ranker scores: an answerable question whose best-ranked sentence is not
    the answer is as much a reason for doubt as one the text cannot answer, and only this
    target lets the model use word coverage (a neighbouring sentence of the right paragraph
    covers the question as well as the answer does). Per group, the "none" threshold refuses
    ``false_refusal_rate`` of the answerable questions; the "high" one is the highest at which
    ``high_precision`` of the answers at or below it were right.
    """
    if not any(e.answerable for e in examples) or all(e.answerable for e in examples):
        raise ValueError("training needs answerable questions and questions the text cannot answer")
    weight = source_weights(examples)
    answerable = [i for i, e in enumerate(examples) if e.answerable]

    def ranker_on(indices: list[int]) -> dict[str, Any]:
        return fit_ranker(*_ranker_data([examples[i] for i in indices]), l2, weight[indices])

    ranker = ranker_on(answerable)
    # Out-of-fold ranker scores for the support model's inputs and target.
    scores: list[np.ndarray] = [np.zeros(0)] * len(examples)
    for fold in range(FOLDS):
        trained_on = [i for i in answerable if examples[i].fold != fold]
        model = ranker_on(trained_on) if trained_on else ranker
        for i, e in enumerate(examples):
            if e.fold == fold:
                scores[i] = _scores(model, e.candidates.matrix.astype(np.float64))
    rows = np.stack([refusal_inputs(e.candidates, s) for e, s in zip(examples, scores, strict=True)])
    wrong = np.array(
        [not e.answerable or not e.labels[int(np.argmax(s))] for e, s in zip(examples, scores, strict=True)],
        dtype=np.float64,
    )
    refusal = fit_logistic(rows, wrong, l2, weight)
    # The thresholds are set on out-of-fold logits: in-sample ones are over-confident, and a
    # threshold chosen on them let through more wrong answers on questions it never saw.
    folds = np.array([e.fold for e in examples])
    logits = np.zeros(len(examples))
    for fold in range(FOLDS):
        held = folds == fold
        trained_on = ~held
        if trained_on.any():
            fitted = fit_logistic(rows[trained_on], wrong[trained_on], l2, weight[trained_on])
        else:
            fitted = refusal
        logits[held] = _scores(fitted, rows[held])
    pooled = pooled_groups(examples)
    groups = np.array([pooled[e.group] for e in examples])
    answerable_mask = np.array([e.answerable for e in examples])
    none: dict[str, float] = {}
    high: dict[str, float] = {}
    for g in sorted(set(groups[answerable_mask])):
        chosen = (groups == g) & answerable_mask
        none[str(g)] = weighted_quantile(logits[chosen], weight[chosen], 1 - false_refusal_rate)
        in_group = groups == g
        high[str(g)] = min(
            none[str(g)], high_threshold(logits[in_group], wrong[in_group], weight[in_group], high_precision)
        )
    return {
        "format": FORMAT,
        "ranker": {"features": list(FEATURES), **ranker},
        "refusal": {"features": list(REFUSAL_FEATURES), **refusal},
        "thresholds": {"none": none, "high": high},
    }


def training_record(
    examples: Sequence[Example],
    settings: Settings,
    files: list[dict[str, str]],
    articles: frozenset[int] | None,
    l2: float,
    false_refusal_rate: float,
    high_precision: float = 0.9,
) -> dict[str, Any]:
    """What the model file says about how it was made."""
    from dataclasses import asdict

    counts: dict[str, dict[str, int]] = {}
    for e in examples:
        c = counts.setdefault(e.source, {"answerable": 0, "cannot_answer": 0})
        c["answerable" if e.answerable else "cannot_answer"] += 1
    return {
        "version": time.strftime("%Y%m%d-%H%M%S"),
        "rag_version": __version__,
        "files": files,
        "articles": sorted(articles) if articles is not None else "all",
        "examples": counts,
        "l2": l2,
        "false_refusal_rate": false_refusal_rate,
        "high_precision": high_precision,
        "folds": FOLDS,
        "model": settings.model,
        "tuning": asdict(settings.tuning),
        "index_tuning": asdict(settings.index_tuning),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


__all__ = ["Example", "JsonlSource", "SquadSource", "collect", "file_record", "fit_logistic", "fit_ranker",
           "train", "training_record"]
