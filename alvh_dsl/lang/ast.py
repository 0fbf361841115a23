"""The typed AST of a rulebook: immutable pydantic v2 models.

Every node carries a :class:`Span`, an immutable named tuple (file, 1-based line and
column, end line and end column, end exclusive). Node families are discriminated unions on the
``kind`` field: :data:`Expr`, :data:`Action`, :data:`Statement`.

Nothing downstream of :mod:`alvh_dsl.lang.parse` ever sees a Lark tree.

The parser builds nodes with :func:`~alvh_dsl.lang.construct.construct` (no
validation: the grammar already guarantees the shapes, and validating 100k
nodes of a large book would cost more than parsing it). Schemas are built
lazily (``defer_build``) the first time something is validated, e.g.
``Rulebook.model_validate_json(...)``.

Traversal is generic: :func:`children` and :func:`walk` follow the fields that
hold nodes (found once per class from the annotations), so walkers dispatch on
the node classes and never list a class's children by hand.
"""

from __future__ import annotations

import operator
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from typing import (
    Annotated,
    Literal,
    NamedTuple,
    NoReturn,
    TypeGuard,
    TypeVar,
    Union,
    cast,
    get_args,
    get_origin,
    overload,
)

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import CoreSchema

from .construct import construct
from .spans import span_schema


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True, extra="forbid")


class Span(NamedTuple):
    """A region of a source file. Lines and columns are 1-based; the end is exclusive."""

    # A named tuple, not a model (the JSON Schema's description is the line above): a
    # parse makes one per node, and a tuple costs a fifth of a model's time and fewer
    # bytes (decision 91). Models holding one read and write the JSON object a model
    # did (alvh_dsl.lang.spans).

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
        return _new_span(Span, (self.file, *start, *end))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: object, handler: object) -> CoreSchema:
        return span_schema(cls)


# A span with its five items, without NamedTuple's Python-level ``__new__``.
_new_span: Callable[[type[Span], tuple[str, int, int, int, int]], Span] = tuple.__new__


class Node(_Frozen):
    """Base of every AST node."""

    span: Span


Unit = Literal["bare", "days", "points", "dollars", "percent"]
"""Units a literal can be written in. ``bare`` is a plain number with no unit."""

# ------------------------------------------------------------------ expressions


class Number(Node):
    """A numeric literal. ``50%`` is stored as ``value=50, unit="percent"``:
    the written magnitude, so formatting never shows float noise; its
    numeric value is ``value / 100``.

    ``text`` is the magnitude's digits as written (``"0.10"`` for ``0.10``,
    ``"5.0"`` for ``5.0d``; redundant leading zeros dropped), so ``alvh fmt``
    keeps a trader's two-digit deltas; ``None`` for numbers no one wrote
    (they print in their shortest form)."""

    kind: Literal["number"] = "number"
    value: float
    unit: Unit = "bare"
    text: str | None = None


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


ExprNode = Number | Name | Call | Neg | Not | BinOp | Compare | Between | Crosses | BoolOp
"""Every expression class; :data:`Expr` is the same union, discriminated for validation."""
Expr = Annotated[ExprNode, Field(discriminator="kind")]

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


ActionNode = OpenCondor | RollCondor | Close | ShiftHedge | TradeFuture | BuyCallSpread | Alert
"""Every action class; :data:`Action` is the same union, discriminated for validation."""
Action = Annotated[ActionNode, Field(discriminator="kind")]

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


StatementNode = Header | Description | Param | Define | Include | Rule
"""Every statement class; :data:`Statement` is the same union, discriminated for validation."""
Statement = Annotated[StatementNode, Field(discriminator="kind")]


class Rulebook(Node):
    """One parsed file. Includes are resolved by :mod:`alvh_dsl.lang.loader`, not here."""

    kind: Literal["rulebook"] = "rulebook"
    file: str
    statements: tuple[Statement, ...] = ()


# ---------------------------------------------------------------- node families

EXPR_TYPES: tuple[type[Node], ...] = get_args(ExprNode)
ACTION_TYPES: tuple[type[Node], ...] = get_args(ActionNode)
STATEMENT_TYPES: tuple[type[Node], ...] = get_args(StatementNode)
_EXPRS = frozenset(EXPR_TYPES)
_ACTIONS = frozenset(ACTION_TYPES)


def unhandled(node: NoReturn) -> NoReturn:
    """Mark the end of a dispatch on node classes that mypy checks is exhaustive."""
    raise TypeError(f"unexpected node: {type(node).__name__}")


def is_expr(node: Node) -> TypeGuard[ExprNode]:
    """Is ``node`` an expression (rather than an action, statement or expiry reference)?"""
    return type(node) in _EXPRS


def is_action(node: Node) -> TypeGuard[ActionNode]:
    return type(node) in _ACTIONS


# ------------------------------------------------------------------- traversal
#
# The children of a node are the values of its fields that hold nodes, in field
# order: worked out once per class from the field annotations, so a new node
# class (or a new field) is walked without touching any traversal code.

N = TypeVar("N", bound=Node)
_ChildFields = tuple[tuple[str, bool], ...]  # (field name, holds a tuple of nodes)
_CHILD_FIELDS: dict[type[Node], _ChildFields] = {}
_LEAF: tuple[Node, ...] = ()


def child_fields(cls: type[Node]) -> _ChildFields:
    """The fields of ``cls`` that hold nodes, in order, each with whether it holds a tuple."""
    found = _CHILD_FIELDS.get(cls)
    if found is None:
        hints = _field_types(cls)
        found = _CHILD_FIELDS[cls] = tuple(
            (name, many)
            for name in cls.model_fields
            for holds, many in [_holds_nodes(hints[name])]
            if holds
        )
    return found


_EVALUATED: dict[tuple[str, str], object] = {}


def _field_types(cls: type[Node]) -> dict[str, object]:
    """The annotations of ``cls``'s fields, evaluated (they are strings, and name unions
    defined after the classes that use them).

    Like ``typing.get_type_hints``, but only over the node classes of the MRO, and each
    distinct annotation evaluated once: this runs at every start-up.
    """
    out: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, Node)):
            continue
        module = klass.__module__
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            if not isinstance(annotation, str):
                out[name] = annotation
                continue
            key = (module, annotation)
            if key not in _EVALUATED:
                # As typing.get_type_hints does: our own annotations, in their module.
                _EVALUATED[key] = eval(annotation, vars(sys.modules[module]))
            out[name] = _EVALUATED[key]
    return out


def _holds_nodes(tp: object) -> tuple[bool, bool]:
    """(does a field of type ``tp`` hold nodes, is it a tuple of them)."""
    if isinstance(tp, type):
        return issubclass(tp, Node), False
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        return _holds_nodes(args[0])
    if origin is tuple:
        return _holds_nodes(args[0])[0], True
    if origin is Union or origin is types.UnionType:
        found = [_holds_nodes(a) for a in args]
        return any(h for h, _ in found), any(m for _, m in found)
    return False, False  # Literal[...] and the like


_Getter = Callable[[dict[str, object]], Sequence[Node]]
_GETTERS: dict[type[Node], _Getter] = {}


def _leaf(values: dict[str, object]) -> Sequence[Node]:
    return _LEAF


def _getter(cls: type[Node]) -> _Getter:
    """A function from a ``cls`` node's ``__dict__`` to its children, made once per class.

    Checking a 100,000-rule book reads the children of every node several times, so the
    commonest shapes skip the general loop: fields that always hold one node each
    (``Compare``'s ``left`` and ``right``) are one ``itemgetter`` call, and a lone tuple
    of nodes (``BoolOp``'s ``operands``) is that tuple itself.
    """
    fields = child_fields(cls)
    found = _GETTERS.get(cls)
    if found is not None:
        return found
    hints = _field_types(cls)
    always = [name for name, many in fields if not many and not _optional(hints[name])]
    getter: _Getter
    if not fields:
        getter = _leaf
    elif len(fields) == 1 and fields[0][1] and not _optional(hints[fields[0][0]]):
        getter = cast(_Getter, operator.itemgetter(fields[0][0]))
    elif len(always) == len(fields) == 1:
        only = fields[0][0]
        getter = lambda values: (cast(Node, values[only]),)  # noqa: E731
    elif len(always) == len(fields):
        getter = cast(_Getter, operator.itemgetter(*always))
    else:
        getter = _general(fields, {name for name, _ in fields if _optional(hints[name])})
    _GETTERS[cls] = getter
    return getter


def _optional(tp: object) -> bool:
    """Can a field of type ``tp`` hold ``None``?"""
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        return _optional(args[0])
    if origin is Union or origin is types.UnionType:
        return any(a is type(None) or _optional(a) for a in args)
    return tp is None or tp is type(None)


def _general(fields: _ChildFields, optional: set[str]) -> _Getter:
    """The getter of a class with optional fields, written out field by field (no loop
    over the fields at each call: a rule's children are read for every rule of a book)."""
    lines = ["def get(values):", "    out = []"]
    for name, many in fields:
        value = f"values[{name!r}]"
        if name in optional:
            lines += [f"    x = {value}", "    if x is not None:"]
            lines.append("        out.extend(x)" if many else "        out.append(x)")
        else:
            lines.append(f"    out.extend({value})" if many else f"    out.append({value})")
    lines.append("    return out")
    scope: dict[str, object] = {}
    exec("\n".join(lines), scope)  # our own field names, from the class's annotations
    return cast(_Getter, scope["get"])


@overload
def children(node: ExprNode) -> Sequence[ExprNode]: ...
@overload
def children(node: Node) -> Sequence[Node]: ...
def children(node: Node) -> Sequence[Node]:
    """The direct child nodes of ``node`` (empty for leaves), in field order.

    Spans are not nodes; an expression's children are expressions, a rule's
    are its conditions, actions and cooldown, an action's its arguments and
    expiry reference.
    """
    get = _GETTERS.get(type(node))
    if get is None:
        get = _getter(type(node))
    return get(node.__dict__)


@overload
def walk(node: ExprNode) -> Iterator[ExprNode]: ...
@overload
def walk(node: Node) -> Iterator[Node]: ...
def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node below it, depth first in field order, iteratively."""
    stack = [node]
    while stack:
        top = stack.pop()
        yield top
        kids = children(top)
        if kids:
            stack.extend(reversed(kids))


def map_children(node: N, fn: Callable[[Node], Node]) -> N:
    """A copy of ``node`` with ``fn`` applied to each child (``node`` itself if it has none)."""
    fields = child_fields(type(node))
    if not fields:
        return node
    values = dict(node.__dict__)
    for name, many in fields:
        value = values[name]
        if value is not None:
            values[name] = tuple(fn(c) for c in value) if many else fn(value)
    return construct(type(node), **values)


def names_in(node: Node) -> Iterator[Name]:
    """Every :class:`Name` at or below ``node``, in walk order."""
    for n in walk(node):
        if type(n) is Name:
            yield n


def expiry_expr(ref: ExpiryRef) -> ExprNode:
    """The expression an expiry reference carries: the month index or the target days."""
    return ref.month if isinstance(ref, ByMonth) else ref.days


def action_exprs(action: ActionNode) -> list[ExprNode]:
    """The expressions an action carries (its arguments), in field order.

    An expiry reference stands for the expression inside it.
    """
    out: list[ExprNode] = []
    for child in children(action):
        cls = type(child)
        if cls in _EXPRS:  # is_expr, inline: this runs for every action of a book
            out.append(cast(ExprNode, child))
        elif cls is ByMonth or cls is NearDays:
            out.append(expiry_expr(cast(ByMonth | NearDays, child)))
    return out


def statement_exprs(stmt: StatementNode) -> list[ExprNode]:
    """The top-level expressions of a statement, in field order: a define's body; a rule's
    conditions, action arguments and cooldown. A param's value is a literal, not counted."""
    out: list[ExprNode] = []
    if type(stmt) is Param:
        return out
    for child in children(stmt):
        cls = type(child)
        if cls in _EXPRS:
            out.append(cast(ExprNode, child))
        elif cls in _ACTIONS:
            out.extend(action_exprs(cast(ActionNode, child)))
    return out


Plain = str | int | float | bool | None | list["Plain"] | dict[str, "Plain"]


def strip_spans(value: object) -> Plain:
    """A plain-data copy of a node with every span removed: for comparing meaning."""
    if isinstance(value, BaseModel):
        return {k: strip_spans(v) for k, v in value.__dict__.items() if not isinstance(v, Span)}
    if isinstance(value, tuple | list):
        return [strip_spans(v) for v in value]
    assert value is None or isinstance(value, str | int | float)
    return value
