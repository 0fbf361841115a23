"""Types and units of expressions, and constant folding (used by the checker).

Every expression is either true/false (``bool``) or a number with a unit:
days, points, dollars, percent, count, number (dimensionless with a meaning:
a delta, an RSI reading) or bare (a number written without a unit, which takes
the unit of what it meets: ``DTE < 2`` compares days with days).

Rules, in short (``docs/language.md`` has the full table):

- comparisons, ``between``, ``+``/``-``, ``min``/``max`` need matching units
  (bare matches anything; number and percent are both ratios and match);
- ``*`` needs at least one side without a dimension; ``/`` of like units is a
  plain number; ``P of X`` needs a ratio ``P`` and has the unit of ``X``;
- ``crosses`` and indicator series need values with a history (market data,
  indicators, constants), not book values like ``condor.pnl``;
- indicator windows are constant whole numbers (of observations).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from . import ast as A
from .diagnostics import Diagnostic, error, warning
from .names import FUNCTIONS, INDICATORS, STATE_NAMES, UNIT_WORDS, suggest
from .printer import format_expr, format_number

SCALARS = frozenset({"bare", "number", "percent", "count"})


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
    return a == b or "bare" in (a, b) or {a, b} == {"number", "percent"}


def merge(a: str, b: str) -> str:
    if a == "bare":
        return b
    if b == "bare" or a == b:
        return a
    return "number"  # number with percent: both ratios


_ARG_UNITS: dict[str, tuple[frozenset[str], str]] = {
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


@dataclass
class TypeTable:
    """Types and constant values of every expression of a program, by node identity."""

    types: dict[int, Ty] = field(default_factory=dict)
    consts: dict[int, float | None] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def of(self, expr: Any) -> Ty:
        return self.types.get(id(expr), ERROR)

    def const(self, expr: Any) -> float | None:
        return self.consts.get(id(expr))


def infer_types(program: Any, definitions: dict[str, Any]) -> TypeTable:
    """Type every expression of the program, in evaluation order."""
    return _Inferrer(program, definitions).run()


class _Inferrer:
    def __init__(self, program: Any, definitions: dict[str, Any]) -> None:
        self.program = program
        self.definitions = definitions
        self.table = TypeTable()
        self.define_types: dict[str, Ty] = {}
        self.define_consts: dict[str, float | None] = {}

    def report(self, d: Diagnostic) -> None:
        self.table.diagnostics.append(d)

    def run(self) -> TypeTable:
        for stmt in self.program.statements:
            if stmt.kind == "define":
                ty = self.infer(stmt.expr)
                self.define_types.setdefault(stmt.name, ty)
                self.define_consts.setdefault(stmt.name, self.table.const(stmt.expr))
            elif stmt.kind == "rule":
                self.rule(stmt)
        return self.table

    # ------------------------------------------------------------ rules
    def condition(self, expr: Any, clause: str) -> None:
        ty = self.infer(expr)
        if ty.kind == "num":
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
        if rule.when is not None:
            self.condition(rule.when, "when")
        if rule.unless is not None:
            self.condition(rule.unless, "unless")
        for action in rule.actions:
            self.action(action)
        if rule.cooldown is not None:
            self.arg(rule.cooldown, "cooldown", constant=True)

    def arg(self, expr: Any, role: str, *, constant: bool = False) -> None:
        ty = self.infer(expr)
        if ty.kind == "error":
            return
        allowed, example = _ARG_UNITS[role]
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

    def action(self, a: Any) -> None:
        kind = a.kind

        def expiry(ref: Any) -> None:
            if ref.kind == "by_month":
                self.arg(ref.month, "month", constant=True)
            else:
                self.arg(ref.days, "near")

        if kind == "open_condor":
            if a.expiry is not None:
                expiry(a.expiry)
            for value, role in ((a.short_delta, "short_delta"), (a.wings, "wings"),
                                (a.quantity, "quantity")):  # fmt: skip
                if value is not None:
                    self.arg(value, role)
        elif kind == "roll_condor":
            expiry(a.to)
        elif kind == "close":
            if a.fraction is not None:
                self.arg(a.fraction, "fraction")
            if a.month is not None:
                self.arg(a.month, "month", constant=True)
        elif kind == "shift_hedge":
            self.arg(a.fraction, "fraction")
            if a.from_month is not None:
                self.arg(a.from_month, "month", constant=True)
            self.arg(a.to_month, "month", constant=True)
        elif kind == "trade_future":
            if a.count is not None:
                self.arg(a.count, "count")
            self.arg(a.month, "month", constant=True)
        elif kind == "buy_call_spread":
            if a.count is not None:
                self.arg(a.count, "count")
            self.arg(a.lower, "strike")
            self.arg(a.upper, "strike")
            self.arg(a.month, "month", constant=True)
            if a.costing is not None:
                self.arg(a.costing, "costing")

    # ------------------------------------------------------ expressions
    def infer(self, e: Any) -> Ty:
        key = id(e)
        ty = self.table.types.get(key)
        if ty is not None:
            return ty
        ty, const = self._infer(e)
        self.table.types[key] = ty
        self.table.consts[key] = const
        return ty

    def _num(self, e: Any, what: str) -> Ty:
        """Infer an operand that must be a number."""
        ty = self.infer(e)
        if ty.kind == "bool":
            self.report(
                error(
                    "E205",
                    f"`{format_expr(e)}` is true/false and cannot be used {what}",
                    e.span,
                )
            )
            return ERROR
        return ty

    def _infer(self, e: Any) -> tuple[Ty, float | None]:
        kind = e.kind
        c = self.table.const
        if kind == "number":
            value = e.value / 100 if e.unit == "percent" else e.value
            return Ty("num", e.unit, series=True, const=True), value
        if kind == "name":
            return self._name(e)
        if kind == "call":
            return self._call(e), None
        if kind == "neg":
            ty = self._num(e.operand, "with `-`")
            v = c(e.operand)
            return ty, (-v if v is not None else None)
        if kind == "not":
            self._bool(e.operand, "not")
            return BOOL, None
        if kind == "boolop":
            for o in e.operands:
                self._bool(o, e.op)
            return BOOL, None
        if kind == "binop":
            return self._binop(e)
        if kind == "compare":
            if e.op in ("==", "!="):
                lt, rt = self.infer(e.left), self.infer(e.right)
                if lt.kind == "bool" and rt.kind == "bool":
                    return BOOL, None
            self._compare(e, [e.left, e.right], f"`{e.op}`")
            return BOOL, None
        if kind == "between":
            self._compare(e, [e.value, e.low, e.high], "`between`")
            return BOOL, None
        if kind == "crosses":
            self._compare(e, [e.left, e.right], f"`crosses {e.direction}`")
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
            return BOOL, None
        raise TypeError(kind)

    def _bool(self, e: Any, op: str) -> None:
        ty = self.infer(e)
        if ty.kind == "num":
            self.report(
                error(
                    "E204",
                    f"`{op}` needs true/false, but `{format_expr(e)}` is {ty.describe()}",
                    e.span,
                    help="compare it with something, e.g. `VIX > 20`",
                )
            )

    def _name(self, e: Any) -> tuple[Ty, float | None]:
        name = e.name
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
        if target is not None and target.kind == "param" and value is not None:
            v = value.value / 100 if value.unit == "percent" else value.value
            return Ty("num", value.unit, series=True, const=True), v
        if name in self.define_types:
            return self.define_types[name], self.define_consts.get(name)
        return ERROR, None  # unknown or used before definition: reported by check_names

    def _compare(self, e: Any, operands: list[Any], what: str) -> None:
        tys = [self._num(o, f"with {what}") for o in operands]
        if any(t.kind == "error" for t in tys):
            return
        units = [t.unit for t in tys]
        first = operands[0]
        for other, unit in zip(operands[1:], units[1:], strict=True):
            if not compatible(units[0], unit):
                self.report(
                    error(
                        "E201",
                        f"cannot compare `{format_expr(first)}` ({UNIT_WORDS[units[0]]}) "
                        f"with `{format_expr(other)}` ({UNIT_WORDS[unit]})",
                        e.span,
                        help=_unit_help(first, units[0]),
                    )
                )
                return
        for a, ua, b, ub in (
            (first, units[0], o, u) for o, u in zip(operands[1:], units[1:], strict=True)
        ):
            for pct, bare, bare_unit in ((ua, b, ub), (ub, a, ua)):
                v = self.table.const(bare)
                if pct == "percent" and bare_unit == "bare" and v is not None and abs(v) > 1:
                    self.report(
                        warning(
                            "W204",
                            f"`{format_expr(bare)}` is compared with a percentage and reads "
                            f"as {format_number(v * 100)}%",
                            bare.span,
                            help=f"write `{format_expr(bare)}%` if you mean percent",
                        )
                    )

    def _binop(self, e: Any) -> tuple[Ty, float | None]:
        op = e.op
        lt = self._num(e.left, f"with `{op}`")
        rt = self._num(e.right, f"with `{op}`")
        lv, rv = self.table.const(e.left), self.table.const(e.right)
        if lt.kind == "error" or rt.kind == "error":
            return ERROR, None
        series = lt.series and rt.series
        const = lt.const and rt.const
        value: float | None = None
        if lv is not None and rv is not None:
            if op == "+":
                value = lv + rv
            elif op == "-":
                value = lv - rv
            elif op in ("*", "of"):
                value = lv * rv
            elif op == "/" and rv != 0:
                value = lv / rv
        if op in ("+", "-"):
            if not compatible(lt.unit, rt.unit):
                self.report(
                    error(
                        "E201",
                        f"cannot {'add' if op == '+' else 'subtract'} "
                        f"{UNIT_WORDS[rt.unit]} `{format_expr(e.right)}` "
                        f"{'to' if op == '+' else 'from'} {UNIT_WORDS[lt.unit]} "
                        f"`{format_expr(e.left)}`",
                        e.span,
                        help=_unit_help(e.left, lt.unit),
                    )
                )
                return ERROR, None
            return Ty("num", merge(lt.unit, rt.unit), series, const), value
        if op == "of":
            left_ok = lt.unit in ("percent", "number") or (
                lt.unit == "bare" and not isinstance(e.left, A.Number)
            )
            if not left_ok:
                hint = (
                    f"write `{format_expr(e.left)}%`"
                    if isinstance(e.left, A.Number)
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
                return ERROR, None
            return Ty("num", rt.unit if rt.unit != "bare" else "bare", series, const), value
        if op == "*":
            if lt.unit not in SCALARS and rt.unit not in SCALARS:
                self.report(
                    error(
                        "E202",
                        f"cannot multiply {UNIT_WORDS[lt.unit]} by {UNIT_WORDS[rt.unit]}",
                        e.span,
                        help="one side of `*` must be a plain number or a percentage",
                    )
                )
                return ERROR, None
            if lt.unit in SCALARS and rt.unit in SCALARS:
                unit = merge(lt.unit, rt.unit) if "bare" in (lt.unit, rt.unit) else "number"
            else:
                unit = rt.unit if lt.unit in SCALARS else lt.unit
            return Ty("num", unit, series, const), value
        # division
        if compatible(lt.unit, rt.unit) and lt.unit != "bare" and rt.unit != "bare":
            return Ty("num", "number", series, const), value
        if rt.unit in SCALARS:
            return Ty("num", lt.unit, series, const), value
        if lt.unit == "bare":
            self.report(
                error(
                    "E202",
                    f"cannot divide a plain number by {UNIT_WORDS[rt.unit]}",
                    e.span,
                    help="divide like units to get a ratio, e.g. `condor.pnl / condor.credit`",
                )
            )
            return ERROR, None
        self.report(
            error(
                "E202",
                f"cannot divide {UNIT_WORDS[lt.unit]} by {UNIT_WORDS[rt.unit]}",
                e.span,
                help="divide like units to get a ratio, e.g. `condor.pnl / condor.credit`",
            )
        )
        return ERROR, None

    # ----------------------------------------------------------- calls
    def _call(self, e: Any) -> Ty:
        func = e.func
        if func in FUNCTIONS:
            return self._function(e)
        ind = INDICATORS.get(func)
        if ind is None:
            guess = suggest(func, [*INDICATORS, *FUNCTIONS])
            for a in e.args:
                self.infer(a)
            self.report(
                error(
                    "E107",
                    f"unknown function `{func}`",
                    e.span,
                    help=f"did you mean `{guess}`?"
                    if guess
                    else "indicators: " + ", ".join(INDICATORS),
                )
            )
            return ERROR
        n = len(e.args)
        if n not in ind.arities:
            for a in e.args:
                self.infer(a)
            forms = {
                "SMA": "SMA(series, window)",
                "EMA": "EMA(series, window)",
                "RSI": "RSI(window) or RSI(series, window)",
                "MACD": "MACD, MACD(series), MACD(fast, slow, signal) or "
                "MACD(series, fast, slow, signal)",
                "ADLINE": "ADLINE (no arguments)",
                "realized_vol": "realized_vol(series, window)",
                "change": "change(series, window)",
            }[func]
            self.report(error("E108", f"`{func}` takes {forms}; got {n} argument(s)", e.span))
            return ERROR
        series_args, windows = split_args(func, e.args)
        series_unit = "points"
        ok = True
        for s in series_args:
            ty = self._num(s, f"as the series of `{func}`")
            if ty.kind == "error":
                ok = False
            elif not ty.series:
                self.report(
                    error(
                        "E109",
                        f"`{func}` needs a series with a history; `{format_expr(s)}` has none",
                        s.span,
                        help="use market data (SPX, VIX, VIX.M2, …), another indicator, or a "
                        "combination of them",
                    )
                )
                ok = False
            else:
                series_unit = ty.unit
        for w in windows:
            ty = self._num(w, f"as a window of `{func}`")
            v = self.table.const(w)
            if ty.kind == "error":
                ok = False
            elif ty.unit not in ("bare", "days", "count") or v is None or v != int(v) or v < 1:
                self.report(
                    error(
                        "E111",
                        f"the window `{format_expr(w)}` of `{func}` must be a constant whole "
                        "number of observations",
                        w.span,
                        help=f"e.g. `{_example(func)}`",
                    )
                )
                ok = False
        if func == "MACD" and len(windows) == 3:
            vals = [self.table.const(w) for w in windows]
            if None not in vals and not vals[0] < vals[1]:  # type: ignore[operator]
                self.report(
                    error(
                        "E111",
                        "the MACD fast window must be shorter than the slow one",
                        e.span,
                        help="e.g. `MACD(SPX, 12, 26, 9)`",
                    )
                )
                ok = False
        if e.field is not None and e.field not in ind.fields:
            fields = ", ".join(f"`.{f}`" for f in ind.fields) or "none"
            self.report(
                error(
                    "E110",
                    f"`{func}` has no field `.{e.field}`",
                    e.span,
                    help=f"fields of `{func}`: {fields}",
                )
            )
            ok = False
        if not ok:
            return ERROR
        return Ty("num", ind.unit or series_unit, series=True)

    def _function(self, e: Any) -> Ty:
        func = e.func
        if len(e.args) != FUNCTIONS[func]:
            for a in e.args:
                self.infer(a)
            self.report(
                error(
                    "E108",
                    f"`{func}` takes {FUNCTIONS[func]} argument(s), got {len(e.args)}",
                    e.span,
                )
            )
            return ERROR
        if e.field is not None:
            self.report(error("E110", f"`{func}(…)` has no field `.{e.field}`", e.span))
            return ERROR
        tys = [self._num(a, f"in `{func}`") for a in e.args]
        if any(t.kind == "error" for t in tys):
            return ERROR
        unit = tys[0].unit
        for a, t in zip(e.args[1:], tys[1:], strict=True):
            if not compatible(unit, t.unit):
                self.report(
                    error(
                        "E201",
                        f"`{func}` of {UNIT_WORDS[unit]} and {UNIT_WORDS[t.unit]}",
                        a.span,
                        help="both arguments need the same unit",
                    )
                )
                return ERROR
            unit = merge(unit, t.unit)
        return Ty("num", unit, series=all(t.series for t in tys), const=all(t.const for t in tys))


def split_args(func: str, args: tuple[Any, ...]) -> tuple[list[Any], list[Any]]:
    """Split an indicator call's arguments into (series, windows)."""
    ind = INDICATORS[func]
    n = len(args)
    if func == "RSI":
        return (list(args[:1]), list(args[1:])) if n == 2 else ([], list(args))
    if func == "MACD":
        if n in (1, 4):
            return [args[0]], list(args[1:])
        return [], list(args)
    return list(args[: ind.series_args]), list(args[ind.series_args :])


def _example(func: str) -> str:
    return {
        "SMA": "SMA(SPX, 20)",
        "EMA": "EMA(VIX, 10)",
        "RSI": "RSI(14)",
        "MACD": "MACD(SPX, 12, 26, 9)",
        "realized_vol": "realized_vol(SPX, 20)",
        "change": "change(VIX, 5 days)",
    }.get(func, func)


def _unit_help(expr: Any, unit: str) -> str:
    examples = {
        "days": "days: write e.g. `2 days`",
        "points": "points: write e.g. `50 points`, or a bare number",
        "dollars": "dollars: write e.g. `$1500`, or a percentage `of` a dollar value",
        "percent": "a percentage: write e.g. `25%`",
        "count": "a count: compare it with a whole number",
        "number": "a plain number: compare it with a bare number",
    }
    return f"`{format_expr(expr)}` is in {examples.get(unit, unit)}"


def iter_names(expr: Any) -> Iterator[str]:
    for node in A.walk(expr):
        if node.kind == "name":
            yield node.name
