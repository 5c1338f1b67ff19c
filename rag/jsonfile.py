"""Read a whole JSON file with errors a user can act on (shared by the SQuAD reader and --compare)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json(path: Path | str, error: type[Exception], label: str) -> Any:
    """The parsed file; ``error(f"{label}: ...")`` when it is missing or not UTF-8 JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"{label}: file not found") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{label}: not valid UTF-8 JSON ({exc})") from exc
