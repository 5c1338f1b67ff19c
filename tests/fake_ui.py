"""`python tests/fake_ui.py [ui.py options]`: the chat server of ui.py with the fake encoder of
tests/conftest.py (no model to load: up in seconds), for browser tests of the page itself."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import FakeEncoder  # noqa: E402

import rag.index.encoders as encoders  # noqa: E402

encoders.build_encoder = lambda *args, **kwargs: FakeEncoder()
encoders.preload = lambda *args, **kwargs: None

import ui  # noqa: E402

if __name__ == "__main__":
    sys.exit(ui.main(sys.argv[1:]))
