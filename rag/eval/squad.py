"""Read SQuAD/XQuAD JSON into documents and questions.

Each paragraph becomes its own :class:`Document` (id ``a{article}-p{paragraph}``), so a hit or
a citation can be checked against the answer span by document id and character offsets.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

from rag.config import Settings
from rag.eval.questions import EvalFormatError, EvalQuestion
from rag.index.store import corpus_language
from rag.jsonfile import read_json
from rag.language import guess_language
from rag.language.identify import identify_language
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


def article_of(doc_id: str) -> int:
    """The article number of a paragraph document id (``a07-p03`` -> 7)."""
    return int(doc_id[1:].split("-", 1)[0])


def parse_articles(text: str) -> frozenset[int]:
    """``"0-15"``, ``"16-23"``, ``"1,3,5-7"`` -> article numbers; ValueError when malformed."""
    numbers: set[int] = set()
    for part in text.split(","):
        first, sep, last = part.strip().partition("-")
        low, high = int(first), int(last) if sep else int(first)
        if low < 0 or high < low:
            raise ValueError(f"{part!r} is not an article range such as 0-15")
        numbers.update(range(low, high + 1))
    return frozenset(numbers)


def only_articles(
    documents: list[Document], questions: list[EvalQuestion], articles: frozenset[int]
) -> tuple[list[Document], list[EvalQuestion]]:
    """The paragraphs and questions of some articles (whole articles are held out together)."""
    kept = [d for d in documents if article_of(d.doc_id) in articles]
    ids = {d.doc_id for d in kept}
    return kept, [q for q in questions if q.doc_id in ids]


def article_ranges(numbers: frozenset[int]) -> str:
    """{0, 1, 2, 5} -> "0-2,5"."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def slug(text: str, limit: int = 40) -> str:
    """A file-name-safe form of ``text``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return cleaned[:limit] or "x"


def questions_language(questions: list[EvalQuestion], fallback: str) -> str:
    """The questions' language by majority over the file (one short question can mislead)."""
    votes = Counter(identify_language(q.question)[0] for q in questions)
    votes.pop("", None)
    return votes.most_common(1)[0][0] if votes else fallback


def load_squad_run(
    source: Path, parallel: str | Path | None, settings: Settings, articles: frozenset[int] | None = None
) -> tuple[list[Document], list[EvalQuestion], Path]:
    """The paragraphs and questions of a SQuAD file (questions from a parallel file if given,
    some articles only if given), and the index folder kept for exactly that corpus."""
    documents, questions = load_squad(source)
    if parallel:
        questions = load_parallel_questions(Path(parallel), questions)
    part = ""
    if articles is not None:
        documents, questions = only_articles(documents, questions, articles)
        part = "-a" + slug(article_ranges(articles), 40)
    if not documents:
        raise EvalFormatError(f"{source}: no paragraphs in the file")
    if not questions:
        raise EvalFormatError(f"{parallel or source}: no questions in the file")
    language = questions_language(questions, corpus_language(documents))
    questions = [replace(q, lang=language) for q in questions]
    digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()[:12]
    index_dir = Path(settings.index_dir) / (
        f"squad-{slug(Path(source).stem)}-{slug(settings.model, 30)}-{digest}{part}"
    )
    return documents, questions, index_dir
