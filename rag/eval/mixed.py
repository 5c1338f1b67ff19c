"""Documents in several languages in one corpus: is each searched as well as when it is alone?

The question file is the project's JSONL format with one more key per question, ``doc``: the
file name of the document it asks about (for an unanswerable question, the document it is
closest to). The documents are looked up next to the question file, then in the seeds folder.
Each is indexed alone and all are indexed together (in temporary seeds folders under
``--work``); each corpus is asked its documents' questions as ``rag eval`` asks them (a report
folder per corpus under ``--out``), and the figures are printed per document and question
language, together next to alone.

Example (``make eval-mixed``)::

    python -m rag.eval.mixed seeds/eval/mixed/questions.jsonl --out reports/mixed
    python -m rag.eval.mixed seeds/eval/mixed/questions.jsonl --out reports/mixed-new \\
        --compare reports/mixed/summary.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.eval.evaluate import RunOptions, run_eval
from rag.eval.questions import EvalFormatError, load_questions
from rag.eval.report import write_report

MIXED = "mixed"
FIGURES = ("hit@1", "first_citation", "refused_answerable", "refused_unanswerable")


def question_documents(path: Path) -> dict[str, str]:
    """Question id -> the ``doc`` it asks about; :class:`EvalFormatError` when one has none."""
    docs: dict[str, str] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        item = json.loads(line)
        doc = item.get("doc") if isinstance(item, dict) else None
        if not isinstance(doc, str) or not doc.strip():
            raise EvalFormatError(f"{path}:{number}: 'doc' must name the document the question is about")
        docs[str(item["id"])] = doc.strip()
    return docs


def find_document(name: str, places: Sequence[Path]) -> Path:
    for place in places:
        if (Path(place) / name).is_file():
            return Path(place) / name
    raise EvalFormatError(f"document {name} is in none of: {', '.join(str(p) for p in places)}")


def prepare(questions: Path, seeds: Path, work: Path) -> dict[str, tuple[Path, Path]]:
    """Corpus name -> (its seeds folder, its question file): ``mixed`` and one per document."""
    load_questions(questions)  # the usual checks of the format, with file:line messages
    doc_of = question_documents(questions)
    files = {name: find_document(name, [questions.parent, seeds]) for name in sorted(set(doc_of.values()))}
    lines = [line for line in questions.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    corpora = {MIXED: list(files)} | {name: [name] for name in files}
    out = {}
    for corpus, names in corpora.items():
        folder = work / Path(corpus).stem
        seeds_dir = folder / "seeds"
        shutil.rmtree(seeds_dir, ignore_errors=True)
        seeds_dir.mkdir(parents=True)
        for name in names:
            shutil.copyfile(files[name], seeds_dir / name)
        chosen = [line for line in lines if doc_of[str(json.loads(line)["id"])] in names]
        (folder / "questions.jsonl").write_text("\n".join(chosen) + "\n", encoding="utf-8")
        out[corpus] = (seeds_dir, folder / "questions.jsonl")
    return out


def run(corpus: str, seeds_dir: Path, questions: Path, out: Path, settings: Settings, encoder: Any) -> Path:
    """The questions of one corpus, asked and judged as ``rag eval`` does; returns the path of
    its results.jsonl (next to report.json and report.md)."""
    from rag.pipeline import Pipeline

    settings = settings.with_(seeds_dir=seeds_dir, index_dir=seeds_dir.parent / "index")
    print(f"== {corpus}: {questions} over {seeds_dir}", file=sys.stderr, flush=True)
    pipeline = Pipeline.open(settings, encoder=encoder, progress=False)
    config = {"name": Path(corpus).stem, "questions_file": str(questions), "corpus": str(seeds_dir),
              "retriever": settings.retriever, "documents": len(pipeline.index.documents),
              "tuning": asdict(settings.tuning), "index_tuning": asdict(settings.index_tuning)}
    report, results = run_eval(pipeline, load_questions(questions), config, RunOptions(desc=corpus))
    folder = out / Path(corpus).stem
    write_report(folder, report, results, charts=False)
    return folder / "results.jsonl"


def figures(results: list[dict[str, Any]]) -> dict[str, Any]:
    """hit@1, first citation right and refusals of some questions' results."""
    answerable = [r for r in results if r["answers"]]
    unanswerable = [r for r in results if not r["answers"]]

    def share(count: int, total: int) -> float | None:
        return round(count / total, 3) if total else None

    return {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "hit@1": share(sum(r["rank"] == 1 for r in answerable), len(answerable)),
        "first_citation": share(sum(bool(r["citation_hits"] and r["citation_hits"][0]) for r in answerable),
                                len(answerable)),
        "refused_answerable": share(sum(bool(r["abstained"]) for r in answerable), len(answerable)),
        "refused_unanswerable": share(sum(bool(r["abstained"]) for r in unanswerable), len(unanswerable)),
    }


def summarize(results: dict[str, list[dict[str, Any]]], doc_of: dict[str, str]) -> dict[str, Any]:
    """Figures per (document, question language), in the mixed corpus and alone, plus totals."""
    rows = {}
    keys = sorted({(doc_of[r["id"]], r["lang"]) for r in results[MIXED]})
    for doc, lang in keys:
        pick = [r for r in results[MIXED] if doc_of[r["id"]] == doc and r["lang"] == lang]
        alone = [r for r in results[doc] if r["lang"] == lang]
        rows[f"{doc} <- {lang}"] = {MIXED: figures(pick), "alone": figures(alone)}
    for lang in sorted({r["lang"] for r in results[MIXED]}):
        alone = [r for doc in {d for d, _ in keys} for r in results[doc] if r["lang"] == lang]
        rows[f"all <- {lang}"] = {
            MIXED: figures([r for r in results[MIXED] if r["lang"] == lang]), "alone": figures(alone)
        }
    return rows


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.2f}"


def table(summary: dict[str, Any], before: dict[str, Any] | None = None) -> str:
    """Markdown: one row per document and question language, mixed / alone for each figure
    (with ``before``: "now (before)" in every cell)."""
    head = "| document <- questions | n | " + " | ".join(f"{f} mixed / alone" for f in FIGURES) + " |"
    lines = [head, "|" + "---|" * (2 + len(FIGURES))]
    for key, row in summary.items():
        n = f"{row[MIXED]['answerable']}+{row[MIXED]['unanswerable']}"
        cells = []
        for name in FIGURES:
            cell = f"{_fmt(row[MIXED][name])} / {_fmt(row['alone'][name])}"
            if before and key in before:
                cell += f" ({_fmt(before[key][MIXED][name])} / {_fmt(before[key]['alone'][name])})"
            cells.append(cell)
        lines.append(f"| {key} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag.eval.mixed", description=__doc__.split("\n")[0])
    parser.add_argument("questions", type=Path, help="JSONL questions with a 'doc' key each")
    parser.add_argument("--seeds", type=Path, default=Path("seeds"), help="where else documents are")
    parser.add_argument("--work", type=Path, default=Path("build/eval-mixed"), help="temporary corpora")
    parser.add_argument("--out", type=Path, default=Path("reports/mixed"), help="reports folder")
    parser.add_argument("--compare", type=Path, help="summary.json of an earlier run, shown in ()")
    parser.add_argument("--retriever", choices=("hybrid", "dense", "lexical"), default=None)
    args = parser.parse_args(argv)
    try:
        corpora = prepare(args.questions, args.seeds, args.work)
        doc_of = question_documents(args.questions)
    except (EvalFormatError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from rag.index.encoders import build_encoder

    settings = Settings(retriever=args.retriever) if args.retriever else Settings()
    encoder = build_encoder(settings.model, settings.threads)  # loaded once for every corpus
    results = {}
    for corpus, (seeds_dir, questions) in corpora.items():
        path = run(corpus, seeds_dir, questions, args.out, settings, encoder)
        results[corpus] = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    summary = summarize(results, doc_of)
    before = json.loads(args.compare.read_text(encoding="utf-8")) if args.compare else None
    text = table(summary, before)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (args.out / "summary.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
