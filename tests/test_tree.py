"""The suite tests the tree it runs in: pytest imports this checkout's `rag` (pyproject.toml:
pythonpath = ["."]) and so do the processes the tests start, even when the venv's editable install
points at another checkout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import rag

ROOT = Path(__file__).resolve().parents[1]


def test_pytest_imports_this_tree() -> None:
    assert Path(rag.__file__).resolve().is_relative_to(ROOT), (rag.__file__, ROOT)


def test_started_processes_import_this_tree(tmp_path) -> None:
    # From another folder, as `rag index` or ui.py run by a test would (no cwd on the path).
    found = subprocess.run(
        [sys.executable, "-c", "import rag; print(rag.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.strip()
    assert Path(found).resolve().is_relative_to(ROOT), (found, ROOT)
