"""The dry-run's day loop and its parts, this checkout against another tree, interleaved.

Run: ``python benchmarks/bench_day_parts.py OLD_TREE`` (``ROUNDS=3``). ``OLD_TREE`` is a
source tree of the project, e.g. ``git archive COMMIT | tar -x -C OLD_TREE``.

``alvh_dsl.dryrun.loop.run_book`` of two books over the real history (``--gaps keep``,
no baseline, a market built fresh for the run as the engine builds it, after one untimed
run in the same process that pays what a process pays once) is timed in CPU seconds, in
a fresh process per tree and book, the two trees alternating (old, new, then
new, old) with medians reported and the new/old ratio. Beside the whole loop, the CPU of
three of its parts is summed around their calls: the fills (``_fired_record``), the
rules' evaluation (``Book.evaluate``) and the rule statuses (``StatusRecorder``'s
``record``, ``observed``, ``day``, ``fired``, ``near_miss`` and ``table``, whichever the
tree has). The wrappers cost
the same on both sides; the whole loop is timed with them in place. Last, ``run_dryrun``:
the whole engine call of bench_dryrun.py (a) (no baseline; its market built, the loop,
the run's summary, statuses and coverage), once, after the loop, in the same process.

Books: ``benchmarks/books/rolled_condor.alvh`` over 2007–2017 (the engine/NumPy ratio's)
and ``rulebooks/alvh_core.alvh`` over 2004–2017 (a sweep variant's). Without
``../shared`` (or ``$ALVH_SHARED``) it says "skipped".
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ALVH_SHARED", ROOT.parent / "shared"))
REAL = SHARED / "data" / "history_2004_2023.csv"
CASES = {
    "rolled condor, 2007-2017": ("benchmarks/books/rolled_condor.alvh", "2007-01-01", "2017-12-31"),
    "core book, 2004-2017": ("rulebooks/alvh_core.alvh", "2004-01-01", "2017-12-31"),
}
PARTS = ("loop", "fills", "evaluation", "statuses")
# The whole engine call of bench_dryrun.py (a): the market built, the loop, the run's end.
WHOLE = "run_dryrun"


def _child(case: str) -> dict[str, float]:
    """In a process whose path starts with the tree under test: one timed run_book."""
    import alvh_dsl

    tree = Path(os.environ["PYTHONPATH"]).resolve()
    if tree not in Path(alvh_dsl.__file__).resolve().parents:
        sys.exit(f"alvh_dsl came from {alvh_dsl.__file__}, not from {tree}")
    from alvh_dsl.api import dryrun_history, load
    from alvh_dsl.dryrun import loop, statuses
    from alvh_dsl.dryrun.config import DryRunConfig
    from alvh_dsl.dryrun.engine import build_market, run_dryrun
    from alvh_dsl.dryrun.market_data import series_source
    from alvh_dsl.lang.evaluate import Book

    spent = dict.fromkeys(PARTS, 0.0)

    def timed(part: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[part] += time.process_time() - t

        return wrapper

    loop._fired_record = timed("fills", loop._fired_record)  # type: ignore[attr-defined]
    Book.evaluate = timed("evaluation", Book.evaluate)  # type: ignore[method-assign]
    for name in ("record", "observed", "day", "fired", "near_miss", "table"):
        if hasattr(statuses.StatusRecorder, name):
            setattr(statuses.StatusRecorder, name,
                    timed("statuses", getattr(statuses.StatusRecorder, name)))  # fmt: skip
    path, start, end = CASES[case]
    book = load(str(ROOT / path))
    history = dryrun_history(str(REAL), gaps="keep").between(start, end)
    config = DryRunConfig()
    # One untimed run first: what a process pays once (lazy imports, calendars, caches)
    # is not the loop's; the timed run gets a market of its own, as a new run would.
    warm = build_market(history, config)
    loop.run_book(book, warm, series_source(warm), config)
    for part in PARTS:
        spent[part] = 0.0
    market = build_market(history, config)
    t = time.process_time()
    loop.run_book(book, market, series_source(market), config)
    spent["loop"] = time.process_time() - t
    parts = dict(spent)
    t = time.process_time()
    run_dryrun(book, history, config, baseline=None)
    parts[WHOLE] = time.process_time() - t
    parts["days"] = float(len(market))
    return parts


def _run(tree: Path, case: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, __file__, "--child", case], env=env, cwd=tree,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.splitlines()[-1])
    return result


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2])))
        return
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    if not REAL.is_file():
        print(f"skipped: {REAL} is not there")
        return
    old = Path(sys.argv[1]).resolve()
    rounds = int(os.environ.get("ROUNDS", "3"))
    print(f"run_book CPU, new = {ROOT}, old = {old}; medians of {rounds} interleaved rounds, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    for case in CASES:
        got: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
        for r in range(rounds):
            for side in ("old", "new") if r % 2 == 0 else ("new", "old"):
                got[side].append(_run(old if side == "old" else ROOT, case))
        days = got["new"][0]["days"]
        print(f"{case} ({days:,.0f} days)")
        for part in (*PARTS, WHOLE):
            o = statistics.median(x[part] for x in got["old"])
            n = statistics.median(x[part] for x in got["new"])
            print(f"  {part:<11} old {o * 1e3:8.1f} ms ({o / days * 1e6:6.1f} us/day)   "
                  f"new {n * 1e3:8.1f} ms ({n / days * 1e6:6.1f} us/day)   "
                  f"{o / n if n else float('nan'):5.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
