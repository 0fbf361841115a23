"""The summary in words and figures, the answer first: the headline finding (the paired
near-expiry scenario P&L with its interval, then what the hedge cost), the table of
scenario P&L by SPX move, then the run's figures book vs baseline — as the terminal
summary (plain or rich) and as the rows the HTML page shows.

A figure that is ``None`` (no near-expiry day, no baseline, nothing to divide by) is
written ``no data``, never as a number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .document import book_info, late_settlements

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table

    from ..result import DryRunResult

__all__ = [
    "METRICS",
    "NO_DATA",
    "REDUCTION_KEY",
    "SCENARIO_STATISTICS",
    "Metric",
    "compare_text",
    "format_move",
    "format_reduction",
    "format_value",
    "headline_finding",
    "hedge_cost_sentence",
    "late_settlement_notes",
    "scenario_header",
    "scenario_rows",
    "short_gamma_sentence",
    "summary_rich",
    "summary_rows",
    "summary_table",
    "title",
]

NO_DATA = "no data"
REDUCTION_KEY = (
    "Reduction: 1 − book ÷ baseline of a loss (above 100%: the loss became a gain; "
    "negative: a larger loss), with its paired-bootstrap interval; [–]: no interval, the "
    "baseline showed no loss in too many resamples; n/a: the baseline did not lose, so "
    "there was nothing to reduce."
)


@dataclass(frozen=True)
class Metric:
    """One line of the summary: label, key in the run summary, how to show it, the key
    of the date it happened on, and how book and baseline compare (difference or ratio)."""

    label: str
    key: str
    kind: str  # money | pct | int | gamma
    date_key: str | None = None
    compare: str | None = None  # diff | ratio
    short: bool = False  # in the terminal summary


# Short effective gamma (the size of the more negative one-sided Γ) is the blowup
# figure, so it leads the gamma lines; long gamma (what a hedge adds) and the condors'
# model gamma follow, each on its own line so that none is read as another.
METRICS = (
    Metric("P&L", "total_pnl", "money", compare="diff", short=True),
    Metric("Return", "return_pct", "pct", short=True),
    Metric("CAGR", "cagr_pct", "pct"),
    Metric("Final equity", "final_equity", "money"),
    Metric("Max drawdown", "max_drawdown", "money", "max_drawdown_date", "ratio", short=True),
    Metric("Worst day", "worst_day", "money", "worst_day_date", short=True),
    Metric("Condor P&L", "condor_pnl", "money", compare="diff", short=True),
    Metric("Condor credit", "condor_credit", "money"),
    Metric("Condor credit per year", "condor_credit_per_year", "money"),
    Metric("Condors opened", "condors_opened", "int"),
    Metric("Rolls", "rolls", "int", short=True),
    Metric("Closes", "closes", "int"),
    Metric("Expiries settled", "expiries_settled", "int"),
    Metric("Expiries settled late", "expiries_settled_late", "int"),
    Metric("Hedge migrations", "migrations", "int", short=True),
    Metric("Hedge trades", "hedge_trades", "int"),
    Metric("Hedge premium paid", "hedge_premium_paid", "money"),
    Metric("Hedge premium per year", "hedge_premium_per_year", "money", short=True),
    Metric("Hedge premium, % of condor credit", "hedge_premium_pct_of_credit", "pct"),
    Metric("Hedge P&L", "hedge_pnl", "money", short=True),
    Metric("Hedge P&L per year", "hedge_pnl_per_year", "money"),
    Metric("Commissions", "commissions", "money"),
    Metric("Alerts", "alerts", "int"),
    Metric("Near-expiry days", "near_expiry_days", "int", short=True),
    Metric(
        "Near-expiry peak short effective gamma",
        "near_expiry_peak_short_eff_gamma",
        "gamma",
        compare="ratio",
        short=True,
    ),
    Metric(
        "Near-expiry mean short effective gamma",
        "near_expiry_mean_short_eff_gamma",
        "gamma",
        compare="ratio",
        short=True,
    ),
    Metric("Peak short effective gamma", "peak_short_eff_gamma", "gamma", compare="ratio"),
    Metric(
        "Peak short effective gamma after actions",
        "peak_short_eff_gamma_after",
        "gamma",
        compare="ratio",
    ),
    Metric(
        "Near-expiry peak long effective gamma",
        "near_expiry_peak_long_eff_gamma",
        "gamma",
        compare="ratio",
    ),
    Metric("Peak long effective gamma", "peak_long_eff_gamma", "gamma", compare="ratio"),
    Metric(
        "Near-expiry peak |model gamma|", "near_expiry_peak_model_gamma", "gamma", compare="ratio"
    ),
    Metric("Peak |model gamma|", "peak_model_gamma", "gamma", compare="ratio"),
)


def format_value(value: Any, kind: str) -> str:
    """A summary figure as text: ``-$1,234.56`` (``money``), ``-$1,235`` (``dollars``),
    ``-17.72%``, ``23``, ``4.087`` (``gamma``), ``0.50×`` (``ratio``); ``no data`` for
    ``None`` or a non-finite number."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NO_DATA
    if kind in ("money", "dollars"):
        sign = "-" if value < 0 else ""
        return f"{sign}${abs(value):,.2f}" if kind == "money" else f"{sign}${abs(value):,.0f}"
    if kind == "pct":
        return f"{value:.2f}%"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "ratio":
        return f"{value:.2f}×"
    return f"{value:,.3f}"


def format_move(move: float) -> str:
    """An SPX scenario move as text: ``-5%``, ``+3%``, ``-7.5%``."""
    return f"{'+' if move > 0 else ''}{move * 100:g}%"


def _pct(fraction: float) -> str:
    return f"{round(fraction * 100) + 0:.0f}%"  # + 0: no "-0%"


def format_reduction(reduction: Any) -> str:
    """A reduction ``1 − book / baseline`` (an interval dict of the statistics, or a bare
    number) as text: ``45% [12%, 71%]``; ``62% [–]`` when the bootstrap could not bound
    it; ``n/a`` when the baseline did not lose (nothing to reduce); ``no data`` without
    near-expiry days. :data:`REDUCTION_KEY` says so in words."""
    if isinstance(reduction, Mapping):
        value = reduction.get("value")
        if value is None:
            return NO_DATA if not reduction.get("n") else "n/a"
        low, high = reduction.get("low"), reduction.get("high")
        if low is None or high is None:
            return f"{_pct(value)} [–]"
        return f"{_pct(value)} [{_pct(low)}, {_pct(high)}]"
    if reduction is None:
        return "n/a"
    return _pct(float(reduction))


def compare_text(metric: Metric, book: Mapping[str, Any], base: Mapping[str, Any]) -> str:
    """The book against the baseline: a signed difference or a ratio (empty if undefined)."""
    a, b = book.get(metric.key), base.get(metric.key)
    if metric.compare is None or a is None or b is None:
        return ""
    if metric.compare == "diff":
        diff = float(a) - float(b)
        return ("+" if diff >= 0 else "") + format_value(diff, metric.kind)
    if not b:
        return ""
    return format_value(float(a) / float(b), "ratio")


def summary_rows(result: DryRunResult, *, short: bool = False) -> list[list[str]]:
    """``[label, book, baseline, comparison]`` text rows (baseline columns empty without
    a baseline). Dates of drawdowns and worst days follow the figure, except in the
    ``short`` selection for terminals, which keeps to about 80 columns."""
    book = result.run.summary
    base = result.baseline.summary if result.baseline is not None else {}
    rows = []
    for m in METRICS:
        if (short and not m.short) or m.key not in book:
            continue  # (a figure this engine version does not report)
        label = m.label
        if short:
            label = label.replace("effective gamma", "eff. gamma")
        elif m.key.startswith("near_expiry") and m.key != "near_expiry_days":
            label += f" (DTE ≤ {book.get('near_expiry_dte')})"

        def cell(s: Mapping[str, Any], m: Metric = m) -> str:
            if not s:
                return ""
            text = format_value(s.get(m.key), m.kind)
            if m.date_key and s.get(m.date_key) and not short:
                text += f" ({s[m.date_key]})"
            return text

        rows.append([label, cell(book), cell(base), compare_text(m, book, base) if base else ""])
    return rows


def _comparison(result: DryRunResult) -> Mapping[str, Any]:
    if result.baseline is None:
        return {}
    return result.summary.get("comparison") or {}


def hedge_cost_sentence(result: DryRunResult) -> str:
    """What the hedge cost, in one sentence: premium per year, as a % of the condors'
    credit, and the hedge's P&L per year."""
    book = result.run.summary
    cost = _comparison(result).get("hedge_cost") or {
        "premium_per_year": book.get("hedge_premium_per_year"),
        "premium_pct_of_credit": book.get("hedge_premium_pct_of_credit"),
        "condor_credit_per_year": book.get("condor_credit_per_year"),
        "hedge_pnl_per_year": book.get("hedge_pnl_per_year"),
    }
    if cost.get("premium_per_year") is None:
        return f"The hedge's cost a year: {NO_DATA}."
    pct = cost.get("premium_pct_of_credit")
    credit = format_value(cost.get("condor_credit_per_year"), "dollars")
    share = (
        f"{pct:.0f}% of the condors' credit of {credit} a year"
        if pct is not None
        else "no condor credit to set it against"
    )
    return (
        f"The hedge cost {format_value(cost.get('premium_per_year'), 'dollars')} a year in "
        f"premium ({share}); its P&L was "
        f"{format_value(cost.get('hedge_pnl_per_year'), 'dollars')} a year."
    )


def _book_only_scenario(result: DryRunResult) -> str:
    """Without a baseline: the book's own near-expiry scenario P&L at the headline move."""
    book = result.run.summary
    days = book.get("near_expiry_days") or 0
    move = result.config.risk.headline_move
    head: Mapping[str, Any] = next(
        (r for r in book.get("near_expiry_scenario") or () if math.isclose(r["move"], move)), {}
    )
    dte = book.get("near_expiry_dte")
    if not days:
        return (
            f"No baseline was run, and there were no near-expiry days (front condor DTE ≤ "
            f"{dte}) in this run: the scenario P&L near expiry cannot be measured."
        )
    if "mean_loss" in head:
        what, value = "expected loss (the mean of its losses, a gain counting as none)", "mean_loss"
    else:
        what, value = "mean P&L", "mean"
    return (
        f"No baseline was run, so the near-expiry scenario P&L has nothing to be paired "
        f"with: on {days:,} near-expiry day(s) (front condor DTE ≤ {dte}) the book's {what} "
        f"under a {format_move(move)} SPX move was {format_value(head.get(value), 'dollars')}, "
        f"its worst day {format_value(head.get('worst'), 'dollars')}."
    )


def headline_finding(result: DryRunResult) -> str:
    """The headline, what the report is for: the paired near-expiry scenario-P&L finding
    (book vs baseline under the headline SPX move, with its bootstrap interval), then
    the hedge's cost in one sentence."""
    scenario = _comparison(result).get("scenario")
    if scenario is None:
        text = _book_only_scenario(result)
    else:
        text = str(scenario.get("finding") or "")
    return f"{text} {hedge_cost_sentence(result)}".strip()


#: The statistics of the scenario table, in its column order: the headline's first (the
#: expected loss, the mean of min(P&L, 0)), then the tail, then the plain mean and the
#: worst day; terminals show the first two.
SCENARIO_STATISTICS = (
    ("mean_loss", "expected loss"),
    ("cvar5", "CVaR 5%"),
    ("mean", "mean"),
    ("worst", "worst"),
)


def _statistics(result: DryRunResult, short: bool) -> list[tuple[str, str]]:
    """The statistics this run's figures have (an older summary may lack one)."""
    scenario = _comparison(result).get("scenario")
    if scenario is not None:
        first = (scenario.get("moves") or [{}])[0].get("book") or {}
    else:
        first = (result.run.summary.get("near_expiry_scenario") or [{}])[0]
    stats = [(k, name) for k, name in SCENARIO_STATISTICS if not first or k in first]
    return stats[:2] if short else stats


def scenario_header(result: DryRunResult, *, short: bool = False) -> list[str]:
    """The column names of :func:`scenario_rows` (``short``: the first two statistics)."""
    stats = _statistics(result, short)
    if result.baseline is None or not _comparison(result).get("scenario"):
        return ["SPX move", *(name for _, name in stats)]
    head = ["SPX move"]
    for _, name in stats:
        head += [f"book {name}", "baseline", "reduction"]
    return head


def _level(result: DryRunResult) -> str:
    moves = (_comparison(result).get("scenario") or {}).get("moves") or [{}]
    level = ((moves[0].get("reduction") or {}).get("mean") or {}).get("level", 0.95)
    return f"{level:.0%}"


def scenario_rows(
    result: DryRunResult, *, after: bool = False, short: bool = False
) -> list[list[str]]:
    """Near-expiry scenario P&L by SPX move, the headline move first (marked ``*``):
    book vs baseline expected loss, CVaR 5 %, mean and worst, each with its reduction
    and interval (the worst has none); without a baseline the book's own figures.
    ``after``: the book as it stood after the day's actions; ``short``: the expected loss
    and CVaR 5 % only (terminals)."""
    key = "scenario_after_actions" if after else "scenario"
    scenario = _comparison(result).get(key)
    headline = result.config.risk.headline_move
    stats = [k for k, _ in _statistics(result, short)]
    rows = []
    if scenario is None:
        for r in result.run.summary.get("near_expiry_scenario") or ():
            cells = (format_value(r.get(k), "dollars") for k in stats)
            rows.append([_move_label(r["move"], headline), *cells])
        return _headline_first(rows)
    for r in scenario.get("moves") or ():
        book, base, red = r["book"], r["baseline"], r["reduction"]
        row = [_move_label(r["move"], scenario.get("headline_move", headline))]
        for k in stats:
            row += [format_value(book.get(k), "dollars"), format_value(base.get(k), "dollars")]
            row.append(format_reduction(red.get(k)) if book.get(k) is not None else NO_DATA)
        rows.append(row)
    return _headline_first(rows)


def _move_label(move: float, headline: float) -> str:
    return format_move(move) + (" *" if math.isclose(move, headline, abs_tol=1e-9) else "")


def _headline_first(rows: list[list[str]]) -> list[list[str]]:
    return sorted(rows, key=lambda r: not r[0].endswith("*"))  # stable: the rest in order


def short_gamma_sentence(result: DryRunResult) -> str | None:
    """The paired short effective gamma on the same near-expiry days, book vs baseline,
    with the reduction's interval; ``None`` without a baseline."""
    gamma = _comparison(result).get("near_expiry_short_eff_gamma")
    if not gamma:
        return None
    return (
        f"Short effective gamma on the same {gamma.get('days') or 0:,} days (mean, $ per "
        f"SPX point²): {format_value(gamma.get('book_mean'), 'gamma')} hedged against "
        f"{format_value(gamma.get('baseline_mean'), 'gamma')} unhedged, a reduction of "
        f"{format_reduction(gamma.get('reduction'))}."
    )


def late_settlement_notes(result: DryRunResult) -> list[str]:
    """The notes about late settlements: those naming a position that settled after its
    expiry (:func:`~alvh_dsl.dryrun.report.document.late_settlements`), and any other
    note on a settlement that says "late"."""
    runs = [r for r in (result.run, result.baseline) if r is not None]
    ids = {e["position"] for r in runs for e in late_settlements(r)}
    named = re.compile(r"\b(" + "|".join(map(re.escape, sorted(ids))) + r")\b") if ids else None
    return [
        n
        for n in result.notes
        if "settl" in n.lower() and (_LATE.search(n) or (named and named.search(n)))
    ]


_LATE = re.compile(r"\blate\b", re.IGNORECASE)


def title(result: DryRunResult) -> str:
    """The book, its version and the span replayed: the figure's and the summary's title."""
    info = book_info(result.book)
    version = f" {info['version']}" if info["version"] else ""
    s = result.run.summary
    return f"{info['name']}{version} — {s.get('start')} .. {s.get('end')} ({s.get('days')} days)"


def _heading(result: DryRunResult) -> str:
    """The title, flagged when the history is synthetic."""
    synthetic = getattr(result.history_provenance, "synthetic", False)
    return title(result) + (" — synthetic history" if synthetic else "")


def _scenario_caption(result: DryRunResult) -> str:
    scenario = _comparison(result).get("scenario") or {}
    days = scenario.get("days", result.run.summary.get("near_expiry_days") or 0)
    paired = (
        f"book vs baseline paired by day, reductions with their {_level(result)} interval"
        if scenario
        else "no baseline"
    )
    return (
        f"Near-expiry scenario P&L, $ ({days:,} day(s), the book as each day began; "
        f"{paired}; * the headline move):"
    )


def _late_line(result: DryRunResult) -> str | None:
    runs = [r for r in (result.run, result.baseline) if r is not None]
    late = [(r.label, len(late_settlements(r))) for r in runs]
    if not any(n for _, n in late):
        return None
    counts = ", ".join(f"{n} in the {label}" for label, n in late)
    return (
        f"Settlements booked after the expiry (it fell in a gap of the history): {counts}; "
        "report.html lists them."
    )


def _after_scenario(result: DryRunResult) -> list[str]:
    """The sentences under the scenario table: how to read a reduction, short gamma on
    the same days, late settlements."""
    key = REDUCTION_KEY if _comparison(result).get("scenario") else None
    return [s for s in (key, short_gamma_sentence(result), _late_line(result)) if s]


def _plain(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as aligned plain-text lines: the first column left, the others right."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def summary_table(result: DryRunResult) -> str:
    """The terminal summary as plain text: the title, the finding, the near-expiry
    scenario P&L by move, then the key figures book vs baseline."""
    lines = [_heading(result), ""]
    # Sentences are one line each (the terminal wraps them): the finding can be found
    # verbatim, as summary.json has it.
    lines += [headline_finding(result), "", _scenario_caption(result)]
    lines += _plain([scenario_header(result, short=True), *scenario_rows(result, short=True)])
    lines += _after_scenario(result)
    lines.append("")
    has_base = result.baseline is not None
    header = ["", "book", result.baseline.label if result.baseline else "", "vs baseline"]
    rows = [header, *summary_rows(result, short=True)]
    lines += _plain(rows if has_base else [r[:2] for r in rows])
    lines += ["", *coverage_text(result)]
    return "\n".join(lines) + "\n"


def coverage_text(result: DryRunResult) -> list[str]:
    """Rule coverage in words: each rule of the book run that never fired, with why in
    data terms, and how many did fire (``coverage`` of summary.json)."""
    from ..coverage import coverage_lines

    # One sentence a line, "- " (not an indent: the tables are the indented lines).
    return ["Rule coverage:", *("- " + line for line in coverage_lines(result.run.coverage))]


def summary_rich(result: DryRunResult) -> Table:
    """The terminal summary as a :class:`rich.table.Table` (print it with a rich Console):
    a grid of the title, the finding, the scenario table and the figures table."""
    from rich.table import Table
    from rich.text import Text

    scen = Table(title=_scenario_caption(result), title_justify="left")
    for i, name in enumerate(scenario_header(result, short=True)):
        scen.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
    for row in scenario_rows(result, short=True):
        scen.add_row(*row)
    figures = Table()
    figures.add_column("", no_wrap=True)
    figures.add_column("book", justify="right", style="bold")
    if result.baseline is not None:
        figures.add_column(result.baseline.label, justify="right")
        figures.add_column("vs baseline", justify="right", style="cyan")
    for row in summary_rows(result, short=True):
        figures.add_row(*(row if result.baseline is not None else row[:2]))
    grid = Table.grid(padding=(0, 0, 1, 0))
    grid.add_column()
    grid.add_row(Text(_heading(result), style="bold"))
    grid.add_row(Text(headline_finding(result)))
    grid.add_row(scen)
    extra = _after_scenario(result)
    if extra:
        grid.add_row(Text("\n".join(extra)))
    grid.add_row(figures)
    grid.add_row(Text("\n".join(coverage_text(result))))
    return grid
