"""The sweep's table: one row of headline figures per variant, ranked, with its frontier.

:func:`figures` reads a run's summary (``DryRunResult.summary``, or ``summary.json``) into
the figures a sweep compares. :func:`build_frame` lays the variants out, one row each
(sorted by variant number, so the table does not depend on the order workers finished),
with the in-sample and out-of-sample figures side by side after ``--split``;
:func:`rank_and_frontier` ranks them (on the in-sample part when there is one) and marks
the frontier of hedge cost against crash-loss reduction; :func:`split_report` says how
the in-sample best did out of sample, and how many variants were tried.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "FIGURES",
    "LOWER_IS_BETTER",
    "build_frame",
    "figures",
    "rank_and_frontier",
    "split_report",
    "walk_forward_report",
]

#: The figures of a row, in column order, with what each one is.
FIGURES: dict[str, str] = {
    "pnl": "total P&L, $",
    "cagr_pct": "compound annual growth, %",
    "max_drawdown": "largest peak-to-trough fall of equity, $",
    "worst_day": "worst day's P&L, $",
    "rolls": "condor rolls",
    "migrations": "hedge shifts to a later month",
    "hedge_cost_per_year": "hedge premium paid per year, $",
    "hedge_pnl_per_year": "hedge P&L per year, $",
    "crash_loss_reduction": "near expiry, the share of the headline move's expected loss "
    "the hedge takes away against the paired baseline (1 - book / baseline)",
    "crash_loss_reduction_low": "its 95 % bootstrap interval, low end",
    "crash_loss_reduction_high": "its 95 % bootstrap interval, high end",
    "near_expiry_days": "near-expiry days the reduction rests on",
    "near_expiry_cycles": "expiry cycles among them (the bootstrap's clusters)",
    "rule_coverage_pct": "share of the book's rules that fired at least once, %",
}

#: Figures where a smaller value is the better one (for ranking).
LOWER_IS_BETTER = frozenset({"max_drawdown", "hedge_cost_per_year"})


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def figures(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The row figures of one run's summary (see :data:`FIGURES`); a figure the run does
    not have (no baseline, no near-expiry day, no coverage) is ``None``."""
    book = summary["book"]
    out: dict[str, Any] = {
        "pnl": _num(book.get("total_pnl")),
        "cagr_pct": _num(book.get("cagr_pct")),
        "max_drawdown": _num(book.get("max_drawdown")),
        "worst_day": _num(book.get("worst_day")),
        "rolls": book.get("rolls"),
        "migrations": book.get("migrations"),
        "hedge_cost_per_year": _num(book.get("hedge_premium_per_year")),
        "hedge_pnl_per_year": _num(book.get("hedge_pnl_per_year")),
        "crash_loss_reduction": None,
        "crash_loss_reduction_low": None,
        "crash_loss_reduction_high": None,
        "near_expiry_days": book.get("near_expiry_days"),
        "near_expiry_cycles": None,
        "rule_coverage_pct": None,
    }
    scenario = (summary.get("comparison") or {}).get("scenario")
    if scenario:
        out["near_expiry_days"] = scenario.get("days")
        out["near_expiry_cycles"] = scenario.get("clusters")
        headline = scenario.get("headline_move")
        for move in scenario.get("moves", []):
            if headline is not None and math.isclose(move["move"], headline, abs_tol=1e-9):
                # The expected loss (mean of min(P&L, 0)): the headline of the dry-run.
                interval = (move.get("reduction") or {}).get("mean_loss") or {}
                out["crash_loss_reduction"] = _num(interval.get("value"))
                out["crash_loss_reduction_low"] = _num(interval.get("low"))
                out["crash_loss_reduction_high"] = _num(interval.get("high"))
    coverage = (summary.get("coverage") or {}).get("book")
    if coverage:
        fired = sum(1 for rule in coverage if rule.get("fired"))
        out["rule_coverage_pct"] = round(100.0 * fired / len(coverage), 6)
    elif book.get("rules_fired"):
        # A run without its audit trail (a sweep's variant) has no coverage; its
        # per-rule fire counts are the days the coverage's ``fired`` counts.
        counts = book["rules_fired"].values()
        fired = sum(1 for n in counts if n)
        out["rule_coverage_pct"] = round(100.0 * fired / len(counts), 6)
    return out


def build_frame(
    variants: Sequence[Mapping[str, str]],
    results: Mapping[tuple[int, str], Mapping[str, Any]],
    parts: Sequence[str],
    commands: Mapping[tuple[int, str], str],
) -> pd.DataFrame:
    """One row per variant: ``variant``, the params as written, then each part's figures
    (prefixed ``in_`` / ``out_`` after a split) and the ``alvh dryrun`` command of each."""
    import pandas as pd

    rows = []
    for i, overrides in enumerate(variants):
        row: dict[str, Any] = {"variant": i, **overrides}
        for part in parts:
            prefix = "" if part == "all" else f"{part}_"
            for name in FIGURES:
                row[prefix + name] = results[(i, part)].get(name)
        for part in parts:
            row["command" if part == "all" else f"{part}_command"] = commands[(i, part)]
        rows.append(row)
    frame = pd.DataFrame(rows)
    for name in variants[0] if variants else ():
        frame[name] = frame[name].astype(str)
    return frame


def rank_and_frontier(frame: pd.DataFrame, rank: str, part: str) -> pd.DataFrame:
    """Add ``rank`` (1 = best by ``rank`` on ``part``'s figures; ties by variant number,
    variants without the figure last) and ``frontier`` (no other variant has a hedge cost
    at most its own and a crash-loss reduction at least its own, one of them strictly)."""
    if rank not in FIGURES:
        raise ValueError(f"cannot rank by {rank!r}; one of: {', '.join(FIGURES)}")
    prefix = "" if part == "all" else f"{part}_"
    values = [_num(v) for v in frame[prefix + rank]]
    sign = 1.0 if rank in LOWER_IS_BETTER else -1.0
    order = sorted(
        range(len(values)),
        key=lambda i: (values[i] is None, sign * (values[i] or 0.0), int(frame["variant"][i])),
    )
    ranks = [0] * len(values)
    for position, i in enumerate(order, start=1):
        ranks[i] = position
    frame = frame.copy()
    frame["rank"] = ranks
    cost = [_num(v) for v in frame[prefix + "hedge_cost_per_year"]]
    gain = [_num(v) for v in frame[prefix + "crash_loss_reduction"]]
    frame["frontier"] = [_on_frontier(i, cost, gain) for i in range(len(cost))]
    return frame


def _on_frontier(i: int, cost: list[float | None], gain: list[float | None]) -> bool:
    ci, gi = cost[i], gain[i]
    if ci is None or gi is None:
        return False
    for j in range(len(cost)):
        cj, gj = cost[j], gain[j]
        if j == i or cj is None or gj is None:
            continue
        if cj <= ci and gj >= gi and (cj < ci or gj > gi):
            return False
    return True


def split_report(frame: pd.DataFrame, rank: str, parts: Sequence[str], size: int) -> dict[str, Any]:
    """What the sweep found, honestly: how many variants were tried (of a grid of
    ``size``), the best by ``rank`` on the ranking part and, after a split, how it did
    out of sample (its out-of-sample figure and rank among all variants there)."""
    ranked_on = "in" if "in" in parts else "all"
    prefix = "" if ranked_on == "all" else "in_"
    best = frame.loc[frame["rank"] == 1].iloc[0] if len(frame) else None
    report: dict[str, Any] = {
        "variants_tried": len(frame),
        "grid_size": size,
        "rank_by": rank,
        "ranked_on": ranked_on,
        "best_variant": None if best is None else int(best["variant"]),
        "best_in_sample": None if best is None else _num(best[prefix + rank]),
    }
    if "out" in parts and best is not None:
        oos = frame.assign(_oos=[_num(v) for v in frame["out_" + rank]])
        out_rank = rank_and_frontier(frame, rank, "out")["rank"]
        values = [v for v in oos["_oos"] if v is not None]
        report.update(
            best_out_of_sample=_num(best["out_" + rank]),
            best_out_of_sample_rank=int(out_rank[frame["rank"] == 1].iloc[0]),
            out_of_sample_median=_median(values),
            in_sample_median=_median([_num(v) for v in frame["in_" + rank] if _num(v) is not None]),
        )
    report["text"] = _report_text(report)
    return report


def _median(values: Sequence[Any]) -> float | None:
    clean: list[float] = sorted(float(v) for v in values if v is not None)
    if not clean:
        return None
    mid = len(clean) // 2
    return clean[mid] if len(clean) % 2 else (clean[mid - 1] + clean[mid]) / 2


def _fmt(value: Any, figure: str = "") -> str:
    """``value`` as a desk reads ``figure``: dollars to the dollar with thousands
    separators, percentages and shares as percent, anything else to 4 significant digits
    (never in exponent form: 29,070, not 2.907e+04)."""
    if value is None:
        return "n/a"
    what = FIGURES.get(figure, "")
    if what.endswith(", $"):
        return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"
    if what.endswith(", %"):
        return f"{value:,.2f} %"
    if figure.startswith("crash_loss_reduction"):  # a share: 1 - book / baseline
        return f"{value * 100:,.1f} %"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _report_text(r: dict[str, Any]) -> str:
    tried = f"{r['variants_tried']:,} variant(s) tried"
    if r["grid_size"] != r["variants_tried"]:
        tried += f" (a sample of a {r['grid_size']:,}-variant grid)"
    if r["best_variant"] is None:
        return tried + "."
    where = "in sample" if r["ranked_on"] == "in" else "over the whole window"
    rank = r["rank_by"]
    text = (
        f"{tried}; the best by {rank} {where} is variant {r['best_variant']} "
        f"({_fmt(r['best_in_sample'], rank)})."
    )
    if "best_out_of_sample" in r:
        text += (
            f" Out of sample it gives {_fmt(r['best_out_of_sample'], rank)}, rank "
            f"{r['best_out_of_sample_rank']} of {r['variants_tried']} there (median of all "
            f"variants: {_fmt(r['out_of_sample_median'], rank)} out of sample, "
            f"{_fmt(r['in_sample_median'], rank)} in sample)."
        )
        text += (
            " The best of many variants in sample is expected to do worse out of sample: "
            "judge it by its out-of-sample rank, not its in-sample figure."
        )
    return text


def walk_forward_report(
    frame: pd.DataFrame, rank: str, parts: Sequence[str], size: int
) -> dict[str, Any]:
    """Walk-forward over the parts ``f1``..``fK``: for each part but the last, the best
    variant by ``rank`` there and its rank on the next part; their mean against
    ``(N + 1) / 2``, what picking at random would give."""
    folds: list[dict[str, Any]] = []
    for here, after in itertools.pairwise(parts):
        ranked = rank_and_frontier(frame, rank, here)
        following = rank_and_frontier(frame, rank, after)["rank"]
        best = ranked["rank"] == 1
        folds.append(
            {
                "in": here,
                "out": after,
                "best_variant": int(frame.loc[best, "variant"].iloc[0]),
                "best_in_sample": _num(frame.loc[best, f"{here}_{rank}"].iloc[0]),
                "best_out_of_sample": _num(frame.loc[best, f"{after}_{rank}"].iloc[0]),
                "best_out_of_sample_rank": int(following[best].iloc[0]),
            }
        )
    n = len(frame)
    out_ranks = [int(f["best_out_of_sample_rank"]) for f in folds]
    mean_rank = sum(out_ranks) / len(out_ranks) if out_ranks else None
    report: dict[str, Any] = {
        "variants_tried": n,
        "grid_size": size,
        "rank_by": rank,
        "ranked_on": parts[-1],
        "best_variant": int(frame.loc[frame["rank"] == 1, "variant"].iloc[0]) if n else None,
        "folds": folds,
        "mean_out_of_sample_rank": mean_rank,
        "chance_rank": (n + 1) / 2,
    }
    tried = f"{n:,} variant(s) tried"
    if size != n:
        tried += f" (a sample of a {size:,}-variant grid)"
    steps = "; ".join(
        f"best on {f['in']} (variant {f['best_variant']}) ranks {f['best_out_of_sample_rank']} "
        f"of {n} on {f['out']}"
        for f in folds
    )
    report["text"] = (
        f"{tried}, walk-forward over {len(parts)} parts by {rank}: {steps}. Mean "
        f"out-of-sample rank of each part's best: {_fmt(mean_rank)} (picking at random: "
        f"{_fmt(report['chance_rank'])})."
    )
    return report
