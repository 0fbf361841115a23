"""The default main job with OpenBLAS on one thread against two (decision 101).

Run: ``python benchmarks/bench_blas.py [PAIRS]`` (default 8). The same tree, the whole
``alvh dryrun rulebooks/alvh_core.alvh`` command in fresh processes, the variable
``OPENBLAS_NUM_THREADS`` set to ``1`` and to ``2`` alternately (each pair's order
swapped); medians of wall and of the child's CPU.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "rulebooks" / "alvh_core.alvh"


def run(threads: str) -> tuple[float, float]:
    """Wall and CPU seconds of one main job with ``OPENBLAS_NUM_THREADS=threads``."""
    with tempfile.TemporaryDirectory(prefix="alvh-bench-") as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "from alvh_dsl.cli import main; main()", "dryrun",
             str(CORE), "--out", f"{tmp}/core"],
            check=True, capture_output=True, cwd=tmp,
            env={**os.environ, "OPENBLAS_NUM_THREADS": threads},
        )  # fmt: skip
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu


def main() -> None:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    samples: dict[str, list[tuple[float, float]]] = {"1": [], "2": []}
    for i in range(pairs):
        for threads in ("1", "2") if i % 2 else ("2", "1"):
            samples[threads].append(run(threads))
    for threads, got in samples.items():
        wall = statistics.median(w for w, _ in got)
        cpu = statistics.median(c for _, c in got)
        print(f"OPENBLAS_NUM_THREADS={threads}: {wall:.2f} s wall, {cpu:.2f} s CPU "
              f"(medians of {pairs})")  # fmt: skip


if __name__ == "__main__":
    main()
