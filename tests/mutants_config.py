"""Helper of `make mutants` (not a test): writes mutmut's setup.cfg for the files to mutate, and
afterwards one summary line from mutmut's CI/CD stats.

    python tests/mutants_config.py rag/answer/model.py rag/index/lexical.py > setup.cfg
    python tests/mutants_config.py --summary mutants/mutmut-cicd-stats.json SECONDS FILES...
"""

from __future__ import annotations

import json
import sys


def config(files: list[str]) -> str:
    lines = ["[mutmut]", "source_paths=rag", "only_mutate="]
    lines += [f"  {f}" for f in files]
    lines += ["also_copy=", "  seeds", "  ui.py"]
    # The fast suite only: the real model is not loaded, so one mutant costs seconds.
    lines += ["pytest_add_cli_args=", "  -m", "  not slow", "  -p", "  no:cacheprovider", "  -q"]
    # It reads the source text, which holds every mutant (a mutant's allow_pickle=True too).
    source_scan = "tests/app/test_robust_defaults.py::test_sources_never_unpickle_or_run_a_shell"
    lines += ["  --deselect", f"  {source_scan}"]
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


if __name__ == "__main__":
    if sys.argv[1:2] == ["--summary"]:
        print(summary(sys.argv[2], int(sys.argv[3]), sys.argv[4:]))
    else:
        sys.stdout.write(config(sys.argv[1:]))
