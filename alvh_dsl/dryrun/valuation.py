"""Market arrays and vectorised position valuations for the dry-run, effective gamma included.

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

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ..market.history import History
from ..market.pricing import (
    SPX_MULTIPLIER,
    VIX_FUTURE_MULTIPLIER,
    VIX_OPTION_MULTIPLIER,
    PricingConfig,
    black76,
    bsm,
    iv_from_vix,
    market_inputs,
)
from ..market.termstructure import TermStructure, TermStructureConfig, term_structure

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RiskConfig:
    """The effective-gamma grid and the spot–vol response (all printed in the report)."""

    grid_low: float = -0.05
    grid_high: float = 0.05
    grid_step: float = 0.01
    beta_down: float = 6.0
    beta_up: float = 3.0
    futures_dampening: tuple[float, ...] | None = None  # per month 1..9; None: exp(−κτ)
    near_expiry_dte: int = 7

    def __post_init__(self) -> None:
        if not (self.grid_low < 0 < self.grid_high and self.grid_step > 0):
            raise ValueError("the grid must span 0: grid_low < 0 < grid_high, grid_step > 0")
        if self.beta_down < 0 or self.beta_up < 0:
            raise ValueError("beta_down and beta_up must be non-negative")

    @property
    def moves(self) -> FloatArray:
        """The SPX moves of the grid, always including 0."""
        n_down = round(-self.grid_low / self.grid_step)
        n_up = round(self.grid_high / self.grid_step)
        return np.arange(-n_down, n_up + 1, dtype=np.float64) * self.grid_step

    @property
    def centre(self) -> int:
        return round(-self.grid_low / self.grid_step)

    def vix_factor(self) -> FloatArray:
        """VIX′ / VIX for each grid move."""
        m = self.moves
        beta = np.where(m < 0, self.beta_down, self.beta_up)
        return np.asarray(np.exp(-beta * m), dtype=np.float64)


@dataclass(eq=False)
class MarketData:
    """Every per-day input the dry-run needs, as arrays over the history's days."""

    history: History
    dates: npt.NDArray[np.datetime64]  # datetime64[D]
    spx: FloatArray
    spx_settle: FloatArray  # the SPX value used for AM settlement (open when known)
    vix: FloatArray
    vix_settle: FloatArray
    vvix: FloatArray
    rate: FloatArray
    dividend: FloatArray
    vix_option_vol: FloatArray
    curve: TermStructure
    pricing: PricingConfig
    risk: RiskConfig
    notes: list[str] = field(default_factory=list)
    # Per-day objects shared by the book and its baseline, built on first use.
    _quotes: dict[int, list[Any]] = field(default_factory=dict)
    _pydates: list[dt.date] | None = None

    @property
    def pydates(self) -> list[dt.date]:
        """The days as ``datetime.date`` (converted once)."""
        if self._pydates is None:
            self._pydates = [d.item() for d in self.dates]
        return self._pydates

    def quotes(self, day: int) -> list[Any]:
        """The VIX futures months as the state's ``FutureQuote`` list for ``day`` (cached)."""
        cached = self._quotes.get(day)
        if cached is None:
            from ..lang.ast import new
            from ..lang.state import FutureQuote

            curve = self.curve
            cached = [
                new(
                    FutureQuote,
                    month=k + 1,
                    price=float(curve.price[day, k]) if np.isfinite(curve.price[day, k]) else None,
                    expiry=curve.expiry[day, k].item(),
                    modelled=bool(curve.modelled[day, k]),
                )
                for k in range(curve.price.shape[1])
            ]
            self._quotes[day] = cached
        return cached

    @classmethod
    def build(
        cls,
        history: History,
        pricing: PricingConfig | None = None,
        curve_config: TermStructureConfig | None = None,
        risk: RiskConfig | None = None,
    ) -> MarketData:
        pricing = pricing or PricingConfig()
        risk = risk or RiskConfig()
        frame = history.frame
        dates = frame.index.to_numpy().astype("datetime64[D]")
        spx = frame["spx"].to_numpy(dtype=np.float64)
        vix = frame["vix"].to_numpy(dtype=np.float64)
        notes: list[str] = []
        if "spx_open" in frame and history.has("spx_open"):
            opens = frame["spx_open"].to_numpy(dtype=np.float64)
            spx_settle = np.where(np.isnan(opens), spx, opens)
        else:
            spx_settle = spx
            notes.append("SPX expiries settle at the close of the expiry day (no spx_open column)")
        if "vix_open" in frame and history.has("vix_open"):
            vopen = frame["vix_open"].to_numpy(dtype=np.float64)
            vix_settle = np.where(np.isnan(vopen), vix, vopen)
        else:
            vix_settle = vix
            notes.append("VIX expiries settle at the VIX close of the expiry day (no VIX open)")
        inputs = market_inputs(history, pricing)
        vvix = (
            frame["vvix"].to_numpy(dtype=np.float64)
            if "vvix" in frame
            else np.full(len(frame), np.nan)
        )
        for flag, what, value in (
            (inputs.rate_from_config, "the risk-free rate", pricing.rate),
            (inputs.dividend_from_config, "the SPX dividend yield", pricing.dividend_yield),
            (inputs.vix_option_vol_from_config, "the VIX option vol", pricing.vix_option_vol),
        ):
            if flag.any():
                notes.append(f"{what}: config constant {value:g} on {int(flag.sum())} day(s)")
        curve = term_structure(history, curve_config)
        notes.extend(curve.notes())
        return cls(
            history=history,
            dates=dates,
            spx=spx,
            spx_settle=spx_settle,
            vix=vix,
            vix_settle=vix_settle,
            vvix=vvix,
            rate=inputs.rate,
            dividend=inputs.dividend_yield,
            vix_option_vol=inputs.vix_option_vol,
            curve=curve,
            pricing=pricing,
            risk=risk,
            notes=notes,
        )

    def __len__(self) -> int:
        return len(self.dates)

    def dampening(self, rows: npt.NDArray[np.intp], expiry: np.datetime64) -> FloatArray:
        """Per-day weight of a futures month in the VIX response (``w`` above)."""
        if self.risk.futures_dampening is not None:
            # Which month slot the contract occupies each day (1 = front).
            slots = (self.curve.expiry[rows] < expiry).sum(axis=1)
            weights = np.asarray(self.risk.futures_dampening, dtype=np.float64)
            picked: FloatArray = weights[np.clip(slots, 0, len(weights) - 1)]
            return picked
        tau = np.maximum((expiry - self.dates[rows]).astype(np.float64), 0.0) / 365.0
        return np.asarray(np.exp(-self.curve.config.kappa * tau), dtype=np.float64)

    def futures_price(self, rows: npt.NDArray[np.intp], expiry: np.datetime64) -> FloatArray:
        """The price of the VIX future expiring on ``expiry`` on each of ``rows`` (NaN if
        that contract is not on the curve that day)."""
        match = self.curve.expiry[rows] == expiry
        prices = np.where(match, self.curve.price[rows], np.nan)
        found = match.any(axis=1)
        out = np.full(len(rows), np.nan)
        out[found] = np.nanmax(prices[found], axis=1)
        return out


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
