"""The hand-written NumPy rolled condor (benchmarks/numpy_condor.py) against the engine.

benchmarks/bench_dryrun.py times the engine against that simulation (issue 11); the ratio
means something only while both compute the same book. So: the same daily cash, condor
value, equity and P&L to the cent, and the same cash flow on every trade leg, on the
built-in synthetic history (always) and on 2007–2017 of the real history through the
very command the benchmark times (skipped without ../shared) — and, with ``risk=True``,
the daily greeks, effective gamma and scenario P&L, before and after each day's actions,
to the bit (effective gamma to two units in the last place); and with a roll at 0 days,
which lets every condor reach its expiry, so that settlements — at the expiry day's open,
and late, at the last close before an expiry that fell in a gap of the real history — are
compared too.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import alvh_dsl
from alvh_dsl.cli.main import cli
from alvh_dsl.market.history import load_history
from alvh_dsl.market.synth import default_history

from .conftest import ROOT

_spec = importlib.util.spec_from_file_location(
    "numpy_condor", ROOT / "benchmarks" / "numpy_condor.py"
)
assert _spec is not None and _spec.loader is not None
numpy_condor = importlib.util.module_from_spec(_spec)
sys.modules["numpy_condor"] = numpy_condor
_spec.loader.exec_module(numpy_condor)

BOOK = ROOT / "benchmarks" / "books" / "rolled_condor.alvh"
COLUMNS = ("cash", "condor_value", "equity", "pnl")


def cents(values: Any) -> list[float]:
    return [round(float(v), 2) for v in values]


def assert_same(daily: pd.DataFrame, trades: pd.DataFrame, run: Any) -> None:
    """Day by day and leg by leg, to the cent; the first differing day named."""
    assert len(daily) == len(run.dates)
    assert [str(d)[:10] for d in daily.index] == [str(d) for d in run.dates]
    for column in COLUMNS:
        engine, ours = cents(daily[column]), cents(getattr(run, column))
        bad = [i for i, (a, b) in enumerate(zip(engine, ours, strict=True)) if a != b]
        assert not bad, (column, run.dates[bad[0]], engine[bad[0]], ours[bad[0]])
    assert cents(trades["cash_flow"]) == [t[-1] for t in run.trades]
    assert list(trades["quantity"]) == [t[3] for t in run.trades]
    if run.risk is not None:
        assert_same_risk(daily, run.risk)


def assert_same_risk(daily: pd.DataFrame, risk: dict[str, Any]) -> None:
    """The risk columns, as the rules saw the book and after the day's actions: the greeks
    and scenario P&L to the bit, effective gamma within two units in the last place (the
    script squares ``h·S`` with NumPy's product, the engine with Python's ``pow``: on a few
    days the two squares are one unit apart, and so the quotients up to two)."""
    names = [c for c in daily.columns if c.startswith(("scen_", "eff_gamma_"))]
    names += [g + side for g in ("delta", "gamma", "vega", "theta") for side in ("", "_after")]
    assert sorted(risk) == sorted(names)  # every risk column of daily.parquet, no other
    for name in names:
        engine = daily[name].to_numpy(dtype=np.float64)
        ours = np.asarray(risk[name], dtype=np.float64)
        if name.startswith("eff_gamma_"):
            np.testing.assert_array_max_ulp(engine, ours, maxulp=2)
        else:
            bad = np.flatnonzero(engine != ours)
            assert not len(bad), (name, bad[0], engine[bad[0]], ours[bad[0]])
    # Both sides differ on the days something traded: the test reads both.
    assert (daily["scen_dn5"] != daily["scen_dn5_after"]).sum() > 10


def test_synthetic_history_to_the_cent(tmp_path: Path) -> None:
    """The default run (no --history) against the script's own output files."""
    result = alvh_dsl.dryrun(BOOK, None, baseline=None)
    run = numpy_condor.simulate(default_history(), risk=True)
    assert_same(result.daily, result.trades, run)
    assert result.summary["book"]["rolls"] == run.rolls > 200
    numpy_condor.main(["--risk", "--out", str(tmp_path)])  # what bench_dryrun (b) runs
    with (tmp_path / "daily.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [float(r["equity"]) for r in rows] == cents(result.daily["equity"])
    assert [float(r["pnl"]) for r in rows] == cents(result.daily["pnl"])
    with np.load(tmp_path / "risk.npz") as written:
        assert_same_risk(result.daily, {k: written[k] for k in written.files if k != "date"})


def test_settlements_at_the_expiry_open_to_the_cent() -> None:
    """No roll before expiry: every condor settles (on the synthetic history, at the open
    of its expiry day), and the next opens the same day."""
    history = default_history().between(None, "2009-12-31")
    result = alvh_dsl.dryrun(BOOK, history, baseline=None, params={"roll_dte": "0d"})
    run = numpy_condor.simulate(history, numpy_condor.Terms(roll_dte=0), risk=True)
    assert_same(result.daily, result.trades, run)
    assert result.summary["book"]["expiries_settled"] == run.settled > 40


def test_real_history_2007_2017_to_the_cent(shared_dir: Path, tmp_path: Path) -> None:
    """The command bench_dryrun.py times, and its daily.parquet / trades.csv."""
    path = shared_dir / "data" / "history_2004_2023.csv"
    out = tmp_path / "run"
    args = ["dryrun", str(BOOK), "--history", str(path), "--gaps", "keep",
            "--from", "2007-01-01", "--to", "2017-12-31", "--baseline", "none",
            "--out", str(out)]  # fmt: skip
    done = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    daily = pd.read_parquet(out / "daily.parquet")
    trades = pd.read_csv(out / "trades.csv")
    history = numpy_condor.load(str(path), "keep", "2007-01-01", "2017-12-31")
    run = numpy_condor.simulate(history, risk=True)
    assert_same(daily.set_index("date") if "date" in daily else daily, trades, run)
    assert run.rolls > 100


def test_real_history_late_settlements_to_the_cent(shared_dir: Path) -> None:
    """Expiries inside the gaps of the 2004–06 rows (only 473 rows in three years) settle
    late, at the last close before them: the script books them as the engine does."""
    history = load_history(shared_dir / "data" / "history_2004_2023.csv", gaps="keep")
    history = history.between(None, "2006-12-31")
    result = alvh_dsl.dryrun(BOOK, history, baseline=None, params={"roll_dte": "0d"})
    run = numpy_condor.simulate(history, numpy_condor.Terms(roll_dte=0), risk=True)
    assert_same(result.daily, result.trades, run)
    assert result.summary["book"]["expiries_settled_late"] >= 10
    assert np.isfinite(run.equity).all()


@pytest.mark.parametrize("terms", [{"roll_dte": 3, "short_delta": 0.45, "wings": 5.0}])
def test_other_terms_to_the_cent(terms: dict[str, Any]) -> None:
    """Params away from the book's defaults (near-the-money shorts, narrow wings, a late
    roll) on five synthetic years: the schedule is not tuned to one book."""
    history = default_history().between(None, "2009-12-31")
    params = {"roll_dte": f"{terms['roll_dte']}d", "short_delta": str(terms["short_delta"]),
              "wing_width": f"{terms['wings']:g} points"}  # fmt: skip
    result = alvh_dsl.dryrun(BOOK, history, baseline=None, params=params)
    run = numpy_condor.simulate(history, numpy_condor.Terms(**terms), risk=True)
    assert_same(result.daily, result.trades, run)
