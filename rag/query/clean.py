"""Clean what a user typed before it is searched: one place for all input rules."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
UNDECODABLE = re.compile("[\ud800-\udfff\ufffd]")


MARKUP = re.compile(r"<[/!]?[A-Za-z][^<>]{0,200}>|!?\[([^\]]{0,200})\]\([^)]{0,500}\)")


def without_markup(text: str) -> str:
    """The words of a question pasted with HTML tags or Markdown links, for searching only.

    ``<b>Wer</b> leitet Softbank?`` searches as ``Wer leitet Softbank?``; the question itself is
    still shown literally. Falls back to the text as typed when nothing would be left.
    """
    stripped = " ".join(MARKUP.sub(lambda m: f" {m.group(1) or ''} ", text).split())
    return stripped if any(ch.isalnum() for ch in stripped) else text


class QuestionError(ValueError):
    """The question cannot be answered as typed (e.g. empty); the message is for the user."""


@dataclass(frozen=True)
class CleanQuestion:
    text: str
    truncated: bool
    original_chars: int


def clean_question(raw: object, max_chars: int) -> CleanQuestion:
    """NFC, no control characters or ANSI escapes, white space collapsed, cut to ``max_chars``."""
    if not isinstance(raw, str):
        raise QuestionError("the question must be text")
    # Escape sequences colour or move text and are not part of a word, so they go entirely
    # ("\x1b[1mSoftbank\x1b[0m?" -> "Softbank?"); so do undecodable bytes (lone surrogates from
    # argv's surrogateescape, U+FFFD). Other control characters become spaces.
    text = ANSI_ESCAPE.sub("", raw)
    text = UNDECODABLE.sub("", text)
    text = CONTROL.sub(" ", unicodedata.normalize("NFC", text))
    text = " ".join(text.split())
    if not text:
        raise QuestionError("Please type a question (it was empty).")
    truncated = len(text) > max_chars
    if truncated:
        cut = text[:max_chars]
        space = cut.rfind(" ")
        text = cut[:space] if space > max_chars * 0.8 else cut
    if not any(ch.isalnum() for ch in text):
        raise QuestionError("Please type a question with words in it.")
    return CleanQuestion(text, truncated, len(raw))


MAX_HISTORY = 10


def clean_history(history: object, max_chars: int, keep: int = MAX_HISTORY) -> list[str]:
    """The user's earlier questions, each cleaned like a question; the last ``keep`` only.

    History comes from the same untrusted place as the question (the chat, ``/ask``), so it gets
    the same rules: items that are not text or clean to nothing are dropped, long ones are cut.
    Without this a single 200,000-character history item made one answer take seconds.
    """
    if history is None:
        return []
    if isinstance(history, str):
        history = [history]
    if not isinstance(history, (list, tuple)):
        raise QuestionError("the history must be a list of earlier questions")
    out = []
    for item in list(history)[-keep:]:
        try:
            out.append(clean_question(item, max_chars).text)
        except QuestionError:
            continue
    return out
