"""The ``alvh diff --format html`` page: one self-contained file.

Inline CSS (the run report's), no script, no image, no external URL of any kind; every
piece of text from the books, the history or the engine goes through
:func:`html.escape`. The words and numbers are those of the text report
(:mod:`alvh_dsl.dryrun.report.diff_text`); each differing day's traces sit in a
collapsed ``<details>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING, Any

from .diff_text import (
    CHANGE_WORDS,
    decision_line,
    difference_text,
    history_line,
    paired_lines,
    rests_on_text,
    trace_lines,
    verdict,
)
from .html import CSS
from .text import format_value

if TYPE_CHECKING:  # pragma: no cover
    from ..diff import DiffResult, DiffSide

__all__ = ["render_html"]

_EXTRA_CSS = """
td.old { background: #ffebe9; } td.new { background: #dafbe1; }
pre.trace { margin: .2rem 0; font-size: .8rem; }
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _side_row(label: str, side: DiffSide) -> str:
    version = f" {side.version}" if side.version else ""
    files = "<br>".join(
        f'{_e(name)} <span class="hash">{_e(sha)}</span>' for name, sha in side.files.items()
    )
    return (
        f"<tr><th>{label}</th><td><code>{_e(side.display)}</code></td>"
        f"<td>{_e(side.name)}{_e(version)}</td><td>{files}</td></tr>"
    )


def _figures(result: DiffResult) -> str:
    rows = []
    for f in result.figures:
        css = ' class="flag"' if f["old"] != f["new"] else ""
        rows.append(
            f"<tr{css}><td>{_e(f['label'])}</td>"
            f'<td class="n">{_e(format_value(f["old"], f["kind"]))}</td>'
            f'<td class="n">{_e(format_value(f["new"], f["kind"]))}</td>'
            f'<td class="n">{_e(difference_text(f["difference"], f["kind"]))}</td>'
            f"<td>{_e(rests_on_text(f))}</td></tr>"
        )
    head = "<tr><th></th><th>OLD</th><th>NEW</th><th>NEW − OLD</th><th>rests on</th></tr>"
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _rules(result: DiffResult) -> str:
    rows = "".join(
        f'<tr><td><code>{_e(r["rule"])}</code></td><td class="n">{_e(_n(r["old"]))}</td>'
        f'<td class="n">{_e(_n(r["new"]))}</td></tr>'
        for r in result.rules
    )
    head = "<tr><th>rule</th><th>days fired, OLD</th><th>NEW</th></tr>"
    return f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"


def _n(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _side_cell(side: Mapping[str, Any] | None, css: str) -> str:
    lines = []
    if side is not None:
        for key, label in (("trace", "when "), ("unless_trace", "unless ")):
            lines.extend(trace_lines(side.get(key), label))
    trace = (
        f'<details><summary>trace</summary><pre class="trace">{_e(chr(10).join(lines))}</pre>'
        "</details>"
        if lines
        else ""
    )
    return f'<td class="{css}">{_e(decision_line(side))}{trace}</td>'


def _days(result: DiffResult) -> str:
    if not result.days:
        return "<p>No day on which decisions differ.</p>"
    rows = []
    for day in result.days:
        for k, c in enumerate(day["rules"]):
            date = _e(day["date"]) if k == 0 else ""
            rows.append(
                f"<tr><td>{date}</td><td><code>{_e(c['rule'])}</code><br>"
                f"{_e(CHANGE_WORDS[c['change']])}</td>"
                f"{_side_cell(c['old'], 'old')}{_side_cell(c['new'], 'new')}</tr>"
            )
    head = "<tr><th>date</th><th>rule</th><th>OLD</th><th>NEW</th></tr>"
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def render_html(result: DiffResult) -> str:
    """The whole page, deterministic for the same inputs."""
    title = f"alvh diff: {result.old.display} → {result.new.display}"
    synthetic = (
        '<span class="badge warn">synthetic history — not market data</span>'
        if result.history["synthetic"]
        else '<span class="badge">market history</span>'
    )
    paired = "".join(f"<p>{_e(line.strip())}</p>" for line in paired_lines(result))
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">{synthetic} {_e(history_line(result))}</p>',
        f'<div class="finding">{_e(verdict(result))}</div>',
        "<table><tbody>",
        _side_row("OLD", result.old),
        _side_row("NEW", result.new),
        "</tbody></table>",
    ]
    if result.changed:
        body += [
            "<h2>P&amp;L and risk</h2>",
            _figures(result),
            paired,
            "<h2>Rules fired</h2>",
            _rules(result),
            "<h2>Days on which decisions differ</h2>",
            _days(result),
        ]
    body.append(
        "<footer>alvh diff: both books replayed over the same history and config; prices "
        "are model prices (docs/dryrun.md). Format of the JSON: docs/diff.md.</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{CSS}{_EXTRA_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
