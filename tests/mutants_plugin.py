"""pytest plugin of `make mutants` (not a test; loaded with `-p tests.mutants_plugin` only there).

mutmut runs, per mutant, every fast test that calls the mutated function, with `-x`: a killed
mutant costs the tests up to the first failure. Run in mutmut's order (a set's), the one-second
index-building tests often came first, so even mutants that a unit test kills in milliseconds
cost seconds. Here the selected tests run cheapest first, by the durations mutmut measured in its
stats run; test files stay together (their module fixtures are built once), cheapest file first.

The project's ``functools`` caches (stop words, language tables, models) would hide code from
mutmut twice: its stats run would credit a function called only while filling a cache to the one
test that filled it first (``_bm25s_stopwords`` had one covering test), and each mutant's run is
forked from that process, caches filled, so the mutated code would never run and "survive". So
they are cleared before every test of the stats run and at the start of every mutant's run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

STATS = Path("mutmut-stats.json")  # mutmut runs pytest inside its mutants/ folder
SETUP_RUNS = {"", "stats", "list_all_tests", "mutant_generation"}


def _clear_project_caches() -> None:
    for name, module in list(sys.modules.items()):
        if name == "rag" or name.startswith("rag."):
            for value in list(vars(module).values()):
                clear = getattr(value, "cache_clear", None)
                if callable(clear) and getattr(value, "__module__", None) == name:
                    clear()


def pytest_sessionstart(session) -> None:  # noqa: ANN001, ARG001
    if os.environ.get("MUTANT_UNDER_TEST", "") not in SETUP_RUNS:
        _clear_project_caches()


def pytest_runtest_setup(item) -> None:  # noqa: ANN001, ARG001
    if os.environ.get("MUTANT_UNDER_TEST", "") == "stats":
        _clear_project_caches()


def pytest_collection_modifyitems(session, config, items) -> None:  # noqa: ANN001, ARG001
    if os.environ.get("MUTANT_UNDER_TEST", "") in SETUP_RUNS or not STATS.exists():
        return  # mutmut's own runs (stats, clean), or pytest outside mutmut: the usual order
    durations: dict[str, float] = json.loads(STATS.read_text("utf-8")).get("duration_by_test", {})
    slow = max(durations.values(), default=1.0)  # a test without a figure: assume the worst

    def cost(item) -> float:  # noqa: ANN001
        return durations.get(item.nodeid, slow)

    by_file: dict[str, list] = {}
    for item in items:
        by_file.setdefault(item.nodeid.split("::")[0], []).append(item)
    files = sorted(by_file.values(), key=lambda group: sum(cost(i) for i in group))
    items[:] = [item for group in files for item in sorted(group, key=cost)]
