"""Adding a language is one file: no language rule outside rag/language/.

Every word list, pattern, phrase and language code lives in a ``Language`` object
(rag/language/<code>.py) or, for languages without a module, in rag/language/other.py. This test
reads the rest of the package's source (AST, docstrings skipped) and fails on a language-code
literal ("de", "en" ...) or a word list: a set of words, a list or tuple of many, a
``"...".split()`` of words, or a regular expression alternating words ("weil|denn|deshalb").
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from rag.language import LANGUAGES, other
from rag.language.identify import ENCODER_LANGUAGES

ROOT = Path(__file__).resolve().parents[2] / "rag"
CODES = set(LANGUAGES) | set(other.OVERVIEW) | set(other.STOP_WORD_LISTS) | set(other.TESSERACT) | set(
    ENCODER_LANGUAGES
)

# Files whose words are no language rules, each with the reason.
ALLOWED_FILES = {
    # Made-up German documents and questions for the benchmarks (text, not rules applied to a
    # user's text); the synthetic corpus says which language it is in (synthetic.LANGUAGE).
    "bench/synthetic.py": "synthetic benchmark corpus",
    "bench/incremental.py": "synthetic benchmark documents",
    # trafilatura's XML tag names.
    "ingest/html_loader.py": "XML tag names",
}
# Single literals that look like a language code but are not one.
ALLOWED_LITERALS = {
    ("ingest/sheet_loader.py", "no"),  # a False cell's text ("yes"/"no")
}

_SET_CALLS = ("set", "frozenset")
_WORD = re.compile(r"[^\W\d_]+(?:['’ -][^\W\d_]+)*'?")
_ALTERNATION = re.compile(r"(?<![\\\w])[^\W\d_]{2,}(?:\|[^\W\d_]{2,}){2,}(?![\w])")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(id(value))
    return found


def _words(elements: list[ast.expr]) -> list[str]:
    return [
        e.value for e in elements
        if isinstance(e, ast.Constant) and isinstance(e.value, str) and _WORD.fullmatch(e.value)
    ]


def _is_word_collection(node: ast.AST) -> bool:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _SET_CALLS:
        inner = node.args[0] if node.args else None
        return isinstance(inner, (ast.List, ast.Tuple)) and len(_words(inner.elts)) >= 3
    if isinstance(node, ast.Set):
        return len(_words(node.elts)) >= 3
    if isinstance(node, (ast.List, ast.Tuple)):
        return len(_words(node.elts)) >= 8
    return False


def violations(path: Path) -> list[str]:
    rel = path.relative_to(ROOT).as_posix()
    if rel in ALLOWED_FILES:
        return []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    exported = {
        id(node.value) for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
    }
    found = []
    for node in ast.walk(tree):
        where = f"rag/{rel}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value in CODES and (rel, node.value) not in ALLOWED_LITERALS:
                found.append(f"{where}: language code {node.value!r}")
            elif match := _ALTERNATION.search(node.value):
                found.append(f"{where}: words alternating in a pattern: {match.group()}")
        elif id(node) not in exported and _is_word_collection(node):
            found.append(f"{where}: a word list")
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "split"
            and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str)
            and len(node.func.value.value.split()) >= 4
        ):
            found.append(f"{where}: a word list (split)")
    return found


def test_no_language_rule_outside_rag_language() -> None:
    found = [
        problem
        for path in sorted(ROOT.rglob("*.py"))
        if not path.relative_to(ROOT).as_posix().startswith("language/")
        for problem in violations(path)
    ]
    assert not found, "language rules belong in rag/language/:\n" + "\n".join(found)


def test_the_scan_finds_what_it_looks_for(monkeypatch) -> None:
    """Each kind of language rule is found (so the test above cannot pass by finding nothing)."""
    sample = ROOT / "_seam_probe.py"
    sample_text = '''
"""A docstring may say "de" and list der die das den."""
LANGUAGE = "de"
WHY = frozenset({"warum", "wieso", "weshalb"})
STOP = "der die das den dem".split()
CAUSAL = r"\\b(?:weil|denn|deshalb)\\b"
NAMES = ["document", "format", "lang"]
'''
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: sample_text)
    found = violations(sample)
    assert sorted(f.split(": ", 1)[1].split(":")[0] for f in found) == [
        "a word list", "a word list (split)", "language code 'de'", "words alternating in a pattern",
    ], found
