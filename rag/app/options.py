"""The command-line options that ``rag`` and ``ui.py`` share, and the Settings they make."""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Sequence

from rag.config import Settings, default_settings

# The defaults of --seeds and --index when set (and not empty). Only this module reads them: the
# library takes its folders from Settings.
SEEDS_ENV = "RAG_SEEDS"
INDEX_ENV = "RAG_INDEX"
# The Qdrant service --backend qdrant uses when --qdrant-url is not given (none: Qdrant Edge in
# this process).
QDRANT_URL_ENV = "RAG_QDRANT_URL"


def add_corpus_options(parser: argparse.ArgumentParser) -> None:
    """--seeds, --index, --model, --threads: where the documents and the index are, which model."""
    parser.add_argument(
        "--seeds", default=os.environ.get(SEEDS_ENV) or "seeds",
        help=f"folder of documents (default: ${SEEDS_ENV}, else seeds)",
    )
    parser.add_argument(
        "--index", default=os.environ.get(INDEX_ENV) or "index",
        help=f"index folder (default: ${INDEX_ENV}, else index)",
    )
    parser.add_argument(
        "--model",
        default=None,
        help="'use-multilingual' (default), 'minilm', or a sentence-transformers model id/path",
    )
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all usable)")
    parser.add_argument(
        "--backend", choices=("local", "qdrant"), default=None,
        help="where chunks are searched: 'local' (FAISS + BM25 in this process, the default) or "
        "'qdrant' (Qdrant Edge in this process, or the service at --qdrant-url; needs rag[qdrant])",
    )
    parser.add_argument(
        "--qdrant-url", default=None, metavar="URL",
        help=f"a Qdrant service for --backend qdrant (default: ${QDRANT_URL_ENV}, else Qdrant Edge "
        "in this process); implies --backend qdrant",
    )
    parser.add_argument(
        "--answer-model",
        default=None,
        metavar="FILE.json",
        help="the sentence ranker and refusal model from `rag train` (default: the one shipped)",
    )


def preload_model(argv: Sequence[str]) -> threading.Thread | None:
    """Start loading the model that ``argv``'s ``--model``/``--threads`` name in a background
    thread (:func:`rag.index.encoders.preload`), before a program's heavier imports; the
    program's own parser reports bad options later."""
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--model", default=None)
    parser.add_argument("--threads", type=int, default=None)
    try:
        known, _ = parser.parse_known_args(list(argv))
    except (argparse.ArgumentError, SystemExit):  # e.g. --threads two: the program's parser says so
        return None
    from rag.index.encoders import DEFAULT_MODEL, preload

    return preload(known.model or DEFAULT_MODEL, known.threads)


def backend_choice(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(backend, Qdrant URL) from --backend, --qdrant-url and $RAG_QDRANT_URL (read only for
    the qdrant backend); ValueError for a URL given with --backend local."""
    backend, url = getattr(args, "backend", None), getattr(args, "qdrant_url", None)
    if url and backend == "local":
        raise ValueError("--qdrant-url is for --backend qdrant, not --backend local")
    if url:
        backend = "qdrant"
    if backend == "qdrant" and not url:
        url = os.environ.get(QDRANT_URL_ENV) or None
    if backend == "qdrant":
        require_qdrant(url)
    return backend, url


def require_qdrant(url: str | None) -> None:
    """A clear ValueError when the package the chosen Qdrant transport needs is not installed."""
    import importlib.util

    package, module = ("qdrant-client", "qdrant_client") if url else ("qdrant-edge-py", "qdrant_edge")
    if importlib.util.find_spec(module) is None:
        raise ValueError(
            f"--backend qdrant needs the optional package {package}: pip install 'rag[qdrant]' "
            "(in a checkout: .venv/bin/pip install -e '.[qdrant]')"
        )


def settings_from(args: argparse.Namespace, **extra: object) -> Settings:
    """Settings from the corpus options plus ``extra`` fields; ValueError for invalid values."""
    backend, url = backend_choice(args)
    return default_settings(
        seeds_dir=args.seeds,
        index_dir=args.index,
        model=args.model,
        threads=args.threads,
        answer_model=getattr(args, "answer_model", None),
        backend=backend,
        qdrant_url=url,
        **extra,
    )


def user_message(exc: Exception) -> str:
    """The one line for a user error; a missing seeds folder also says how to point elsewhere."""
    from rag.ingest import SeedsMissing

    if isinstance(exc, SeedsMissing):
        return (
            f"{exc} (run this in the folder that holds seeds/, or give --seeds DIR or set "
            f"{SEEDS_ENV}; for the index --index DIR or {INDEX_ENV})"
        )
    return str(exc)


def article_range(text: str) -> frozenset[int]:
    """``--articles 0-15``: SQuAD article numbers, or argparse's usage error."""
    from rag.eval.squad import parse_articles

    try:
        return parse_articles(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_documents_option(parser: argparse.ArgumentParser) -> None:
    """--documents NAME[,NAME]: search only these documents (ids as `rag list` shows them, file
    names or titles); every document when not given."""
    parser.add_argument(
        "--documents", default=None, metavar="NAME[,NAME]",
        help="search only these documents (ids as `rag list` shows them, file names or titles; "
        "default: all)",
    )


def chosen_names(args: argparse.Namespace) -> list[str] | None:
    """The names given with --documents (None: all documents); an empty choice is an error."""
    from rag.query.choice import DocumentChoiceError, split_names

    names = split_names(getattr(args, "documents", None))
    if names is not None and not names:
        raise DocumentChoiceError("--documents names no document; give ids as `rag list` shows them")
    return names
