"""AST → canonical text: expressions, actions, quantities and rules, and derived rule IDs.

Every stage that shows a node to a user prints it here (the checker's
messages, ``explain``, traces, the dry-run's decision log), so a node reads
the same everywhere; :mod:`.fmt` lays whole files out from these pieces and
puts the comments back. The parser uses :func:`derived_rule_id` to name
unnamed rules.

Parentheses are added for readability (``(a and b) or c``) but never dropped
where the AST needs them (``a - (b - c)``, ``a and (b and c)``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import ast as A

MAX_WIDTH = 100
INDENT = "  "
CONT_INDENT = "    "

# ------------------------------------------------------------------ expressions

_PREC = {
    "or": 1,
    "and": 2,
    "not": 3,
    "compare": 4,
    "between": 4,
    "crosses": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "of": 7,
    "neg": 8,
}
_ATOM = 9


def _prec(e: Any) -> int:
    kind = e.kind
    if kind == "boolop":
        return _PREC[e.op]
    if kind == "binop":
        return _PREC[e.op]
    if kind in _PREC:
        return _PREC[kind]
    if kind == "number" and e.value < 0:
        return _PREC["neg"]
    return _ATOM


def format_number(value: float) -> str:
    """Shortest decimal text for a float, never in exponent notation."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_quantity(n: A.Number) -> str:
    v = n.value
    sign = "-" if v < 0 else ""
    mag = format_number(abs(v))
    unit = n.unit
    if unit == "percent":
        return f"{sign}{mag}%"
    if unit == "dollars":
        return f"{sign}${mag}"
    if unit == "days":
        return f"{sign}{mag} {'day' if abs(v) == 1 else 'days'}"
    if unit == "points":
        return f"{sign}{mag} {'point' if abs(v) == 1 else 'points'}"
    return f"{sign}{mag}"


def format_expr(e: Any, need: int = 0) -> str:
    """Print an expression; parenthesised if its precedence is below ``need``."""
    text = _expr(e)
    return f"({text})" if _prec(e) < need else text


def _expr(e: Any) -> str:
    kind = e.kind
    if kind == "number":
        return format_quantity(e)
    if kind == "name":
        return str(e.name)
    if kind == "call":
        args = ", ".join(format_expr(a) for a in e.args)
        tail = f".{e.field}" if e.field else ""
        return f"{e.func}({args}){tail}"
    if kind == "neg":
        inner = e.operand
        # `-(-x)` reads better than `--x`; both parse to the same AST.
        need = _ATOM if inner.kind == "neg" or (inner.kind == "number" and inner.value < 0) else 8
        return "-" + format_expr(inner, need)
    if kind == "not":
        return "not " + format_expr(e.operand, 3)
    if kind == "binop":
        p = _PREC[e.op]
        if e.op == "of":
            return f"{format_expr(e.left, 8)} of {format_expr(e.right, 7)}"
        return f"{format_expr(e.left, p)} {e.op} {format_expr(e.right, p + 1)}"
    if kind == "compare":
        return f"{format_expr(e.left, 5)} {e.op} {format_expr(e.right, 5)}"
    if kind == "between":
        return (
            f"{format_expr(e.value, 5)} between {format_expr(e.low, 5)} "
            f"and {format_expr(e.high, 5)}"
        )
    if kind == "crosses":
        return f"{format_expr(e.left, 5)} crosses {e.direction} {format_expr(e.right, 5)}"
    if kind == "boolop":
        # Operands of and/or are parenthesised when they are and/or themselves:
        # needed for nesting of the same operator, clearer for the other.
        return f" {e.op} ".join(format_expr(o, 3) for o in e.operands)
    raise TypeError(f"not an expression: {kind}")


# ---------------------------------------------------------------------- actions


def _arg(e: Any) -> str:
    """An action argument: the grammar takes a sum there."""
    return format_expr(e, 5)


def _restricted(e: Any, *, allow_percent: bool = False, allow_number: bool = False) -> str:
    """Arguments the grammar limits to a literal or a name; anything else goes in parentheses."""
    if e.kind == "name":
        return str(e.name)
    if e.kind == "number" and e.value >= 0:
        if allow_percent and e.unit == "percent":
            return format_quantity(e)
        if allow_number and e.unit == "bare":
            return format_quantity(e)
    return f"({format_expr(e)})"


def _month(e: Any) -> str:
    if e.kind == "name" or (e.kind == "number" and e.unit == "bare" and e.value >= 0):
        return format_expr(e)
    raise ValueError("a month must be a whole number or a param name")


def _strike(e: Any) -> str:
    if e.kind == "name" or (e.kind == "number" and e.value >= 0 and e.unit in ("bare", "points")):
        return format_expr(e)
    raise ValueError("a strike must be a number, a points quantity or a param name")


def _expiry(ref: Any) -> str:
    if ref.kind == "by_month":
        return f"month {_month(ref.month)}"
    return f"near {_arg(ref.days)}"


def format_action(a: Any) -> str:
    """Print one action in its canonical form."""
    kind = a.kind
    if kind == "open_condor":
        parts = ["open iron condor"]
        if a.expiry is not None:
            parts.append(_expiry(a.expiry))
        if a.short_delta is not None:
            parts.append(f"short delta {_arg(a.short_delta)}")
        if a.wings is not None:
            parts.append(f"wings {_arg(a.wings)}")
        if a.quantity is not None:
            parts.append(f"quantity {_arg(a.quantity)}")
        return " ".join(parts)
    if kind == "roll_condor":
        keep = f" keeping {a.keeping}" if a.keeping else ""
        return f"roll condor to {_expiry(a.to)}{keep}"
    if kind == "close":
        target = a.target
        if a.month is not None:
            target += f" month {_month(a.month)}"
        if a.fraction is not None:
            return f"close {_restricted(a.fraction, allow_percent=True)} of {target}"
        return f"close {target}"
    if kind == "shift_hedge":
        src = f" from month {_month(a.from_month)}" if a.from_month is not None else ""
        frac = _restricted(a.fraction, allow_percent=True)
        return f"shift {frac} hedge{src} to month {_month(a.to_month)}"
    if kind == "trade_future":
        count = ""
        plural = False
        if a.count is not None:
            count = _restricted(a.count, allow_number=True) + " "
            plural = not (a.count.kind == "number" and a.count.value == 1)
        noun = "futures" if plural else "future"
        return f"{a.side} {count}VIX {noun} month {_month(a.month)}"
    if kind == "buy_call_spread":
        count = _restricted(a.count, allow_number=True) + " " if a.count is not None else ""
        text = (
            f"buy {count}VIX call spread {_strike(a.lower)}/{_strike(a.upper)} "
            f"month {_month(a.month)}"
        )
        if a.costing is not None:
            text += f" costing {_arg(a.costing)}"
        return text
    if kind == "alert":
        return f"alert {quote(a.message)}"
    raise TypeError(f"not an action: {kind}")


def quote(text: str) -> str:
    """A double-quoted string literal."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    # A carriage return (from a triple-quoted string in a CRLF file) cannot
    # stand in a one-line string literal: escape it like a newline.
    body = body.replace("\r", "\\r")
    return f'"{body}"'


def long_quote(text: str) -> str:
    if "\n" not in text:
        return quote(text)
    body = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"""{body}"""'


# ------------------------------------------------------------------------ rules


@dataclass
class Line:
    """One output line of a statement, and where its comments come from.

    ``anchors`` is the source line range the output line stands for (trailing
    comments on those lines ride on it); own-line comments that sat above the
    clause go in ``before``.
    """

    text: str
    anchors: tuple[int, int] | None
    leading_from: int | None = None  # source line of the clause this output line starts
    before: list[str] = field(default_factory=list)
    commented: bool = False  # already carries a trailing comment


def _clause(keyword: str, body_parts: list[str], joiner: str, indent: str) -> list[str]:
    """``keyword part1 joiner part2 …``, broken before joiners when too long."""
    one = f"{indent}{keyword} " + f" {joiner} ".join(body_parts)
    if len(one) <= MAX_WIDTH or len(body_parts) == 1:
        return [one]
    lines = [f"{indent}{keyword} {body_parts[0]}"]
    lines.extend(
        f"{indent}{CONT_INDENT[len(INDENT) :]}{INDENT}{joiner} {p}" for p in body_parts[1:]
    )
    return lines


def _condition_parts(e: Any) -> tuple[list[str], str]:
    if e.kind == "boolop":
        return [format_expr(o, 3) for o in e.operands], e.op
    return [format_expr(e)], "and"


def rule_lines(rule: Any, *, wrap: bool = True) -> list[Line]:
    out: list[Line] = []
    actions = [format_action(a) for a in rule.actions]
    action_lines = (rule.actions[0].span.line, rule.actions[-1].span.end_line) if actions else None

    def add(texts: list[str], anchors: tuple[int, int] | None) -> None:
        # Trailing comments ride on the last output line of a clause; comments
        # above the clause go above its first output line.
        for i, t in enumerate(texts):
            out.append(
                Line(
                    t,
                    anchors if i == len(texts) - 1 else None,
                    anchors[0] if (i == 0 and anchors) else None,
                )
            )

    def clause(keyword: str, parts: list[str], joiner: str, indent: str) -> list[str]:
        if not wrap:
            return [f"{indent}{keyword} " + f" {joiner} ".join(parts)]
        return _clause(keyword, parts, joiner, indent)

    if rule.named:
        head = f"rule {rule.id}"
        if rule.title is not None:
            head += f" {quote(rule.title)}"
        if rule.priority:
            head += f" priority {rule.priority}"
        add([head], (rule.span.line, rule.id_span.end_line))
        if rule.when is not None:
            parts, op = _condition_parts(rule.when)
            add(clause("when", parts, op, INDENT), _lines_of(rule.when))
        if rule.unless is not None:
            parts, op = _condition_parts(rule.unless)
            add(clause("unless", parts, op, INDENT), _lines_of(rule.unless))
        if actions:
            add(clause("then", actions, "and", INDENT), action_lines)
    else:
        # The one-line form: `when COND ACTION and ACTION`.
        assert rule.when is not None
        parts, op = _condition_parts(rule.when)
        when_lines = clause("when", parts, op, "")
        if actions:
            tail = " " + " and ".join(actions)
            when_lines[-1] += tail
        start = rule.when.span.line
        end = max(rule.when.span.end_line, action_lines[1] if action_lines else 0)
        add(when_lines, (start, end))
        if rule.unless is not None:
            parts, op = _condition_parts(rule.unless)
            add(clause("unless", parts, op, INDENT), _lines_of(rule.unless))
    if rule.cooldown is not None:
        add([f"{INDENT}cooldown {format_expr(rule.cooldown)}"], _lines_of(rule.cooldown))
    return out


def _lines_of(node: Any) -> tuple[int, int]:
    return (node.span.line, node.span.end_line)


def format_rule(rule: Any) -> str:
    """A rule's canonical text (no comments)."""
    return "\n".join(line.text for line in rule_lines(rule))


_SLUG_WORDS = {
    "<=": " le ",
    ">=": " ge ",
    "==": " eq ",
    "!=": " ne ",
    "<": " lt ",
    ">": " gt ",
    "+": " plus ",
    "-": " minus ",
    "*": " times ",
    "/": " over ",
    "%": "pct",
    "$": " usd ",
}


def derived_rule_id(rule: Any) -> str:
    """The ID of an unnamed rule: a slug of its canonical text.

    Derived from the canonical form, so reformatting a book never changes it:
    ``when DTE < 2 shift 50% hedge to month 2`` → ``dte_lt_2_shift_50pct_hedge_to_month_2``.
    Long slugs are cut and suffixed with a hash of the full text.
    """
    text = " ".join(line.text.strip() for line in rule_lines(rule, wrap=False))
    slug = re.sub(r"<=|>=|==|!=|[<>+\-*/%$]", lambda m: _SLUG_WORDS[m.group(0)], text)
    slug = re.sub(r"[^A-Za-z0-9]+", "_", slug.lower()).strip("_")
    slug = slug.removeprefix("when_")
    if len(slug) > 56:
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        cut = slug[:47]
        cut = cut[: cut.rfind("_")] if "_" in cut else cut
        slug = f"{cut}_{digest}"
    return slug
