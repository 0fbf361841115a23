"""Grammar rules → AST nodes: the inline transformer the LALR parser calls.

:class:`Builder` has one method per grammar rule of ``grammar/alvh.lark``; the
parser calls it as it reduces the rule, so no parse tree is ever built. Spans
come from token positions (:func:`span_of`), so every node knows where it came
from. Lines come out as statements (header, param, …) or as intermediate
``RuleHead`` / ``ClauseLine`` items that :mod:`alvh_dsl.lang.parse` groups into rules.

Per-parse state (file name, diagnostics, comments) lives in a context
variable: the parser and its transformer are built once and shared.

This module does not import lark: the fast parser (:mod:`alvh_dsl.lang.fastparse`)
shares its line items, and ``alvh check`` of books it reads whole never loads Lark
(issue 11). Lark calls the builder's methods by rule name, so :class:`Builder` needs no
``lark.Transformer`` base; a token is told from a node by being a ``str`` (Lark's
``Token`` is one, and no rule's value is a plain string).
"""

from __future__ import annotations

import contextvars
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar

from . import ast as A
from .construct import construct
from .diagnostics import Diagnostic, error

if TYPE_CHECKING:  # pragma: no cover
    from lark import Token

MAX_NUMBER = 1e15
MAX_STRING_BYTES = 64 * 1024
"""Longest string literal, quotes included, in characters (E011): titles, descriptions,
alert messages and include paths are short, and a bound keeps one literal's cost small."""

N = TypeVar("N", bound=A.Node)


def _is_token(item: object) -> TypeGuard[Token]:
    # Lark's Token is a str, and no rule's value is a plain one (module docstring).
    return isinstance(item, str)


# The parser (and its transformer) is shared; per-parse state lives here.
@dataclass
class ParseContext:
    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    line_starts: list[int] = field(default_factory=list)
    open_parens: list[Token] = field(default_factory=list)
    depth: dict[int, int] = field(default_factory=dict)
    # The last two tokens handed to the parser (for "the line ends too early" errors).
    recent: list[Token] = field(default_factory=list)


CTX: contextvars.ContextVar[ParseContext] = contextvars.ContextVar("alvh_parse_ctx")


@dataclass(frozen=True)
class Comment:
    """A ``#`` comment: where it is and whether code precedes it on its line."""

    line: int
    column: int
    text: str
    trailing: bool


def on_comment(tok: Token) -> Token:
    ctx = CTX.get()
    ctx.comments.append(Comment(tok.line or 0, tok.column or 0, str(tok).rstrip(), False))
    return tok


# ------------------------------------------------------------------- spans


def span_of(first: Token | A.Node | A.Span, last: Token | A.Node | A.Span | None = None) -> A.Span:
    """The span from the start of ``first`` to the end of ``last`` (tokens or nodes)."""
    file = CTX.get().file
    last = first if last is None else last
    if isinstance(first, str):  # a Token
        line, col = first.line, first.column
    else:
        start = first if isinstance(first, A.Span) else first.span
        line, col = start.line, start.column
    if isinstance(last, str):  # a Token
        end_line, end_col = last.end_line, last.end_column
    else:
        end = last if isinstance(last, A.Span) else last.span
        end_line, end_col = end.end_line, end.end_column
    # A token's positions are typed optional; the lexer always sets them.
    return A.Span(file, line, col, end_line, end_col)  # type: ignore[arg-type]


# ---------------------------------------------------- intermediate line items


@dataclass
class Clause:
    """One clause of a rule; ``expr`` is its condition or cooldown, if it has one."""

    kind: str  # when | then | unless | cooldown
    span: A.Span
    expr: A.ExprNode | None = None
    actions: tuple[A.ActionNode, ...] = ()


@dataclass
class RuleHead:
    """A ``rule ID ["title"] [priority N]`` line, with any clauses on the same line."""

    id: str
    id_span: A.Span
    title: str | None
    priority: int
    span: A.Span
    clauses: list[Clause]


@dataclass
class ClauseLine:
    """A line of clauses (``when …``, ``then …``) that belongs to the rule above it."""

    clauses: list[Clause]


@dataclass
class ErrorLine:
    """A line that did not parse, by its first word (so grouping knows what it was)."""

    line: int
    first_word: str


LineItem = A.StatementNode | RuleHead | ClauseLine | ErrorLine
"""What the parser turns a line into; :mod:`.parse` groups them into statements."""


_UNIT_RE = re.compile(r"(\d+(?:\.\d+)?)[ \t]*([A-Za-z]+)")
UNIT_OF = {  # the unit words of a number, as written → as the AST names them
    "days": "days",
    "day": "days",
    "d": "days",
    "points": "points",
    "point": "points",
    "pts": "points",
    "pt": "points",
}
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


def string_value(tok: Token) -> str:
    raw = str(tok)
    if len(raw) > MAX_STRING_BYTES:
        CTX.get().diagnostics.append(
            error(
                "E011",
                f"string literal of {len(raw)} characters is longer than "
                f"{MAX_STRING_BYTES // 1024} KiB",
                span_of(tok),
                help="titles, descriptions and alert messages must be shorter; "
                "put long text in a comment",
            )
        )
        return ""
    body = raw[3:-3] if raw.startswith('"""') else raw[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), body, flags=re.S)


def number(tok: Token) -> A.Number:
    text = str(tok)
    kind = tok.type
    if kind == "PERCENT":
        digits, unit = text[:-1], "percent"
    elif kind == "DOLLARS":
        digits, unit = text[1:], "dollars"
    elif kind == "UNIT_NUMBER":
        m = _UNIT_RE.match(text)
        assert m is not None
        digits, unit = m.group(1), UNIT_OF[m.group(2)]
    else:
        digits, unit = text, "bare"
    value = float(digits)
    # Kept as written for `alvh fmt` (`0.10` stays `0.10`), less redundant leading zeros.
    written: str | None = digits.lstrip("0")
    if not written or written.startswith("."):
        written = "0" + (written or "")
    if value > MAX_NUMBER:
        ctx = CTX.get()
        ctx.diagnostics.append(
            error(
                "E009",
                f"number `{text}` is too large",
                span_of(tok),
                help="numbers must be below 1e15",
            )
        )
        value, written = 0.0, None
    node = construct(A.Number, span=span_of(tok), value=value, unit=unit, text=written)
    return node


# ---------------------------------------------------------------- the builder


class Builder:
    """Grammar rule → AST node, called by the LALR parser as each rule is reduced
    (Lark's inline transformer: it looks the methods up by rule name)."""

    # -- helpers
    @staticmethod
    def _track(node: N, *kids: A.Node) -> N:
        """Record expression depth; deep expressions are refused at statement level."""
        depth = CTX.get().depth
        d = 1
        for k in kids:
            kd = depth.get(id(k), 1)
            if kd >= d:
                d = kd + 1
        depth[id(node)] = d
        return node

    # -- file and lines
    def start(self, items: list[LineItem]) -> list[LineItem]:
        return items

    def header(self, c: list[Any]) -> A.Header:
        version = string_value(c[3]) if len(c) > 3 else None
        return construct(
            A.Header, span=span_of(c[0], c[-1]), name=string_value(c[1]), version=version
        )

    def description(self, c: list[Any]) -> A.Description:
        return construct(A.Description, span=span_of(c[0], c[-1]), text=string_value(c[1]))

    def param(self, c: list[Any]) -> A.Param:
        return construct(
            A.Param, span=span_of(c[0], c[-1]), name=str(c[1]), name_span=span_of(c[1]), value=c[3]
        )

    def define(self, c: list[Any]) -> A.Define:
        return construct(
            A.Define, span=span_of(c[0], c[-1]), name=str(c[1]), name_span=span_of(c[1]), expr=c[3]
        )

    def include(self, c: list[Any]) -> A.Include:
        return construct(
            A.Include, span=span_of(c[0], c[-1]), path=string_value(c[1]), path_span=span_of(c[1])
        )

    def rule_head(self, c: list[Any]) -> RuleHead | ErrorLine:
        title = None
        priority = 0
        clauses: list[Clause] = []
        for item in c[2:]:
            if _is_token(item):
                title = string_value(item)
            elif isinstance(item, tuple):
                priority = item[0]
            elif isinstance(item, Clause):
                clauses.append(item)
            elif isinstance(item, ErrorLine):
                return item
        return RuleHead(str(c[1]), span_of(c[1]), title, priority, span_of(c[0], c[1]), clauses)

    def priority(self, c: list[Any]) -> tuple[int, A.Span]:
        tok = c[-1]
        number = float(tok)
        # The size first: `int()` of an overlong literal (float infinity) raises.
        if number > MAX_NUMBER or number != int(number):
            # Refused rather than silently truncated (`priority 1.5` ran as 1).
            CTX.get().diagnostics.append(
                error(
                    "E009",
                    f"priority `{tok}` is not a whole number below 1e15",
                    span_of(tok),
                    help="priorities are whole numbers, e.g. `priority 10` or `priority -1`",
                )
            )
            number = 0.0
        value = int(number)
        if len(c) == 3:
            value = -value
        return (value, span_of(c[0], c[-1]))

    def clause_line(self, c: list[Any]) -> ClauseLine | ErrorLine:
        for item in c:
            if isinstance(item, ErrorLine):
                return item
        return ClauseLine(list(c))

    def when_clause(self, c: list[Any]) -> Clause:
        actions = c[2] if len(c) > 2 else ()
        return Clause("when", span_of(c[0], c[-1] if not actions else actions[-1]), c[1], actions)

    def then_clause(self, c: list[Any]) -> Clause:
        return Clause("then", span_of(c[0], c[1][-1]), None, c[1])

    def unless_clause(self, c: list[Any]) -> Clause:
        return Clause("unless", span_of(c[0], c[1]), c[1])

    def cooldown_clause(self, c: list[Any]) -> Clause:
        tok = c[1]
        value = (
            construct(A.Name, span=span_of(tok), name=str(tok))
            if tok.type == "NAME"
            else number(tok)
        )
        return Clause("cooldown", span_of(c[0], tok), value)

    # -- expressions
    def _boolop(self, c: list[Any], op: str) -> A.BoolOp:
        operands = tuple(x for x in c if not _is_token(x))
        node = construct(A.BoolOp, span=span_of(c[0], c[-1]), op=op, operands=operands)
        return self._track(node, *operands)

    def or_test(self, c: list[Any]) -> A.BoolOp:
        return self._boolop(c, "or")

    def and_test(self, c: list[Any]) -> A.BoolOp:
        return self._boolop(c, "and")

    def not_(self, c: list[Any]) -> A.Not:
        return self._track(construct(A.Not, span=span_of(c[0], c[1]), operand=c[1]), c[1])

    def compare(self, c: list[Any]) -> A.Compare:
        node = construct(A.Compare, span=span_of(c[0], c[2]), op=str(c[1]), left=c[0], right=c[2])
        return self._track(node, c[0], c[2])

    def between(self, c: list[Any]) -> A.Between:
        node = construct(A.Between, span=span_of(c[0], c[4]), value=c[0], low=c[2], high=c[4])
        return self._track(node, c[0], c[2], c[4])

    def crosses(self, c: list[Any]) -> A.Crosses:
        node = construct(
            A.Crosses, span=span_of(c[0], c[3]), direction=str(c[2]), left=c[0], right=c[3]
        )
        return self._track(node, c[0], c[3])

    def _chain(self, c: list[Any]) -> A.ExprNode:
        left: A.ExprNode = c[0]
        for i in range(1, len(c), 2):
            right = c[i + 1]
            node = construct(
                A.BinOp, span=span_of(left, right), op=str(c[i]), left=left, right=right
            )
            left = self._track(node, left, right)
        return left

    sum = _chain
    product = _chain

    def of(self, c: list[Any]) -> A.BinOp:
        node = construct(A.BinOp, span=span_of(c[0], c[2]), op="of", left=c[0], right=c[2])
        return self._track(node, c[0], c[2])

    def neg(self, c: list[Any]) -> A.Number | A.Neg:
        operand = c[1]
        if isinstance(operand, A.Number):
            # `-3.5` is a literal, not an operation: fold so `-3.5` and `- 3.5` agree.
            return construct(
                A.Number,
                span=span_of(c[0], operand),
                value=-operand.value,
                unit=operand.unit,
                text=operand.text,
            )
        return self._track(construct(A.Neg, span=span_of(c[0], operand), operand=operand), operand)

    def name(self, c: list[Any]) -> A.Name:
        return construct(A.Name, span=span_of(c[0]), name=str(c[0]))

    def paren(self, c: list[Any]) -> A.ExprNode:
        inner: A.ExprNode = c[1]
        # Parentheses leave no node, but they count towards the depth limit:
        # 10,000 of them around one name passed it (issue 10).
        depth = CTX.get().depth
        depth[id(inner)] = depth.get(id(inner), 1) + 1
        return inner

    def literal(self, c: list[Any]) -> A.Number:
        return number(c[0])

    def signed_literal(self, c: list[Any]) -> A.Number:
        num: A.Number = c[-1]
        if len(c) == 2:
            return construct(
                A.Number, span=span_of(c[0], num), value=-num.value, unit=num.unit, text=num.text
            )
        return num

    def call(self, c: list[Any]) -> A.Call:
        args: list[A.ExprNode] = []
        field_name = None
        i = 2
        while i < len(c):
            item = c[i]
            if _is_token(item):
                if item.type == "DOT":
                    field_name = str(c[i + 1])
                    break
            else:
                args.append(item)
            i += 1
        node = construct(
            A.Call, span=span_of(c[0], c[-1]), func=str(c[0]), args=tuple(args), field=field_name
        )
        return self._track(node, *args)

    # -- actions
    def action_list(self, c: list[Any]) -> tuple[A.ActionNode, ...]:
        return tuple(x for x in c if not _is_token(x))

    def expiry_ref(self, c: list[Any]) -> A.ByMonth | A.NearDays:
        if c[0].type == "MONTH":
            return construct(A.ByMonth, span=span_of(c[0], c[1]), month=c[1])
        return construct(A.NearDays, span=span_of(c[0], c[1]), days=c[1])

    def short_delta(self, c: list[Any]) -> tuple[str, A.ExprNode, A.Span]:
        return ("short_delta", c[2], span_of(c[0], c[2]))

    def wings(self, c: list[Any]) -> tuple[str, A.ExprNode, A.Span]:
        return ("wings", c[1], span_of(c[0], c[1]))

    def quantity(self, c: list[Any]) -> tuple[str, A.ExprNode, A.Span]:
        return ("quantity", c[1], span_of(c[0], c[1]))

    def open_action(self, c: list[Any]) -> A.OpenCondor:
        fields: dict[str, A.ExprNode | A.ByMonth | A.NearDays] = {}
        ctx = CTX.get()
        for item in c[3:]:
            if isinstance(item, tuple):
                key, value, span = item
            else:
                key, value, span = "expiry", item, item.span
            if key in fields:
                ctx.diagnostics.append(
                    error(
                        "E306",
                        f"`{_OPTION_WORDS[key]}` is given twice in `open iron condor`",
                        span,
                        help="keep one",
                    )
                )
                continue
            fields[key] = value
        last = c[-1]
        end = last[2] if isinstance(last, tuple) else last
        return construct(A.OpenCondor, span=span_of(c[0], end), **fields)

    def roll_action(self, c: list[Any]) -> A.RollCondor:
        keeping = c[4] if len(c) > 4 else None
        end = c[-1]
        if isinstance(end, tuple):
            end = end[1]
        return construct(
            A.RollCondor, span=span_of(c[0], end), to=c[3], keeping=keeping and keeping[0]
        )

    def keeping(self, c: list[Any]) -> tuple[str, Token]:
        return (str(c[1]), c[1])

    def close_action(self, c: list[Any]) -> A.Close:
        target = c[-1]
        fraction = c[1] if len(c) == 4 else None
        return construct(
            A.Close,
            span=span_of(c[0], target[2]),
            target=target[0],
            month=target[1],
            fraction=fraction,
        )

    def close_target(self, c: list[Any]) -> tuple[str, A.ExprNode | None, Token]:
        month = c[2] if len(c) == 3 else None
        return (str(c[0]), month, c[-1])

    def fraction(self, c: list[Any]) -> A.ExprNode:
        if len(c) == 3:
            inner: A.ExprNode = c[1]  # `(expr)`
            return inner
        return self._leaf(c[0])

    def _leaf(self, tok: Token) -> A.Name | A.Number:
        if tok.type == "NAME":
            return construct(A.Name, span=span_of(tok), name=str(tok))
        return number(tok)

    def count(self, c: list[Any]) -> A.ExprNode:
        return c[1] if len(c) == 3 else self._leaf(c[0])

    def strike(self, c: list[Any]) -> A.Name | A.Number:
        return self._leaf(c[0])

    def month_ref(self, c: list[Any]) -> A.Name | A.Number:
        return self._leaf(c[0])

    def shift_action(self, c: list[Any]) -> A.ShiftHedge:
        fraction = c[1]
        rest = [x for x in c[2:] if not (_is_token(x) and x.type == "OF")]
        # rest: HEDGE [FROM MONTH m] TO MONTH m
        from_month = rest[3] if rest[1].type == "FROM" else None
        return construct(
            A.ShiftHedge,
            span=span_of(c[0], c[-1]),
            fraction=fraction,
            from_month=from_month,
            to_month=c[-1],
        )

    def future_action(self, c: list[Any]) -> A.TradeFuture:
        count = c[1] if not _is_token(c[1]) else None
        return construct(
            A.TradeFuture, span=span_of(c[0], c[-1]), side=str(c[0]), count=count, month=c[-1]
        )

    def spread_action(self, c: list[Any]) -> A.BuyCallSpread:
        count = c[1] if not _is_token(c[1]) else None
        nodes = [x for x in c[1:] if not _is_token(x)]
        if count is not None:
            nodes = nodes[1:]
        lower, upper, month = nodes[0], nodes[1], nodes[2]
        costing = nodes[3] if len(nodes) > 3 else None
        return construct(
            A.BuyCallSpread,
            span=span_of(c[0], c[-1]),
            count=count,
            lower=lower,
            upper=upper,
            month=month,
            costing=costing,
        )

    def alert_action(self, c: list[Any]) -> A.Alert:
        return construct(A.Alert, span=span_of(c[0], c[1]), message=string_value(c[1]))


_OPTION_WORDS = {
    "expiry": "month / near",
    "short_delta": "short delta",
    "wings": "wings",
    "quantity": "quantity",
}
