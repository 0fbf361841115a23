"""Presentation of a dry-run: the summary's text (terminal and page), the figure, and
``report.html``, one self-contained page per dry-run.

The page has inline CSS, the figure as a ``data:image/png;base64`` URI, no script and
no external URL of any kind, so it opens the same offline, from a mail attachment or an
archive.
Every piece of text from the book, the history or the engine goes through
:func:`html.escape`. Nothing in the page depends on the time or the output path, so it is
byte-identical across runs with the same inputs.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from .report import PNG_DPI, applied_actions, book_info

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure
    from rich.table import Table

    from ..lang.evaluate import Book
    from .engine import DryRunResult, RunResult

__all__ = ["figure", "figure_png", "gamma_finding", "render_html", "summary_rich", "summary_table"]

# ------------------------------------------------------------- the summary


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


METRICS = (
    Metric("P&L", "total_pnl", "money", compare="diff", short=True),
    Metric("Return", "return_pct", "pct", short=True),
    Metric("CAGR", "cagr_pct", "pct"),
    Metric("Final equity", "final_equity", "money"),
    Metric("Max drawdown", "max_drawdown", "money", "max_drawdown_date", "ratio", short=True),
    Metric("Worst day", "worst_day", "money", "worst_day_date", short=True),
    Metric("Condors opened", "condors_opened", "int"),
    Metric("Rolls", "rolls", "int", short=True),
    Metric("Closes", "closes", "int"),
    Metric("Hedge migrations", "migrations", "int", short=True),
    Metric("Hedge trades", "hedge_trades", "int"),
    Metric("Hedge premium paid", "hedge_premium_paid", "money", short=True),
    Metric("Hedge P&L", "hedge_pnl", "money", short=True),
    Metric("Commissions", "commissions", "money"),
    Metric("Alerts", "alerts", "int"),
    Metric("Peak |effective gamma|", "peak_eff_gamma", "gamma", compare="ratio", short=True),
    Metric(
        "Peak |effective gamma| after actions", "peak_eff_gamma_after", "gamma", compare="ratio"
    ),
    Metric(
        "Near-expiry peak |effective gamma|",
        "near_expiry_peak_eff_gamma",
        "gamma",
        compare="ratio",
        short=True,
    ),
    Metric(
        "Near-expiry mean |effective gamma|", "near_expiry_mean_eff_gamma", "gamma", compare="ratio"
    ),
    Metric("Near-expiry days", "near_expiry_days", "int"),
    Metric("Peak short effective gamma", "peak_short_eff_gamma", "gamma", compare="ratio"),
    Metric(
        "Near-expiry peak short effective gamma",
        "near_expiry_peak_short_eff_gamma",
        "gamma",
        compare="ratio",
        short=True,
    ),
    Metric("Peak |model gamma|", "peak_model_gamma", "gamma", compare="ratio"),
    Metric(
        "Near-expiry peak |model gamma|", "near_expiry_peak_model_gamma", "gamma", compare="ratio"
    ),
)


def format_value(value: Any, kind: str) -> str:
    """A summary figure as text: ``-$1,234.56``, ``-17.72%``, ``23``, ``4.087``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if kind == "money":
        sign = "-" if value < 0 else ""
        return f"{sign}${abs(value):,.2f}"
    if kind == "pct":
        return f"{value:.2f}%"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "ratio":
        return f"{value:.2f}×"
    return f"{value:,.3f}"


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
        elif m.key.startswith("near_expiry"):
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


def gamma_finding(result: DryRunResult) -> str:
    """One paragraph on near-expiry effective gamma, hedged vs baseline: what this run
    measured, whichever way it points."""
    book = result.run.summary
    n = book.get("near_expiry_dte")
    days = book.get("near_expiry_days") or 0
    hedged = book.get("near_expiry_peak_eff_gamma")
    if result.baseline is None:
        return (
            f"Near expiry (front condor DTE ≤ {n}, {days} day(s)) the peak |effective gamma| "
            f"was {format_value(hedged, 'gamma')} $/pt². No baseline was run, so there is "
            "nothing to compare it with."
        )
    base = result.baseline.summary.get("near_expiry_peak_eff_gamma")
    ratio = (result.summary.get("comparison") or {}).get("near_expiry_peak_eff_gamma_ratio")
    who = result.baseline.label.removeprefix("baseline: ")
    head = (
        f"Near expiry (front condor DTE ≤ {n}; {days} such day(s) in the book run) the peak "
        f"|effective gamma| was {format_value(hedged, 'gamma')} $/pt² for the book and "
        f"{format_value(base, 'gamma')} $/pt² for the baseline ({who})"
    )
    if days == 0:
        return head + ": no near-expiry days, so the ratio cannot be measured on this run."
    if ratio is None:
        return head + ": the ratio is undefined (the baseline's peak is zero)."
    change = (
        f"{(1.0 - ratio) * 100:.0f}% lower than"
        if ratio < 1
        else f"{(ratio - 1.0) * 100:.0f}% higher than"
    )
    text = f"{head}: a ratio of {ratio:.2f}, i.e. {change} the baseline."
    if who == "no hedge":
        text += (
            " The ALVH claim under test is 40–60% less peak gamma near expiry (a ratio of "
            f"0.40–0.60); this run shows {_verdict(ratio)}."
        )
    short_book = book.get("near_expiry_peak_short_eff_gamma")
    short_base = result.baseline.summary.get("near_expiry_peak_short_eff_gamma")
    short_ratio = (result.summary.get("comparison") or {}).get(
        "near_expiry_peak_short_eff_gamma_ratio"
    )
    if short_book is not None and short_base is not None:
        # |Γ| also counts the long convexity a hedge adds; the short side is what loses
        # money on a large move, so it is reported too, with its own ratio.
        text += (
            " On the short side alone (the most negative Γ on the grid) the near-expiry "
            f"peak was {format_value(short_book, 'gamma')} $/pt² against "
            f"{format_value(short_base, 'gamma')} $/pt²"
            + (f", a ratio of {short_ratio:.2f}." if short_ratio is not None else ".")
        )
    if days < 10:
        text += f" The figure rests on {days} day(s) only."
    return text


def _verdict(ratio: float) -> str:
    if ratio < 0.4:
        return "a larger reduction than claimed"
    if ratio <= 0.6:
        return "a reduction within that range"
    if ratio < 1:
        return "a smaller reduction than claimed"
    return "no reduction: the hedged book carries more near-expiry effective gamma"


def _title(result: DryRunResult) -> str:
    info = book_info(result.book)
    version = f" {info['version']}" if info["version"] else ""
    s = result.run.summary
    return f"{info['name']}{version} — {s.get('start')} .. {s.get('end')} ({s.get('days')} days)"


def _heading(result: DryRunResult) -> str:
    """The title, flagged when the history is synthetic."""
    synthetic = getattr(result.history_provenance, "synthetic", False)
    return _title(result) + (" — synthetic history" if synthetic else "")


def summary_table(result: DryRunResult) -> str:
    """The terminal summary as plain text: the key figures, book vs baseline."""
    rows = summary_rows(result, short=True)
    has_base = result.baseline is not None
    header = ["", "book", result.baseline.label if result.baseline else "", "vs baseline"]
    table = [header, *rows] if has_base else [[r[0], r[1]] for r in [header, *rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = [_heading(result)]
    for r in table:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    lines.append(gamma_finding(result))
    return "\n".join(lines) + "\n"


def summary_rich(result: DryRunResult) -> Table:
    """The terminal summary as a :class:`rich.table.Table` (print it with a rich Console)."""
    from rich.table import Table

    table = Table(title=_heading(result), caption=gamma_finding(result), caption_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("book", justify="right", style="bold")
    if result.baseline is not None:
        table.add_column(result.baseline.label, justify="right")
        table.add_column("vs baseline", justify="right", style="cyan")
    for row in summary_rows(result, short=True):
        table.add_row(*(row if result.baseline is not None else row[:2]))
    return table


# ------------------------------------------------------------------ figure

_BOOK, _BASE = "#1f4e79", "#b85c00"


def _dates(run: RunResult) -> Any:
    import numpy as np

    return np.array([r["date"] for r in run.daily_rows], dtype="datetime64[D]")


def _col(run: RunResult, key: str) -> Any:
    import numpy as np

    return np.array(
        [np.nan if r[key] is None else r[key] for r in run.daily_rows], dtype=np.float64
    )


def _drawdown(run: RunResult) -> Any:
    import numpy as np

    equity = _col(run, "equity")
    start = float(run.summary.get("starting_equity") or (equity[0] if len(equity) else 0.0))
    peak = np.maximum.accumulate(np.maximum(equity, start))
    return equity - peak


def figure(result: DryRunResult) -> Figure:
    """A matplotlib Figure (Agg canvas, no pyplot) in four panels sharing the date axis:
    equity (book and baseline), drawdown, the book's model greeks as the rules saw them,
    and effective gamma as the rules saw it — ``eff_gamma_max``, the largest |Γ| on the
    spot–vol grid, above zero, and ``eff_gamma_min``, the most negative Γ, below it, for
    the book and the baseline — with markers on the days a roll or a hedge migration was
    applied and the near-expiry days shaded. The gamma axis is symmetric-log
    so that a hedged book and an unhedged one, often orders of magnitude apart, both show.
    """
    import numpy as np
    from matplotlib import dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import StrMethodFormatter

    run, base = result.run, result.baseline
    fig = Figure(figsize=(11.0, 13.0), dpi=PNG_DPI, layout="constrained")
    FigureCanvasAgg(fig)  # render with Agg whatever pyplot's backend is
    ax_eq, ax_dd, ax_gr, ax_eg = fig.subplots(4, 1, sharex=True)
    fig.suptitle(_title(result), fontsize=13)
    x = _dates(run)
    base_label = base.label if base is not None else ""
    money = StrMethodFormatter("{x:,.0f}")

    ax_eq.plot(x, _col(run, "equity"), color=_BOOK, lw=1.2, label="book")
    if base is not None:
        ax_eq.plot(_dates(base), _col(base, "equity"), color=_BASE, lw=1.0, label=base_label)
    start = run.summary.get("starting_equity")
    if start is not None:
        ax_eq.axhline(float(start), color="0.6", lw=0.8, ls="--", label="starting equity")
    ax_eq.set_ylabel("equity ($)")
    ax_eq.set_title("Equity", loc="left", fontsize=10)

    ax_dd.fill_between(x, _drawdown(run), 0.0, color=_BOOK, alpha=0.35, lw=0, label="book")
    if base is not None:
        ax_dd.plot(_dates(base), _drawdown(base), color=_BASE, lw=1.0, label=base_label)
    ax_dd.set_ylabel("drawdown ($)")
    ax_dd.set_title("Drawdown from the running peak", loc="left", fontsize=10)

    for key, color, label in (
        ("delta", "#2a7f62", "delta ($/pt)"),
        ("vega", "#7b3294", "vega ($/vol pt)"),
        ("theta", "#e08214", "theta ($/day)"),
    ):
        ax_gr.plot(x, _col(run, key), color=color, lw=0.9, label=label)
    ax_gr.axhline(0.0, color="0.6", lw=0.6)
    ax_gr.set_ylabel("$ per unit move")
    ax_g2 = ax_gr.twinx()
    ax_g2.plot(x, _col(run, "gamma"), color="#d7301f", lw=0.9, label="gamma ($/pt², right)")
    ax_g2.set_ylabel("gamma ($/pt²)")
    ax_gr.set_title("Book model greeks, as the rules saw them", loc="left", fontsize=10)
    h1, l1 = ax_gr.get_legend_handles_labels()
    h2, l2 = ax_g2.get_legend_handles_labels()
    ax_gr.legend(h1 + h2, l1 + l2, loc="upper left", bbox_to_anchor=(1.08, 1.0), fontsize=8)

    eff = _col(run, "eff_gamma_max")
    ax_eg.plot(x, eff, color=_BOOK, lw=1.0, label="book: largest |Γ| (above 0)")
    if base is not None:
        ax_eg.plot(
            _dates(base), _col(base, "eff_gamma_max"), color=_BASE, lw=0.9,
            label=f"{base_label}: largest |Γ|",
        )  # fmt: skip
    if run.daily_rows and "eff_gamma_min" in run.daily_rows[0]:
        # The short side, below 0: the most negative Γ on the grid.
        ax_eg.plot(
            x, _col(run, "eff_gamma_min"), color="#6baed6", lw=0.8,
            label="book: most negative Γ (below 0)",
        )  # fmt: skip
        if base is not None:
            ax_eg.plot(
                _dates(base), _col(base, "eff_gamma_min"), color="#fdae6b", lw=0.8,
                label=f"{base_label}: most negative Γ",
            )  # fmt: skip
    ax_eg.plot(x, _col(run, "gamma"), color="0.4", lw=0.7, ls=":", label="book: model gamma")
    near_n = result.config.risk.near_expiry_dte
    near = np.nan_to_num(_col(run, "front_dte"), nan=np.inf) <= near_n
    if near.any():
        ax_eg.fill_between(
            x, 0, 1, where=near, transform=ax_eg.get_xaxis_transform(), color="#fdd49e",
            alpha=0.7, lw=0, label=f"front DTE ≤ {near_n}",
        )  # fmt: skip
    index = {r["date"]: i for i, r in enumerate(run.daily_rows)}
    for kind, marker, color, label in (
        ("roll_condor", "v", "#e6550d", "roll applied"),
        ("shift_hedge", "D", "#756bb1", "hedge migration applied"),
    ):
        days = sorted({a["date"] for a in applied_actions(run, [kind]) if a["date"] in index})
        if days:
            at = [index[d] for d in days]
            ax_eg.scatter(x[at], eff[at], marker=marker, s=30, color=color, zorder=3, label=label)
    ax_eg.set_yscale("symlog", linthresh=0.1)
    ax_eg.axhline(0.0, color="0.6", lw=0.6)
    ax_eg.set_ylabel("Γ ($ per SPX point²)")
    ax_eg.set_title(
        "Effective gamma as the rules saw it (spot–vol grid, VIX hedges included)",
        loc="left",
        fontsize=10,
    )
    for ax in (ax_eq, ax_dd, ax_eg):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    for ax in (ax_eq, ax_dd):
        ax.yaxis.set_major_formatter(money)
    for ax in (ax_eq, ax_dd, ax_gr, ax_eg):
        ax.grid(True, color="0.9", lw=0.6)
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax_eg.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
    ax_eg.xaxis.set_major_formatter(formatter)
    return fig


def figure_png(result: DryRunResult) -> bytes:
    """:func:`figure` as PNG bytes, byte-identical for identical inputs (no ``Software``
    metadata, fixed DPI)."""
    fig = figure(result)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buf.getvalue()


CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24;
       margin: 0 auto; padding: 1.5rem 2rem 3rem; max-width: 72rem; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 1px solid #d0d7de;
     padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.sub { color: #57606a; margin: .1rem 0; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: .8rem; font-size: .8rem;
         background: #ddf4ff; color: #0969da; margin-right: .3rem; }
.badge.warn { background: #fff8c5; color: #9a6700; }
.finding { background: #f6f8fa; border-left: 4px solid #1f4e79; padding: .6rem 1rem;
           margin: 1rem 0; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; vertical-align: top; }
th { background: #f6f8fa; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, pre, .hash { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.hash { font-size: .8rem; word-break: break-all; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: .8rem; overflow-x: auto;
      font-size: .85rem; line-height: 1.35; }
img.plot { width: 100%; max-width: 1100px; border: 1px solid #d0d7de; }
details > summary { cursor: pointer; color: #0969da; }
footer { margin-top: 3rem; color: #57606a; font-size: .8rem; }
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()
) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _kv(rows: Iterable[Sequence[Any]]) -> str:
    """A two-column table of names and values, the names as row headers."""
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table><tbody>{body}</tbody></table>"


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key in sorted(value):
            _flatten(f"{prefix}.{key}" if prefix else key, value[key], out)
    else:
        out.append((prefix, "default (exp(−κτ))" if value is None else str(value)))


def _header(result: DryRunResult, doc: dict[str, Any]) -> str:
    info = doc["run"]["book"]
    hist = doc["run"]["history"]
    version = f" {info['version']}" if info.get("version") else ""
    badges = []
    if hist["synthetic"]:
        badges.append('<span class="badge warn">synthetic history — not market data</span>')
    else:
        badges.append('<span class="badge">market history</span>')
    if result.baseline is not None:
        badges.append(f'<span class="badge">{_e(result.baseline.label)}</span>')
    else:
        badges.append('<span class="badge">no baseline</span>')
    desc = f'<p class="sub">{_e(info["description"])}</p>' if info.get("description") else ""
    return (
        f"<h1>{_e(info['name'])}{_e(version)}</h1>"
        f'<p class="sub">Dry-run {_e(hist["start"])} .. {_e(hist["end"])} '
        f"({_e(hist['days'])} trading days) · book <code>{_e(info['file'])}</code> · "
        f'sha256 <span class="hash">{_e(info["sha256"])}</span></p>'
        f"{desc}<p>{''.join(badges)}</p>"
    )


def _summary(result: DryRunResult) -> str:
    has_base = result.baseline is not None
    header = ["", "book"]
    if has_base:
        assert result.baseline is not None
        header += [result.baseline.label, "book vs baseline"]
    rows = [r if has_base else r[:2] for r in summary_rows(result)]
    note = (
        '<p class="sub">Effective gamma is in $ per SPX point², as the rules saw it (before '
        "each day's actions) unless marked “after actions”; “vs baseline” is a difference "
        "for P&amp;L and a ratio (book ÷ baseline) elsewhere. |Effective gamma| is the largest "
        "|Γ| on the spot–vol grid; <em>short</em> effective gamma the size of the most "
        "negative Γ on it (0 when the book is long gamma everywhere), the side that loses on "
        "a large move. Model gamma is the sum of the condors' Black–Scholes gammas: it shows "
        "a VIX hedge as zero.</p>"
    )
    finding = f'<div class="finding">{_e(gamma_finding(result))}</div>'
    return "<h2>Summary</h2>" + finding + _table(header, rows, numeric=range(1, len(header))) + note


def _rules(doc: dict[str, Any], has_base: bool) -> str:
    header = ["rule", "title", "priority", "fired (days)", "applied", "near misses"]
    if has_base:
        header += ["baseline fired", "baseline applied", "baseline near misses"]
    rows = []
    for r in doc["run"]["rules"]:
        row = [r["rule"], r["title"] or "", r["priority"], r["fired"], r["applied"]]
        row.append(r["near_misses"])
        if has_base:
            row += [r["baseline_fired"], r["baseline_applied"], r["baseline_near_misses"]]
        rows.append(row)
    return (
        "<h2>Rules</h2>"
        '<p class="sub">In execution order. <em>Fired</em>: days the condition held; '
        "<em>applied</em>: days at least one of its actions changed the book (this starts the "
        "cooldown); <em>near misses</em>: days all but one conjunct held. In a no-hedge "
        "baseline, hedge rules fire but their actions are disabled.</p>"
        + _table(header, rows, numeric=range(2, len(header)))
    )


def _actions(result: DryRunResult) -> str:
    kinds = ("open_condor", "roll_condor", "close", "shift_hedge", "trade_future")
    acts = applied_actions(result.run, (*kinds, "buy_call_spread", "alert"))
    rows = [[a["date"], a["rule"], a["text"], a["fill"]] for a in acts]
    return (
        "<h2>Actions applied</h2>"
        f"<details><summary>{len(rows)} action(s) that changed the book or raised an alert "
        "(the full record with traces and near misses is <code>decisions.jsonl</code>)"
        "</summary>" + _table(["date", "rule", "action", "fill"], rows) + "</details>"
    )


def _model(result: DryRunResult, doc: dict[str, Any]) -> str:
    notes = "".join(f"<li>{_e(n)}</li>" for n in result.notes)
    flat: list[tuple[str, str]] = []
    _flatten("", doc["run"]["config"], flat)
    return (
        "<h2>Model choices and modelled inputs</h2>"
        "<p>Prices are model prices, not market quotes. Every choice and every input the "
        "model supplied in place of data:</p>"
        f"<ul>{notes}</ul>"
        "<h3>Configuration</h3>" + _table(["key", "value"], flat, numeric=(1,))
    )


def _data(doc: dict[str, Any]) -> str:
    hist = doc["run"]["history"]
    sources = _table(
        ["role", "file", "sha256"],
        [[s["role"], s["path"], s["sha256"] or "–"] for s in hist["sources"]],
    )
    rows = [
        ["synthetic", "yes" if hist["synthetic"] else "no"],
        ["generator", hist["generator"] or "–"],
        ["history sha256", hist["sha256"] or "– (generated in memory)"],
        ["span", f"{hist['start']} .. {hist['end']} ({hist['days']} trading days)"],
    ]
    notes = "".join(f"<li>{_e(n)}</li>" for n in hist["notes"]) or "<li>none</li>"
    return (
        "<h2>Data provenance</h2>"
        + _kv(rows)
        + "<h3>Sources</h3>"
        + sources
        + f"<h3>Notes on the data</h3><ul>{notes}</ul>"
    )


def _book_text(title: str, book: Book, info: dict[str, Any]) -> str:
    params = _table(
        ["param", "value", "set by"],
        [
            [name, p["value"], "--param" if p["overridden"] else "the book"]
            for name, p in info["params"].items()
        ],
    )
    files = []
    for path, text in sorted(book.program.sources.items()):
        files.append(
            f"<h3><code>{_e(path)}</code></h3>"
            f'<p class="sub">sha256 <span class="hash">{_e(info["files"][path])}</span></p>'
            f"<pre>{_e(text)}</pre>"
        )
    combined = (
        f'<p class="sub">sha256 of all files <span class="hash">{_e(info["sha256"])}</span></p>'
        if info.get("sha256")
        else ""
    )
    return f"<h2>{_e(title)}</h2>{combined}{params}{''.join(files)}"


def _files(has_base: bool, states: Sequence[str]) -> str:
    rows = [
        ["report.html", "this page"],
        ["summary.json", "the figures above, provenance, config, notes, rule counts"],
        ["daily.parquet", "one row per trading day: marks, greeks before and after actions"],
        ["trades.csv", "every fill and settlement, one row per leg"],
        ["decisions.jsonl", "fired rules with actions, fills, trade ids, traces; near misses"],
    ]
    rows += [[f"state-{d}.json", "the state the rules saw (alvh eval --state)"] for d in states]
    if has_base:
        rows.append(["baseline/", "daily.parquet, trades.csv, decisions.jsonl of the baseline"])
    return "<h2>Files of this run</h2>" + _table(["file", "contents"], rows)


def render_html(
    result: DryRunResult,
    doc: dict[str, Any],
    png: bytes,
    baseline_book: Book | None = None,
) -> str:
    """The page: title, summary book vs baseline, the finding on near-expiry effective
    gamma, the figure, rules fired, actions applied, model notes and config, data
    provenance, and the text and hash of every rulebook file. ``doc`` is
    :func:`~alvh_dsl.dryrun.report.summary_document`'s output, ``png`` the figure."""
    run = doc["run"]
    has_base = result.baseline is not None
    title = f"{run['book']['name']} — dry-run {run['history']['start']} .. {run['history']['end']}"
    image = base64.b64encode(png).decode("ascii")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        _header(result, doc),
        _summary(result),
        "<h2>Plots</h2>",
        f'<img class="plot" alt="equity, drawdown, greeks and effective gamma over time" '
        f'src="data:image/png;base64,{image}">',
        '<p class="sub">Markers: ▼ roll applied, ◆ hedge migration applied; shaded: days '
        "with the front condor near expiry.</p>",
        _rules(doc, has_base),
        _actions(result),
        _model(result, doc),
        _data(doc),
        _book_text("Rulebook", result.book, run["book"]),
    ]
    if baseline_book is not None and run["baseline"] and "book" in run["baseline"]:
        parts.append(_book_text("Baseline rulebook", baseline_book, run["baseline"]["book"]))
    parts.append(_files(has_base, run["captured_states"]))
    parts.append(
        f"<footer>alvh-dsl {_e(run['alvh_version'])} · {_e(run['format'])}</footer></body></html>\n"
    )
    return "\n".join(parts)
