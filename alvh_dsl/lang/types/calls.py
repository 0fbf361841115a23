"""Types of calls: built-in functions and indicators (E107–E111).

A call is checked against its signature in :mod:`alvh_dsl.lang.names`: the
function exists, the number of arguments is one it takes, series arguments
have a history, windows are constant whole numbers, and a ``.field`` is one
the indicator has. :func:`split_args` (which arguments are series, which are
windows) is shared with the compiler.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from .. import ast as A
from ..diagnostics import Diagnostic, Fix, error, fix
from ..names import FUNCTIONS, INDICATORS, UNIT_WORDS, suggest
from ..printer import format_expr
from .ty import ERROR, Ty, compatible, merge

T = TypeVar("T")


class Inferring(Protocol):
    """What typing a call needs of the inferrer that meets it."""

    def infer(self, e: A.ExprNode) -> Ty: ...
    def operand(self, e: A.ExprNode, what: str) -> Ty: ...
    def const(self, e: A.ExprNode) -> float | None: ...
    def report(self, d: Diagnostic) -> None: ...


def call_type(inf: Inferring, e: A.Call) -> Ty:
    """The type of a call, reporting what is wrong with it."""
    func = e.func
    if func in FUNCTIONS:
        return _function(inf, e)
    ind = INDICATORS.get(func)
    if ind is None:
        guess = suggest(func, [*INDICATORS, *FUNCTIONS])
        for a in e.args:
            inf.infer(a)
        inf.report(
            error(
                "E107",
                f"unknown function `{func}`",
                e.span,
                help=f"did you mean `{guess}`?"
                if guess
                else "indicators: " + ", ".join(INDICATORS),
                fix=_rename(e, guess) if guess else None,
            )
        )
        return ERROR
    n = len(e.args)
    if n not in ind.arities:
        for a in e.args:
            inf.infer(a)
        inf.report(error("E108", f"`{func}` takes {_FORMS[func]}; got {n} argument(s)", e.span))
        return ERROR
    series_args, windows = split_args(func, e.args)
    series_unit, ok = _series(inf, func, series_args)
    ok = _windows(inf, e, windows) and ok
    if e.field is not None and e.field not in ind.fields:
        fields = ", ".join(f"`.{f}`" for f in ind.fields) or "none"
        inf.report(
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


def _rename(e: A.Call, name: str) -> Fix:
    """The fix that renames the called function (its name starts the call's span)."""
    s = e.span
    where = A.Span(
        file=s.file,
        line=s.line,
        column=s.column,
        end_line=s.line,
        end_column=s.column + len(e.func),
    )
    return fix(where, name)


def _series(inf: Inferring, func: str, series_args: list[A.ExprNode]) -> tuple[str, bool]:
    """The unit of the (last) series argument, and whether every one has a history (E109)."""
    series_unit = "points"
    ok = True
    for s in series_args:
        ty = inf.operand(s, f"as the series of `{func}`")
        if ty.kind == "error":
            ok = False
        elif not ty.series:
            inf.report(
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
    return series_unit, ok


def _windows(inf: Inferring, e: A.Call, windows: list[A.ExprNode]) -> bool:
    """Are the windows constant whole numbers of observations (E111)?"""
    func = e.func
    ok = True
    for w in windows:
        ty = inf.operand(w, f"as a window of `{func}`")
        v = inf.const(w)
        if ty.kind == "error":
            ok = False
        elif ty.unit not in ("bare", "days", "count") or v is None or v != int(v) or v < 1:
            inf.report(
                error(
                    "E111",
                    f"the window `{format_expr(w)}` of `{func}` must be a constant whole "
                    "number of observations",
                    w.span,
                    help=f"e.g. `{_EXAMPLES.get(func, func)}`",
                )
            )
            ok = False
    if func == "MACD" and len(windows) == 3:
        fast, slow, signal = (inf.const(w) for w in windows)
        if fast is not None and slow is not None and signal is not None and not fast < slow:
            inf.report(
                error(
                    "E111",
                    "the MACD fast window must be shorter than the slow one",
                    e.span,
                    help="e.g. `MACD(SPX, 12, 26, 9)`",
                )
            )
            ok = False
    return ok


def _function(inf: Inferring, e: A.Call) -> Ty:
    """``abs``, ``min``, ``max``: numbers of one unit in, the same unit out."""
    func = e.func
    if len(e.args) != FUNCTIONS[func]:
        for a in e.args:
            inf.infer(a)
        inf.report(
            error(
                "E108",
                f"`{func}` takes {FUNCTIONS[func]} argument(s), got {len(e.args)}",
                e.span,
            )
        )
        return ERROR
    if e.field is not None:
        inf.report(error("E110", f"`{func}(…)` has no field `.{e.field}`", e.span))
        return ERROR
    tys = [inf.operand(a, f"in `{func}`") for a in e.args]
    if any(t.kind == "error" for t in tys):
        return ERROR
    unit = tys[0].unit
    for a, t in zip(e.args[1:], tys[1:], strict=True):
        if not compatible(unit, t.unit):
            inf.report(
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


def split_args(func: str, args: Sequence[T]) -> tuple[list[T], list[T]]:
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


_FORMS = {
    "SMA": "SMA(series, window)",
    "EMA": "EMA(series, window)",
    "RSI": "RSI(window) or RSI(series, window)",
    "MACD": "MACD, MACD(series), MACD(fast, slow, signal) or MACD(series, fast, slow, signal)",
    "ADLINE": "ADLINE (no arguments)",
    "realized_vol": "realized_vol(series, window)",
    "change": "change(series, window)",
}
"""The forms each indicator can be called in (for E108)."""

_EXAMPLES = {
    "SMA": "SMA(SPX, 20)",
    "EMA": "EMA(VIX, 10)",
    "RSI": "RSI(14)",
    "MACD": "MACD(SPX, 12, 26, 9)",
    "realized_vol": "realized_vol(SPX, 20)",
    "change": "change(VIX, 5 days)",
}
