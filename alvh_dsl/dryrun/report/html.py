"""``report.html``, one self-contained page per dry-run.

The page has inline CSS, the figure as inline SVG (or, with ``figure="png"``, a
``data:image/png;base64`` URI), no script and no external URL of any kind, so it opens
the same offline, from a mail attachment or an archive. The inline ``<svg>`` has no
``xmlns`` (an HTML parser puts it in the SVG namespace), so not even that URI is written.
Every piece of text from the book, the history or the engine goes through
:func:`html.escape`. Nothing in the page depends on the time or the output path, so it is
byte-identical across runs with the same inputs.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from . import document, text
from .document import applied_actions

if TYPE_CHECKING:  # pragma: no cover
    from ...lang.evaluate import Book
    from ..result import DryRunResult

__all__ = ["PLOT_ALT", "PLOT_NOTE", "render_html"]

PLOT_ALT = (
    "near-expiry scenario P&L book vs baseline; hedge notional by VIX month; P&L of "
    "condors and hedge; SPX and VIX with trades; equity; drawdown; effective gamma"
)
PLOT_NOTE = (
    "Top left: each near-expiry day's P&L under the headline SPX move, hedged (up) against "
    "unhedged (across) on the same day, and the two expected losses (the mean of "
    "min(P&L, 0)); above the diagonal the hedge lost less. Top right: "
    "the same days' CVaR 5 % (bars) and expected loss (dots) under every move. On SPX: ▼ roll, "
    "× close; on VIX: ▲ hedge bought or sold, ◆ hedge migration. Effective gamma: the "
    "extremes of each week (or month, over long runs), long Γ above zero, short Γ below, "
    "on a symmetric-log axis; shaded: near-expiry days. “no data”: nothing to draw."
)

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
tr.flag td { background: #fff8c5; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, pre, .hash { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.hash { font-size: .8rem; word-break: break-all; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: .8rem; overflow-x: auto;
      font-size: .85rem; line-height: 1.35; }
img.plot, svg.plot { width: 100%; max-width: 1100px; height: auto;
                    border: 1px solid #d0d7de; }
details > summary { cursor: pointer; color: #0969da; }
footer { margin-top: 3rem; color: #57606a; font-size: .8rem; }
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    numeric: Sequence[int] = (),
    classes: Sequence[str] = (),
) -> str:
    """A table of escaped text; ``numeric`` columns right-aligned, ``classes`` one CSS
    class per row (empty for none)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for k, row in enumerate(rows):
        cells = "".join(
            f'<td class="n">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)
        )
        css = classes[k] if k < len(classes) else ""
        body.append(f'<tr class="{css}">{cells}</tr>' if css else f"<tr>{cells}</tr>")
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


def _finding(result: DryRunResult) -> str:
    """The answer first: the headline finding, then scenario P&L by move (before the
    day's actions; after them collapsed), how to read a reduction, short gamma."""
    has_base = result.baseline is not None and bool(result.summary.get("comparison"))
    caption = (
        "Over the near-expiry days (front condor DTE ≤ "
        f"{result.config.risk.near_expiry_dte} before the day's actions), the whole book "
        "revalued at each SPX move as it stood when the day began"
        + (", book and baseline paired by day" if has_base else "")
        + "; * marks the headline move."
    )
    numeric = range(1, len(text.scenario_header(result)))
    parts = [
        "<h2>Finding</h2>",
        f'<div class="finding">{_e(text.headline_finding(result))}</div>',
        f'<h3>Near-expiry scenario P&amp;L ($)</h3><p class="sub">{_e(caption)}</p>',
        _table(text.scenario_header(result), text.scenario_rows(result), numeric=numeric),
    ]
    notes = [text.REDUCTION_KEY] if has_base else []
    notes += _interval_reasons(result)
    gamma = text.short_gamma_sentence(result)
    if gamma:
        notes.append(gamma)
    parts += [f'<p class="sub">{_e(n)}</p>' for n in notes]
    if has_base:
        parts.append(
            "<details><summary>The same after the day's actions (a roll near expiry "
            "shows here)</summary>"
            + _table(
                text.scenario_header(result),
                text.scenario_rows(result, after=True),
                numeric=numeric,
            )
            + "</details>"
        )
    return "".join(parts)


def _interval_reasons(result: DryRunResult) -> list[str]:
    """Why a reduction or its interval is missing from the headline table, once per
    distinct reason, naming the moves and statistics it applies to."""
    scenario = (result.summary.get("comparison") or {}).get("scenario") or {}
    seen: dict[str, list[str]] = {}
    for row in scenario.get("moves") or ():
        for stat, label in text.SCENARIO_STATISTICS:
            red = (row.get("reduction") or {}).get(stat)
            if not isinstance(red, dict):  # the worst day's reduction has no interval
                continue
            if red.get("reason") and (red.get("low") is None or red.get("high") is None):
                where = f"{text.format_move(row['move'])} {label}"
                seen.setdefault(str(red["reason"]), []).append(where)
    return [f"{', '.join(w)}: {why}." for why, w in seen.items()]


def _figures(result: DryRunResult) -> str:
    has_base = result.baseline is not None
    header = ["", "book"]
    if has_base:
        assert result.baseline is not None
        header += [result.baseline.label, "book vs baseline"]
    rows = [r if has_base else r[:2] for r in text.summary_rows(result)]
    note = (
        '<p class="sub">Effective gamma is in $ per SPX point², as the rules saw it (before '
        "each day's actions) unless marked “after actions”, from the whole book (VIX hedges "
        "included) revalued a little below and above the current level. <em>Short</em> "
        "effective gamma is the size of the more negative one-sided Γ (0 when neither side "
        "is short): what loses money on a large move, the blowup figure. <em>Long</em> "
        "effective gamma is the larger positive side (what a hedge adds). Model gamma is "
        "the sum of the condors' Black–Scholes gammas: it shows a VIX hedge as zero. “vs "
        "baseline” is a difference for P&amp;L and a ratio (book ÷ baseline) elsewhere; "
        "“no data” marks a figure the run could not measure (no near-expiry day, nothing "
        "to divide by).</p>"
    )
    return "<h2>Summary figures</h2>" + _table(header, rows, numeric=range(1, len(header))) + note


_RESPONSES = (
    ("futures_response", "VIX futures response w (ln F′/F per ln VIX′/VIX)"),
    ("option_vol_scale", "VIX option vol ÷ (VVIX / 100)"),
    ("option_vol", "VIX option vol without VVIX"),
)


def _fit_row(name: str, month: str, fit: dict[str, Any]) -> list[Any]:
    value, se, n = fit.get("value"), fit.get("se"), fit.get("n")
    return [
        name,
        month,
        text.NO_DATA if value is None else f"{value:.3g}",
        text.NO_DATA if n is None else f"{n:,}",
        text.NO_DATA if se is None else f"{se:.2g}",
        fit.get("source") or text.NO_DATA,
        fit.get("reason") or "",
    ]


def _responses(result: DryRunResult) -> str:
    """The market responses the scenarios and VIX option prices used, with what each
    rests on; defaults and config values flagged."""
    cal = result.summary.get("calibration") or {}
    rows: list[list[Any]] = []
    for key, name in (("beta_down", "beta_down (VIX on SPX falls)"),
                      ("beta_up", "beta_up (VIX on SPX rallies)")):  # fmt: skip
        if isinstance(cal.get(key), dict):
            rows.append(_fit_row(name, "", cal[key]))
    for key, name in _RESPONSES:
        for k, fit in enumerate(cal.get(key) or (), 1):
            rows.append(_fit_row(name, str(k), fit))
    head = "<h2>Market responses</h2>"
    if not rows:
        return head + f"<p>{text.NO_DATA}: the run recorded no market responses.</p>"
    sources = [r[5] for r in rows]
    counts = ", ".join(f"{sources.count(s)} {s}" for s in dict.fromkeys(sources))
    lead = (
        f"<p>The responses the scenario P&amp;L, effective gamma and VIX option prices used "
        f"({_e(counts)}). <em>fitted</em>: estimated on this run's history (n observations, "
        "standard error SE); <strong>default</strong>: the documented constant, used where "
        "the history cannot support a fit; <strong>config</strong>: fixed by the config "
        "file. Rows not fitted on this history are highlighted.</p>"
    )
    classes = ["" if r[5] == "fitted" else "flag" for r in rows]
    header = ["response", "VIX month", "value", "n", "SE", "source", "note"]
    return head + lead + _table(header, rows, numeric=(1, 2, 3, 4), classes=classes)


def _stress(result: DryRunResult) -> str:
    windows = result.summary.get("stress_windows") or []
    head = "<h2>Stress windows</h2>"
    if not windows:
        return head + "<p>No named stress window falls inside this run's span.</p>"
    has_base = result.baseline is not None
    header = ["window", "from", "to", "trading days", "book P&L", "book max drawdown"]
    if has_base:
        header += ["baseline P&L", "baseline max drawdown"]
    rows = []
    for w in windows:
        days = f"{w['days']:,}"
        if w.get("partial"):
            days += f" (partial: the window is {w['window'][0]} .. {w['window'][1]})"
        row = [w["name"], w["start"], w["end"], days]
        for side in ("book", "baseline") if has_base else ("book",):
            figures = w.get(side) or {}
            row += [
                text.format_value(figures.get("pnl"), "money"),
                text.format_value(figures.get("max_drawdown"), "money"),
            ]
        rows.append(row)
    lead = (
        '<p class="sub">The named market windows this run covers, from their first to their '
        "last trading day in the history. P&amp;L from the close before the first day to the "
        "close of the last; drawdown from the running peak inside the window, that first "
        "close included. <em>partial</em>: the window runs past the history.</p>"
    )
    return head + lead + _table(header, rows, numeric=range(4, len(header)))


def _late(result: DryRunResult) -> str:
    head = "<h2>Late settlements</h2>"
    runs = [r for r in (result.run, result.baseline) if r is not None]
    rows = [
        [r.label, e["position"], e["instrument"], e["expiry"], e["date"], e["days"],
         text.format_value(e["cash_flow"], "money")]
        for r in runs for e in document.late_settlements(r)
    ]  # fmt: skip
    notes = text.late_settlement_notes(result)
    if not rows and not notes:
        return (
            head
            + "<p>None: every position settled on a day of the history at or before its expiry.</p>"
        )
    lead = (
        "<p>Positions whose expiry fell in a gap of the history were settled on the first "
        "day after it; the price used is in the notes below (and in "
        "<code>trades.csv</code>).</p>"
    )
    header = ["run", "position", "kind", "expiry", "settled on", "days late", "cash flow"]
    items = "".join(f"<li>{_e(n)}</li>" for n in notes)
    table = _table(header, rows, numeric=(5, 6)) if rows else ""
    return head + lead + table + (f"<ul>{items}</ul>" if items else "")


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
        "cooldown); <em>near misses</em>: days all but one conjunct held and the failing "
        "threshold missed by at most 10 % (counts of positions held never count). In a no-hedge "
        "baseline, hedge rules fire but their actions are disabled.</p>"
        + _table(header, rows, numeric=range(2, len(header)))
    )


def _coverage(doc: dict[str, Any]) -> str:
    """Rule coverage: the rules that never fired with why, in data terms; then per rule
    and comparison, the days it held, was false or unknown, and the range of each value
    it compared."""
    from ..coverage import coverage_lines, value_range

    runs = doc.get("coverage", {})
    notes = []
    for key, label in (("book", ""), ("baseline", "baseline: ")):
        if key in runs:
            notes += coverage_lines(runs[key], label)
    rows = []
    for c in runs.get("book", ()):
        for cmp in c["comparisons"] or [None]:
            ranges = (
                "; ".join(
                    f"{v['expr']}: {value_range(v['min'], v['max'], v['unit'])}"
                    for v in cmp["values"]
                )
                if cmp
                else ""
            )
            counts = (cmp["held"], cmp["false"], cmp["unknown"]) if cmp else ("", "", "")
            rows.append(
                [c["rule"], c["fired"], c["applied"], cmp["expr"] if cmp else "", *counts, ranges]
            )
    header = ["rule", "fired", "applied", "comparison", "held", "false", "unknown", "values"]
    return (
        "<h2>Rule coverage</h2>"
        '<p class="sub">Book run, every day. A comparison is counted on every day its rule '
        "was evaluated; <em>values</em>: the range each compared value took on the days it "
        "had one. alvh why RUN_DIR DATE says any one day in words.</p>"
        + "<ul>"
        + "".join(f"<li>{_e(n)}</li>" for n in notes)
        + "</ul>"
        + _table(header, rows, numeric=(1, 2, 4, 5, 6))
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
    for path, source in sorted(book.program.sources.items()):
        files.append(
            f"<h3><code>{_e(path)}</code></h3>"
            f'<p class="sub">sha256 <span class="hash">{_e(info["files"][path])}</span></p>'
            f"<pre>{_e(source)}</pre>"
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
        ["rule_status.parquet", "every day's status of every rule, with why (alvh why)"],
    ]
    rows += [[f"state-{d}.json", "the state the rules saw (alvh eval --state)"] for d in states]
    if has_base:
        rows.append(["baseline/", "the same four data files for the baseline run"])
    return "<h2>Files of this run</h2>" + _table(["file", "contents"], rows)


def render_html(
    result: DryRunResult,
    doc: dict[str, Any],
    figure: str | bytes,
    baseline_book: Book | None = None,
) -> str:
    """The page, the answer first: title; the finding (paired near-expiry scenario P&L
    with its interval, and the hedge's cost) and scenario P&L by move; the figure; the
    summary figures book vs baseline; stress windows; the market responses used; late
    settlements; rules fired, actions applied, model notes and config, data provenance,
    and the text and hash of every rulebook file. ``doc`` is
    :func:`~alvh_dsl.dryrun.report.document.summary_document`'s output; ``figure`` the
    figure: an ``<svg>`` element (:func:`~alvh_dsl.dryrun.report.svg.figure_svg`), put
    in the page as it is, or PNG bytes, put in as a ``data:`` URI."""
    run = doc["run"]
    has_base = result.baseline is not None
    title = f"{run['book']['name']} — dry-run {run['history']['start']} .. {run['history']['end']}"
    if isinstance(figure, str):
        plot = figure
    else:
        image = base64.b64encode(figure).decode("ascii")
        plot = f'<img class="plot" alt="{_e(PLOT_ALT)}" src="data:image/png;base64,{image}">'
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        _header(result, doc),
        _finding(result),
        "<h2>Plots</h2>",
        plot,
        f'<p class="sub">{_e(PLOT_NOTE)}</p>',
        _figures(result),
        _stress(result),
        _responses(result),
        _late(result),
        _rules(doc, has_base),
        _coverage(doc),
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
