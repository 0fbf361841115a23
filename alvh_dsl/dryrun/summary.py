"""The summary figures of one run, and how a book compares with its baseline.

:func:`summarise` turns the day rows and the trade log into the figures a trader
checks first (P&L, drawdown, trade counts, peak and near-expiry effective gamma);
:func:`compare` gives the book-to-baseline ratios. Both are plain JSON data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..lang.evaluate import clean
from .config import DryRunConfig

if TYPE_CHECKING:  # pragma: no cover
    from .simulate import Simulator

__all__ = ["compare", "summarise"]


def summarise(
    rows: list[dict[str, Any]],
    sim: Simulator,
    counts: dict[str, int],
    fired_by_rule: dict[str, int],
    config: DryRunConfig,
) -> dict[str, Any]:
    """The summary figures of one run."""
    start = config.starting_equity
    equity = np.array([r["equity"] for r in rows], dtype=np.float64)
    pnl = np.array([r["pnl"] for r in rows], dtype=np.float64)
    peak = np.maximum.accumulate(np.concatenate([[start], equity]))[1:]
    drawdown = peak - equity
    worst = int(np.argmin(pnl)) if len(pnl) else 0
    dd_at = int(np.argmax(drawdown)) if len(drawdown) else 0
    eff = np.array([abs(r["eff_gamma_max"]) for r in rows])
    eff_after = np.array([abs(r["eff_gamma_max_after"]) for r in rows])
    short = np.array([max(0.0, -r["eff_gamma_min"]) for r in rows])
    gamma = np.array([abs(r["gamma"]) for r in rows])
    dte = np.array([np.nan if r["front_dte"] is None else r["front_dte"] for r in rows])
    near = dte <= config.risk.near_expiry_dte
    hedge_pnl = sum(t["cash_flow"] for t in sim.trades if t["instrument"].startswith("VIX")) + (
        rows[-1]["hedge_value"] if rows else 0.0
    )
    hedge_premium = -sum(
        float(t["cash_flow"])
        for t in sim.trades
        if t["instrument"] == "VIX call" and t["action"] != "settle" and t["cash_flow"] < 0
    )
    final = float(equity[-1]) if len(equity) else start
    years = len(rows) / 252.0

    def peak_of(values: Any, mask: Any = None) -> float:
        vals = values if mask is None else values[mask]
        return float(np.nanmax(vals)) if len(vals) else 0.0

    return {
        "start": rows[0]["date"] if rows else None,
        "end": rows[-1]["date"] if rows else None,
        "days": len(rows),
        "starting_equity": start,
        "final_equity": clean(final),
        "total_pnl": clean(final - start),
        "return_pct": clean((final / start - 1.0) * 100.0),
        "cagr_pct": clean(((final / start) ** (1.0 / years) - 1.0) * 100.0)
        if years > 0 and final > 0
        else None,
        "max_drawdown": clean(float(drawdown.max()) if len(drawdown) else 0.0),
        "max_drawdown_date": rows[dd_at]["date"] if rows else None,
        "min_equity": clean(float(equity.min())) if len(equity) else start,
        "min_equity_date": rows[int(np.argmin(equity))]["date"] if rows else None,
        "worst_day": clean(float(pnl[worst]) if len(pnl) else 0.0),
        "worst_day_date": rows[worst]["date"] if rows else None,
        "condors_opened": counts["opens"],
        "rolls": counts["rolls"],
        "closes": counts["closes"],
        "migrations": counts["migrations"],
        "hedge_trades": counts["hedge_trades"],
        "alerts": counts["alerts"],
        "expiries_settled": sim.settled,
        "hedge_pnl": clean(round(hedge_pnl, 2)),
        "hedge_premium_paid": clean(round(hedge_premium, 2)),
        "commissions": clean(round(sum(t["commission"] for t in sim.trades), 2)),
        "trades": len(sim.trades),
        "peak_eff_gamma": clean(peak_of(eff)),
        "peak_eff_gamma_after": clean(peak_of(eff_after)),
        "near_expiry_dte": config.risk.near_expiry_dte,
        "near_expiry_days": int(near.sum()),
        "near_expiry_peak_eff_gamma": clean(peak_of(eff, near)),
        "near_expiry_mean_eff_gamma": clean(float(eff[near].mean())) if near.any() else None,
        "peak_short_eff_gamma": clean(peak_of(short)),
        "near_expiry_peak_short_eff_gamma": clean(peak_of(short, near)),
        "peak_model_gamma": clean(peak_of(gamma)),
        "near_expiry_peak_model_gamma": clean(peak_of(gamma, near)),
        "rules_fired": fired_by_rule,
    }


def compare(book: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Ratios of the book's figures to the baseline's (None where undefined)."""

    def ratio(key: str) -> float | None:
        a, b = book.get(key), base.get(key)
        if a is None or b is None or not b:
            return None
        value: float = clean(float(a) / float(b))
        return value

    return {
        "near_expiry_peak_eff_gamma_ratio": ratio("near_expiry_peak_eff_gamma"),
        "near_expiry_peak_short_eff_gamma_ratio": ratio("near_expiry_peak_short_eff_gamma"),
        "peak_eff_gamma_ratio": ratio("peak_eff_gamma"),
        "total_pnl_difference": clean(book["total_pnl"] - base["total_pnl"]),
        "max_drawdown_ratio": ratio("max_drawdown"),
    }
