"""ui.py is a launcher: the page lives in rag/app/web/ (layout, events, the browser's
conversations, the server), its script is a file the server serves (not a string inlined in the
page), and the login and host rules are one module (rag/app/access.py) that the launcher and the
REST API both use."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import ui  # noqa: E402  (ui.py is a script at the top of the repository)


def test_ui_py_defines_nothing_and_the_page_lives_in_rag_app_web() -> None:
    tree = ast.parse((ROOT / "ui.py").read_text("utf-8"))
    defined = [n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert defined == [], defined
    assert ui.build_app.__module__ == "rag.app.web.events"
    assert ui.main.__module__ == "rag.app.web.server"
    for part in ("layout", "events", "conversations", "server"):
        assert (ROOT / "rag" / "app" / "web" / f"{part}.py").is_file(), part


def test_the_page_script_is_a_static_file_the_server_serves() -> None:
    from starlette.applications import Starlette

    from rag.app.web.server import PAGE_HEAD, extra_routes

    # The page's head only points at the file: no script text inline.
    assert re.fullmatch(r'<script src="[\w./-]+\.js"></script>', PAGE_HEAD), PAGE_HEAD
    src = re.search(r'src="([^"]+)"', PAGE_HEAD).group(1)
    client = TestClient(Starlette(routes=extra_routes(FastAPI())))
    served = client.get("/" + src)
    assert served.status_code == 200 and "javascript" in served.headers["content-type"]
    for function in ("ragExportMarkdown", "ragScrollToMark", "ragAfterAnswer"):
        assert f"window.{function} =" in served.text, function
    python = "\n".join(p.read_text("utf-8") for p in (ROOT / "rag" / "app" / "web").glob("*.py"))
    assert "document.querySelector" not in python  # the page's JavaScript lives in the .js file


def test_the_launcher_and_the_rest_api_share_one_login_module() -> None:
    import rag.app.access as access
    import rag.app.api as api

    assert ui.launch_auth is access.launch_auth and ui.is_loopback is access.is_loopback
    assert api.login_check is access.login_check
    client = TestClient(api.build_api(_NoPipeline(), auth=("anna", "geheim")))
    assert client.get("/health").status_code == 401
    assert client.get("/health", auth=("anna", "falsch")).status_code == 401
    assert client.get("/health", auth=("anna", "geheim")).status_code == 200


class _NoPipeline:
    """Enough of a pipeline for /api/health."""

    encoder = None
    info: dict = {}
    index = None
