"""AST → canonical text: the printer behind ``alvh fmt``, ``explain`` and derived rule IDs.

The layout is canonical (one answer per book, whatever the input spacing) and
idempotent, every comment is kept, and the meaning never changes: parsing the
output gives the same AST as parsing the input, spans aside. That property is
what lets the printer add parentheses for readability (``(a and b) or c``) but
never drop ones the AST needs (``a - (b - c)``, ``a and (b and c)``).

Layout:
- statements in source order; one blank line around multi-line rules, and
  otherwise the author's blank lines (at most one) are kept;
- consecutive ``param`` (or ``define``) lines align their ``=``;
- named rules put each clause on its own line, indented two spaces, in the
  order ``when``, ``unless``, ``then``, ``cooldown``; unnamed rules keep the
  one-line form ``when COND ACTION``;
- a clause longer than :data:`MAX_WIDTH` breaks before top-level ``and``/``or``.
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


def _long_quote(text: str) -> str:
    if "\n" not in text:
        return quote(text)
    body = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"""{body}"""'


# ------------------------------------------------------------------------ rules


@dataclass
class _Line:
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


def _rule_lines(rule: Any, *, wrap: bool = True) -> list[_Line]:
    out: list[_Line] = []
    actions = [format_action(a) for a in rule.actions]
    action_lines = (rule.actions[0].span.line, rule.actions[-1].span.end_line) if actions else None

    def add(texts: list[str], anchors: tuple[int, int] | None) -> None:
        # Trailing comments ride on the last output line of a clause; comments
        # above the clause go above its first output line.
        for i, t in enumerate(texts):
            out.append(
                _Line(
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
    return "\n".join(line.text for line in _rule_lines(rule))


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
    text = " ".join(line.text.strip() for line in _rule_lines(rule, wrap=False))
    slug = re.sub(r"<=|>=|==|!=|[<>+\-*/%$]", lambda m: _SLUG_WORDS[m.group(0)], text)
    slug = re.sub(r"[^A-Za-z0-9]+", "_", slug.lower()).strip("_")
    slug = slug.removeprefix("when_")
    if len(slug) > 56:
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        cut = slug[:47]
        cut = cut[: cut.rfind("_")] if "_" in cut else cut
        slug = f"{cut}_{digest}"
    return slug


# ----------------------------------------------------------------------- files


@dataclass
class _Block:
    """A top-level statement's output lines, with the comments placed around it."""

    stmt: Any
    lines: list[_Line]
    first_source_line: int  # including its leading comments
    leading: list[str] = field(default_factory=list)
    leading_lines: list[int] = field(default_factory=list)  # source line of each

    @property
    def multiline(self) -> bool:
        return len(self.lines) > 1


def _statement_lines(stmt: Any) -> list[_Line]:
    kind = stmt.kind
    if kind == "rule":
        return _rule_lines(stmt)
    if kind == "header":
        text = f"rulebook {quote(stmt.name)}"
        if stmt.version is not None:
            text += f" version {quote(stmt.version)}"
    elif kind == "description":
        text = f"description {_long_quote(stmt.text)}"
    elif kind == "param":
        text = f"param {stmt.name} = {format_quantity(stmt.value)}"
    elif kind == "define":
        text = f"define {stmt.name} = {format_expr(stmt.expr)}"
    elif kind == "include":
        text = f"include {quote(stmt.path)}"
    else:
        raise TypeError(kind)
    return [_Line(text, (stmt.span.line, stmt.span.end_line), stmt.span.line)]


def format_book(book: A.Rulebook, comments: tuple[Any, ...] = (), source: str | None = None) -> str:
    """Canonical text of a parsed file, with its comments put back.

    ``source`` (the original text) is used only to keep the author's blank lines.
    """
    src_lines = source.split("\n") if source is not None else []
    blocks = [_Block(s, _statement_lines(s), s.span.line) for s in book.statements]
    end_comments: list[str] = []

    for c in sorted(comments, key=lambda c: (c.line, c.column)):
        block = next(
            (b for b in blocks if b.stmt.span.line <= c.line <= b.stmt.span.end_line), None
        )
        if block is not None:
            if c.trailing:
                line = _line_for(block.lines, c.line)
                if line.commented:
                    # A second comment for the same output line goes above its
                    # clause: between a line and its `and`/`or` continuation a
                    # comment line would end the clause (a syntax error).
                    _clause_start(block.lines, line).before.append(c.text)
                else:
                    line.text = f"{line.text}  {c.text}"
                    line.commented = True
            else:
                target = _first_line_after(block.lines, c.line)
                if target is None:  # above the last clause (not inside it, see _clause_start)
                    target = _clause_start(block.lines, block.lines[-1])
                target.before.append(c.text)
            continue
        following = next((b for b in blocks if b.stmt.span.line > c.line), None)
        if following is None:
            end_comments.append(c.text)
        else:
            following.leading.append(c.text)
            following.leading_lines.append(c.line)
            following.first_source_line = min(following.first_source_line, c.line)

    out: list[str] = []
    prev: _Block | None = None
    for b in blocks:
        if prev is not None and (
            prev.multiline or b.multiline or _blank_between(src_lines, prev, b)
        ):
            out.append("")
        # The author's blank lines among leading comments and before the statement
        # are kept (at most one), like those between statements.
        marks = [*b.leading_lines, b.stmt.span.line]
        for i, text in enumerate(b.leading):
            out.append(text)
            if _blank_in(src_lines, marks[i] + 1, marks[i + 1]):
                out.append("")
        for line in b.lines:
            indent = _indent_of(line.text)
            out.extend(f"{indent}{text}" for text in line.before)
            out.append(line.text)
        prev = b
    if end_comments:
        if out:
            out.append("")
        out.extend(end_comments)
    text = "\n".join(_align(out))
    return text.rstrip("\n") + "\n" if text.strip() else ""


def _line_for(lines: list[_Line], source_line: int) -> _Line:
    """The output line standing for a source line (the last one whose anchors cover it)."""
    best = None
    for line in lines:
        if line.anchors and line.anchors[0] <= source_line <= line.anchors[1]:
            best = line
    if best is None:
        best = next((ln for ln in reversed(lines) if ln.anchors), lines[-1])
    return best


def _clause_start(lines: list[_Line], line: _Line) -> _Line:
    """The first output line of the clause ``line`` belongs to (it may be a continuation)."""
    i = next(k for k, ln in enumerate(lines) if ln is line)
    while i > 0 and lines[i].text.lstrip().startswith(("and ", "or ")):
        i -= 1
    return lines[i]


def _first_line_after(lines: list[_Line], source_line: int) -> _Line | None:
    later = [ln for ln in lines if ln.leading_from is not None and ln.leading_from > source_line]
    return min(later, key=lambda ln: ln.leading_from or 0) if later else None


def _indent_of(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def _blank_in(src: list[str], start: int, end: int) -> bool:
    """Is one of the source lines ``start`` … ``end - 1`` (1-based) blank?"""
    return any(not src[i - 1].strip() for i in range(start, end) if 0 < i <= len(src))


def _blank_between(src: list[str], a: _Block, b: _Block) -> bool:
    """Did the author leave a blank line between two statements (or their comments)?"""
    return any(
        not src[i - 1].strip()
        for i in range(a.stmt.span.end_line + 1, b.first_source_line)
        if 0 < i <= len(src)
    )


_ASSIGN = re.compile(r"^(param|define) (\S+) = ")


def _align(lines: list[str]) -> list[str]:
    """Align the ``=`` of consecutive param lines (and, separately, define lines)."""
    out = list(lines)
    i = 0
    while i < len(out):
        m = _ASSIGN.match(out[i])
        if not m:
            i += 1
            continue
        j = i
        names: list[str] = []
        while j < len(out):
            mj = _ASSIGN.match(out[j])
            if mj is None or mj.group(1) != m.group(1):
                break
            names.append(mj.group(2))
            j += 1
        width = max(len(n) for n in names)
        for k in range(i, j):
            mk = _ASSIGN.match(out[k])
            assert mk is not None
            out[k] = f"{mk.group(1)} {mk.group(2).ljust(width)} = {out[k][mk.end() :]}"
        i = j
    return out


def format_source(text: str, file: str = "<string>") -> str:
    """Format rulebook text canonically.

    Raises :class:`~alvh_dsl.lang.diagnostics.RulebookError` when the text has
    syntax errors: a formatter must never guess at broken code.
    """
    from .diagnostics import RulebookError
    from .parse import parse

    result = parse(text, file)
    if not result.ok:
        raise RulebookError([d for d in result.diagnostics if d.is_error], {file: text})
    return format_book(result.book, result.comments, text)
