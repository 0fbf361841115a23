"""Vectorised position valuations for the dry-run, effective gamma included.

A position's marks and greeks depend only on market data and its own terms, so
they are computed once, when it opens, for every remaining day of its life in
one vectorised call (legs × days, and legs × days × scenarios for the
effective-gamma grid). The day loop then only sums a few precomputed numbers
per open position (see :mod:`alvh_dsl.dryrun.simulate`).

**Effective gamma** (``docs/dryrun.md``): the book is repriced on a grid of SPX
moves ``m`` (default −5 % … +5 % in 1 % steps) in which

- SPX moves to ``S·(1 + m)``;
- VIX responds log-linearly and asymmetrically, ``ln(VIX′/VIX) = −β·m`` with
  ``β = beta_down`` for ``m < 0`` and ``beta_up`` otherwise (VIX jumps more on a
  fall than it drops on a rally), and SPX implied vols follow VIX′ / 100;
- each VIX futures month moves less than spot, the further the month the less:
  ``ln(F′/F) = w·ln(VIX′/VIX)`` with ``w = exp(−κ·τ)``, the same weight as the
  term-structure model (:mod:`alvh_dsl.market.termstructure`), unless
  ``futures_dampening`` gives one weight per month;
- VIX options are repriced on F′ at an unchanged vol; time does not pass.

The second differences of that P&L, ``(P[k+1] − 2·P[k] + P[k−1]) / (ΔS)²`` with
``ΔS`` the grid step in SPX points, are the gamma the book really has, VIX hedges
included. A linear VIX response would give a futures hedge exactly zero
effective gamma, which is why the response is convex and asymmetric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..market.pricing import (
    SPX_MULTIPLIER,
    VIX_FUTURE_MULTIPLIER,
    VIX_OPTION_MULTIPLIER,
    black76,
    bsm,
    iv_from_vix,
)
from .market_data import FloatArray, MarketData

__all__ = [
    "Valuation",
    "call_prices",
    "condor_leg_prices",
    "effective_gamma",
    "value_call_spread",
    "value_condor",
    "value_future",
]


@dataclass(eq=False)
class Valuation:
    """Per-unit marks and greeks of one position over its remaining life.

    Row ``d`` is the ``d``-th day from the opening day. Dollar figures are for one
    unit (one condor, one future, one spread); ``points`` greeks are per unit in
    the broker's convention (condors only). ``grid`` holds the $ value of one unit
    under each effective-gamma scenario, ``diff2`` its second differences.
    """

    start: int
    value: FloatArray  # $ (condor: minus the cost to close; future: P&L since entry)
    mark: FloatArray  # points: cost to close (condor), future price, spread value
    delta: FloatArray  # $ per SPX point
    gamma: FloatArray  # $ per SPX point²
    vega: FloatArray  # $ per 1-point rise in VIX
    theta: FloatArray  # $ per day
    points: dict[str, FloatArray]  # per-unit greeks in points (condors)
    diff2: FloatArray  # [days, grid-2] second differences of the grid value, $ per point²

    def __len__(self) -> int:
        return len(self.value)

    def row(self, day: int) -> int:
        return day - self.start


def _rows(market: MarketData, start: int, expiry: np.datetime64) -> npt.NDArray[np.intp]:
    """Days from ``start`` up to the last one before ``expiry`` (settled that morning)."""
    end = int(np.searchsorted(market.dates, expiry, side="left"))
    return np.arange(start, max(end, start + 1), dtype=np.intp)


def _second_differences(grid_value: FloatArray, spx: FloatArray, step: float) -> FloatArray:
    ds = (spx * step)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(
            (grid_value[:, 2:] - 2.0 * grid_value[:, 1:-1] + grid_value[:, :-2]) / (ds * ds),
            dtype=np.float64,
        )


def value_condor(
    market: MarketData,
    start: int,
    expiry: np.datetime64,
    strikes: tuple[float, float, float, float],
) -> Valuation:
    """A short iron condor (long put, short put, short call, long call), per unit."""
    rows = _rows(market, start, expiry)
    lp, sp, sc, lc = strikes
    k = np.array([lp, sp, sc, lc], dtype=np.float64)[:, None, None]
    is_call = np.array([False, False, True, True])[:, None, None]
    sign = np.array([1.0, -1.0, -1.0, 1.0])[:, None, None]  # + long, − short
    risk = market.risk
    spot = market.spx[rows][None, :, None] * (1.0 + risk.moves)[None, None, :]
    vix = market.vix[rows][None, :, None] * risk.vix_factor()[None, None, :]
    t = ((expiry - market.dates[rows]).astype(np.float64) / 365.0)[None, :, None]
    r = market.rate[rows][None, :, None]
    q = market.dividend[rows][None, :, None]
    pricing = market.pricing
    vol = iv_from_vix(vix, k, spot, skew=pricing.skew, floor=pricing.vol_floor)
    g = bsm(spot, k, t, vol, r, q, call=is_call)
    c = risk.centre
    legs = {name: (sign * getattr(g, name)).sum(axis=0) for name in g._fields}  # [days, grid]
    # Per unit, in points: the broker's convention for `condor.delta` and friends.
    points = {name: legs[name][:, c] for name in ("delta", "gamma", "theta", "vega")}
    value_points = legs["price"]  # long-minus-short: minus the cost to close
    dollars = SPX_MULTIPLIER
    return Valuation(
        start=start,
        value=value_points[:, c] * dollars,
        mark=-value_points[:, c],
        delta=points["delta"] * dollars,
        gamma=points["gamma"] * dollars,
        vega=points["vega"] * dollars,  # SPX vega per vol point ≈ per VIX point
        theta=points["theta"] * dollars,
        points=points,
        diff2=_second_differences(value_points * dollars, market.spx[rows], risk.grid_step),
    )


def value_future(
    market: MarketData, start: int, expiry: np.datetime64, entry_price: float
) -> Valuation:
    """One long VIX future bought at ``entry_price`` (short positions: negative quantity)."""
    rows = _rows(market, start, expiry)
    risk = market.risk
    price = market.futures_price(rows, expiry)
    w = market.dampening(rows, expiry)
    scen = price[:, None] * np.exp(w[:, None] * np.log(risk.vix_factor())[None, :])
    value = (scen - entry_price) * VIX_FUTURE_MULTIPLIER
    zeros = np.zeros(len(rows))
    c = risk.centre
    return Valuation(
        start=start,
        value=value[:, c],
        mark=price,
        delta=zeros,
        gamma=zeros,
        # $ per 1-point rise in VIX: the future moves w·F/VIX points per VIX point.
        vega=VIX_FUTURE_MULTIPLIER * w * price / market.vix[rows],
        theta=zeros,
        points={},
        diff2=_second_differences(value, market.spx[rows], risk.grid_step),
    )


def value_call_spread(
    market: MarketData, start: int, expiry: np.datetime64, lower: float, upper: float
) -> Valuation:
    """One long VIX call spread (long ``lower``, short ``upper``) on the future of ``expiry``."""
    rows = _rows(market, start, expiry)
    risk = market.risk
    forward = market.futures_price(rows, expiry)
    w = market.dampening(rows, expiry)
    f = (forward[:, None] * np.exp(w[:, None] * np.log(risk.vix_factor())[None, :]))[None]
    k = np.array([lower, upper], dtype=np.float64)[:, None, None]
    sign = np.array([1.0, -1.0])[:, None, None]
    t = ((expiry - market.dates[rows]).astype(np.float64) / 365.0)[None, :, None]
    vol = market.vix_option_vol[rows][None, :, None]
    r = market.rate[rows][None, :, None]
    g = black76(f, k, t, vol, r, call=True)
    price = (sign * g.price).sum(axis=0)  # [days, grid]
    delta_f = (sign * g.delta).sum(axis=0)[:, risk.centre]
    theta = (sign * g.theta).sum(axis=0)[:, risk.centre]
    c = risk.centre
    zeros = np.zeros(len(rows))
    return Valuation(
        start=start,
        value=price[:, c] * VIX_OPTION_MULTIPLIER,
        mark=price[:, c],
        delta=zeros,
        gamma=zeros,
        vega=VIX_OPTION_MULTIPLIER * delta_f * w * forward / market.vix[rows],
        theta=theta * VIX_OPTION_MULTIPLIER,
        points={},
        diff2=_second_differences(price * VIX_OPTION_MULTIPLIER, market.spx[rows], risk.grid_step),
    )


def condor_leg_prices(
    market: MarketData, day: int, expiry: np.datetime64, strikes: tuple[float, float, float, float]
) -> FloatArray:
    """Mid prices (points) of the legs (long put, short put, short call, long call) on ``day``."""
    k = np.array(strikes, dtype=np.float64)
    is_call = np.array([False, False, True, True])
    s = market.spx[day]
    t = max(float((expiry - market.dates[day]).astype(np.int64)), 0.0) / 365.0
    pricing = market.pricing
    vol = iv_from_vix(market.vix[day], k, s, skew=pricing.skew, floor=pricing.vol_floor)
    g = bsm(s, k, t, vol, market.rate[day], market.dividend[day], call=is_call)
    return np.asarray(g.price, dtype=np.float64)


def call_prices(
    market: MarketData, day: int, expiry: np.datetime64, strikes: tuple[float, float]
) -> FloatArray:
    """Mid prices (points) of VIX calls at ``strikes`` on the future of ``expiry``."""
    forward = market.futures_price(np.array([day], dtype=np.intp), expiry)[0]
    t = max(float((expiry - market.dates[day]).astype(np.int64)), 0.0) / 365.0
    g = black76(
        forward,
        np.array(strikes, dtype=np.float64),
        t,
        market.vix_option_vol[day],
        market.rate[day],
        call=True,
    )
    return np.asarray(g.price, dtype=np.float64)


def effective_gamma(diff2: FloatArray, centre: int) -> tuple[float, float, float]:
    """From the book's summed second differences: (gamma at the current level, largest
    |gamma| on the grid, most negative gamma on the grid — the short gamma that blows up)."""
    if diff2.size == 0:
        return 0.0, 0.0, 0.0
    mid = centre - 1  # diff2 has one fewer point on each side
    return float(diff2[mid]), float(np.max(np.abs(diff2))), float(np.min(diff2))
