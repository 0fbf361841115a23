"""Issue 11's targets in one table. Run: ``python benchmarks/targets.py [--quick]``.

Measures, with the functions of benchmarks/bench_dryrun.py and benchmarks/bench_language.py
(so the figures are theirs, interleaved and medians):

1. the engine against the hand-written NumPy simulation of the plain rolled condor on
   2007–2017 of the real history computing the same daily figures — P&L, greeks,
   effective gamma, scenario P&L (decision 102) — in process, CPU time (target: within
   10x); beside it, the same engine against that simulation computing the P&L and trades
   alone (no target: it values no SPX move grid);
2. the default main job, ``alvh dryrun rulebooks/alvh_core.alvh --out DIR``, as a whole
   process, CPU time of the child (target: at most 4 s);
3. a 1,000-variant sweep of the core book over the real 2004–2017 history on 2 local
   workers, wall time, the cluster's start and close included (target: at most 10 min) —
   benchmarks/bench_sweep.py's grid, book and options (imported from it), timed here on
   2 workers only: its own run adds the 1-worker comparison, which doubles the wait.
   ``--quick`` runs 20 variants and projects the 1,000-variant time — the measured wall
   plus the other variants at the rate they completed once both workers were busy, an
   upper bound (see :func:`sweep_row`) — labelled ``projected``; ``SWEEP_VARIANTS=N``
   chooses N; and, on the next row, the same 1,000 variants on two idle cores projected
   from the in-process CPU of a few variants (bench_sweep.py's ``cpu_projection``: each
   worker replays each distinct no-hedge baseline once), the figure a loaded machine's
   wall time cannot give;

and beside them, the ratios issue 11 quoted without a target of their own there: the same
engine/NumPy comparison as whole processes, the moonshot (benchmarks/bench_lockstep.py:
K variants in lock step against the NumPy reference one variant at a time, 16 with
``--quick``, else 64; the engine's side left out here), and bench_language's ``alvh
check`` start-up and evaluate-vs-hand-written ratios (their issue 2 targets). Then one
table: measure, value, target, met / not met, the command that reproduces it.

Wall times on a shared machine measure the other tenants too; the load average is
printed first. The sweep is skipped (and says so) without ../shared.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_dryrun  # noqa: E402
import bench_language  # noqa: E402
import bench_lockstep  # noqa: E402

SWEEP_HISTORY = bench_dryrun.SHARED / "data" / "history_2004_2017.csv"
SWEEP_TARGET_VARIANTS = 1000


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    measure: str
    value: str
    target: str
    met: bool | None  # None: no target
    command: str


def sweep_wall(variants: int) -> tuple[float, float, str]:
    """Wall seconds of ``alvh_dsl.sweep`` of ``variants`` variants on 2 workers; the
    seconds per variant once both workers are busy (from the last completion back to the
    first, the cluster's start and each worker's first market build left out); and the
    command that reproduces it (bench_sweep.py's grid, book and options)."""
    import bench_env
    import bench_sweep

    import alvh_dsl

    # The workers import the project from bytecode, as an install's do (bench_env).
    bench_env.use_in_children()
    bench_env.warm(bench_sweep.WORKER_MODULES)
    done_at: list[float] = []

    def progress(done: int, total: int) -> None:
        if done:
            done_at.append(time.perf_counter())

    with tempfile.TemporaryDirectory(prefix="alvh-targets-sweep-") as out:
        t0 = time.perf_counter()
        alvh_dsl.sweep(
            bench_sweep.BOOK, bench_sweep.GRID, str(SWEEP_HISTORY), gaps="ffill",
            sample=variants, seed=0, out=out, workers=2, progress=progress,
        )  # fmt: skip
        wall = time.perf_counter() - t0
    steady = (done_at[-1] - done_at[0]) / (len(done_at) - 1) if len(done_at) > 1 else wall
    grid = " ".join(f"--grid {k}={v}" for k, v in bench_sweep.GRID.items())
    command = (
        f"alvh sweep rulebooks/alvh_core.alvh {grid} --history "
        f"../shared/data/history_2004_2017.csv --gaps ffill --workers 2 --out $(mktemp -d)"
        + (f" --sample {variants}" if variants < SWEEP_TARGET_VARIANTS else "")
        + f"  # or N={variants} python benchmarks/bench_sweep.py"
    )
    return wall, steady, command


def measure(quick: bool) -> list[Row]:
    """Every figure of the table, each measured once (interleaved and medians inside)."""
    rows = []
    a = bench_dryrun.engine_vs_numpy(5 if quick else 15)
    rows.append(Row(
        f"engine / NumPy rolled condor, the same daily figures, in process ({a['history']}; "
        f"{a['engine']['cpu'] * 1e3:.0f} vs {a['numpy']['cpu'] * 1e3:.1f} ms CPU; decision 102)",
        f"{a['ratio']:.1f}x", f"<= {bench_dryrun.RATIO_TARGET:.0f}x",
        a["ratio"] <= bench_dryrun.RATIO_TARGET,
        "python benchmarks/bench_dryrun.py   # (a)",
    ))  # fmt: skip
    rows.append(Row(
        f"engine / NumPy computing the P&L and trades only, in process "
        f"({a['engine']['cpu'] * 1e3:.0f} vs {a['numpy_pnl']['cpu'] * 1e3:.1f} ms CPU; "
        "not the target's figure: no move grid, 4 of its 34 daily columns)",
        f"{a['pnl_ratio']:.1f}x", "none", None, "python benchmarks/bench_dryrun.py   # (a)",
    ))  # fmt: skip
    c = bench_dryrun.main_job(3 if quick else 5)
    rows.append(Row(
        f"main job, whole process (CPU of the child; {c['wall']:.1f} s wall)",
        f"{c['cpu']:.2f} s CPU", f"<= {bench_dryrun.MAIN_JOB_CPU_TARGET:.0f} s CPU",
        c["cpu"] <= bench_dryrun.MAIN_JOB_CPU_TARGET,
        "alvh dryrun rulebooks/alvh_core.alvh --out DIR   # bench_dryrun.py (c)",
    ))  # fmt: skip
    rows.append(sweep_row(quick))
    rows.append(sweep_cpu_row(quick))
    u = a["unaudited"]["cpu"]
    rows.append(Row(
        f"engine without its audit trail (audit=False, a sweep's variant) / NumPy, the same "
        f"daily figures ({u * 1e3:.0f} vs {a['numpy']['cpu'] * 1e3:.1f} ms CPU)",
        f"{u / a['numpy']['cpu']:.1f}x", "none", None, "python benchmarks/bench_dryrun.py   # (a)",
    ))  # fmt: skip
    b = bench_dryrun.whole_processes(3 if quick else 7)
    rows.append(Row(
        f"engine / NumPy rolled condor, the same daily figures, whole processes "
        f"({b['alvh dryrun']['cpu']:.2f} vs {b['numpy_condor.py']['cpu']:.2f} s CPU)",
        f"{b['ratio']:.1f}x", "none", None, "python benchmarks/bench_dryrun.py   # (b)",
    ))  # fmt: skip
    s = bench_language.bench_startup(5 if quick else 15)
    rows.append(Row(
        "`alvh check rulebooks/` / `python -c 'import lark, pydantic'` (wall)",
        f"{s['ratio']:.2f}x", "<= 2x", s["ratio"] <= 2.0,
        "python benchmarks/bench_language.py   # (a)",
    ))  # fmt: skip
    k = bench_lockstep.measure(16 if quick else 64, 3 if quick else 5, engine=False)
    rows.append(Row(
        f"moonshot: {k['variants']} variants in lock step / the NumPy reference one variant "
        f"at a time, the same equity and trades ({k['lock']:.3f} vs {k['numpy']:.3f} s CPU; "
        "rolled condor, 2007-2017)",
        f"{k['numpy'] / k['lock']:.1f}x", "none", None,
        f"python benchmarks/bench_lockstep.py --variants {k['variants']}",
    ))  # fmt: skip
    e = bench_language.bench_evaluate(100 if quick else 1000, 5 if quick else 9)
    rows.append(Row(
        "Book.evaluate(trace=False) / hand-written core book (CPU)",
        f"{e['ratio']:.2f}x", "<= 3x", e["ratio"] <= 3.0,
        "python benchmarks/bench_language.py   # (c)",
    ))  # fmt: skip
    return rows


def sweep_row(quick: bool) -> Row:
    """The sweep's row: measured at 1,000 variants, or projected from fewer — the measured
    wall plus the remaining variants at the steady rate. A projection is an upper bound:
    variants that differ only in the hedge budget share a no-hedge baseline, computed once
    per worker, and a small sample shares fewer of them than the whole grid does."""
    target = "<= 10 min wall"
    if not SWEEP_HISTORY.is_file():
        return Row("1,000-variant sweep, 2 workers", "skipped: no ../shared", target, None, "")
    n = int(os.environ.get("SWEEP_VARIANTS", "20" if quick else str(SWEEP_TARGET_VARIANTS)))
    wall, steady, command = sweep_wall(n)
    projected = n < SWEEP_TARGET_VARIANTS
    full = wall + (SWEEP_TARGET_VARIANTS - n) * steady if projected else wall
    label = (
        f"; projected from {n} variants in {wall:.0f} s, {steady:.2f} s each once running"
        if projected
        else ""
    )
    return Row(
        f"1,000-variant sweep, real 2004-2017, 2 workers (wall{label})",
        f"{full / 60:.1f} min" + (" projected" if projected else ""),
        target,
        full <= 600.0,
        command,
    )


def sweep_cpu_row(quick: bool) -> Row:
    """The sweep's 1,000 variants on two idle cores, projected from the in-process CPU of a
    few variants (benchmarks/bench_sweep.py's figure): what a loaded machine's wall time
    cannot show. Beside the wall row, never instead of it."""
    target = "<= 10 min"
    if not SWEEP_HISTORY.is_file():
        return Row("1,000-variant sweep, CPU", "skipped: no ../shared", target, None, "")
    import bench_sweep

    k = 2 if quick else 3
    p = bench_sweep.cpu_projection(k, str(SWEEP_HISTORY))
    return Row(
        f"1,000-variant sweep on two idle cores, from CPU per variant ({p['shared']:.2f} s "
        f"with a shared baseline, {p['own']:.2f} s with its own; {k} of each)",
        f"{p['projected'] / 60:.1f} min CPU",
        target,
        p["projected"] <= 600.0,
        f"CPU_VARIANTS={k} N=20 python benchmarks/bench_sweep.py",
    )


def print_table(rows: list[Row]) -> None:
    width = max(len(r.measure) for r in rows)
    print(f"\n{'measure':{width}}  {'value':>16}  {'target':>16}  {'':7}  command")
    for r in rows:
        verdict = "" if r.met is None else ("met" if r.met else "NOT met")
        print(f"{r.measure:{width}}  {r.value:>16}  {r.target:>16}  {verdict:7}  {r.command}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, a 20-variant sweep")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} cpu(s), load average "
          f"{os.getloadavg()[0]:.1f} at the start")  # fmt: skip
    rows = measure(args.quick)
    print_table(rows)
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1):
        print(f"note: load average {load:.1f} on {os.cpu_count()} cores at the end: wall "
              "times include other processes' work")  # fmt: skip


if __name__ == "__main__":
    main()
