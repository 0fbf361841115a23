"""Market-layer benchmarks. Run: ``python benchmarks/bench_market.py``.

Prints figures a reader can rerun, each against a baseline measured in the same process
(the targets come from issue 3):

(a) price + all greeks (price, delta, gamma, vega, theta) for 4 legs x 5,000 days with
    the vectorised :func:`~alvh_dsl.market.pricing.bsm`, in option valuations per second,
    against a plain Python loop over ``math`` functions
    (:func:`~alvh_dsl.market.pricing_reference.bsm_scalar`) on the same inputs
    (target: at least 50x faster); the same for Black-76 (VIX options);
(b) loading + validating the real 2004-2017 history file (target: under 0.5 s), against
    a bare ``pandas.read_csv`` of the same file;
(c) the built-in synthetic history (``default_history``): first call in the process
    (includes loading the exchange calendars) and a warm regeneration.

The real file is read from ``$ALVH_SHARED/data`` or ``../shared/data``; (b) is skipped
when it is absent. Options: ``--quick`` runs fewer repetitions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from alvh_dsl.market.pricing import black76, bsm, year_fraction  # noqa: E402
from alvh_dsl.market.pricing_reference import black76_scalar, bsm_scalar  # noqa: E402

SHARED = Path(os.environ.get("ALVH_SHARED", ROOT.parent / "shared"))
LEGS, DAYS = 4, 5000


def best_of(fn: Callable[[], Any], repeat: int, *, keep: bool = True) -> float:
    """Fastest of ``repeat`` runs, in seconds (the least disturbed by other load).

    With ``keep`` the previous run's result stays alive while the next run executes, as in
    a dry-run, which keeps what it prices. Without it, in an otherwise idle process, glibc
    hands the freed arrays back to the OS after every call and the next call pays for
    fresh pages (about 1,500 page faults here): that measures the allocator, not the
    arithmetic, so it is printed separately.
    """
    times = []
    kept: Any = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        kept = result if keep else None
        del result
    del kept
    return min(times)


def condor_inputs() -> dict[str, np.ndarray]:
    """4 iron-condor legs x 5,000 days on a synthetic path.

    Shaped as the dry-run calls it: what varies by day only (spot, time, vol) is a
    ``(days,)`` vector, what varies by leg and day (strike, put/call) is ``(legs, days)``.
    """
    rng = np.random.default_rng(11)
    spot = 2000.0 * np.exp(np.cumsum(rng.normal(0.0002, 0.01, DAYS)))
    vix = np.clip(16.0 * np.exp(np.cumsum(rng.normal(0, 0.05, DAYS)) * 0.2), 9.0, 80.0)
    dte = 45 - np.arange(DAYS) % 45  # rolling monthly cycle, 45 .. 1 days
    offsets = np.array([-0.10, -0.07, 0.05, 0.08])[:, None]  # long put, short put, short/long call
    return {
        "spot": spot,
        "strike": np.round(spot * (1 + offsets) / 5) * 5,
        "t": year_fraction(dte),
        "vol": vix / 100,
        "call": np.array([False, False, True, True])[:, None],
    }


def bench_pricing(repeat: int) -> None:
    x = condor_inputs()
    r, q = 0.02, 0.018
    n = LEGS * DAYS

    def vectorised() -> Any:
        return bsm(x["spot"], x["strike"], x["t"], x["vol"], r, q, call=x["call"])

    # The loop gets one (spot, strike, t, vol, call) tuple per leg and day.
    flat = [np.broadcast_to(x[k], (LEGS, DAYS)).ravel().tolist()
            for k in ("spot", "strike", "t", "vol", "call")]  # fmt: skip

    def loop() -> None:
        for s, k, t, v, c in zip(*flat, strict=True):
            bsm_scalar(s, k, t, v, r, q, c)

    # Same inputs, same answers: the comparison is like for like.
    got = bsm(x["spot"], x["strike"], x["t"], x["vol"], r, q, call=x["call"])
    ref = np.array([bsm_scalar(sp, k, t, v, r, q, c) for sp, k, t, v, c in zip(*flat, strict=True)])
    worst = max(float(np.max(np.abs(g.ravel() - ref[:, i]))) for i, g in enumerate(got))

    fast = best_of(vectorised, repeat)
    churn = best_of(vectorised, repeat, keep=False)
    slow = best_of(loop, max(1, repeat // 10))
    print(f"(a) BSM price + 4 greeks, {LEGS} legs x {DAYS:,} days = {n:,} valuations")
    print(f"    vectorised {fast * 1000:8.2f} ms  {n / fast:14,.0f} valuations/s")
    print(f"    math loop  {slow * 1000:8.2f} ms  {n / slow:14,.0f} valuations/s")
    print(f"    ratio {slow / fast:6.1f}x  (target >= 50x)   max |difference| {worst:.1e}")
    print(f"    (results freed before each call: {churn * 1000:.2f} ms, "
          f"ratio {slow / churn:.1f}x; see best_of)")  # fmt: skip

    fwd = x["vol"] * 100 * 1.05
    strike76 = np.round(fwd * np.array([1.2, 1.6, 2.0, 2.4])[:, None])
    vol76 = np.full_like(fwd, 0.9)
    flat76 = [np.broadcast_to(a, (LEGS, DAYS)).ravel().tolist()
              for a in (fwd, strike76, x["t"], vol76)]  # fmt: skip

    def vectorised76() -> Any:
        return black76(fwd, strike76, x["t"], vol76, r, call=True)

    def loop76() -> None:
        for f, k, t, v in zip(*flat76, strict=True):
            black76_scalar(f, k, t, v, r, True)

    fast76 = best_of(vectorised76, repeat)
    slow76 = best_of(loop76, max(1, repeat // 10))
    print(f"    Black-76 (VIX calls) vectorised {n / fast76:14,.0f}/s   loop {n / slow76:11,.0f}/s"
          f"   ratio {slow76 / fast76:.1f}x")  # fmt: skip


def bench_history(repeat: int) -> None:
    path = SHARED / "data" / "history_2004_2017.csv"
    if not path.is_file():
        print(f"(b) skipped: {path} not found (set ALVH_SHARED)")
        return
    import pandas as pd

    from alvh_dsl.market.history import load_history

    first = best_of(lambda: load_history(path, gaps="ffill"), 1)
    load = best_of(lambda: load_history(path, gaps="ffill"), repeat)
    bare = best_of(lambda: pd.read_csv(path), repeat)
    rows = len(load_history(path, gaps="ffill"))
    print(f"(b) load + validate {path.name} ({rows:,} rows)")
    print(f"    first call {first * 1000:7.1f} ms   best {load * 1000:7.1f} ms   "
          f"(target < 500 ms)   bare pandas.read_csv {bare * 1000:6.1f} ms "
          f"({load / bare:.1f}x)")  # fmt: skip


def bench_synthetic(repeat: int) -> None:
    from alvh_dsl.market.synth import default_history, synthesize

    cold = best_of(default_history, 1)
    cached = best_of(default_history, repeat)
    warm = best_of(synthesize, max(1, repeat // 4))
    rows = len(default_history())
    print(f"(c) default synthetic history ({rows:,} trading days, seed 7)")
    print(f"    first call {cold * 1000:7.1f} ms (includes the exchange calendars)   "
          f"regenerate {warm * 1000:6.1f} ms   cached copy {cached * 1000:5.2f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    repeat = 5 if args.quick else 30
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}")
    # (a) and (b) never touch the exchange calendars, so (c)'s first call is still cold.
    bench_pricing(repeat)
    bench_history(repeat)
    bench_synthetic(repeat)


if __name__ == "__main__":
    main()
