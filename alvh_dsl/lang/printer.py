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

import contextvars
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal

from . import ast as A

MAX_WIDTH = 100
INDENT = "  "
CONT_INDENT = "    "

# ------------------------------------------------------------------ expressions

# Binding strength: of the operators, and of the other expression classes.
_PREC = {"or": 1, "and": 2, "+": 5, "-": 5, "*": 6, "/": 6, "of": 7}
_NEG = 8
_ATOM = 9
_CLASS_PREC: dict[type[A.Node], int] = {A.Not: 3, A.Compare: 4, A.Between: 4, A.Crosses: 4}
_CLASS_PREC[A.Neg] = _NEG


def _prec(e: A.ExprNode) -> int:
    if isinstance(e, A.BinOp | A.BoolOp):
        return _PREC[e.op]
    if isinstance(e, A.Number) and e.value < 0:
        return _NEG  # `-3` prints as a negation
    return _CLASS_PREC.get(type(e), _ATOM)


def format_number(value: float) -> str:
    """Shortest decimal text for a float, never in exponent notation."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# Off while deriving an unnamed rule's ID: `0.10` and `0.1` are one rule, one ID (and IDs
# derived before numbers kept their digits stay the same).
_AS_WRITTEN: contextvars.ContextVar[bool] = contextvars.ContextVar("as_written", default=True)


def format_quantity(n: A.Number) -> str:
    """A number with its unit: its digits as written when it was written (``0.10``)."""
    v = n.value
    sign = "-" if v < 0 else ""
    written = n.text if _AS_WRITTEN.get() else None
    mag = written if written is not None and float(written) == abs(v) else format_number(abs(v))
    unit = n.unit
    if unit == "percent":
        return f"{sign}{mag}%"
    if unit == "dollars":
        return f"{sign}${mag}"
    if unit == "days":  # `1 day`, but `1.0 days` as English says it
        return f"{sign}{mag} {'day' if mag == '1' else 'days'}"
    if unit == "points":
        return f"{sign}{mag} {'point' if mag == '1' else 'points'}"
    return f"{sign}{mag}"


def format_expr(e: A.ExprNode, need: int = 0) -> str:
    """Print an expression; parenthesised if its precedence is below ``need``."""
    text = _expr(e)
    return f"({text})" if _prec(e) < need else text


def _expr(e: A.ExprNode) -> str:
    match e:
        case A.Name():
            return e.name
        case A.Number():
            return format_quantity(e)
        case A.Compare():
            return f"{format_expr(e.left, 5)} {e.op} {format_expr(e.right, 5)}"
        case A.BoolOp():
            # Operands of and/or are parenthesised when they are and/or themselves:
            # needed for nesting of the same operator, clearer for the other.
            return f" {e.op} ".join(format_expr(o, 3) for o in e.operands)
        case A.BinOp():
            if e.op == "of":
                return f"{format_expr(e.left, _NEG)} of {format_expr(e.right, _PREC['of'])}"
            p = _PREC[e.op]
            return f"{format_expr(e.left, p)} {e.op} {format_expr(e.right, p + 1)}"
        case A.Call():
            args = ", ".join(format_expr(a) for a in e.args)
            tail = f".{e.field}" if e.field else ""
            return f"{e.func}({args}){tail}"
        case A.Neg():
            inner = e.operand
            # `-(-x)` reads better than `--x`; both parse to the same AST.
            negative = isinstance(inner, A.Neg) or (isinstance(inner, A.Number) and inner.value < 0)
            return "-" + format_expr(inner, _ATOM if negative else _NEG)
        case A.Not():
            return "not " + format_expr(e.operand, 3)
        case A.Between():
            return (
                f"{format_expr(e.value, 5)} between {format_expr(e.low, 5)} "
                f"and {format_expr(e.high, 5)}"
            )
        case A.Crosses():
            return f"{format_expr(e.left, 5)} crosses {e.direction} {format_expr(e.right, 5)}"
    A.unhandled(e)


# ---------------------------------------------------------------------- actions


def _arg(e: A.ExprNode) -> str:
    """An action argument: the grammar takes a sum there."""
    return format_expr(e, 5)


def _restricted(e: A.ExprNode, *, allow_percent: bool = False, allow_number: bool = False) -> str:
    """Arguments the grammar limits to a literal or a name; anything else goes in parentheses."""
    if isinstance(e, A.Name) and e.name != "VIX":
        # `VIX` is a keyword where a count or a fraction stands (`buy VIX VIX
        # futures` does not parse): it keeps the parentheses it was written with.
        return e.name
    if isinstance(e, A.Number) and e.value >= 0:
        if allow_percent and e.unit == "percent":
            return format_quantity(e)
        if allow_number and e.unit == "bare":
            return format_quantity(e)
    return f"({format_expr(e)})"


def _month(e: A.ExprNode) -> str:
    if isinstance(e, A.Name) or (isinstance(e, A.Number) and e.unit == "bare" and e.value >= 0):
        return format_expr(e)
    raise ValueError("a month must be a whole number or a param name")


def _strike(e: A.ExprNode) -> str:
    # The grammar takes any unit number as a strike (`25d` too): the checker refuses
    # the wrong unit (E206), but an unnamed rule's ID is derived before it runs.
    if isinstance(e, A.Name) or (
        isinstance(e, A.Number) and e.value >= 0 and e.unit in ("bare", "points", "days")
    ):
        return format_expr(e)
    raise ValueError("a strike must be a number, a unit quantity or a param name")


def _expiry(ref: A.ByMonth | A.NearDays) -> str:
    if isinstance(ref, A.ByMonth):
        return f"month {_month(ref.month)}"
    return f"near {_arg(ref.days)}"


def format_action(a: A.ActionNode) -> str:
    """Print one action in its canonical form."""
    match a:
        case A.OpenCondor():
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
        case A.RollCondor():
            keep = f" keeping {a.keeping}" if a.keeping else ""
            return f"roll condor to {_expiry(a.to)}{keep}"
        case A.Close():
            target: str = a.target
            if a.month is not None:
                target += f" month {_month(a.month)}"
            if a.fraction is not None:
                return f"close {_restricted(a.fraction, allow_percent=True)} of {target}"
            return f"close {target}"
        case A.ShiftHedge():
            src = f" from month {_month(a.from_month)}" if a.from_month is not None else ""
            frac = _restricted(a.fraction, allow_percent=True)
            return f"shift {frac} hedge{src} to month {_month(a.to_month)}"
        case A.TradeFuture():
            count = ""
            plural = False
            if a.count is not None:
                count = _restricted(a.count, allow_number=True) + " "
                plural = not (isinstance(a.count, A.Number) and a.count.value == 1)
            noun = "futures" if plural else "future"
            return f"{a.side} {count}VIX {noun} month {_month(a.month)}"
        case A.BuyCallSpread():
            count = _restricted(a.count, allow_number=True) + " " if a.count is not None else ""
            text = (
                f"buy {count}VIX call spread {_strike(a.lower)}/{_strike(a.upper)} "
                f"month {_month(a.month)}"
            )
            if a.costing is not None:
                text += f" costing {_arg(a.costing)}"
            return text
        case A.Alert():
            return f"alert {quote(a.message)}"
    A.unhandled(a)


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


def _condition_parts(e: A.ExprNode) -> tuple[list[str], str]:
    if isinstance(e, A.BoolOp):
        return [format_expr(o, 3) for o in e.operands], e.op
    return [format_expr(e)], "and"


def rule_lines(rule: A.Rule, *, wrap: bool = True) -> list[Line]:
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


def _lines_of(node: A.Node) -> tuple[int, int]:
    return (node.span.line, node.span.end_line)


def format_rule(rule: A.Rule) -> str:
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


def derived_rule_id(rule: A.Rule) -> str:
    """The ID of an unnamed rule: a slug of its canonical text.

    Derived from the canonical form, so reformatting a book never changes it:
    ``when DTE < 2 shift 50% hedge to month 2`` → ``dte_lt_2_shift_50pct_hedge_to_month_2``.
    Long slugs are cut and suffixed with a hash of the full text.
    """
    token = _AS_WRITTEN.set(False)
    try:
        text = " ".join(line.text.strip() for line in rule_lines(rule, wrap=False))
    finally:
        _AS_WRITTEN.reset(token)
    slug = re.sub(r"<=|>=|==|!=|[<>+\-*/%$]", lambda m: _SLUG_WORDS[m.group(0)], text)
    slug = re.sub(r"[^A-Za-z0-9]+", "_", slug.lower()).strip("_")
    slug = slug.removeprefix("when_")
    if len(slug) > 56:
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        cut = slug[:47]
        cut = cut[: cut.rfind("_")] if "_" in cut else cut
        slug = f"{cut}_{digest}"
    return slug
