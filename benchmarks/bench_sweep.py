"""Sweep benchmark. Run: ``N=20 python benchmarks/bench_sweep.py`` (default N=1000).

Times what a user waits for — the whole ``alvh_dsl.sweep`` call, the local cluster's
start and close included — for N variants of the core book (a seeded sample of a
1,000-variant grid: roll_dte × hedge_budget × short_delta) over the real 2004–2017
history (../shared/data/history_2004_2017.csv), with two local worker processes and
with one, alternating (``REPEAT=`` rounds, default 1), each run with an empty cache.
Prints, beside issue 11's targets:

- the wall time with 2 workers, the time per variant, and the linear extrapolation to
  1,000 variants (target: ≤ 10 minutes on a 2-core machine);
- the speed-up from 1 worker to 2 (target: near-linear, i.e. close to 2×);
- whether both give the same rows, byte for byte;
- the CPU time of one variant in this process (``workers=0``, ``CPU_VARIANTS=`` of them,
  default 2) and the 1,000-variant time it implies on two idle cores — the figure that
  survives a loaded machine, where wall times measure the other tenants as well.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import alvh_dsl  # noqa: E402

BOOK = str(ROOT / "rulebooks" / "alvh_core.alvh")
SHARED = Path(os.environ.get("ALVH_SHARED", ROOT.parent / "shared"))
GRID = {
    "roll_dte": "5d..14d/1d",  # 10 values
    "hedge_budget": "0.5%..10%/0.5%",  # 20
    "short_delta": "0.10..0.22/0.03",  # 5: 1,000 variants in all
}
TARGET_SECONDS = 600.0


def _run(workers: int, n: int, history: str) -> tuple[float, bytes]:
    with tempfile.TemporaryDirectory(prefix="alvh-bench-sweep-") as out:
        t0 = time.perf_counter()
        alvh_dsl.sweep(
            BOOK, GRID, history, gaps="ffill", sample=n, seed=0, out=out, workers=workers
        )
        wall = time.perf_counter() - t0
        return wall, (Path(out) / "sweep.csv").read_bytes()


def _cpu_per_variant(k: int, history: str) -> float:
    """CPU seconds per variant, run in this process (history and market data included)."""
    with tempfile.TemporaryDirectory(prefix="alvh-bench-sweep-") as out:
        t0 = time.process_time()
        alvh_dsl.sweep(BOOK, GRID, history, gaps="ffill", sample=k, seed=1, out=out, workers=0)
        return (time.process_time() - t0) / k


def main() -> None:
    history = SHARED / "data" / "history_2004_2017.csv"
    if not history.is_file():
        print(f"skipped: {history} is not there")
        return
    n = int(os.environ.get("N", "1000"))
    rounds = int(os.environ.get("REPEAT", "1"))
    print(f"alvh sweep: {n} variant(s) of {Path(BOOK).name} over {history.name}, "
          f"{os.cpu_count()} core(s), {rounds} round(s)")  # fmt: skip
    times: dict[int, list[float]] = {1: [], 2: []}
    rows: dict[int, bytes] = {}
    for r in range(rounds):
        for workers in (2, 1) if r % 2 == 0 else (1, 2):  # interleaved
            wall, csv = _run(workers, n, str(history))
            times[workers].append(wall)
            rows[workers] = csv
            print(f"  round {r + 1}, {workers} worker(s): {wall:8.1f} s")
    two, one = statistics.median(times[2]), statistics.median(times[1])
    per = two / n
    print(f"2 workers: {two:.1f} s for {n} variants, {per:.2f} s per variant (cluster start "
          f"included)")  # fmt: skip
    print(f"  extrapolated to 1,000 variants: {per * 1000 / 60:.1f} min "
          f"(target <= {TARGET_SECONDS / 60:.0f} min: "
          f"{'met' if per * 1000 <= TARGET_SECONDS else 'NOT met'})")  # fmt: skip
    print(f"speed-up 1 -> 2 workers: {one / two:.2f}x (1 worker {one:.1f} s; target near 2x)")
    print(f"same rows with 1 and 2 workers: {rows[1] == rows[2]}")
    k = int(os.environ.get("CPU_VARIANTS", "2"))
    cpu = _cpu_per_variant(k, str(history))
    print(
        f"CPU per variant (in process, {k} variants): {cpu:.2f} s; 1,000 variants on two "
        f"idle cores: {cpu * 1000 / 2 / 60:.1f} min (target <= {TARGET_SECONDS / 60:.0f} min)"
    )
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print(
            f"note: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: "
            "the wall times above include other processes' work"
        )


if __name__ == "__main__":
    main()
