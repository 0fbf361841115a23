"""The dry-run's pricing paths (bsm_grid, black76_grid, black76_price, bsm_delta) against bsm /
black76.

The dry-run values each new position at every SPX move of the run and reads the greeks
at the zero move only; these paths compute just that, and must give the public
functions' numbers to the bit (the run's outputs are compared byte for byte), on live
grids, on grids with expired, zero-vol or unknown cells (where they hand over to the
public function), and with the same validation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from alvh_dsl.market.pricing import (
    PriceGreeks,
    black76,
    black76_grid,
    black76_price,
    bsm,
    bsm_delta,
    bsm_grid,
)


def same_bits(a: Any, b: Any) -> bool:
    """Equal to the bit (NaN included), with the same shape."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return x.shape == y.shape and bool((x.view(np.int64) == y.view(np.int64)).all())


def cut(greeks: PriceGreeks, at: int) -> list[Any]:
    return [g[..., at : at + 1] for g in greeks]


def condor_grid(
    rng: np.random.Generator, days: int, moves: int = 39
) -> tuple[Any, Any, Any, Any, Any, Any, Any]:
    """Inputs shaped as value_condor passes them: legs × days × moves."""
    m = np.linspace(-0.3, 0.3, moves)
    spot = (3000.0 * np.exp(rng.normal(0, 0.02, days)))[None, :, None] * (1.0 + m)[None, None, :]
    vol = (rng.uniform(0.1, 0.6, days))[None, :, None] * np.exp(-4.0 * m)[None, None, :]
    strike = np.array([2600.0, 2850.0, 3150.0, 3400.0])[:, None, None]
    t = (np.arange(days, 0, -1) / 365.0)[None, :, None]
    rate = rng.uniform(0.0, 0.05, days)[None, :, None]
    dividend = rng.uniform(0.0, 0.03, days)[None, :, None]
    call = np.array([False, False, True, True])[:, None, None]
    return spot, strike, t, vol, rate, dividend, call


def spread_grid(rng: np.random.Generator, days: int, moves: int = 39) -> tuple[Any, ...]:
    """Inputs shaped as value_call_spread passes them: legs × days × moves."""
    m = np.linspace(-0.3, 0.3, moves)
    forward = (20.0 * np.exp(rng.normal(0, 0.1, days)))[:, None] * np.exp(-3.0 * m)[None, :]
    strike = np.array([25.0, 35.0])[:, None, None]
    t = (np.arange(days, 0, -1) / 365.0)[None, :, None]
    vol = rng.uniform(0.5, 1.5, days)[None, :, None]
    rate = rng.uniform(0.0, 0.05, days)[None, :, None]
    return forward[None], strike, t, vol, rate


@pytest.mark.parametrize("days", [1, 2, 31, 64])
def test_bsm_grid_is_bsm_to_the_bit(days: int) -> None:
    rng = np.random.default_rng(days)
    spot, strike, t, vol, rate, dividend, call = condor_grid(rng, days)
    for at in (0, 19, 38):
        whole = bsm(spot, strike, t, vol, rate, dividend, call=call)
        grid, one = bsm_grid(spot, strike, t, vol, rate, dividend, call=call, at=at)
        assert same_bits(grid, whole.price)
        for got, want in zip(one, cut(whole, at), strict=True):
            assert same_bits(got, want)


@pytest.mark.parametrize("days", [1, 2, 31, 64])
def test_black76_grid_is_black76_to_the_bit(days: int) -> None:
    rng = np.random.default_rng(100 + days)
    forward, strike, t, vol, rate = spread_grid(rng, days)
    for at in (0, 19, 38):
        whole = black76(forward, strike, t, vol, rate, call=True)
        grid, one = black76_grid(forward, strike, t, vol, rate, call=True, at=at)
        assert same_bits(grid, whole.price)
        for got, want in zip(one, cut(whole, at), strict=True):
            assert same_bits(got, want)
    # Puts too (the VIX valuations only buy calls; the path takes either).
    whole = black76(forward, strike, t, vol, rate, call=False)
    grid, one = black76_grid(forward, strike, t, vol, rate, call=False, at=3)
    assert same_bits(grid, whole.price)
    assert all(same_bits(a, b) for a, b in zip(one, cut(whole, 3), strict=True))


def test_dead_and_unknown_cells_give_the_public_functions_numbers() -> None:
    rng = np.random.default_rng(7)
    spot, strike, t, vol, rate, dividend, call = condor_grid(rng, 5)
    expired = t.copy()
    expired[0, -1, 0] = 0.0  # the expiry morning
    zero_vol = vol.copy()
    zero_vol[0, 2, :] = 0.0
    unknown = vol.copy()
    unknown[0, 1, 4] = np.nan
    for tt, vv in ((expired, vol), (t, zero_vol), (t, unknown)):
        whole = bsm(spot, strike, tt, vv, rate, dividend, call=call)
        grid, one = bsm_grid(spot, strike, tt, vv, rate, dividend, call=call, at=4)
        assert same_bits(grid, whole.price)
        assert all(same_bits(a, b) for a, b in zip(one, cut(whole, 4), strict=True))
    forward, k, t76, v76, r76 = spread_grid(rng, 5)
    v76 = v76.copy()
    v76[0, 3, 0] = 0.0
    whole = black76(forward, k, t76, v76, r76)
    grid, one = black76_grid(forward, k, t76, v76, r76, at=0)
    assert same_bits(grid, whole.price)
    assert all(same_bits(a, b) for a, b in zip(one, cut(whole, 0), strict=True))


def test_black76_price_is_black76s_price_to_the_bit() -> None:
    rng = np.random.default_rng(3)
    strikes = np.array([15.0, 25.0, 35.0, 50.0])
    for _ in range(200):
        f, t, v, r = rng.uniform(9, 80), rng.uniform(1, 300) / 365, rng.uniform(0.3, 2), 0.02
        for call in (True, False):
            want = black76(f, strikes, t, v, r, call=call).price
            assert same_bits(black76_price(f, strikes, t, v, r, call=call), want)
    # Expired, zero vol, unknown forward: the public function's intrinsic values and NaNs.
    for f, t, v in ((20.0, 0.0, 0.9), (20.0, 0.1, 0.0), (np.nan, 0.1, 0.9)):
        want = black76(f, strikes, t, v, 0.02).price
        assert same_bits(black76_price(f, strikes, t, v, 0.02), want)


def test_bsm_delta_is_bsms_delta_to_the_bit() -> None:
    rng = np.random.default_rng(11)
    for days in (1, 31):
        spot, strike, t, vol, rate, dividend, call = condor_grid(rng, days)
        want = bsm(spot, strike, t, vol, rate, dividend, call=call).delta
        assert same_bits(bsm_delta(spot, strike, t, vol, rate, dividend, call=call), want)
    # As a strike search calls it: two candidates per search, scalars per day.
    for _ in range(300):
        s, tt, v = rng.uniform(700, 5000), rng.uniform(1, 90) / 365, rng.uniform(0.08, 0.9)
        k = np.stack([np.array([s * 0.9, s * 1.1]), np.array([s * 0.9 + 5, s * 1.1 + 5])])
        call = np.array([False, True])
        want = bsm(s, k, tt, v, 0.01, 0.02, call=call).delta
        assert same_bits(bsm_delta(s, k, tt, v, 0.01, 0.02, call=call), want)
    # Expired, zero vol, unknown: bsm's own deltas (±1, ½ at the money, NaN).
    spot, strike, t, vol, rate, dividend, call = condor_grid(rng, 5)
    expired, zero_vol, unknown = t.copy(), vol.copy(), vol.copy()
    expired[0, -1, 0] = 0.0
    zero_vol[0, 2, :] = 0.0
    unknown[0, 1, 4] = np.nan
    for tt, vv in ((expired, vol), (t, zero_vol), (t, unknown)):
        want = bsm(spot, strike, tt, vv, rate, dividend, call=call).delta
        assert same_bits(bsm_delta(spot, strike, tt, vv, rate, dividend, call=call), want)
    with pytest.raises(ValueError, match="strike"):
        bsm_delta(spot, -strike, t, vol, rate, dividend, call=call)


def test_the_fast_paths_validate_as_the_public_functions() -> None:
    spot, strike, t, vol, rate, dividend, call = condor_grid(np.random.default_rng(1), 3)
    with pytest.raises(ValueError, match="strike"):
        bsm_grid(spot, -strike, t, vol, rate, dividend, call=call, at=0)
    with pytest.raises(ValueError, match="vol"):
        bsm_grid(spot, strike, t, -vol, rate, dividend, call=call, at=0)
    with pytest.raises(ValueError, match="strike"):
        black76_grid(20.0, np.array([-1.0, 25.0]), 0.1, 0.9, at=0)
    with pytest.raises(ValueError, match="forward"):
        black76_price(-20.0, np.array([25.0]), 0.1, 0.9)
