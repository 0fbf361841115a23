"""Pricing paths for callers whose inputs are already float64 arrays of known shapes.

The public functions of :mod:`alvh_dsl.market.pricing` convert and validate their
arguments and broadcast their outputs on every call: a few dozen NumPy calls, each
costing about a microsecond whatever the size of the array — most of what a strike
search or two call mids cost, a part of a condor's valuation. The functions here run the
same steps (:mod:`alvh_dsl.market.pricing_steps`) on inputs the dry-run has already
shaped, and give the same numbers to the bit (the same element-wise operations on the
same operands, in the same order); anything unusual (a dead option, a NaN or negative
input, a skew for the strike search) goes through the general function itself.
"""

from __future__ import annotations

import numpy as np

from .pricing import (
    MIN_TOTAL_VOL,
    FloatArray,
    GridGreeks,
    PriceGreeks,
    black76_price,
    bsm_grid,
    strike_for_delta,
)
from .pricing_steps import black76_live, bsm_greeks, bsm_live, column, reject_negative
from .special import ndtr, ndtri

__all__ = ["black76_price_live", "bsm_grid_live", "short_strikes_live"]


def bsm_grid_live(
    s: FloatArray,
    k: FloatArray,
    t: FloatArray,
    v: FloatArray,
    r: FloatArray,
    q: FloatArray,
    sign: FloatArray,
    *,
    at: int,
) -> GridGreeks:
    """``bsm_grid(s, k, t, v, r, q, call=sign > 0, at=at)`` for float64 arrays whose
    broadcast shape is that of ``s / k`` and the price's (``k`` carries the legs, ``s``
    the last axis): what the dry-run's condor valuation passes. ``sign`` is ``+1.0`` for
    a call, ``-1.0`` for a put. Negative inputs raise as in ``bsm_grid``; an expired or
    zero-vol option goes through ``bsm_grid`` itself."""
    reject_negative(spot=s, strike=k, vol=v)
    with np.errstate(all="ignore"):
        tc = np.maximum(t, 0.0)
        sqrt_t = np.sqrt(tc)
        sd = v * sqrt_t
        if not (sd > MIN_TOTAL_VOL).all():
            return bsm_grid(s, k, t, v, r, q, call=sign > 0, at=at)
        df_q, sq, _, d1, n1, leg_s, leg_k, price = bsm_live(s, k, tc, sd, r, q, sign)
        cut = column(at)
        delta, gamma, vega, theta = bsm_greeks(
            *(cut(x) for x in (s, sd, v, r, q, sign, sqrt_t, df_q, sq, d1, n1, leg_s, leg_k))
        )
    # The price depends on every input, so it has the broadcast shape (bsm_grid's _full
    # leaves it as it is); a greek column that does not is copied out to it, as there.
    one = (*price.shape[:-1], 1)
    greeks = []
    for a in (cut(price), delta, gamma, vega, theta):
        greeks.append(a if a.shape == one else np.broadcast_to(a, one).copy())
    return GridGreeks(price, PriceGreeks(*greeks))


_PUT_CALL_SIGN = np.array([-1.0, 1.0])  # bsm's sign of a put and of a call
_CALL_SIGN = np.array(1.0)  # what pricing._sign makes of call=True: a 0-d array
_PUT_SIGN = np.array(-1.0)


def short_strikes_live(
    spot: float, t: float, vix: float, target_delta: float, rate: float, dividend: float,
    *, skew: float, grid: float, floor: float,
) -> tuple[float, float]:  # fmt: skip
    """``strike_for_delta(spot, t, vix, target_delta, rate, dividend, call=[False, True],
    skew=skew, grid=grid, floor=floor)`` as two floats (the put's strike, the call's), for
    scalar inputs: the same steps on the same numbers (a ufunc of a scalar runs the loop
    it runs on a 0-d array; choosing between two strikes and the gaps' ``abs`` and
    subtraction are exact in Python too), without its conversions and array checks. A
    skew, or an input those checks would look at twice (not positive, NaN), goes through
    ``strike_for_delta`` itself."""
    sign = _PUT_CALL_SIGN

    def general() -> tuple[float, float]:
        found = strike_for_delta(
            spot, t, vix, target_delta, rate, dividend, call=sign > 0,
            skew=skew, grid=grid, floor=floor,
        )  # fmt: skip
        return float(found[0]), float(found[1])

    if skew != 0.0 or not (t > 0 and grid > 0 and spot >= 0 and vix >= 0):
        return general()
    s, tt, vx, target, r, q = (np.float64(x) for x in (spot, t, vix, target_delta, rate, dividend))
    level = np.abs(target) * np.exp(q * tt)
    if not 0 < level < 1:
        return general()
    d1 = sign * ndtri(level)
    sqrt_t = np.sqrt(tt)
    vol = vx / 100.0
    strike = s * np.exp(-d1 * vol * sqrt_t + (r - q + 0.5 * vol * vol) * tt)
    lower = np.floor(strike / grid) * grid
    upper = lower + grid
    lower = np.where(lower <= 0, grid, lower)
    k = np.stack([lower, upper])
    # bsm_delta's live steps (vol is the same for every strike without a skew).
    with np.errstate(all="ignore"):
        tc = np.maximum(tt, 0.0)
        sd = vol * np.sqrt(tc)
        if not sd > MIN_TOTAL_VOL or (k < 0).any():
            return general()
        df_q = np.exp(-q * tc)
        df_r = np.exp(-r * tc)
        d1 = np.log((s * df_q) / (k * df_r)) / sd + 0.5 * sd
        delta = (sign * df_q) * ndtr(sign * d1)
    aim = abs(float(target))
    (lo_put, lo_call), (hi_put, hi_call) = ((abs(x) for x in row) for row in delta.tolist())
    picked = []
    for lo_d, hi_d, lo_k, hi_k, call in (
        (lo_put, hi_put, float(lower[0]), float(upper[0]), False),
        (lo_call, hi_call, float(lower[1]), float(upper[1]), True),
    ):
        gap_lo, gap_hi = abs(lo_d - aim), abs(hi_d - aim)
        if gap_lo == gap_hi:
            picked.append(hi_k if call else lo_k)  # the strike further out of the money
        else:
            picked.append(lo_k if gap_lo < gap_hi else hi_k)
    return picked[0], picked[1]


def black76_price_live(
    forward: float, strikes: FloatArray, t: float, vol: float, rate: float, *, call: bool
) -> FloatArray:
    """``black76_price(forward, strikes, t, vol, rate, call=call)`` for scalar inputs and a
    1-d float64 array of strikes: its steps on the same numbers, without its conversions;
    an input its checks would look at twice (negative, NaN, a dead option) goes through
    ``black76_price`` itself."""
    if not (forward >= 0 and vol >= 0) or (strikes < 0).any():
        return black76_price(forward, strikes, t, vol, rate, call=call)
    f, tt, v, r = (np.float64(x) for x in (forward, t, vol, rate))
    sign = _CALL_SIGN if call else _PUT_SIGN
    with np.errstate(all="ignore"):
        tc = np.maximum(tt, 0.0)
        sd = v * np.sqrt(tc)
        if not sd > MIN_TOTAL_VOL:
            return black76_price(forward, strikes, t, vol, rate, call=call)
        price: FloatArray = black76_live(f, strikes, tc, sd, r, sign)[-1]
    return price
