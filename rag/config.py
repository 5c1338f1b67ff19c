"""One Settings object, built by the CLI or UI and passed down explicitly (no globals).

Every number that was chosen by measurement sits here: what shapes answers in :class:`Tuning`,
what shapes the index and how it is searched and stored in :class:`IndexTuning`. An evaluation
report records exactly what it ran with (``config.tuning``, ``config.index_tuning``) and a
search over the answer numbers needs no code edit (``rag eval --tune answer_pool=12``).

This module imports nothing of ``rag`` (an import contract in pyproject.toml keeps it so): the
rest of the package reads its settings from here, never the other way round.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

RETRIEVERS = ("hybrid", "dense", "lexical")
# Where the chunks are searched (rag/search/): FAISS + numpy BM25 here, or Qdrant's engine (in
# this process, or the service at ``qdrant_url``).
BACKENDS = ("local", "qdrant")
# The sub-folder of a model's index folder that holds its Qdrant builds, so that switching the
# backend back and forth never rebuilds.
QDRANT_FOLDER = "backend-qdrant"
# A model's index sub-folder may not look like what rag/index/store.py keeps in the index folder
# (builds, leftovers of killed builds, the CURRENT pointer) or like a `rag eval` SQuAD folder.
_SAFE_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")
_RESERVED_PREFIXES = ("build-", "tmp-", "squad-", "current")


# The encoders by the names the manifest records (rag/index/encoders.py builds them); aliases map
# what a user types to those names.
DEFAULT_MODEL = "use-multilingual"
MINILM = "minilm"
ALIASES = {"use": DEFAULT_MODEL, "usem3": DEFAULT_MODEL, "all-minilm-l6-v2": MINILM}


def canonical_model_name(name: str) -> str:
    """Map user spellings to the name stored in the manifest."""
    key = name.strip()
    return ALIASES.get(key.lower(), key.lower() if key.lower() in (DEFAULT_MODEL, MINILM) else key)


def model_slug(model: str) -> str:
    """A folder name for ``model``: its canonical name when that is short, lower-case and safe
    (``minilm``); else a slug of its last path part plus a hash of the whole name
    (``/home/me/models/My Model`` -> ``my-model-3f2a9c1e``), so two models never share one."""
    name = canonical_model_name(model)
    if _SAFE_SLUG.fullmatch(name) and not name.startswith(_RESERVED_PREFIXES):
        return name
    tail = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    tail = re.sub(r"[^a-z0-9._-]+", "-", tail.lower()).strip("-._")[:30] or "model"
    if tail.startswith(_RESERVED_PREFIXES):
        tail = "model-" + tail
    return f"{tail}-{hashlib.sha256(name.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"


def model_index_dir(index_dir: Path, model: str) -> Path:
    """The live index folder of ``model`` under the index folder ``index_dir``: ``index_dir``
    itself for the default model (as it always was), ``index_dir/<model_slug>`` for any other,
    so switching models back and forth never rebuilds."""
    if canonical_model_name(model) == DEFAULT_MODEL:
        return Path(index_dir)
    return Path(index_dir) / model_slug(model)


@dataclass(frozen=True)
class Tuning:
    """The measured weights and limits of retrieval and of the candidates' features.

    Retrieval weights and the hand-made sentence score (a feature of the learned ranker) were
    chosen by grid search on ``seeds/eval/article.jsonl`` and XQuAD, in round steps; the
    ranker and the refusal model themselves are learned (``rag train``, docs/answers.md) and
    were trained with these values, so a change here calls for ``rag train`` again.
    """

    # Retrieval: candidates per side before fusion; BM25's weight beside the dense side for a
    # question in the text's language / in another one (rag/answer/retrieve.py).
    candidates: int = 50
    lexical_weight: float = 0.6
    cross_lingual_weight: float = 0.3
    # Sentences of this many top chunks compete for the citations.
    answer_pool: int = 10
    # Hand-made sentence score (rag/answer/features.py): cos(sentence) + context_weight x
    # cos(sentence after the previous one) + (words, trigrams, shared word pairs) weights, for
    # the same language / across languages.
    context_weight: float = 1.0
    same_language_weights: tuple[float, float, float] = (0.8, 0.6, 0.4)
    cross_language_weights: tuple[float, float, float] = (0.0, 0.2, 0.0)
    # Bonus for a sentence holding the kind of answer asked for (a number, a date).
    type_bonus: float = 0.2
    # Weight of a chunk's best sentence score when the hits are re-ordered.
    rerank_weight: float = 3.0
    # A name in at most this share of the sentences is specific enough that an answer must be
    # about it ("Sakana AI" is, "Japan" in an article on Japan is not); shorter names ("KI")
    # are generic in a question; who "er" is may be named this many paragraphs back.
    specific_name_share: float = 0.15
    min_name_chars: int = 2
    scope_paragraphs_back: int = 1
    # Up to max_citations sentences are cited: the best, then those the ranker gives at least
    # extra_citation_share of the best one's probability.
    max_citations: int = 3
    extra_citation_share: float = 0.5
    # A question's or a document's language as fastText identifies it counts from this
    # probability on; below it the function words decide (rag/language/detect.py), and without
    # them the text's language (for a question) or the default language (for a document).
    language_confidence: float = 0.5
    # Inputs of the support model (rag/answer/model.py): a candidate within close_to_best of the
    # best base score counts as a close fit; a pool of one sentence has this margin to a second.
    close_to_best: float = 0.6
    margin_alone: float = 5.0
    # From this many chunks the dense side is searched in a second thread beside BM25
    # (rag/answer/retrieve.py): below it the thread costs more than it saves.
    parallel_search_from: int = 100_000

    def __post_init__(self) -> None:
        if self.candidates < 1 or self.answer_pool < 1:
            raise ValueError("candidates and answer_pool must be >= 1")
        if self.lexical_weight < 0 or self.cross_lingual_weight < 0:
            raise ValueError("lexical weights must be >= 0")
        if not 1 <= self.max_citations <= 10:
            raise ValueError("max_citations must be between 1 and 10")
        if not 0 < self.extra_citation_share <= 1:
            raise ValueError("extra_citation_share must be in (0, 1]")

    def with_(self, **changes: object) -> Tuning:
        """A copy with some numbers changed (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def parse(cls, assignment: str) -> tuple[str, object]:
        """``"answer_pool=12"`` -> ``("answer_pool", 12)``, typed like the field; ValueError else."""
        name, sep, text = assignment.partition("=")
        name = name.strip()
        kinds = {f.name: f.type for f in fields(cls)}
        if not sep or name not in kinds:
            raise ValueError(f"{assignment!r}: expected NAME=VALUE with NAME one of {', '.join(kinds)}")
        kind = str(kinds[name])
        try:
            if kind.startswith("tuple"):
                return name, tuple(float(part) for part in text.split(","))
            return name, int(text) if kind == "int" else float(text)
        except ValueError as exc:
            raise ValueError(f"{assignment!r}: {text!r} is not a {kind}") from exc


@dataclass(frozen=True)
class IndexTuning:
    """The measured numbers of the index: which vector structure at which size, how it is built
    and searched, when files stay memory-mapped, and how documents are read.

    Example::

        IndexTuning().approximate_from          # 30000: HNSW from here on, an exact scan below
        Settings(index_tuning=IndexTuning(approximate_from=10))   # a tiny corpus gets HNSW
    """

    # A flat scan reaches ~4-8 ms here at 30,000 x 512-d vectors; HNSW answers in ~1 ms from
    # there on (rag/index/dense.py).
    approximate_from: int = 30_000
    # From here the graph searches 8-bit codes: float32 HNSW would hold ~0.7 GB of vectors and
    # graph at 300,000 chunks and grow past the memory budget before 1,000,000; below it the
    # exact vectors cost little and give the last percent of recall.
    quantise_from: int = 300_000
    # HNSW graph degree: 16 lost recall on the clustered benchmark set (0.97 vs 0.99 at 100k).
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    # FAISS searches with max(efSearch, k) and the retriever asks for 50 candidates. Measured at
    # 1,000,000 synthetic clustered vectors (M=32, efConstruction=80): efSearch 64 gave recall@10
    # 0.962, 128 gave 0.984 at about 2 ms a question, 256 gave 0.991 at about 3 ms.
    hnsw_ef_search: int = 128
    # Up to this many questions are searched with one OpenMP thread (threads cost more there).
    few_queries: int = 4
    # From this many chunks the chunk-level arrays stay in their files, memory-mapped.
    mmap_from_chunks: int = 100_000
    # Texts per encoder call when building (part of what makes stored vectors reusable).
    encode_batch: int = 64
    # Processes that embed a build, one BLAS thread each (`rag index --workers N`,
    # rag/index/workers.py); None: in the building process with its --threads (docs/scale.md).
    build_workers: int | None = None
    # A line without final punctuation up to this long, followed by text, is a heading (plain
    # text and PDF alike).
    max_heading_chars: int = 160
    # Qdrant (rag/search/qdrant.py): points per upsert call, and the segment size in KB below
    # which the engine scans instead of walking its HNSW graph (Qdrant's own default).
    qdrant_batch: int = 512
    qdrant_full_scan_kb: int = 10_000

    def __post_init__(self) -> None:
        if min(self.approximate_from, self.quantise_from, self.hnsw_m, self.hnsw_ef_construction,
               self.hnsw_ef_search, self.encode_batch, self.max_heading_chars, self.qdrant_batch,
               self.qdrant_full_scan_kb) < 1:
            raise ValueError("index tuning numbers must be >= 1")
        if self.build_workers is not None and self.build_workers < 1:
            raise ValueError("build_workers must be >= 1 (or None: embed in the building process)")

    def with_(self, **changes: object) -> IndexTuning:
        """A copy with some numbers changed (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Settings:
    """Everything that shapes an index or an answer; the index-shaping part is in the manifest."""

    seeds_dir: Path = Path("seeds")
    # The index folder the user named; the model's own live folder is ``model_index_dir``.
    index_dir: Path = Path("index")
    model: str = DEFAULT_MODEL
    threads: int | None = None  # None: the usable cores
    chunk_size: int = 3
    chunk_stride: int = 1
    # Word vectors kept for word coverage (rag/index/words.py), the most frequent words first:
    # 200,000 x 516 bytes at most; rarer words are matched by spelling.
    max_word_vectors: int = 200_000
    top_k: int = 5
    retriever: str = "hybrid"
    max_question_chars: int = 2000
    # The largest file the chat accepts as an upload (Gradio refuses bigger ones while they
    # stream in, before they reach the disk); the loaders' own 50 MB cap applies as well.
    max_upload_mb: float = 50.0
    tuning: Tuning = field(default_factory=Tuning)
    index_tuning: IndexTuning = field(default_factory=IndexTuning)
    # The learned ranker and refusal model (None: the one shipped in rag/answer/answer_model.json).
    answer_model: Path | None = None
    # False: ``index_dir`` is the live folder whatever the model (`rag eval --format squad` names
    # its folders after the model already).
    per_model_index: bool = True
    # "local" (FAISS + numpy BM25) or "qdrant": Qdrant Edge in this process, or the Qdrant service
    # at ``qdrant_url`` when one is given.
    backend: str = "local"
    qdrant_url: str | None = None

    def __post_init__(self) -> None:
        if self.chunk_size < 1 or self.chunk_stride < 1:
            raise ValueError("chunk_size and chunk_stride must be >= 1")
        if self.top_k < 1:
            raise ValueError("top_k must be >= 1")
        if self.retriever not in RETRIEVERS:
            raise ValueError(f"retriever must be one of {', '.join(RETRIEVERS)}")
        if self.max_question_chars < 10:
            raise ValueError("max_question_chars must be >= 10")
        if not self.max_upload_mb > 0:
            raise ValueError("max_upload_mb must be > 0")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)} (got {self.backend!r})")
        if self.qdrant_url is not None and self.backend != "qdrant":
            raise ValueError("a Qdrant URL is given but the backend is not qdrant (add --backend qdrant)")
        object.__setattr__(self, "seeds_dir", Path(self.seeds_dir))
        object.__setattr__(self, "index_dir", Path(self.index_dir))
        object.__setattr__(self, "model", canonical_model_name(self.model))
        if self.answer_model is not None:
            object.__setattr__(self, "answer_model", Path(self.answer_model))

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)

    @property
    def model_index_dir(self) -> Path:
        """Where this model's index lives: see :func:`model_index_dir` (a Qdrant build in its own
        sub-folder of it)."""
        folder = model_index_dir(self.index_dir, self.model) if self.per_model_index else self.index_dir
        return folder / QDRANT_FOLDER if self.backend == "qdrant" else folder

    def index_params(self) -> dict[str, object]:
        """The settings an index depends on: a change in any of them means a rebuild."""
        params: dict[str, object] = {
            "model": self.model, "chunk_size": self.chunk_size, "chunk_stride": self.chunk_stride,
            "max_word_vectors": self.max_word_vectors, "backend": self.backend,
        }
        if self.qdrant_url:
            params["qdrant_url"] = self.qdrant_url
        return params


def index_location(settings: Settings) -> tuple[Path, Path, dict[str, object]]:
    """What :func:`rag.index.store.ensure_index` takes from ``settings``: the model's index
    folder, the seeds folder and the parameters the index depends on::

        ensure_index(*index_location(settings), encoder_factory, tuning=settings.index_tuning)
    """
    return settings.model_index_dir, settings.seeds_dir, settings.index_params()


def default_settings(**overrides: object) -> Settings:
    """Settings relative to the current folder, with the CLI/UI options that were given
    (``None`` means not given: the default stays)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
