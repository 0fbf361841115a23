"""Checked AST → Python closures, once per book (no ``eval`` or ``exec`` of anything).

Two closure trees exist per expression: a fast one (short-circuiting, no
records, specialised for the commonest shapes such as a state value against a
constant) and a traced one, which records a :class:`~alvh_dsl.lang.runtime.TraceNode`
per sub-expression and evaluates every operand so the audit trail is complete.
Indicators compile to whole-array computations cached per
:class:`~alvh_dsl.lang.runtime.SeriesSource`; actions compile to resolvers of their
arguments (constant arguments are resolved here, once).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np

from . import ast as A
from . import indicators as ind
from .check import Analysis
from .names import FUNCTIONS, INDICATORS, STATE_NAMES
from .printer import format_action, format_expr
from .program import Program
from .runtime import (
    Env,
    Fast,
    ResolvedAction,
    SeriesFn,
    SeriesSource,
    TraceNode,
    missing_inputs,
    unknown_at,
    value_at,
)
from .state import Unknown, Value
from .types import split_args

# ------------------------------------------------------------------ compiler

_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {"abs": abs, "min": min, "max": max}
_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "of": operator.mul,
}


class Compiler:
    """Builds the closures of one program; records which state names and whether
    any history the book reads (so an evaluation computes only those)."""

    def __init__(self, program: Program, analysis: Analysis) -> None:
        self.program = program
        self.an = analysis
        self.params: dict[str, float] = {}
        for name, num in program.param_values.items():
            self.params[name] = num.value / 100 if num.unit == "percent" else num.value
        self.defines = program.defines
        self.state_names: set[str] = set()
        self.uses_history = False
        self._define_cache: dict[tuple[str, bool], Fast] = {}

    def unit(self, e: Any) -> str:
        ty = self.an.type_of(e)
        return "bool" if ty.kind == "bool" else ty.unit

    # --------------------------------------------------------- scalar
    def expr(self, e: Any, traced: bool) -> Fast:
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

    def _expr(self, e: Any, traced: bool) -> Fast:
        kind = e.kind
        if kind == "number":
            value = e.value / 100 if e.unit == "percent" else e.value
            return lambda env: value
        if kind == "name":
            return self._name(e, traced)
        if kind == "call":
            if e.func in FUNCTIONS:
                # abs/min/max of today's values: their arguments need no history
                # (`abs(book.gamma)`); only indicators read the series.
                return self._function(e, traced)
            return self._series_scalar(e)
        if kind == "neg":
            f = self.expr(e.operand, traced)

            def neg(env: Env) -> Value:
                v = f(env)
                return v if type(v) is Unknown else -v  # type: ignore[operator]

            return neg
        if kind == "not":
            f = self.expr(e.operand, traced)

            def not_(env: Env) -> Value:
                v = f(env)
                return v if type(v) is Unknown else not v

            return not_
        if kind == "boolop":
            return self._boolop(e, traced)
        if kind == "binop":
            return self._binop(e, traced)
        if kind == "compare":
            # Also `a == b` between two conditions: the generic comparison serves.
            return self._compare(e, traced)
        if kind == "between":
            vf, lo, hi = (self.expr(x, traced) for x in (e.value, e.low, e.high))

            def between(env: Env) -> Value:
                v, a, b = vf(env), lo(env), hi(env)
                for x in (v, a, b):
                    if type(x) is Unknown:
                        return x
                return a <= v <= b  # type: ignore[operator]

            return between
        if kind == "crosses":
            return self._crosses(e, traced)
        raise TypeError(kind)

    def _name(self, e: Any, traced: bool) -> Fast:
        name = e.name
        if name in self.params:
            value = self.params[name]
            return lambda env: value
        if name in self.defines:
            return self._define(name, traced)
        if name in STATE_NAMES:
            self.state_names.add(name)

            def state_value(env: Env) -> Value:
                return env[name]

            return state_value
        return self._series_scalar(e)  # MACD, MACD.signal, MACD.hist, ADLINE

    def _function(self, e: Any, traced: bool) -> Fast:
        fs = [self.expr(a, traced) for a in e.args]
        fn = _FUNCTIONS[e.func]

        def call(env: Env) -> Value:
            args = []
            for f in fs:
                v = f(env)
                if type(v) is Unknown:
                    return v
                args.append(v)
            return fn(*args)  # type: ignore[no-any-return]

        return call

    def _define(self, name: str, traced: bool) -> Fast:
        key = (name, traced)
        cached = self._define_cache.get(key)
        if cached is not None:
            return cached
        body = self.expr(self.defines[name].expr, traced)
        if traced:
            fn = body  # traced: recompute per use so every use shows its sub-tree
        else:

            def fn(env: Env) -> Value:
                memo = env.memo
                if name in memo:
                    return memo[name]
                v = memo[name] = body(env)
                return v

        self._define_cache[key] = fn
        return fn

    def _boolop(self, e: Any, traced: bool) -> Fast:
        fs = [self.expr(o, traced) for o in e.operands]
        is_and: bool = e.op == "and"
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

    def _binop(self, e: Any, traced: bool) -> Fast:
        lf, rf = self.expr(e.left, traced), self.expr(e.right, traced)
        text = format_expr(e)
        if e.op == "/":

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
            return op(a, b)  # type: ignore[no-any-return]

        return arith

    def _compare(self, e: Any, traced: bool) -> Fast:
        cmp = _CMP[e.op]
        const = self.an.const(e.right) if not traced else None
        if const is not None:
            # The commonest shape, `DTE < 2`, `condor.count == 0`: a value against a
            # constant. One closure call fewer, and a direct read for a state name.
            name = e.left.name if e.left.kind == "name" and e.left.name in STATE_NAMES else None
            if name is not None:
                self.state_names.add(name)

                def compare_name_const(env: Env) -> Value:
                    a = env[name]
                    if type(a) is Unknown:
                        return a
                    return cmp(a, const)

                return compare_name_const
            lf0 = self.expr(e.left, traced)

            def compare_const(env: Env) -> Value:
                a = lf0(env)
                if type(a) is Unknown:
                    return a
                return cmp(a, const)

            return compare_const
        lf, rf = self.expr(e.left, traced), self.expr(e.right, traced)
        if not traced and e.left.kind == "name" and e.left.name in STATE_NAMES:
            left_name = e.left.name

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

    def _crosses(self, e: Any, traced: bool) -> Fast:
        lg, rg = self.series(e.left), self.series(e.right)
        above = e.direction == "above"
        ltext, rtext = format_expr(e.left), format_expr(e.right)
        lkey, rkey = "series:" + ltext, "series:" + rtext
        lin, rin = self._inputs(e.left), self._inputs(e.right)
        # Traced mode still records both sides' current values as children.
        lf = self.expr(e.left, traced) if traced else None
        rf = self.expr(e.right, traced) if traced else None

        def crosses(env: Env) -> Value:
            if lf is not None and rf is not None:
                lf(env)
                rf(env)
            src = env.source
            if src is None:
                return Unknown("`crosses` needs a history of market data, and the state has none")
            i = src.index
            if i < 1:
                return Unknown("`crosses` needs a previous observation, and this is the first")
            la, ra = lg(src), rg(src)
            vals = []
            for arr, key, text, inputs in ((la, lkey, ltext, lin), (ra, rkey, rtext, rin)):
                for j in (i - 1, i):
                    v = float(arr[j]) if isinstance(arr, np.ndarray) else float(arr)
                    if v != v:
                        missing = missing_inputs(src, inputs, text)
                        if missing is not None:
                            return missing
                        saved = src.index
                        src.index = j
                        unknown = unknown_at(src, arr, key, text)
                        src.index = saved
                        return unknown
                    vals.append(v)
            lp, lc, rp, rc = vals
            if above:
                return lp <= rp and lc > rc
            return lp >= rp and lc < rc

        return crosses

    # --------------------------------------------------------- series
    def _series_scalar(self, e: Any) -> Fast:
        """A history-based value (indicator, MACD name) read at today's index."""
        g = self.series(e)
        text = format_expr(e)
        key = "series:" + text
        inputs = self._inputs(e)

        def value(env: Env) -> Value:
            src = env.source
            if src is None:
                return Unknown(f"{text} needs a history of market data, and the state has none")
            v = value_at(src, g(src), key, text)
            if type(v) is Unknown:
                return missing_inputs(src, inputs, text) or v
            return v

        return value

    def _inputs(self, e: Any) -> frozenset[str]:
        """The base series a series expression reads (defines followed, params skipped)."""
        out: set[str] = set()
        seen: set[str] = set()
        stack = [e]
        while stack:
            node = stack.pop()
            if node.kind == "name":
                name = node.name
                if name in self.params:
                    continue
                if name in self.defines:
                    if name not in seen:
                        seen.add(name)
                        stack.append(self.defines[name].expr)
                elif name == "ADLINE":
                    out.update(("advances", "declines"))
                elif name.partition(".")[0] == "MACD":
                    out.add("SPX")
                else:
                    out.add(name)
                continue
            if node.kind == "call":
                spec = INDICATORS.get(node.func)
                if node.func == "ADLINE":
                    out.update(("advances", "declines"))
                elif (
                    spec is not None
                    and spec.default_series is not None
                    and not split_args(node.func, node.args)[0]
                ):
                    out.add(spec.default_series)
            stack.extend(A.children(node))
        return frozenset(out)

    def series(self, e: Any) -> SeriesFn:
        """Compile a series-valued expression to ``source -> ndarray`` (or a float constant)."""
        self.uses_history = True
        kind = e.kind
        if kind == "number":
            value = e.value / 100 if e.unit == "percent" else e.value
            return lambda src: value
        if kind == "name":
            name = e.name
            if name in self.params:
                pv = self.params[name]
                return lambda src: pv
            if name in self.defines:
                return self.series(self.defines[name].expr)
            if name == "ADLINE":
                return self._indicator("ADLINE", (), None)
            head, _, tail = name.partition(".")
            if head == "MACD":
                return self._indicator("MACD", (), tail or None)
            return lambda src: src.base(name)
        if kind == "call":
            if e.func in ("abs", "min", "max"):
                gs = [self.series(a) for a in e.args]
                np_fn: Any = {"abs": np.abs, "min": np.minimum, "max": np.maximum}[e.func]
                return lambda src: np_fn(*(g(src) for g in gs))
            return self._indicator(e.func, e.args, e.field)
        if kind == "neg":
            g = self.series(e.operand)
            return lambda src: -g(src)
        if kind == "binop":
            lg, rg = self.series(e.left), self.series(e.right)
            if e.op == "/":

                def div(src: SeriesSource) -> Any:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        out = np.divide(lg(src), rg(src))
                    return (
                        np.where(np.isfinite(out), out, np.nan)
                        if isinstance(out, np.ndarray)
                        else out
                    )

                return div
            op = _ARITH[e.op]
            return lambda src: op(lg(src), rg(src))
        raise TypeError(f"{kind} has no history")

    def _indicator(self, func: str, args: tuple[Any, ...], fld: str | None) -> SeriesFn:
        spec = INDICATORS[func]
        series_args, windows = split_args(func, args)
        series_fns: list[SeriesFn]
        if not series_args and spec.default_series is not None:
            default = spec.default_series
            series_fns = [lambda src: src.base(default)]
        else:
            series_fns = [self.series(a) for a in series_args]
        wins = [int(self.an.const(w) or 0) for w in windows]
        if func == "MACD" and not wins:
            wins = list(spec.defaults)
        key = f"{func}({','.join(format_expr(a) for a in series_args)};{wins})"

        def compute(src: SeriesSource) -> Any:
            cached = src.cache.get(key)
            if cached is None:
                xs = [_as_array(f(src), src.length) for f in series_fns]
                if func == "SMA":
                    cached = ind.sma(xs[0], wins[0])
                elif func == "EMA":
                    cached = ind.ema(xs[0], wins[0])
                elif func == "RSI":
                    cached = ind.rsi(xs[0], wins[0])
                elif func == "realized_vol":
                    cached = ind.realized_vol(xs[0], wins[0])
                elif func == "change":
                    cached = ind.change(xs[0], wins[0])
                elif func == "ADLINE":
                    cached = ind.adline(src.base("advances"), src.base("declines"))
                elif func == "MACD":
                    cached = ind.macd(xs[0], *wins)
                else:  # pragma: no cover - the checker refuses unknown functions
                    raise KeyError(func)
                src.cache[key] = cached
            if func == "MACD":
                line, signal, hist = cached
                return {"signal": signal, "hist": hist}.get(fld or "", line)
            return cached

        return compute

    # --------------------------------------------------------- actions
    def action(self, a: Any) -> Callable[[Env], ResolvedAction]:
        text = format_action(a)
        kind = a.kind
        parts: list[tuple[str, Fast]] = []
        fixed: dict[str, Any] = {}

        integral = {"month", "from_month", "to_month", "count", "quantity"}

        def add(name: str, expr: Any | None) -> None:
            if expr is None:
                return
            # A valid constant (a month, a strike, `50%`) is resolved once, here;
            # anything else is evaluated with each snapshot.
            c = self.an.const(expr)
            if c is not None:
                if name in integral and math.floor(c + 1e-9) >= 1:
                    fixed[name] = math.floor(c + 1e-9)
                    return
                if name == "fraction" and 0 < c <= 1:
                    fixed[name] = c
                    return
                if name not in integral and name != "fraction":
                    fixed[name] = c
                    return
            parts.append((name, self.expr(expr, False)))

        if kind == "open_condor":
            if a.expiry is not None:
                add("month" if a.expiry.kind == "by_month" else "near_days", _expiry_expr(a.expiry))
            add("short_delta", a.short_delta)
            add("wings", a.wings)
            add("quantity", a.quantity)
            if a.quantity is None:
                fixed["quantity"] = 1
        elif kind == "roll_condor":
            add("month" if a.to.kind == "by_month" else "near_days", _expiry_expr(a.to))
            fixed["keeping"] = a.keeping or "delta"
        elif kind == "close":
            fixed["target"] = a.target
            add("month", a.month)
            add("fraction", a.fraction)
            if a.fraction is None:
                fixed["fraction"] = 1.0
        elif kind == "shift_hedge":
            add("fraction", a.fraction)
            add("from_month", a.from_month)
            if a.from_month is None:
                fixed["from_month"] = 1
            add("to_month", a.to_month)
        elif kind == "trade_future":
            fixed["side"] = a.side
            add("count", a.count)
            if a.count is None:
                fixed["count"] = 1
            add("month", a.month)
        elif kind == "buy_call_spread":
            add("count", a.count)
            add("lower", a.lower)
            add("upper", a.upper)
            add("month", a.month)
            add("budget", a.costing)
            if a.count is None and a.costing is None:
                fixed["count"] = 1
        elif kind == "alert":
            fixed["message"] = a.message

        def resolve(env: Env) -> ResolvedAction:
            args = dict(fixed)
            for name, f in parts:
                v = f(env)
                if type(v) is Unknown:
                    return ResolvedAction(
                        kind, text, MappingProxyType(args), (), "unresolved", None, v.reason
                    )
                if name in integral:
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
                args[name] = v
            return ResolvedAction(kind, text, MappingProxyType(args), targets)

        # Months are constants (the checker insists), so the targets are known now.
        static = dict(fixed)
        for name, expr in (("month", getattr(a, "month", None)),
                           ("from_month", getattr(a, "from_month", None))):  # fmt: skip
            if expr is not None:
                static[name] = int(self.an.const(expr) or 0)
        targets = _targets(kind, static)
        if not parts:
            prebuilt = ResolvedAction(kind, text, MappingProxyType(dict(fixed)), targets)
            return lambda env: prebuilt
        return resolve


def _expiry_expr(ref: Any) -> Any:
    return ref.month if ref.kind == "by_month" else ref.days


def _as_array(value: Any, n: int) -> Any:
    if isinstance(value, np.ndarray):
        return value
    return np.full(n, float(value))


def _targets(kind: str, args: dict[str, Any]) -> tuple[str, ...]:
    months = tuple(f"hedge.M{m}" for m in range(1, 10))
    if kind == "roll_condor":
        return ("condor",)
    if kind == "close":
        target = args["target"]
        if target == "condor":
            return ("condor",)
        if target == "all":
            return ("condor", *months)
        month = args.get("month")
        return (f"hedge.M{month}",) if month is not None else months
    if kind == "shift_hedge":
        return (f"hedge.M{args['from_month']}",)
    return ()
