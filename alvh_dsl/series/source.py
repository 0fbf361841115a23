"""Daily history as NumPy arrays, today's position in them, and why a value is unknown.

A :class:`SeriesSource` is the NumPy backend's
:class:`~alvh_dsl.lang.runtime.HistorySource`: the dry-run builds one over the
whole history and only moves :attr:`SeriesSource.index`; an evaluation of a
single state builds one from the state's recent history
(:meth:`SeriesSource.from_state`).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..lang.plain import StateLike
from ..lang.state import Unknown
from .indicators import Array

Series = Array | float
"""A series expression's value over the history: an array, or a constant."""


class SeriesSource:
    """Daily history for indicators and ``crosses``: arrays plus today's position.

    Indicator arrays are computed once per source and cached, so the dry-run
    builds one source for the whole history and only moves :attr:`index`.
    """

    def __init__(
        self,
        dates: Sequence[dt.date],
        columns: Mapping[str, Any],
        index: int | None = None,
    ) -> None:
        self.dates = list(dates)
        self.length = len(self.dates)
        self.columns: dict[str, Array] = {
            k: np.asarray(v, dtype=np.float64) for k, v in columns.items()
        }
        self.index = self.length - 1 if index is None else index
        self.cache: dict[str, Any] = {}  # indicator key -> array (or MACD's three)
        self.first_valid: dict[str, int] = {}
        # Series with at least one observation: an indicator whose input is not
        # among them is unknown because of that input, not for want of history.
        self.present = {k for k, v in self.columns.items() if bool(np.isfinite(v).any())}

    def base(self, name: str) -> Array:
        col = self.columns.get(name)
        if col is not None:
            return col
        if name == "VIX.term_slope" and "VIX.M1" in self.columns and "VIX.M2" in self.columns:
            m1, m2 = self.columns["VIX.M1"], self.columns["VIX.M2"]
            with np.errstate(divide="ignore", invalid="ignore"):
                col = (m2 - m1) / m1
        else:
            col = np.full(self.length, np.nan)
        self.columns[name] = col
        return col

    @classmethod
    def from_state(cls, state: StateLike) -> SeriesSource:
        """History from the state, with today's market values as the last observation."""
        dates: list[dt.date] = []
        columns: dict[str, list[float]] = {}
        hist = state.history
        if hist is not None:
            # Observations after the state's date are the future: never read them.
            n = bisect.bisect_right(hist.dates, state.date)
            dates = list(hist.dates[:n])
            columns = {
                k: [math.nan if v is None else float(v) for v in vals[:n]]
                for k, vals in hist.series.items()
            }
        if not dates or dates[-1] < state.date:
            dates.append(state.date)
            today = {"SPX": state.market.SPX, "VIX": state.market.VIX}
            if state.market.VVIX is not None:
                today["VVIX"] = state.market.VVIX
            for f in state.market.futures:
                if f.price is not None:
                    today[f"VIX.M{f.month}"] = f.price
            n = len(dates)
            for k in set(columns) | set(today):
                col = columns.setdefault(k, [math.nan] * (n - 1))
                col.append(today.get(k, math.nan))
        return cls(dates, columns)


def unknown_at(source: SeriesSource, series: Series, key: str, text: str, day: int) -> Unknown:
    """Why ``text`` (``series``) has no value on ``day``: warming up, or a gap."""
    first = source.first_valid.get(key)
    if first is None:
        first = source.length  # a constant NaN never becomes valid
        if isinstance(series, np.ndarray):
            valid = np.flatnonzero(~np.isnan(series))
            if len(valid):
                first = int(valid[0])
        source.first_valid[key] = first
    if day < first:
        have = day + 1
        if first >= source.length:
            return Unknown(f"{text} is unknown: not enough history ({have} observations)")
        return Unknown(f"{text} is warming up: {have} observations, it needs {first + 1}")
    date = source.dates[day] if 0 <= day < source.length else "?"
    return Unknown(f"{text} is missing on {date} (a gap in its inputs)")


def missing_inputs(source: SeriesSource, inputs: frozenset[str], text: str) -> Unknown | None:
    """``text`` is unknown because a series it reads has no observations at all."""
    missing = [
        n
        for n in sorted(inputs)
        if n not in source.present
        and not (n == "VIX.term_slope" and {"VIX.M1", "VIX.M2"} <= source.present)
    ]
    if not missing:
        return None
    names = ", ".join(f"`{n}`" for n in missing)
    return Unknown(f"{text} is unknown: the history has no values for {names}")
