"""MarketData's per-day look-ups read from what it makes once: the same values, of the same
types, as the per-row expressions they replace."""

from __future__ import annotations

import gc
import math
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alvh_dsl.api import dryrun_history, load
from alvh_dsl.dryrun.config import DryRunConfig
from alvh_dsl.dryrun.engine import build_market
from alvh_dsl.dryrun.loop import run_book
from alvh_dsl.dryrun.market_data import ContractDays, DayQuotes, MarketData, series_source

BOOK = Path(__file__).resolve().parents[1] / "rulebooks" / "alvh_core.alvh"


@pytest.fixture(scope="module")
def market() -> MarketData:
    history = dryrun_history(None, start="2014-01-01", end="2016-12-31")
    return build_market(history, DryRunConfig())  # type: ignore[arg-type]


def _row_quotes(market: MarketData, day: int) -> list[tuple[Any, ...]]:
    curve = market.curve
    price, expiry, modelled = (a[day].tolist() for a in (curve.price, curve.expiry, curve.modelled))
    rows = zip(price, expiry, modelled, strict=True)
    return [
        (k, price if math.isfinite(price) else None, expiry, modelled)
        for k, (price, expiry, modelled) in enumerate(rows, 1)
    ]


def test_quotes_are_the_rows_tolist(market: MarketData) -> None:
    curve = market.curve
    kept = curve.price[5, 3]
    curve.price[5, 3] = np.nan  # an unknown month reads as None
    try:
        quotes = DayQuotes(curve)  # fresh: the market's own converted the curve before
        for day in range(len(market)):
            got = [(q.month, q.price, q.expiry, q.modelled) for q in quotes.day(day)]
            want = _row_quotes(market, day)
            assert got == want
            assert [tuple(map(type, g)) for g in got] == [tuple(map(type, w)) for w in want]
    finally:
        curve.price[5, 3] = kept


def test_a_run_market_is_freed_without_the_cyclic_collector() -> None:
    """A market whose days were read (the rules' lazy futures quotes included) and a run
    on it hold no reference cycle: dropping them frees them at once, the collector off."""
    history = dryrun_history(None, start="2015-01-01", end="2015-06-30")
    config = DryRunConfig()
    was = gc.isenabled()
    gc.disable()
    try:
        market = build_market(history, config)  # type: ignore[arg-type]
        assert market.plain_market(3).futures[0].month == 1
        result = run_book(load(BOOK), market, series_source(market), config)
        assert result.daily_rows
        gone = weakref.ref(market)
        del market, result
        assert gone() is None
    finally:
        if was:
            gc.enable()


def test_contract_column_and_on_are_the_match(market: MarketData) -> None:
    expiries = {e for e in market.curve.expiry.ravel().tolist() if e is not None}
    for expiry in sorted(expiries)[:: max(1, len(expiries) // 12)]:
        e = np.datetime64(expiry, "D")
        contract = market.contract(e)
        match = market.curve.expiry == e
        found = np.flatnonzero(match.any(axis=1))
        assert np.array_equal(np.flatnonzero(contract.on), found)
        assert np.array_equal(contract.column[found], match[found].argmax(axis=1))
        assert contract.column.dtype == match[found].argmax(axis=1).dtype


def _full(market: MarketData, expiry: np.datetime64) -> ContractDays:
    """ContractDays.build comparing every day (as when the curve is not in order)."""
    kept = market._curve_in_order
    object.__setattr__(market, "_curve_in_order", False)
    try:
        return ContractDays.build(market, expiry)
    finally:
        object.__setattr__(market, "_curve_in_order", kept)


def test_contract_days_of_the_window_are_those_of_every_day(market: MarketData) -> None:
    _same_contract_days(market)


def test_contract_days_of_the_window_on_the_real_history(shared_dir: Path) -> None:
    history = dryrun_history(shared_dir / "data" / "history_2004_2023.csv", gaps="keep")
    _same_contract_days(build_market(history, DryRunConfig()))  # type: ignore[arg-type]


def _same_contract_days(market: MarketData) -> None:
    assert market.curve_in_order()
    listed = sorted(set(market.curve.expiry.ravel().tolist()))
    day = np.timedelta64(1, "D")
    expiries = [np.datetime64(e, "D") for e in listed]
    # Off the curve too: before its first month, after its last, between two expiries.
    expiries += [expiries[0] - 40 * day, expiries[-1] + 40 * day, expiries[3] + day]
    for expiry in expiries:
        got, want = ContractDays.build(market, expiry), _full(market, expiry)
        for name in ("slot", "price", "dampening", "option_vol", "column", "on"):
            a, b = getattr(got, name), getattr(want, name)
            assert a.dtype == b.dtype, name
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), (name, expiry)
        assert got.month == want.month


def test_a_curve_out_of_order_compares_every_day() -> None:
    history = dryrun_history(None, start="2015-01-01", end="2015-12-31")
    market = build_market(history, DryRunConfig())  # type: ignore[arg-type]
    expiry = np.datetime64(market.curve.expiry[100, 2], "D")
    market.curve.expiry[50, 0] = market.curve.expiry[50, 1]  # two months expiring together
    assert not market.curve_in_order()
    assert ContractDays.build(market, expiry).on[100]
