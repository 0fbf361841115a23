"""What an evaluation produces and reads: decisions, traces, the environment, history.

- :class:`Decision`, :class:`ResolvedAction`, :class:`TraceNode`,
  :class:`Evaluation`: the results (immutable data where it can be);
- :class:`Env`: one evaluation's context (a lazy snapshot of the state);
- :class:`SeriesBackend`, :class:`HistorySource`, :class:`SeriesScope`: what the
  compiler and the evaluator need from a history of market data, and what they
  give it. The language computes no arrays itself: indicators and ``crosses``
  read history through a backend handed to
  :func:`~alvh_dsl.lang.evaluate.compile_program` (the NumPy one is
  :mod:`alvh_dsl.series`, which :func:`alvh_dsl.load` passes to books that need
  it), so ``alvh_dsl.lang`` never imports NumPy.

Shared by :mod:`alvh_dsl.lang.compiler` (which builds closures reading an
:class:`Env`) and :mod:`alvh_dsl.lang.evaluate` (which runs them).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from . import ast as A
from .names import INDICATORS
from .plain import StateLike
from .state import Snapshot, State, Value
from .types import split_args

Fast = Callable[["Env"], Value]

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
    #: An observed evaluation's (``evaluate(observe=True)``): per decision, its rule's
    #: top-level conjuncts' values (None for a disabled rule), and the environment whose
    #: ``obs`` holds every comparison's values (:mod:`alvh_dsl.lang.observe`).
    conjuncts: list[tuple[Value, ...] | None] | None = None
    env: Env | None = None

    @property
    def fired(self) -> list[Decision]:
        return [d for d in self.decisions if d.fired]

    def applied_rules(self) -> list[str]:
        """Rules that changed something: they start their cooldown."""
        return [d.rule for d in self.decisions if d.fired and d.applied]

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "decisions": [d.to_dict() for d in self.decisions]}


# ------------------------------------------------------------------ history


class HistorySource(Protocol):
    """A history of market data as the evaluator sees it: today's position in it.

    Everything else about it (arrays, caches) belongs to the backend that made it.
    """

    index: int


SeriesReader = Callable[[HistorySource, int], Value]
"""A compiled series expression: ``(source, day) -> value``, its value on that day
of the source (an index into it), or :class:`Unknown` saying why there is none."""


@dataclass(frozen=True, slots=True)
class SeriesScope:
    """What a backend needs to compile a series expression of one book: the params'
    values (ratios for percentages), the defines, and the checker's constants
    (indicator windows)."""

    params: Mapping[str, float]
    defines: Mapping[str, A.Define]
    const: Callable[[A.Expr], float | None]

    def inputs(self, expr: A.Expr) -> frozenset[str]:
        """The base series ``expr`` reads (defines followed, params skipped): when one
        has no observations at all, that is why the expression is unknown."""
        out: set[str] = set()
        seen: set[str] = set()
        stack: list[A.Expr] = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, A.Name):
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
            if isinstance(node, A.Call):
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


class SeriesBackend(Protocol):
    """Computes history-based values (indicators, series arithmetic, ``crosses``'
    operands) for the compiler; :mod:`alvh_dsl.series` is the NumPy one."""

    def reader(self, expr: A.Expr, scope: SeriesScope) -> SeriesReader:
        """Compile a series-valued expression (an indicator, a market series, a
        constant, arithmetic of those) once, into a reader of its daily values."""
        ...

    def source(self, state: State) -> HistorySource:
        """A source over the state's history, today's market values last (its index)."""
        ...


class NoSeriesBackend(ValueError):
    """A book reads market history, and it was compiled without a series backend."""


# ------------------------------------------------------------- environment


class Env(Snapshot):
    """Per-evaluation context the closures read: the state's values (a lazy snapshot,
    so reading a name is one dict lookup), the history, defines computed so far,
    and the trace being recorded; ``obs``: an observed evaluation's comparison slots
    (:mod:`alvh_dsl.lang.observe`)."""

    __slots__ = ("memo", "obs", "source", "trace")

    def __init__(self, state: StateLike, source: HistorySource | None) -> None:
        Snapshot.__init__(self, state)
        self.source = source
        self.memo: dict[str, Value] = {}
        self.trace: list[TraceNode] | None = None
        self.obs: list[Any] = []
