"""Helper of `make mutants-sample` (not a test): a seeded random sample of the mutants and its
kill rate with a 95% confidence interval.

Run inside mutmut's work folder (build/mutants, with its setup.cfg):

    python ../../tests/mutants_sample.py sample N SEED sample.txt        # generates, then samples
    mutmut run $(cat sample.txt)                                        # only those are tested
    mutmut results --all true > results.txt
    python ../../tests/mutants_sample.py report sample.txt results.txt SECONDS

`sample` generates every mutant of the configured files as `mutmut run` does (mutmut 3's own
functions; nothing is tested) and prints N names drawn uniformly without replacement with
``random.Random(SEED)``, so the same tree, files and seed give the same sample. `report` reads the
verdicts of the sampled mutants only: killed (a timeout is a kill), survived, and "no tests" (no
fast test runs the mutated function: counted as survived, since nothing would notice it); the
kill rate is over all sampled mutants with a verdict, its interval the Wilson score interval.
"""

from __future__ import annotations

import math
import os
import random
import sys
from collections import Counter

KILLED = {"killed", "timeout"}
NOT_KILLED = {"survived", "no tests", "suspicious", "segfault"}


def all_mutant_names(jobs: int = 2) -> list[str]:
    """Every mutant of the files in setup.cfg, generated into ./mutants as `mutmut run` would."""
    from mutmut.__main__ import (
        collect_source_file_mutation_data,
        copy_also_copy_files,
        copy_src_dir,
        create_mutants,
        setup_source_paths,
        store_lines_covered_by_tests,
    )
    from mutmut.mutation.trampoline import set_mutant_under_test

    set_mutant_under_test("mutant_generation")
    os.makedirs("mutants", exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    store_lines_covered_by_tests()
    create_mutants(jobs)
    mutants, _ = collect_source_file_mutation_data(mutant_names=())
    return sorted(name for _, name, _ in mutants)


def sample(names: list[str], n: int, seed: int) -> list[str]:
    return sorted(random.Random(seed).sample(sorted(names), min(n, len(names))))


def wilson(killed: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a share killed/n (95% for z = 1.96)."""
    if n == 0:
        return 0.0, 1.0
    p = killed / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def verdicts(lines: list[str]) -> dict[str, str]:
    """`mutmut results --all true` lines (``    rag.x.y__mutmut_3: survived``) as name -> status."""
    out = {}
    for line in lines:
        name, _, status = line.strip().rpartition(": ")
        if "__mutmut_" in name:
            out[name] = status
    return out


def report(sampled: list[str], results: dict[str, str], seconds: int, population: int | None = None) -> str:
    statuses = Counter(results.get(name, "not checked") for name in sampled)
    killed = sum(statuses[s] for s in KILLED)
    not_killed = sum(statuses[s] for s in NOT_KILLED)
    judged = killed + not_killed
    low, high = wilson(killed, judged)
    rate = killed / judged if judged else 0.0
    modules = Counter(name.split(".x", 1)[0] for name in sampled)
    survivors = [f"{name}: {results[name]}" for name in sampled if results.get(name) in NOT_KILLED]
    lines = [
        f"sampled {len(sampled)}" + (f" of {population}" if population else "")
        + f"; killed {killed} (timeout {statuses['timeout']}), survived {statuses['survived']}, "
        f"no tests {statuses['no tests']}, suspicious {statuses['suspicious']}, "
        f"not checked {statuses['not checked']}; kill rate {rate:.1%} of {judged} "
        f"(95% Wilson interval {low:.1%} - {high:.1%}); {seconds} s",
        "per module: " + ", ".join(f"{m} {c}" for m, c in sorted(modules.items())),
        "survivors (not killed):",
        *(f"  {s}" for s in survivors),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    command = sys.argv[1:2]
    if command == ["sample"]:
        # mutmut's progress lines go to stderr (at the descriptor: it resets sys.stdout itself).
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(2, 1)
        try:
            names = all_mutant_names(int(os.environ.get("MUTANT_JOBS", "2")))
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
        print(f"{len(names)} mutants; sampling {sys.argv[2]} with seed {sys.argv[3]}", file=sys.stderr)
        with open(sys.argv[4], "w", encoding="utf-8") as out:
            out.write("".join(f"{name}\n" for name in sample(names, int(sys.argv[2]), int(sys.argv[3]))))
    elif command == ["report"]:
        sampled = [line.strip() for line in open(sys.argv[2], encoding="utf-8") if line.strip()]
        lines = open(sys.argv[3], encoding="utf-8").read().splitlines()
        results = verdicts(lines)
        sys.stdout.write(report(sampled, results, int(sys.argv[4]), len(results) or None))
    else:
        sys.exit(__doc__)
