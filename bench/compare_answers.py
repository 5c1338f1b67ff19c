"""Compare the answers of two `rag eval` runs question by question (backend parity,
docs/scale.md): how many are identical, and each one that is not.

    python bench/compare_answers.py reports/a/results.jsonl reports/b/results.jsonl

Identical means the same confidence, refusal, citations, citation hits, rank and top chunk;
``latency_ms`` is ignored and the refusal score compared to 1e-4.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SAME = ("confidence", "abstained", "cited", "citation_hits", "rank", "top_chunk")


def _rows(path: Path) -> dict[str, dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {str(r["id"]): r for r in rows}


def differences(a: dict, b: dict) -> list[str]:
    out = [key for key in SAME if a.get(key) != b.get(key)]
    ra, rb = a.get("refusal_score"), b.get("refusal_score")
    if (ra is None) != (rb is None) or (ra is not None and abs(float(ra) - float(rb)) > 1e-4):
        out.append(f"refusal_score {ra} -> {rb}")
    return out


def main(argv: list[str]) -> int:
    left, right = _rows(Path(argv[0])), _rows(Path(argv[1]))
    if set(left) != set(right):
        print(f"different questions: {len(set(left) ^ set(right))} not in both")
    both = [q for q in left if q in right]
    changed = {q: differences(left[q], right[q]) for q in both}
    changed = {q: d for q, d in changed.items() if d}
    print(f"{len(both) - len(changed)} of {len(both)} answers identical")
    for q, diff in changed.items():
        print(f"- {q}: {', '.join(diff)}")
        print(f"    question: {left[q].get('question')}")
        for key in ("cited", "confidence", "rank"):
            if key in diff:
                print(f"    {key}: {left[q].get(key)} -> {right[q].get(key)}")
    return 0 if not changed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
