"""alvh_dsl.market.live: the pricing paths for shaped inputs give the general functions'
numbers to the bit (and their errors), and the condor valuation built on them the one
built on bsm_grid."""

from __future__ import annotations

import numpy as np
import pytest

from alvh_dsl.market.live import (
    black76_price_live,
    bsm_grid_live,
    short_strikes_live,
)
from alvh_dsl.market.pricing import (
    black76_price,
    bsm_grid,
    iv_from_vix,
    strike_for_delta,
)

PUT_CALL = np.array([False, True])


def _bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _grid_inputs(rng: np.random.Generator, days: int, moves: int) -> tuple[np.ndarray, ...]:
    spx = rng.uniform(600.0, 5000.0, days)
    factor = 1.0 + np.linspace(-0.3, 0.3, moves)
    spot = spx[None, :, None] * factor[None, None, :]
    k = np.array([0.8, 0.95, 1.05, 1.2])[:, None, None] * spx[0]
    t = (np.arange(days, 0, -1, dtype=np.float64) / 365.0)[None, :, None]
    vol = rng.uniform(0.08, 0.9, (1, days, moves))
    r = rng.uniform(0.0, 0.05, days)[None, :, None]
    q = rng.uniform(0.0, 0.03, days)[None, :, None]
    return spot, k, t, vol, r, q


@pytest.mark.parametrize("days,moves", [(1, 1), (1, 39), (5, 1), (31, 39), (64, 7)])
def test_bsm_grid_live_is_bsm_grid(days: int, moves: int) -> None:
    rng = np.random.default_rng(days * 100 + moves)
    spot, k, t, vol, r, q = _grid_inputs(rng, days, moves)
    call = np.array([False, False, True, True])[:, None, None]
    sign = np.where(call, 1.0, -1.0)
    for at in sorted({0, moves // 2, moves - 1}):
        want = bsm_grid(spot, k, t, vol, r, q, call=call, at=at)
        got = bsm_grid_live(spot, k, t, vol, r, q, sign, at=at)
        assert _bits(want.price, got.price)
        for a, b in zip(want.at, got.at, strict=True):
            assert _bits(a, b)


def test_bsm_grid_live_dead_and_negative_inputs() -> None:
    rng = np.random.default_rng(7)
    spot, k, t, vol, r, q = _grid_inputs(rng, 4, 3)
    call = np.array([False, False, True, True])[:, None, None]
    sign = np.where(call, 1.0, -1.0)
    t = t.copy()
    t[0, -1, 0] = 0.0  # an expiry morning: bsm's dead branch
    vol = vol.copy()
    vol[0, 1, 2] = np.nan  # an unknown input: NaN out
    want = bsm_grid(spot, k, t, vol, r, q, call=call, at=1)
    got = bsm_grid_live(spot, k, t, vol, r, q, sign, at=1)
    assert _bits(want.price, got.price)
    for a, b in zip(want.at, got.at, strict=True):
        assert _bits(a, b)
    with pytest.raises(ValueError, match="spot must not be negative"):
        bsm_grid_live(-spot, k, t, vol, r, q, sign, at=0)


def _general(*args: float, **kw: float) -> tuple[float, float]:
    found = strike_for_delta(*args, call=PUT_CALL, **kw)  # type: ignore[arg-type]
    return float(found[0]), float(found[1])


def test_short_strikes_live_is_strike_for_delta() -> None:
    rng = np.random.default_rng(11)
    for i in range(20_000):
        s = np.float64(rng.uniform(300.0, 6000.0))
        t = float(rng.integers(1, 400)) / 365.0
        vx = np.float64(rng.uniform(8.0, 90.0) if i % 97 else rng.choice([np.nan, 0.0]))
        d = float(rng.choice([0.05, 0.16, 0.3, 0.5]) if i % 5 else rng.uniform(0.01, 0.6))
        r, q = np.float64(rng.uniform(0.0, 0.06)), np.float64(rng.uniform(0.0, 0.03))
        kw = {"skew": 0.0 if i % 40 else 0.8, "grid": float(rng.choice([1.0, 5.0, 25.0]))}
        want = _general(s, t, vx, d, r, q, floor=0.01, **kw)
        got = short_strikes_live(s, t, vx, d, r, q, floor=0.01, **kw)
        assert all(type(x) is float for x in got)
        assert np.array_equal(want, got, equal_nan=True), (s, t, vx, d, r, q, kw)


def test_short_strikes_live_errors_as_strike_for_delta() -> None:
    kw = {"skew": 0.0, "grid": 5.0, "floor": 0.01}
    for args in ((2000.0, 0.0, 20.0, 0.16, 0.02, 0.01), (2000.0, 0.1, 20.0, 1.5, 0.02, 0.01)):
        with pytest.raises(ValueError) as want:
            _general(*args, **kw)
        with pytest.raises(ValueError) as got:
            short_strikes_live(*args, **kw)
        assert str(got.value) == str(want.value)


def test_value_condor_is_the_bsm_grid_valuation() -> None:
    from alvh_dsl.api import dryrun_history
    from alvh_dsl.dryrun.config import DryRunConfig
    from alvh_dsl.dryrun.engine import build_market
    from alvh_dsl.dryrun.valuation import value_condor

    history = dryrun_history(None, start="2015-01-01", end="2016-12-31")
    market = build_market(history, DryRunConfig())  # type: ignore[arg-type]
    moves, c = market.moves, market.moves.zero
    sign = np.array([1.0, -1.0, -1.0, 1.0])[:, None, None]
    call = np.array([False, False, True, True])[:, None, None]
    for day in range(0, len(market) - 50, 23):
        expiry = market.spx_expiry(day, "near", 45.0)
        s0 = float(market.spx[day])
        strikes = (s0 * 0.85, s0 * 0.95, s0 * 1.05, s0 * 1.15)
        got = value_condor(market, day, expiry, strikes)
        # The valuation as it was written on bsm_grid (the tree before alvh_dsl.market.live).
        end = max(int(np.searchsorted(market.dates, expiry)), day + 1)
        rows = np.arange(day, end)
        k = np.array(strikes)[:, None, None]
        spot = market.spx[rows][None, :, None] * (1.0 + moves.moves)[None, None, :]
        vix = market.vix[rows][None, :, None] * market.vix_factor()[None, None, :]
        t = ((expiry - market.dates[rows]).astype(np.float64) / 365.0)[None, :, None]
        p = market.pricing
        vol = iv_from_vix(vix, k, spot, skew=p.skew, floor=p.vol_floor)
        r, q = market.rate[rows][None, :, None], market.dividend[rows][None, :, None]
        grid, g = bsm_grid(spot, k, t, vol, r, q, call=call, at=c)
        points = (sign * grid).sum(axis=0)
        assert _bits(got.grid, points * 100.0)
        assert _bits(got.value, points[:, c] * 100.0)
        assert _bits(got.mark, -points[:, c])
        assert _bits(got.legs, g.price[:, :, 0].T)
        for name in ("delta", "gamma", "theta", "vega"):
            terms = sign * getattr(g, name)
            summed = 0.0 + terms[0, :, 0]
            for leg in range(1, 4):
                summed = summed + terms[leg, :, 0]
            assert _bits(got.points[name], summed)
            assert _bits(getattr(got, name), summed * 100.0)


def test_black76_price_live_is_black76_price() -> None:
    rng = np.random.default_rng(5)
    for i in range(20_000):
        f = float(rng.uniform(9.0, 80.0) if i % 101 else rng.choice([np.nan, 0.0, -1.0]))
        strikes = np.array(sorted(rng.uniform(5.0, 90.0, 2)))
        if i % 997 == 0:
            strikes[0] = -strikes[0]
        t = float(rng.integers(0, 250)) / 365.0 if i % 89 else float(rng.choice([-0.1, np.nan]))
        vol = float(rng.uniform(0.3, 2.0) if i % 67 else rng.choice([0.0, np.nan]))
        r = float(rng.uniform(0.0, 0.06))
        call = bool(i % 3)
        try:
            want = black76_price(
                np.float64(f), strikes, t, np.float64(vol), np.float64(r), call=call
            )
        except ValueError as e:
            with pytest.raises(ValueError, match=str(e)):
                black76_price_live(
                    np.float64(f), strikes, t, np.float64(vol), np.float64(r), call=call
                )
            continue
        got = black76_price_live(
            np.float64(f), strikes, t, np.float64(vol), np.float64(r), call=call
        )
        assert _bits(np.asarray(want, dtype=np.float64), np.asarray(got, dtype=np.float64))
