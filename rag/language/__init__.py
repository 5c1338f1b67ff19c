"""Everything that depends on the language, one :class:`Language` object per language.

Example::

    from rag.language import get_language, detect_language
    german = get_language("de")
    detect_language("Who runs Softbank?", default="de")   # 'en'
"""

from __future__ import annotations

from rag.language.base import AnswerCues, FollowUpCues, Language, Phrases
from rag.language.de import GERMAN
from rag.language.en import ENGLISH

LANGUAGES: dict[str, Language] = {lang.code: lang for lang in (GERMAN, ENGLISH)}


def generic_language(code: str) -> Language:
    """A language without its own module: words are matched unstemmed, sentences split like
    English, answers framed in English."""
    return Language(
        code=code,
        name=code,
        stemmer=None,
        splitter_model=ENGLISH.splitter_model,
        function_words=frozenset(),
        phrases=ENGLISH.phrases,
    )


def get_language(code: str) -> Language:
    """The language object for an ISO 639-1 code (a generic one for languages without a module)."""
    return LANGUAGES.get(code) or generic_language(code)


# bm25s's stop word lists of languages without a module of their own: a question in one of them
# still has its function words told from its content words (word coverage, rag/index/words.py).
_OTHER_STOP_WORD_LISTS = {
    "fr": "STOPWORDS_FRENCH", "es": "STOPWORDS_SPANISH", "it": "STOPWORDS_ITALIAN",
    "pt": "STOPWORDS_PORTUGUESE", "nl": "STOPWORDS_DUTCH", "ru": "STOPWORDS_RUSSIAN",
    "tr": "STOPWORDS_TURKISH", "da": "STOPWORDS_DANISH", "sv": "STOPWORDS_SWEDISH",
    "no": "STOPWORDS_NORWEGIAN", "nb": "STOPWORDS_NORWEGIAN",
}


def stop_word_list_name(code: str) -> str:
    """The name of bm25s's stop word list for a language ("" when there is none)."""
    known = LANGUAGES.get(code)
    return known.stop_word_list if known is not None else _OTHER_STOP_WORD_LISTS.get(code, "")


def known_languages() -> tuple[Language, ...]:
    """The languages with a module of their own: their cues apply to every question."""
    return tuple(LANGUAGES.values())


from rag.language.detect import detect_language  # noqa: E402 - needs LANGUAGES above

# The language a document is taken to be in when neither its front matter, fastText nor its
# function words tell: the bundled article's.
DEFAULT_LANGUAGE = GERMAN.code


def guess_language(text: str) -> str:
    """A document's language from its function words (:data:`DEFAULT_LANGUAGE` when they tie)."""
    return detect_language(text, default=DEFAULT_LANGUAGE)

__all__ = [
    "AnswerCues",
    "FollowUpCues",
    "Language",
    "LANGUAGES",
    "Phrases",
    "DEFAULT_LANGUAGE",
    "detect_language",
    "guess_language",
    "generic_language",
    "get_language",
    "known_languages",
    "stop_word_list_name",
]
