"""The simulated book seen from outside on one day: its marks and risk, and the state
the rules read.

:class:`Marks` sums the open positions' precomputed
:class:`~alvh_dsl.dryrun.valuation.Valuation` rows into a :class:`BookRisk` (equity,
dollar greeks, effective gamma), once per change of the book for the days ahead.
:func:`rules_state` builds the :class:`~alvh_dsl.lang.plain.PlainState` that
``book.evaluate`` sees every simulated day — plain data with the fields of the
:class:`~alvh_dsl.lang.state.State` model ``alvh eval --state`` reads, and the same
values for every name — since the simulator's numbers are right by construction.
:func:`with_history` is the validated State, with recent history, that ``--dump-state``
writes.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from ..lang.plain import PlainCondor, PlainGreeks, PlainHedge, PlainState
from ..lang.state import State
from ..market.pricing import VIX_FUTURE_MULTIPLIER, VIX_OPTION_MULTIPLIER
from ..series import SeriesSource
from .moves import GridRisk, grid_risk_rows
from .simulate import CondorPos, HedgePos, Simulator

__all__ = [
    "HISTORY_FOR_STATE", "BookRisk", "Marks", "RulesState", "rules_state", "with_history",
]  # fmt: skip

HISTORY_FOR_STATE = 300  # observations kept in a captured state: enough for every default window


@dataclass
class BookRisk:
    """The book's marks and risk at one moment of a day."""

    equity: float
    cash: float
    delta: float
    gamma: float
    vega: float
    theta: float
    risk: GridRisk  # effective gamma and scenario P&L (full revaluation under SPX moves)
    front_dte: float  # NaN when flat
    front_expiry: str | None  # the front condor's expiry (ISO date)
    condors: int
    layers: int
    hedge_notional: float
    condor_value: float
    hedge_value: float
    notional_by_month: tuple[float, ...]  # $ hedge notional in VIX months 1..9


class Marks:
    """The book's marks and risk on each day (:meth:`on`), summed once per change of the book.

    Between two trades the book holds the same positions, so its sums over them — greeks,
    values, notional by month, the values under every SPX move and what :func:`grid_risk`
    reads off them — are computed for the coming days in one vectorised pass, and a day
    only reads its row. A trade (``Simulator.version``) starts a new pass. Each figure is
    the same sum, in the same order, of the same per-position numbers as a day-by-day sum
    (and of the same types: a Python ``0.0`` where nothing is held), so the rows are equal
    to the bit (tests/test_marks.py).
    """

    CHUNK = 64  # days summed per pass: a book that rarely trades still pays as it goes

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        market = sim.market
        step = market.moves.step
        # (step · SPX)² per day, as grid_risk computes it (Python floats, then an array).
        self._hs2 = np.array([(step * s) ** 2 for s in market.spx.tolist()], dtype=np.float64)
        self._flat = GridRisk(0.0, 0.0, 0.0, (0.0,) * len(market.moves.scenario))
        self._no_months = (0.0,) * market.curve.price.shape[1]
        self._span: _Span | None = None
        self._last: tuple[int, int, BookRisk] | None = None

    def on(self, day: int) -> BookRisk:
        """The book's :class:`BookRisk` on ``day`` as it stands now."""
        sim = self.sim
        last = self._last
        if last is not None and last[0] == day and last[1] == sim.version:
            return last[2]  # nothing traded since the last mark of this day
        span = self._span
        if span is None or span.version != sim.version or not span.start <= day < span.end:
            span = self._span = self._sum(day)
        i = day - span.start
        condor_value: Any = 0.0
        hedge_value: Any = 0.0
        notional: Any = 0.0
        delta: Any = 0.0
        gamma: Any = 0.0
        vega: Any = 0.0
        theta: Any = 0.0
        by_month = self._no_months
        risk = self._flat
        if span.open:
            if span.condors:
                condor_value = span.condor_value[i]
            if span.hedges:
                hedge_value, notional = span.hedge_value[i], span.notional[i]
                if span.any_month[i]:
                    row, hit = span.by_month[i], span.month_hit[i]
                    by_month = tuple(row[k] if hit[k] else 0.0 for k in range(len(hit)))
            delta, gamma, vega, theta = span.delta[i], span.gamma[i], span.vega[i], span.theta[i]
            risk = GridRisk(span.gamma_down[i], span.gamma_up[i], span.lowest[i], span.scenario[i])
        out = BookRisk(
            equity=sim.cash + condor_value + hedge_value,
            cash=sim.cash,
            delta=delta,
            gamma=gamma,
            vega=vega,
            theta=theta,
            risk=risk,
            front_dte=span.front_dte[i] if span.front_expiry is not None else math.nan,
            front_expiry=span.front_expiry,
            condors=span.condors,
            layers=span.layers,
            hedge_notional=notional,
            condor_value=condor_value,
            hedge_value=hedge_value,
            notional_by_month=by_month,
        )
        self._last = (day, sim.version, out)
        return out

    # Long: one pass over every open position, each figure of BookRisk in one place.
    def _sum(self, day: int) -> _Span:
        """Sum the open positions' rows from ``day`` to the first expiry (or CHUNK days)."""
        sim, market = self.sim, self.sim.market
        months = market.curve.price.shape[1]
        positions: list[CondorPos | HedgePos] = [*sim.condors, *sim.hedges]
        end = min(day + self.CHUNK, len(market))
        for p in positions:
            end = min(end, p.valuation.start + len(p.valuation))
        assert end > day, "a position is marked after its last valued day"
        n = end - day
        span = _Span(sim.version, day, end, len(sim.condors), len(sim.hedges))
        span.open = bool(positions)
        span.layers = len({h.layer for h in sim.hedges})  # a layer may span months
        front = sim.front()
        if front is not None:
            span.front_expiry = str(front.expiry)
            days = (front.expiry - market.dates[day:end]).astype(np.int64)
            span.front_dte = days.astype(np.float64).tolist()
        if not positions:
            return span
        zeros = np.zeros(n)
        delta, gamma, vega, theta = zeros, zeros, zeros, zeros
        condor_value, hedge_value, notional = zeros, zeros, zeros
        values = np.zeros((n, len(market.moves.moves)))
        by_month = np.zeros((n, months))
        hit = np.zeros((n, months), dtype=bool)
        for p in positions:
            v = p.valuation
            r = slice(day - v.start, end - v.start)
            q = p.quantity
            # The day-by-day sum's order: 0.0 + each position's term, positions in order.
            delta = delta + v.delta[r] * q  # VIX positions carry zeros: no SPX delta or gamma
            gamma = gamma + v.gamma[r] * q
            vega = vega + v.vega[r] * q
            theta = theta + v.theta[r] * q
            values = values + v.grid[r] * q
            if isinstance(p, CondorPos):
                condor_value = condor_value + v.value[r] * q
                continue
            hedge_value = hedge_value + v.value[r] * q
            contract = market.contract(p.expiry)
            if p.kind == "future":
                n_p = abs(q) * VIX_FUTURE_MULTIPLIER * v.mark[r]
            else:
                n_p = abs(q) * VIX_OPTION_MULTIPLIER * contract.price[day:end]
            notional = notional + n_p
            # The month it is in on each day: the first on the curve with its expiry.
            found = np.flatnonzero(contract.on[day:end])
            slot = contract.column[day:end][found]
            by_month[found, slot] += n_p[found]
            hit[found, slot] = True
        span.delta, span.gamma, span.vega, span.theta = delta, gamma, vega, theta
        span.condor_value, span.hedge_value, span.notional = condor_value, hedge_value, notional
        span.by_month, span.month_hit = by_month, hit
        span.any_month = cast(list[bool], hit.any(axis=1).tolist())
        risk = grid_risk_rows(values, market.moves, self._hs2[day:end])
        span.gamma_down, span.gamma_up, span.lowest, span.scenario = risk
        return span


class _Span:
    """One pass of :class:`Marks`: the book's sums on days ``start`` … ``end − 1``, for as
    long as it holds what it held at ``version``."""

    def __init__(self, version: int, start: int, end: int, condors: int, hedges: int) -> None:
        self.version, self.start, self.end = version, start, end
        self.condors, self.hedges = condors, hedges
        self.open = False
        self.layers = 0
        self.front_expiry: str | None = None
        self.front_dte: list[float] = []
        empty = np.zeros(0)
        self.delta = self.gamma = self.vega = self.theta = empty
        self.condor_value = self.hedge_value = self.notional = empty
        self.by_month = np.zeros((0, 0))
        self.month_hit = np.zeros((0, 0), dtype=bool)
        self.any_month: list[bool] = []
        self.gamma_down: list[float] = []
        self.gamma_up: list[float] = []
        self.lowest: list[float] = []
        self.scenario: list[tuple[float, ...]] = []


def rules_state(
    sim: Simulator, day: int, risk: BookRisk, last_fired: dict[str, dt.date]
) -> PlainState:
    """The state the rules see on ``day``, as plain data
    (:class:`~alvh_dsl.lang.plain.PlainState`; ``.model()`` is its
    :class:`~alvh_dsl.lang.state.State`). The loop keeps one :class:`RulesState`."""
    return RulesState(sim).on(day, risk, last_fired)


class RulesState:
    """:func:`rules_state` of one run, day after day: a position's marks and greeks over its
    life are read as Python floats once (``tolist`` of its valuation's rows, the values
    ``float(row[r])`` gives), its dates converted once, so a day indexes lists."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._condors: dict[str, tuple[Any, ...]] = {}
        self._hedges: dict[str, tuple[Any, ...]] = {}

    def on(self, day: int, risk: BookRisk, last_fired: dict[str, dt.date]) -> PlainState:
        """The state the rules see on ``day``, the book's marks being ``risk``."""
        sim = self.sim
        m = sim.market
        pydates = m.pydates
        condors = []
        for c in sim.condors:
            seen = self._condors.get(c.id)
            if seen is None or seen[0] is not c or seen[1] is not c.valuation:
                seen = self._condors[c.id] = self._condor_rows(c)
            _, v, expiry, entry, mark, delta, gamma, theta, vega = seen
            r = day - v.start
            condors.append(
                PlainCondor(
                    c.id, expiry, c.quantity, c.strikes, c.credit, mark[r], entry,
                    c.target_delta, PlainGreeks(delta[r], gamma[r], theta[r], vega[r]),
                )
            )  # fmt: skip
        hedges = []
        for h in sim.hedges:
            seen = self._hedges.get(h.id)
            if seen is None or seen[0] is not h or seen[1] is not h.valuation:
                v = h.valuation
                seen = self._hedges[h.id] = (
                    h, v, _date(h.expiry), pydates[h.opened], v.mark.tolist()
                )  # fmt: skip
            _, v, expiry, entry, mark = seen
            hedges.append(
                PlainHedge(
                    h.id, h.layer, h.kind, h.quantity, expiry, h.lower, h.upper,
                    h.entry_price, mark[day - v.start], entry,
                )
            )  # fmt: skip
        greeks = PlainGreeks(risk.delta, risk.gamma, risk.theta, risk.vega)
        return PlainState(
            pydates[day], m.plain_market(day), condors, hedges, greeks, risk.equity, risk.cash,
            last_fired,
        )  # fmt: skip

    def _condor_rows(self, c: CondorPos) -> tuple[Any, ...]:
        v, p = c.valuation, c.valuation.points
        return (
            c, v, _date(c.expiry), self.sim.market.pydates[c.opened], v.mark.tolist(),
            p["delta"].tolist(), p["gamma"].tolist(), p["theta"].tolist(), p["vega"].tolist(),
        )  # fmt: skip


def with_history(state: State, source: SeriesSource, day: int) -> State:
    """A validated copy of ``state`` carrying the last observations of every series."""
    from ..lang.state import History as StateHistory

    lo = max(0, day - HISTORY_FOR_STATE + 1)
    series = {
        name: [None if math.isnan(v) else float(v) for v in col[lo : day + 1]]
        for name, col in sorted(source.columns.items())
        if name != "VIX.term_slope"
    }
    hist = StateHistory(dates=source.dates[lo : day + 1], series=series)
    data = state.model_dump()
    data["history"] = hist.model_dump()
    return State.model_validate(data)


_DATES: dict[np.datetime64, dt.date] = {}  # expiries repeat on every day a position lives


def _date(value: np.datetime64) -> dt.date:
    out = _DATES.get(value)
    if out is None:
        out = _DATES[value] = value.astype("datetime64[D]").item()
        assert isinstance(out, dt.date)
    return out
