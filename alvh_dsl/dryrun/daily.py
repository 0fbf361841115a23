"""The daily rows of one run, kept as columns while the loop runs.

The loop records each day's two marks (:class:`~alvh_dsl.dryrun.book_state.BookRisk`,
before and after the actions), its trade count and each side's running cash;
:meth:`DailyColumns.rows` turns them into ``RunResult.daily_rows`` once, at the end:
each key's column in one comprehension, the cents of a column rounded together
(:func:`cents_column`). The row dicts are zipped from the columns only when a reader asks
for them (:class:`DailyRows`): the summary, the comparison, the notes and the run
directory read the columns. The rows are the ones a row built per day gave — the same keys
in the same order, the same values with the same Python or NumPy types
(tests/test_marks.py holds :func:`cents_column` to :func:`cents`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .moves import scenario_column
from .rows import DailyRows

if TYPE_CHECKING:  # pragma: no cover
    from .book_state import BookRisk
    from .market_data import MarketData

__all__ = ["DailyColumns", "cents", "cents_column"]


def cents(x: float) -> float:
    """``round(x, 2)``, of the same type and to the bit, for a Python or a NumPy float.

    NumPy's scalar ``round`` builds arrays for each call. NumPy rounds a double to 2
    places as ``rint(x · 100) / 100`` (``PyArray_Round``): the same two IEEE operations
    here, with Python's ``round`` (half to even, as ``rint``) in between and the sign of a
    zero kept (tests/test_marks.py checks it against NumPy's on ties, zeros, huge and odd
    values).
    """
    if type(x) is float:
        return round(x, 2)
    y = float(x) * 100.0
    if y - y != 0.0:  # NaN or infinite: NumPy's own
        return round(x, 2)
    z = round(y) / 100.0
    if z == 0.0:
        z = math.copysign(0.0, y)
    out: float = np.float64(z)
    return out


def cents_column(values: list[Any]) -> list[Any]:
    """``[cents(x) for x in values]``, computed for the whole column in one pass.

    NumPy floats: NumPy's own rounding, ``rint(x · 100) / 100`` element-wise — the same
    IEEE operations on the same doubles, so the same bits, a zero's sign included (``rint``
    keeps it) — handed back as ``np.float64``. Python floats: ``round(x, 2)`` is
    correctly rounded — the double nearest ``n / 100``, ``n`` the exact ``x · 100`` rounded
    half to even — and so is the division ``n / 100.0``; and ``rint(t)``, ``t = fl(x ·
    100)``, is that ``n`` whenever ``t`` is more than ``spacing(t)`` (twice ``t``'s rounding
    error) from every half-integer and below 2⁵¹: the exact product then lies on the same
    side of each. The few others (near a tie, huge, not finite) go through ``round``.
    """
    if not values:
        return []
    is_py = [type(x) is float for x in values]
    raw = np.array(values, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        t = raw * 100.0
        rounded = np.rint(t) / 100.0
        a = np.abs(t)
        sure = (a < 2.0**51) & (np.abs(a - np.floor(a) - 0.5) > 2.0 * np.spacing(a))
    out: list[Any] = rounded.tolist()
    if not all(is_py):
        scalars = list(rounded)  # np.float64 each
        for k, py in enumerate(is_py):
            if not py:
                out[k] = scalars[k]
    for k in np.flatnonzero(~sure).tolist():
        if is_py[k]:
            out[k] = round(values[k], 2)
    return out


class DailyColumns:
    """Each day's marks, trades and cash, recorded by :meth:`add`; :meth:`rows` builds the
    day rows of ``daily.parquet`` from them."""

    def __init__(self, market: MarketData, starting_equity: float) -> None:
        self.market = market
        self.starting_equity = starting_equity
        self.before: list[BookRisk] = []
        self.after: list[BookRisk] = []
        self.trades: list[int] = []
        self.condor_cash: list[float] = []
        self.hedge_cash: list[float] = []

    def add(
        self, before: BookRisk, after: BookRisk, trades: int, condor_cash: float, hedge_cash: float
    ) -> None:
        """Record one day: its marks before and after the actions, the number of trades,
        and each side's running Σ of cash flows at the end of the day."""
        self.before.append(before)
        self.after.append(after)
        self.trades.append(trades)
        self.condor_cash.append(condor_cash)
        self.hedge_cash.append(hedge_cash)

    def rows(self) -> DailyRows:
        """The day rows, one dict per recorded day: greeks as the rules saw them and after
        the actions (``_after``); positions, cash and equity at the end of the day; the
        day's trades; each side's P&L, the scenario P&L before and after the actions and
        the hedge's notional by VIX month."""
        # Long: one column per key of the row, in the row's order; split, the order the
        # rows' dicts must keep would be spread over several functions.
        market, before, after = self.market, self.before, self.after
        n = len(before)
        if n == 0:
            return DailyRows({})
        b_risk = [b.risk for b in before]
        a_risk = [a.risk for a in after]
        equity = [a.equity for a in after]
        prev = [self.starting_equity, *equity[:-1]]
        names: list[str] = [
            "date", "spx", "vix", "front_dte", "front_expiry", "condors", "layers", "cash",
            "condor_value", "hedge_value", "equity", "pnl", "hedge_notional", "delta",
            "gamma", "vega", "theta", "eff_gamma_down", "eff_gamma_up", "eff_gamma_short",
            "eff_gamma_long", "eff_gamma_profile_min", "delta_after", "gamma_after",
            "vega_after", "theta_after", "eff_gamma_down_after", "eff_gamma_up_after",
            "eff_gamma_short_after", "eff_gamma_long_after", "eff_gamma_profile_min_after",
            "trades", "condor_pnl", "hedge_pnl",
        ]  # fmt: skip
        columns: list[Sequence[Any]] = [
            np.datetime_as_string(market.dates[:n], unit="D").tolist(),
            market.spx[:n].tolist(),
            market.vix[:n].tolist(),
            [None if math.isnan(b.front_dte) else b.front_dte for b in before],
            [b.front_expiry for b in before],
            [a.condors for a in after],
            [a.layers for a in after],
            cents_column([a.cash for a in after]),
            cents_column([a.condor_value for a in after]),
            cents_column([a.hedge_value for a in after]),
            cents_column(equity),
            cents_column([e - p for e, p in zip(equity, prev, strict=True)]),
            cents_column([a.hedge_notional for a in after]),
            *_greek_columns(before, b_risk),
            *_greek_columns(after, a_risk),
            self.trades,
            cents_column(
                [c + a.condor_value for c, a in zip(self.condor_cash, after, strict=True)]
            ),
            cents_column([c + a.hedge_value for c, a in zip(self.hedge_cash, after, strict=True)]),
        ]
        moves = market.moves.scenario_moves
        if moves:
            scen_before = list(zip(*(r.scenario for r in b_risk), strict=True))
            scen_after = list(zip(*(r.scenario for r in a_risk), strict=True))
            for k, name in enumerate(map(scenario_column, moves)):
                names += (name, name + "_after")
                columns += (scen_before[k], scen_after[k])
        by_month = [a.notional_by_month for a in after]
        months = len(by_month[0])
        flat = cents_column([x for row in by_month for x in row])
        if all(len(row) == months for row in by_month):
            names += [f"hedge_notional_m{k}" for k in range(1, months + 1)]
            columns += [flat[k::months] for k in range(months)] if months else []
            # Every column is n long and names them all (checked once, not per row).
            assert len(names) == len(columns) and all(len(c) == n for c in columns)
            return DailyRows(dict(zip(names, columns, strict=True)))
        rows = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
        at = 0
        for row, month_row in zip(rows, by_month, strict=True):  # lengths differ: per row
            keys = (f"hedge_notional_m{k}" for k in range(1, len(month_row) + 1))
            row.update(zip(keys, flat[at : at + len(month_row)], strict=False))
            at += len(month_row)
        return DailyRows.of(rows)


def _greek_columns(marks: list[Any], risk: list[Any]) -> list[list[Any]]:
    """One side's greek and effective-gamma columns, in the row's order: delta, gamma,
    vega, theta, then the grid's down, up, short, long and profile minimum."""
    down, up = [r.gamma_down for r in risk], [r.gamma_up for r in risk]
    return [
        [m.delta for m in marks],
        [m.gamma for m in marks],
        [m.vega for m in marks],
        [m.theta for m in marks],
        down,
        up,
        _short(down, up),
        _long(down, up),
        [r.profile_min for r in risk],
    ]


def _short(down: list[float], up: list[float]) -> list[float]:
    """:attr:`GridRisk.short <alvh_dsl.dryrun.moves.GridRisk.short>` of each day: the same
    builtins on the same values."""
    return [max(0.0, -min(d, u)) for d, u in zip(down, up, strict=True)]


def _long(down: list[float], up: list[float]) -> list[float]:
    """:attr:`GridRisk.long <alvh_dsl.dryrun.moves.GridRisk.long>` of each day."""
    return [max(0.0, d, u) for d, u in zip(down, up, strict=True)]
