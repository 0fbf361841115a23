"""The panels of the dry-run's figure, one function per panel; :mod:`.chart` lays
them out. Each draws on the matplotlib axes it is given, sets its title and labels, and
writes "no data" across a panel with nothing to draw rather than an empty or zero line.

matplotlib and NumPy are imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..rows import column_of, columns_of
from .document import applied_actions
from .text import NO_DATA, format_move

if TYPE_CHECKING:  # pragma: no cover
    from ..result import DryRunResult, RunResult

__all__ = [
    "BASE",
    "BOOK",
    "MARKERS",
    "MONTH_COLORS",
    "column",
    "columns_cached",
    "dates",
    "drawdown",
    "drawdown_panel",
    "equity_panel",
    "extremes",
    "gamma_bin",
    "gamma_panel",
    "headline_move",
    "hedge_months",
    "hedge_notional_panel",
    "marker_days",
    "market_panel",
    "move_rows",
    "no_data",
    "pnl_split_panel",
    "scenario_moves_panel",
    "scenario_pairs",
    "scenario_scatter_panel",
]

BOOK, BASE = "#1f4e79", "#b85c00"
_MONTHS = 9  # VIX futures months of the daily hedge_notional_mK columns
# One fixed colour per VIX month, so that a month looks the same in every report: the
# front month warm (the one a migration empties), later months cooler.
MONTH_COLORS = (
    "#d7301f", "#2b8cbe", "#41ab5d", "#807dba", "#fd8d3c",
    "#1b7837", "#6a51a3", "#969696", "#8c6d31",
)  # fmt: skip
#: Bin the gamma series by week up to this many bins, by month beyond: a 20-year run
#: has ~1,000 weeks, one per pixel column of the figure — a barcode again.
MAX_WEEKLY_BINS = 320


#: While a figure is drawn (:func:`columns_cached`): (run's rows, key) → the column, so
#: the panels' many reads of one run's columns each pass over the rows once.
_CACHE: dict[tuple[int, str], tuple[Sequence[dict[str, Any]], Any]] | None = None


@contextmanager
def columns_cached() -> Iterator[None]:
    """Within it, :func:`dates` and :func:`column` compute each run's column once (and
    hand out copies); the cache is dropped on leaving, holding no run beyond a figure."""
    global _CACHE
    outer, _CACHE = _CACHE, _CACHE if _CACHE is not None else {}
    try:
        yield
    finally:
        _CACHE = outer


def _cached(run: RunResult, key: str, make: Callable[[Sequence[dict[str, Any]]], Any]) -> Any:
    rows = run.daily_rows
    if _CACHE is None:
        return make(rows)
    hit = _CACHE.get((id(rows), key))
    if hit is None or hit[0] is not rows:  # the rows are held, so their id is not reused
        hit = _CACHE[(id(rows), key)] = (rows, make(rows))
    return hit[1].copy()


def _dates(rows: Sequence[dict[str, Any]]) -> Any:
    import numpy as np

    return np.array(column_of(rows, "date"), dtype="datetime64[D]")


def dates(run: RunResult) -> Any:
    """The run's trading days as ``datetime64[D]``."""
    return _cached(run, "\0date", _dates)


def column(run: RunResult, key: str) -> Any:
    """One daily column as floats (NaN where None or where the engine has no such key)."""
    import numpy as np

    def make(rows: Sequence[dict[str, Any]]) -> Any:
        # NumPy turns None into NaN for a float array: the row's value or its absence.
        kept = columns_of(rows)
        if kept is not None:
            values = kept.get(key)
            return np.array(values if values is not None else [None] * len(rows), np.float64)
        return np.array([r.get(key) for r in rows], dtype=np.float64)

    if _CACHE is not None and key in _FIGURE_COLUMNS and columns_of(run.daily_rows) is None:
        _prefetch(run.daily_rows)
    return _cached(run, key, make)


#: The daily columns the figure's panels read (the headline scenario's aside, which
#: depends on the config). Read together, once per run, by :func:`_prefetch`.
_FIGURE_COLUMNS = frozenset(
    {"spx", "vix", "equity", "condor_pnl", "hedge_pnl", "gamma", "eff_gamma_long",
     "eff_gamma_short", "front_dte", *(f"hedge_notional_m{k}" for k in range(1, _MONTHS + 1))}
)  # fmt: skip


def _prefetch(rows: Sequence[dict[str, Any]]) -> None:
    """Every :data:`_FIGURE_COLUMNS` column of ``rows`` into the cache, from one pass over
    the rows: ~5,000 dicts visited once each, not once per column (the rows are scattered
    in memory, so each pass mostly waits on it; ~2x less time). The arrays are those of
    :func:`column` (``np.array`` of the same values, None as NaN). Rows missing one of
    the keys are left to :func:`column`, key by key."""
    import operator

    import numpy as np

    assert _CACHE is not None
    mark = (id(rows), "\0prefetched")
    hit = _CACHE.get(mark)
    if hit is not None and hit[0] is rows:
        return
    _CACHE[mark] = (rows, None)
    keys = sorted(k for k in _FIGURE_COLUMNS if (id(rows), k) not in _CACHE)
    if not rows or len(keys) < 2:  # itemgetter of one key gives the value, not a tuple
        return
    try:
        values = list(zip(*map(operator.itemgetter(*keys), rows), strict=True))
    except KeyError:
        return
    for key, col in zip(keys, values, strict=True):
        _CACHE[(id(rows), key)] = (rows, np.array(col, dtype=np.float64))


def drawdown(run: RunResult) -> Any:
    """Equity minus its running peak (the starting equity included), ≤ 0."""
    import numpy as np

    equity = column(run, "equity")
    start = float(run.summary.get("starting_equity") or (equity[0] if len(equity) else 0.0))
    peak = np.maximum.accumulate(np.maximum(equity, start))
    return equity - peak


def no_data(ax: Any, why: str = "") -> None:
    """Write "no data" (and why) across an empty panel, without the empty axis's ticks
    (the date axis is shared with the other panels, so its ticks stay)."""
    label = NO_DATA + (f"\n({why})" if why else "")
    ax.set_yticks([])
    if len(ax.get_shared_x_axes().get_siblings(ax)) == 1:
        ax.set_xticks([])
    ax.text(
        0.5, 0.5, label, transform=ax.transAxes, ha="center", va="center",
        fontsize=11, color="0.45",
    )  # fmt: skip


def _label(base: RunResult | None) -> str:
    return base.label if base is not None else ""


def _legend(ax: Any, handles: Any = None, labels: Any = None) -> None:
    """The legend outside the panel on the right, if the panel has anything labelled."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)


# ---------------------------------------------------------------- near-expiry scenario


def headline_move(result: DryRunResult) -> float:
    """The SPX move of the headline (the summary's, else the config's), as a fraction."""
    scenario = (result.summary.get("comparison") or {}).get("scenario") or {}
    return float(scenario.get("headline_move", result.config.risk.headline_move))


def scenario_pairs(result: DryRunResult) -> tuple[Any, Any]:
    """Each near-expiry day's $ P&L under the headline move, before the day's actions:
    ``(book, baseline)``, paired by day (the baseline's rows are the same dates); the
    baseline array is empty without a baseline."""
    import numpy as np

    from ..moves import scenario_column
    from ..summary import near_expiry

    name = scenario_column(headline_move(result))
    near = near_expiry(result.run.daily_rows, result.config.risk.near_expiry_dte)
    book = column(result.run, name)[near]
    if result.baseline is None:
        return book, np.array([], dtype=np.float64)
    return book, column(result.baseline, name)[near]


def panel_titles(result: DryRunResult) -> list[str]:
    """The figure's eight panel titles, the answer first: one list that the PNG
    (these panels) and the SVG (:mod:`~alvh_dsl.dryrun.report.svg_panels`) both read,
    so the two figures cannot name their panels differently."""
    move = format_move(headline_move(result))
    return [
        f"Near-expiry P&L under a {move} SPX move, paired by day",
        "Near-expiry P&L by SPX move: CVaR 5 % and expected loss",
        "Hedge notional by VIX futures month (after each day's actions)",
        "Cumulative P&L: condors vs hedge",
        "SPX and VIX, with the trades applied",
        "Equity",
        "Drawdown from the running peak",
        f"Effective gamma, {gamma_bin(result.run)}ly extremes "
        "(whole-book revaluation, VIX hedges included)",
    ]


def scenario_scatter_panel(ax: Any, result: DryRunResult) -> None:
    """Book against baseline under the headline move, one dot per near-expiry day, with
    the diagonal (no difference) and the two expected losses (the headline's statistic)."""
    import numpy as np

    book, base = scenario_pairs(result)
    if result.baseline is None or not len(book) or not np.isfinite(book).all():
        no_data(ax, "no baseline to pair with" if result.baseline is None else "no near-expiry day")
        return
    lo, hi = float(min(book.min(), base.min())), float(max(book.max(), base.max()))
    pad = 0.05 * (hi - lo) or max(1.0, abs(hi))
    lo, hi = lo - pad, hi + pad
    ax.plot([lo, hi], [lo, hi], color="0.55", lw=0.8, ls="--", label="no difference")
    ax.axhline(0.0, color="0.85", lw=0.6)
    ax.axvline(0.0, color="0.85", lw=0.6)
    ax.scatter(base, book, s=16, color=BOOK, alpha=0.7, lw=0, label=f"a day ({len(book)})")
    # The headline statistic, the expected loss (a gain counts as none).
    losses = [float(np.minimum(v, 0.0).mean()) for v in (base, book)]
    ax.scatter(*losses, s=70, marker="X", color="#d7301f", zorder=3, label="expected losses")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel(f"{_label(result.baseline)}, $")
    ax.set_ylabel("book (hedged), $")
    ax.legend(loc="upper left", fontsize=8)


def move_rows(result: DryRunResult) -> tuple[list[Any], str]:
    """``([(move, book figures, baseline figures or None), ...], dot key)``: the
    near-expiry scenario figures under every move; the dot key is ``mean_loss`` (the
    expected loss) or, for a summary without it, ``mean``."""
    scenario = (result.summary.get("comparison") or {}).get("scenario")
    if scenario is not None:
        rows = [(r["move"], r["book"], r["baseline"]) for r in scenario["moves"]]
    else:
        rows = [(r["move"], r, None) for r in result.run.summary.get("near_expiry_scenario") or ()]
    return rows, "mean_loss" if rows and "mean_loss" in rows[0][1] else "mean"


def scenario_moves_panel(ax: Any, result: DryRunResult) -> None:
    """Near-expiry CVaR 5 % (bars) and expected loss (dots; the mean where a summary has
    no expected loss) under every move, book and baseline."""
    import numpy as np

    scenario = (result.summary.get("comparison") or {}).get("scenario")
    rows, dot = move_rows(result)
    if not rows or all(r[1].get(dot) is None for r in rows):
        no_data(ax, "no near-expiry day")
        return
    x = np.arange(len(rows), dtype=np.float64)
    sides = [("book", BOOK, 1)] + ([(_label(result.baseline), BASE, 2)] if scenario else [])
    width = 0.8 / len(sides)
    for k, (label, color, at) in enumerate(sides):
        offset = x + (k - (len(sides) - 1) / 2) * width
        cvar = [np.nan if r[at]["cvar5"] is None else r[at]["cvar5"] for r in rows]
        loss = [np.nan if r[at][dot] is None else r[at][dot] for r in rows]
        ax.bar(offset, cvar, width * 0.95, color=color, alpha=0.45, label=f"{label}: CVaR 5 %")
        name = "expected loss" if dot == "mean_loss" else "mean"
        ax.scatter(offset, loss, s=22, color=color, zorder=3, label=f"{label}: {name}")
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_xticks(x, [format_move(r[0]) for r in rows])
    ax.set_xlabel("SPX move")
    ax.set_ylabel("$ P&L")
    ax.legend(loc="best", fontsize=7)


# ------------------------------------------------------------------------ over time


def hedge_months(run: RunResult) -> list[tuple[int, Any]]:
    """``[(VIX month, daily notional), ...]`` for the months ever held (NaN as 0)."""
    import numpy as np

    months = []
    for k in range(1, _MONTHS + 1):
        values = np.nan_to_num(column(run, f"hedge_notional_m{k}"))
        if values.any():
            months.append((k, values))
    return months


def hedge_notional_panel(ax: Any, run: RunResult) -> None:
    """The hedge's notional by VIX futures month, stacked: migration out of the front
    month shows as area moving up the stack."""

    ax.set_ylabel("notional ($)")
    months = hedge_months(run)
    if not months:
        no_data(ax, "no hedge held")
        return
    colors = [MONTH_COLORS[k - 1] for k, _ in months]
    ax.stackplot(
        dates(run), *[v for _, v in months], labels=[f"VIX month {k}" for k, _ in months],
        colors=colors, lw=0,
    )  # fmt: skip
    _legend(ax)


def pnl_split_panel(ax: Any, run: RunResult, base: RunResult | None) -> None:
    """Cumulative P&L of the condors and of the hedge, their total, and the baseline's."""
    ax.set_ylabel("P&L ($)")
    x = dates(run)
    if not len(x):
        no_data(ax)
        return
    start = float(run.summary.get("starting_equity") or 0.0)
    ax.plot(x, column(run, "equity") - start, color="black", lw=1.1, label="book: total")
    ax.plot(x, column(run, "condor_pnl"), color=BOOK, lw=1.0, label="book: condors")
    ax.plot(x, column(run, "hedge_pnl"), color="#756bb1", lw=1.0, label="book: hedge")
    if base is not None:
        total = column(base, "equity") - float(base.summary.get("starting_equity") or start)
        ax.plot(dates(base), total, color=BASE, lw=1.0, ls="--", label=f"{_label(base)}: total")
    ax.axhline(0.0, color="0.6", lw=0.6)
    _legend(ax)


# kind of applied action → (marker, colour, label, drawn on the VIX line rather than SPX)
MARKERS = (
    (("roll_condor",), "v", "#e6550d", "roll", False),
    (("close",), "x", "#31a354", "close", False),
    (("buy_call_spread", "trade_future"), "^", "#756bb1", "hedge bought or sold", True),
    (("shift_hedge",), "D", "#dd1c77", "hedge migration", True),
)


def marker_days(run: RunResult, kinds: tuple[str, ...]) -> list[int]:
    """The indices into the run's days on which an action of ``kinds`` was applied."""
    index = _day_index(run.daily_rows)
    return sorted({index[a["date"]] for a in applied_actions(run, kinds) if a["date"] in index})


def _day_index(rows: Sequence[dict[str, Any]]) -> dict[Any, int]:
    """Each day's index into ``rows``, made once per run while a figure is drawn (the
    four kinds of marker each read it)."""
    if _CACHE is None:
        return {d: i for i, d in enumerate(column_of(rows, "date"))}
    hit = _CACHE.get((id(rows), "\0index"))
    if hit is None or hit[0] is not rows:
        index_of = {d: i for i, d in enumerate(column_of(rows, "date"))}
        hit = _CACHE[(id(rows), "\0index")] = (rows, index_of)
    index: dict[Any, int] = hit[1]
    return index  # read only: not handed out


def market_panel(ax: Any, run: RunResult) -> Any:
    """SPX (left axis) and VIX (right axis) with markers on the days a roll, a close, a
    hedge trade or a migration was applied. Returns the VIX axes."""
    x = dates(run)
    spx, vix = column(run, "spx"), column(run, "vix")
    ax.set_ylabel("SPX")
    ax_vix = ax.twinx()
    ax_vix.set_ylabel("VIX")
    if not len(x):
        no_data(ax)
        return ax_vix
    ax.plot(x, spx, color="0.2", lw=0.9, label="SPX (left)")
    ax_vix.plot(x, vix, color="#d95f0e", lw=0.7, alpha=0.8, label="VIX (right)")
    for kinds, marker, color, label, on_vix in MARKERS:
        at = marker_days(run, kinds)
        if not at:
            continue
        target, y = (ax_vix, vix) if on_vix else (ax, spx)
        target.scatter(
            x[at], y[at], marker=marker, s=22, color=color, zorder=3, lw=0.8,
            label=f"{label} ({len(at)} day{'s' if len(at) != 1 else ''})",
        )  # fmt: skip
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax_vix.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", bbox_to_anchor=(1.06, 1.0), fontsize=8)
    return ax_vix


def equity_panel(ax: Any, run: RunResult, base: RunResult | None) -> None:
    """Equity of the book and the baseline, and the starting equity."""
    ax.set_ylabel("equity ($)")
    ax.plot(dates(run), column(run, "equity"), color=BOOK, lw=1.2, label="book")
    if base is not None:
        ax.plot(dates(base), column(base, "equity"), color=BASE, lw=1.0, label=_label(base))
    start = run.summary.get("starting_equity")
    if start is not None:
        ax.axhline(float(start), color="0.6", lw=0.8, ls="--", label="starting equity")
    _legend(ax)


def drawdown_panel(ax: Any, run: RunResult, base: RunResult | None) -> None:
    """Drawdown from the running peak, book (filled) and baseline."""
    ax.set_ylabel("drawdown ($)")
    ax.fill_between(dates(run), drawdown(run), 0.0, color=BOOK, alpha=0.35, lw=0, label="book")
    if base is not None:
        ax.plot(dates(base), drawdown(base), color=BASE, lw=1.0, label=_label(base))
    _legend(ax)


def extremes(days: Any, values: Any, how: str, by: str) -> tuple[Any, Any]:
    """``values`` reduced per calendar bin (``by``: ``week`` from Monday, or ``month``)
    with ``how`` (``max`` or ``min``, NaN ignored): ``(bin starts, one value per bin)``
    plus, as the last start, the end of the last bin (for a step drawn to its edge)."""
    import numpy as np

    if not len(days):
        return np.array([], dtype="datetime64[D]"), np.array([], dtype=np.float64)
    if by == "week":
        starts = days - ((days.astype(np.int64) - 4) % 7).astype("timedelta64[D]")  # Monday
        end = starts[-1] + np.timedelta64(7, "D")
    else:
        starts = days.astype("datetime64[M]").astype("datetime64[D]")
        end = (starts[-1].astype("datetime64[M]") + 1).astype("datetime64[D]")
    edges, first = np.unique(starts, return_index=True)
    ufunc = np.fmax if how == "max" else np.fmin
    reduced = ufunc.reduceat(np.asarray(values, dtype=np.float64), first)
    return np.append(edges, end), np.append(reduced, reduced[-1])


def gamma_bin(run: RunResult) -> str:
    """``week``, or ``month`` when weekly bins would be too many to read."""
    x = dates(run)
    weeks = (x[-1] - x[0]).astype(int) / 7 if len(x) else 0
    return "week" if weeks <= MAX_WEEKLY_BINS else "month"


def gamma_panel(ax: Any, run: RunResult, base: RunResult | None, near_n: int) -> None:
    """Effective gamma as the extremes of each week (or month): the largest long Γ above
    zero and the largest short Γ below, book filled and baseline as a line, on a
    symmetric-log axis (a hedged and an unhedged book are often orders of magnitude
    apart); the condors' model gamma dotted; near-expiry days shaded."""
    import numpy as np

    by = gamma_bin(run)
    ax.set_ylabel("Γ ($ per SPX point²)")
    x = dates(run)
    if not len(x) or np.isnan(column(run, "eff_gamma_short")).all():
        no_data(ax)
        return
    for r, color, alpha, label in ((run, BOOK, 0.55, "book"), (base, BASE, 1.0, _label(base))):
        if r is None:
            continue
        edges, long_ = extremes(dates(r), column(r, "eff_gamma_long"), "max", by)
        _, short = extremes(dates(r), column(r, "eff_gamma_short"), "max", by)
        if r is run:
            ax.fill_between(edges, 0, long_, step="post", color=color, alpha=alpha, lw=0,
                            label="book: long Γ (above 0)")  # fmt: skip
            ax.fill_between(edges, 0, -short, step="post", color="#6baed6", alpha=0.8, lw=0,
                            label="book: short Γ (below 0)")  # fmt: skip
        else:
            ax.step(edges, long_, where="post", color=color, lw=0.8, label=f"{label}: long Γ")
            ax.step(edges, -short, where="post", color="#e6550d", lw=0.8,
                    label=f"{label}: short Γ")  # fmt: skip
    edges, model = extremes(x, column(run, "gamma"), "min", by)
    ax.step(edges, model, where="post", color="0.3", lw=0.7, ls=":", label="book: model gamma")
    near = np.nan_to_num(column(run, "front_dte"), nan=math.inf) <= near_n
    if near.any():
        ax.fill_between(
            x, 0, 1, where=near, transform=ax.get_xaxis_transform(), color="#fdd49e",
            alpha=0.7, lw=0, label=f"front DTE ≤ {near_n}",
        )  # fmt: skip
    ax.set_yscale("symlog", linthresh=0.1)
    ax.axhline(0.0, color="0.6", lw=0.6)
    _legend(ax)
