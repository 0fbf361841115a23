"""What an evaluation produces and reads: decisions, traces, the environment, history.

- :class:`Decision`, :class:`ResolvedAction`, :class:`TraceNode`,
  :class:`Evaluation`: the results (immutable data where it can be);
- :class:`SeriesSource`: daily history arrays and today's position in them;
- :class:`Env`: one evaluation's context (a lazy snapshot of the state).

Shared by :mod:`alvh_dsl.lang.compiler` (which builds closures reading an
:class:`Env`) and :mod:`alvh_dsl.lang.evaluate` (which runs them).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .state import Snapshot, State, Unknown, Value

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


def unknown_at(source: SeriesSource, arr: Any, key: str, text: str) -> Unknown:
    """Why ``text`` (a series ``arr``) has no value today: warming up, or a gap."""
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


def missing_inputs(source: SeriesSource, inputs: frozenset[str], text: str) -> Unknown | None:
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


def value_at(source: SeriesSource | None, arr: Any, key: str, text: str) -> Value:
    """Today's value of a series (or a constant), or :class:`Unknown` saying why not."""
    if source is None:
        return Unknown(f"{text} needs a history of market data, and the state has none")
    if not isinstance(arr, np.ndarray):
        return float(arr)
    v = arr[source.index]
    if v != v:
        return unknown_at(source, arr, key, text)
    return float(v)
