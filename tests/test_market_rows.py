"""MarketData's per-day look-ups read from what it makes once: the same values, of the same
types, as the per-row expressions they replace."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from alvh_dsl.api import dryrun_history
from alvh_dsl.dryrun.config import DryRunConfig
from alvh_dsl.dryrun.engine import build_market
from alvh_dsl.dryrun.market_data import MarketData


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
        for day in range(len(market)):
            got = [(q.month, q.price, q.expiry, q.modelled) for q in market._quotes(day)]
            want = _row_quotes(market, day)
            assert got == want
            assert [tuple(map(type, g)) for g in got] == [tuple(map(type, w)) for w in want]
    finally:
        curve.price[5, 3] = kept
        market._curve_lists = None


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
