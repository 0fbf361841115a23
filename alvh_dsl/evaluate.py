"""Compile once, evaluate many: a checked program → Python closures → decisions.

:func:`compile_program` turns every expression into a closure (no ``eval`` or
``exec`` of anything), once. :meth:`Book.evaluate` runs the closures against a
:class:`~alvh_dsl.state.State` with the semantics of the spec's "one
evaluation":

1. every condition sees the same snapshot (defines are computed once per
   evaluation);
2. rules that fire run by priority (higher first), then file order;
3. an action whose target (the condor, a hedge month) an earlier rule already
   closed, rolled or shifted in this step is skipped, naming that rule;
4. a rule inside its cooldown does not fire;
5. logic is three-valued (Kleene): a condition that is unknown (warm-up, flat
   book, missing futures month) does not fire, and the decision says why.

Each decision carries the rule, the resolved actions and, when tracing, a tree
of every sub-expression with its value: the audit trail.

Two closure trees exist per expression: a fast one (short-circuiting, no
records) and a traced one. ``evaluate(state, trace=False)`` uses the fast one.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from . import ast as A
from . import indicators as ind
from .check import Analysis, consumed_targets
from .diagnostics import Diagnostic
from .fmt import format_action, format_expr
from .loader import Program
from .names import FUNCTIONS, INDICATORS, STATE_NAMES
from .state import Snapshot, State, Unknown, Value
from .units import split_args

Fast = Callable[["Env"], Value]
SeriesFn = Callable[["SeriesSource"], Any]  # ndarray or float


# ------------------------------------------------------------------ results


def clean(value: Any) -> Any:
    """A float without binary noise (12 significant digits) for reports; others unchanged."""
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.12g}")
    return value


@dataclass(slots=True)
class TraceNode:
    """One sub-expression, its value (a ratio for percentages) or why it is unknown."""

    text: str
    value: float | bool | None
    unknown: str | None = None
    unit: str = "bare"
    children: list[TraceNode] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"expr": self.text, "value": clean(self.value)}
        if self.unknown is not None:
            out["unknown"] = self.unknown
        if self.unit not in ("bare", "bool"):
            out["unit"] = self.unit
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out


class ResolvedAction(NamedTuple):
    """An action with its arguments evaluated; ``status`` is apply, superseded or unresolved.

    Immutable (``args`` is read-only): an action whose arguments are all constants
    is built once, when the book is compiled, and shared by every evaluation.
    """

    kind: str
    text: str
    args: Mapping[str, Any]
    targets: tuple[str, ...] = ()
    status: str = "apply"
    superseded_by: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "text": self.text,
            "args": {k: clean(v) for k, v in self.args.items()},
            "status": self.status,
        }
        if self.superseded_by is not None:
            out["superseded_by"] = self.superseded_by
        if self.reason is not None:
            out["reason"] = self.reason
        return out


class Decision(NamedTuple):
    """What one rule did in one evaluation (immutable data: a named tuple, cheap to make,
    so a rule whose condition is false can share one prebuilt decision).

    ``status``: ``fired``, ``not_met`` (condition false), ``unknown`` (condition
    unknown), ``blocked`` (its ``unless`` held) or ``cooling_down``.
    """

    rule: str
    title: str | None
    priority: int
    status: str
    reason: str | None = None
    actions: tuple[ResolvedAction, ...] = ()
    trace: TraceNode | None = None
    unless_trace: TraceNode | None = None
    near_miss: str | None = None

    @property
    def fired(self) -> bool:
        return self.status == "fired"

    @property
    def applied(self) -> list[ResolvedAction]:
        return [a for a in self.actions if a.status == "apply"]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "title": self.title,
            "priority": self.priority,
            "status": self.status,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        if self.near_miss is not None:
            out["near_miss"] = self.near_miss
        if self.actions:
            out["actions"] = [a.to_dict() for a in self.actions]
        if self.trace is not None:
            out["trace"] = self.trace.to_dict()
        if self.unless_trace is not None:
            out["unless_trace"] = self.unless_trace.to_dict()
        return out


@dataclass(slots=True)
class Evaluation:
    """All decisions of one evaluation, in execution order (priority, then file order)."""

    date: dt.date
    decisions: list[Decision]

    @property
    def fired(self) -> list[Decision]:
        return [d for d in self.decisions if d.fired]

    def applied_rules(self) -> list[str]:
        """Rules that changed something: they start their cooldown."""
        return [d.rule for d in self.decisions if d.fired and d.applied]

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "decisions": [d.to_dict() for d in self.decisions]}


# ------------------------------------------------------------- environment


class SeriesSource:
    """Daily history for indicators and ``crosses``: arrays plus today's position.

    Indicator arrays are computed once per source and cached, so the dry-run
    builds one source for the whole history and only moves :attr:`index`.
    """

    def __init__(
        self,
        dates: Sequence[dt.date],
        columns: Mapping[str, Any],
        index: int | None = None,
    ) -> None:
        self.dates = list(dates)
        self.length = len(self.dates)
        self.columns = {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}
        self.index = self.length - 1 if index is None else index
        self.cache: dict[str, Any] = {}
        self.first_valid: dict[str, int] = {}
        # Series with at least one observation: an indicator whose input is not
        # among them is unknown because of that input, not for want of history.
        self.present = {k for k, v in self.columns.items() if bool(np.isfinite(v).any())}

    def base(self, name: str) -> Any:
        col = self.columns.get(name)
        if col is not None:
            return col
        if name == "VIX.term_slope" and "VIX.M1" in self.columns and "VIX.M2" in self.columns:
            m1, m2 = self.columns["VIX.M1"], self.columns["VIX.M2"]
            with np.errstate(divide="ignore", invalid="ignore"):
                col = (m2 - m1) / m1
        else:
            col = np.full(self.length, np.nan)
        self.columns[name] = col
        return col

    @classmethod
    def from_state(cls, state: State) -> SeriesSource:
        """History from the state, with today's market values as the last observation."""
        dates: list[dt.date] = []
        columns: dict[str, list[float]] = {}
        hist = state.history
        if hist is not None:
            # Observations after the state's date are the future: never read them.
            n = bisect.bisect_right(hist.dates, state.date)
            dates = list(hist.dates[:n])
            columns = {
                k: [math.nan if v is None else float(v) for v in vals[:n]]
                for k, vals in hist.series.items()
            }
        if not dates or dates[-1] < state.date:
            dates.append(state.date)
            today = {"SPX": state.market.SPX, "VIX": state.market.VIX}
            if state.market.VVIX is not None:
                today["VVIX"] = state.market.VVIX
            for f in state.market.futures:
                if f.price is not None:
                    today[f"VIX.M{f.month}"] = f.price
            n = len(dates)
            for k in set(columns) | set(today):
                col = columns.setdefault(k, [math.nan] * (n - 1))
                col.append(today.get(k, math.nan))
        return cls(dates, columns)


class Env(Snapshot):
    """Per-evaluation context the closures read: the state's values (a lazy snapshot,
    so reading a name is one dict lookup), the history, defines computed so far,
    and the trace being recorded."""

    __slots__ = ("memo", "source", "trace")

    def __init__(self, state: State, source: SeriesSource | None) -> None:
        Snapshot.__init__(self, state)
        self.source = source
        self.memo: dict[str, Value] = {}
        self.trace: list[TraceNode] | None = None


def _unknown_at(source: SeriesSource, arr: Any, key: str, text: str) -> Unknown:
    first = source.first_valid.get(key)
    if first is None:
        valid = np.flatnonzero(~np.isnan(arr)) if isinstance(arr, np.ndarray) else np.array([])
        first = int(valid[0]) if len(valid) else source.length
        source.first_valid[key] = first
    i = source.index
    if i < first:
        have = i + 1
        if first >= source.length:
            return Unknown(f"{text} is unknown: not enough history ({have} observations)")
        return Unknown(f"{text} is warming up: {have} observations, it needs {first + 1}")
    day = source.dates[i] if 0 <= i < source.length else "?"
    return Unknown(f"{text} is missing on {day} (a gap in its inputs)")


def _missing_inputs(source: SeriesSource, inputs: frozenset[str], text: str) -> Unknown | None:
    """``text`` is unknown because a series it reads has no observations at all."""
    missing = [
        n
        for n in sorted(inputs)
        if n not in source.present
        and not (n == "VIX.term_slope" and {"VIX.M1", "VIX.M2"} <= source.present)
    ]
    if not missing:
        return None
    names = ", ".join(f"`{n}`" for n in missing)
    return Unknown(f"{text} is unknown: the history has no values for {names}")


def _at(source: SeriesSource | None, arr: Any, key: str, text: str) -> Value:
    if source is None:
        return Unknown(f"{text} needs a history of market data, and the state has none")
    if not isinstance(arr, np.ndarray):
        return float(arr)
    v = arr[source.index]
    if v != v:
        return _unknown_at(source, arr, key, text)
    return float(v)


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


class _Compiler:
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
                        missing = _missing_inputs(src, inputs, text)
                        if missing is not None:
                            return missing
                        saved = src.index
                        src.index = j
                        unknown = _unknown_at(src, arr, key, text)
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
            v = _at(src, g(src), key, text)
            if type(v) is Unknown:
                return _missing_inputs(src, inputs, text) or v
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


# ------------------------------------------------------------------- rules


@dataclass
class CompiledRule:
    rule: A.Rule
    order: int
    when: Fast
    when_traced: Fast
    unless: Fast | None
    unless_traced: Fast | None
    actions: list[Callable[[Env], ResolvedAction]]
    cooldown_days: float | None
    conjuncts: list[str]
    # Plain copies of the rule's identity: read for every rule of every evaluation.
    id: str = ""
    title: str | None = None
    priority: int = 0
    cooling: dict[dt.date, str] = field(default_factory=dict)  # last fired → reason

    not_met: Decision = field(init=False)

    def __post_init__(self) -> None:
        self.id, self.title, self.priority = self.rule.id, self.rule.title, self.rule.priority
        self.not_met = Decision(self.id, self.title, self.priority, "not_met", _FALSE)

    def cooling_reason(self, last: dt.date) -> str:
        reason = self.cooling.get(last)
        if reason is None:
            assert self.cooldown_days is not None
            until = last + dt.timedelta(days=math.ceil(self.cooldown_days))
            reason = self.cooling[last] = f"fired on {last}; cooldown until {until}"
        return reason


class Book:
    """A checked, compiled rulebook: call :meth:`evaluate` as often as you like."""

    def __init__(
        self,
        program: Program,
        rules: list[CompiledRule],
        state_names: set[str],
        uses_history: bool,
        params: dict[str, A.Number],
    ) -> None:
        self.program = program
        self.rules = rules  # execution order
        self.state_names = sorted(state_names)
        self.uses_history = uses_history
        self.params = params
        self.diagnostics: list[Diagnostic] = list(program.diagnostics)

    @property
    def name(self) -> str:
        header = self.program.header
        return header.name if header is not None else self.program.root

    @property
    def rule_ids(self) -> list[str]:
        return [r.rule.id for r in sorted(self.rules, key=lambda r: r.order)]

    def snapshot(self, state: State) -> dict[str, Value]:
        """The values of every state name the book uses."""
        snap = state.snapshot()
        return {name: snap[name] for name in self.state_names}

    def evaluate(
        self,
        state: State,
        *,
        trace: bool = True,
        source: SeriesSource | None = None,
        disabled: frozenset[str] = frozenset(),
    ) -> Evaluation:
        """Evaluate every rule against one state.

        ``trace`` records every sub-expression's value (the audit trail).
        ``source`` supplies history (the dry-run passes one for the whole run);
        by default it is built from ``state.history``. Rules in ``disabled`` are
        reported as ``not_met`` with a reason and never fire.
        """
        if source is None and self.uses_history:
            source = SeriesSource.from_state(state)
        env = Env(state, source)
        decisions: list[Decision] = []
        append = decisions.append
        consumed: dict[str, str] = {}
        last_fired = state.last_fired
        for cr in self.rules:
            rule_id = cr.id
            if disabled and rule_id in disabled:
                append(Decision(rule_id, cr.title, cr.priority, "not_met", "disabled for this run"))
                continue
            when_trace = unless_trace = None
            blocked: Value = False
            if trace:
                env.trace = []
                cond = cr.when_traced(env)
                when_trace = env.trace[0]
                if cr.unless_traced is not None:
                    env.trace = []
                    blocked = cr.unless_traced(env)
                    unless_trace = env.trace[0]
                env.trace = None
            else:
                cond = cr.when(env)
                if cond is False:  # the common case: one shared, immutable decision
                    append(cr.not_met)
                    continue
                if cond is True and cr.unless is not None:
                    blocked = cr.unless(env)
            status, reason, near_miss = "not_met", None, None
            actions: list[ResolvedAction] = []
            if type(cond) is Unknown:
                status, reason = "unknown", cond.reason
            elif not cond:
                reason = _FALSE
                if when_trace is not None and len(cr.conjuncts) > 1:
                    near_miss = _near_miss(when_trace)
            elif blocked is True:
                status, reason = "blocked", "its `unless` condition holds"
            else:
                last = last_fired.get(rule_id) if cr.cooldown_days is not None else None
                if last is not None and (state.date - last).days < cr.cooldown_days:  # type: ignore[operator]
                    status, reason = "cooling_down", cr.cooling_reason(last)
                else:
                    status = "fired"
                    for resolve in cr.actions:
                        act = resolve(env)
                        if act.status == "apply" and act.targets:
                            clash = next((t for t in act.targets if t in consumed), None)
                            if clash is not None:
                                act = act._replace(
                                    status="superseded",
                                    superseded_by=consumed[clash],
                                    reason=f"rule `{consumed[clash]}` already acted on {clash} "
                                    "this step",
                                )
                            else:
                                for t in act.targets:
                                    consumed[t] = rule_id
                        actions.append(act)
            append(
                Decision(
                    rule_id, cr.title, cr.priority, status, reason, tuple(actions),
                    when_trace, unless_trace, near_miss,
                )
            )  # fmt: skip
        return Evaluation(state.date, decisions)

    def explain(self) -> str:
        """Every rule in plain English, with its normalised form (see :mod:`alvh_dsl.explain`)."""
        from .explain import explain_book

        return explain_book(self)


_FALSE = "the condition is false"


def _near_miss(trace: TraceNode) -> str | None:
    """The one conjunct of an `and` condition that failed when all the others held."""
    failed = [c for c in trace.children if c.value is not True]
    return failed[0].text if len(failed) == 1 else None


def compile_program(program: Program) -> Book:
    """Compile a checked program (no errors) into a :class:`Book`."""
    an = Analysis(program)
    comp = _Compiler(program, an)
    compiled: list[CompiledRule] = []
    for order, rule in enumerate(program.rules):
        assert rule.when is not None
        cooldown = an.const(rule.cooldown) if rule.cooldown is not None else None
        conj = (
            [format_expr(o) for o in rule.when.operands]
            if rule.when.kind == "boolop" and rule.when.op == "and"
            else [format_expr(rule.when)]
        )
        compiled.append(
            CompiledRule(
                rule=rule,
                order=order,
                when=comp.expr(rule.when, False),
                when_traced=comp.expr(rule.when, True),
                unless=comp.expr(rule.unless, False) if rule.unless is not None else None,
                unless_traced=comp.expr(rule.unless, True) if rule.unless is not None else None,
                actions=[comp.action(a) for a in rule.actions],
                cooldown_days=cooldown,
                conjuncts=conj,
            )
        )
    compiled.sort(key=lambda c: (-c.rule.priority, c.order))
    return Book(program, compiled, comp.state_names, comp.uses_history, dict(program.param_values))


__all__ = [
    "Book",
    "Decision",
    "Evaluation",
    "ResolvedAction",
    "SeriesSource",
    "TraceNode",
    "compile_program",
    "consumed_targets",
]
