"""Plot cost against corpus size from a `rag bench --out FILE.json` report.

Usage: .venv/bin/python bench/plot_scale.py bench.json docs/scale.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def plot(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scale = report["scale"]
    n = [e["chunks"] for e in scale]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))

    ax = axes[0]
    ax.plot(n, [e["query_p50_ms"] for e in scale], "o-", label="hybrid query p50 (dense+lexical+fusion)")
    ax.plot(n, [e["stages_p50_ms"]["dense"] for e in scale], "s--", label="dense search p50 (index used)")
    ax.plot(n, [e["stages_p50_ms"]["lexical"] for e in scale], "^--", label="lexical (BM25) p50")
    ax.plot(n, [e["exact_dense_p50_ms"] for e in scale], "x:", label="exact flat scan p50 (for comparison)")
    ax.axhline(20, color="grey", lw=0.8, ls="--")
    ax.text(n[0], 21, "20 ms floor", color="grey", fontsize=8)
    for e in scale:
        label = f"{e['index_type']}, R@10 {e['recall_at_10_vs_exact']:.3f}"
        ax.annotate(label, (e["chunks"], e["query_p50_ms"]), textcoords="offset points", xytext=(-30, 8),
                    fontsize=7)
    ax.set(xscale="log", yscale="log", xlabel="chunks", ylabel="ms per question", title="Query latency")
    ax.legend(fontsize=7)

    ax = axes[1]
    ax.plot(n, [e["dense_build_s"] for e in scale], "o-", label="dense index")
    ax.plot(n, [e["lexical_build_s"] for e in scale], "s-", label="BM25 index")
    ax.set(xscale="log", yscale="log", xlabel="chunks", ylabel="seconds", title="Build time")
    ax.legend(fontsize=7)

    ax = axes[2]
    ax.plot(n, [e["rss_mb"] for e in scale], "o-", label="RSS while serving")
    ax.plot(n, [e["disk_mb"] for e in scale], "s-", label="on disk")
    ax.set(xscale="log", yscale="log", xlabel="chunks", ylabel="MB", title="Memory and disk")
    ax.legend(fontsize=7)

    m = report["machine"]
    title = f"rag bench, synthetic 512-d corpora — {m['cpu']}, {m['usable_cores']} cores, {m['ram_gb']} GB"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    plot(json.loads(Path(argv[0]).read_text("utf-8")), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
