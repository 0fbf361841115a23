"""Helpers shared by the language tests: compact s-expressions of AST nodes, parsing shortcuts.

The s-expression printer is deliberately independent of :mod:`alvh_dsl.lang.fmt`, so
grammar tables do not trust the formatter they are also used to test.

- numbers: ``2``, ``-3.5``, ``7d``, ``50pt``, ``$1500``, ``50%``
- names: as written; calls: ``(SMA VIX 20)``, ``(MACD SPX 12 26 9).signal``
- operators: ``(+ a b)``, ``(of 50% x)``, ``(> a b)``, ``(neg a)``, ``(not a)``,
  ``(and a b c)``, ``(between v lo hi)``, ``(crosses-above a b)``
- actions: ``(open :month 1 :delta 0.16 :wings 50pt)``, ``(close hedge :month 2)``, …
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from alvh_dsl.lang import ast as A
from alvh_dsl.lang.diagnostics import Diagnostic, render
from alvh_dsl.lang.parse import ParseResult, parse

_UNIT_SUFFIX = {"bare": "", "days": "d", "points": "pt", "percent": "%"}


def _num(n: Any) -> str:
    text = format(n.value, "g")
    if n.unit == "dollars":
        return f"-${text[1:]}" if text.startswith("-") else f"${text}"
    return text + _UNIT_SUFFIX[n.unit]


def _opt(key: str, value: Any) -> str:
    return "" if value is None else f" :{key} {sexp(value)}"


def sexp(node: Any) -> str:
    """A compact, fmt-independent rendering of an expression or action node."""
    k = node.kind
    if k == "number":
        return _num(node)
    if k == "name":
        return str(node.name)
    if k == "call":
        inner = " ".join([node.func, *(sexp(a) for a in node.args)])
        return f"({inner})" + (f".{node.field}" if node.field else "")
    if k in ("neg", "not"):
        return f"({k} {sexp(node.operand)})"
    if k in ("binop", "compare"):
        return f"({node.op} {sexp(node.left)} {sexp(node.right)})"
    if k == "between":
        return f"(between {sexp(node.value)} {sexp(node.low)} {sexp(node.high)})"
    if k == "crosses":
        return f"(crosses-{node.direction} {sexp(node.left)} {sexp(node.right)})"
    if k == "boolop":
        return f"({node.op} " + " ".join(sexp(o) for o in node.operands) + ")"
    # actions
    if k in ("by_month", "near_days"):
        return f":month {sexp(node.month)}" if k == "by_month" else f":near {sexp(node.days)}"
    if k == "open_condor":
        expiry = f" {sexp(node.expiry)}" if node.expiry is not None else ""
        return (
            f"(open{expiry}{_opt('delta', node.short_delta)}{_opt('wings', node.wings)}"
            f"{_opt('qty', node.quantity)})"
        )
    if k == "roll_condor":
        keep = f" :keeping {node.keeping}" if node.keeping else ""
        return f"(roll {sexp(node.to)}{keep})"
    if k == "close":
        return f"(close {node.target}{_opt('month', node.month)}{_opt('fraction', node.fraction)})"
    if k == "shift_hedge":
        return (
            f"(shift {sexp(node.fraction)}{_opt('from', node.from_month)}"
            f"{_opt('to', node.to_month)})"
        )
    if k == "trade_future":
        return f"({node.side}-future{_opt('count', node.count)}{_opt('month', node.month)})"
    if k == "buy_call_spread":
        return (
            f"(call-spread {sexp(node.lower)} {sexp(node.upper)}{_opt('month', node.month)}"
            f"{_opt('count', node.count)}{_opt('costing', node.costing)})"
        )
    if k == "alert":
        return f"(alert {json.dumps(node.message)})"
    raise TypeError(k)


def rule_summary(rule: A.Rule) -> dict[str, Any]:
    """The meaning of a rule as plain data (s-expressions for its parts)."""
    return {
        "id": rule.id,
        "named": rule.named,
        "title": rule.title,
        "priority": rule.priority,
        "when": sexp(rule.when) if rule.when is not None else None,
        "unless": sexp(rule.unless) if rule.unless is not None else None,
        "actions": [sexp(a) for a in rule.actions],
        "cooldown": sexp(rule.cooldown) if rule.cooldown is not None else None,
    }


def parse_ok(text: str, file: str = "t.alvh") -> ParseResult:
    """Parse text that must have no syntax errors (the rendered errors are the failure message)."""
    result = parse(text, file)
    assert result.ok, render(result.diagnostics, {file: text})
    return result


def rules_of(text: str) -> list[dict[str, Any]]:
    return [rule_summary(s) for s in parse_ok(text).book.statements if s.kind == "rule"]


def span_tuple(span: A.Span) -> tuple[int, int, int, int]:
    return (span.line, span.column, span.end_line, span.end_column)


def codes(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> list[str]:
    return [d.code for d in diagnostics]


def write(root: Path, files: dict[str, str]) -> None:
    """Write a tree of files (``{"sub/a.alvh": "text"}``) under ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def relpath(path: str | os.PathLike[str], start: str | os.PathLike[str]) -> str:
    return os.path.relpath(os.fspath(path), os.fspath(start))


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (and empty directories), to show that a
    refused command wrote nothing."""
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else b"<not a file>"
        for p in sorted(root.rglob("*"))
        if not p.is_dir() or not any(p.iterdir())
    }
