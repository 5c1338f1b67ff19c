"""Read SQuAD/XQuAD JSON into documents and questions.

Each paragraph becomes its own :class:`Document` (id ``a{article}-p{paragraph}``), so a hit or
a citation can be checked against the answer span by document id and character offsets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from rag.ingest.text import guess_language
from rag.jsonfile import read_json
from rag.records import Document


class SquadFormatError(ValueError):
    """The file is not SQuAD JSON; the message says where."""


@dataclass(frozen=True)
class SquadQuestion:
    qid: str
    question: str
    doc_id: str
    answer_text: str
    answer_start: int

    @property
    def answer_end(self) -> int:
        return self.answer_start + len(self.answer_text)


def _load(path: Path) -> list[dict]:
    data = read_json(path, SquadFormatError, str(path))
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise SquadFormatError(f"{path}: expected an object with a 'data' list (SQuAD format)")
    return data["data"]


def load_squad(path: Path, language: str | None = None) -> tuple[list[Document], list[SquadQuestion]]:
    """Paragraph documents and their questions, in file order."""
    articles = _load(path)
    docs: list[Document] = []
    questions: list[SquadQuestion] = []
    for a, article in enumerate(articles):
        title = str(article.get("title", f"article {a}"))
        for p, para in enumerate(article.get("paragraphs", [])):
            try:
                context = para["context"]
                qas = para["qas"]
            except (KeyError, TypeError) as exc:
                raise SquadFormatError(f"{path}: article {a} paragraph {p} lacks {exc}") from exc
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
                answer = (q.get("answers") or [{}])[0]
                questions.append(
                    SquadQuestion(
                        qid=str(q.get("id", len(questions))),
                        question=str(q.get("question", "")),
                        doc_id=doc_id,
                        answer_text=str(answer.get("text", "")),
                        answer_start=int(answer.get("answer_start", -1)),
                    )
                )
    return docs, questions


def load_parallel_questions(path: Path, reference: list[SquadQuestion]) -> list[SquadQuestion]:
    """Questions of a parallel file (same structure, other language) paired by position."""
    _, other = load_squad(path)
    if len(other) != len(reference):
        raise SquadFormatError(
            f"{path}: {len(other)} questions, but the reference has {len(reference)}; not parallel"
        )
    return [
        SquadQuestion(r.qid, o.question, r.doc_id, r.answer_text, r.answer_start)
        for r, o in zip(reference, other, strict=True)
    ]


def corpus_fingerprint(docs: list[Document]) -> str:
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(doc.doc_id.encode() + b"\0" + doc.content_hash.encode())
    return digest.hexdigest()
