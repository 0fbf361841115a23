"""OpenBLAS on one thread against two (decision 101), the same tree.

Run: ``python benchmarks/bench_blas.py [PAIRS]`` (default 8). Two commands in fresh
processes, the variable ``OPENBLAS_NUM_THREADS`` set to ``1`` and to ``2`` alternately
(each pair's order swapped): what loads OpenBLAS (``import numpy`` and SciPy's ufuncs,
as ``alvh_dsl.market.special`` loads them), and the whole default main job ``alvh dryrun
rulebooks/alvh_core.alvh``; medians of wall and of the child's CPU.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

import bench_env

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "rulebooks" / "alvh_core.alvh"


IMPORTS = "import numpy; import alvh_dsl.market.special"
MAIN_JOB = "from alvh_dsl.cli import main; main()"


def run(code: str, threads: str) -> tuple[float, float]:
    """Wall and CPU seconds of ``python -c code`` (the main job: with its arguments) with
    ``OPENBLAS_NUM_THREADS=threads``."""
    with tempfile.TemporaryDirectory(prefix="alvh-bench-") as tmp:
        args = ["dryrun", str(CORE), "--out", f"{tmp}/core"] if code == MAIN_JOB else []
        env = bench_env.child_env(PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS=threads)
        return bench_env.timed([sys.executable, "-c", code, *args], env, tmp)


def main() -> None:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    for label, code in (("NumPy and SciPy's ufuncs loaded", IMPORTS), ("main job", MAIN_JOB)):
        samples: dict[str, list[tuple[float, float]]] = {"1": [], "2": []}
        run(code, "1")  # untimed: the disk cache and the bytecode (bench_env)
        for i in range(pairs):
            for threads in ("1", "2") if i % 2 else ("2", "1"):
                samples[threads].append(run(code, threads))
        for threads, got in samples.items():
            wall = statistics.median(w for w, _ in got)
            cpu = statistics.median(c for _, c in got)
            print(f"{label}, OPENBLAS_NUM_THREADS={threads}: {wall:.3f} s wall, {cpu:.3f} s "
                  f"CPU (medians of {pairs})")  # fmt: skip


if __name__ == "__main__":
    main()
