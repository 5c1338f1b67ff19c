"""Thumbs up/down from the chat page, kept as `rag eval` test questions (JSONL).

Each judged answer becomes one line in the project's question format::

    {"id": "feedback-20261129T073012-3f2a", "lang": "de", "question": "Wer leitet Softbank?",
     "answers": ["Der Chef des Technologieinvestors Softbank, Masayoshi Son, ist ..."]}

Thumbs up keeps the quoted sentences as the right answers; thumbs down keeps the sentence the
user marked as the right one, or ``[]`` when they say the text does not answer the question.
``rag eval feedback.jsonl`` then replays them. Only the page writes here (the API does not).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["FeedbackLog", "default_feedback_path", "NOT_IN_TEXT"]

NOT_IN_TEXT = "The text does not say this"


def default_feedback_path(index_dir: Path) -> Path:
    """``feedback.jsonl`` inside the index folder (git-ignored, never a stray file in the project
    folder; the index builds leave it alone)."""
    return Path(index_dir).resolve() / "feedback.jsonl"


class FeedbackLog:
    """Appends one `rag eval` question per judgement to ``path`` (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def add(self, question: str, lang: str, answers: Sequence[str], verdict: str) -> dict:
        """Append ``question`` with its right ``answers`` ([] = not answerable); returns the record."""
        answers = [a.strip() for a in answers if a and a.strip()]
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        record = {
            "id": f"feedback-{stamp}-{secrets.token_hex(3)}",
            "lang": (lang or "und").strip().lower() or "und",
            "question": question.strip(),
            "answers": answers,
            "verdict": verdict,
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line)
        return record
