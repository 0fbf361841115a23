"""Three pieces of the dry-run, each against the way it was done before, in one process.

Run: ``python benchmarks/bench_pieces.py [OLD_TREE]`` (``ROUNDS=8``). Sides alternate (A B,
then B A); medians of CPU time (``time.process_time``) and the ratio:

1. ``run_dryrun`` of ``rulebooks/alvh_core.alvh`` over the built-in 20 synthetic years
   (book and baseline, audited, each result kept as a notebook keeps it), in fresh
   processes of ``OLD_TREE`` (``git archive f817274 | tar -x -C OLD_TREE``: its market a
   reference cycle) and this checkout alternating, and beside each the time the
   collector spent in collections during the call (``gc.callbacks``; decision 98). A
   library call: the collector is on, as in a notebook or a sweep's worker (``alvh
   dryrun`` runs with it off). Skipped without ``OLD_TREE``.

Both sides of (2) and (3) are in this checkout (the older way behind a switch):

2. ``ContractDays.build`` of one VIX contract on that market: the days it can be on the
   curve compared (``curve_in_order()``) against every day compared (as for a curve out
   of order); the same arrays (tests/test_market_rows.py).
3. Writing that run's daily frame as Parquet: dictionary pages for the non-float columns
   only (``daily_parquet``) against Arrow's default, every column (decision 99).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_env  # noqa: E402

CORE = ROOT / "rulebooks" / "alvh_core.alvh"


def alternate(sides: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median CPU seconds of each side, the two alternating (A B, then B A)."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            t = time.process_time()
            sides[name]()
            times[name].append(time.process_time() - t)
    return {name: statistics.median(ts) for name, ts in times.items()}


_COLLECTOR_CHILD = """
import gc, json, sys, time
from alvh_dsl.api import dryrun_history, load
from alvh_dsl.dryrun.engine import run_dryrun
history, book = dryrun_history(None), load(sys.argv[1])
spent = [0.0]
started = []
def watch(phase, info):
    if phase == "start":
        started.append(time.perf_counter())
    else:
        spent[0] += time.perf_counter() - started.pop()
gc.enable()
kept = [run_dryrun(book, history)]  # what a process pays once
gc.callbacks.append(watch)
cpu, collected = [], []
for _ in range(3):  # each result kept, as a notebook keeps it
    spent[0] = 0.0
    t = time.process_time()
    kept.append(run_dryrun(book, history))
    cpu.append(time.process_time() - t)
    collected.append(spent[0])
print(json.dumps({"cpu": sorted(cpu)[1], "collections": sorted(collected)[1]}))
"""


def collector_pieces(old_tree: Path, rounds: int) -> None:
    """(1): fresh processes, ``old_tree`` and this checkout alternating."""
    import json
    import subprocess

    def child(tree: Path) -> dict[str, float]:
        env = bench_env.child_env(PYTHONPATH=str(tree))  # from bytecode, as installs run
        done = subprocess.run(
            [sys.executable, "-c", _COLLECTOR_CHILD, str(CORE)], capture_output=True,
            text=True, check=True, env=env, cwd=tree.parent,
        )  # fmt: skip
        out: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        return out

    sides = {"old": old_tree.resolve(), "new": ROOT}
    got: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for tree in sides.values():  # untimed: the disk cache and the bytecode
        child(tree)
    for r in range(rounds):
        for name in ("old", "new") if r % 2 == 0 else ("new", "old"):
            got[name].append(child(sides[name]))
    print("1. run_dryrun, core book, 20 synthetic years, book + baseline, results kept, the")
    print(f"   collector on (a library call); {rounds} processes per tree, alternating")
    med = {
        n: {k: statistics.median(g[k] for g in got[n]) for k in ("cpu", "collections")} for n in got
    }
    for name in ("old", "new"):
        print(
            f"   {name} ({sides[name]}): {med[name]['cpu'] * 1e3:8.1f} ms CPU, "
            f"{med[name]['collections'] * 1e3:6.1f} ms of it in collections"
        )
    print(f"   new / old: {med['new']['cpu'] / med['old']['cpu']:.2f}x")


def contract_pieces(rounds: int) -> None:
    from alvh_dsl.api import dryrun_history
    from alvh_dsl.dryrun.config import DryRunConfig
    from alvh_dsl.dryrun.engine import build_market
    from alvh_dsl.dryrun.market_data import ContractDays

    market = build_market(dryrun_history(None), DryRunConfig())
    expiry = market.curve.expiry[len(market) // 2, 2]
    assert market.curve_in_order()

    def builds(in_order: bool) -> None:
        object.__setattr__(market, "_curve_in_order", in_order)
        for _ in range(50):
            ContractDays.build(market, expiry)

    cpu = alternate({"window": partial(builds, True), "every day": partial(builds, False)}, rounds)
    object.__setattr__(market, "_curve_in_order", True)
    print(
        f"2. ContractDays.build, one contract, {len(market)} days (50 builds, medians of {rounds})"
    )
    for name, t in cpu.items():
        print(f"   {name:12s} {t / 50 * 1e6:8.1f} us per build")
    print(f"   window / every day: {cpu['window'] / cpu['every day']:.2f}x")


def parquet_pieces(rounds: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from alvh_dsl.api import dryrun
    from alvh_dsl.dryrun.report.files import daily_parquet

    run = dryrun(str(CORE)).run
    sizes: dict[str, int] = {}

    def default() -> None:  # Arrow's default: every column dictionary-encoded
        table = pa.Table.from_pandas(run.daily, preserve_index=True)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="snappy")
        sizes["every column"] = len(sink.getvalue())

    def repeating() -> None:
        sizes["repeating only"] = len(daily_parquet(run))

    cpu = alternate({"repeating only": repeating, "every column": default}, rounds)
    print(
        f"3. daily.parquet of the core book's 20 years, {len(run.daily)} rows (medians of {rounds})"
    )
    for name, t in cpu.items():
        print(f"   {name:14s} {t * 1e3:8.1f} ms, {sizes[name] / 1e6:.2f} MB")
    print(f"   repeating only / every column: {cpu['repeating only'] / cpu['every column']:.2f}x")


def main() -> None:
    rounds = int(os.environ.get("ROUNDS", "8"))
    print(f"load average {os.getloadavg()[0]:.1f}")
    if len(sys.argv) > 1:
        collector_pieces(Path(sys.argv[1]), max(2, rounds // 2))
    else:
        print("1. skipped: give OLD_TREE (a tree whose market is a reference cycle, e.g. f817274)")
    contract_pieces(rounds)
    parquet_pieces(rounds)


if __name__ == "__main__":
    main()
