"""The chat page (``python ui.py``): Gradio Blocks around one opened pipeline.

One concern per module: :mod:`.layout` places the components, :mod:`.events` holds what each
click or question does and wires it, :mod:`.conversations` keeps the browser's stored
conversations, :mod:`.server` parses the options and launches the server (page, Gradio's ``/ask``
and the REST API of :mod:`rag.app.api` on one port); the page's script is ``static/page.js``.
Who may connect is :mod:`rag.app.access`'s, shared with the REST API.
"""

import os

# Before gradio is imported: no usage statistics leave the machine (forced, not a default:
# nothing about the questions asked here is anyone else's business).
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
