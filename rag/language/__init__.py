"""Everything that depends on the language, one :class:`Language` object per language.

Example::

    from rag.language import get_language, detect_language
    german = get_language("de")
    detect_language("Who runs Softbank?", default="de")   # 'en'
"""

from __future__ import annotations

from rag.language import other
from rag.language.base import AnswerCues, FollowUpCues, Language, LayoutCues, OverviewCues, Phrases
from rag.language.de import GERMAN
from rag.language.en import ENGLISH
from rag.language.fr import FRENCH

# The registry: one line per language module.
LANGUAGES: dict[str, Language] = {lang.code: lang for lang in (GERMAN, ENGLISH, FRENCH)}

# What a language without a module borrows (sentence splitting, the framing of answers), and
# what an unclear question about a text in such a language is taken to be in.
FALLBACK_LANGUAGE = ENGLISH.code


def generic_language(code: str) -> Language:
    """A language without its own module: words are matched unstemmed, sentences split like
    the fallback language's (English), answers framed in it."""
    fallback = LANGUAGES[FALLBACK_LANGUAGE]
    return Language(
        code=code,
        name=code,
        stemmer=None,
        splitter_model=fallback.splitter_model,
        function_words=frozenset(),
        phrases=fallback.phrases,
    )


def get_language(code: str) -> Language:
    """The language object for an ISO 639-1 code (a generic one for languages without a module)."""
    return LANGUAGES.get(code) or generic_language(code)


def stop_word_list_name(code: str) -> str:
    """The name of bm25s's stop word list for a language ("" when there is none)."""
    known = LANGUAGES.get(code)
    return known.stop_word_list if known is not None else other.STOP_WORD_LISTS.get(code, "")


def known_languages() -> tuple[Language, ...]:
    """The languages with a module of their own whose cues apply to every question and text
    (``Language.shares_cues``); the others' apply to their own (:func:`own_cues`)."""
    return tuple(lang for lang in LANGUAGES.values() if lang.shares_cues)


def own_cues(code: str) -> Language | None:
    """The language of ``code`` when its cues apply to its own questions and texts only (they
    are then added to the shared ones for it); None when they are shared or it has no module."""
    lang = LANGUAGES.get(code)
    return lang if lang is not None and not lang.shares_cues else None


def overview_cues() -> tuple[OverviewCues, ...]:
    """How to ask for a summary, in every language known: the modules' first, then the others'
    (rag/language/other.py), as questions may come in any language the encoder reads."""
    return tuple(lang.overview for lang in LANGUAGES.values()) + tuple(
        cues for code, cues in other.OVERVIEW.items() if code not in LANGUAGES
    )


def tesseract_model(code: str | None) -> str:
    """Tesseract's model for a document language ("" when none is known)."""
    known = LANGUAGES.get(code or "")
    return known.tesseract if known is not None else other.TESSERACT.get(code or "", "")


from rag.language.detect import detect_language  # noqa: E402 - needs LANGUAGES above

# The language a document is taken to be in when neither its front matter, fastText nor its
# function words tell: the bundled article's.
DEFAULT_LANGUAGE = GERMAN.code


def guess_language(text: str) -> str:
    """A document's language from its function words (:data:`DEFAULT_LANGUAGE` when they tie)."""
    return detect_language(text, default=DEFAULT_LANGUAGE)


def ocr_fallback_models() -> tuple[str, ...]:
    """Tesseract's models for a document whose language has none: the default language's and
    the fallback language's (German and English)."""
    return (LANGUAGES[DEFAULT_LANGUAGE].tesseract, LANGUAGES[FALLBACK_LANGUAGE].tesseract)

__all__ = [
    "AnswerCues",
    "FALLBACK_LANGUAGE",
    "FollowUpCues",
    "Language",
    "LANGUAGES",
    "LayoutCues",
    "OverviewCues",
    "Phrases",
    "ocr_fallback_models",
    "overview_cues",
    "tesseract_model",
    "DEFAULT_LANGUAGE",
    "detect_language",
    "guess_language",
    "generic_language",
    "get_language",
    "known_languages",
    "own_cues",
    "stop_word_list_name",
]
