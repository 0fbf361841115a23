"""Type inference: every expression of a program, its type and its constant value.

:func:`infer_types` walks the program in evaluation order (a define is typed
where it stands, so a rule sees the types of the defines above it) and fills a
:class:`~alvh_dsl.lang.types.ty.TypeTable`: the type of every expression, the
value of every constant one (literals and params, percentages as ratios), and
the diagnostics. Operators and comparisons are typed here; calls in
:mod:`.calls`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .. import ast as A
from ..diagnostics import Diagnostic, error, warning
from ..names import STATE_NAMES, UNIT_WORDS
from ..printer import format_expr, format_number
from .calls import call_type
from .ty import (
    ARG_FIELDS,
    ARG_UNITS,
    BOOL,
    ERROR,
    SCALARS,
    Ty,
    TypeTable,
    compatible,
    merge,
    number_ty,
    shared_ty,
    unit_help,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..program import Program

Definition = A.Param | A.Define


def infer_types(program: Program, definitions: Mapping[str, Definition]) -> TypeTable:
    """Type every expression of the program, in evaluation order.

    ``definitions`` maps each name to its first param or define.
    """
    return _Inferrer(program, definitions).run()


class _Inferrer:
    def __init__(self, program: Program, definitions: Mapping[str, Definition]) -> None:
        self.program = program
        self.definitions = definitions
        self.table = TypeTable()
        self.define_types: dict[str, Ty] = {}
        self.define_consts: dict[str, float | None] = {}
        # The table's dicts, bound once: they are read for every node.
        self.types = self.table.types
        self.consts = self.table.consts
        # A name's type and value once final (a define's only from its definition on);
        # the table answers a name's type from it (TypeTable.of).
        self.name_memo = self.table.names

    def report(self, d: Diagnostic) -> None:
        self.table.diagnostics.append(d)

    def const(self, e: A.ExprNode) -> float | None:
        return self.consts.get(id(e))

    def run(self) -> TypeTable:
        rule_cls = A.Rule
        rule = self.rule
        for stmt in self.program.statements:
            if type(stmt) is rule_cls:  # most statements; a failed isinstance costs ~10x a hit
                rule(stmt)
            elif isinstance(stmt, A.Define):
                ty = self.infer(stmt.expr)
                self.define_types.setdefault(stmt.name, ty)
                self.define_consts.setdefault(stmt.name, self.table.const(stmt.expr))
        return self.table

    # ------------------------------------------------------------ rules
    def condition(self, expr: A.ExprNode, clause: str) -> None:
        ty = self.infer(expr)
        if ty is not BOOL and ty.kind == "num":
            self.report(
                error(
                    "E204",
                    f"the `{clause}` condition `{format_expr(expr)}` is {ty.describe()}, "
                    "not true/false",
                    expr.span,
                    help="compare it with something, e.g. `DTE < 2`",
                )
            )

    def rule(self, rule: A.Rule) -> None:
        fields = rule.__dict__  # four reads of one rule: its dict once
        when, unless, cooldown = fields["when"], fields["unless"], fields["cooldown"]
        if when is not None:
            self.condition(when, "when")
        if unless is not None:
            self.condition(unless, "unless")
        consts, number_cls, roll_cls, specs = self.consts, _NUMBER, A.RollCondor, ARG_FIELDS
        for action in fields["actions"]:
            target: A.Node = action
            if type(action) is roll_cls:  # its one argument is in its expiry
                target = action.to
            spec = specs.get(type(target))
            if spec is None:  # the rare actions, or a subclass
                self.action(action)
                continue
            args = target.__dict__
            # What `arg` does, inlined for the commonest argument: a literal in a unit the
            # role accepts (`month 2`, `50%`), which only leaves its value behind.
            for name, role, allowed, constant in spec:
                expr = args[name]
                if expr is None:
                    continue
                if type(expr) is number_cls:
                    unit, value = expr.unit, expr.value
                    consts[id(expr)] = value / 100 if unit == "percent" else value
                    if unit in allowed:
                        continue
                self.arg(expr, role, constant=constant)
        if cooldown is not None:
            self.arg(cooldown, "cooldown", constant=True)

    def arg(self, expr: A.ExprNode | None, role: str, *, constant: bool = False) -> None:
        """Type an action argument (if given) against the units its role accepts."""
        if expr is None:
            return
        allowed, example = ARG_UNITS[role]
        if type(expr) is _NUMBER:  # most arguments, `month 2`, `50%`: constant, no call
            unit = expr.unit
            value = expr.value
            self.consts[id(expr)] = value / 100 if unit == "percent" else value
            if unit in allowed:
                return
            ty = number_ty(unit)
        else:
            ty = self.infer(expr)
        if ty.kind == "error":
            return
        if ty.kind == "bool":
            self.report(
                error("E205", f"`{format_expr(expr)}` is true/false, not a number", expr.span)
            )
        elif ty.unit not in allowed:
            self.report(
                error(
                    "E206",
                    f"`{format_expr(expr)}` is {ty.describe()}; expected {example}",
                    expr.span,
                )
            )
        elif constant and not ty.const:
            self.report(
                error(
                    "E209",
                    f"`{format_expr(expr)}` must be a constant (a number or a param)",
                    expr.span,
                    help="this value is fixed when the book is loaded",
                )
            )

    def expiry(self, ref: A.ByMonth | A.NearDays) -> None:
        if isinstance(ref, A.ByMonth):
            self.arg(ref.month, "month", constant=True)
        else:
            self.arg(ref.days, "near")

    def action(self, a: A.ActionNode) -> None:
        match a:
            case A.OpenCondor():
                if a.expiry is not None:
                    self.expiry(a.expiry)
                self.arg(a.short_delta, "short_delta")
                self.arg(a.wings, "wings")
                self.arg(a.quantity, "quantity")
            case A.RollCondor():
                self.expiry(a.to)
            case A.Close():
                self.arg(a.fraction, "fraction")
                self.arg(a.month, "month", constant=True)
            case A.ShiftHedge():
                self.arg(a.fraction, "fraction")
                self.arg(a.from_month, "month", constant=True)
                self.arg(a.to_month, "month", constant=True)
            case A.TradeFuture():
                self.arg(a.count, "count")
                self.arg(a.month, "month", constant=True)
            case A.BuyCallSpread():
                self.arg(a.count, "count")
                self.arg(a.lower, "strike")
                self.arg(a.upper, "strike")
                self.arg(a.month, "month", constant=True)
                self.arg(a.costing, "costing")
            case A.Alert():
                pass
            case _:
                A.unhandled(a)

    # ------------------------------------------------------ expressions
    def infer(self, e: A.ExprNode) -> Ty:
        # Dispatch on the exact class: a `match` tries isinstance case by case, and a
        # failed isinstance on a pydantic model costs ~10x a hit (100k-rule books). The two
        # leaves, most nodes, are typed here without a call and without a `types` entry
        # (TypeTable.of answers for them); only their constant values are kept.
        cls = type(e)
        if cls is _NAME:
            leaf: A.Name = e  # type: ignore[assignment]
            found = self.name_memo.get(leaf.name)
            ty, const = found if found is not None else self._name(leaf)
            if const is not None:
                self.consts[id(e)] = const
            return ty
        if cls is _NUMBER:
            number: A.Number = e  # type: ignore[assignment]
            unit, value = number.unit, number.value
            self.consts[id(e)] = value / 100 if unit == "percent" else value
            return number_ty(unit)
        # An inner node is typed once (a node reached twice reports once).
        key = id(e)
        types = self.types
        known = types.get(key)
        if known is not None:
            return known
        method = _DISPATCH.get(cls)
        inferred = method(self, e) if method is not None else self._infer(e)
        types[key] = inferred
        return inferred

    def operand(self, e: A.ExprNode, what: str) -> Ty:
        """Infer an operand that must be a number."""
        ty = self.infer(e)
        if ty is BOOL or ty.kind == "bool":
            self.report(
                error(
                    "E205",
                    f"`{format_expr(e)}` is true/false and cannot be used {what}",
                    e.span,
                )
            )
            return ERROR
        return ty

    def _compare_node(self, e: A.Compare) -> Ty:
        fields = e.__dict__
        left, right = fields["left"], fields["right"]
        lt = self.infer(left)
        if type(right) is _NUMBER:  # `VIX > 22`, the commonest: `infer` inlined
            ru, value = right.unit, right.value
            self.consts[id(right)] = value / 100 if ru == "percent" else value
            if lt.kind == "num" and (lt.unit == ru or (ru == "bare" and lt.unit != "percent")):
                return BOOL
            rt = number_ty(ru)
        else:
            rt = self.infer(right)
        if lt.kind == "num" and rt.kind == "num":
            lu, other = lt.unit, rt.unit
            if lu == other or (other == "bare" and lu != "percent"):
                return BOOL
            # Numbers of compatible units, not a percentage against a bare number: nothing
            # for _compare to report (E201, E205, W204), the usual case, e.g. `VIX > 22`.
            if compatible(lu, other) and not (lu != other and {lu, other} <= _W204_UNITS):
                return BOOL
        elif fields["op"] in ("==", "!=") and lt.kind == "bool" and rt.kind == "bool":
            return BOOL
        self._compare(e, [left, right], _QUOTED[fields["op"]])
        return BOOL

    def _boolop(self, e: A.BoolOp) -> Ty:
        infer = self.infer
        op = None
        for o in e.operands:
            ty = infer(o)
            if ty is not BOOL and ty.kind == "num":  # rare: E204
                op = op or e.op
                self._not_bool(o, op, ty)
        return BOOL

    def _between(self, e: A.Between) -> Ty:
        fields = e.__dict__
        value, low, high = fields["value"], fields["low"], fields["high"]
        infer = self.infer
        # Each operand typed in turn, stopping at one that is no number, so that what
        # _compare then reports comes in the order it always did (operand by operand).
        vt = infer(value)
        if vt.kind == "num":
            lt = infer(low)
            if lt.kind == "num":
                ht = infer(high)
                # Nothing for _compare to report (E201, W204) when the bounds are in the
                # value's unit, or bare beside a value that is no percentage or bare number:
                # `VIX between 16 and 25`.
                unit, lu, hu = vt.unit, lt.unit, ht.unit
                if ht.kind == "num" and (
                    (lu == unit and hu == unit)
                    or (unit not in _W204_UNITS and lu in (unit, "bare") and hu in (unit, "bare"))
                ):
                    return BOOL
        self._compare(e, [value, low, high], "`between`")
        return BOOL

    def _call(self, e: A.Call) -> Ty:
        return call_type(self, e)

    def _neg(self, e: A.Neg) -> Ty:
        ty = self.operand(e.operand, "with `-`")
        v = self.table.const(e.operand)
        if v is not None:
            self.consts[id(e)] = -v
        return ty

    def _not(self, e: A.Not) -> Ty:
        self._bool(e.operand, "not")
        return BOOL

    def _crosses(self, e: A.Crosses) -> Ty:
        self._compare(e, [e.left, e.right], f"`crosses {e.direction}`")
        self._crosses_history(e)
        return BOOL

    def _infer(self, e: A.ExprNode) -> Ty:
        # The node classes infer does not tell by the exact class: none today, but a
        # subclass would land here.
        match e:
            case A.Name():
                ty, const = self._name(e)
                if const is not None:
                    self.consts[id(e)] = const
                return ty
            case A.Number():
                unit = e.unit
                self.consts[id(e)] = e.value / 100 if unit == "percent" else e.value
                return number_ty(unit)
            case A.Compare():
                return self._compare_node(e)
            case A.BoolOp():
                return self._boolop(e)
            case A.BinOp():
                return self._binop(e)
            case A.Call():
                return self._call(e)
            case A.Neg():
                return self._neg(e)
            case A.Not():
                return self._not(e)
            case A.Between():
                return self._between(e)
            case A.Crosses():
                return self._crosses(e)
        A.unhandled(e)

    def _crosses_history(self, e: A.Crosses) -> None:
        """E207: both sides of `crosses` need a previous value."""
        for side in (e.left, e.right):
            ty = self.table.of(side)
            if ty.kind == "num" and not ty.series:
                self.report(
                    error(
                        "E207",
                        f"`{format_expr(side)}` has no history, so `crosses` cannot "
                        "compare it with its previous value",
                        side.span,
                        help="`crosses` works on market data, indicators and constants; "
                        "use `>` or `<` for book values",
                    )
                )

    def _bool(self, e: A.ExprNode, op: str) -> None:
        ty = self.infer(e)
        if ty.kind == "num":
            self._not_bool(e, op, ty)

    def _not_bool(self, e: A.ExprNode, op: str, ty: Ty) -> None:
        """E204: ``op`` (``and``, ``or``, ``not``) meets a number."""
        self.report(
            error(
                "E204",
                f"`{op}` needs true/false, but `{format_expr(e)}` is {ty.describe()}",
                e.span,
                help="compare it with something, e.g. `VIX > 20`",
            )
        )

    def _name(self, e: A.Name) -> tuple[Ty, float | None]:
        name = e.name
        found = self.name_memo.get(name)
        if found is not None:
            return found
        found = self._name_type(name)
        if found[0] is not ERROR:  # unknown, or a define not yet reached: may change
            self.name_memo[name] = found
        else:  # this node's type, which the name's own (TypeTable.of) may not be
            self.types[id(e)] = ERROR
        return found

    def _name_type(self, name: str) -> tuple[Ty, float | None]:
        state = STATE_NAMES.get(name)
        if state is not None:
            return Ty("num", state.unit, series=state.history), None
        head, _, tail = name.partition(".")
        if head == "MACD" and tail in ("", "signal", "hist"):
            return Ty("num", "points", series=True), None
        if name == "ADLINE":
            return Ty("num", "number", series=True), None
        value = self.program.param_values.get(name)
        target = self.definitions.get(name)
        if isinstance(target, A.Param) and value is not None:
            v = value.value / 100 if value.unit == "percent" else value.value
            return Ty("num", value.unit, series=True, const=True), v
        if name in self.define_types:
            return self.define_types[name], self.define_consts.get(name)
        return ERROR, None  # unknown or used before definition: reported by check_names

    def _compare(self, e: A.ExprNode, operands: list[A.ExprNode], what: str) -> None:
        """E201, W204: the operands of a comparison (or `between`, `crosses`) in one unit."""
        with_what = "with " + what
        tys = [self.operand(o, with_what) for o in operands]
        for t in tys:
            if t.kind == "error":
                return
        first, u0 = operands[0], tys[0].unit
        for other, t in zip(operands[1:], tys[1:], strict=True):
            unit = t.unit
            if not compatible(u0, unit):
                self.report(
                    error(
                        "E201",
                        f"cannot compare `{format_expr(first)}` ({UNIT_WORDS[u0]}) "
                        f"with `{format_expr(other)}` ({UNIT_WORDS[unit]})",
                        e.span,
                        help=unit_help(first, u0),
                    )
                )
                return
        # W204 only concerns a percentage against a bare number: most comparisons skip it.
        if u0 in _W204_UNITS and any(t.unit in _W204_UNITS for t in tys[1:]):
            for b, t in zip(operands[1:], tys[1:], strict=True):
                self._percent_read_as_bare(u0, b, t.unit)
                self._percent_read_as_bare(t.unit, first, u0)

    def _percent_read_as_bare(self, unit: str, bare: A.ExprNode, bare_unit: str) -> None:
        """W204: a bare number above 1 compared with a percentage reads as over 100%."""
        if unit != "percent" or bare_unit != "bare":
            return
        v = self.consts.get(id(bare))
        if v is not None and abs(v) > 1:
            self.report(
                warning(
                    "W204",
                    f"`{format_expr(bare)}` is compared with a percentage and reads "
                    f"as {format_number(v * 100)}%",
                    bare.span,
                    help=f"write `{format_expr(bare)}%` if you mean percent",
                )
            )

    # -------------------------------------------------------- operators
    def _binop(self, e: A.BinOp) -> Ty:
        op = e.op
        what = "with " + _QUOTED[op]
        lt = self.operand(e.left, what)
        rt = self.operand(e.right, what)
        consts = self.consts
        if lt.kind == "error" or rt.kind == "error":
            return ERROR
        if op in ("+", "-"):
            unit = self._additive(e, lt, rt)
        elif op == "of":
            unit = self._of(e, lt, rt)
        elif op == "*":
            unit = self._product(e, lt, rt)
        else:
            unit = self._quotient(e, lt, rt)
        if unit is None:
            return ERROR
        value = _fold(op, consts.get(id(e.left)), consts.get(id(e.right)))
        if value is not None:  # most expressions are not constant: TypeTable.const's default
            consts[id(e)] = value
        return shared_ty("num", unit, lt.series and rt.series, lt.const and rt.const)

    def _additive(self, e: A.BinOp, lt: Ty, rt: Ty) -> str | None:
        if compatible(lt.unit, rt.unit):
            return merge(lt.unit, rt.unit)
        add = e.op == "+"
        self.report(
            error(
                "E201",
                f"cannot {'add' if add else 'subtract'} "
                f"{UNIT_WORDS[rt.unit]} `{format_expr(e.right)}` "
                f"{'to' if add else 'from'} {UNIT_WORDS[lt.unit]} "
                f"`{format_expr(e.left)}`",
                e.span,
                help=unit_help(e.left, lt.unit),
            )
        )
        return None

    def _of(self, e: A.BinOp, lt: Ty, rt: Ty) -> str | None:
        literal = isinstance(e.left, A.Number)
        if lt.unit in ("percent", "number") or (lt.unit == "bare" and not literal):
            return rt.unit
        hint = (
            f"write `{format_expr(e.left)}%`"
            if literal
            else "use a percentage, e.g. `50% of condor.credit`"
        )
        self.report(
            error(
                "E203",
                f"`of` needs a percentage on its left, not {UNIT_WORDS[lt.unit]} "
                f"`{format_expr(e.left)}`",
                e.left.span,
                help=hint,
            )
        )
        return None

    def _product(self, e: A.BinOp, lt: Ty, rt: Ty) -> str | None:
        if lt.unit not in SCALARS and rt.unit not in SCALARS:
            self.report(
                error(
                    "E202",
                    f"cannot multiply {UNIT_WORDS[lt.unit]} by {UNIT_WORDS[rt.unit]}",
                    e.span,
                    help="one side of `*` must be a plain number or a percentage",
                )
            )
            return None
        if lt.unit in SCALARS and rt.unit in SCALARS:
            return merge(lt.unit, rt.unit) if "bare" in (lt.unit, rt.unit) else "number"
        return rt.unit if lt.unit in SCALARS else lt.unit

    def _quotient(self, e: A.BinOp, lt: Ty, rt: Ty) -> str | None:
        if compatible(lt.unit, rt.unit) and lt.unit != "bare" and rt.unit != "bare":
            return "number"
        if rt.unit in SCALARS:
            return lt.unit
        what = "a plain number" if lt.unit == "bare" else UNIT_WORDS[lt.unit]
        self.report(
            error(
                "E202",
                f"cannot divide {what} by {UNIT_WORDS[rt.unit]}",
                e.span,
                help="divide like units to get a ratio, e.g. `condor.pnl / condor.credit`",
            )
        )
        return None


def _fold(op: str, lv: float | None, rv: float | None) -> float | None:
    """The value of a constant arithmetic expression (none for a division by zero)."""
    if lv is None or rv is None:
        return None
    if op == "+":
        return lv + rv
    if op == "-":
        return lv - rv
    if op in ("*", "of"):
        return lv * rv
    if op == "/" and rv != 0:
        return lv / rv
    return None


_W204_UNITS = frozenset({"percent", "bare"})
"""The units W204 looks at: a comparison with neither on one side cannot warn."""


class _Quoted(dict[str, str]):
    """An operator in backticks, made once per operator (they are few)."""

    def __missing__(self, op: str) -> str:
        quoted = self[op] = f"`{op}`"
        return quoted


_QUOTED = _Quoted()

_NAME, _NUMBER = A.Name, A.Number
"""The leaves, told apart by the exact class before any dispatch."""

_DISPATCH: dict[type, Callable[[_Inferrer, Any], Ty]] = {
    # The inner node types by the exact class; a subclass goes through `_Inferrer._infer`.
    A.Compare: _Inferrer._compare_node,
    A.BoolOp: _Inferrer._boolop,
    A.BinOp: _Inferrer._binop,
    A.Between: _Inferrer._between,
    A.Call: _Inferrer._call,
    A.Neg: _Inferrer._neg,
    A.Not: _Inferrer._not,
    A.Crosses: _Inferrer._crosses,
}
