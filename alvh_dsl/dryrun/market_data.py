"""Every per-day input a dry-run needs, as NumPy arrays over the history's days.

:class:`MarketData` is built once per run from a
:class:`~alvh_dsl.market.history.History` and the config: closes and settlement prices,
rates, dividend yields and VIX option vols (from the history, or the config's constants,
each substitution noted), and the VIX futures curve of
:mod:`alvh_dsl.market.termstructure`. The book and its baseline share it.
:func:`series_source` exposes the same arrays under the language's series names, for
indicators and ``crosses``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ..market.history import History
from ..market.pricing import PricingConfig, market_inputs
from ..market.termstructure import TermStructure, TermStructureConfig, term_structure
from ..series import SeriesSource
from .config import RiskSection

__all__ = ["FloatArray", "MarketData", "series_source"]

FloatArray = npt.NDArray[np.float64]


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
    risk: RiskSection
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
            from ..lang.construct import construct
            from ..lang.state import FutureQuote

            curve = self.curve
            cached = [
                construct(
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
        risk: RiskSection | None = None,
    ) -> MarketData:
        pricing = pricing or PricingConfig()
        risk = risk or RiskSection()
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


def series_source(market: MarketData) -> SeriesSource:
    """History arrays under the language's series names, for indicators and `crosses`."""
    frame = market.history.frame
    columns: dict[str, Any] = {"SPX": market.spx, "VIX": market.vix}
    if "vvix" in frame:
        columns["VVIX"] = market.vvix
    for k in range(market.curve.price.shape[1]):
        columns[f"VIX.M{k + 1}"] = market.curve.price[:, k]
    for col in ("advances", "declines"):
        if col in frame:
            columns[col] = frame[col].to_numpy(dtype=np.float64)
    return SeriesSource(market.pydates, columns)
