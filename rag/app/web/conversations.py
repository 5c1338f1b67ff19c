"""The conversations the browser keeps (``gr.BrowserState``, its local storage, never the server):
reading a stored value whatever shape it has, saving a turn, listing and deleting them."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

STORE_KEY = "rag-chat-conversations"
MAX_CONVERSATIONS = 30  # kept in the browser; beyond this the oldest is dropped
EMPTY_STORE: dict[str, Any] = {"current": "", "items": []}


def new_id() -> str:
    return f"c{int(time.time() * 1000):x}{secrets.token_hex(2)}"


def read_store(value: Any) -> dict[str, Any]:
    """The browser's stored conversations, tolerating anything malformed (a fresh store then)."""
    if not isinstance(value, dict) or not isinstance(value.get("items"), list):
        return {"current": "", "items": []}
    items = [c for c in value["items"] if isinstance(c, dict) and isinstance(c.get("id"), str)]
    return {"current": str(value.get("current") or ""), "items": items}


def choices(store: dict[str, Any]) -> list[tuple[str, str]]:
    """(title, id) of each stored conversation, most recent first, for the "Past" list."""
    return [(f"{c.get('title') or '(empty)'}", c["id"]) for c in store["items"]]


def conversation(store: dict[str, Any], conv_id: str) -> dict[str, Any] | None:
    return next((c for c in store["items"] if c["id"] == conv_id), None)


def saved(store: Any, conv_id: str, messages: list, history: list, turns: list) -> dict[str, Any]:
    """``store`` with this conversation saved (most recent first) and made current."""
    store = read_store(store)
    items = [c for c in store["items"] if c["id"] != conv_id]
    title = (history[0] if history else "")[:80]
    items.insert(0, {"id": conv_id, "title": title, "updated": time.time(),
                     "messages": messages, "history": history, "turns": turns})
    return {"current": conv_id, "items": items[:MAX_CONVERSATIONS]}


def without(store: Any, conv_id: str) -> dict[str, Any]:
    """``store`` with conversation ``conv_id`` deleted."""
    store = read_store(store)
    store["items"] = [c for c in store["items"] if c["id"] != conv_id]
    return store


def turn_record(answer: Any, index: int, sentences: Sequence[Any], plain: str) -> dict[str, Any]:
    """What a turn keeps: the answer's JSON (every surface's), and for thumbs-down the sentences
    the user may pick as the right one (the cited ones first, then the retrieved passages')."""
    candidates: list[str] = []
    for hit in answer.hits[:5]:
        for sid in hit.chunk.sentence_ids:
            text = sentences[sid].text if 0 <= sid < len(sentences) else ""
            if text and text not in candidates:
                candidates.append(text)
    cited_texts = [c.sentence.text for c in answer.citations]
    for text in cited_texts:
        if text not in candidates:
            candidates.insert(0, text)
    return {
        "index": index, "question": answer.question, "lang": answer.language,
        "abstained": bool(answer.abstained), "cited": cited_texts,
        "candidates": candidates[:25], "plain": plain,
        # The answer as every other surface gives it (`rag ask --json`, /ask, /api/ask).
        "answer": answer.to_dict(),
    }
