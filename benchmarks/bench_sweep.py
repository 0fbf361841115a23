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
- the CPU time of one variant in this process, with its own no-hedge baseline and with a
  baseline shared with a variant that differs only in a hedge-only param
  (``alvh_dsl.dryrun.hedging``: the grid's ``hedge_budget``), ``CPU_VARIANTS=`` of each
  (default 2); and the 1,000-variant time they imply on two idle cores, each worker
  computing each of the grid's distinct baselines once — the figure that survives a
  loaded machine, where wall times measure the other tenants as well.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bench_env  # noqa: E402

import alvh_dsl  # noqa: E402
from alvh_dsl.dryrun.config import DryRunConfig  # noqa: E402
from alvh_dsl.dryrun.hedging import baseline_params  # noqa: E402
from alvh_dsl.sweep import tasks as sweep_tasks  # noqa: E402
from alvh_dsl.sweep.grid import override_values, parse_grid  # noqa: E402

BOOK = str(ROOT / "rulebooks" / "alvh_core.alvh")
SHARED = Path(os.environ.get("ALVH_SHARED", ROOT.parent / "shared"))
GRID = {
    "roll_dte": "5d..14d/1d",  # 10 values
    "hedge_budget": "0.5%..10%/0.5%",  # 20
    "short_delta": "0.10..0.22/0.03",  # 5: 1,000 variants in all
}
TARGET_SECONDS = 600.0
# What a worker imports to run a variant: compiled once, untimed, before the clusters start.
WORKER_MODULES = "alvh_dsl.api, alvh_dsl.sweep.tasks, alvh_dsl.dryrun.engine, distributed"


def _run(workers: int, n: int, history: str) -> tuple[float, bytes]:
    with tempfile.TemporaryDirectory(prefix="alvh-bench-sweep-") as out:
        t0 = time.perf_counter()
        alvh_dsl.sweep(
            BOOK, GRID, history, gaps="ffill", sample=n, seed=0, out=out, workers=workers
        )
        wall = time.perf_counter() - t0
        return wall, (Path(out) / "sweep.csv").read_bytes()


def _tasks(history: object, overrides: list[dict[str, str]]) -> list[sweep_tasks.Task]:
    """Sweep tasks of the core book, as ``alvh_dsl.sweep`` makes them (baseline keys set)."""
    from dataclasses import replace

    book = alvh_dsl.load(BOOK)
    program, config = book.program, DryRunConfig()
    seen = baseline_params(program)
    out = []
    for i, o in enumerate(overrides):
        task = sweep_tasks.Task(
            variant=i, part="all", root=program.root, sources=dict(program.sources),
            overrides=o, params=override_values(program, o), series=False,
            history_key=sweep_tasks.history_key(history), config=config,  # type: ignore[arg-type]
            config_key=sweep_tasks.config_key(config), baseline="no-hedge",
        )  # fmt: skip
        out.append(replace(task, baseline_key=sweep_tasks.baseline_key(task, seen)))
    return out


def _cpu_per_variant(k: int, history_path: str) -> tuple[float, float]:
    """CPU seconds of one variant in this process, with its own baseline and with a shared
    one (the market data built beforehand, as a worker keeps it across its variants)."""
    from alvh_dsl.api import dryrun_history

    history = dryrun_history(history_path, gaps="ffill")
    own = [{"roll_dte": f"{5 + i}d", "hedge_budget": "1%"} for i in range(k)]
    shared = [{"roll_dte": "5d", "hedge_budget": f"{2 + i}%"} for i in range(k)]
    sweep_tasks.BASELINES.clear()
    sweep_tasks.run_task(_tasks(history, [{"roll_dte": "14d"}])[0], history)  # market built
    times = []
    for overrides in (own, shared):
        t0 = time.process_time()
        for task in _tasks(history, overrides):
            if overrides is own:
                sweep_tasks.BASELINES.clear()
            sweep_tasks.run_task(task, history)
        times.append((time.process_time() - t0) / k)
    sweep_tasks.BASELINES.clear()
    return times[0], times[1]


def cpu_projection(k: int, history_path: str) -> dict[str, Any]:
    """The grid's 1,000 variants on two idle cores, from the CPU of ``k`` variants of each
    kind in this process (:func:`_cpu_per_variant`): each worker computes each distinct
    baseline of the grid at most once, the other variants share it. Seconds."""
    own, shared = _cpu_per_variant(k, history_path)
    book = alvh_dsl.load(BOOK)
    grid = parse_grid(GRID, book.program)
    seen = baseline_params(book.program)
    distinct = {tuple(sorted((a, v) for a, v in o.items() if a in seen)) for o in grid.variants()}
    full = min(len(distinct) * 2, grid.size)
    return {
        "own": own,
        "shared": shared,
        "size": grid.size,
        "distinct": len(distinct),
        "seen": ", ".join(sorted(seen)),
        "projected": (full * own + (grid.size - full) * shared) / 2,
        "unshared": own * grid.size / 2,
    }


def main() -> None:
    history = SHARED / "data" / "history_2004_2017.csv"
    if not history.is_file():
        print(f"skipped: {history} is not there")
        return
    n = int(os.environ.get("N", "1000"))
    rounds = int(os.environ.get("REPEAT", "1"))
    print(f"alvh sweep: {n} variant(s) of {Path(BOOK).name} over {history.name}, "
          f"{os.cpu_count()} core(s), {rounds} round(s)")  # fmt: skip
    # The workers import the project from bytecode, as an install's do (bench_env).
    bench_env.use_in_children()
    bench_env.warm(WORKER_MODULES)
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
    p = cpu_projection(k, str(history))
    print(
        f"CPU per variant (in process, {k} of each): {p['own']:.2f} s with its own baseline, "
        f"{p['shared']:.2f} s with a shared one; the grid's {p['size']} variants have "
        f"{p['distinct']} distinct baselines (the baseline reads {p['seen']})"
    )
    print(
        f"  1,000 variants on two idle cores: {p['projected'] / 60:.1f} min "
        f"(target <= {TARGET_SECONDS / 60:.0f} min: "
        f"{'met' if p['projected'] <= TARGET_SECONDS else 'NOT met'}); without sharing "
        f"{p['unshared'] / 60:.1f} min"
    )
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print(
            f"note: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: "
            "the wall times above include other processes' work"
        )


if __name__ == "__main__":
    main()
