"""Helper of `make mutants` (not a test): writes mutmut's setup.cfg for the files to mutate, and
afterwards one summary line from mutmut's CI/CD stats.

    python tests/mutants_config.py rag/answer/model.py rag/index/lexical.py > setup.cfg
    python tests/mutants_config.py --summary mutants/mutmut-cicd-stats.json SECONDS FILES...
    mutmut results --all true | python tests/mutants_config.py --modules > modules.md
"""

from __future__ import annotations

import json
import sys


def config(files: list[str]) -> str:
    lines = ["[mutmut]", "source_paths=rag", "only_mutate="]
    lines += [f"  {f}" for f in files]
    lines += ["also_copy=", "  seeds", "  ui.py"]
    # mutmut stops a mutant after (covering tests' measured seconds + constant) x multiplier
    # (wall clock; twice that in CPU time). Its default x15 lets a looping mutant of the sentence
    # splitter run ~8 minutes. The measured seconds leave out fixture set-up (an index built per
    # test): with +5 s, mutants that fail at once timed out on a loaded machine and counted as
    # killed, so the constant is 30 s.
    lines += ["timeout_multiplier=4", "timeout_constant=30"]
    # The fast suite only: the real model is not loaded, so one mutant costs seconds.
    lines += ["pytest_add_cli_args=", "  -m", "  not slow", "  -p", "  no:cacheprovider", "  -q"]
    # It reads the source text, which holds every mutant (a mutant's allow_pickle=True too).
    source_scan = "tests/app/test_robust_defaults.py::test_sources_never_unpickle_or_run_a_shell"
    lines += ["  --deselect", f"  {source_scan}"]
    # Processes started in another folder import the installed tree under mutmut (tests/conftest.py).
    lines += ["  --deselect", "  tests/test_tree.py::test_started_processes_import_this_tree"]
    lines += ["  -p", "  tests.mutants_plugin"]  # cheapest covering tests first (see there)
    lines += ["pytest_add_cli_args_test_selection=", "  tests"]
    return "\n".join(lines) + "\n"


def summary(stats_file: str, seconds: int, files: list[str]) -> str:
    s = json.load(open(stats_file, encoding="utf-8"))
    killed = s["killed"] + s["timeout"]
    tested = killed + s["survived"] + s.get("suspicious", 0) + s.get("segfault", 0)
    rate = killed / tested if tested else 0.0
    return (
        f"mutated: {' '.join(files)}\n"
        f"mutants {s['total']}; tested {tested}: killed {s['killed']}, timeout {s['timeout']}, "
        f"survived {s['survived']}, suspicious {s.get('suspicious', 0)}; no tests {s['no_tests']}, "
        f"skipped {s['skipped']}, not checked {s['total'] - tested - s['no_tests'] - s['skipped']}; "
        f"kill rate {rate:.1%} of tested; {seconds} s"
    )


def modules(results: list[str]) -> str:
    """A Markdown table per mutated module from `mutmut results --all true` lines
    (``    rag.index.store.x_build_index__mutmut_3: survived``); a partial run shows what is left."""
    columns = ["killed", "timeout", "survived", "no tests", "not checked", "other"]
    counts: dict[str, dict[str, int]] = {}
    for line in results:
        name, _, status = line.strip().rpartition(": ")
        if "__mutmut_" not in name:
            continue
        module = name.split(".x", 1)[0]  # rag.index.store.x_build_index / .xǁClassǁmethod
        row = counts.setdefault(module, dict.fromkeys(columns, 0))
        row[status if status in row else "other"] += 1
    out = ["| module | mutants | " + " | ".join(columns) + " | kill rate of tested |"]
    out.append("|---" * (len(columns) + 3) + "|")
    total = dict.fromkeys(columns, 0)
    for module, row in [*sorted(counts.items()), ("all", total)]:
        if module != "all":
            for c in columns:
                total[c] += row[c]
        killed = row["killed"] + row["timeout"]
        tested = killed + row["survived"] + row["other"]
        rate = f"{killed / tested:.0%}" if tested else "-"
        cells = " | ".join(str(row[c]) for c in columns)
        out.append(f"| {module} | {sum(row.values())} | {cells} | {rate} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--summary"]:
        print(summary(sys.argv[2], int(sys.argv[3]), sys.argv[4:]))
    elif sys.argv[1:2] == ["--modules"]:
        sys.stdout.write(modules(sys.stdin.read().splitlines()))
    else:
        sys.stdout.write(config(sys.argv[1:]))
