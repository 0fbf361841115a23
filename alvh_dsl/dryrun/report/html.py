"""``report.html``, one self-contained page per dry-run.

The page has inline CSS, the figure as a ``data:image/png;base64`` URI, no script and
no external URL of any kind, so it opens the same offline, from a mail attachment or an
archive.
Every piece of text from the book, the history or the engine goes through
:func:`html.escape`. Nothing in the page depends on the time or the output path, so it is
byte-identical across runs with the same inputs.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from .document import applied_actions
from .text import gamma_finding, summary_rows

if TYPE_CHECKING:  # pragma: no cover
    from ...lang.evaluate import Book
    from ..result import DryRunResult

__all__ = ["render_html"]

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
    :func:`~alvh_dsl.dryrun.report.document.summary_document`'s output, ``png`` the figure."""
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
