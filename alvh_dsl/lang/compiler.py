"""Checked AST → Python closures, once per book (no ``eval`` or ``exec`` of anything).

Two closure trees exist per expression: a fast one (short-circuiting, no
records, specialised for the commonest shapes such as a state value against a
constant) and a traced one, which records a :class:`~alvh_dsl.lang.runtime.TraceNode`
per sub-expression and evaluates every operand so the audit trail is complete.
History-based values (indicators, ``crosses``) are compiled by the
:class:`~alvh_dsl.lang.runtime.SeriesBackend` the compiler is given (the NumPy
one lives in :mod:`alvh_dsl.series`; this package imports no NumPy); actions
compile to resolvers of their arguments (constant arguments are resolved here,
once).

The compiler walks the AST by matching on its classes (:mod:`alvh_dsl.lang.ast`);
everything it builds is a closure over what the match found, so an evaluation
runs no dispatch of its own.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Container
from types import MappingProxyType
from typing import Any

from . import ast as A
from .check import Analysis
from .names import FUNCTIONS, STATE_NAMES
from .printer import format_action, format_expr
from .program import Program
from .runtime import (
    Env,
    Fast,
    NoSeriesBackend,
    ResolvedAction,
    SeriesBackend,
    SeriesReader,
    SeriesScope,
    TraceNode,
)
from .state import Unknown, Value
from .targets import consumed_targets

# ------------------------------------------------------------------ compiler

# Operators on values the closures have checked are not Unknown (mypy cannot see
# that check, `type(v) is Unknown`, the fastest there is): typed loosely.
_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
COMPARISONS = _CMP
"""The comparison operators' functions (shared with :mod:`alvh_dsl.lang.observe`)."""
_FUNCTIONS: dict[str, Callable[..., Value]] = {"abs": abs, "min": min, "max": max}
_ARITH: dict[str, Callable[[Any, Any], Value]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "of": operator.mul,
}


def is_history_leaf(e: A.Expr, params: Container[str], defines: Container[str]) -> bool:
    """Whether ``e`` itself reads market history: an indicator call (``SMA(VIX, 20)``)
    or a name only the history provides (``MACD.signal``, ``ADLINE``). (``crosses``
    reads history too, through its operands.)"""
    if isinstance(e, A.Call):
        return e.func not in FUNCTIONS
    if isinstance(e, A.Name):
        name = e.name
        return name not in params and name not in defines and name not in STATE_NAMES
    return False


def reads_history(program: Program) -> bool:
    """Whether evaluating ``program`` reads market history (an indicator or ``crosses``
    in a rule, directly or through a define): such a book needs a series backend."""
    params, defines = program.param_values, program.defines
    stack: list[A.Expr] = []
    for rule in program.rules:
        stack.extend(x for x in (rule.when, rule.unless) if x is not None)
        for action in rule.actions:
            stack.extend(A.action_exprs(action))
    seen: set[str] = set(params)  # defines followed (a param's name is a constant)
    while stack:
        node = stack.pop()
        if isinstance(node, A.Crosses) or is_history_leaf(node, params, defines):
            return True
        if isinstance(node, A.Name) and node.name in defines and node.name not in seen:
            seen.add(node.name)
            stack.append(defines[node.name].expr)
        stack.extend(A.children(node))
    return False


def memoised(key: str, body: Fast) -> Fast:
    """``body``, computed once per evaluation: its value kept in ``env.memo`` under ``key``
    (a define's, read by every rule that uses it)."""

    def fn(env: Env) -> Value:
        memo = env.memo
        if key in memo:
            return memo[key]
        v = memo[key] = body(env)
        return v

    return fn


class Compiler:
    """Builds the closures of one program; records which state names and whether
    any history the book reads (so an evaluation computes only those)."""

    def __init__(
        self, program: Program, analysis: Analysis, series: SeriesBackend | None = None
    ) -> None:
        self.program = program
        self.an = analysis
        self.params: dict[str, float] = {}
        for name, num in program.param_values.items():
            self.params[name] = num.value / 100 if num.unit == "percent" else num.value
        self.defines = program.defines
        self.series = series
        self.scope = SeriesScope(self.params, self.defines, analysis.const)
        self.state_names: set[str] = set()
        self.uses_history = False
        self._define_cache: dict[tuple[str, bool], Fast] = {}

    def unit(self, e: A.Expr) -> str:
        ty = self.an.type_of(e)
        return "bool" if ty.kind == "bool" else ty.unit

    # --------------------------------------------------------- scalar
    def expr(self, e: A.Expr, traced: bool) -> Fast:
        fn = self._expr(e, traced)
        if not traced:
            return fn
        text = format_expr(e)
        unit = self.unit(e)

        def record(env: Env) -> Value:
            parent = env.trace
            assert parent is not None
            kids: list[TraceNode] = []
            env.trace = kids
            v = fn(env)
            env.trace = parent
            if type(v) is Unknown:
                parent.append(TraceNode(text, None, v.reason, unit, kids))
            else:
                parent.append(TraceNode(text, v, None, unit, kids))  # type: ignore[arg-type]
            return v

        return record

    def _expr(self, e: A.Expr, traced: bool) -> Fast:
        if is_history_leaf(e, self.params, self.defines):
            return self._history_value(e)
        match e:
            case A.Number(value=value, unit=unit):
                number = value / 100 if unit == "percent" else value
                return lambda env: number
            case A.Name(name=name):
                return self._name(name, traced)
            case A.Call(func=func, args=args):
                # abs/min/max of today's values: their arguments need no history
                # (`abs(book.gamma)`); only indicators read the series.
                return self._function(func, args, traced)
            case A.Neg(operand=operand):
                return _neg(self.expr(operand, traced))
            case A.Not(operand=operand):
                return _not(self.expr(operand, traced))
            case A.BoolOp(op=op, operands=operands):
                return self._boolop(op == "and", [self.expr(o, traced) for o in operands], traced)
            case A.BinOp():
                return self._binop(e, traced)
            case A.Compare():
                # Also `a == b` between two conditions: the generic comparison serves.
                return self._compare(e, traced)
            case A.Between(value=value_e, low=low, high=high):
                return _between(*(self.expr(x, traced) for x in (value_e, low, high)))
            case A.Crosses():
                return self._crosses(e, traced)
        raise TypeError(e.kind)  # pragma: no cover - every expression class is matched

    def _name(self, name: str, traced: bool) -> Fast:
        """A param, a define or a state name (history names are :meth:`_history_value`)."""
        if name in self.params:
            value = self.params[name]
            return lambda env: value
        if name in self.defines:
            return self._define(name, traced)
        self.state_names.add(name)

        def state_value(env: Env) -> Value:
            return env[name]

        return state_value

    def _function(self, func: str, args: tuple[A.Expr, ...], traced: bool) -> Fast:
        fs = [self.expr(a, traced) for a in args]
        fn = _FUNCTIONS[func]

        def call(env: Env) -> Value:
            args = []
            for f in fs:
                v = f(env)
                if type(v) is Unknown:
                    return v
                args.append(v)
            return fn(*args)

        return call

    def _define(self, name: str, traced: bool) -> Fast:
        key = (name, traced)
        cached = self._define_cache.get(key)
        if cached is not None:
            return cached
        body = self.expr(self.defines[name].expr, traced)
        # traced: recompute per use so every use shows its sub-tree
        fn = body if traced else memoised(name, body)
        self._define_cache[key] = fn
        return fn

    def _boolop(self, is_and: bool, fs: list[Fast], traced: bool) -> Fast:
        stop = not is_and  # `and` stops at False, `or` at True

        if traced:
            # No short-circuit: the audit trail shows every operand's value.
            def logic_all(env: Env) -> Value:
                unknown: Value = is_and
                stopped = False
                for f in fs:
                    v = f(env)
                    if type(v) is Unknown:
                        if not stopped and type(unknown) is not Unknown:
                            unknown = v
                    elif v is stop or v == stop:
                        stopped = True
                return stop if stopped else unknown

            return logic_all

        if len(fs) == 2:
            # Two operands, the commonest shape: no loop.
            f1, f2 = fs

            def logic2(env: Env) -> Value:
                a = f1(env)
                if a is stop:
                    return stop
                b = f2(env)
                if b is stop:
                    return stop
                if type(a) is Unknown:
                    return a
                if type(b) is Unknown:
                    return b
                return is_and

            return logic2

        def logic(env: Env) -> Value:
            unknown: Value | None = None
            for f in fs:
                v = f(env)
                if type(v) is Unknown:
                    if unknown is None:
                        unknown = v
                elif v == stop:
                    return stop
            return unknown if unknown is not None else is_and

        return logic

    def _binop(self, e: A.BinOp, traced: bool) -> Fast:
        lf, rf = self.expr(e.left, traced), self.expr(e.right, traced)
        if e.op == "/":
            return _divide(lf, rf, format_expr(e))
        op = _ARITH[e.op]
        left_const = self.an.const(e.left) if not traced else None
        if left_const is not None and e.op in ("*", "of"):
            # `50% of condor.credit`: a constant ratio times a value.
            k = left_const

            def scale(env: Env) -> Value:
                b = rf(env)
                if type(b) is Unknown:
                    return b
                return k * b  # type: ignore[operator]

            return scale

        def arith(env: Env) -> Value:
            a, b = lf(env), rf(env)
            if type(a) is Unknown:
                return a
            if type(b) is Unknown:
                return b
            return op(a, b)

        return arith

    def _compare(self, e: A.Compare, traced: bool) -> Fast:
        cmp = _CMP[e.op]
        const = self.an.const(e.right) if not traced else None
        left_name = _state_name(e.left)
        if const is not None:
            # The commonest shape, `DTE < 2`, `condor.count == 0`: a value against a
            # constant. One closure call fewer, and a direct read for a state name.
            if left_name is not None:
                return self._compare_name_const(left_name, cmp, const)
            lf0 = self.expr(e.left, traced)

            def compare_const(env: Env) -> Value:
                a = lf0(env)
                if type(a) is Unknown:
                    return a
                return cmp(a, const)

            return compare_const
        lf, rf = self.expr(e.left, traced), self.expr(e.right, traced)
        if not traced and left_name is not None:

            def compare_name(env: Env) -> Value:
                a = env[left_name]
                if type(a) is Unknown:
                    return a
                b = rf(env)
                if type(b) is Unknown:
                    return b
                return cmp(a, b)

            return compare_name

        def compare(env: Env) -> Value:
            a, b = lf(env), rf(env)
            if type(a) is Unknown:
                return a
            if type(b) is Unknown:
                return b
            return cmp(a, b)

        return compare

    def _compare_name_const(self, name: str, cmp: Callable[[Any, Any], bool], const: float) -> Fast:
        self.state_names.add(name)

        def compare_name_const(env: Env) -> Value:
            a = env[name]
            if type(a) is Unknown:
                return a
            return cmp(a, const)

        return compare_name_const

    # --------------------------------------------------------- history
    def _reader(self, e: A.Expr, reading: A.Expr) -> SeriesReader:
        """The backend's reader of series ``e`` (``reading`` is what the book wrote)."""
        if self.series is None:
            raise NoSeriesBackend(
                f"{reading.span}: `{format_expr(reading)}` reads market history, and the "
                "book was compiled without a series backend: load it with "
                "alvh_dsl.load(), or pass one, e.g. "
                "compile_program(program, analysis, series=alvh_dsl.series.BACKEND)"
            )
        self.uses_history = True
        return self.series.reader(e, self.scope)

    def _history_value(self, e: A.Expr) -> Fast:
        """A history-based value (indicator, MACD name) read at today's index."""
        read = self._reader(e, e)
        text = format_expr(e)

        def value(env: Env) -> Value:
            src = env.source
            if src is None:
                return Unknown(f"{text} needs a history of market data, and the state has none")
            return read(src, src.index)

        return value

    def _crosses(self, e: A.Crosses, traced: bool) -> Fast:
        lread, rread = self._reader(e.left, e), self._reader(e.right, e)
        above = e.direction == "above"
        # Traced mode still records both sides' current values as children.
        lf = self.expr(e.left, traced) if traced else None
        rf = self.expr(e.right, traced) if traced else None

        def crosses(env: Env) -> Value:
            if lf is not None and rf is not None:
                lf(env)
                rf(env)
            return crossed(env, lread, rread, above)

        return crosses

    # --------------------------------------------------------- actions
    def action(self, a: A.Action) -> Callable[[Env], ResolvedAction]:
        """A resolver of the action's arguments; shared and prebuilt when all are constant."""
        args = _Arguments(self)
        _collect_arguments(a, args)
        kind, text, fixed, parts = a.kind, format_action(a), args.fixed, args.parts
        # Months are constants (the checker insists), so the targets are known now.
        targets = consumed_targets(a, self.an.const)
        if not parts:
            prebuilt = ResolvedAction(kind, text, MappingProxyType(dict(fixed)), targets)
            return lambda env: prebuilt

        def resolve(env: Env) -> ResolvedAction:
            args = dict(fixed)
            for name, f in parts:
                v = f(env)
                if type(v) is Unknown:
                    return ResolvedAction(
                        kind, text, MappingProxyType(args), (), "unresolved", None, v.reason
                    )
                if name in _INTEGRAL:
                    n = math.floor(v + 1e-9)  # type: ignore[operator]
                    if n < 1:
                        return ResolvedAction(
                            kind, text, MappingProxyType(args), (), "unresolved", None,
                            f"{name} comes to {v:g}, less than one contract",
                        )  # fmt: skip
                    v = n
                elif name == "fraction" and not 0 < v <= 1:  # type: ignore[operator]
                    return ResolvedAction(
                        kind, text, MappingProxyType(args), (), "unresolved", None,
                        f"fraction {v:.4g} is outside 0%–100%",
                    )  # fmt: skip
                args[name] = v  # type: ignore[assignment]
            return ResolvedAction(kind, text, MappingProxyType(args), targets)

        return resolve


# ------------------------------------------------------------------ closures


def _neg(f: Fast) -> Fast:
    def neg(env: Env) -> Value:
        v = f(env)
        return v if type(v) is Unknown else -v  # type: ignore[operator]

    return neg


def _not(f: Fast) -> Fast:
    def not_(env: Env) -> Value:
        v = f(env)
        return v if type(v) is Unknown else not v

    return not_


def _between(vf: Fast, lo: Fast, hi: Fast) -> Fast:
    def between(env: Env) -> Value:
        v, a, b = vf(env), lo(env), hi(env)
        for x in (v, a, b):
            if type(x) is Unknown:
                return x
        return a <= v <= b  # type: ignore[operator]

    return between


def _divide(lf: Fast, rf: Fast, text: str) -> Fast:
    def div(env: Env) -> Value:
        a, b = lf(env), rf(env)
        if type(a) is Unknown:
            return a
        if type(b) is Unknown:
            return b
        if b == 0:
            return Unknown(f"{text} divides by zero")
        return a / b  # type: ignore[operator]

    return div


def _state_name(e: A.Expr) -> str | None:
    """``e``'s name when it is a state name (read straight from the snapshot)."""
    return e.name if isinstance(e, A.Name) and e.name in STATE_NAMES else None


# ------------------------------------------------------------------ actions

_INTEGRAL = frozenset({"month", "from_month", "to_month", "count", "quantity"})
"""Arguments that count contracts or months: whole numbers, at least one."""


class _Arguments:
    """An action's arguments as they are compiled: constants resolved once (``fixed``),
    the others as closures evaluated with each snapshot (``parts``), in source order."""

    def __init__(self, compiler: Compiler) -> None:
        self.compiler = compiler
        self.fixed: dict[str, float | str] = {}
        self.parts: list[tuple[str, Fast]] = []

    def add(self, name: str, expr: A.Expr | None) -> None:
        if expr is None:
            return
        # A valid constant (a month, a strike, `50%`) is resolved once, here;
        # anything else is evaluated with each snapshot.
        c = self.compiler.an.const(expr)
        if c is not None:
            if name in _INTEGRAL and math.floor(c + 1e-9) >= 1:
                self.fixed[name] = math.floor(c + 1e-9)
                return
            if name == "fraction" and 0 < c <= 1:
                self.fixed[name] = c
                return
            if name not in _INTEGRAL and name != "fraction":
                self.fixed[name] = c
                return
        self.parts.append((name, self.compiler.expr(expr, False)))

    def expiry(self, ref: A.ExpiryRef) -> None:
        self.add("month" if isinstance(ref, A.ByMonth) else "near_days", A.expiry_expr(ref))


def _collect_arguments(a: A.Action, args: _Arguments) -> None:
    """Every argument of ``a``, with the defaults of those left out (the order is the
    order of the resolved action's ``args``, which reports show)."""
    add, fixed = args.add, args.fixed
    match a:
        case A.OpenCondor():
            if a.expiry is not None:
                args.expiry(a.expiry)
            add("short_delta", a.short_delta)
            add("wings", a.wings)
            add("quantity", a.quantity)
            if a.quantity is None:
                fixed["quantity"] = 1
        case A.RollCondor():
            args.expiry(a.to)
            fixed["keeping"] = a.keeping or "delta"
        case A.Close():
            fixed["target"] = a.target
            add("month", a.month)
            add("fraction", a.fraction)
            if a.fraction is None:
                fixed["fraction"] = 1.0
        case A.ShiftHedge():
            add("fraction", a.fraction)
            add("from_month", a.from_month)
            if a.from_month is None:
                fixed["from_month"] = 1
            add("to_month", a.to_month)
        case A.TradeFuture():
            fixed["side"] = a.side
            add("count", a.count)
            if a.count is None:
                fixed["count"] = 1
            add("month", a.month)
        case A.BuyCallSpread():
            add("count", a.count)
            add("lower", a.lower)
            add("upper", a.upper)
            add("month", a.month)
            add("budget", a.costing)
            if a.count is None and a.costing is None:
                fixed["count"] = 1
        case A.Alert():
            fixed["message"] = a.message


def crossed(env: Env, lread: SeriesReader, rread: SeriesReader, above: bool) -> Value:
    """Whether the left series crossed the right one (``above`` or below) since the
    previous observation of ``env.source``; unknown without two observations."""
    src = env.source
    if src is None:
        return Unknown("`crosses` needs a history of market data, and the state has none")
    i = src.index
    if i < 1:
        return Unknown("`crosses` needs a previous observation, and this is the first")
    lp = lread(src, i - 1)
    if type(lp) is Unknown:
        return lp
    lc = lread(src, i)
    if type(lc) is Unknown:
        return lc
    rp = rread(src, i - 1)
    if type(rp) is Unknown:
        return rp
    rc = rread(src, i)
    if type(rc) is Unknown:
        return rc
    if above:
        return lp <= rp and lc > rc  # type: ignore[operator]
    return lp >= rp and lc < rc  # type: ignore[operator]
