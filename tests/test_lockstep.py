"""Issue 11's moonshot (benchmarks/lockstep.py): K variants in lock step over a variant
axis, cross-checked against the scalar engine decision for decision.

For every variant: the same daily equity to the cent, the same trade legs (strike,
quantity, cash flow), and the same decisions that fired — date, rule and whether the
action traded (an ``unfilled`` roll to the month the condor already expires in fires and
trades nothing) — as an audited ``run_dryrun`` of that variant's book. On the synthetic
history (always), on 2007–2017 of the real one and on its 2004–06 rows, whose gaps make
expiries settle late (skipped without ../shared). And the array evaluator's three-valued
logic, table-driven, against the language's own evaluator.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alvh_dsl.api import load
from alvh_dsl.dryrun.engine import run_dryrun
from alvh_dsl.lang.state import State
from alvh_dsl.market.history import History, load_history
from alvh_dsl.market.synth import default_history

from .conftest import ROOT


def _module(name: str) -> Any:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


numpy_condor = _module("numpy_condor")
lockstep = _module("lockstep")

# Conditions and actions beyond the plain book: a define, `not`, `or`, `between`,
# arithmetic on days, an `unless` that blocks some days, and a roll whose target month
# is a param (month 1: the month the condor already expires in, so it fires unfilled).
# (`month` itself is a reserved word: E105.)
CONDITIONS_BOOK = """\
rulebook "Lock-step conditions" version "1.0"

param roll_dte    = 7 days
param late        = 2 days
param short_delta = 0.16
param to_month    = 1

define near_expiry = condor.DTE <= roll_dte

rule open_condor "Open when flat"
  when not (condor.count >= 1) and (condor.DTE > 100 days or condor.count == 0)
  then open iron condor near 45 days short delta short_delta wings 25 points

rule roll_forward "Roll near expiry" priority 10
  when near_expiry or condor.DTE between 0 days and late + 1 day
  unless condor.DTE * 2 == (roll_dte - 3 days) * 2
  then roll condor to month to_month keeping delta
"""


# Market names in conditions: one value a day for every variant, and a param band on VIX;
# the quantity a param too (variants whose market tables differ in it alone); and VVIX
# unknown before 2007 on the real history (its series starts late): `not (VVIX > 200)` is
# then unknown, not true, and the roll fires only where VIX or SPX decide it.
MARKET_BOOK = """\
rulebook "Lock-step market" version "1.0"

param roll_dte  = 7 days
param vix_low   = 14
param vix_high  = 35
param contracts = 1

rule open_condor "Open in a VIX band"
  when condor.count == 0 and VIX between vix_low and vix_high
  then open iron condor near 45 days short delta 0.16 wings 50 points quantity contracts

rule roll_forward "Roll unless VVIX is extreme, or when VIX is high" priority 10
  when DTE <= roll_dte and (not (VVIX > 200) or VIX > 20 or SPX < 1000)
  then roll condor to month 2 keeping delta
"""
MARKET_GRID = {"roll_dte": ["3d", "7d"], "vix_low": ["12", "16"], "vix_high": ["22", "35"],
               "contracts": ["1", "3"]}  # fmt: skip


def assert_lockstep_matches(book: Path, history: History, grid: dict[str, list[str]]) -> Any:
    """Every variant of ``grid`` in lock step against its own audited engine run."""
    variants = lockstep.variants(grid)
    books = lockstep.load_books(book, variants)
    sweep = lockstep.run(books, history)
    assert sweep.equity.shape == (len(variants), len(history))
    for k, (variant, b) in enumerate(zip(variants, books, strict=True)):
        run = run_dryrun(b, history, baseline=None)
        engine = np.round(run.daily["equity"].to_numpy(), 2)
        bad = np.flatnonzero(engine != np.round(sweep.equity[k], 2))
        assert not len(bad), (variant, str(sweep.dates[bad[0]]), engine[bad[0]])
        legs = sweep.trades.of(k)
        trades = run.trades
        assert [t[-1] for t in legs] == [round(float(c), 2) for c in trades["cash_flow"]], variant
        assert [t[3] for t in legs] == list(trades["quantity"]), variant
        assert [t[2] for t in legs] == list(trades["strike"]), variant
        fired = [
            (d["date"], d["rule"], any(a["trades"] for a in d["actions"]))
            for d in run.run.decisions
            if d["status"] == "fired"
        ]
        assert sweep.fired[k] == fired, variant
    return sweep


def test_synthetic_variants_decision_for_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve variants — the roll (0 days: every condor settles), the short delta and the
    entry DTE (distinct market tables) — over five synthetic years; the valuation priced
    in many small chunks, whose seams must not show."""
    monkeypatch.setattr(lockstep, "CHUNK", 1_000)
    history = default_history().between(None, "2009-12-31")
    grid = {"roll_dte": ["0d", "3d", "7d"], "short_delta": ["0.16", "0.45"],
            "entry_dte": ["30d", "45d"]}  # fmt: skip
    sweep = assert_lockstep_matches(lockstep.BOOK, history, grid)
    pnl = sweep.equity[:, -1]
    assert len(set(np.round(pnl, 2))) == len(pnl)  # the variants really differ
    assert any(action == "settle" for action in sweep.trades.action)


def test_conditions_unless_and_unfilled_rolls(tmp_path: Path) -> None:
    book = tmp_path / "conditions.alvh"
    book.write_text(CONDITIONS_BOOK)
    history = default_history().between(None, "2008-12-31")
    # A 0.005 short delta: shorts worth less than the slippage, so many days an open
    # finds no credit, fires and trades nothing (a flat book the next day tries again).
    grid = {"roll_dte": ["2d", "7d"], "to_month": ["1", "2"], "short_delta": ["0.16", "0.005"]}
    sweep = assert_lockstep_matches(book, history, grid)
    unfilled = {
        (v["to_month"], v["short_delta"]): sum(not traded for *_, traded in f)
        for v, f in zip(lockstep.variants(grid), sweep.fired, strict=True)
    }
    assert unfilled[("1", "0.16")] > 0  # a roll to month 1 fires unfilled
    assert unfilled[("2", "0.16")] == 0  # to month 2 it trades
    assert unfilled[("2", "0.005")] > 100  # opens without a credit


def test_market_names_in_conditions(tmp_path: Path) -> None:
    book = tmp_path / "market.alvh"
    book.write_text(MARKET_BOOK)
    sweep = assert_lockstep_matches(
        book, default_history().between(None, "2009-12-31"), MARKET_GRID
    )
    assert len({tuple(f) for f in sweep.fired}) > 2  # the band changes what fires, when


def test_market_names_unknown_before_a_series_starts(shared_dir: Path, tmp_path: Path) -> None:
    book = tmp_path / "market.alvh"
    book.write_text(MARKET_BOOK)
    history = load_history(shared_dir / "data" / "history_2004_2023.csv", gaps="keep")
    history = history.between(None, "2009-12-31")
    assert history.frame["vvix"].isna().sum() > 400  # 2004–06 (473 rows): no VVIX yet
    assert_lockstep_matches(book, history, MARKET_GRID)


def test_real_history_2007_2017(shared_dir: Path) -> None:
    history = numpy_condor.load(
        str(shared_dir / "data" / "history_2004_2023.csv"), "keep", "2007-01-01", "2017-12-31"
    )
    assert_lockstep_matches(
        lockstep.BOOK, history, {"roll_dte": ["5d", "10d"], "short_delta": ["0.10", "0.22"]}
    )


def test_real_history_late_settlements(shared_dir: Path) -> None:
    history = load_history(shared_dir / "data" / "history_2004_2023.csv", gaps="keep")
    history = history.between(None, "2006-12-31")
    assert_lockstep_matches(lockstep.BOOK, history, {"roll_dte": ["0d", "7d"]})


# ------------------------------------------------------------ the array evaluator

KLEENE = [
    "condor.DTE <= 7 days",
    "condor.DTE > 7 days",
    "not (condor.DTE <= 7 days)",
    "condor.DTE <= 7 days and condor.count == 1",
    "condor.DTE <= 7 days and condor.count == 0",
    "condor.DTE <= 7 days or condor.count == 0",
    "condor.DTE <= 7 days or condor.count == 1",
    "condor.DTE between 2 days and 7 days",
    "not (condor.DTE between 2 days and 7 days or condor.count > 0)",
    "condor.DTE / 0 > 1",
    "-condor.DTE + 10 days >= condor.count * 3 days",
    "condor.DTE <= 7 days or condor.DTE > 7 days",
    "condor.count == 1 and 5 days < roll_dte",
]
STATES = [  # (condor.count, condor.DTE; None: no condor, so its DTE is unknown)
    (0, None), (1, 3), (1, 7), (1, 8), (1, 1), (2, 30),
]  # fmt: skip


def _condor(cid: str, dte: int) -> dict[str, Any]:
    expiry = dt.date(2020, 1, 2) + dt.timedelta(days=dte)
    return {"id": cid, "expiry": expiry.isoformat(), "quantity": 1, "short_put": 3000,
            "long_put": 2950, "short_call": 3400, "long_call": 3450, "credit": 5.0}  # fmt: skip


@pytest.mark.parametrize("expr", KLEENE)
def test_three_valued_conditions_as_the_language_decides(expr: str, tmp_path: Path) -> None:
    """Each condition over six states at once (as a [6] axis) against Book.evaluate of
    the same rule on each state alone: fired, not met, or unknown."""
    text = (
        f'rulebook "k" version "1"\nparam roll_dte = 7 days\nrule r "r"\n  when {expr}\n'
        "  then open iron condor near 45 days short delta 0.16 wings 50 points\n"
    )
    path = tmp_path / "k.alvh"
    path.write_text(text)
    book = load(path)
    comp = lockstep.Compiler([book] * len(STATES))
    cond = comp.cond(book.rules[0].rule.when)
    count = np.array([c for c, _ in STATES], dtype=np.float64)
    dte = np.array([np.nan if d is None else d for _, d in STATES], dtype=np.float64)
    true, false = (np.broadcast_to(x, count.shape) for x in cond({"condor.count": count,
                                                                 "condor.DTE": dte}))  # fmt: skip
    for i, (c, d) in enumerate(STATES):
        condors = [_condor(f"C{j}", d or 0) for j in range(c)]
        state = {"date": "2020-01-02", "condors": condors, "market": {"SPX": 3200, "VIX": 15},
                 "equity": 250_000}  # fmt: skip
        decided = book.evaluate(State.model_validate(state)).decisions[0].status
        ours = "fired" if true[i] else "not_met" if false[i] else "unknown"
        assert ours == decided, (expr, STATES[i])


OPEN = "open iron condor near 45 days short delta 0.16 wings 50 points"


@pytest.mark.parametrize(
    ("when", "then", "refusal"),
    [
        ("condor.pnl > 100", OPEN, "condor.pnl"),
        ("VIX.M1 > VIX.M2", OPEN, "VIX.M1"),
        ("SMA(SPX, 20) > SPX", OPEN, "call"),
        ("condor.count == 0", OPEN.replace("45 days", "45.5 days"), "fractional entry DTE"),
        ("condor.count == 0", "close condor", "the action `close`"),
    ],
)
def test_what_the_sketch_does_not_evaluate_is_refused(
    when: str, then: str, refusal: str, tmp_path: Path
) -> None:
    path = tmp_path / "u.alvh"
    path.write_text(f'rulebook "u" version "1"\nrule r "r"\n  when {when}\n  then {then}\n')
    with pytest.raises(lockstep.Unsupported, match=refusal):
        lockstep.compile_rules([load(path)])


def test_cents_round_as_python_does() -> None:
    """The vectorised rounding of the legs' cash flows is Python's ``round(v, 2)``, also on
    half cents, where NumPy's own ``round`` differs on some of them."""
    rng = np.random.default_rng(7)
    x = rng.uniform(-1e5, 1e5, 200_000)
    x = np.concatenate([x, np.round(x, 3) + 0.005, (np.arange(-50_000, 50_000) + 0.5) / 100])
    python = np.array([round(v, 2) for v in x.tolist()])
    assert np.array_equal(lockstep._cents(x), python)
    assert not np.array_equal(np.round(x, 2), python)  # the case the fallback is for
