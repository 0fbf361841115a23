"""Vectorised position valuations for the dry-run: marks, greeks, scenario values.

A position's marks and greeks depend only on market data and its own terms, so
they are computed once, when it opens, for every remaining day of its life in
one vectorised call (legs × days × SPX moves). The day loop then only sums a few
precomputed numbers per open position (see :mod:`alvh_dsl.dryrun.simulate`).

**Full revaluation under SPX moves** (``docs/dryrun.md``). Every position is valued
at a set of SPX moves ``m`` (:class:`MoveSet`: the scenario moves, the effective-gamma
stencils and the gamma-profile grid) in which

- SPX moves to ``S·(1 + m)``;
- VIX responds log-linearly and asymmetrically, ``ln(VIX′/VIX) = −β·m`` with
  ``β = beta_down`` for ``m < 0`` and ``beta_up`` otherwise, and SPX implied vols
  follow VIX′ / 100 (with the configured skew);
- each VIX futures month ``k`` moves ``ln(F′/F) = w_k·ln(VIX′/VIX)``;
- VIX options are repriced by Black-76 on F′ at their month's vol (the model has no
  vol-of-vol response); time does not pass.

β and ``w_k`` are fitted from the history unless the config fixes them
(:mod:`alvh_dsl.market.calibration`).

**Effective gamma** is the second derivative of that P&L in SPX points. The response
switches β at ``m = 0``, so P is kinked there: a centred stencil across 0 grows as
1 / step. The down-side and up-side gammas are therefore one-sided, second-order
stencils that never cross the kink::

    Γ↓ = (2·P(0) − 5·P(−h) + 4·P(−2h) − P(−3h)) / (h·S)²      (and Γ↑ with +h)

with ``h = gamma_step`` (0.1 % by default): small enough that the figure has converged
(tests/test_gamma.py), and independent of the profile grid. The profile samples Γ at the
grid's moves with centred stencils of the same ``h`` (none of them crosses 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from ..market.live import black76_price_live, bsm_grid_live, short_strikes_live
from ..market.pricing import (
    SPX_MULTIPLIER,
    VIX_FUTURE_MULTIPLIER,
    VIX_OPTION_MULTIPLIER,
    black76_grid,
    bsm,
    iv_from_vix,
)
from .market_data import FloatArray, MarketData

__all__ = [
    "Valuation",
    "call_prices",
    "condor_leg_prices",
    "shared_call_prices",
    "shared_valuation",
    "short_strikes",
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
    at each move of the run's :class:`~alvh_dsl.dryrun.moves.MoveSet`
    (``grid[:, moves.zero] == value``).
    """

    start: int
    value: FloatArray  # $ (condor: minus the cost to close; future: P&L since entry)
    mark: FloatArray  # points: cost to close (condor), future price, spread value
    delta: FloatArray  # $ per SPX point
    gamma: FloatArray  # $ per SPX point²
    vega: FloatArray  # $ per 1-point rise in VIX
    theta: FloatArray  # $ per day
    points: dict[str, FloatArray]  # per-unit greeks in points (condors)
    grid: FloatArray  # [days, moves] $ value of one unit under each SPX move
    #: [days, legs] each leg's mid (points, unsigned) on each day: what
    #: :func:`condor_leg_prices` / :func:`call_prices` give that day, read at fills.
    legs: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))

    def __len__(self) -> int:
        return len(self.value)

    def row(self, day: int) -> int:
        return day - self.start

    @property
    def nbytes(self) -> int:
        """The bytes of its arrays (what a memo of valuations counts)."""
        return sum(a.nbytes for a in self._arrays())

    def _arrays(self) -> tuple[FloatArray, ...]:
        numbers = (self.value, self.mark, self.delta, self.gamma, self.vega, self.theta)
        return (*numbers, self.grid, self.legs, *self.points.values())

    def read_only(self) -> Valuation:
        """This valuation, its arrays made read-only: one shared by positions of several
        runs (:meth:`~alvh_dsl.dryrun.market_data.MarketData.memo`) cannot be altered."""
        for a in self._arrays():
            a.flags.writeable = False
        return self


def _rows(market: MarketData, start: int, expiry: np.datetime64) -> npt.NDArray[np.intp]:
    """Days from ``start`` up to the last one before ``expiry`` (settled that morning)."""
    return np.arange(start, _end(market, start, expiry), dtype=np.intp)


def _end(market: MarketData, start: int, expiry: np.datetime64) -> int:
    """One past the last of :func:`_rows`."""
    end = int(np.searchsorted(market.dates, expiry, side="left"))
    return max(end, start + 1)


_CONDOR_SIGN = np.array([1.0, -1.0, -1.0, 1.0])[:, None, None]  # + long, − short
_CONDOR_CALL = np.array([False, False, True, True])[:, None, None]
_CONDOR_CALL_SIGN = np.where(_CONDOR_CALL, 1.0, -1.0)  # bsm's sign of each leg: +1 a call
_CONDOR_GREEKS = ("delta", "gamma", "theta", "vega")


def value_condor(
    market: MarketData,
    start: int,
    expiry: np.datetime64,
    strikes: tuple[float, float, float, float],
) -> Valuation:
    """A short iron condor (long put, short put, short call, long call), per unit."""
    # The same numbers as bsm_grid's on these operands: its live steps on inputs shaped
    # here once (live.bsm_grid_live), the rows a slice, the move factors made per market.
    end = _end(market, start, expiry)
    rows = slice(start, end)
    k = np.array(strikes, dtype=np.float64)[:, None, None]
    spot_factor, vix_factor = market.move_factors()
    spot = market.spx[rows][None, :, None] * spot_factor
    vix = market.vix[rows][None, :, None] * vix_factor
    t = ((expiry - market.dates[rows]).astype(np.float64) / 365.0)[None, :, None]
    r = market.rate[rows][None, :, None]
    q = market.dividend[rows][None, :, None]
    pricing = market.pricing
    vol = iv_from_vix(vix, k, spot, skew=pricing.skew, floor=pricing.vol_floor)
    c = market.moves.zero
    # The price at every move, the greeks at the zero move only (all that is read of them).
    grid, g = bsm_grid_live(spot, k, t, vol, r, q, _CONDOR_CALL_SIGN, at=c)
    sign = _CONDOR_SIGN
    value_points = (sign * grid).sum(axis=0)  # [days, moves]: long-minus-short
    # Per unit, in points: the broker's convention for `condor.delta` and friends; the
    # four greeks' legs summed in one pass ([greeks, legs, days, 1]).
    summed = _legs_sum(sign, np.stack([getattr(g, n) for n in _CONDOR_GREEKS]))
    dollars = SPX_MULTIPLIER
    in_dollars = summed * dollars
    points = dict(zip(_CONDOR_GREEKS, summed, strict=True))
    delta, gamma, theta, vega = in_dollars
    return Valuation(
        start=start,
        value=value_points[:, c] * dollars,
        mark=-value_points[:, c],
        delta=delta,
        gamma=gamma,
        vega=vega,  # SPX vega per vol point ≈ per VIX point
        theta=theta,
        points=points,
        grid=value_points * dollars,
        legs=g.price[:, :, 0].T,
    )


def _legs_sum(sign: FloatArray, column: FloatArray) -> FloatArray:
    """``(sign · column).sum(axis=-3)[..., 0]`` of a ``[..., legs, days, 1]`` column (leading
    axes: several greeks at once), added as NumPy adds over the legs axis of ``[legs, days,
    moves]``: from 0.0, leg after leg (written out, because a sum over a contiguous axis —
    a one-day column — pairs terms instead)."""
    terms = sign * column
    out = 0.0 + terms[..., 0, :, 0]
    for leg in range(1, terms.shape[-3]):
        out = out + terms[..., leg, :, 0]
    return out


def value_future(
    market: MarketData, start: int, expiry: np.datetime64, entry_price: float
) -> Valuation:
    """One long VIX future bought at ``entry_price`` (short positions: negative quantity)."""
    rows = _rows(market, start, expiry)
    price = market.futures_price(rows, expiry)
    w = market.dampening(rows, expiry)
    scen = price[:, None] * np.exp(w[:, None] * np.log(market.vix_factor())[None, :])
    value = (scen - entry_price) * VIX_FUTURE_MULTIPLIER
    zeros = np.zeros(len(rows))
    c = market.moves.zero
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
        grid=value,
    )


def value_call_spread(
    market: MarketData, start: int, expiry: np.datetime64, lower: float, upper: float
) -> Valuation:
    """One long VIX call spread (long ``lower``, short ``upper``) on the future of ``expiry``."""
    rows = _rows(market, start, expiry)
    forward = market.futures_price(rows, expiry)
    w = market.dampening(rows, expiry)
    f = (forward[:, None] * np.exp(w[:, None] * np.log(market.vix_factor())[None, :]))[None]
    k = np.array([lower, upper], dtype=np.float64)[:, None, None]
    sign = np.array([1.0, -1.0])[:, None, None]
    t = ((expiry - market.dates[rows]).astype(np.float64) / 365.0)[None, :, None]
    vol = market.option_vol(rows, expiry)[None, :, None]
    r = market.rate[rows][None, :, None]
    c = market.moves.zero
    grid, g = black76_grid(f, k, t, vol, r, call=True, at=c)
    price = (sign * grid).sum(axis=0)  # [days, moves]
    delta_f = _legs_sum(sign, g.delta)
    theta = _legs_sum(sign, g.theta)
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
        grid=price * VIX_OPTION_MULTIPLIER,
        legs=g.price[:, :, 0].T,
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
    contract = market.contract(expiry)
    t = max(float((expiry - market.dates[day]).astype(np.int64)), 0.0) / 365.0
    price = black76_price_live(
        contract.price[day],
        np.array(strikes, dtype=np.float64),
        t,
        contract.option_vol[day],
        market.rate[day],
        call=True,
    )
    return np.asarray(price, dtype=np.float64)


def short_strikes(
    market: MarketData, day: int, expiry: np.datetime64, short_delta: float
) -> tuple[float, float]:
    """The short put's and short call's strikes nearest ``short_delta`` for ``expiry`` on
    ``day`` (:func:`~alvh_dsl.market.pricing.strike_for_delta`'s two searches, by
    :func:`~alvh_dsl.market.live.short_strikes_live`),
    found once per market (:meth:`~alvh_dsl.dryrun.market_data.MarketData.memo`)."""

    def search() -> tuple[float, float]:
        dte = float((expiry - market.dates[day]).astype(np.int64))
        p = market.pricing
        kw = {"skew": p.skew, "grid": p.strike_grid, "floor": p.vol_floor}
        args = (market.spx[day], dte / 365.0, market.vix[day], short_delta)
        return short_strikes_live(*args, market.rate[day], market.dividend[day], **kw)

    return market.memo(("short strikes", day, expiry, short_delta), search)


def shared_valuation(
    market: MarketData,
    kind: Literal["condor", "call spread"],
    start: int,
    expiry: np.datetime64,
    strikes: tuple[float, ...],
) -> Valuation:
    """:func:`value_condor` (``strikes``: its four) or :func:`value_call_spread` (its lower
    and upper), computed once per market and shared read-only by the positions of every
    run on it: a baseline opens its book's condors, a sweep's variants many of each
    other's positions."""

    def value() -> Valuation:
        if kind == "condor":
            lp, sp, sc, lc = strikes
            return value_condor(market, start, expiry, (lp, sp, sc, lc)).read_only()
        lower, upper = strikes
        return value_call_spread(market, start, expiry, lower, upper).read_only()

    return market.memo((kind, start, expiry, *strikes), value)


def shared_call_prices(
    market: MarketData, day: int, expiry: np.datetime64, strikes: tuple[float, float]
) -> FloatArray:
    """:func:`call_prices`, computed once per market (read-only, like
    :func:`shared_valuation`'s)."""

    def price() -> FloatArray:
        mids = call_prices(market, day, expiry, strikes)
        mids.flags.writeable = False
        return mids

    return market.memo(("call mids", day, expiry, *strikes), price)
