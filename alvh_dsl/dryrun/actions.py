"""Carrying out a fired rule's resolved actions on the simulated book.

Action semantics (``docs/dryrun.md``): a roll is one close-and-open under one trade
id, with the net credit or debit recorded; ``close P%`` rounds the contracts half up
(at least one); ``shift P% hedge from A to B`` closes P% of each position in month A and
opens the same notional in month B (futures by notional, with the same sign; call
spreads with the same strikes) in the same layer: a layer keeps its identity, and its
count in ``hedge.layers``, however much of it moves; ``sell`` futures first reduce long
positions of that month, then open a short layer (``buy`` mirrors it, see
:meth:`~alvh_dsl.dryrun.simulate.Simulator.trade_future`).
In a no-hedge baseline every hedge action is disabled (:func:`is_hedge`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..lang.evaluate import ResolvedAction
from ..market.calendars import nearest_expiries, nth_expiry
from .simulate import Fill, Simulator

__all__ = ["HEDGE_KINDS", "apply", "is_hedge", "resolve_expiry"]

HEDGE_KINDS = frozenset({"shift_hedge", "trade_future", "buy_call_spread"})


def is_hedge(a: ResolvedAction) -> bool:
    """Whether an action trades the hedge (what a no-hedge baseline disables)."""
    return a.kind in HEDGE_KINDS or (a.kind == "close" and a.args.get("target") == "hedge")


def apply(sim: Simulator, day: int, rule: str, a: ResolvedAction, no_hedge: bool) -> Fill:
    """Carry out one resolved action on the simulated book."""
    kind, args = a.kind, a.args
    if no_hedge and is_hedge(a):
        return Fill(summary="disabled in the no-hedge baseline", done=False, disabled=True)
    if kind == "open_condor":
        expiry = _expiry(sim, day, args)
        return sim.open_condor(
            day, expiry, float(args["short_delta"]), float(args["wings"]),
            int(args["quantity"]), rule, a.text,
        )  # fmt: skip
    if kind == "roll_condor":
        return _roll(sim, day, rule, a)
    if kind == "close":
        return _close(sim, day, rule, a)
    if kind == "shift_hedge":
        return _shift(sim, day, rule, a)
    if kind == "trade_future":
        n = int(args["count"]) * (1 if args["side"] == "buy" else -1)
        return sim.trade_future(day, int(args["month"]), n, rule, a.text)
    if kind == "buy_call_spread":
        count = int(args["count"]) if "count" in args else None
        budget = float(args["budget"]) if "budget" in args else None
        return sim.buy_call_spread(
            day, int(args["month"]), float(args["lower"]), float(args["upper"]), count, budget,
            rule, a.text,
        )  # fmt: skip
    if kind == "alert":
        return Fill(summary=f"alert: {args['message']}")
    raise ValueError(kind)  # pragma: no cover


def resolve_expiry(day_date: np.datetime64, args: Mapping[str, Any]) -> np.datetime64:
    """The SPX monthly expiry an ``open``/``roll`` action names (month N, or near D days)."""
    if "month" in args:
        found = nth_expiry(day_date, int(args["month"]), "spx")
    else:
        found = nearest_expiries(day_date, round(float(args["near_days"])), "spx").item()
    expiry: np.datetime64 = np.datetime64(found, "D")
    return expiry


def _expiry(sim: Simulator, day: int, args: Mapping[str, Any]) -> np.datetime64:
    """:func:`resolve_expiry` on ``day``, through the market's cache of SPX expiries (a book
    that opens or rolls on many days asks for the same few again and again)."""
    if "month" in args:
        return sim.market.spx_expiry(day, "month", int(args["month"]))
    return sim.market.spx_expiry(day, "near", float(args["near_days"]))


def _share(quantity: int, fraction: float) -> int:
    """Contracts for a fraction of a position: half up, at least one, at most all."""
    return max(1, min(abs(quantity), math.floor(abs(quantity) * fraction + 0.5)))


def _roll(sim: Simulator, day: int, rule: str, a: ResolvedAction) -> Fill:
    args = a.args
    front = sim.front()
    if front is None:
        return Fill(summary="no condor to roll", done=False)
    expiry = _expiry(sim, day, args)
    if expiry == front.expiry:
        return Fill(summary=f"the front condor already expires on {expiry}", done=False)
    trade = sim.new_trade_id()
    quantity = front.quantity  # closing sets it to 0
    closed = sim.close_condor(day, front, quantity, rule, a.text, trade)
    wings = front.strikes[1] - front.strikes[0]
    keeping = args.get("keeping", "delta")
    strikes = None
    entry_spot = None
    if keeping == "strikes":
        strikes = front.strikes
        entry_spot = front.entry_spot
    elif keeping == "width":
        s = float(sim.market.spx[day])
        sp = s - (front.entry_spot - front.strikes[1])
        sc = s + (front.strikes[2] - front.entry_spot)
        grid = sim.market.pricing.strike_grid
        sp, sc = round(sp / grid) * grid, round(sc / grid) * grid
        strikes = (sp - wings, sp, sc, sc + (front.strikes[3] - front.strikes[2]))
    opened = sim.open_condor(
        day, expiry, front.target_delta, wings, quantity, rule, a.text, trade,
        strikes, entry_spot,
    )  # fmt: skip
    net = sum(t["cash_flow"] for t in closed.trades + opened.trades)
    what = "credit" if net >= 0 else "debit"
    summary = f"rolled: {closed.summary}; {opened.summary}; net {what} ${abs(net):,.2f}"
    if not opened.done:
        summary = f"rolled out only: {closed.summary}; not reopened: {opened.summary}"
    return Fill(closed.trades + opened.trades, summary, True)


def _close(sim: Simulator, day: int, rule: str, a: ResolvedAction) -> Fill:
    args = a.args
    fraction = float(args.get("fraction", 1.0))
    target = args["target"]
    trade = sim.new_trade_id()
    fills: list[Fill] = []
    if target in ("condor", "all"):
        front = sim.front()
        condors = [front] if (target == "condor" and front is not None) else list(sim.condors)
        for c in condors:
            fills.append(
                sim.close_condor(day, c, _share(c.quantity, fraction), rule, a.text, trade)
            )
    if target in ("hedge", "all"):
        month = args.get("month")
        for h in list(sim.hedges):
            if month is None or sim.hedge_month(day, h) == int(month):
                qty = _share(h.quantity, fraction)
                fills.append(sim.close_hedge(day, h, qty, rule, a.text, trade))
    if not fills:
        return Fill(summary=f"nothing to close ({a.text})", done=False)
    trades = [t for f in fills for t in f.trades]
    return Fill(trades, "; ".join(f.summary for f in fills), True)


def _shift(sim: Simulator, day: int, rule: str, a: ResolvedAction) -> Fill:
    args = a.args
    src, dst = int(args["from_month"]), int(args["to_month"])
    fraction = float(args["fraction"])
    positions = [h for h in sim.hedges if sim.hedge_month(day, h) == src]
    if not positions:
        return Fill(summary=f"no hedge in VIX month {src}", done=False)
    curve = sim.market.curve
    f_src, f_dst = float(curve.price[day, src - 1]), float(curve.price[day, dst - 1])
    trade = sim.new_trade_id()
    fills: list[Fill] = []
    for h in positions:
        qty = _share(h.quantity, fraction)
        # Read before closing: closing the whole position leaves a quantity of zero.
        side = int(np.sign(h.quantity))
        src_price = float(h.valuation.mark[h.valuation.row(day)]) if h.kind == "future" else f_src
        fills.append(sim.close_hedge(day, h, qty, rule, a.text, trade))
        if h.kind == "future":
            # Same notional: qty × $1,000 × F(A) = n × $1,000 × F(B).
            n = max(1, round(qty * src_price / f_dst))
            fills.append(sim.trade_future(day, dst, n * side, rule, a.text, trade, layer=h.layer))
        else:
            assert h.lower is not None and h.upper is not None
            n = max(1, round(qty * f_src / f_dst))
            fills.append(
                sim.buy_call_spread(
                    day, dst, h.lower, h.upper, n, None, rule, a.text, trade, layer=h.layer
                )
            )
    trades = [t for f in fills for t in f.trades]
    return Fill(trades, "; ".join(f.summary for f in fills), True)
