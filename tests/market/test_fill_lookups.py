"""The dry-run's per-contract and per-expiry look-ups, and the valuations built on them.

MarketData reads a VIX contract's month, price, response weight and option vol from
arrays built once per contract (MarketData.contract), and SPX expiries from one look-up
per rule for every day (MarketData.spx_expiry); valuations price the whole grid and
take the greeks at the zero move only (bsm_grid, black76_grid), and a budgeted buy
prices today's two calls before valuing the spread; and what fills value is kept on
the market for the runs that share it (MarketData.memo). Each must give, to the bit,
what the direct computation below (the code it replaced), or a fresh market, gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alvh_dsl.api import load
from alvh_dsl.dryrun.actions import resolve_expiry
from alvh_dsl.dryrun.config import DryRunConfig
from alvh_dsl.dryrun.engine import build_market
from alvh_dsl.dryrun.loop import run_book
from alvh_dsl.dryrun.market_data import series_source
from alvh_dsl.dryrun.simulate import Simulator
from alvh_dsl.dryrun.valuation import (
    Valuation,
    call_prices,
    condor_leg_prices,
    value_call_spread,
    value_condor,
)
from alvh_dsl.market.pricing import black76, bsm, iv_from_vix
from alvh_dsl.market.synth import default_history

CORE = Path(__file__).resolve().parents[2] / "rulebooks" / "alvh_core.alvh"


def same_bits(a: Any, b: Any) -> bool:
    x, y = np.asarray(a), np.asarray(b)
    if x.dtype.kind == "f":
        x, y = x.astype(np.float64).view(np.int64), np.asarray(y, np.float64).view(np.int64)
    return x.shape == y.shape and x.dtype == y.dtype and bool((x == y).all())


@pytest.fixture(scope="module")
def market() -> Any:
    return build_market(default_history().between("2008-01-01", "2009-12-31"), DryRunConfig())


def direct(market: Any, rows: Any, expiry: np.datetime64) -> dict[str, Any]:
    """Month slot, price, weight and option vol of the contract on ``rows``, from the curve."""
    curve = market.curve
    slot = np.clip((curve.expiry[rows] < expiry).sum(axis=1), 0, curve.expiry.shape[1] - 1)
    slot = slot.astype(np.intp)
    match = curve.expiry[rows] == expiry
    first = match.argmax(axis=1)
    on = match[np.arange(len(rows)), first]
    r = market.responses
    vvix = market.vvix[rows]
    return {
        "slot": slot,
        "price": np.where(on, curve.price[rows, first], np.nan),
        "dampening": r.futures[slot],
        "option_vol": np.where(
            np.isfinite(vvix), r.option_vol_scale[slot] * vvix / 100.0, r.option_vol[slot]
        ),
        "month": [int(k) + 1 if hit else None for k, hit in zip(first, on, strict=True)],
    }


def test_contract_look_ups_equal_the_curve_read_directly(market: Any) -> None:
    sim = Simulator(market, DryRunConfig().costs, 100_000.0)
    expiries = np.unique(market.curve.expiry)
    assert len(expiries) > 20
    checked_off_curve = 0
    for expiry in expiries:
        for rows in (np.arange(len(market), dtype=np.intp), np.arange(40, 90, dtype=np.intp)):
            want = direct(market, rows, expiry)
            assert same_bits(market.month_slot(rows, expiry), want["slot"])
            assert same_bits(market.futures_price(rows, expiry), want["price"])
            assert same_bits(market.dampening(rows, expiry), want["dampening"])
            assert same_bits(market.option_vol(rows, expiry), want["option_vol"])
        pos = type("Pos", (), {"expiry": expiry})()
        months = [sim.hedge_month(day, pos) for day in range(len(market))]
        assert months == direct(market, np.arange(len(market)), expiry)["month"]
        checked_off_curve += months.count(None) > 0
    assert checked_off_curve  # days a contract is not on the curve were checked too


def test_spx_expiries_are_resolve_expirys(market: Any) -> None:
    rules: list[tuple[str, float, dict[str, float]]] = [
        ("month", 1, {"month": 1}),
        ("month", 3, {"month": 3}),
        ("near", 45.0, {"near_days": 45}),
        ("near", 30.5, {"near_days": 30.5}),
    ]
    for day in range(0, len(market), 3):
        for rule, value, args in rules:
            got = market.spx_expiry(day, rule, value)
            want = resolve_expiry(market.dates[day], args)
            assert got == want and got.dtype == want.dtype, (day, args)


def reference_condor(market: Any, start: int, expiry: Any, strikes: Any) -> dict[str, Any]:
    """value_condor as it was: bsm's every greek on the whole grid, summed, then the zero move."""
    end = int(np.searchsorted(market.dates, expiry, side="left"))
    rows = np.arange(start, max(end, start + 1), dtype=np.intp)
    k = np.array(strikes, dtype=np.float64)[:, None, None]
    is_call = np.array([False, False, True, True])[:, None, None]
    sign = np.array([1.0, -1.0, -1.0, 1.0])[:, None, None]
    moves = market.moves
    spot = market.spx[rows][None, :, None] * (1.0 + moves.moves)[None, None, :]
    vix = market.vix[rows][None, :, None] * market.vix_factor()[None, None, :]
    t = ((expiry - market.dates[rows]).astype(np.float64) / 365.0)[None, :, None]
    r, q = market.rate[rows][None, :, None], market.dividend[rows][None, :, None]
    p = market.pricing
    vol = iv_from_vix(vix, k, spot, skew=p.skew, floor=p.vol_floor)
    g = bsm(spot, k, t, vol, r, q, call=is_call)
    legs = {name: (sign * getattr(g, name)).sum(axis=0) for name in g._fields}
    out = {name: legs[name][:, moves.zero] for name in ("delta", "gamma", "theta", "vega")}
    out["grid"] = legs["price"] * 100.0
    out["legs"] = g.price[:, :, moves.zero].T
    return out


def reference_spread(market: Any, start: int, expiry: Any, lower: float, upper: float) -> Any:
    """value_call_spread's vega, theta, grid and legs as they were (black76 on the grid)."""
    end = int(np.searchsorted(market.dates, expiry, side="left"))
    rows = np.arange(start, max(end, start + 1), dtype=np.intp)
    forward = market.futures_price(rows, expiry)
    w = market.dampening(rows, expiry)
    f = (forward[:, None] * np.exp(w[:, None] * np.log(market.vix_factor())[None, :]))[None]
    k = np.array([lower, upper], dtype=np.float64)[:, None, None]
    sign = np.array([1.0, -1.0])[:, None, None]
    t = ((expiry - market.dates[rows]).astype(np.float64) / 365.0)[None, :, None]
    vol = market.option_vol(rows, expiry)[None, :, None]
    g = black76(f, k, t, vol, market.rate[rows][None, :, None], call=True)
    c = market.moves.zero
    delta_f = (sign * g.delta).sum(axis=0)[:, c]
    return {
        "vega": 100.0 * delta_f * w * forward / market.vix[rows],
        "theta": (sign * g.theta).sum(axis=0)[:, c] * 100.0,
        "grid": (sign * g.price).sum(axis=0) * 100.0,
        "legs": g.price[:, :, c].T,
    }


def test_valuations_equal_the_whole_grid_greeks(market: Any) -> None:
    last = len(market) - 1
    for day in [*range(0, last, 9), last - 1, last]:
        s = float(market.spx[day])
        strikes = tuple(float(round(s * x)) for x in (0.8, 0.95, 1.04, 1.15))
        for dte in (1, 3, 40):  # one row (expires tomorrow) up to a whole span
            expiry = market.dates[day] + np.timedelta64(dte, "D")
            got: Valuation = value_condor(market, day, expiry, strikes)  # type: ignore[arg-type]
            want = reference_condor(market, day, expiry, strikes)
            for name in ("delta", "gamma", "theta", "vega"):
                assert same_bits(got.points[name], want[name]), (day, dte, name)
            assert same_bits(got.grid, want["grid"]) and same_bits(got.legs, want["legs"])
        for month in (1, 2, 3):
            expiry = market.curve.expiry[day, month - 1]
            got = value_call_spread(market, day, expiry, 25.0, 35.0)
            want = reference_spread(market, day, expiry, 25.0, 35.0)
            assert same_bits(got.theta, want["theta"]) and same_bits(got.grid, want["grid"])
            assert same_bits(got.legs, want["legs"]) and same_bits(got.vega, want["vega"])


def test_todays_mids_are_row_0_of_the_valuation(market: Any) -> None:
    """A budgeted buy prices today's calls first and values the spread only when it buys:
    the fills and the position's marks must read the same mids either way."""
    for day in range(0, len(market) - 1, 4):
        for month in (1, 2, 4):
            expiry = market.curve.expiry[day, month - 1]
            for lower, upper in ((25.0, 35.0), (16.0, 21.0)):
                mids = call_prices(market, day, expiry, (lower, upper))
                valued = value_call_spread(market, day, expiry, lower, upper)
                assert same_bits(mids, valued.legs[0]), (day, month)
        s = float(market.spx[day])
        strikes = (s * 0.85, s * 0.95, s * 1.05, s * 1.15)
        expiry = market.dates[day] + np.timedelta64(35, "D")
        legs = condor_leg_prices(market, day, expiry, strikes)
        assert same_bits(legs, value_condor(market, day, expiry, strikes).legs[0])


def run_repr(book: Any, market: Any, no_hedge: bool) -> str:
    """A run's rows, trades, decisions and statuses as text: equal means equal to the bit
    (``repr`` spells every float exactly, with its type)."""
    config = DryRunConfig()
    r = run_book(book, market, series_source(market), config, no_hedge=no_hedge)
    return repr((r.daily_rows, r.trades, r.decisions, r.summary, r.rule_status))


def test_runs_sharing_a_market_give_what_fresh_markets_give() -> None:
    """A baseline and a sweep's variants reuse the positions the runs before them valued
    (MarketData.memo): each run must still be the run a fresh market gives."""
    history = default_history().between("2008-01-01", "2010-06-30")
    config = DryRunConfig()
    book = load(CORE)

    def market(memo_bytes: int) -> Any:
        built = build_market(history, config)
        built.MEMO_BYTES = memo_bytes
        return built

    # Without a memo: every position valued, every mid priced, when it is traded.
    fresh = [run_repr(book, market(0), no_hedge) for no_hedge in (False, True)]
    shared = build_market(history, config)
    assert run_repr(book, shared, False) == fresh[0]
    assert run_repr(book, shared, True) == fresh[1]  # the baseline: the book's condors
    assert run_repr(book, shared, False) == fresh[0]  # every position from the memo
    tight = market(100_000)  # a few positions: most are evicted and valued again
    assert [run_repr(book, tight, no_hedge) for no_hedge in (False, True, False)] == [
        *fresh,
        fresh[0],
    ]


def test_shared_positions_are_one_read_only_valuation(market: Any) -> None:
    costs = DryRunConfig().costs
    first, second = Simulator(market, costs, 1e5), Simulator(market, costs, 1e5)
    expiry = market.dates[60]
    for sim in (first, second):
        assert sim.open_condor(20, expiry, 0.16, 50.0, 1, "r", "open").done
        assert sim.buy_call_spread(20, 2, 25.0, 35.0, 2, None, "r", "buy").done
    for a, b in ((first.condors[0], second.condors[0]), (first.hedges[0], second.hedges[0])):
        assert a.valuation is b.valuation
        with pytest.raises(ValueError, match="read-only"):
            a.valuation.grid[0, 0] = 0.0
        with pytest.raises(ValueError, match="read-only"):
            a.valuation.legs[0, 0] = 0.0
