"""The summary figures of one run, and how a book compares with its baseline.

:func:`summarise` turns the day rows and the trade log into the figures a trader
checks first (P&L, drawdown, trade counts, hedge cost, near-expiry scenario P&L and
effective gamma); :func:`compare` pairs the book with its baseline day by day: the
scenario-P&L reduction with its bootstrap interval (the headline), short gamma on the
same days, the stress windows. Both are plain JSON data; the statistics themselves are
:mod:`alvh_dsl.dryrun.statistics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..lang.evaluate import clean
from .config import DryRunConfig
from .moves import scenario_column
from .rows import column_of, columns_of

if TYPE_CHECKING:  # pragma: no cover
    from .result import RunResult
    from .simulate import Simulator

__all__ = [
    "compare",
    "condor_credit",
    "near_expiry",
    "scenario_matrix",
    "summarise",
    "windows",
]


def summarise(
    rows: Sequence[dict[str, Any]],
    sim: Simulator,
    counts: dict[str, int],
    fired_by_rule: dict[str, int],
    config: DryRunConfig,
) -> dict[str, Any]:
    """The summary figures of one run (a run's :class:`~alvh_dsl.dryrun.rows.DailyRows`
    are read by column)."""
    # Long: one flat table of figures, each a line; splitting it would scatter the keys.
    start = config.starting_equity

    equity = np.array(column_of(rows, "equity"), dtype=np.float64)
    pnl = np.array(column_of(rows, "pnl"), dtype=np.float64)
    peak = np.maximum.accumulate(np.concatenate([[start], equity]))[1:]
    drawdown = peak - equity
    worst = int(np.argmin(pnl)) if len(pnl) else 0
    dd_at = int(np.argmax(drawdown)) if len(drawdown) else 0
    short = np.array(column_of(rows, "eff_gamma_short"), dtype=np.float64)
    short_after = np.array(column_of(rows, "eff_gamma_short_after"), dtype=np.float64)
    long_ = np.array(column_of(rows, "eff_gamma_long"), dtype=np.float64)
    gamma = np.array([abs(g) for g in column_of(rows, "gamma")], dtype=np.float64)
    near = near_expiry(rows, config.risk.near_expiry_dte)
    hedge_pnl = sum(t["cash_flow"] for t in sim.trades if t["instrument"].startswith("VIX")) + (
        rows[-1]["hedge_value"] if rows else 0.0
    )
    hedge_premium = -sum(
        float(t["cash_flow"])
        for t in sim.trades
        if t["instrument"] == "VIX call" and t["action"] != "settle" and t["cash_flow"] < 0
    )
    credit = condor_credit(sim.trades)
    final = float(equity[-1]) if len(equity) else start
    years = len(rows) / 252.0

    def peak_of(values: Any, mask: Any = None) -> float | None:
        vals = values if mask is None else values[mask]
        return clean(float(np.nanmax(vals))) if len(vals) else None  # no days: no figure

    def mean_of(values: Any, mask: Any) -> float | None:
        return clean(float(values[mask].mean())) if mask.any() else None

    def per_year(value: float) -> float | None:
        return clean(round(value / years, 2)) if years > 0 else None

    scenario = _near_expiry_scenarios(rows, near, config)

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
        "near_expiry_dte": config.risk.near_expiry_dte,
        "near_expiry_days": int(near.sum()),
        "peak_short_eff_gamma": peak_of(short),
        "peak_short_eff_gamma_after": peak_of(short_after),
        "near_expiry_peak_short_eff_gamma": peak_of(short, near),
        "near_expiry_mean_short_eff_gamma": mean_of(short, near),
        "peak_long_eff_gamma": peak_of(long_),
        "near_expiry_peak_long_eff_gamma": peak_of(long_, near),
        "peak_model_gamma": peak_of(gamma),
        "near_expiry_peak_model_gamma": peak_of(gamma, near),
        "near_expiry_scenario": scenario,
        "condor_pnl": clean(rows[-1]["condor_pnl"]) if rows else 0.0,
        "condor_credit": clean(round(credit, 2)),
        "condor_credit_per_year": per_year(credit),
        "hedge_premium_per_year": per_year(hedge_premium),
        "hedge_pnl_per_year": per_year(hedge_pnl),
        "hedge_premium_pct_of_credit": clean(round(100.0 * hedge_premium / credit, 2))
        if credit > 0
        else None,
        "expiries_settled_late": len(getattr(sim, "late_settlements", ())),
        "rules_fired": fired_by_rule,
    }


def near_expiry(rows: Sequence[dict[str, Any]], dte: int) -> npt.NDArray[np.bool_]:
    """The days whose front condor, as the rules saw it, was at most ``dte`` days out."""
    days = column_of(rows, "front_dte")
    front = np.array([np.nan if d is None else d for d in days], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.asarray(front <= dte, dtype=np.bool_)


def condor_credit(trades: list[dict[str, Any]]) -> float:
    """$ received opening condors (rolls' new legs included), after slippage and
    commissions: the opening trade of each condor position."""
    opened: dict[str, str] = {}
    total = 0.0
    for t in trades:
        pos = t["position"]
        if not pos.startswith("C") or t["action"] == "settle":
            continue
        first = opened.setdefault(pos, t["trade_id"])
        if first == t["trade_id"]:
            total += float(t["cash_flow"])
    return total


def scenario_matrix(
    rows: Sequence[dict[str, Any]],
    config: DryRunConfig,
    *,
    after: bool,
) -> Any:
    """[days, moves] $ scenario P&L of the daily rows, before or after the day's actions
    (a run's :class:`~alvh_dsl.dryrun.rows.DailyRows` are read by column)."""
    suffix = "_after" if after else ""
    names = [scenario_column(m) + suffix for m in config.risk.scenario_moves]
    columns = columns_of(rows)
    if columns is not None and names:
        # [moves, days] of the same floats, laid out as the rows' matrix is.
        picked = np.array([columns[n] for n in names], dtype=np.float64)
        return np.ascontiguousarray(picked.T)
    # One C call per row picks its values (a list per row costs twice as much).
    pick = itemgetter(*names) if len(names) > 1 else (lambda r: (r[names[0]],))
    return np.array([pick(r) for r in rows], dtype=np.float64).reshape(len(rows), len(names))


def _near_expiry_scenarios(
    rows: Sequence[dict[str, Any]],
    near: npt.NDArray[np.bool_],
    config: DryRunConfig,
) -> list[dict[str, Any]]:
    """Worst, mean, expected loss and CVaR 5 % of the scenario P&L (before actions) over
    near-expiry days."""
    from .statistics import cvar

    pnl = scenario_matrix(rows, config, after=False)[near]
    out = []
    for k, move in enumerate(config.risk.scenario_moves):
        col = pnl[:, k]
        out.append(
            {
                "move": move,
                "worst": clean(float(col.min())) if len(col) else None,
                "mean": clean(float(col.mean())) if len(col) else None,
                "mean_loss": clean(float(np.minimum(col, 0.0).mean())) if len(col) else None,
                "cvar5": clean(cvar(col, 0.05)) if len(col) else None,
            }
        )
    return out


def compare(
    book: RunResult, base: RunResult, config: DryRunConfig, *, headline_only: bool = False
) -> dict[str, Any]:
    """How the book compares with its baseline, paired by date: the scenario P&L over the
    book's near-expiry days with bootstrap intervals (the headline), the short effective
    gamma on the same days, the hedge's cost, and P&L / drawdown. ``headline_only``: just
    ``scenario`` (what a sweep's row reads), the same as in the whole comparison."""
    from .statistics import paired_bootstrap, scenario_statistics

    risk = config.risk
    a, b = book.summary, base.summary
    rows, base_rows = book.daily_rows, base.daily_rows
    near = near_expiry(rows, risk.near_expiry_dte)
    dates = list(column_of(rows, "date"))
    clusters = np.array([e or "" for e in column_of(rows, "front_expiry")], dtype=object)
    moves = list(risk.scenario_moves)
    scen: dict[str, Any] = {}
    # The headline is the book as it stood when the day began (before its actions): the
    # exposure a move would hit before any rule could act, near-expiry condor included.
    for key, after in (("scenario", False), ("scenario_after_actions", True)):
        if after and headline_only:
            return scen
        scen[key] = scenario_statistics(
            dates, moves, scenario_matrix(rows, config, after=after),
            scenario_matrix(base_rows, config, after=after), near, clusters,
            headline_move=risk.headline_move, n_resamples=risk.bootstrap_resamples,
            seed=risk.bootstrap_seed, near_expiry_dte=risk.near_expiry_dte,
        )  # fmt: skip
    short = np.array(column_of(rows, "eff_gamma_short"), dtype=np.float64)
    base_short = np.array(column_of(base_rows, "eff_gamma_short"), dtype=np.float64)
    # Short gamma is a size, a loss in waiting: its negative reads like a P&L.
    gamma = (
        paired_bootstrap(
            -short[near], -base_short[near], "mean", clusters=clusters[near],
            n_resamples=risk.bootstrap_resamples, seed=risk.bootstrap_seed,
        ).to_dict()
        if near.any()
        else None
    )  # fmt: skip
    return {
        **scen,
        "near_expiry_short_eff_gamma": {
            "days": int(near.sum()),
            "book_mean": a["near_expiry_mean_short_eff_gamma"],
            "baseline_mean": clean(float(base_short[near].mean())) if near.any() else None,
            "reduction": gamma,
        },
        "hedge_cost": {
            "premium_paid": a["hedge_premium_paid"],
            "premium_per_year": a["hedge_premium_per_year"],
            "hedge_pnl": a["hedge_pnl"],
            "hedge_pnl_per_year": a["hedge_pnl_per_year"],
            "condor_credit_per_year": a["condor_credit_per_year"],
            "premium_pct_of_credit": a["hedge_premium_pct_of_credit"],
        },
        "total_pnl_difference": clean(a["total_pnl"] - b["total_pnl"]),
        "max_drawdown_ratio": clean(a["max_drawdown"] / b["max_drawdown"])
        if b["max_drawdown"]
        else None,
    }


def windows(book: RunResult, base: RunResult | None, config: DryRunConfig) -> list[dict[str, Any]]:
    """P&L and drawdown, book vs baseline, in each stress window the run covers."""
    from .stress import DEFAULT_STRESS_WINDOWS, stress_windows

    named = [*DEFAULT_STRESS_WINDOWS] + [
        (w.name, w.start.isoformat(), w.end.isoformat()) for w in config.stress_windows
    ]
    dates = list(column_of(book.daily_rows, "date"))
    equity = np.array(column_of(book.daily_rows, "equity"), dtype=np.float64)
    base_equity = (
        np.array(column_of(base.daily_rows, "equity"), dtype=np.float64)
        if base is not None
        else None
    )
    start = config.starting_equity
    found: list[dict[str, Any]] = stress_windows(
        dates, equity, base_equity, named, start_equity_book=start, start_equity_base=start
    )
    return found
