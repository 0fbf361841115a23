"""Stress windows: book and baseline P&L and drawdown in named market windows.

Plain functions of arrays, like :mod:`alvh_dsl.dryrun.statistics` (the built-in windows:
:data:`DEFAULT_STRESS_WINDOWS`; a config adds its own).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..lang.runtime import clean

__all__ = ["DEFAULT_STRESS_WINDOWS", "stress_windows"]

Floats = NDArray[np.float64]

DEFAULT_STRESS_WINDOWS: tuple[tuple[str, str, str], ...] = (
    ("Lehman / 2008 crash", "2008-09-15", "2008-11-20"),
    ("2010 flash crash", "2010-05-06", "2010-05-06"),
    ("2011 US downgrade", "2011-08-01", "2011-08-31"),
    ("2015 China deval.", "2015-08-20", "2015-08-31"),
    ("2018 Volmageddon", "2018-02-01", "2018-02-09"),
    ("2020 COVID crash", "2020-02-20", "2020-04-07"),
)
"""``(name, first day, last day)`` of each named window, both days included."""


def stress_windows(
    dates: ArrayLike,
    book_equity: ArrayLike,
    base_equity: ArrayLike | None,
    windows: Iterable[tuple[str, str, str]] = DEFAULT_STRESS_WINDOWS,
    start_equity_book: float | None = None,
    start_equity_base: float | None = None,
) -> list[dict[str, Any]]:
    """Book and baseline P&L and drawdown in each named window the history covers.

    ``dates`` are the run's trading days (increasing), ``book_equity`` and
    ``base_equity`` (or ``None``) the equity at each day's close; ``windows`` are
    ``(name, first day, last day)``, both days included. A window none of whose days is
    in ``dates`` is left out; the rest come in the order given, each as ``{"name",
    "window": [first, last], "start", "end", "days", "partial", "book", "baseline"}``:
    ``start``/``end`` are its first and last trading days in the data, ``partial`` says
    the window runs past the data's span, and each side is ``{"pnl", "max_drawdown"}``
    (``baseline`` is ``None`` without ``base_equity``).

    ``pnl`` runs from the equity at the close before the window's first trading day —
    the starting equity when the window opens on the run's first day (the close of that
    day when no starting equity is given) — to the close of its last day. ``max_drawdown``
    is the largest fall (≥ 0, $) from the running peak within the window, that starting
    level included.
    """
    day_dates = np.asarray(dates, dtype="datetime64[D]")
    if day_dates.ndim != 1 or (len(day_dates) > 1 and (np.diff(day_dates) <= 0).any()):
        raise ValueError("dates must be increasing trading days")
    book = _equity(book_equity, len(day_dates), "book_equity")
    base = None if base_equity is None else _equity(base_equity, len(day_dates), "base_equity")
    out = []
    for name, first_text, last_text in windows:
        first, last = _window_days(name, first_text, last_text)
        inside = np.flatnonzero((day_dates >= first) & (day_dates <= last))
        if len(inside) == 0:
            continue
        i0, i1 = int(inside[0]), int(inside[-1])
        out.append(
            {
                "name": name,
                "window": [str(first), str(last)],
                "start": str(day_dates[i0]),
                "end": str(day_dates[i1]),
                "days": len(inside),
                "partial": bool(first < day_dates[0] or last > day_dates[-1]),
                "book": _window_side(book, i0, i1, start_equity_book),
                "baseline": None if base is None else _window_side(base, i0, i1, start_equity_base),
            }
        )
    return out


def _equity(values: ArrayLike, n: int, name: str) -> Floats:
    x = np.asarray(values, dtype=np.float64)
    if x.shape != (n,):
        raise ValueError(f"{name} must have one value per date ({n}), not shape {x.shape}")
    return x


def _window_days(name: str, first: str, last: str) -> tuple[np.datetime64, np.datetime64]:
    try:
        a, b = np.datetime64(first, "D"), np.datetime64(last, "D")
    except ValueError as exc:
        raise ValueError(f"stress window {name!r}: {exc}") from None
    if a > b:
        raise ValueError(f"stress window {name!r} ends ({last}) before it starts ({first})")
    return a, b


def _window_side(equity: Floats, i0: int, i1: int, start: float | None) -> dict[str, Any]:
    if i0 > 0:
        before = float(equity[i0 - 1])
    else:
        before = float(equity[0]) if start is None else float(start)
    levels = np.concatenate([[before], equity[i0 : i1 + 1]])
    drawdown = np.maximum.accumulate(levels) - levels
    return {
        "pnl": _clean(float(levels[-1] - before)),
        "max_drawdown": _clean(float(drawdown.max())),
    }


def _clean(value: float | None) -> float | None:
    """A finite float without binary noise; else None."""
    return None if value is None or not math.isfinite(value) else float(clean(value))
