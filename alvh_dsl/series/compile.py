"""Series expressions → whole-array computations, and the NumPy series backend.

An expression used as an indicator's input or as an operand of ``crosses``
(``SMA(VIX, 20)``, ``VIX.M2 - VIX.M1``, ``MACD.signal``) compiles, once per
book, into a function of a :class:`~alvh_dsl.series.source.SeriesSource`
returning an array over the whole history (or a float for a constant).
Indicator arrays are cached per source, so the dry-run computes each once for
the whole run and evaluation reads one element per day.

:class:`NumpyBackend` is the :class:`~alvh_dsl.lang.runtime.SeriesBackend` the
language compiler is given (``alvh_dsl.load`` passes :data:`BACKEND` to books
that read history).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ..lang import ast as A
from ..lang.names import INDICATORS
from ..lang.plain import StateLike
from ..lang.printer import format_expr
from ..lang.runtime import HistorySource, SeriesReader, SeriesScope
from ..lang.state import Value
from ..lang.types import split_args
from . import indicators as ind
from .indicators import Array
from .source import Series, SeriesSource, missing_inputs, unknown_at

ArrayFn = Callable[[SeriesSource], Series]

_ARITH: dict[str, Callable[[Series, Series], Series]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "of": operator.mul,
}
_NP_FUNCTIONS: dict[str, Callable[..., Series]] = {
    "abs": np.abs,
    "min": np.minimum,
    "max": np.maximum,
}


def compile_series(e: A.Expr, scope: SeriesScope) -> ArrayFn:
    """Compile a series-valued expression to ``source -> array`` (or a float constant)."""
    match e:
        case A.Number(value=value, unit=unit):
            number = value / 100 if unit == "percent" else value
            return lambda src: number
        case A.Name(name=name):
            return _name(name, scope)
        case A.Call(func=func, args=args) if func in _NP_FUNCTIONS:
            gs = [compile_series(a, scope) for a in args]
            np_fn = _NP_FUNCTIONS[func]
            return lambda src: np_fn(*(g(src) for g in gs))
        case A.Call(func=func, args=args, field=fld):
            return _indicator(func, args, fld, scope)
        case A.Neg(operand=operand):
            g = compile_series(operand, scope)
            return lambda src: -g(src)
        case A.BinOp(op="/", left=left, right=right):
            return _divide(compile_series(left, scope), compile_series(right, scope))
        case A.BinOp(op=op, left=left, right=right):
            lg, rg = compile_series(left, scope), compile_series(right, scope)
            arith = _ARITH[op]
            return lambda src: arith(lg(src), rg(src))
    raise TypeError(f"{e.kind} has no history")  # the checker allows no other operand


def _name(name: str, scope: SeriesScope) -> ArrayFn:
    if name in scope.params:
        pv = scope.params[name]
        return lambda src: pv
    if name in scope.defines:
        return compile_series(scope.defines[name].expr, scope)
    if name == "ADLINE":
        return _indicator("ADLINE", (), None, scope)
    head, _, tail = name.partition(".")
    if head == "MACD":
        return _indicator("MACD", (), tail or None, scope)
    return lambda src: src.base(name)


def _divide(lg: ArrayFn, rg: ArrayFn) -> ArrayFn:
    def div(src: SeriesSource) -> Series:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.divide(lg(src), rg(src))
        return np.where(np.isfinite(out), out, np.nan) if isinstance(out, np.ndarray) else out

    return div


def _indicator(func: str, args: tuple[A.Expr, ...], fld: str | None, scope: SeriesScope) -> ArrayFn:
    spec = INDICATORS[func]
    series_args, windows = split_args(func, args)
    series_fns: list[ArrayFn]
    if not series_args and spec.default_series is not None:
        default = spec.default_series
        series_fns = [lambda src: src.base(default)]
    else:
        series_fns = [compile_series(a, scope) for a in series_args]
    wins = [int(scope.const(w) or 0) for w in windows]
    if func == "MACD" and not wins:
        wins = list(spec.defaults)
    key = f"{func}({','.join(format_expr(a) for a in series_args)};{wins})"

    def compute(src: SeriesSource) -> Series:
        cached: Any = src.cache.get(key)  # an array, or MACD's three
        if cached is None:
            xs = [_as_array(f(src), src.length) for f in series_fns]
            cached = _compute(func, xs, wins, src)
            src.cache[key] = cached
        out: Array  # the cache holds what _compute made for this key
        if func == "MACD":
            line, signal, hist = cached
            out = {"signal": signal, "hist": hist}.get(fld or "", line)
        else:
            out = cached
        return out

    return compute


def _compute(
    func: str, xs: list[Array], wins: list[int], src: SeriesSource
) -> Array | tuple[Array, Array, Array]:
    if func == "SMA":
        return ind.sma(xs[0], wins[0])
    if func == "EMA":
        return ind.ema(xs[0], wins[0])
    if func == "RSI":
        return ind.rsi(xs[0], wins[0])
    if func == "realized_vol":
        return ind.realized_vol(xs[0], wins[0])
    if func == "change":
        return ind.change(xs[0], wins[0])
    if func == "ADLINE":
        return ind.adline(src.base("advances"), src.base("declines"))
    if func == "MACD":
        return ind.macd(xs[0], *wins)
    raise KeyError(func)  # pragma: no cover - the checker refuses unknown functions


def _as_array(value: Series, n: int) -> Array:
    if isinstance(value, np.ndarray):
        return value
    return np.full(n, float(value))


class NumpyBackend:
    """The :class:`~alvh_dsl.lang.runtime.SeriesBackend` over NumPy arrays."""

    def reader(self, expr: A.Expr, scope: SeriesScope) -> SeriesReader:
        """``(source, day) -> value``: the array's element on that day, or why there is none
        (an input with no observations at all, warming up, or a gap)."""
        g = compile_series(expr, scope)
        text = format_expr(expr)
        key = "series:" + text
        inputs = scope.inputs(expr)

        def read(source: HistorySource, day: int) -> Value:
            # This backend's readers only ever see its own sources (no cast: a call
            # per read on the evaluator's hot path).
            src: SeriesSource = source  # type: ignore[assignment]
            series = g(src)
            v = float(series[day]) if isinstance(series, np.ndarray) else float(series)
            if v != v:  # NaN
                return missing_inputs(src, inputs, text) or unknown_at(src, series, key, text, day)
            return v

        return read

    def source(self, state: StateLike) -> SeriesSource:
        return SeriesSource.from_state(state)


BACKEND = NumpyBackend()
"""The one instance (it holds nothing): pass it as ``compile_program(..., series=BACKEND)``."""

__all__ = ["BACKEND", "NumpyBackend", "compile_series"]
