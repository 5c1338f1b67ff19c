"""One Settings object, built by the CLI or UI and passed down explicitly (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.index.encoders import DEFAULT_MODEL, canonical_model_name

RETRIEVERS = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class Settings:
    """Everything that shapes an index or an answer; the index-shaping part is in the manifest."""

    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path("index")
    model: str = DEFAULT_MODEL
    threads: int | None = None  # None: the usable cores
    chunk_size: int = 3
    chunk_stride: int = 1
    top_k: int = 5
    retriever: str = "hybrid"
    # Weight of BM25 beside the dense side for questions in the corpus's language / in another
    # language (see retrieve.py).
    lexical_weight: float = 0.6
    cross_lingual_weight: float = 0.3
    max_citations: int = 3
    # Extra citations must score at least this share of the best sentence's score.
    citation_ratio: float = 0.85
    # Abstain when the best sentence scores below these (same / other language, answer.py).
    min_score: float = 1.2
    min_score_cross: float = 0.55
    max_question_chars: int = 2000
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.chunk_size < 1 or self.chunk_stride < 1:
            raise ValueError("chunk_size and chunk_stride must be >= 1")
        if self.top_k < 1:
            raise ValueError("top_k must be >= 1")
        if self.retriever not in RETRIEVERS:
            raise ValueError(f"retriever must be one of {', '.join(RETRIEVERS)}")
        if not 1 <= self.max_citations <= 10:
            raise ValueError("max_citations must be between 1 and 10")
        if self.max_question_chars < 10:
            raise ValueError("max_question_chars must be >= 10")
        object.__setattr__(self, "seeds_dir", Path(self.seeds_dir))
        object.__setattr__(self, "index_dir", Path(self.index_dir))
        object.__setattr__(self, "model", canonical_model_name(self.model))

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def index_params(self) -> dict[str, object]:
        """The settings an index depends on: a change in any of them means a rebuild."""
        return {"model": self.model, "chunk_size": self.chunk_size, "chunk_stride": self.chunk_stride}
