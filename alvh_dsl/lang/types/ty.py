"""The type of an expression, the unit algebra, and the table of inferred types.

Every expression is either true/false (``bool``) or a number with a unit:
days, points, dollars, percent, count, number (dimensionless with a meaning:
a delta, an RSI reading) or bare (a number written without a unit, which takes
the unit of what it meets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .. import ast as A
from ..diagnostics import Diagnostic
from ..names import UNIT_WORDS
from ..printer import format_expr

SCALARS = frozenset({"bare", "number", "percent", "count"})
"""Units without a dimension: one side of ``*`` must be one."""


@dataclass(frozen=True)
class Ty:
    """The type of an expression. ``error`` means "already reported": no more noise."""

    kind: Literal["num", "bool", "error"]
    unit: str = "bare"
    series: bool = False  # has a history: usable by `crosses` and as an indicator series
    const: bool = False  # built from literals and params only

    def describe(self) -> str:
        if self.kind == "bool":
            return "true/false"
        return UNIT_WORDS.get(self.unit, self.unit)


ERROR = Ty("error")
BOOL = Ty("bool")


def compatible(a: str, b: str) -> bool:
    """Can values of units ``a`` and ``b`` be compared or added?"""
    return a == b or "bare" in (a, b) or {a, b} == {"number", "percent"}


def merge(a: str, b: str) -> str:
    """The unit of a sum (or ``min``/``max``) of compatible units."""
    if a == "bare":
        return b
    if b == "bare" or a == b:
        return a
    return "number"  # number with percent: both ratios


ARG_UNITS: dict[str, tuple[frozenset[str], str]] = {
    "near": (frozenset({"days", "bare"}), "days, e.g. `near 45 days`"),
    "short_delta": (frozenset({"number", "percent", "bare"}), "a delta, e.g. `0.16`"),
    "wings": (frozenset({"points", "bare"}), "points, e.g. `wings 50 points`"),
    # A computed count is a plain number (`equity / $100000`): it is rounded down
    # when the book runs, so `number` is accepted like `count` and `bare`.
    "quantity": (frozenset({"count", "bare", "number"}), "a whole number of contracts"),
    "count": (frozenset({"count", "bare", "number"}), "a whole number of contracts"),
    "fraction": (frozenset({"percent", "number", "bare"}), "a percentage, e.g. `50%`"),
    "month": (frozenset({"count", "bare"}), "a month number, e.g. `month 2`"),
    "strike": (frozenset({"points", "bare"}), "a VIX strike, e.g. `25`"),
    "costing": (frozenset({"dollars", "bare"}), "dollars, e.g. `2% of equity` or `$1500`"),
    "cooldown": (frozenset({"days", "bare"}), "days, e.g. `cooldown 5 days`"),
}
"""The units each action argument (and a cooldown) accepts, and an example for the message."""


def _spec(*args: tuple[str, str, bool]) -> tuple[tuple[str, str, frozenset[str], bool], ...]:
    """Each argument field's role, the units the role accepts, and whether it is constant."""
    return tuple((name, role, ARG_UNITS[role][0], constant) for name, role, constant in args)


ARG_FIELDS: dict[type, tuple[tuple[str, str, frozenset[str], bool], ...]] = {
    A.Close: _spec(("fraction", "fraction", False), ("month", "month", True)),
    A.ByMonth: _spec(("month", "month", True)),
    A.NearDays: _spec(("days", "near", False)),
    A.ShiftHedge: _spec(
        ("fraction", "fraction", False), ("from_month", "month", True), ("to_month", "month", True)
    ),
    A.Alert: (),
}
"""The commonest actions (and a roll's expiry) by the exact class: each argument's field,
role, accepted units and whether it must be constant, in the order the inference types
them (the other actions it types one by one)."""


def unit_help(expr: A.ExprNode, unit: str) -> str:
    """The help line of a unit mismatch: what ``expr``'s unit is and how to write it."""
    examples = {
        "days": "days: write e.g. `2 days`",
        "points": "points: write e.g. `50 points`, or a bare number",
        "dollars": "dollars: write e.g. `$1500`, or a percentage `of` a dollar value",
        "percent": "a percentage: write e.g. `25%`",
        "count": "a count: compare it with a whole number",
        "number": "a plain number: compare it with a bare number",
    }
    return f"`{format_expr(expr)}` is in {examples.get(unit, unit)}"


_SHARED: dict[tuple[str, str, bool, bool], Ty] = {}


def shared_ty(kind: Literal["num", "bool", "error"], unit: str, series: bool, const: bool) -> Ty:
    """A shared :class:`Ty`: types are values, and few distinct ones occur in a book."""
    key = (kind, unit, series, const)
    found = _SHARED.get(key)
    if found is None:
        found = _SHARED[key] = Ty(kind, unit, series, const)
    return found


NUMBER_TYS: dict[str, Ty] = {u: shared_ty("num", u, True, True) for u in UNIT_WORDS}
"""A literal's type, by its unit."""


def number_ty(unit: str) -> Ty:
    """The type of a literal in ``unit`` (a unit no literal has, of a node built by hand,
    gets its own)."""
    return NUMBER_TYS.get(unit) or shared_ty("num", unit, True, True)


@dataclass
class TypeTable:
    """Types and constant values of every expression of a program, by node identity.

    ``types`` holds the inner nodes (and the names typed as errors); a literal's type
    is its unit's and a name's is in ``names`` (its type and value once final), so
    :meth:`of` answers for the leaves, most nodes, without a dict entry apiece (a leaf
    the inference never reached, under a call already reported, gets its own type rather
    than ``error``; only the compiler reads types, of books without errors).
    ``consts`` holds every constant expression, leaves included.
    """

    types: dict[int, Ty] = field(default_factory=dict)
    consts: dict[int, float | None] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    names: dict[str, tuple[Ty, float | None]] = field(default_factory=dict)

    def of(self, expr: A.ExprNode) -> Ty:
        found = self.types.get(id(expr))
        if found is not None:
            return found
        cls = type(expr)
        if cls is A.Number:
            unit = expr.unit  # type: ignore[union-attr]
            return number_ty(unit)
        if cls is A.Name:
            name = self.names.get(expr.name)  # type: ignore[union-attr]
            return name[0] if name is not None else ERROR
        return ERROR

    def const(self, expr: A.ExprNode) -> float | None:
        return self.consts.get(id(expr))
