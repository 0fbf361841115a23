"""The day loop's marks (alvh_dsl.dryrun.book_state.Marks) against a day-by-day sum.

Marks sums the open positions once per change of the book for the days ahead; the
reference below is the plain sum it replaced (every position's row, every day). Both
must give the same figures of the same types — the daily rows are written from them
and must not change by a bit — on days with nothing traded, right after trades inside
a summed span, and across settlements.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from alvh_dsl.dryrun.book_state import BookRisk, Marks
from alvh_dsl.dryrun.config import DryRunConfig
from alvh_dsl.dryrun.daily import DailyColumns, cents_column
from alvh_dsl.dryrun.engine import build_market
from alvh_dsl.dryrun.loop import cents
from alvh_dsl.dryrun.moves import GridRisk, grid_risk, scenario_column
from alvh_dsl.dryrun.simulate import CondorPos, HedgePos, Simulator
from alvh_dsl.dryrun.summary import scenario_matrix, summarise
from alvh_dsl.market.pricing import VIX_FUTURE_MULTIPLIER, VIX_OPTION_MULTIPLIER
from alvh_dsl.market.synth import default_history


def reference_mark(sim: Simulator, day: int) -> BookRisk:
    """The book's marks on ``day``, summed position by position (the loop's old way)."""
    market = sim.market
    delta = gamma = vega = theta = condor_value = hedge_value = notional = 0.0
    values: Any = 0.0
    by_month = [0.0] * market.curve.price.shape[1]
    positions: list[CondorPos | HedgePos] = [*sim.condors, *sim.hedges]
    for p in positions:
        v = p.valuation
        r = v.row(day)
        q = p.quantity
        delta += v.delta[r] * q
        gamma += v.gamma[r] * q
        vega += v.vega[r] * q
        theta += v.theta[r] * q
        values = values + v.grid[r] * q
        if isinstance(p, CondorPos):
            condor_value += v.value[r] * q
            continue
        hedge_value += v.value[r] * q
        if p.kind == "future":
            n = abs(q) * VIX_FUTURE_MULTIPLIER * v.mark[r]
        else:
            f = market.futures_price(np.array([day], dtype=np.intp), p.expiry)[0]
            n = abs(q) * VIX_OPTION_MULTIPLIER * f
        notional += n
        month = sim.hedge_month(day, p)
        if month is not None:
            by_month[month - 1] += n
    risk = (
        grid_risk(values, market.moves, float(market.spx[day]))
        if isinstance(values, np.ndarray)
        else GridRisk(0.0, 0.0, 0.0, (0.0,) * len(market.moves.scenario))
    )
    front = sim.front()
    dte = (
        float((front.expiry - market.dates[day]).astype(np.int64))
        if front is not None
        else math.nan
    )
    return BookRisk(
        equity=sim.cash + condor_value + hedge_value,
        cash=sim.cash,
        delta=delta,
        gamma=gamma,
        vega=vega,
        theta=theta,
        risk=risk,
        front_dte=dte,
        front_expiry=str(front.expiry) if front is not None else None,
        condors=len(sim.condors),
        layers=len({h.layer for h in sim.hedges}),
        hedge_notional=notional,
        condor_value=condor_value,
        hedge_value=hedge_value,
        notional_by_month=tuple(by_month),
    )


def exact(value: Any) -> Any:
    """A value with its type, NaN made comparable: equal means equal to the bit."""
    if isinstance(value, tuple):
        return tuple(exact(v) for v in value)
    if isinstance(value, GridRisk):
        return ("GridRisk", *(exact(getattr(value, f)) for f in value.__dataclass_fields__))
    if isinstance(value, float) and math.isnan(value):
        return (type(value).__name__, "nan")
    return (type(value).__name__, repr(float(value)) if isinstance(value, float) else value)


def fields(risk: BookRisk) -> dict[str, Any]:
    return {name: exact(getattr(risk, name)) for name in BookRisk.__dataclass_fields__}


@pytest.fixture(scope="module")
def market() -> Any:
    return build_market(default_history().between("2008-01-01", "2008-12-31"), DryRunConfig())


def test_marks_equal_the_day_by_day_sum_through_trades_and_settlements(market: Any) -> None:
    sim = Simulator(market, DryRunConfig().costs, 250_000.0)
    marks = Marks(sim)
    dates = market.dates
    seen = {"flat": 0, "condor": 0, "hedge": 0, "traded": 0}
    for day in range(len(market)):
        sim.settle(day)
        assert fields(marks.on(day)) == fields(reference_mark(sim, day)), day
        before = sim.version
        # Trade inside a summed span: a condor every 30 days, hedges on a schedule.
        if day % 30 == 3 and not sim.condors:
            expiry = dates[min(day + 45, len(market) - 1)]
            sim.open_condor(day, expiry, 0.16, 50.0, 1 + day % 2, "r", "open")
        if day % 17 == 5:
            sim.buy_call_spread(day, 2, 25.0, 35.0, 3, None, "r", "buy")
        if day % 23 == 7:
            sim.trade_future(day, 1 + day % 3, 2 if day % 2 else -1, "r", "future")
        if day % 41 == 9 and sim.hedges:
            h = sim.hedges[0]
            sim.close_hedge(day, h, max(1, abs(h.quantity) // 2), "r", "close")
        if sim.version != before:
            seen["traded"] += 1
        after = marks.on(day)
        assert fields(after) == fields(reference_mark(sim, day)), day
        seen["condor" if sim.condors else "hedge" if sim.hedges else "flat"] += 1
    assert all(seen.values()), seen  # every kind of day was checked


def test_a_trade_is_seen_by_the_next_mark_of_the_same_day(market: Any) -> None:
    sim = Simulator(market, DryRunConfig().costs, 250_000.0)
    marks = Marks(sim)
    flat = marks.on(10)
    assert flat.condors == 0 and flat.risk.scenario == (0.0,) * len(flat.risk.scenario)
    sim.open_condor(10, market.dates[50], 0.16, 50.0, 1, "r", "open")
    opened = marks.on(10)
    assert opened.condors == 1 and opened.cash != flat.cash
    assert fields(opened) == fields(reference_mark(sim, 10))


def odd_values() -> list[float]:
    """Ties at a cent, zeros of both signs, huge, tiny and non-finite values."""
    rng = np.random.default_rng(11)
    values = [
        0.0,
        -0.0,
        0.004,
        -0.004,
        0.005,
        -0.005,
        0.015,
        2.675,
        -2.675,
        1e15 + 0.125,
        2.0**53,
        -(2.0**60),
        5e-324,
        1.0049999999999999,
        math.inf,
        -math.inf,
        math.nan,
    ]
    values += list(rng.normal(size=2000) * 1e5) + [k / 1000 for k in range(-2000, 2000)]
    values += list(np.round(rng.normal(size=2000) * 1e4, 3) + 0.005)  # ties at a cent
    return values


def test_cents_rounds_as_python_and_numpy_round() -> None:
    for v in odd_values():
        for x in (float(v), np.float64(v)):
            want, got = round(x, 2), cents(x)
            assert type(got) is type(want), x
            assert np.array_equal(np.float64(got), np.float64(want), equal_nan=True), x
            assert math.copysign(1.0, got) == math.copysign(1.0, want), x


def test_a_column_of_cents_is_each_value_rounded_alone() -> None:
    rng = np.random.default_rng(12)
    # Near ties at half a cent (either side, and on them), near 2**51 / 100, and wide.
    near = (rng.integers(-(10**9), 10**9, 20_000) + 0.5) / 100 + rng.normal(size=20_000) * 1e-12
    edge = 2.0**51 / 100 + rng.normal(size=2_000) * 1e3
    wide = rng.normal(size=20_000) * 10.0 ** rng.integers(-4, 14, 20_000)
    values = [*odd_values(), *near, *edge, *wide, *(-edge), 2.0**51 / 100]
    # Python and NumPy floats mixed, as a column of the rows holds them.
    mixed: list[Any] = [np.float64(v) if k % 3 else float(v) for k, v in enumerate(values)]
    for column in (mixed, [float(v) for v in values], [np.float64(v) for v in values], []):
        got = cents_column(column)
        assert [exact(g) for g in got] == [exact(cents(x)) for x in column]
        assert [math.copysign(1.0, g) for g in got] == [
            math.copysign(1.0, cents(x)) for x in column
        ]


def reference_row(
    market: Any, day: int, before: BookRisk, after: BookRisk, prev_equity: float,
    trades: int, cash: dict[str, float],
) -> dict[str, Any]:  # fmt: skip
    """The day's row as the loop built it day by day (before its rows became columns)."""
    b, a = before.risk, after.risk
    row = {
        "date": market.pydates[day].isoformat(), "spx": float(market.spx[day]),
        "vix": float(market.vix[day]),
        "front_dte": None if math.isnan(before.front_dte) else before.front_dte,
        "front_expiry": before.front_expiry, "condors": after.condors, "layers": after.layers,
        "cash": cents(after.cash), "condor_value": cents(after.condor_value),
        "hedge_value": cents(after.hedge_value), "equity": cents(after.equity),
        "pnl": cents(after.equity - prev_equity), "hedge_notional": cents(after.hedge_notional),
        "delta": before.delta, "gamma": before.gamma, "vega": before.vega,
        "theta": before.theta, "eff_gamma_down": b.gamma_down, "eff_gamma_up": b.gamma_up,
        "eff_gamma_short": b.short, "eff_gamma_long": b.long,
        "eff_gamma_profile_min": b.profile_min, "delta_after": after.delta,
        "gamma_after": after.gamma, "vega_after": after.vega, "theta_after": after.theta,
        "eff_gamma_down_after": a.gamma_down, "eff_gamma_up_after": a.gamma_up,
        "eff_gamma_short_after": a.short, "eff_gamma_long_after": a.long,
        "eff_gamma_profile_min_after": a.profile_min, "trades": trades,
        "condor_pnl": cents(cash["condor"] + after.condor_value),
        "hedge_pnl": cents(cash["hedge"] + after.hedge_value),
    }  # fmt: skip
    for move, x, y in zip(market.moves.scenario_moves, b.scenario, a.scenario, strict=True):
        row[scenario_column(move)] = x
        row[scenario_column(move) + "_after"] = y
    for k, n in enumerate(after.notional_by_month, 1):
        row[f"hedge_notional_m{k}"] = cents(n)
    return row


def test_the_rows_from_columns_equal_the_rows_built_day_by_day(market: Any) -> None:
    sim = Simulator(market, DryRunConfig().costs, 250_000.0)
    marks = Marks(sim)
    days = DailyColumns(market, 250_000.0)
    want = []
    prev, cash = 250_000.0, {"condor": 0.0, "hedge": 0.0}
    for day in range(len(market)):
        first = len(sim.trades)
        sim.settle(day)
        before = marks.on(day)
        if day % 30 == 3 and not sim.condors:
            sim.open_condor(day, market.dates[min(day + 45, len(market) - 1)], 0.16, 50.0, 1,
                            "r", "open")  # fmt: skip
        if day % 17 == 5:
            sim.buy_call_spread(day, 2, 25.0, 35.0, 3, None, "r", "buy")
        if day % 23 == 7:
            sim.trade_future(day, 1 + day % 3, 2 if day % 2 else -1, "r", "future")
        after = marks.on(day)
        for t in sim.trades[first:]:
            cash["condor" if t["instrument"].startswith("SPX") else "hedge"] += t["cash_flow"]
        trades = len(sim.trades) - first
        want.append(reference_row(market, day, before, after, prev, trades, cash))
        days.add(before, after, trades, cash["condor"], cash["hedge"])
        prev = after.equity
    got = days.rows()
    assert [list(r) for r in got] == [list(r) for r in want]  # the keys, in their order
    for g, w in zip(got, want, strict=True):
        assert {k: exact(v) for k, v in g.items()} == {k: exact(v) for k, v in w.items()}
    assert any(r["hedge_notional_m2"] for r in got) and any(r["condors"] for r in got)
    # The summary read off the columns (DailyRows) is the one read off a list of the rows.
    config, counts = DryRunConfig(), dict.fromkeys(COUNTS, 0)
    assert got.columns is not None
    by_rows = summarise(list(got), sim, counts, {}, config)
    assert json.dumps(summarise(got, sim, counts, {}, config)) == json.dumps(by_rows)
    for after in (False, True):
        want_m = scenario_matrix(list(got), config, after=after)
        got_m = scenario_matrix(got, config, after=after)
        assert got_m.flags.c_contiguous and np.array_equal(got_m, want_m)
    assert by_rows["near_expiry_days"] > 0


COUNTS = ("rolls", "migrations", "alerts", "opens", "closes", "hedge_trades")
