"""The chat in the browser: `python ui.py [--host HOST] [--port PORT]` (http://127.0.0.1:7860).

A launcher only: the page lives in ``rag/app/web/`` (layout, events, the browser's conversations,
the server; its script in ``rag/app/web/static/page.js``), the login and host checks in
``rag/app/access.py`` (shared with the REST API, ``rag/app/api.py``). The model starts loading
in a thread while gradio is imported; the pipeline and its index are loaded once at start-up
(built first if missing or stale), and each question then takes milliseconds.

Besides the page, the server has Gradio's named API endpoint ``/ask`` (the JSON object of
``rag ask --json``) and, on the same port, the REST API: ``POST /api/ask``, ``GET
/api/documents``, ``GET /api/health``, described at ``/api/docs``.
"""

from __future__ import annotations

import os
import sys

# Before gradio is imported: no usage statistics leave the machine.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

if __name__ == "__main__":  # the model loads in a thread while gradio is imported
    from rag.app.options import preload_model

    preload_model(sys.argv[1:])

from rag.app.access import is_loopback, launch_auth, parse_auth  # noqa: E402
from rag.app.web.conversations import EMPTY_STORE  # noqa: E402
from rag.app.web.events import build_app  # noqa: E402
from rag.app.web.server import build_parser, main  # noqa: E402

__all__ = ["EMPTY_STORE", "build_app", "build_parser", "is_loopback", "launch_auth", "main", "parse_auth"]

if __name__ == "__main__":
    sys.exit(main())
