"""Question files for evaluation: the project's JSONL format, one record for every source.

SQuAD/XQuAD files are read by ``squad.py`` into the same :class:`EvalQuestion` records.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def normalize_for_match(text: str) -> str:
    """NFC, case folding (ß -> ss) and collapsed white space: how answer strings are compared."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


normalize = normalize_for_match


class EvalFormatError(ValueError):
    """A question file cannot be read; the message names the file (and line)."""


@dataclass(frozen=True)
class EvalQuestion:
    """One question with its gold answers; ``answers == ()`` means not answerable.

    For SQuAD questions ``doc_id``/``answer_start``/``answer_end`` hold the gold span, which
    is then what hits are judged by (the strings are kept for the report).
    """

    qid: str
    lang: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None = None
    answer_start: int | None = None
    answer_end: int | None = None
    # A near-miss copy: asked with these passages withheld from the index (so not answerable);
    # keys of rag.answer.retrieve.passage_key.
    withheld: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def has_span(self) -> bool:
        return self.doc_id is not None and self.answer_start is not None and self.answer_end is not None


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read the project's JSONL format: one ``{"id", "lang", "question", "answers"}`` per line.

    Blank lines are skipped; anything else that is wrong raises :class:`EvalFormatError`
    naming ``file:line``.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise EvalFormatError(f"{path}: file not found") from exc
    except IsADirectoryError as exc:
        raise EvalFormatError(f"{path}: is a folder, not a question file") from exc
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    for number, line_bytes in enumerate(raw.splitlines(), start=1):
        where = f"{path}:{number}"
        try:
            line = line_bytes.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise EvalFormatError(f"{where}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            hint = ""
            head = raw[:2000].decode("utf-8", "replace")
            if number == 1 and line.lstrip().startswith("{") and '"data"' in head:
                hint = " (a SQuAD JSON file? use --format squad)"
            raise EvalFormatError(f"{where}: not valid JSON ({exc}){hint}") from exc
        questions.append(_question_from_json(item, where))
        qid = questions[-1].qid
        if qid in seen:
            raise EvalFormatError(f"{where}: id {qid!r} repeats the id of line {seen[qid]}")
        seen[qid] = number
    if not questions:
        raise EvalFormatError(f"{path}: no questions in the file")
    return questions


def _question_from_json(item: Any, where: str) -> EvalQuestion:
    if not isinstance(item, dict):
        raise EvalFormatError(f"{where}: expected a JSON object, got {type(item).__name__}")
    missing = [k for k in ("id", "lang", "question", "answers") if k not in item]
    if missing:
        raise EvalFormatError(f"{where}: missing key(s) {', '.join(missing)}")
    qid, lang, question, answers = item["id"], item["lang"], item["question"], item["answers"]
    if not isinstance(qid, (str, int)) or isinstance(qid, bool) or str(qid).strip() == "":
        raise EvalFormatError(f"{where}: 'id' must be a non-empty string")
    if not isinstance(lang, str) or not lang.strip():
        raise EvalFormatError(f"{where}: 'lang' must be a language code such as \"de\"")
    if not isinstance(question, str) or not question.strip():
        raise EvalFormatError(f"{where}: 'question' must be non-empty text")
    if not isinstance(answers, list) or not all(isinstance(a, str) and normalize(a) for a in answers):
        raise EvalFormatError(f"{where}: 'answers' must be a list of non-empty strings ([] = not answerable)")
    return EvalQuestion(str(qid), lang.strip().lower(), question, tuple(answers))
