"""What the learned ranker and refusal model see of each candidate sentence.

Every sentence of the top ``answer_pool`` chunks is a candidate. For each one this module
computes the hand-made score the answer used before the models were learned (``base``: cosine
to the sentence, to the sentence in context, BM25 on words and trigrams, shared word pairs, a
bonus for the asked answer type; weights in :class:`rag.config.Tuning`) and its parts, gaps to
the best candidate, whether the sentence holds the kind of answer asked for (a number, a date)
and whether its passage names what the question names, the retrieval rank of its chunk, and
lexical overlaps split by whether the question is in the language of the text it asks about
(``Retrieval.text_language``). Each sentence is stemmed, and the question analysed, in the
language of the sentence's document. The answer-type and name checks are features here, not
vetoes: the models weigh them (docs/answers.md).

No feature depends on the number of candidates: a pool-size feature lets a model learn how the
training negatives were made instead of what an answer looks like.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.answer.answer_type import ANY, AnswerType, can_answer
from rag.answer.coverage import COVERAGE_FEATURES, WordCoverage
from rag.answer.retrieve import Retrieval, withheld_by
from rag.config import Tuning
from rag.index.lexical import analyzer_for
from rag.index.lexical_parts import LexicalParts, QueryTerms
from rag.index.loaded import LoadedIndex
from rag.index.names import names_in_question
from rag.query.analysis import AnalysedQuestion, name_like_words
from rag.records import Hit, Sentence

# Sentences whose stemmed terms are kept between questions (bounds memory on large corpora).
TERM_CACHE_SIZE = 100_000

LEXICAL = ("words", "trigrams", "pairs", "qshare", "qshare_gap")
FEATURES: tuple[str, ...] = (
    "dense", "context", "dense_gap", "context_gap", "base_gap", "base_rank_inv", "is_base_top",
    "typed_fits", "typed_misses", "names_grounded", "names_ungrounded",
    "chunk_rank_inv", "chunk_fused_gap", "chunk_dense_gap", "same_para_top_hit",
    "first_in_para", "log_chars",
    *(f"{name}_same" for name in LEXICAL),
    *(f"{name}_cross" for name in LEXICAL),
    *COVERAGE_FEATURES,
)
COLUMN = {name: i for i, name in enumerate(FEATURES)}


@dataclass(frozen=True)
class QuestionFacts:
    """Question-level inputs of the refusal model (besides its best candidates' features)."""

    same_language: bool
    typed: bool  # the question asks for a count, a year or a date
    names_something: bool  # it names something specific in the text
    top_hit_dense: float
    max_hit_dense: float
    top_hit_bm25: float  # log(1 + BM25) of the top chunk
    max_hit_bm25: float
    # Share of the question's terms found anywhere in the searched text, and how many words it
    # writes as names (capitalised inside the question) that the text never contains: "Wer ist
    # der Chef von Toyota?" on a text without Toyota.
    corpus_coverage: float
    unknown_names: int
    question_words: int = 0  # content words and numbers (word coverage's denominator)


@dataclass(frozen=True)
class Candidates:
    """The candidate sentences of one question, in pool order, with one feature row each."""

    sentences: tuple[Sentence, ...]
    matrix: np.ndarray  # (len(sentences), len(FEATURES)) float32
    base: np.ndarray  # the hand-made score, used to re-order the passages
    facts: QuestionFacts

    def __len__(self) -> int:
        return len(self.sentences)


class FeatureExtractor:
    """Candidate features for a retrieval. Example::

        candidates = FeatureExtractor(index, Tuning()).candidates(retrieval, "Wer leitet Softbank?")
        candidates.matrix.shape   # (n, len(FEATURES))
    """

    def __init__(self, index: LoadedIndex, tuning: Tuning) -> None:
        self.index = index
        self.tuning = tuning
        self.titles = {d.doc_id: d.title for d in index.documents}
        self.coverage = WordCoverage(index)
        self._term_cache: dict[int, list[str]] = {}
        self._title_name_cache: dict[str, set[str]] = {}

    # --- terms and names --------------------------------------------------------------------

    def _terms(self, sentence_id: int) -> list[str]:
        """Stemmed terms of a sentence (in its document's language), computed once per loaded
        index (sentences never change)."""
        terms = self._term_cache.get(sentence_id)
        if terms is None:
            if len(self._term_cache) >= TERM_CACHE_SIZE:
                self._term_cache.clear()
            sentence = self.index.sentences[sentence_id]
            analyzer = self.index.sentence_lexical.analyzer(self._language(sentence))
            terms = self._term_cache[sentence_id] = analyzer.terms(sentence.text)
        return terms

    def _terms_of(self, sentence: Sentence | None) -> list[str]:
        """Terms of ``sentence`` ([] for None: no sentence before a paragraph's first)."""
        return self._terms(sentence.sentence_id) if sentence is not None else []

    def _language(self, sentence: Sentence) -> str:
        language = self.index.document_language.get(sentence.doc_id)
        return language if language is not None else self.index.language

    def expected(self, retrieval: Retrieval, question: AnalysedQuestion) -> AnswerType:
        """The answer type, with the counted noun stemmed in the text's language (it is only
        checked within one language: "Mitarbeiter" vs "staff")."""
        expected = question.answer_type
        noun = question.counted_noun
        if not retrieval.same_language or expected.money or noun is None:
            return replace(expected, counted=None)
        from rag.answer.answer_type import counted_stem

        analyzer = self.index.sentence_lexical.analyzer(retrieval.text_language)
        return replace(expected, counted=counted_stem(noun, analyzer))

    def name_counts(self, excluded: frozenset[str] = frozenset()) -> Counter[str]:
        """In how many sentences each name occurs, without the ``excluded`` passages' sentences
        (a name only a withheld passage holds is not a name of the searched text)."""
        if not excluded:
            return self.index.name_counts
        withheld = withheld_by(excluded)
        counts = Counter(self.index.name_counts)
        for sentence, names in zip(self.index.sentences, self.index.sentence_names, strict=True):
            if withheld(sentence.doc_id, sentence.paragraph):
                counts.subtract(names)
        return +counts

    def specific_names(self, question: str, counts: Counter[str]) -> tuple[str, ...]:
        """The text's names that the question mentions and only a few sentences do."""
        limit = max(2.0, self.tuning.specific_name_share * len(self.index.sentences))
        return tuple(
            name
            for name in names_in_question(question, counts)
            if counts[name] <= limit
            and len(name) > self.tuning.min_name_chars
            and name not in self.index.place_names
        )

    def _names_in_scope(self, sentence: Sentence) -> set[str]:
        """Names of the sentence's paragraph up to it and of the paragraphs before.

        Who "er" or "sie" is can be two sentences or a paragraph back ("Er nennt
        Verlässlichkeit ..." follows a paragraph naming Dengel).
        """
        names = self.index.sentence_names
        scope: set[str] = set()
        paragraphs = set()
        i = sentence.sentence_id
        while i >= 0 and names:
            other = self.index.sentences[i]
            if other.doc_id != sentence.doc_id:
                break
            paragraphs.add(other.paragraph)
            if len(paragraphs) > 1 + self.tuning.scope_paragraphs_back:
                break
            scope.update(names[i])
            i -= 1
        return scope

    def _title_names(self, doc_id: str) -> set[str]:
        """A document's title names its topic for every sentence ("Super_Bowl_50")."""
        names = self._title_name_cache.get(doc_id)
        if names is None:
            title = self.titles.get(doc_id, "").replace("_", " ")
            names = self._title_name_cache[doc_id] = set(names_in_question(title, self.index.name_counts))
        return names

    def _grounded(self, sentence: Sentence, specific: tuple[str, ...]) -> bool:
        """Whether the passage up to the sentence names what the question asks about."""
        if not specific:
            return True
        scope = self._names_in_scope(sentence) | self._title_names(sentence.doc_id)
        return any(name in scope for name in specific)

    # --- the features ---------------------------------------------------------------------------

    def candidates(self, retrieval: Retrieval, analysed: AnalysedQuestion) -> Candidates | None:
        """The features of every sentence of the top chunks; None when nothing was retrieved."""
        question = analysed.text
        hits = retrieval.hits[: self.tuning.answer_pool]
        if not hits:
            return None
        best_hit, ids, sentences = self._pool(hits)
        same = retrieval.same_language
        dense = self.index.sentence_vectors[ids] @ retrieval.query_vector
        context = self.index.context_vectors[ids] @ retrieval.query_vector
        words = _normalised(self.index.sentence_lexical, retrieval.terms, ids)
        grams = _normalised(
            self.index.sentence_trigrams, self.index.sentence_trigrams.query_terms(question), ids
        )
        expected = self.expected(retrieval, analysed)
        typed = expected.kind != ANY
        # Names are a feature in every language; only names of the searched text count.
        specific = self.specific_names(question, self.name_counts(retrieval.excluded))
        rows = self._sentence_rows(retrieval, sentences, expected, specific)
        pairs, qshare, fits, grounded, first, chars = rows
        word_weight, gram_weight, pair_weight = (
            self.tuning.same_language_weights if same else self.tuning.cross_language_weights
        )
        base = (
            dense
            + self.tuning.context_weight * context
            + word_weight * words
            + gram_weight * grams
            + pair_weight * pairs
            + (self.tuning.type_bonus * fits if typed else 0.0)
        )
        hit_of = np.array([best_hit[int(i)] for i in ids])
        names_something = 1.0 if specific else 0.0
        columns = [
            dense, context, dense - dense.max(), context - context.max(), base - base.max(),
            *_rank_columns(base),
            fits * typed, (1 - fits) * typed, grounded * names_something, (1 - grounded) * names_something,
            *_hit_columns(hits, hit_of, sentences), first, chars,
        ]
        lexical = np.stack([words, grams, pairs, qshare, qshare - qshare.max()], 1)
        covered = self.coverage.rows(analysed, retrieval.word_vectors, sentences)
        matrix = np.concatenate(
            [np.stack(columns, 1), lexical * float(same), lexical * float(not same), covered], 1
        ).astype(np.float32)
        facts = self._facts(retrieval, analysed, hits, typed, bool(specific))
        return Candidates(sentences, matrix, base.astype(np.float32), facts)

    def _pool(self, hits: Sequence[Hit]) -> tuple[dict[int, int], np.ndarray, tuple[Sentence, ...]]:
        """The sentences of the top chunks, each once: by sentence id the best hit holding it,
        the ids in that order, and the sentences."""
        best_hit: dict[int, int] = {}
        for h, hit in enumerate(hits):
            for sid in hit.chunk.sentence_ids:
                best_hit.setdefault(sid, h)
        ids = np.fromiter(best_hit, dtype=np.int64, count=len(best_hit))
        return best_hit, ids, tuple(self.index.sentences[int(i)] for i in ids)

    def _sentence_rows(
        self, retrieval: Retrieval, sentences: Sequence[Sentence], expected: AnswerType,
        specific: tuple[str, ...],
    ) -> np.ndarray:
        """Per candidate: shared word pairs, share of question terms, fits the answer type,
        grounded in the question's names, first of its paragraph, log chars (six rows)."""
        question_pairs = {lang: _word_pairs(t) for lang, t in retrieval.terms.items()}
        question_terms = {lang: set(t) for lang, t in retrieval.terms.items()}
        typed = expected.kind != ANY
        rows = []
        before = self.index.previous_sentences(sentences)  # the sentence before, in its paragraph
        for sentence, previous in zip(sentences, before, strict=True):
            lang = self._language(sentence)
            terms = self._terms(sentence.sentence_id)
            q_pairs, q_terms = question_pairs.get(lang, set()), question_terms.get(lang, set())
            rows.append((
                len(q_pairs & _word_pairs(terms)) / len(q_pairs) if q_pairs else 0.0,
                len(q_terms.intersection(terms)) / len(q_terms) if q_terms else 0.0,
                not typed or can_answer(sentence.text, expected, terms=self._terms_of(previous) + terms),
                self._grounded(sentence, specific),
                sentence.sentence == 1,
                math.log1p(len(sentence.text)),
            ))
        return np.array(rows, dtype=np.float32).reshape(len(sentences), 6).T

    def _facts(
        self, retrieval: Retrieval, analysed: AnalysedQuestion, hits: Sequence[Hit], typed: bool,
        names_something: bool,
    ) -> QuestionFacts:
        """What the support model reads of the question and the search as a whole."""
        coverage, unknown_names = self._coverage(retrieval, analysed.text)
        hit_dense = np.array([h.dense_score for h in hits], np.float32)
        return QuestionFacts(
            corpus_coverage=coverage,
            unknown_names=unknown_names,
            same_language=retrieval.same_language,
            typed=typed,
            names_something=names_something,
            top_hit_dense=float(hit_dense[0]),
            max_hit_dense=float(hit_dense.max()),
            top_hit_bm25=float(np.log1p(hits[0].lexical_score)),
            max_hit_bm25=float(np.log1p(max(h.lexical_score for h in hits))),
            question_words=len(analysed.words) + len(analysed.numbers),
        )

    def _in_text(self, language: str, term: str, excluded_chunks: frozenset[int]) -> bool:
        """Whether a searched chunk of the ``language`` part holds the (analysed) term."""
        return self.index.search.holds_term(language, term, excluded_chunks)

    def _coverage(self, retrieval: Retrieval, question: str) -> tuple[float, int]:
        """The question's coverage by, and its names unknown to, the text in the language of the
        document it asks about (that part as it would be in a corpus of its own)."""
        language = retrieval.text_language
        terms = list(dict.fromkeys(retrieval.terms.get(language, ())))
        excluded = retrieval.excluded_chunks
        found = sum(self._in_text(language, term, excluded) for term in terms)
        coverage = found / len(terms) if terms else 1.0
        analyzer = analyzer_for(language)
        unknown = 0
        for word in name_like_words(question):
            stems = analyzer.terms(word)
            if stems and not any(self._in_text(language, stem, excluded) for stem in stems):
                unknown += 1
        return coverage, unknown


def _rank_columns(base: np.ndarray) -> list[np.ndarray]:
    """1 / the rank of each candidate's base score, and whether it is the best."""
    n = len(base)
    order = np.argsort(-base, kind="stable")
    base_rank = np.empty(n, np.float32)
    base_rank[order] = np.arange(1, n + 1)
    return [1.0 / base_rank, (base_rank == 1).astype(np.float32)]


def _hit_columns(hits: Sequence[Hit], hit_of: np.ndarray, sentences: Sequence[Sentence]) -> list[np.ndarray]:
    """Where each candidate's chunk stood in the search: 1 / its rank, its fused score's gap to
    the first, its dense score's gap to the best, and whether it shares the top chunk's paragraph."""
    fused = np.array([h.score for h in hits], np.float32)
    hit_dense = np.array([h.dense_score for h in hits], np.float32)
    top = hits[0].chunk
    same_paragraph = np.array(
        [(s.doc_id, s.paragraph) == (top.doc_id, top.paragraph) for s in sentences], np.float32
    )
    return [1.0 / (hit_of + 1), fused[hit_of] - fused[0], hit_dense[hit_of] - hit_dense.max(), same_paragraph]


def _word_pairs(terms: Sequence[str]) -> set[tuple[str, str]]:
    return set(zip(terms, terms[1:], strict=False))


def _normalised(index: LexicalParts, terms: QueryTerms, ids: np.ndarray) -> np.ndarray:
    """BM25 of the candidate sentences divided by the best candidate's of the same language part
    (zeros if no match)."""
    if not index.knows_any(terms):
        return np.zeros(len(ids), dtype=np.float32)
    return index.normalised(index.scores(terms)[ids], ids)
