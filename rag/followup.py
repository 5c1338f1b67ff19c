"""Resolve follow-up questions ("Und wer ist sein Partner?") against the conversation.

The first version passes questions through unchanged; the chat issue fills this in.
"""

from __future__ import annotations

from collections.abc import Sequence


def contextualize(question: str, history: Sequence[str] = ()) -> str:
    """The text to search for ``question`` given the user's earlier questions."""
    return question
