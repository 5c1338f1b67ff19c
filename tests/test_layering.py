"""The layering contract and the type check run with the tests, so a broken layer fails CI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is not installed in this environment (it is in the [test] extra)")
    return found


def test_import_contract_holds() -> None:
    """ingest/index/language never import answer, app, eval or bench; nothing imports app."""
    result = subprocess.run([_tool("lint-imports")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def test_forbidden_import_is_reported(tmp_path: Path) -> None:
    """The contract can fail: a copy of the package with one forbidden import breaks it."""
    shutil.copytree(ROOT / "rag", tmp_path / "rag")
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text("utf-8"), "utf-8")
    chunking = tmp_path / "rag" / "ingest" / "chunking.py"
    chunking.write_text(chunking.read_text("utf-8") + "\nimport rag.app.render  # noqa\n", "utf-8")
    env = {"PYTHONPATH": str(tmp_path), "PATH": str(Path(sys.executable).parent)}
    result = subprocess.run(
        [_tool("lint-imports")], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode != 0 and "BROKEN" in result.stdout


@pytest.mark.slow
def test_mypy_is_clean() -> None:
    result = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
