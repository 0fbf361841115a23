"""Issue 11's moonshot, measured: K variants of the rolled condor in lock step
(benchmarks/lockstep.py) against the same K variants one at a time.

Run: ``python benchmarks/bench_lockstep.py [--quick] [--variants K]``. In one process,
on 2007–2017 of ../shared/data/history_2004_2023.csv (``--gaps keep``; the synthetic
history without ../shared, and it says so), the K variants of
benchmarks/books/rolled_condor.alvh of a roll_dte × short_delta grid (default 64: 8 × 8),
the books loaded once and shared by every side, sides interleaved (A B C A B C …, the
order reversed every other round, after one untimed warm-up of each), CPU medians:

- **lock step**: :func:`lockstep.run`, every variant in one day loop over ``[K]`` arrays
  — daily equity, trades, the decisions that fired;
- **NumPy, one variant at a time**: :func:`numpy_condor.simulate` per variant (P&L and
  trades; no risk columns) — the same answer, computed by the hand-written reference
  variant after variant: the fair baseline for what the variant axis buys;
- **engine, one variant at a time**: ``run_dryrun(book, history, baseline=None,
  audit=False)`` per variant, as a sweep's worker runs a variant — what a user waits for
  today, which also computes the daily risk columns (greeks, effective gamma, scenario
  P&L) and the summary, so it is *not* the same answer: its ratio is printed, labelled,
  beside the fair one.

Before timing, every variant's daily equity (to the cent) and trades are checked equal
across the three sides (tests/test_lockstep.py checks the decisions too, against the
audited engine); a mismatch stops the benchmark. Nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
for _p in (str(HERE.parent), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import bench_dryrun  # noqa: E402
import lockstep  # noqa: E402
import numpy_condor as nc  # noqa: E402

from alvh_dsl.dryrun.engine import run_dryrun  # noqa: E402


def grid(k: int) -> dict[str, list[str]]:
    """A roll_dte × short_delta grid of about ``k`` variants (a square, or as near as)."""
    side = max(1, round(k**0.5))
    rolls = [f"{3 + i}d" for i in range(side)]
    deltas = [f"{0.10 + 0.02 * i:.2f}" for i in range(max(1, k // side))]
    return {"roll_dte": rolls, "short_delta": deltas}


def terms(v: dict[str, str]) -> nc.Terms:
    return nc.Terms(roll_dte=int(v["roll_dte"].rstrip("d")), short_delta=float(v["short_delta"]))


def check(sweep: lockstep.Sweep, refs: list[nc.Run], engines: list[Any] | None) -> None:
    """Every variant: the same daily equity to the cent and the same trade cash flows on
    every side (the engine's left out when ``engines`` is None)."""
    for k, ref in enumerate(refs):
        ours = np.round(sweep.equity[k], 2)
        flows = [t[-1] for t in sweep.trades.of(k)]
        assert np.array_equal(ours, np.round(ref.equity, 2)), f"variant {k}: NumPy differs"
        assert flows == [t[-1] for t in ref.trades], f"variant {k}: NumPy's trades differ"
        if engines is None:
            continue
        eng = engines[k]
        assert np.array_equal(ours, np.round(eng.daily["equity"].to_numpy(), 2)), (
            f"variant {k}: engine differs"
        )
        assert flows == [round(float(c), 2) for c in eng.trades["cash_flow"]], (
            f"variant {k}: the engine's trades differ"
        )


def measure(k: int, rounds: int, engine: bool = True) -> dict[str, Any]:
    """About ``k`` variants: the sides' CPU medians (seconds), checked equal first;
    ``engine=False`` leaves the engine's side out (benchmarks/targets.py's row)."""
    real = bench_dryrun.REAL
    history = nc.load(str(real) if real.is_file() else None, "keep", *bench_dryrun.WINDOW)
    axes = grid(k)
    vs = lockstep.variants(axes)
    books = lockstep.load_books(lockstep.BOOK, vs)
    all_terms = [terms(v) for v in vs]

    def lock() -> lockstep.Sweep:
        return lockstep.run(books, history)

    def numpy_each() -> list[nc.Run]:
        return [nc.simulate(history, t) for t in all_terms]

    def engine_each() -> list[Any]:
        return [run_dryrun(b, history, baseline=None, audit=False) for b in books]

    sides: dict[str, Any] = {"lock": lock, "numpy": numpy_each}
    if engine:
        sides["engine"] = engine_each
    check(lock(), numpy_each(), engine_each() if engine else None)
    times = bench_dryrun.interleaved(sides, rounds)
    return {
        "variants": len(vs),
        "axes": " × ".join(f"{len(x)} {n}" for n, x in axes.items()),
        "days": len(history),
        "rounds": rounds,
        **{side: times[side]["cpu"] for side in sides},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--variants", type=int, default=64)
    args = parser.parse_args()
    m = measure(args.variants, 3 if args.quick else 5)
    kk, lk, npy, eng = m["variants"], m["lock"], m["numpy"], m["engine"]
    print(f"{kk} variants of {lockstep.BOOK.name} ({m['axes']}), {bench_dryrun.history_label()}, "
          f"{m['days']} days; CPU medians of {m['rounds']} interleaved rounds")  # fmt: skip
    rows = [
        ("lock step, all variants at once", lk, ""),
        ("NumPy reference, one variant at a time", npy,
         f"NumPy / lock step {npy / lk:5.1f}x  (the same answer: equity, trades)"),
        ("engine (audit=False), one at a time", eng,
         f"engine / lock step {eng / lk:5.1f}x  (not the same answer: it also computes the "
         "risk columns)"),
    ]  # fmt: skip
    for label, cpu, ratio in rows:
        print(f"  {label:40} {cpu:8.3f} s  {cpu / kk * 1e3:7.2f} ms per variant   {ratio}")
    print("  checked before timing: each variant's daily equity (to the cent) and trades, "
          "on all three sides")  # fmt: skip


if __name__ == "__main__":
    main()
