"""Run notes for figures no desk could trade: trades beyond the account, equity beyond 100×.

A book that checks clean can still size itself from the state into absurdity (a
`quantity` computed from equity, a budget of 1000 % of it). The run still completes —
refusing would hide what the rules did — but the report must not let such figures pass as
a result. The measures are those of the checker's W206 (``alvh_dsl.lang.check.plausibility``),
applied to every trade of the run against the equity of the day before it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from ..lang.check.plausibility import VIX_FUTURE_MULTIPLIER, VIX_SHOCK_POINTS
from .rows import column_of

IMPLAUSIBLE_EQUITY = 100  # |equity| beyond this many times the start is flagged in the notes


def exposure(rows: Sequence[Mapping[str, Any]]) -> float:
    """What one decision's trades put at risk, in dollars.

    A condor's worst loss (its wider wing × quantity × multiplier, less the credit), a
    spread's premium, a future's value change on a 10-point VIX move; closing trades
    risk nothing new.
    """
    widths: dict[str, list[float]] = defaultdict(list)
    size: dict[str, float] = defaultdict(float)
    cash = 0.0
    futures = 0.0
    for row in rows:
        instrument = str(row["instrument"])
        quantity = float(row["quantity"])
        if instrument == "VIX future":
            futures += abs(quantity) * VIX_SHOCK_POINTS * VIX_FUTURE_MULTIPLIER
            continue
        cash += float(row["cash_flow"])
        if instrument.startswith("SPX") and row.get("strike") is not None:
            widths[instrument].append(float(row["strike"]))
            size[instrument] = max(size[instrument], abs(quantity) * float(row["multiplier"]))
    spread_risk = max(
        ((max(k) - min(k)) * size[name] for name, k in widths.items() if len(k) > 1),
        default=0.0,
    )
    # a condor's credit lowers its worst loss; a debit paid is lost at worst
    risk = max(spread_risk - cash, 0.0) if spread_risk else max(-cash, 0.0)
    return risk + futures


def implausible_notes(
    label: str,
    daily_rows: Sequence[Mapping[str, Any]],
    trades: Sequence[Mapping[str, Any]],
    starting_equity: float,
) -> list[str]:
    """The notes for one run: trades beyond the day's equity, equity beyond 100× its start."""
    notes = []
    equities = [float(x) for x in column_of(daily_rows, "equity")]
    # Each day's equity before it: the day before's, the start's on the first day.
    days = map(str, column_of(daily_rows, "date"))
    before = [starting_equity, *equities][: len(equities)]
    equity_before: dict[str, float] = dict(zip(days, before, strict=True))
    decisions: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for t in trades:
        if t.get("action") != "settle" and float(t["quantity"]) != 0:
            decisions[str(t["trade_id"])].append(t)
    oversized = []
    for trade_id, rows in decisions.items():
        date = str(rows[0]["date"])
        equity = equity_before.get(date, starting_equity)
        risk = exposure(rows)
        if risk > max(equity, 0.0):
            oversized.append((trade_id, date, risk, equity))
    if oversized:
        trade_id, date, risk, equity = oversized[0]
        notes.append(
            f"{label}: {len(oversized)} trade(s) put more than the day's equity at risk (first "
            f"{trade_id} on {date}: {risk:,.0f} at risk against equity {equity:,.0f}): check "
            "the book's quantities and budgets, the figures are not plausible"
        )
    extreme = max(map(abs, equities), default=starting_equity)
    if extreme > IMPLAUSIBLE_EQUITY * starting_equity:
        notes.append(
            f"{label}: equity reached {extreme:,.0f}, more than {IMPLAUSIBLE_EQUITY}× "
            f"the starting {starting_equity:,.0f}: check the book's quantities "
            "and budgets, the figures are not plausible"
        )
    return notes
