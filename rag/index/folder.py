"""The index folder: which build is live (``CURRENT``), the build lock, the manifest and whether
it still fits the documents and settings.

Layout (JSON, NumPy and FAISS files only, never pickle)::

    index/
      .lock                 serialises builds (filelock)
      CURRENT               name of the live build folder, replaced atomically
      build-<time>-<pid>/   one build (rag/index/build.py writes it, rag/index/loaded.py reads it)

A build is written into a ``tmp-build-...`` folder and only then made live by replacing
``CURRENT`` (:func:`make_live`), so a build killed midway leaves the previous index untouched
and loadable.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag import __version__
from rag.jsonfile import read_json

FORMAT_VERSION = 7  # 6: the word table (words.py); 7: person names
CURRENT = "CURRENT"
LOCK = ".lock"
MANIFEST = "manifest.json"
# Index parameters added later, as builds written before them were made (they need no rebuild).
PARAM_DEFAULTS = {"backend": "local"}


class StoreError(RuntimeError):
    """Base for index problems; the message is meant for the user."""


class IndexMissing(StoreError):
    pass


class IndexCorrupt(StoreError):
    pass


class IndexLocked(StoreError):
    pass


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def read_index_json(path: Path) -> Any:
    """A JSON file of a build; :class:`IndexCorrupt` when it is missing or damaged."""
    return read_json(path, IndexCorrupt, f"index file {path}")


def current_build(index_dir: Path) -> Path:
    """The live build folder; :class:`IndexMissing` when there is none."""
    pointer = Path(index_dir) / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise IndexMissing(f"there is no index in {index_dir} yet") from exc
    if not name or "/" in name or name.startswith("."):
        raise IndexCorrupt(f"{pointer} is damaged")
    path = Path(index_dir) / name
    if not path.is_dir():
        raise IndexMissing(f"{pointer} names {name}, which is missing")
    return path


def live_build(index_dir: Path) -> Path | None:
    """The live build folder, or None when there is none (yet)."""
    try:
        return current_build(index_dir)
    except StoreError:
        return None


def read_manifest(index_dir: Path) -> dict[str, Any]:
    return read_index_json(current_build(index_dir) / MANIFEST)


def stale_reasons(
    manifest: dict[str, Any], params: dict[str, Any], corpus_fingerprint: str
) -> list[str]:
    """Why this index does not fit the corpus and settings; empty when it does."""
    reasons = []
    if manifest.get("format") != FORMAT_VERSION:
        reasons.append("it was written in another index format")
    if manifest.get("package_version") != __version__:
        reasons.append(f"it was built by rag {manifest.get('package_version')}, this is {__version__}")
    for key, value in params.items():
        if manifest.get(key, PARAM_DEFAULTS.get(key)) != value:
            reasons.append(f"{key} changed ({manifest.get(key)!r} -> {value!r})")
    if manifest.get("corpus_fingerprint") != corpus_fingerprint:
        reasons.append("the documents changed")
    return reasons


def new_build(index_dir: Path) -> tuple[str, Path]:
    """A fresh build's name and its temporary folder (created) inside ``index_dir``."""
    name = f"build-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.time_ns() % 10**6:06d}"
    tmp = Path(index_dir) / f"tmp-{name}"
    tmp.mkdir()
    return name, tmp


def make_live(index_dir: Path, tmp: Path, name: str) -> Path:
    """Rename the finished ``tmp`` folder to ``name`` and point ``CURRENT`` at it; returns it."""
    live = Path(index_dir) / name
    os.rename(tmp, live)
    _point_current_to(Path(index_dir), name)
    return live


def _point_current_to(index_dir: Path, name: str) -> None:
    pointer = index_dir / f".{CURRENT}.{os.getpid()}.tmp"
    pointer.write_text(name + "\n", encoding="utf-8")
    with open(pointer, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer, index_dir / CURRENT)


def prune(index_dir: Path, keep: str) -> None:
    """Remove older builds and leftovers of killed builds (called under the build lock)."""
    for path in Path(index_dir).iterdir():
        if path.is_dir() and path.name != keep and path.name.startswith(("build-", "tmp-build-")):
            shutil.rmtree(path, ignore_errors=True)


def build_lock(index_dir: Path, on_wait: Callable[[str], None] | None = None, timeout: float = 900):
    """A context manager holding the index folder's build lock; waits for another build."""
    from filelock import FileLock, Timeout

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / LOCK))

    class _Guard:
        def __enter__(self) -> None:
            try:
                lock.acquire(timeout=0)
                return
            except Timeout:
                if on_wait:
                    on_wait(f"another build of {index_dir} is running; waiting for it to finish")
            try:
                lock.acquire(timeout=timeout)
            except Timeout as exc:
                raise IndexLocked(f"{index_dir} is locked by another build for over {timeout:.0f} s") from exc

        def __exit__(self, *exc: object) -> None:
            lock.release()

    return _Guard()
