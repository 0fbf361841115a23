"""The simulated book seen from outside on one day: its marks and risk, and the State
the rules read.

:func:`mark` sums each open position's precomputed
:class:`~alvh_dsl.dryrun.valuation.Valuation` row into a :class:`BookRisk` (equity,
dollar greeks, effective gamma). :func:`rules_state` builds the
:class:`~alvh_dsl.lang.state.State` that ``book.evaluate`` sees — the same model
``alvh eval --state`` reads — without validation, since the simulator's numbers are
right by construction and this runs every simulated day. :func:`with_history` is the
validated copy, with recent history, that ``--dump-state`` writes.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..lang.construct import construct
from ..lang.state import Condor as StateCondor
from ..lang.state import Greeks, HedgeLayer, Market, State
from ..market.pricing import VIX_FUTURE_MULTIPLIER, VIX_OPTION_MULTIPLIER
from ..series import SeriesSource
from .moves import GridRisk, grid_risk
from .simulate import CondorPos, HedgePos, Simulator

__all__ = ["HISTORY_FOR_STATE", "BookRisk", "mark", "rules_state", "with_history"]

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


def mark(sim: Simulator, day: int) -> BookRisk:
    """Marks, dollar greeks and effective gamma of the whole book on ``day``."""
    market = sim.market
    delta = gamma = vega = theta = condor_value = hedge_value = notional = 0.0
    values: Any = 0.0
    by_month = [0.0] * market.curve.price.shape[1]
    positions: list[CondorPos | HedgePos] = [*sim.condors, *sim.hedges]
    for p in positions:
        v = p.valuation
        r = v.row(day)
        q = p.quantity
        delta += v.delta[r] * q  # VIX positions carry zeros: no SPX delta or gamma
        gamma += v.gamma[r] * q
        vega += v.vega[r] * q
        theta += v.theta[r] * q
        values = values + v.grid[r] * q
        if isinstance(p, CondorPos):
            condor_value += v.value[r] * q
            continue
        h = p
        hedge_value += v.value[r] * q
        if h.kind == "future":
            n = abs(q) * VIX_FUTURE_MULTIPLIER * v.mark[r]
        else:
            f = market.futures_price(np.array([day], dtype=np.intp), h.expiry)[0]
            n = abs(q) * VIX_OPTION_MULTIPLIER * f
        notional += n
        month = sim.hedge_month(day, h)
        if month is not None:
            by_month[month - 1] += n
    risk = (
        grid_risk(values, market.moves, float(market.spx[day]))
        if isinstance(values, np.ndarray)
        else GridRisk(0.0, 0.0, 0.0, (0.0,) * len(market.moves.scenario))  # nothing open
    )
    front = sim.front()
    dte = (
        float((front.expiry - market.dates[day]).astype(np.int64))
        if front is not None
        else math.nan
    )
    return BookRisk(
        equity=sim.cash + condor_value + hedge_value,
        cash=sim.cash,
        delta=delta,
        gamma=gamma,
        vega=vega,
        theta=theta,
        risk=risk,
        front_dte=dte,
        front_expiry=str(front.expiry) if front is not None else None,
        condors=len(sim.condors),
        layers=len({h.layer for h in sim.hedges}),  # a layer may span months
        hedge_notional=notional,
        condor_value=condor_value,
        hedge_value=hedge_value,
        notional_by_month=tuple(by_month),
    )


def rules_state(sim: Simulator, day: int, risk: BookRisk, last_fired: dict[str, dt.date]) -> State:
    """The :class:`~alvh_dsl.lang.state.State` the rules see on ``day`` (unvalidated)."""
    m = sim.market
    condors = []
    for c in sim.condors:
        v = c.valuation
        r = v.row(day)
        p = v.points
        condors.append(
            construct(
                StateCondor,
                id=c.id,
                expiry=_date(c.expiry),
                quantity=c.quantity,
                long_put=c.strikes[0],
                short_put=c.strikes[1],
                short_call=c.strikes[2],
                long_call=c.strikes[3],
                credit=c.credit,
                mark=float(v.mark[r]),
                pnl=None,
                entry_date=m.pydates[c.opened],
                target_delta=c.target_delta,
                greeks=construct(
                    Greeks,
                    delta=float(p["delta"][r]),
                    gamma=float(p["gamma"][r]),
                    theta=float(p["theta"][r]),
                    vega=float(p["vega"][r]),
                ),
            )
        )
    hedges = []
    for h in sim.hedges:
        r = h.valuation.row(day)
        hedges.append(
            construct(
                HedgeLayer,
                id=h.id,
                layer=h.layer,
                kind=h.kind,
                quantity=h.quantity,
                expiry=_date(h.expiry),
                month=None,
                lower=h.lower,
                upper=h.upper,
                entry_price=h.entry_price,
                mark=float(h.valuation.mark[r]),
                notional=None,
                entry_date=m.pydates[h.opened],
            )
        )
    vvix = float(m.vvix[day])
    market = construct(
        Market,
        SPX=float(m.spx[day]),
        VIX=float(m.vix[day]),
        VVIX=vvix if math.isfinite(vvix) else None,
        futures=m.quotes(day),
    )
    return construct(
        State,
        date=m.pydates[day],
        market=market,
        history=None,
        condors=condors,
        hedges=hedges,
        greeks=construct(
            Greeks, delta=risk.delta, gamma=risk.gamma, theta=risk.theta, vega=risk.vega
        ),
        equity=risk.equity,
        cash=risk.cash,
        last_fired=last_fired,
    )


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


def _date(value: np.datetime64) -> dt.date:
    out = value.astype("datetime64[D]").item()
    assert isinstance(out, dt.date)
    return out
