"""The terminal report of ``alvh diff``: counts, figures, and each differing day's rules.

Pure functions of a :class:`~alvh_dsl.dryrun.diff.DiffResult`'s plain data, shared with
the HTML page (:mod:`alvh_dsl.dryrun.report.diff_html`): the words and numbers are the
same in both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...lang.explain import format_value as format_trace_value
from .text import format_move, format_reduction, format_value

if TYPE_CHECKING:  # pragma: no cover
    from ..diff import DiffResult

__all__ = [
    "CHANGE_WORDS",
    "day_lines",
    "decision_line",
    "difference_text",
    "history_line",
    "paired_lines",
    "render_text",
    "rests_on_text",
    "trace_lines",
    "verdict",
]

CHANGE_WORDS = {
    "only_old": "only in OLD",
    "only_new": "only in NEW",
    "changed": "fired on both, other actions",
}

_STATUS_WORDS = {
    "fired": "fired",
    "not_met": "not met",
    "unknown": "unknown",
    "blocked": "blocked by `unless`",
    "cooling_down": "cooling down",
    "absent": "no such rule in this book",
}


def difference_text(value: Any, kind: str) -> str:
    """NEW − OLD with its sign: ``+$655.00``, ``-3``, ``0``; empty when undefined."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    text = format_value(abs(value), kind)
    return ("+" if value > 0 else "-") + text


def rests_on_text(figure: Mapping[str, Any]) -> str:
    """``504 days`` or ``31 / 29 near-expiry days`` (OLD / NEW)."""
    days = figure["days"]
    what = "near-expiry days" if figure["rests_on"] == "near_expiry" else "days"
    if days["old"] == days["new"]:
        return f"{days['new']:,} {what}"
    return f"{days['old']:,} / {days['new']:,} {what}"


def history_line(result: DiffResult) -> str:
    h = result.history
    kind = "synthetic history" if h["synthetic"] else "history"
    files = ", ".join(s["path"] for s in h["sources"]) or "built-in"
    return f"{kind} ({files}), {h['start']} .. {h['end']}, {h['days']:,} trading days"


def verdict(result: DiffResult) -> str:
    """One sentence: no difference, or on how many days decisions differ."""
    c = result.counts
    if not result.changed:
        return (
            f"No difference: the two books make the same decisions on every one of "
            f"{c['days']:,} days, and every figure is the same."
        )
    if not result.days:
        return f"Decisions are the same on all {c['days']:,} days, but figures differ."
    return (
        f"Decisions differ on {c['days_differing']:,} of {c['days']:,} days "
        f"(first {c['first_difference']}, last {c['last_difference']}): "
        f"{c['decisions_only_old']:,} decision(s) only in OLD, "
        f"{c['decisions_only_new']:,} only in NEW, {c['decisions_changed']:,} with other actions."
    )


def paired_lines(result: DiffResult) -> list[str]:
    """NEW against OLD on NEW's near-expiry days, in words."""
    p = result.paired
    if not p["days"]:
        return ["Paired by date: NEW has no near-expiry day, so nothing to pair."]
    caveat = "" if p["meaningful"] else " (under 30 days: not meaningful)"
    out = [
        f"Paired by date, on NEW's {p['days']:,} near-expiry days ({p['clusters']:,} expiry "
        f"cycles), OLD on the same days{caveat}:"
    ]
    head = p["headline"]
    if head is not None:
        out.append(
            f"  expected loss under a {format_move(p['headline_move'])} SPX move: NEW "
            f"{format_value(head['new']['mean_loss'], 'money')}, OLD "
            f"{format_value(head['old']['mean_loss'], 'money')}; reduction "
            f"{format_reduction(head['reduction']['mean_loss'])}"
        )
    g = p["short_eff_gamma"]
    out.append(
        f"  mean short effective gamma: NEW {format_value(g['new_mean'], 'gamma')}, OLD "
        f"{format_value(g['old_mean'], 'gamma')} $/pt²; "
        f"reduction {format_reduction(g['reduction'])}"
    )
    return out


def _action_text(action: Mapping[str, Any]) -> str:
    status = action.get("status", "apply")
    if status == "apply":
        return str(action["text"])
    if status == "superseded":
        return f"{action['text']} (superseded by `{action.get('superseded_by')}`)"
    if status == "unresolved":
        return f"{action['text']} (not resolved: {action.get('reason')})"
    return f"{action['text']} ({status})"


def decision_line(side: Mapping[str, Any] | None) -> str:
    """``fired: roll condor to month 2 keeping delta`` or ``not met: the condition is
    false (only `x` failed)``."""
    if side is None:
        return "no record"
    status = side.get("status", "absent")
    words = _STATUS_WORDS.get(status, status)
    if status == "fired":
        return f"{words}: " + "; ".join(_action_text(a) for a in side.get("actions", ()))
    reason = side.get("reason")
    if side.get("near_miss"):
        reason = f"{reason}; only `{side['near_miss']}` failed"
    return f"{words}: {reason}" if reason else words


def _is_literal(node: Mapping[str, Any]) -> bool:
    text = str(node.get("expr", ""))
    return (
        not node.get("children")
        and (text[:1].isdigit() or text[:1] in "-$")
        and "unknown" not in node
    )


def trace_lines(node: Mapping[str, Any] | None, label: str = "when ") -> list[str]:
    """A trace (``TraceNode.to_dict``) as indented lines: each sub-expression and its
    value (literals left out)."""
    out: list[str] = []
    if node is not None:
        _walk(node, "", label, out)
    return out


def _walk(node: Mapping[str, Any], indent: str, label: str, out: list[str]) -> None:
    if "unknown" in node:
        value = f"unknown — {node['unknown']}"
    else:
        value = format_trace_value(node.get("value"), node.get("unit", "bare"))
    out.append(f"{indent}{label}{node.get('expr')}  →  {value}")
    for child in node.get("children", ()):
        if not _is_literal(child):
            _walk(child, indent + " " * (len(label) + 2), "", out)


def _side_lines(name: str, side: Mapping[str, Any] | None) -> list[str]:
    out = [f"    {name}  {decision_line(side)}"]
    if side is not None:
        for key, label in (("trace", "when "), ("unless_trace", "unless ")):
            out.extend("         " + line for line in trace_lines(side.get(key), label))
    return out


def day_lines(day: Mapping[str, Any]) -> list[str]:
    out = [str(day["date"])]
    for c in day["rules"]:
        out.append(f"  {c['rule']}  {CHANGE_WORDS[c['change']]}")
        out.extend(_side_lines("OLD", c["old"]))
        out.extend(_side_lines("NEW", c["new"]))
    return out


def _table(rows: Sequence[Sequence[str]], numeric: Sequence[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [
            c.rjust(widths[i]) if i in numeric else c.ljust(widths[i]) for i, c in enumerate(row)
        ]
        out.append("  ".join(cells).rstrip())
    return out


def render_text(result: DiffResult, *, limit: int | None = 50) -> str:
    """The whole terminal report; at most ``limit`` differing days (None: all)."""
    old, new = result.old, result.new
    out = [
        f"OLD  {old.display}  ({old.name}{' ' + old.version if old.version else ''})",
        f"NEW  {new.display}  ({new.name}{' ' + new.version if new.version else ''})",
        f"on   {history_line(result)}",
        "",
        verdict(result),
    ]
    if not result.changed:
        return "\n".join(out) + "\n"
    out.append("")
    rows = [["", "OLD", "NEW", "NEW − OLD", "rests on"]]
    for f in result.figures:
        rows.append(
            [f["label"], format_value(f["old"], f["kind"]), format_value(f["new"], f["kind"]),
             difference_text(f["difference"], f["kind"]), rests_on_text(f)]
        )  # fmt: skip
    out.extend(_table(rows, (1, 2, 3)))
    out.append("")
    out.extend(paired_lines(result))
    out.append("")
    rules = [["Days fired", "OLD", "NEW"]]
    for r in result.rules:
        rules.append([r["rule"], _count(r["old"]), _count(r["new"])])
    out.extend(_table(rules, (1, 2)))
    if result.days:
        out += ["", "Days on which decisions differ:"]
        shown = result.days if limit is None else result.days[:limit]
        for day in shown:
            out.append("")
            out.extend(day_lines(day))
        if len(shown) < len(result.days):
            out += ["", f"… and {len(result.days) - len(shown):,} more day(s) (--format json "
                    "or --format html lists every one)"]  # fmt: skip
    return "\n".join(out) + "\n"


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"
