"""The simulated book: cash, positions, fills, settlement and the trade log.

Positions carry a :class:`~alvh_dsl.dryrun.valuation.Valuation` computed when they open, so
marking the book on a day is a sum of a few precomputed numbers
(:class:`alvh_dsl.dryrun.book_state.Marks`). Every trade changes cash by exactly its
recorded cash flow, and

    equity = cash + Σ position values (model mid marks)

holds every day (tests reconcile it to the cent).

Fills: model mid plus slippage per contract and leg (paid on both open and
close; a fill is never below zero, and a position's credit or debit is that of its
fills), and a commission per contract and leg, both from the config's
:class:`~alvh_dsl.dryrun.config.CostsSection`. Expiries settle at intrinsic value,
with no slippage or commission, at :meth:`Simulator.settlement_price`: the history's
``spx_settlement`` / ``vix_settlement`` when it has one, else on the expiry day SPX at
its open (when known) and VIX at its settlement value, else, for an expiry that falls
in a gap of the history, the last close before it (such settlements are listed in
:attr:`Simulator.late_settlements`). What each action does with these operations is
:mod:`alvh_dsl.dryrun.actions`.

Hedge positions belong to **layers** (``HedgePos.layer``, ``L1``, ``L2``, …): a layer is
what one buy or sell opened; a shift moves its contracts to another month and they stay
in that layer, so ``hedge.layers`` counts decisions, not positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..market.calendars import expiries
from ..market.history import SETTLEMENT_COLUMNS
from ..market.pricing import (
    SPX_MULTIPLIER,
    VIX_FUTURE_MULTIPLIER,
    VIX_OPTION_MULTIPLIER,
)
from .config import CostsSection
from .market_data import MarketData
from .valuation import (
    Valuation,
    shared_call_prices,
    shared_valuation,
    short_strikes,
    value_future,
)

__all__ = ["LEG_NAMES", "LEG_SIGNS", "CondorPos", "Fill", "HedgePos", "Simulator"]

LEG_NAMES = ("long put", "short put", "short call", "long call")
LEG_SIGNS = (1, -1, -1, 1)


@dataclass(eq=False)
class CondorPos:
    id: str
    opened: int
    expiry: np.datetime64
    quantity: int
    strikes: tuple[float, float, float, float]  # long put, short put, short call, long call
    credit: float  # points per unit received, after slippage
    target_delta: float
    entry_spot: float
    valuation: Valuation
    rule: str


@dataclass(eq=False)
class HedgePos:
    id: str
    layer: str  # the buy or sell that opened it: positions moved by a shift keep it
    kind: str  # "future" | "call_spread"
    opened: int
    expiry: np.datetime64
    quantity: int  # signed for futures
    entry_price: float  # points: futures fill, or spread debit per unit
    lower: float | None
    upper: float | None
    valuation: Valuation
    rule: str

    @property
    def multiplier(self) -> float:
        return VIX_FUTURE_MULTIPLIER if self.kind == "future" else VIX_OPTION_MULTIPLIER

    def add(self, quantity: int, price: float) -> None:
        """Join ``quantity`` more contracts bought at ``price``: the entry becomes the average."""
        total = self.quantity + quantity
        self.entry_price = (self.entry_price * self.quantity + price * quantity) / total
        self.quantity = total


@dataclass
class Fill:
    """What an action did: its trades and a one-line summary (or why it did nothing)."""

    trades: list[dict[str, Any]] = field(default_factory=list)
    summary: str = ""
    done: bool = True
    disabled: bool = False  # not carried out because the run disables it (baseline)


class Simulator:
    """One run's book: cash, open positions, trade log."""

    def __init__(self, market: MarketData, costs: CostsSection, starting_equity: float) -> None:
        self.market = market
        self.costs = costs
        self.cash = float(starting_equity)
        self.condors: list[CondorPos] = []
        self.hedges: list[HedgePos] = []
        self.trades: list[dict[str, Any]] = []
        #: Positions whose expiry is not a row of the history, settled on the first row
        #: after it: position, kind, expiry, date_used, price, source, booked, cash_flow.
        self.late_settlements: list[dict[str, Any]] = []
        self._ids = 0
        self._trade_ids = 0
        self._layer_ids = 0
        self.settled = 0
        #: Bumped by every trade (:meth:`_record`, the one place cash and positions change
        #: together): the book's marks are cached while it is unchanged (book_state.Marks).
        self.version = 0
        frame = market.history.frame
        self._settlement_columns = {
            c.split("_")[0]: frame[c].to_numpy(dtype=np.float64) if c in frame else None
            for c in SETTLEMENT_COLUMNS
        }

    # ------------------------------------------------------------------ ids
    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    def new_trade_id(self) -> str:
        """A new trade id: the legs of one action (a roll's close and open) share one."""
        self._trade_ids += 1
        return f"T{self._trade_ids}"

    def _new_layer(self) -> str:
        self._layer_ids += 1
        return f"L{self._layer_ids}"

    def _date(self, day: int) -> str:
        return str(self.market.dates[day])

    def _record(
        self, day: int, trade: str, rule: str, action: str, position: str, instrument: str,
        strike: float | None, expiry: np.datetime64, quantity: float, mid: float, fill: float,
        commission: float, multiplier: float, cash: float, layer: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        row = {
            "date": self._date(day),
            "trade_id": trade,
            "rule": rule,
            "action": action,
            "position": position,
            "layer": layer,
            "instrument": instrument,
            "strike": strike,
            "expiry": str(expiry),
            "quantity": quantity,
            "mid": round(mid, 6),
            "fill": round(fill, 6),
            "commission": round(commission, 2),
            "multiplier": multiplier,
            "cash_flow": round(cash, 2),
        }
        self.trades.append(row)
        self.cash += round(cash, 2)
        self.version += 1
        return row

    # ------------------------------------------------------------ condors
    def front(self) -> CondorPos | None:
        return min(self.condors, key=lambda c: c.expiry) if self.condors else None

    def open_condor(
        self,
        day: int,
        expiry: np.datetime64,
        short_delta: float,
        wings: float,
        quantity: int,
        rule: str,
        action: str,
        trade: str | None = None,
        strikes: tuple[float, float, float, float] | None = None,
        entry_spot: float | None = None,
    ) -> Fill:
        m = self.market
        dte = float((expiry - m.dates[day]).astype(np.int64))
        if dte <= 0:
            return Fill(summary=f"expiry {expiry} is not after {m.dates[day]}", done=False)
        if strikes is None:
            sp, sc = short_strikes(m, day, expiry, short_delta)
            strikes = (sp - wings, sp, sc, sc + wings)
        # Its valuation's first row holds the legs' mids today (condor_leg_prices's numbers).
        valuation = shared_valuation(m, "condor", day, expiry, strikes)
        mids = valuation.legs[0]
        slip = self.costs.spx_option_slippage
        comm = self.costs.spx_option_commission * quantity
        credit_mid = float(mids[1] + mids[2] - mids[0] - mids[3])
        # Bought above mid, sold below it but never below zero: the credit is the fills'.
        fills = [_fill(float(mid), sign * slip) for sign, mid in zip(LEG_SIGNS, mids, strict=True)]
        credit = -sum(sign * px for sign, px in zip(LEG_SIGNS, fills, strict=True))
        if credit <= 0:
            return Fill(
                summary=f"no credit for {_strikes_text(strikes)} on {expiry} "
                f"(mid {credit_mid:.2f} points before slippage)",
                done=False,
            )
        pos = CondorPos(
            id=self._next_id("C"),
            opened=day,
            expiry=expiry,
            quantity=quantity,
            strikes=strikes,
            credit=credit,
            target_delta=short_delta,
            entry_spot=float(m.spx[day]) if entry_spot is None else entry_spot,
            valuation=valuation,
            rule=rule,
        )
        trade = trade or self.new_trade_id()
        fill = Fill(summary=f"opened {quantity} × {_strikes_text(strikes)} {expiry} "
                    f"for {credit:.2f} credit")  # fmt: skip
        for name, sign, k, mid, px in zip(LEG_NAMES, LEG_SIGNS, strikes, mids, fills, strict=True):
            fill.trades.append(
                self._record(day, trade, rule, action, pos.id, f"SPX {name.split()[1]}", k,
                             expiry, sign * quantity, float(mid), px, comm,
                             SPX_MULTIPLIER, -sign * px * SPX_MULTIPLIER * quantity - comm)
            )  # fmt: skip
        self.condors.append(pos)
        return fill

    def close_condor(
        self,
        day: int,
        pos: CondorPos,
        quantity: int,
        rule: str,
        action: str,
        trade: str | None = None,
    ) -> Fill:
        mids = pos.valuation.legs[pos.valuation.row(day)]  # condor_leg_prices, precomputed
        slip = self.costs.spx_option_slippage
        comm = self.costs.spx_option_commission * quantity
        trade = trade or self.new_trade_id()
        fill = Fill()
        cost = 0.0
        for name, sign, k, mid in zip(LEG_NAMES, LEG_SIGNS, pos.strikes, mids, strict=True):
            # Sell what we own below mid (never below zero), buy back above.
            px = _fill(float(mid), -sign * slip)
            cost += -sign * px
            fill.trades.append(
                self._record(day, trade, rule, action, pos.id, f"SPX {name.split()[1]}", k,
                             pos.expiry, -sign * quantity, float(mid), px, comm,
                             SPX_MULTIPLIER, sign * px * SPX_MULTIPLIER * quantity - comm)
            )  # fmt: skip
        pos.quantity -= quantity
        if pos.quantity <= 0:
            self.condors.remove(pos)
        fill.summary = (
            f"closed {quantity} × {_strikes_text(pos.strikes)} {pos.expiry} for {cost:.2f}"
        )
        return fill

    # ------------------------------------------------------------- hedges
    def hedge_month(self, day: int, pos: HedgePos) -> int | None:
        """The VIX futures month (1 = month 1) ``pos`` is in on ``day``; None off the curve."""
        return self.market.contract(pos.expiry).month[day] or None

    def vix_expiry(self, day: int, month: int) -> np.datetime64:
        expiry: np.datetime64 = self.market.curve.expiry[day, month - 1]
        return expiry

    def trade_future(
        self,
        day: int,
        month: int,
        quantity: int,
        rule: str,
        action: str,
        trade: str | None = None,
        *,
        layer: str | None = None,
    ) -> Fill:
        """Buy (quantity > 0) or sell futures in VIX ``month``.

        A buy or sell (no ``layer``) first reduces opposite positions in that month, then
        opens a new layer with the rest. With ``layer`` (a shift moving that layer), the
        contracts join that layer's position in the month with the same side, or open one:
        they never net against, or join, another layer.
        """
        m = self.market
        expiry = self.vix_expiry(day, month)
        price = float(m.curve.price[day, month - 1])
        trade = trade or self.new_trade_id()
        fill = Fill()
        remaining = quantity
        opposite = [h for h in self.hedges if h.kind == "future" and h.expiry == expiry]
        for pos in opposite if layer is None else []:
            if remaining == 0 or np.sign(pos.quantity) == np.sign(remaining):
                continue
            n = min(abs(remaining), abs(pos.quantity))
            close_qty = int(np.sign(pos.quantity)) * n  # the quantity being removed
            fill.trades.append(self._future_trade(day, trade, rule, action, pos, -close_qty, price))
            pos.quantity -= close_qty
            remaining += close_qty
            if pos.quantity == 0:
                self.hedges.remove(pos)
        if remaining:
            px = price + self.costs.vix_future_slippage * (1 if remaining > 0 else -1)
            target = self._layer_position(layer, expiry, "future", None, None, remaining)
            if target is not None:
                # The value depends on the (averaged) entry price: revalue the position.
                target.add(remaining, px)
                target.valuation = value_future(m, target.opened, expiry, target.entry_price)
            else:
                target = HedgePos(
                    id=self._next_id("F"),
                    layer=layer or self._new_layer(),
                    kind="future",
                    opened=day,
                    expiry=expiry,
                    quantity=remaining,
                    entry_price=px,
                    lower=None,
                    upper=None,
                    valuation=value_future(m, day, expiry, px),
                    rule=rule,
                )
                self.hedges.append(target)
            comm = self.costs.vix_future_commission * abs(remaining)
            fill.trades.append(
                self._record(day, trade, rule, action, target.id, "VIX future", None, expiry,
                             remaining, price, px, comm, VIX_FUTURE_MULTIPLIER, -comm,
                             target.layer)
            )  # fmt: skip
        side = "bought" if quantity > 0 else "sold"
        fill.summary = f"{side} {abs(quantity)} VIX future(s) {expiry} at {price:.2f}"
        return fill

    def _future_trade(
        self, day: int, trade: str, rule: str, action: str, pos: HedgePos, qty: int, price: float
    ) -> dict[str, Any]:
        """Trade ``qty`` (signed) of an existing futures position at the model price ± slippage."""
        slip = self.costs.vix_future_slippage * (1 if qty > 0 else -1)
        px = price + slip
        comm = self.costs.vix_future_commission * abs(qty)
        # Closing realises (exit − entry) × multiplier on the contracts removed.
        realised = (px - pos.entry_price) * VIX_FUTURE_MULTIPLIER * -qty
        return self._record(
            day, trade, rule, action, pos.id, "VIX future", None, pos.expiry,
            qty, price, px, comm, VIX_FUTURE_MULTIPLIER, realised - comm, pos.layer,
        )  # fmt: skip

    def buy_call_spread(
        self,
        day: int,
        month: int,
        lower: float,
        upper: float,
        count: int | None,
        budget: float | None,
        rule: str,
        action: str,
        trade: str | None = None,
        *,
        layer: str | None = None,
    ) -> Fill:
        """Buy call spreads (``count`` of them, or as many as ``budget`` buys) as a new
        layer; with ``layer`` (a shift) they join that layer's position with the same
        strikes and expiry, or open one in that layer."""
        m = self.market
        expiry = self.vix_expiry(day, month)
        # Spreads are bought (a count of at least one): the layer's long position, if any.
        existing = self._layer_position(layer, expiry, "call_spread", lower, upper, 1)
        # Today's mids alone first: most buys on a budget buy nothing (a new position's
        # valuation, row 0 of which holds these same mids, is computed once it is bought).
        mids = shared_call_prices(m, day, expiry, (lower, upper))
        slip = self.costs.vix_option_slippage
        px_long, px_short = _fill(float(mids[0]), slip), _fill(float(mids[1]), -slip)
        debit = px_long - px_short
        if not math.isfinite(debit) or debit <= 0:
            return Fill(summary=f"no price for the {lower:g}/{upper:g} call spread", done=False)
        if count is None:
            assert budget is not None
            count = int(budget // (debit * VIX_OPTION_MULTIPLIER))
            if count < 1:
                return Fill(
                    summary=f"a budget of ${budget:,.0f} buys no spread at {debit:.2f}",
                    done=False,
                )
        if existing is not None:
            existing.add(count, debit)
            pos = existing  # its valuation (per unit) does not depend on the entry price
        else:
            valuation = shared_valuation(m, "call spread", day, expiry, (lower, upper))
            pos = HedgePos(
                id=self._next_id("S"),
                layer=layer or self._new_layer(),
                kind="call_spread",
                opened=day,
                expiry=expiry,
                quantity=count,
                entry_price=debit,
                lower=lower,
                upper=upper,
                valuation=valuation,
                rule=rule,
            )
            self.hedges.append(pos)
        trade = trade or self.new_trade_id()
        comm = self.costs.vix_option_commission * count
        fill = Fill(summary=f"bought {count} × {lower:g}/{upper:g} VIX call spread {expiry} "
                    f"for {debit:.2f}")  # fmt: skip
        for k, mid, px, sign in ((lower, mids[0], px_long, 1), (upper, mids[1], px_short, -1)):
            fill.trades.append(
                self._record(day, trade, rule, action, pos.id, "VIX call", k, expiry,
                             sign * count, float(mid), px, comm, VIX_OPTION_MULTIPLIER,
                             -sign * px * VIX_OPTION_MULTIPLIER * count - comm, pos.layer)
            )  # fmt: skip
        return fill

    def _layer_position(
        self, layer: str | None, expiry: np.datetime64, kind: str, lower: float | None,
        upper: float | None, sign: int,
    ) -> HedgePos | None:  # fmt: skip
        """``layer``'s position on ``expiry`` with these strikes and side, if it has one."""
        if layer is None:
            return None
        for h in self.hedges:
            if (
                h.layer == layer
                and h.kind == kind
                and h.expiry == expiry
                and h.lower == lower
                and h.upper == upper
                and np.sign(h.quantity) == np.sign(sign)
            ):
                return h
        return None

    def close_hedge(
        self,
        day: int,
        pos: HedgePos,
        quantity: int,
        rule: str,
        action: str,
        trade: str | None = None,
    ) -> Fill:
        """Close ``quantity`` contracts (a positive number) of a position."""
        m = self.market
        trade = trade or self.new_trade_id()
        fill = Fill()
        if pos.kind == "future":
            price = float(m.futures_price(np.array([day], dtype=np.intp), pos.expiry)[0])
            qty = -int(np.sign(pos.quantity)) * quantity
            fill.trades.append(self._future_trade(day, trade, rule, action, pos, qty, price))
            pos.quantity += qty
        else:
            assert pos.lower is not None and pos.upper is not None
            mids = pos.valuation.legs[pos.valuation.row(day)]  # call_prices, precomputed
            slip = self.costs.vix_option_slippage
            comm = self.costs.vix_option_commission * quantity
            for k, mid, sign in ((pos.lower, mids[0], 1), (pos.upper, mids[1], -1)):
                px = _fill(float(mid), -sign * slip)
                fill.trades.append(
                    self._record(day, trade, rule, action, pos.id, "VIX call", k, pos.expiry,
                                 -sign * quantity, float(mid), px, comm, VIX_OPTION_MULTIPLIER,
                                 sign * px * VIX_OPTION_MULTIPLIER * quantity - comm, pos.layer)
                )  # fmt: skip
            pos.quantity -= quantity
        if pos.quantity == 0:
            self.hedges.remove(pos)
        fill.summary = f"closed {quantity} of {pos.id}"
        return fill

    # --------------------------------------------------------- settlement
    def settlement_price(
        self, day: int, expiry: np.datetime64, index: Literal["spx", "vix"]
    ) -> tuple[float, np.datetime64, str]:
        """What an ``index`` (``"spx"`` or ``"vix"``) expiry settles at when booked on
        ``day``, the first row on or after it: the price, the date it is of, its source.

        The history's ``<index>_settlement`` on that row when finite (it is the last
        expiry's in the gap since the previous row, so an earlier expiry in the same gap
        does not use it); else, on the expiry day, SPX at its open when known and VIX at
        its settlement value; else the last close before the expiry.
        """
        m = self.market
        today = m.dates[day]
        column = self._settlement_columns[index]
        if (
            column is not None
            and math.isfinite(column[day])
            and (today == expiry or not len(expiries(index, expiry + 1, today)))
        ):
            return float(column[day]), expiry, f"{index}_settlement column"
        if today == expiry:
            at_expiry = m.spx_settle if index == "spx" else m.vix_settle
            return float(at_expiry[day]), expiry, "expiry day"
        prior = int(np.searchsorted(m.dates, expiry, side="right")) - 1
        assert prior >= 0, "a position cannot expire before the history starts"
        closes = m.spx if index == "spx" else m.vix
        return float(closes[prior]), m.dates[prior], "last close before expiry"

    def settle(self, day: int) -> list[dict[str, Any]]:
        """Settle every position whose expiry is on or before ``day`` at intrinsic value."""
        today = self.market.dates[day]
        out: list[dict[str, Any]] = []
        for pos in [c for c in self.condors if c.expiry <= today]:
            s, used, source = self.settlement_price(day, pos.expiry, "spx")
            trade = self.new_trade_id()
            rows = []
            for name, sign, k in zip(LEG_NAMES, LEG_SIGNS, pos.strikes, strict=True):
                intrinsic = max(k - s, 0.0) if "put" in name else max(s - k, 0.0)
                rows.append(
                    self._record(day, trade, "", "settle", pos.id, f"SPX {name.split()[1]}", k,
                                 pos.expiry, -sign * pos.quantity, intrinsic, intrinsic, 0.0,
                                 SPX_MULTIPLIER, sign * intrinsic * SPX_MULTIPLIER * pos.quantity)
                )  # fmt: skip
            self._note_late(day, pos, s, used, source, rows)
            out.extend(rows)
            self.condors.remove(pos)
            self.settled += 1
        for hpos in [h for h in self.hedges if h.expiry <= today]:
            v, used, source = self.settlement_price(day, hpos.expiry, "vix")
            trade = self.new_trade_id()
            if hpos.kind == "future":
                rows = [
                    self._record(day, trade, "", "settle", hpos.id, "VIX future", None,
                                 hpos.expiry, -hpos.quantity, v, v, 0.0, VIX_FUTURE_MULTIPLIER,
                                 (v - hpos.entry_price) * VIX_FUTURE_MULTIPLIER * hpos.quantity,
                                 hpos.layer)
                ]  # fmt: skip
            else:
                assert hpos.lower is not None and hpos.upper is not None
                rows = []
                for k, sign in ((hpos.lower, 1), (hpos.upper, -1)):
                    intrinsic = max(v - k, 0.0)
                    rows.append(
                        self._record(day, trade, "", "settle", hpos.id, "VIX call", k,
                                     hpos.expiry, -sign * hpos.quantity, intrinsic, intrinsic,
                                     0.0, VIX_OPTION_MULTIPLIER,
                                     sign * intrinsic * VIX_OPTION_MULTIPLIER * hpos.quantity,
                                     hpos.layer)
                    )  # fmt: skip
            self._note_late(day, hpos, v, used, source, rows)
            out.extend(rows)
            self.hedges.remove(hpos)
            self.settled += 1
        return out

    def _note_late(
        self, day: int, pos: CondorPos | HedgePos, price: float, used: np.datetime64,
        source: str, rows: list[dict[str, Any]],
    ) -> None:  # fmt: skip
        """Keep a settlement booked after its expiry (which fell in a gap of the history)."""
        if self.market.dates[day] == pos.expiry:
            return
        self.late_settlements.append(
            {
                "position": pos.id,
                "kind": "condor" if isinstance(pos, CondorPos) else pos.kind,
                "expiry": str(pos.expiry),
                "date_used": str(used),
                "price": price,
                "source": source,
                "booked": self._date(day),
                "cash_flow": round(sum(r["cash_flow"] for r in rows), 2),
            }
        )


def _fill(mid: float, slippage: float) -> float:
    """A fill at ``mid`` plus signed ``slippage`` (+ buying, − selling), never below zero."""
    return max(mid + slippage, 0.0)


def _strikes_text(strikes: tuple[float, float, float, float]) -> str:
    return "/".join(f"{k:g}" for k in strikes)
