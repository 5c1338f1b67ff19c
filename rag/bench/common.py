"""What every benchmark of `rag bench` shares: its options, summaries of timings, memory and
machine readings, and running a measurement in a fresh process (``python -m rag.bench.runner``).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (2_000, 20_000)
TOP_K = 5
COLD_QUESTION = "Wer leitet den Technologieinvestor Softbank?"


@dataclass
class BenchOptions:
    seeds_dir: Path = Path("seeds")
    questions: Path = Path("seeds/eval/article.jsonl")
    model: str | None = None
    threads: int | None = None
    quick: bool = False
    sizes: Sequence[int] | None = None
    warm_questions: int = 0  # 0: 200 (full) or 100 (quick)
    rss_questions: int = 0  # 0: 1000 (full) or 100 (quick)
    process_runs: int = 0  # 0: 5 (full) or 1 (quick)
    scale_queries: int = 0  # 0: 200 (full) or 50 (quick)
    # The search backends the scale runs measure, each size on each (rag/search/).
    backends: Sequence[str] = ("local",)
    scale_only: bool = False  # only the scale runs (no article, launch or load figures)
    log: Callable[[str], None] = field(default=lambda m: print(m, file=sys.stderr, flush=True))

    def __post_init__(self) -> None:
        self.seeds_dir = Path(self.seeds_dir)
        self.questions = Path(self.questions)
        self.sizes = tuple(self.sizes or (QUICK_SIZES if self.quick else FULL_SIZES))
        self.warm_questions = self.warm_questions or (100 if self.quick else 200)
        self.rss_questions = self.rss_questions or (100 if self.quick else 1000)
        self.process_runs = self.process_runs or (1 if self.quick else 5)
        self.scale_queries = self.scale_queries or (50 if self.quick else 200)


# --------------------------------------------------------------------------- small helpers


def summary(values: Sequence[float], digits: int = 2) -> dict[str, float]:
    """p50 and p95 (numpy's linear interpolation), rounded."""
    arr = np.asarray(values, dtype=np.float64)
    return {"p50": round(float(np.percentile(arr, 50)), digits),
            "p95": round(float(np.percentile(arr, 95)), digits)}


def rss_mb() -> float:
    """Resident memory of this process now (MB)."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    """Largest resident memory of this program (MB).

    Linux's ``VmHWM``, not ``getrusage``: ``ru_maxrss`` survives fork+exec, so a subprocess of
    a big parent would report the parent's size (it did: every subprocess showed the bench's 817 MB).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 2**20


def machine() -> dict[str, Any]:
    """Where the figures come from: CPU, cores, memory, versions, load."""
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from rag.index.dense import library_version
    from rag.index.encoders import usable_cores

    return {
        "cpu": cpu,
        "usable_cores": usable_cores(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "faiss": library_version(),
        "numpy": np.__version__,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


def run_json(args: list[str], timeout: float = 3600) -> dict[str, Any]:
    """Run ``python -m rag.bench.runner <args>`` and parse the JSON it prints last."""
    done = subprocess.run(
        [sys.executable, "-m", "rag.bench.runner", *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench subprocess {args[0]} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def process_env(bytecode_dir: Path) -> dict[str, str]:
    """The environment for timed new processes: bytecode cached in ``bytecode_dir``.

    An installed program finds its modules' ``.pyc`` files; a process started with
    ``PYTHONDONTWRITEBYTECODE`` set (as some sandboxes and CI runners do) compiles every module
    of the project from source at each start instead, ~0.2-1 s of a cold ``rag ask`` here.
    ``PYTHONPYCACHEPREFIX`` keeps the cache out of the source tree; one untimed run of each
    command fills it, for the command being measured and its floor alike.
    """
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(bytecode_dir))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed_process(cmd: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds from starting ``cmd`` until it exits (stdout read to the end)."""
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... failed: {done.stderr.strip()[-1000:]}")
    return elapsed


def rag_command() -> list[str]:
    """The installed ``rag`` console script next to this Python, else ``python -m rag.app.cli``."""
    script = Path(sys.executable).with_name("rag")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rag.app.cli"]


def work_folder(keep: str | Path | None, prefix: str) -> tuple[Path, Any]:
    """Where a scale run builds: ``keep`` (made if missing, left afterwards), else a temporary
    folder; returns it and the ``TemporaryDirectory`` to clean up (None when kept)."""
    import tempfile

    if keep is not None:
        folder = Path(keep)
        folder.mkdir(parents=True, exist_ok=True)
        return folder, None
    tmp = tempfile.TemporaryDirectory(prefix=prefix)
    return Path(tmp.name), tmp
