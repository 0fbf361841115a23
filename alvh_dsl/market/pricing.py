"""Vectorised option pricing and greeks: Black–Scholes–Merton (SPX) and Black-76 (VIX).

Every function takes NumPy-broadcastable arrays, so one call values a whole book over a
whole history: pass ``strike`` shaped ``(legs, 1)`` and ``spot`` shaped ``(days,)`` and get
``(legs, days)`` arrays back.

Units and conventions (see ``docs/pricing.md``):

- ``t`` is the time to expiry in years, ``calendar days / 365`` (:func:`year_fraction`).
- ``vol``, ``rate`` and ``dividend`` are decimals (0.20 = 20 %); rates are continuously
  compounded.
- ``vega`` is per vol point (a 0.01 change in ``vol``); ``theta`` is per calendar day
  (the change in value as one day passes, usually negative for a long option).
- Black-76 ``delta`` and ``gamma`` are with respect to the future, not the VIX index.
- ``t <= 0`` (expired, or valued on the expiry morning) gives the intrinsic value,
  delta 0 or ±1 (±0.5 exactly at the money), gamma, vega and theta 0. ``vol == 0`` with
  ``t > 0`` (precisely: ``vol * sqrt(t) <= MIN_TOTAL_VOL``) gives the discounted intrinsic
  value of the forward. No warnings are emitted.
- NaN inputs (an unknown VVIX, say) give NaN outputs rather than an exception, so an
  unknown market value stays visibly unknown; a negative vol, price or strike raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import numpy.typing as npt

from . import pricing_steps as steps
from .pricing_steps import DAYS_PER_YEAR
from .special import ndtr, ndtri

if TYPE_CHECKING:  # pragma: no cover
    from .history import History

__all__ = [
    "DAYS_PER_YEAR",
    "MIN_TOTAL_VOL",
    "SPX_MULTIPLIER",
    "VIX_FUTURE_MULTIPLIER",
    "VIX_OPTION_MULTIPLIER",
    "GridGreeks",
    "MarketInputs",
    "PriceGreeks",
    "PricingConfig",
    "black76",
    "black76_grid",
    "black76_price",
    "bsm",
    "bsm_delta",
    "bsm_grid",
    "dollar_greeks",
    "iv_from_vix",
    "market_inputs",
    "strike_for_delta",
    "vix_future",
    "year_fraction",
]

FloatArray = npt.NDArray[np.float64]

#: Dollars per index point for one SPX option contract.
SPX_MULTIPLIER = 100.0
#: Dollars per index point for one VIX option contract.
VIX_OPTION_MULTIPLIER = 100.0
#: Dollars per index point for one VIX future (VX) contract.
VIX_FUTURE_MULTIPLIER = 1000.0

#: Total volatility ``vol * sqrt(t)`` at or below this counts as zero (the option is worth
#: its discounted intrinsic value); it keeps 1 / (vol sqrt t) finite.
MIN_TOTAL_VOL = 1e-12


class PriceGreeks(NamedTuple):
    """Price and greeks of one or many options (arrays of a common shape).

    Per unit of underlying: ``delta`` per point of the underlying, ``gamma`` per point²,
    ``vega`` per vol point, ``theta`` per calendar day. :func:`dollar_greeks` scales them
    by contract multiplier and quantity.
    """

    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray


@dataclass(frozen=True)
class PricingConfig:
    """Constants used when the history does not carry a value.

    ``rate`` and ``dividend_yield`` stand in for missing ``rate`` / ``dividend_yield``
    columns; ``vix_option_vol`` for a missing ``vvix``; ``skew`` is the slope of SPX
    implied vol per unit of log-moneyness (positive: IV rises as strikes go down);
    ``vol_floor`` bounds skewed vols from below; ``strike_grid`` is the SPX strike step.
    """

    rate: float = 0.02
    dividend_yield: float = 0.018
    skew: float = 0.0
    vix_option_vol: float = 0.90
    vol_floor: float = 0.01
    strike_grid: float = 5.0


@dataclass(frozen=True, eq=False)
class MarketInputs:
    """Per-day pricing inputs of a history (arrays of the history's length).

    ``spx_vol`` is the at-the-money SPX vol, VIX / 100; ``vix_option_vol`` is VVIX / 100.
    Where the history lacks a value (no column, or an empty cell) the
    :class:`PricingConfig` constant is used and the matching ``*_from_config`` flag is
    True, so a report can say which days were priced on assumptions.
    """

    rate: FloatArray
    dividend_yield: FloatArray
    spx_vol: FloatArray
    vix_option_vol: FloatArray
    rate_from_config: npt.NDArray[np.bool_]
    dividend_from_config: npt.NDArray[np.bool_]
    vix_option_vol_from_config: npt.NDArray[np.bool_]


def market_inputs(history: History, config: PricingConfig | None = None) -> MarketInputs:
    """Rates, dividend yields and vols for every day of ``history``, from its columns where
    present and from ``config`` elsewhere (flagged)."""
    cfg = config or PricingConfig()
    frame = history.frame
    n = len(frame)

    def column(name: str, scale: float, default: float) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        values = (
            frame[name].to_numpy(dtype=np.float64) / scale if name in frame else np.full(n, np.nan)
        )
        missing = np.isnan(values)
        return np.where(missing, default, values), missing

    rate, rate_cfg = column("rate", 1.0, cfg.rate)
    dividend, dividend_cfg = column("dividend_yield", 1.0, cfg.dividend_yield)
    vvol, vvol_cfg = column("vvix", 100.0, cfg.vix_option_vol)
    spx_vol = frame["vix"].to_numpy(dtype=np.float64) / 100.0
    return MarketInputs(rate, dividend, spx_vol, vvol, rate_cfg, dividend_cfg, vvol_cfg)


def year_fraction(dte_days: npt.ArrayLike) -> FloatArray:
    """Calendar days to expiry -> years (``/ 365``)."""
    return np.asarray(dte_days, dtype=np.float64) / DAYS_PER_YEAR


def _arrays(*values: npt.ArrayLike) -> list[FloatArray]:
    return [np.asarray(v, dtype=np.float64) for v in values]


def _sign(call: npt.ArrayLike) -> FloatArray:
    return np.where(np.asarray(call, dtype=bool), 1.0, -1.0)


def _step(x: FloatArray) -> FloatArray:
    # d(intrinsic)/dx at expiry: 1 in the money, 0 out, 1/2 exactly at the money (the
    # limit of N(d1) as t -> 0).
    return np.where(x > 0, 1.0, np.where(x < 0, 0.0, 0.5))


def _full(shape: tuple[int, ...], value: FloatArray) -> FloatArray:
    # Outputs all get the broadcast shape, even a greek that happens not to depend on
    # every input (gamma does not depend on put/call).
    return value if value.shape == shape else np.broadcast_to(value, shape).copy()


def bsm(
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    vol: npt.ArrayLike,
    rate: npt.ArrayLike = 0.0,
    dividend: npt.ArrayLike = 0.0,
    *,
    call: npt.ArrayLike = True,
) -> PriceGreeks:
    """Black–Scholes–Merton price and greeks of European options with a dividend yield.

    ``call`` is a boolean (array): ``True`` for calls, ``False`` for puts. All arguments
    broadcast; the result arrays have the broadcast shape. Inputs that vary by day only
    (spot, time, vol) are best passed with the day shape, not pre-broadcast: the per-day
    factors are then computed once per day rather than once per leg and day.
    """
    s, k, tt, v, r, q = _arrays(spot, strike, t, vol, rate, dividend)
    steps.reject_negative(spot=s, strike=k, vol=v)
    sign = _sign(call)
    shape = np.broadcast(s, k, tt, v, r, q, sign).shape
    with np.errstate(all="ignore"):
        tc = np.maximum(tt, 0.0)
        sqrt_t = np.sqrt(tc)
        sd = v * sqrt_t
        df_q, sq, kr, d1, n1, leg_s, leg_k, price = steps.bsm_live(s, k, tc, sd, r, q, sign)
        delta, gamma, vega, theta = steps.bsm_greeks(
            s, sd, v, r, q, sign, sqrt_t, df_q, sq, d1, n1, leg_s, leg_k
        )
        live = sd > MIN_TOTAL_VOL
        alive = (price, delta, _full(shape, gamma), _full(shape, vega), theta)
        if live.all():
            return PriceGreeks(*(_full(shape, a) for a in alive))
        # Expired or zero vol: the option is worth its (discounted) forward intrinsic.
        moneyness = sign * (sq - kr)
        itm = _step(moneyness)
        dead = (tc <= 0) | (sd <= MIN_TOTAL_VOL)
        dead_price = np.maximum(moneyness, 0.0)
        dead_delta = sign * df_q * itm
        dead_theta = np.where(tc > 0, sign * itm * (q * sq - r * kr) / DAYS_PER_YEAR, 0.0)
        merged = _merge(live, dead, alive, (dead_price, dead_delta, dead_theta))
        return PriceGreeks(*(_full(shape, a) for a in merged))


def bsm_delta(
    spot: npt.ArrayLike, strike: npt.ArrayLike, t: npt.ArrayLike, vol: npt.ArrayLike,
    rate: npt.ArrayLike = 0.0, dividend: npt.ArrayLike = 0.0, *, call: npt.ArrayLike = True,
) -> FloatArray:  # fmt: skip
    """:func:`bsm`'s delta alone, to the bit (live options: only the steps the delta reads,
    in bsm's order; else bsm itself): a strike search reads nothing else of its candidates."""
    s, k, tt, v, r, q = _arrays(spot, strike, t, vol, rate, dividend)
    steps.reject_negative(spot=s, strike=k, vol=v)
    sign = _sign(call)
    with np.errstate(all="ignore"):
        tc = np.maximum(tt, 0.0)
        sd = v * np.sqrt(tc)
        if not (sd > MIN_TOTAL_VOL).all():
            return bsm(s, k, tt, v, r, q, call=call).delta
        df_q = np.exp(-q * tc)
        df_r = np.exp(-r * tc)
        d1 = np.log((s * df_q) / (k * df_r)) / sd + 0.5 * sd
        delta = (sign * df_q) * ndtr(sign * d1)
    return _full(np.broadcast(s, k, tt, v, r, q, sign).shape, delta)


def black76(
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    vol: npt.ArrayLike,
    rate: npt.ArrayLike = 0.0,
    *,
    call: npt.ArrayLike = True,
) -> PriceGreeks:
    """Black-76 price and greeks of European options on a future (VIX options).

    Greeks are with respect to the future price ``forward``; vega per vol point, theta per
    calendar day. Arguments broadcast like :func:`bsm`.
    """
    f, k, tt, v, r = _arrays(forward, strike, t, vol, rate)
    steps.reject_negative(forward=f, strike=k, vol=v)
    sign = _sign(call)
    shape = np.broadcast(f, k, tt, v, r, sign).shape
    with np.errstate(all="ignore"):
        tc = np.maximum(tt, 0.0)
        sqrt_t = np.sqrt(tc)
        sd = v * sqrt_t
        df, d1, n1, dfs, price = steps.black76_live(f, k, tc, sd, r, sign)
        delta, gamma, vega, theta = steps.black76_greeks(
            f, sd, v, r, df, sqrt_t, d1, n1, dfs, price
        )
        live = sd > MIN_TOTAL_VOL
        alive = (price, delta, _full(shape, gamma), _full(shape, vega), theta)
        if live.all():
            return PriceGreeks(*(_full(shape, a) for a in alive))
        moneyness = sign * (f - k)
        itm = _step(moneyness)
        dead = (tc <= 0) | (sd <= MIN_TOTAL_VOL)
        dead_price = df * np.maximum(moneyness, 0.0)
        dead_delta = df * sign * itm
        dead_theta = np.where(tc > 0, r * dead_price / DAYS_PER_YEAR, 0.0)
        merged = _merge(live, dead, alive, (dead_price, dead_delta, dead_theta))
        return PriceGreeks(*(_full(shape, a) for a in merged))


def black76_price(
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    vol: npt.ArrayLike,
    rate: npt.ArrayLike = 0.0,
    *,
    call: npt.ArrayLike = True,
) -> FloatArray:
    """:func:`black76`'s price alone (the same numbers to the bit: its steps, in its order,
    without the greeks), for the fills that price a few options at a time."""
    f, k, tt, v, r = _arrays(forward, strike, t, vol, rate)
    steps.reject_negative(forward=f, strike=k, vol=v)
    sign = _sign(call)
    with np.errstate(all="ignore"):
        tc = np.maximum(tt, 0.0)
        sd = v * np.sqrt(tc)
        if not (sd > MIN_TOTAL_VOL).all():
            return black76(f, k, tt, v, r, call=call).price
        price = steps.black76_live(f, k, tc, sd, r, sign)[-1]
    shape = np.broadcast(f, k, tt, v, r, sign).shape
    return _full(shape, price)


class GridGreeks(NamedTuple):
    """What :func:`bsm_grid` / :func:`black76_grid` return: the price on the whole grid,
    and price and greeks at one index of its last axis (that axis kept, of length 1)."""

    price: FloatArray
    at: PriceGreeks


# bsm's own steps, in its order, split between the grid (the price) and one column.
def bsm_grid(
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    vol: npt.ArrayLike,
    rate: npt.ArrayLike = 0.0,
    dividend: npt.ArrayLike = 0.0,
    *,
    call: npt.ArrayLike = True,
    at: int,
) -> GridGreeks:
    """:func:`bsm`'s price on the whole broadcast grid, and its price and greeks only at
    index ``at`` of the last axis (the dry-run values positions at many SPX moves, and
    needs the greeks at one): the same numbers to the bit, each computed by the same
    element-wise operations in the same order. Arguments as :func:`bsm`'s (validated
    alike); when an option is expired or has zero vol it is :func:`bsm` itself, cut.
    """
    s, k, tt, v, r, q = _arrays(spot, strike, t, vol, rate, dividend)
    steps.reject_negative(spot=s, strike=k, vol=v)
    sign = _sign(call)
    shape = np.broadcast(s, k, tt, v, r, q, sign).shape
    cut = steps.column(at)
    with np.errstate(all="ignore"):
        tc = np.maximum(tt, 0.0)
        sqrt_t = np.sqrt(tc)
        sd = v * sqrt_t
        if not (sd > MIN_TOTAL_VOL).all():
            whole = bsm(s, k, tt, v, r, q, call=call)
            return GridGreeks(whole.price, PriceGreeks(*(cut(a) for a in whole)))
        df_q, sq, _, d1, n1, leg_s, leg_k, price = steps.bsm_live(s, k, tc, sd, r, q, sign)
        # The greeks at one column: bsm's expressions on that column of each operand.
        delta, gamma, vega, theta = steps.bsm_greeks(
            *(cut(x) for x in (s, sd, v, r, q, sign, sqrt_t, df_q, sq, d1, n1, leg_s, leg_k))
        )
    one = (*shape[:-1], 1) if shape else shape
    price_at = cut(_full(shape, price))
    return GridGreeks(
        _full(shape, price),
        PriceGreeks(*(_full(one, a) for a in (price_at, delta, gamma, vega, theta))),
    )


def black76_grid(
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    vol: npt.ArrayLike,
    rate: npt.ArrayLike = 0.0,
    *,
    call: npt.ArrayLike = True,
    at: int,
) -> GridGreeks:
    """:func:`black76`'s price on the whole broadcast grid and its price and greeks at index
    ``at`` of the last axis: the same numbers to the bit, as :func:`bsm_grid` is to
    :func:`bsm`."""
    f, k, tt, v, r = _arrays(forward, strike, t, vol, rate)
    steps.reject_negative(forward=f, strike=k, vol=v)
    sign = _sign(call)
    shape = np.broadcast(f, k, tt, v, r, sign).shape
    cut = steps.column(at)
    with np.errstate(all="ignore"):
        tc = np.maximum(tt, 0.0)
        sqrt_t = np.sqrt(tc)
        sd = v * sqrt_t
        if not (sd > MIN_TOTAL_VOL).all():
            whole = black76(f, k, tt, v, r, call=call)
            return GridGreeks(whole.price, PriceGreeks(*(cut(a) for a in whole)))
        df, d1, n1, dfs, price = steps.black76_live(f, k, tc, sd, r, sign)
        price = _full(shape, price)
        price_at = cut(price)
        delta, gamma, vega, theta = steps.black76_greeks(
            *(cut(x) for x in (f, sd, v, r, df, sqrt_t, d1, n1, dfs, price))
        )
    one = (*shape[:-1], 1) if shape else shape
    return GridGreeks(
        price, PriceGreeks(*(_full(one, a) for a in (price_at, delta, gamma, vega, theta)))
    )


def _merge(
    live: npt.NDArray[np.bool_],
    dead: npt.NDArray[np.bool_],
    alive: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    expired: tuple[FloatArray, FloatArray, FloatArray],
) -> PriceGreeks:
    # Cells that are neither live nor dead had a NaN input: they stay NaN.
    zero = np.where(dead, 0.0, np.nan)
    price, delta, gamma, vega, theta = alive
    dead_price, dead_delta, dead_theta = expired
    return PriceGreeks(
        np.where(live, price, np.where(dead, dead_price, np.nan)),
        np.where(live, delta, np.where(dead, dead_delta, np.nan)),
        np.where(live, gamma, zero),
        np.where(live, vega, zero),
        np.where(live, theta, np.where(dead, dead_theta, np.nan)),
    )


def vix_future(forward: npt.ArrayLike) -> PriceGreeks:
    """A VIX future as a :class:`PriceGreeks`: price = the future, delta 1, other greeks 0."""
    f = np.asarray(forward, dtype=np.float64)
    zeros = np.zeros_like(f)
    return PriceGreeks(f, np.where(np.isnan(f), np.nan, 1.0), zeros, zeros.copy(), zeros.copy())


def dollar_greeks(
    greeks: PriceGreeks, multiplier: float, quantity: npt.ArrayLike = 1.0
) -> PriceGreeks:
    """Scale per-unit greeks to dollars for ``quantity`` contracts (negative = short).

    ``multiplier`` is :data:`SPX_MULTIPLIER`, :data:`VIX_OPTION_MULTIPLIER` or
    :data:`VIX_FUTURE_MULTIPLIER`. The result is value in $, delta in $ per point of the
    underlying, gamma in $ per point², vega in $ per vol point, theta in $ per day.
    """
    scale = np.asarray(quantity, dtype=np.float64) * multiplier
    return PriceGreeks(*(np.asarray(g) * scale for g in greeks))


def iv_from_vix(
    vix: npt.ArrayLike,
    strike: npt.ArrayLike | None = None,
    spot: npt.ArrayLike | None = None,
    *,
    skew: float = 0.0,
    floor: float = 0.01,
) -> FloatArray:
    """SPX implied vol from VIX: ``VIX / 100 - skew * ln(strike / spot)``, at least ``floor``.

    With ``skew = 0`` (the default) every strike gets VIX / 100. A positive ``skew`` raises
    the vol of strikes below spot (e.g. ``skew = 0.8`` adds 4 vol points 5 % below spot).
    """
    atm = np.asarray(vix, dtype=np.float64) / 100.0
    if skew == 0.0:
        return atm
    if strike is None or spot is None:
        raise ValueError("a skew needs both strike and spot")
    k, s = _arrays(strike, spot)
    with np.errstate(divide="ignore", invalid="ignore"):
        vol = atm - skew * np.log(k / s)
    return np.where(np.isnan(vol), np.nan, np.maximum(vol, floor))


def strike_for_delta(
    spot: npt.ArrayLike,
    t: npt.ArrayLike,
    vix: npt.ArrayLike,
    target_delta: npt.ArrayLike,
    rate: npt.ArrayLike = 0.0,
    dividend: npt.ArrayLike = 0.0,
    *,
    call: npt.ArrayLike,
    skew: float = 0.0,
    grid: float = 5.0,
    floor: float = 0.01,
) -> FloatArray:
    """The strike on a ``grid`` whose BSM delta is nearest ``target_delta`` (vectorised).

    ``target_delta`` is the absolute delta (0.16 for a 16-delta put or call); vol comes
    from :func:`iv_from_vix` with the same ``skew``. The continuous strike is solved in
    closed form (iterated when a skew makes vol depend on the strike), then the two
    neighbouring grid strikes are priced and the one whose delta is nearer wins; a tie goes
    to the strike further out of the money. ``t`` must be positive.
    """
    s, tt, vx, target, r, q = _arrays(spot, t, vix, target_delta, rate, dividend)
    sign = _sign(call)
    if np.any(tt <= 0):
        raise ValueError("strike_for_delta needs a positive time to expiry")
    if grid <= 0:
        raise ValueError("grid must be positive")
    level = np.abs(target) * np.exp(q * tt)
    if np.any((level <= 0) | (level >= 1)):
        raise ValueError("target delta must be strictly between 0 and exp(-q t)")
    d1 = sign * ndtri(level)
    sqrt_t = np.sqrt(tt)
    vol = iv_from_vix(vx)
    strike = s * np.exp(-d1 * vol * sqrt_t + (r - q + 0.5 * vol * vol) * tt)
    if skew != 0.0:
        # Fixed point K -> vol(K) -> K; contracts quickly for realistic skews.
        for _ in range(30):
            vol = iv_from_vix(vx, strike, s, skew=skew, floor=floor)
            strike = s * np.exp(-d1 * vol * sqrt_t + (r - q + 0.5 * vol * vol) * tt)
    lower = np.floor(strike / grid) * grid
    upper = lower + grid
    lower = np.where(lower <= 0, grid, lower)
    # Both neighbours' deltas in one call (element by element the same as one call each).
    k = np.stack([lower, upper])
    v = iv_from_vix(vx, k, s, skew=skew, floor=floor)
    delta = bsm_delta(s, k, tt, v, r, q, call=sign > 0)
    gap_lo, gap_hi = np.abs(np.abs(delta) - np.abs(target))
    further_out = np.where(sign > 0, upper, lower)
    nearer = np.where(gap_lo < gap_hi, lower, upper)
    return np.where(gap_lo == gap_hi, further_out, nearer)
