"""Read SQuAD/XQuAD JSON into documents and questions.

Each paragraph becomes its own :class:`Document` (id ``a{article}-p{paragraph}``), so a hit or
a citation can be checked against the answer span by document id and character offsets.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from rag.eval.questions import EvalFormatError, EvalQuestion
from rag.ingest.text import guess_language
from rag.jsonfile import read_json
from rag.records import Document


def _load(path: Path) -> list[dict]:
    data = read_json(path, EvalFormatError, str(path))
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise EvalFormatError(f"{path}: expected an object with a 'data' list (SQuAD format)")
    return data["data"]


def load_squad(path: Path, language: str | None = None) -> tuple[list[Document], list[EvalQuestion]]:
    """Paragraph documents and their questions (``lang`` left empty), in file order."""
    articles = _load(path)
    docs: list[Document] = []
    questions: list[EvalQuestion] = []
    for a, article in enumerate(articles):
        title = str(article.get("title", f"article {a}"))
        for p, para in enumerate(article.get("paragraphs", [])):
            try:
                context = para["context"]
                qas = para["qas"]
            except (KeyError, TypeError) as exc:
                raise EvalFormatError(f"{path}: article {a} paragraph {p} lacks {exc}") from exc
            doc_id = f"a{a:02d}-p{p:02d}"
            docs.append(
                Document(
                    doc_id=doc_id,
                    title=title,
                    language=language or guess_language(context),
                    path=f"{Path(path).name}#{doc_id}",
                    text=context,
                    content_hash=hashlib.sha256(context.encode()).hexdigest(),
                )
            )
            for q in qas:
                questions.append(_question(q, doc_id, len(questions), path))
    return docs, questions


def _question(item: dict, doc_id: str, number: int, path: Path) -> EvalQuestion:
    """A question with its gold span; its ``lang`` is set by the caller (one for the file)."""
    answer = (item.get("answers") or [{}])[0]
    qid = str(item.get("id", number))
    text = str(item.get("question", ""))
    answer_text = str(answer.get("text", ""))
    start = int(answer.get("answer_start", -1))
    if not text.strip():
        raise EvalFormatError(f"{path}: question {qid} is empty")
    if not answer_text or start < 0:
        raise EvalFormatError(f"{path}: question {qid} has no answer span")
    return EvalQuestion(qid, "", text, (answer_text,), doc_id, start, start + len(answer_text))


def load_parallel_questions(path: Path, reference: list[EvalQuestion]) -> list[EvalQuestion]:
    """Questions of a parallel file (same structure, other language) paired by position."""
    _, other = load_squad(path)
    if len(other) != len(reference):
        raise EvalFormatError(
            f"{path}: {len(other)} questions, but the reference has {len(reference)}; not parallel"
        )
    return [replace(r, question=o.question) for r, o in zip(reference, other, strict=True)]


def corpus_fingerprint(docs: list[Document]) -> str:
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(doc.doc_id.encode() + b"\0" + doc.content_hash.encode())
    return digest.hexdigest()
