"""The corpus's content words and their vectors: what word-level coverage of a question needs.

A sentence can be close to a question as a whole and still lack the one thing the question is
about ("How many employees does Softbank have?" against a sentence on Softbank's 500 board
members). Comparing each content word of the question with the words of a sentence shows it,
in any language the encoder reads: with USE, white/weißen 0.93, employees/Mitarbeiter 0.93,
founded/gegründet 0.88, unrelated pairs 0.16-0.33 (``rag/answer/coverage.py`` does the
comparing). Encoding a sentence's words at question time would cost ~0.5 ms a word, so every
distinct word of the corpus is encoded once, when the index is built, and stored here:

* ``words.json``: the vocabulary (case-folded content words, most frequent first);
* ``word_codes.npy`` / ``word_scales.npy``: each word's L2-normalised vector as int8 codes with
  one float32 scale per word (516 bytes a word instead of 2 KB for float32), for at most
  ``max_vectors`` words; rarer words are matched by spelling only;
* ``sentence_word_offsets.npy`` / ``sentence_word_ids.npy``: each sentence's words as ids
  (sentence ``i``'s are ``ids[offsets[i]:offsets[i + 1]]``).

The vocabulary is encoded in one call in a fixed order at every build, full or incremental, so
both give the same bits. Numbers are left out: they are compared by their digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from rag.index.encoders import Encoder, encode
from rag.language import known_languages, own_cues, stop_word_list_name

WORD = re.compile(r"[^\W\d_](?:[^\W_]|[-'’](?=[^\W_]))*")
DIGITS = re.compile(r"\d+")


@lru_cache(maxsize=32)
def stop_words(language: str) -> frozenset[str]:
    """Stop and question words of ``language`` and of every language with a module of its own
    (questions and texts mix German and English), case-folded."""
    from rag.index.lexical import _bm25s_stopwords, _stopwords

    words = set(_stopwords())
    name = stop_word_list_name(language)
    if name:
        words.update(w.casefold() for w in getattr(_bm25s_stopwords(), name))
    for lang in known_languages():
        words.update(w.casefold() for w in lang.function_words)
    own = own_cues(language)  # a language whose words are its own: for its own questions
    if own is not None:
        words.update(w.casefold() for w in own.function_words | own.question_words)
    # Stop lists spell some words without their accents ("quien" for "quién").
    return frozenset(words | {_unaccented(w) for w in words})


def _unaccented(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def content_words(text: str, language: str) -> list[str]:
    """The case-folded words of ``text`` that carry content: no stop or question words, no
    single letters, no numbers (in order, repeats kept). A hyphenated word also gives its
    parts ("softbank-chef" -> softbank-chef, softbank, chef), so "Chef" finds "Softbank-Chef"."""
    stop = stop_words(language)
    folded = unicodedata.normalize("NFKC", text).casefold()
    out: list[str] = []
    for word in WORD.findall(folded):
        parts = [word, *re.split(r"[-'’]", word)] if ("-" in word or "'" in word or "’" in word) else [word]
        out.extend(
            p for p in dict.fromkeys(parts) if len(p) > 1 and p not in stop and _unaccented(p) not in stop
        )
    return out


def numbers_in(text: str) -> frozenset[str]:
    """The digit runs of ``text`` ("G-7" -> 7, "2,5 Milliarden" -> 2 and 5)."""
    return frozenset(m.lstrip("0") or "0" for m in DIGITS.findall(text))


def _quantise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scales = np.abs(vectors).max(axis=1) / 127.0
    scales = np.where(scales > 0, scales, 1.0).astype(np.float32)
    codes = np.clip(np.rint(vectors / scales[:, None]), -127, 127).astype(np.int8)
    return codes, scales


@dataclass(frozen=True)
class Vocabulary:
    """The corpus's content words (most frequent first) and each sentence's word ids: all of a
    word table but its vectors, known before anything is encoded."""

    words: tuple[str, ...]
    offsets: np.ndarray  # (n_sentences + 1,) int64
    ids: np.ndarray  # int32

    @classmethod
    def of(cls, texts: Sequence[str], languages: Sequence[str]) -> Vocabulary:
        per_sentence = [
            list(dict.fromkeys(content_words(text, lang)))
            for text, lang in zip(texts, languages, strict=True)
        ]
        counts = Counter(w for words in per_sentence for w in words)
        words = tuple(sorted(counts, key=lambda w: (-counts[w], w)))
        index = {w: i for i, w in enumerate(words)}
        lengths = np.array([len(found) for found in per_sentence], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        ids = np.fromiter((index[w] for found in per_sentence for w in found), dtype=np.int32,
                          count=int(offsets[-1]))
        return cls(words, offsets, ids)


@dataclass(frozen=True)
class WordTable:
    """Vocabulary, quantised word vectors and each sentence's word ids. Example::

        table = WordTable.build(["Softbank investiert."], ["de"], encoder)
        table.words_of(0)            # array of ids into table.vocabulary
        table.vectors(table.words_of(0))
    """

    vocabulary: tuple[str, ...]
    codes: np.ndarray  # (n_vectors, dimension) int8, n_vectors <= len(vocabulary)
    scales: np.ndarray  # (n_vectors,) float32
    offsets: np.ndarray  # (n_sentences + 1,) int64
    ids: np.ndarray  # int32
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {w: i for i, w in enumerate(self.vocabulary)})

    @property
    def size(self) -> int:
        """How many sentences the table describes."""
        return len(self.offsets) - 1

    @property
    def with_vectors(self) -> int:
        return len(self.scales)

    def words_of(self, sentence_id: int) -> np.ndarray:
        return self.ids[self.offsets[sentence_id] : self.offsets[sentence_id + 1]]

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Float32 rows (about unit length) of word ids that have vectors (others: zeros)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros((len(ids), self.codes.shape[1]), dtype=np.float32)
        has = ids < self.with_vectors
        chosen = ids[has]
        out[has] = self.codes[chosen].astype(np.float32) * self.scales[chosen][:, None]
        return out

    @classmethod
    def build(
        cls, texts: Sequence[str], languages: Sequence[str], encoder: Encoder, max_vectors: int = 200_000
    ) -> WordTable:
        layout = Vocabulary.of(texts, languages)
        encoded = encode(encoder, list(layout.words[:max_vectors]))
        return cls.from_vectors(layout, encoded)

    @classmethod
    def from_vectors(cls, layout: Vocabulary, encoded: np.ndarray) -> WordTable:
        """The table of ``layout`` with the vectors of its first ``len(encoded)`` words (encoded
        in one call in that order, in this process or elsewhere: rag/index/embedding.py)."""
        if encoded.ndim != 2 or len(encoded) > len(layout.words):
            raise ValueError(f"{encoded.shape} word vectors for {len(layout.words)} words")
        codes, scales = _quantise(np.asarray(encoded, dtype=np.float32))
        return cls(layout.words, codes, scales, layout.offsets, layout.ids)

    def save(self, folder: Path) -> None:
        import json

        folder = Path(folder)
        vocabulary = json.dumps(list(self.vocabulary), ensure_ascii=False)
        (folder / "words.json").write_text(vocabulary, encoding="utf-8")
        np.save(folder / "word_codes.npy", self.codes, allow_pickle=False)
        np.save(folder / "word_scales.npy", self.scales, allow_pickle=False)
        np.save(folder / "sentence_word_offsets.npy", self.offsets, allow_pickle=False)
        np.save(folder / "sentence_word_ids.npy", self.ids, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> WordTable:
        import json

        folder = Path(folder)
        mode: Literal["r"] | None = "r" if mmap else None
        vocabulary = tuple(json.loads((folder / "words.json").read_text(encoding="utf-8")))
        codes = np.load(folder / "word_codes.npy", mmap_mode=mode, allow_pickle=False)
        scales = np.load(folder / "word_scales.npy", allow_pickle=False)
        offsets = np.load(folder / "sentence_word_offsets.npy", allow_pickle=False)
        ids = np.load(folder / "sentence_word_ids.npy", mmap_mode=mode, allow_pickle=False)
        if not (
            codes.dtype == np.int8 and len(codes) == len(scales) <= len(vocabulary)
            and offsets.ndim == 1 and len(offsets) >= 1 and int(offsets[-1]) == len(ids)
            and (len(ids) == 0 or int(ids.max()) < len(vocabulary))
        ):
            raise ValueError("the word table's files do not fit together")
        return cls(vocabulary, codes, scales, offsets, ids)
