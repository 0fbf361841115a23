"""Dry-run benchmarks. Run: ``python benchmarks/bench_dryrun.py [--quick] [--profile]``.

Prints, for the core book with the no-hedge baseline and the effective-gamma
grid (issue 4's targets):

- the engine's wall time over 5, 10 and 20 years of the built-in synthetic
  history, with the time per day, and the scaling as a ratio to the 5-year run
  (close to linear in days means the 20-year ratio is near 4);
- the target: 20 years under 5 s on one core;
- the time to write the run directory (report.html with its plots included);
- the real 2004–2017 history from ../shared/data, when it is there;
- with ``--profile``: where the time goes, by module and by function.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alvh_dsl.api import dryrun  # noqa: E402
from alvh_dsl.market.history import load_history  # noqa: E402
from alvh_dsl.market.synth import default_history  # noqa: E402

BOOK = ROOT / "rulebooks" / "alvh_core.alvh"
SHARED = Path(os.environ.get("ALVH_SHARED", ROOT.parent / "shared"))


def _best(fn: Any, repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def bench_scaling(repeat: int) -> Any:
    history = default_history()
    dryrun(BOOK, history.between(None, "2005-12-31"))  # warm caches (calendars, parser)
    print("core book + no-hedge baseline + effective-gamma grid (synthetic history)")
    base_time = base_days = None
    result = None
    for years in (5, 10, 20):
        end = f"{2004 + years}-12-31"
        hist = history.between(None, end)
        seconds, result = _best(lambda h=hist: dryrun(BOOK, h), repeat)
        days = len(hist)
        if base_time is None:
            base_time, base_days = seconds, days
        assert base_days is not None
        print(
            f"  {years:2d} years ({days} days): {seconds:6.2f} s   "
            f"{seconds / days * 1e6:6.1f} us/day   time ratio {seconds / base_time:4.2f} "
            f"for a day ratio of {days / base_days:4.2f}"
        )
    print(f"  target: 20 years under 5 s -> {seconds:.2f} s ({seconds / 5:.2f} of the budget)")
    return result


def bench_write(result: Any) -> None:
    try:
        with tempfile.TemporaryDirectory() as tmp:
            seconds, _ = _best(lambda: result.write(Path(tmp) / "run"), 1)
    except ImportError as exc:  # the report module is optional while it is being built
        print(f"  writing the run directory: skipped ({exc})")
        return
    print(f"  writing the run directory (jsonl, parquet, csv, json, report.html): {seconds:.2f} s")


def bench_real(repeat: int) -> None:
    path = SHARED / "data" / "history_2004_2023.csv"
    if not path.is_file():
        print("real history: ../shared/data is not here, skipped")
        return
    seconds_load, hist = _best(lambda: load_history(path, gaps="keep"), repeat)
    seconds, result = _best(lambda: dryrun(BOOK, hist), repeat)
    s = result.summary
    print(f"real 2004-2023 history ({len(hist)} days): load {seconds_load:.2f} s, "
          f"dry-run {seconds:.2f} s")  # fmt: skip
    cmp = s["comparison"]
    print(f"  book P&L {s['book']['total_pnl']:,.0f}, baseline {s['baseline']['total_pnl']:,.0f}")
    print(f"  {cmp['scenario']['finding']}")


def profile() -> None:
    history = default_history()
    prof = cProfile.Profile()
    prof.enable()
    dryrun(BOOK, history)
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    by_module: dict[str, float] = defaultdict(float)
    total = 0.0
    for (file, _line, _func), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        total += tottime
        name = Path(file).name if "alvh_dsl" in file else (
            "numpy/scipy" if ("numpy" in file or "scipy" in file) else
            "pandas" if "pandas" in file else "python/other"
        )  # fmt: skip
        by_module[name] += tottime
    print("\nprofile of a 20-year run (self time by module, under cProfile):")
    for name, t in sorted(by_module.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {name:24s} {t:6.2f} s  {t / total:5.1%}")
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
    print("\ntop functions by self time:")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition")
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    args = parser.parse_args()
    repeat = 1 if args.quick else 3
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} cpu(s)")
    result = bench_scaling(repeat)
    bench_write(result)
    bench_real(repeat)
    if args.profile:
        profile()


if __name__ == "__main__":
    main()
