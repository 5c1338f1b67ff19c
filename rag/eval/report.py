"""Write an evaluation report: report.json, report.md (GitHub-readable), PNG charts, comparisons.

Takes the dict built by :func:`rag.eval.evaluate.build_report`; nothing here computes a metric.

Example::

    write_report(Path("reports/article"), report, results)
    print(summary_table(report))
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.eval.evaluate import BLOCKS, SEARCH_K, QuestionResult, risk_coverage, worst_cases

LABELS = {
    "counts": "",
    "retrieval": "",
    "answer": "",
    "abstention": "",
    "support": "",
    "latency_ms": " (ms)",
}
CHARTS = {"hit_at_k": "hit_at_k.png", "latency": "latency.png", "risk_coverage": "risk_coverage.png"}


def _fmt(block: str, value: Any) -> str:
    if value is None:
        return "–"
    if block == "counts":
        return str(int(value))
    if block == "latency_ms":
        return f"{value:.1f}"
    return f"{value:.3f}"


def _cell(text: str, limit: int = 160) -> str:
    """Text safe for a Markdown table cell: one line, pipes escaped, shortened."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text.replace("|", "\\|")


def summary_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per figure, columns 'all' then each language."""
    languages = list(report.get("by_language", {}))
    header = ["figure", "all", *languages]
    rows = []
    for block, names in BLOCKS.items():
        for name in names:
            row = [f"{block} {name}", _fmt(block, report[block][name])]
            row += [_fmt(block, report["by_language"][lang][block][name]) for lang in languages]
            rows.append(row)
    return header, rows


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], right_from: int = 1) -> str:
    align = ["---" if i < right_from else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def summary_table(report: dict[str, Any]) -> str:
    """The figures of the report as one Markdown table (also what `rag eval` prints)."""
    return markdown_table(*summary_rows(report))


def config_table(config: dict[str, Any]) -> str:
    rows = [
        [f"`{k}`", _cell(json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v, 200)]
        for k, v in config.items()
    ]
    return markdown_table(["setting", "value"], rows, right_from=2)


def worst_table(results: Sequence[QuestionResult], limit: int = 10) -> str:
    cases = worst_cases(results, limit)
    if not cases:
        return (
            "No failures: every answerable question's first citation holds an answer, and every "
            "unanswerable one was refused."
        )
    rows = []
    for n, (r, problem) in enumerate(cases, start=1):
        expected = " / ".join(r.answers) if r.answers else "(not answerable)"
        cited = " ‖ ".join(f"[{i}] {text}" for i, text in enumerate(r.cited, start=1)) or "(refused)"
        rows.append(
            [
                str(n),
                _cell(r.qid, 40),
                r.lang,
                _cell(r.question, 140),
                _cell(expected, 80),
                _cell(cited, 260),
                problem,
            ]
        )
    return markdown_table(
        ["#", "id", "lang", "question", "expected", "cited", "what went wrong"], rows, right_from=99
    )


def render_markdown(
    report: dict[str, Any], results: Sequence[QuestionResult], charts: dict[str, str], worst: int = 10
) -> str:
    config = report["config"]
    counts = report["counts"]
    title = config.get("name") or "evaluation"
    parts = [
        f"# Evaluation: {title}",
        "",
        f"{counts['questions']} questions ({counts['answerable']} answerable, {counts['unanswerable']} not), "
        f"model `{config.get('model')}`, retriever `{config.get('retriever')}`, top_k {config.get('top_k')}"
        + (f", commit `{config['git_commit']}`" if config.get("git_commit") else "")
        + (f", {config['created_at']}" if config.get("created_at") else "")
        + ".",
        "",
        "## Figures",
        "",
        summary_table(report),
        "",
        f"Shares between 0 and 1; `–` where no question stands behind a figure. hit@k and MRR (over the "
        f"top {SEARCH_K}) count answerable questions with an answer in one of the top k retrieved chunks; "
        "the citation figures count answerable questions (precision: all their citations); "
        "`mean_citations` is per answered answerable question; latency is the pipeline's own time per "
        "question, model loading excluded.",
        "",
    ]
    if charts:
        parts += ["## Charts", ""]
        parts += [f"![{name}]({file})" for name, file in charts.items()]
        parts += [""]
    parts += [
        f"## Worst cases (up to {worst})",
        "",
        worst_table(results, worst),
        "",
        "## Configuration",
        "",
        config_table(config),
        "",
    ]
    return "\n".join(parts)


def write_charts(out: Path, report: dict[str, Any], results: Sequence[QuestionResult]) -> dict[str, str]:
    """hit@k by language and a latency histogram, with Matplotlib's Agg canvas (no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    written: dict[str, str] = {}
    groups = [("all", report)] + list(report["by_language"].items())
    groups = [(name, block) for name, block in groups if block["counts"]["answerable"]]
    ks = [name for name in BLOCKS["retrieval"] if name.startswith("hit@")]
    if groups:
        fig = Figure(figsize=(7, 4), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        width = 0.8 / len(groups)
        for g, (name, block) in enumerate(groups):
            values = [block["retrieval"][k] or 0.0 for k in ks]
            xs = [i + (g - (len(groups) - 1) / 2) * width for i in range(len(ks))]
            bars = ax.bar(xs, values, width, label=f"{name} (n={block['counts']['answerable']})")
            ax.bar_label(bars, fmt="%.2f", fontsize=7)
        ax.set_xticks(range(len(ks)), ks)
        ax.set_ylim(0, 1.25)
        ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        ax.set_ylabel("share of answerable questions")
        ax.set_title(f"Retrieval hit@k by language ({report['config'].get('retriever')})")
        ax.legend(loc="upper left", ncols=len(groups), frameon=False)
        fig.savefig(out / CHARTS["hit_at_k"], dpi=110)
        written["hit@k by language"] = CHARTS["hit_at_k"]
    latencies = [r.latency_ms for r in results]
    if latencies:
        fig = Figure(figsize=(7, 4), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.hist(latencies, bins=min(40, max(5, len(latencies) // 4)), color="#4c72b0")
        for name, style in (("p50", "--"), ("p95", ":")):
            value = report["latency_ms"][name]
            if value is not None:
                ax.axvline(value, color="black", linestyle=style, label=f"{name} {value:.1f} ms")
        ax.set_xlabel("latency per question (ms)")
        ax.set_ylabel("questions")
        ax.set_title(f"Latency ({len(latencies)} questions)")
        ax.legend()
        fig.savefig(out / CHARTS["latency"], dpi=110)
        written["latency histogram"] = CHARTS["latency"]
    if any(r.refusal_score is not None for r in results):
        coverage, risk = risk_coverage(results)
        fig = Figure(figsize=(7, 4), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.plot(coverage, risk, color="#c44e52")
        confident = sum(r.confidence == "high" for r in results) / len(results)
        answered = sum(not r.abstained for r in results) / len(results)
        ax.axvline(confident, color="#2f7d32", linestyle="-", label=f"'high' up to here: {confident:.0%}")
        ax.axvline(
            answered, color="black", linestyle="--", label=f"'none' from here: {1 - answered:.0%} refused"
        )
        ax.set_xlabel("share of questions answered (most confident first)")
        ax.set_ylabel("share of those answered wrongly")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title("Risk and coverage of the support model (its two thresholds marked)")
        ax.legend(loc="upper left", frameon=False)
        fig.savefig(out / CHARTS["risk_coverage"], dpi=110)
        written["risk-coverage"] = CHARTS["risk_coverage"]
    return written


def write_report(
    out: Path, report: dict[str, Any], results: Sequence[QuestionResult], worst: int = 10, charts: bool = True
) -> list[Path]:
    """Write report.json, results.jsonl (one line per question), the PNGs and report.md into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    with open(out / "results.jsonl", "w", encoding="utf-8") as handle:
        for r in results:
            handle.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    written = write_charts(out, report, results) if charts else {}
    (out / "report.md").write_text(render_markdown(report, results, written, worst), encoding="utf-8")
    return [
        out / "report.json",
        out / "report.md",
        out / "results.jsonl",
        *(out / f for f in written.values()),
    ]


# --------------------------------------------------------------------------- comparison


def _flatten(report: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(section, "block name", value) rows for the whole run and each language."""
    rows = []
    sections = [("all", report)] + [(lang, block) for lang, block in report.get("by_language", {}).items()]
    for section, node in sections:
        for block, names in BLOCKS.items():
            for name in names:
                rows.append((section, f"{block} {name}", (node.get(block) or {}).get(name)))
    return rows


def _delta(block_name: str, a: Any, b: Any) -> str:
    if a is None or b is None:
        return "" if a is b else "n/a"
    diff = a - b
    if abs(diff) < 1e-12:
        return "="
    if block_name.startswith("counts"):
        return f"{diff:+d}"
    if block_name.startswith("latency_ms"):
        return f"{diff:+.1f}"
    return f"{diff:+.3f}"


def compare_text(
    this: dict[str, Any], other: dict[str, Any], this_name: str = "this run", other_name: str = "other"
) -> str:
    """Two reports side by side (Markdown), figures then the configuration settings that differ."""
    theirs = {(s, n): v for s, n, v in _flatten(other)}
    rows = []
    for section, name, value in _flatten(this):
        block = name.split(" ")[0]
        other_value = theirs.get((section, name))
        if section != "all" and (section, name) not in theirs:
            other_value = None
        rows.append(
            [section, name, _fmt(block, value), _fmt(block, other_value), _delta(name, value, other_value)]
        )
    for (section, name), value in theirs.items():
        if section != "all" and section not in this.get("by_language", {}):
            block = name.split(" ")[0]
            rows.append([section, name, "–", _fmt(block, value), "n/a"])
    text = [markdown_table(["section", "figure", this_name, other_name, "Δ"], rows, right_from=2)]
    a, b = this.get("config", {}), other.get("config", {})
    skip = {"created_at"}
    changed = [k for k in sorted(set(a) | set(b)) if k not in skip and a.get(k) != b.get(k)]
    if changed:
        text += ["", "Settings that differ:", ""]
        text += [
            f"- `{k}`: {json.dumps(a.get(k), ensure_ascii=False)} vs "
            f"{json.dumps(b.get(k), ensure_ascii=False)}"
            for k in changed
        ]
    return "\n".join(text)
