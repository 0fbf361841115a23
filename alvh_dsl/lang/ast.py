"""The typed AST of a rulebook: immutable pydantic v2 models.

Every node carries a :class:`Span` (file, 1-based line and column, end line and
end column, end exclusive). Node families are discriminated unions on the
``kind`` field: :data:`Expr`, :data:`Action`, :data:`Statement`.

Nothing downstream of :mod:`alvh_dsl.lang.parse` ever sees a Lark tree.

The parser builds nodes with :func:`new` (no validation: the grammar already
guarantees the shapes, and validating 100k nodes of a large book would cost
more than parsing it). Schemas are built lazily (``defer_build``) the first time
something is validated, e.g. ``Rulebook.model_validate_json(...)``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True, extra="forbid")


class Span(_Frozen):
    """A region of a source file. Lines and columns are 1-based; the end is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def cover(self, other: Span) -> Span:
        """The smallest span containing both (same file assumed)."""
        start = min((self.line, self.column), (other.line, other.column))
        end = max((self.end_line, self.end_column), (other.end_line, other.end_column))
        return new(
            Span, file=self.file, line=start[0], column=start[1], end_line=end[0], end_column=end[1]
        )


class Node(_Frozen):
    """Base of every AST node."""

    span: Span


Unit = Literal["bare", "days", "points", "dollars", "percent"]
"""Units a literal can be written in. ``bare`` is a plain number with no unit."""

# ------------------------------------------------------------------ expressions


class Number(Node):
    """A numeric literal. ``50%`` is stored as ``value=50, unit="percent"``:
    the written magnitude, so formatting never shows float noise; its
    numeric value is ``value / 100``."""

    kind: Literal["number"] = "number"
    value: float
    unit: Unit = "bare"


class Name(Node):
    """A dotted name (`VIX`, `condor.DTE`, `hedge.M1.notional`) or a param or define."""

    kind: Literal["name"] = "name"
    name: str


class Call(Node):
    """A function or indicator call: ``SMA(SPX, 20)``, ``MACD(SPX, 12, 26, 9).signal``."""

    kind: Literal["call"] = "call"
    func: str
    args: tuple[Expr, ...] = ()
    field: str | None = None


class Neg(Node):
    kind: Literal["neg"] = "neg"
    operand: Expr


class Not(Node):
    kind: Literal["not"] = "not"
    operand: Expr


ArithOp = Literal["+", "-", "*", "/", "of"]


class BinOp(Node):
    """Arithmetic. ``P of X`` multiplies a ratio by a quantity (``50% of condor.credit``)."""

    kind: Literal["binop"] = "binop"
    op: ArithOp
    left: Expr
    right: Expr


CompareOp = Literal["<", "<=", ">", ">=", "==", "!="]


class Compare(Node):
    kind: Literal["compare"] = "compare"
    op: CompareOp
    left: Expr
    right: Expr


class Between(Node):
    """``value between low and high`` (inclusive)."""

    kind: Literal["between"] = "between"
    value: Expr
    low: Expr
    high: Expr


class Crosses(Node):
    """`left crosses above|below right`: true where the relation flips since last time."""

    kind: Literal["crosses"] = "crosses"
    direction: Literal["above", "below"]
    left: Expr
    right: Expr


class BoolOp(Node):
    """A flattened ``and`` / ``or`` chain (Kleene three-valued logic)."""

    kind: Literal["boolop"] = "boolop"
    op: Literal["and", "or"]
    operands: tuple[Expr, ...]


Expr = Annotated[
    Number | Name | Call | Neg | Not | BinOp | Compare | Between | Crosses | BoolOp,
    Field(discriminator="kind"),
]

# ---------------------------------------------------------------------- actions


class ByMonth(Node):
    """An expiry chosen by index: ``month 2`` (month 1 = nearest unexpired)."""

    kind: Literal["by_month"] = "by_month"
    month: Expr


class NearDays(Node):
    """An expiry chosen as the monthly whose DTE is nearest a target: ``near 45 days``."""

    kind: Literal["near_days"] = "near_days"
    days: Expr


ExpiryRef = Annotated[ByMonth | NearDays, Field(discriminator="kind")]


class OpenCondor(Node):
    """``open iron condor (month N | near D days) short delta D wings W [quantity Q]``.

    Options may be written in any order; missing required ones are ``None``
    here and reported by the checker.
    """

    kind: Literal["open_condor"] = "open_condor"
    expiry: ExpiryRef | None = None
    short_delta: Expr | None = None
    wings: Expr | None = None
    quantity: Expr | None = None


class RollCondor(Node):
    """``roll condor to month N [keeping delta|width|strikes]``."""

    kind: Literal["roll_condor"] = "roll_condor"
    to: ExpiryRef
    keeping: Literal["delta", "width", "strikes"] | None = None


class Close(Node):
    """``close condor``, ``close hedge [month N]``, ``close P% of hedge month N``, ``close all``."""

    kind: Literal["close"] = "close"
    target: Literal["condor", "hedge", "all"]
    month: Expr | None = None
    fraction: Expr | None = None


class ShiftHedge(Node):
    """``shift P% hedge [from month A] to month B``."""

    kind: Literal["shift_hedge"] = "shift_hedge"
    fraction: Expr
    from_month: Expr | None = None
    to_month: Expr


class TradeFuture(Node):
    """``buy|sell [N] VIX future[s] month M``."""

    kind: Literal["trade_future"] = "trade_future"
    side: Literal["buy", "sell"]
    count: Expr | None = None
    month: Expr


class BuyCallSpread(Node):
    """``buy [N] VIX call spread K1/K2 month M [costing X]``."""

    kind: Literal["buy_call_spread"] = "buy_call_spread"
    count: Expr | None = None
    lower: Expr
    upper: Expr
    month: Expr
    costing: Expr | None = None


class Alert(Node):
    kind: Literal["alert"] = "alert"
    message: str


Action = Annotated[
    OpenCondor | RollCondor | Close | ShiftHedge | TradeFuture | BuyCallSpread | Alert,
    Field(discriminator="kind"),
]

# ------------------------------------------------------------------- statements


class Header(Node):
    kind: Literal["header"] = "header"
    name: str
    version: str | None = None


class Description(Node):
    kind: Literal["description"] = "description"
    text: str


class Param(Node):
    kind: Literal["param"] = "param"
    name: str
    name_span: Span
    value: Number


class Define(Node):
    kind: Literal["define"] = "define"
    name: str
    name_span: Span
    expr: Expr


class Include(Node):
    kind: Literal["include"] = "include"
    path: str
    path_span: Span


class Rule(Node):
    """A rule. ``named`` is false for the one-line form (its ``id`` is derived from its text).

    Clause fields are ``None``/empty when absent; the checker reports what is missing.
    """

    kind: Literal["rule"] = "rule"
    id: str
    id_span: Span
    named: bool = True
    title: str | None = None
    priority: int = 0
    when: Expr | None = None
    unless: Expr | None = None
    actions: tuple[Action, ...] = ()
    cooldown: Expr | None = None


Statement = Annotated[
    Header | Description | Param | Define | Include | Rule,
    Field(discriminator="kind"),
]


class Rulebook(Node):
    """One parsed file. Includes are resolved by :mod:`alvh_dsl.lang.loader`, not here."""

    kind: Literal["rulebook"] = "rulebook"
    file: str
    statements: tuple[Statement, ...] = ()


# ---------------------------------------------------------------------- helpers

_N = TypeVar("_N", bound=BaseModel)


_DEFAULTS: dict[type[BaseModel], dict[str, Any]] = {}


def new(cls: type[_N], **fields: Any) -> _N:
    """Build a node without validation (the parser's shapes are right by construction).

    Equivalent to ``cls.model_construct(**fields)`` for our frozen, alias-free
    models, at half the cost: the parser calls this for every node of a book.
    """
    defaults = _DEFAULTS.get(cls)
    if defaults is None:
        defaults = _DEFAULTS[cls] = {
            name: f.default for name, f in cls.model_fields.items() if not f.is_required()
        }
    obj = object.__new__(cls)
    values = dict(defaults)
    values.update(fields)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(fields))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def strip_spans(value: Any) -> Any:
    """A plain-data copy of a node with every span removed: for comparing meaning."""
    if isinstance(value, BaseModel):
        return {k: strip_spans(v) for k, v in value.__dict__.items() if k not in _SPAN_FIELDS}
    if isinstance(value, tuple | list):
        return [strip_spans(v) for v in value]
    return value


_SPAN_FIELDS = frozenset({"span", "name_span", "id_span", "path_span"})


def walk(expr: Any) -> Any:
    """Yield ``expr`` and every sub-expression, depth first, iteratively."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def children(node: Any) -> list[Any]:
    """Direct sub-expressions of an expression node (empty for leaves)."""
    kind = node.kind
    if kind in ("number", "name"):
        return []
    if kind == "call":
        return list(node.args)
    if kind in ("neg", "not"):
        return [node.operand]
    if kind in ("binop", "compare", "crosses"):
        return [node.left, node.right]
    if kind == "between":
        return [node.value, node.low, node.high]
    if kind == "boolop":
        return list(node.operands)
    raise TypeError(f"not an expression node: {kind}")


def action_exprs(action: Any) -> list[Any]:
    """The expressions an action carries (arguments), in source order."""
    kind = action.kind
    out: list[Any] = []
    if kind == "open_condor":
        if action.expiry is not None:
            out.append(expiry_expr(action.expiry))
        out.extend(e for e in (action.short_delta, action.wings, action.quantity) if e is not None)
    elif kind == "roll_condor":
        out.append(expiry_expr(action.to))
    elif kind == "close":
        out.extend(e for e in (action.fraction, action.month) if e is not None)
    elif kind == "shift_hedge":
        out.extend(
            e for e in (action.fraction, action.from_month, action.to_month) if e is not None
        )
    elif kind == "trade_future":
        out.extend(e for e in (action.count, action.month) if e is not None)
    elif kind == "buy_call_spread":
        out.extend(
            e
            for e in (action.count, action.lower, action.upper, action.month, action.costing)
            if e is not None
        )
    return out


def expiry_expr(ref: Any) -> Any:
    """The expression an expiry reference carries: the month index or the target days."""
    return ref.month if ref.kind == "by_month" else ref.days
