"""The dry-run's per-day state as plain data: what the loop hands the evaluator.

The dry-run evaluates a book every simulated day on numbers right by construction, so it
builds these plain objects instead of a pydantic :class:`~alvh_dsl.lang.state.State`
per day. They hold the same fields under the same names and share the derived values
(the front condor, a layer's month and notional, a condor's width and open P&L) through
the mixins of :mod:`alvh_dsl.lang.state`, so every getter answers a
:class:`PlainState` as it answers a State (tests/test_state_plain.py);
:meth:`PlainState.model` is the State of the same day (``--dump-state``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .construct import construct
from .state import (
    Condor,
    CondorReads,
    FutureQuote,
    Greeks,
    HedgeLayer,
    HedgeReads,
    Market,
    MarketReads,
    State,
    StateReads,
)

__all__ = [
    "PlainCondor",
    "PlainGreeks",
    "PlainHedge",
    "PlainMarket",
    "PlainQuote",
    "PlainState",
    "StateLike",
]


class PlainGreeks:
    """:class:`Greeks` as plain data."""

    __slots__ = ("delta", "gamma", "theta", "vega")

    def __init__(self, delta: float, gamma: float, theta: float, vega: float) -> None:
        self.delta, self.gamma, self.theta, self.vega = delta, gamma, theta, vega


class PlainQuote:
    """:class:`FutureQuote` as plain data."""

    __slots__ = ("expiry", "modelled", "month", "price")

    def __init__(
        self, month: int, price: float | None, expiry: dt.date | None, modelled: bool
    ) -> None:
        self.month, self.price, self.expiry, self.modelled = month, price, expiry, modelled


class PlainMarket(MarketReads):
    """:class:`Market` as plain data.

    ``futures`` is the quotes, or a function that makes them, called at the first read:
    the dry-run's market passes one (most books read no futures on most days, and nine
    quotes a day were most of the state's cost).
    """

    __slots__ = ("SPX", "VIX", "VVIX", "_futures", "_make_futures")

    def __init__(
        self, spx: float, vix: float, vvix: float | None,
        futures: Sequence[PlainQuote] | Callable[[], Sequence[PlainQuote]],
    ) -> None:  # fmt: skip
        self.SPX, self.VIX, self.VVIX = spx, vix, vvix
        self._futures: Sequence[FutureQuote | PlainQuote] | None = None
        self._make_futures: Callable[[], Sequence[PlainQuote]] | None = None
        if callable(futures):
            self._make_futures = futures
        else:
            self._futures = futures

    @property
    def futures(self) -> Sequence[FutureQuote | PlainQuote]:
        """The VIX futures months' quotes (made at the first read when given lazily)."""
        quotes = self._futures
        if quotes is None:
            assert self._make_futures is not None
            quotes = self._futures = self._make_futures()
        return quotes

    @futures.setter
    def futures(self, quotes: Sequence[FutureQuote | PlainQuote]) -> None:
        self._futures = quotes


class PlainCondor(CondorReads):
    """:class:`Condor` as plain data."""

    __slots__ = (
        "credit", "entry_date", "expiry", "greeks", "id", "long_call", "long_put", "mark",
        "pnl", "quantity", "short_call", "short_put", "target_delta",
    )  # fmt: skip

    def __init__(
        self, id: str | None, expiry: dt.date, quantity: int,
        strikes: tuple[float, float, float, float], credit: float, mark: float | None,
        entry_date: dt.date | None, target_delta: float | None, greeks: PlainGreeks,
    ) -> None:  # fmt: skip
        self.id, self.expiry, self.quantity = id, expiry, quantity
        self.long_put, self.short_put, self.short_call, self.long_call = strikes
        self.credit, self.mark, self.pnl = credit, mark, None
        self.entry_date, self.target_delta, self.greeks = entry_date, target_delta, greeks


class PlainHedge(HedgeReads):
    """:class:`HedgeLayer` as plain data."""

    __slots__ = (
        "entry_date", "entry_price", "expiry", "id", "kind", "layer", "lower", "mark",
        "month", "notional", "quantity", "upper",
    )  # fmt: skip

    def __init__(
        self, id: str | None, layer: str | None, kind: str, quantity: int,
        expiry: dt.date | None, lower: float | None, upper: float | None,
        entry_price: float, mark: float | None, entry_date: dt.date | None,
    ) -> None:  # fmt: skip
        self.id, self.layer, self.kind, self.quantity = id, layer, kind, quantity
        self.expiry, self.month, self.lower, self.upper = expiry, None, lower, upper
        self.entry_price, self.mark, self.notional = entry_price, mark, None
        self.entry_date = entry_date


class PlainState(StateReads):
    """:class:`State` as plain data: what the dry-run's loop evaluates each day.

    ``history`` is always None (the loop's series source serves indicators).
    """

    __slots__ = ("cash", "condors", "date", "equity", "greeks", "hedges", "last_fired", "market")
    history = None
    if TYPE_CHECKING:  # the plain kinds of what StateReads declares
        market: PlainMarket
        condors: Sequence[PlainCondor]
        hedges: Sequence[PlainHedge]
        greeks: PlainGreeks

    def __init__(
        self, date: dt.date, market: PlainMarket, condors: Sequence[PlainCondor],
        hedges: Sequence[PlainHedge], greeks: PlainGreeks, equity: float, cash: float | None,
        last_fired: dict[str, dt.date],
    ) -> None:  # fmt: skip
        self.date, self.market, self.condors, self.hedges = date, market, condors, hedges
        self.greeks, self.equity, self.cash, self.last_fired = greeks, equity, cash, last_fired

    def with_last_fired(self, last_fired: dict[str, dt.date]) -> PlainState:
        """The same day with another ``last_fired`` (the loop updates its dict in place)."""
        return PlainState(
            self.date, self.market, self.condors, self.hedges, self.greeks, self.equity,
            self.cash, last_fired,
        )  # fmt: skip

    def model(self) -> State:
        """The :class:`State` of this snapshot (unvalidated: its numbers are the
        simulator's), sharing ``last_fired``."""

        def greeks(g: Greeks | PlainGreeks) -> Greeks:
            return construct(Greeks, delta=g.delta, gamma=g.gamma, theta=g.theta, vega=g.vega)

        m = self.market
        futures = [
            construct(FutureQuote, month=q.month, price=q.price, expiry=q.expiry,
                      modelled=q.modelled)
            for q in m.futures
        ]  # fmt: skip
        condors = [
            construct(
                Condor, id=c.id, expiry=c.expiry, quantity=c.quantity, long_put=c.long_put,
                short_put=c.short_put, short_call=c.short_call, long_call=c.long_call,
                credit=c.credit, mark=c.mark, pnl=c.pnl, entry_date=c.entry_date,
                target_delta=c.target_delta, greeks=greeks(c.greeks),
            )
            for c in self.condors
        ]  # fmt: skip
        hedges = [
            construct(
                HedgeLayer, id=h.id, layer=h.layer, kind=h.kind, quantity=h.quantity,
                expiry=h.expiry, month=h.month, lower=h.lower, upper=h.upper,
                entry_price=h.entry_price, mark=h.mark, notional=h.notional,
                entry_date=h.entry_date,
            )
            for h in self.hedges
        ]  # fmt: skip
        return construct(
            State,
            date=self.date,
            market=construct(Market, SPX=m.SPX, VIX=m.VIX, VVIX=m.VVIX, futures=futures),
            history=None,
            condors=condors,
            hedges=hedges,
            greeks=greeks(self.greeks),
            equity=self.equity,
            cash=self.cash,
            last_fired=self.last_fired,
        )


StateLike = State | PlainState
"""What the evaluator reads: a state file's :class:`State` or the dry-run's snapshot."""
