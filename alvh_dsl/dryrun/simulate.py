"""The simulated book: cash, positions, fills, settlement and the trade log.

Positions carry a :class:`~alvh_dsl.dryrun.valuation.Valuation` computed when they open, so
marking the book on a day is a sum of a few precomputed numbers
(:func:`alvh_dsl.dryrun.book_state.mark`). Every trade changes cash by exactly its
recorded cash flow, and

    equity = cash + Σ position values (model mid marks)

holds every day (tests reconcile it to the cent).

Fills: model mid plus slippage per contract and leg (paid on both open and
close), and a commission per contract and leg, both from the config's
:class:`~alvh_dsl.dryrun.config.CostsSection`. Expiries settle at intrinsic
value (SPX at the expiry day's open when the history has it, VIX futures and
options at VIX), with no slippage or commission. What each action does with
these operations is :mod:`alvh_dsl.dryrun.actions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..market.pricing import (
    SPX_MULTIPLIER,
    VIX_FUTURE_MULTIPLIER,
    VIX_OPTION_MULTIPLIER,
    strike_for_delta,
)
from .config import CostsSection
from .market_data import MarketData
from .valuation import (
    Valuation,
    call_prices,
    condor_leg_prices,
    value_call_spread,
    value_condor,
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
        self._ids = 0
        self._trade_ids = 0
        self.settled = 0

    # ------------------------------------------------------------------ ids
    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    def new_trade_id(self) -> str:
        """A new trade id: the legs of one action (a roll's close and open) share one."""
        self._trade_ids += 1
        return f"T{self._trade_ids}"

    def _date(self, day: int) -> str:
        return str(self.market.dates[day])

    def _record(
        self,
        day: int,
        trade: str,
        rule: str,
        action: str,
        position: str,
        instrument: str,
        strike: float | None,
        expiry: np.datetime64,
        quantity: float,
        mid: float,
        fill: float,
        commission: float,
        multiplier: float,
        cash: float,
    ) -> dict[str, Any]:
        row = {
            "date": self._date(day),
            "trade_id": trade,
            "rule": rule,
            "action": action,
            "position": position,
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
            t = dte / 365.0
            p = m.pricing
            kw = {"skew": p.skew, "grid": p.strike_grid, "floor": p.vol_floor}
            args = (m.spx[day], t, m.vix[day], short_delta, m.rate[day], m.dividend[day])
            sp = float(strike_for_delta(*args, call=False, **kw))
            sc = float(strike_for_delta(*args, call=True, **kw))
            strikes = (sp - wings, sp, sc, sc + wings)
        mids = condor_leg_prices(m, day, expiry, strikes)
        slip = self.costs.spx_option_slippage
        comm = self.costs.spx_option_commission * quantity
        credit_mid = float(mids[1] + mids[2] - mids[0] - mids[3])
        credit = credit_mid - 4 * slip
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
            valuation=value_condor(m, day, expiry, strikes),
            rule=rule,
        )
        trade = trade or self.new_trade_id()
        fill = Fill(summary=f"opened {quantity} × {_strikes_text(strikes)} {expiry} "
                    f"for {credit:.2f} credit")  # fmt: skip
        for name, sign, k, mid in zip(LEG_NAMES, LEG_SIGNS, strikes, mids, strict=True):
            px = float(mid) + sign * slip
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
        m = self.market
        mids = condor_leg_prices(m, day, pos.expiry, pos.strikes)
        slip = self.costs.spx_option_slippage
        comm = self.costs.spx_option_commission * quantity
        trade = trade or self.new_trade_id()
        fill = Fill()
        cost = 0.0
        for name, sign, k, mid in zip(LEG_NAMES, LEG_SIGNS, pos.strikes, mids, strict=True):
            # Sell what we own below mid (never below zero), buy back above.
            px = max(float(mid) - sign * slip, 0.0)
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
        row = self.market.curve.expiry[day]
        hits = np.flatnonzero(row == pos.expiry)
        return int(hits[0]) + 1 if len(hits) else None

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
        merge: bool = False,
    ) -> Fill:
        """Buy (quantity > 0) or sell futures: first reduce opposite layers in that month.

        With ``merge`` (a migration), what remains joins an existing layer of the same
        side in that month rather than opening a new one, so that shifting a hedge
        month by month does not multiply ``hedge.layers``.
        """
        m = self.market
        expiry = self.vix_expiry(day, month)
        price = float(m.curve.price[day, month - 1])
        trade = trade or self.new_trade_id()
        fill = Fill()
        remaining = quantity
        for pos in [h for h in self.hedges if h.kind == "future" and h.expiry == expiry]:
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
            slip = self.costs.vix_future_slippage * (1 if remaining > 0 else -1)
            target = self._same_layer(expiry, "future", None, None, remaining) if merge else None
            if target is not None:
                # The value depends on the (averaged) entry price: revalue the layer.
                target.add(remaining, price + slip)
                target.valuation = value_future(m, target.opened, expiry, target.entry_price)
                comm = self.costs.vix_future_commission * abs(remaining)
                fill.trades.append(
                    self._record(day, trade, rule, action, target.id, "VIX future", None,
                                 expiry, remaining, price, price + slip, comm,
                                 VIX_FUTURE_MULTIPLIER, -comm)
                )  # fmt: skip
                remaining = 0
        if remaining:
            slip = self.costs.vix_future_slippage * (1 if remaining > 0 else -1)
            pos = HedgePos(
                id=self._next_id("F"),
                kind="future",
                opened=day,
                expiry=expiry,
                quantity=remaining,
                entry_price=price + slip,
                lower=None,
                upper=None,
                valuation=value_future(m, day, expiry, price + slip),
                rule=rule,
            )
            self.hedges.append(pos)
            comm = self.costs.vix_future_commission * abs(remaining)
            fill.trades.append(
                self._record(day, trade, rule, action, pos.id, "VIX future", None, expiry,
                             remaining, price, price + slip, comm, VIX_FUTURE_MULTIPLIER, -comm)
            )  # fmt: skip
        side = "bought" if quantity > 0 else "sold"
        fill.summary = f"{side} {abs(quantity)} VIX future(s) {expiry} at {price:.2f}"
        return fill

    def _future_trade(
        self, day: int, trade: str, rule: str, action: str, pos: HedgePos, qty: int, price: float
    ) -> dict[str, Any]:
        """Trade ``qty`` (signed) of an existing futures layer at the model price ± slippage."""
        slip = self.costs.vix_future_slippage * (1 if qty > 0 else -1)
        px = price + slip
        comm = self.costs.vix_future_commission * abs(qty)
        # Closing realises (exit − entry) × multiplier on the contracts removed.
        realised = (px - pos.entry_price) * VIX_FUTURE_MULTIPLIER * -qty
        return self._record(
            day, trade, rule, action, pos.id, "VIX future", None, pos.expiry,
            qty, price, px, comm, VIX_FUTURE_MULTIPLIER, realised - comm,
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
        merge: bool = False,
    ) -> Fill:
        """Buy call spreads (``count`` of them, or as many as ``budget`` buys); with
        ``merge`` they join an existing layer with the same strikes and expiry."""
        m = self.market
        expiry = self.vix_expiry(day, month)
        mids = call_prices(m, day, expiry, (lower, upper))
        slip = self.costs.vix_option_slippage
        debit = float(mids[0] - mids[1]) + 2 * slip
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
        existing = self._same_layer(expiry, "call_spread", lower, upper, count) if merge else None
        if existing is not None:
            existing.add(count, debit)
            pos = existing  # its valuation (per unit) does not depend on the entry price
        else:
            pos = HedgePos(
                id=self._next_id("S"),
                kind="call_spread",
                opened=day,
                expiry=expiry,
                quantity=count,
                entry_price=debit,
                lower=lower,
                upper=upper,
                valuation=value_call_spread(m, day, expiry, lower, upper),
                rule=rule,
            )
            self.hedges.append(pos)
        trade = trade or self.new_trade_id()
        comm = self.costs.vix_option_commission * count
        fill = Fill(summary=f"bought {count} × {lower:g}/{upper:g} VIX call spread {expiry} "
                    f"for {debit:.2f}")  # fmt: skip
        for k, mid, sign in ((lower, mids[0], 1), (upper, mids[1], -1)):
            px = float(mid) + sign * slip
            fill.trades.append(
                self._record(day, trade, rule, action, pos.id, "VIX call", k, expiry,
                             sign * count, float(mid), px, comm, VIX_OPTION_MULTIPLIER,
                             -sign * px * VIX_OPTION_MULTIPLIER * count - comm)
            )  # fmt: skip
        return fill

    def _same_layer(
        self, expiry: np.datetime64, kind: str, lower: float | None, upper: float | None, sign: int
    ) -> HedgePos | None:
        for h in self.hedges:
            if (
                h.kind == kind
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
        """Close ``quantity`` contracts (a positive number) of a layer."""
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
            mids = call_prices(m, day, pos.expiry, (pos.lower, pos.upper))
            slip = self.costs.vix_option_slippage
            comm = self.costs.vix_option_commission * quantity
            for k, mid, sign in ((pos.lower, mids[0], 1), (pos.upper, mids[1], -1)):
                px = max(float(mid) - sign * slip, 0.0)
                fill.trades.append(
                    self._record(day, trade, rule, action, pos.id, "VIX call", k, pos.expiry,
                                 -sign * quantity, float(mid), px, comm, VIX_OPTION_MULTIPLIER,
                                 sign * px * VIX_OPTION_MULTIPLIER * quantity - comm)
                )  # fmt: skip
            pos.quantity -= quantity
        if pos.quantity == 0:
            self.hedges.remove(pos)
        fill.summary = f"closed {quantity} of {pos.id}"
        return fill

    # --------------------------------------------------------- settlement
    def settle(self, day: int) -> list[dict[str, Any]]:
        """Settle every position whose expiry is on or before ``day`` at intrinsic value."""
        m = self.market
        today = m.dates[day]
        out: list[dict[str, Any]] = []
        for pos in [c for c in self.condors if c.expiry <= today]:
            s = float(m.spx_settle[day])
            trade = self.new_trade_id()
            for name, sign, k in zip(LEG_NAMES, LEG_SIGNS, pos.strikes, strict=True):
                intrinsic = max(k - s, 0.0) if "put" in name else max(s - k, 0.0)
                out.append(
                    self._record(day, trade, "", "settle", pos.id, f"SPX {name.split()[1]}", k,
                                 pos.expiry, -sign * pos.quantity, intrinsic, intrinsic, 0.0,
                                 SPX_MULTIPLIER, sign * intrinsic * SPX_MULTIPLIER * pos.quantity)
                )  # fmt: skip
            self.condors.remove(pos)
            self.settled += 1
        for hpos in [h for h in self.hedges if h.expiry <= today]:
            v = float(m.vix_settle[day])
            trade = self.new_trade_id()
            if hpos.kind == "future":
                out.append(
                    self._record(day, trade, "", "settle", hpos.id, "VIX future", None,
                                 hpos.expiry, -hpos.quantity, v, v, 0.0, VIX_FUTURE_MULTIPLIER,
                                 (v - hpos.entry_price) * VIX_FUTURE_MULTIPLIER * hpos.quantity)
                )  # fmt: skip
            else:
                assert hpos.lower is not None and hpos.upper is not None
                for k, sign in ((hpos.lower, 1), (hpos.upper, -1)):
                    intrinsic = max(v - k, 0.0)
                    out.append(
                        self._record(day, trade, "", "settle", hpos.id, "VIX call", k,
                                     hpos.expiry, -sign * hpos.quantity, intrinsic, intrinsic,
                                     0.0, VIX_OPTION_MULTIPLIER,
                                     sign * intrinsic * VIX_OPTION_MULTIPLIER * hpos.quantity)
                    )  # fmt: skip
            self.hedges.remove(hpos)
            self.settled += 1
        return out


def _strikes_text(strikes: tuple[float, float, float, float]) -> str:
    return "/".join(f"{k:g}" for k in strikes)
