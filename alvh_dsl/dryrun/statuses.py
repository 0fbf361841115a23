"""Every day's status of every rule, read off the traces the day loop already computes.

The loop evaluates the book with traces every day (the audit trail of
``decisions.jsonl``); :class:`StatusRecorder` reads those same traces — it evaluates
nothing — and keeps, per day and rule, one compact row of ``rule_status.parquet``:

- ``status``: ``fired`` (the ``applied`` column says whether an action changed the
  book), ``superseded`` (it fired but an earlier rule had already acted on every
  target it had), ``false``, ``unknown``, ``cooling``, ``blocked`` (its ``unless``
  held) or ``disabled``;
- ``detail``: compact JSON of what the words of ``alvh why`` need (the failing
  conjuncts and the values their comparisons compared, the unknown's reason, the
  cooldown's dates, the ``unless`` that held, the rule that superseded an action).

The same walk feeds the run's rule coverage (:mod:`.coverage`: the range each
compared value took, and whether each comparison ever held) and decides which
failed conditions are **near misses** worth a line in ``decisions.jsonl``
(:func:`StatusRecorder.near_miss`; the rule is docs/dryrun.md's).

Plain Python (no NumPy): :func:`comparison_values` is usable by anything holding a
trace, ``alvh eval`` included.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..lang import ast as A
from ..lang.printer import format_expr
from ..lang.state import Unknown
from ..perf import paused_gc
from .status_days import fold_day
from .status_detail import (
    Rec,
    action_detail,
    compact,
    failed,
    failed_json,
    number,
    rec_values,
)
from .status_finish import finish_days
from .status_near import NEAR_MISS_MARGIN, NearPlan, maybe_near, near_plan, near_record

if TYPE_CHECKING:  # pragma: no cover
    from ..lang.evaluate import Book, CompiledRule, Decision, Evaluation, TraceNode

__all__ = [
    "NEAR_MISS_MARGIN",
    "STATUSES",
    "Comparison",
    "ComparisonStats",
    "RulePlan",
    "StatusRecorder",
    "comparison_values",
    "failing_comparisons",
    "names_read",
    "plan_rule",
]

STATUSES = ("fired", "superseded", "false", "unknown", "cooling", "blocked", "disabled")
"""The values of ``rule_status.parquet``'s ``status`` column."""


@dataclass(frozen=True)
class Comparison:
    """One comparison (``<``, ``==``, ``between``, ``crosses``) inside a rule's condition:
    where its trace node is, and which of its operands are worth a value in words."""

    text: str
    op: str  # a comparison operator, "between" or "crosses"
    conjunct: int  # the index of the top-level conjunct it sits in
    path: tuple[int, ...]  # child indices from that conjunct's trace node
    operands: tuple[tuple[int, str], ...]  # (child index, text): not numeric literals
    literal: tuple[bool, ...]  # per child: a numeric literal or a param (a constant)
    counts: bool  # compares a count of positions held (condor.count, hedge.layers)
    node_id: int = 0  # id() of its AST node: its slot in an observed evaluation


@dataclass(frozen=True)
class RulePlan:
    """Where the comparisons of one rule's ``when`` and ``unless`` are in its traces."""

    rule: str
    priority: int
    conjuncts: tuple[str, ...]
    comparisons: tuple[Comparison, ...]
    unless: str | None
    unless_comparisons: tuple[Comparison, ...]
    cooldown_days: float | None
    reads: frozenset[str]  # the state names its condition reads (defines followed)


@dataclass
class ComparisonStats:
    """What one comparison did over a run: days it held, was false, was unknown, and
    the range each compared operand took (on the days it had a value)."""

    held: int = 0
    false: int = 0
    unknown: int = 0
    low: dict[str, float] = field(default_factory=dict)
    high: dict[str, float] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)


def _walk(
    e: A.ExprNode, path: tuple[int, ...], defines: Mapping[str, A.Define], depth: int = 0
) -> Iterator[tuple[A.ExprNode, tuple[int, ...]]]:
    """Every sub-expression with its child path in the trace (a define's body is the
    one child of the define's node). Traces mirror the AST node for node."""
    yield e, path
    if depth > 64:  # the checker refuses deeper books (E407); defines cannot recurse
        return
    if isinstance(e, A.Name):
        if e.name in defines:
            yield from _walk(defines[e.name].expr, (*path, 0), defines, depth + 1)
        return
    kids: Sequence[A.ExprNode]
    match e:
        case A.Compare() | A.BinOp() | A.Crosses():
            kids = (e.left, e.right)
        case A.Between():
            kids = (e.value, e.low, e.high)
        case A.BoolOp():
            kids = e.operands
        case A.Not() | A.Neg():
            kids = (e.operand,)
        case A.Call():
            kids = e.args
        case _:
            kids = ()
    for i, k in enumerate(kids):
        yield from _walk(k, (*path, i), defines, depth + 1)


def names_read(e: A.ExprNode, defines: Mapping[str, A.Define]) -> set[str]:
    """The state (and history) names ``e`` reads, defines followed."""
    return {n.name for n, _ in _walk(e, (), defines) if isinstance(n, A.Name)} - set(defines)


def _comparisons(
    conjuncts: Sequence[A.ExprNode],
    defines: Mapping[str, A.Define],
    params: Mapping[str, A.Number],
    counts: frozenset[str],
) -> tuple[Comparison, ...]:
    out = []
    for c, conj in enumerate(conjuncts):
        for node, path in _walk(conj, (), defines):
            op: str
            kids: tuple[A.ExprNode, ...]
            if isinstance(node, A.Compare):
                op, kids = node.op, (node.left, node.right)
            elif isinstance(node, A.Between):
                op, kids = "between", (node.value, node.low, node.high)
            elif isinstance(node, A.Crosses):
                op, kids = "crosses", (node.left, node.right)
            else:
                continue
            literal = tuple(
                isinstance(k, A.Number) or (isinstance(k, A.Name) and k.name in params)
                for k in kids
            )
            operands = tuple(
                (i, format_expr(k)) for i, k in enumerate(kids) if not isinstance(k, A.Number)
            )
            read = set().union(*(names_read(k, defines) for k in kids))
            out.append(
                Comparison(
                    format_expr(node), op, c, path, operands, literal,
                    bool(read) and read <= counts, id(node),
                )
            )  # fmt: skip
    return tuple(out)


def plan_rule(cr: CompiledRule, book: Book) -> RulePlan:
    """Where one compiled rule's comparisons are in its traces (once per run)."""
    from ..lang.names import STATE_NAMES

    rule, defines = cr.rule, book.program.defines
    counts = frozenset(n for n, s in STATE_NAMES.items() if s.unit == "count")
    when = rule.when
    assert when is not None
    conj: Sequence[A.ExprNode] = (
        when.operands if isinstance(when, A.BoolOp) and when.op == "and" else (when,)
    )
    params = book.params
    unless = rule.unless
    return RulePlan(
        rule=cr.id,
        priority=cr.priority,
        conjuncts=tuple(cr.conjuncts),
        comparisons=_comparisons(conj, defines, params, counts),
        unless=format_expr(unless) if unless is not None else None,
        unless_comparisons=_comparisons((unless,), defines, params, counts) if unless else (),
        cooldown_days=cr.cooldown_days,
        reads=frozenset(names_read(when, defines) - set(params)),
    )


def _node(root: TraceNode, path: tuple[int, ...], text: str) -> TraceNode | None:
    """The trace node at ``path``, or None when the trace is shorter there (an
    evaluation stopped early on an unknown argument) or not the expected node."""
    node = root
    for i in path:
        kids = node.children
        if i >= len(kids):
            return None
        node = kids[i]
    return node if node.text == text else None


def _trace_recs(
    comparisons: Sequence[Comparison], conj: Sequence[TraceNode]
) -> tuple[list[Rec | None], list[tuple[str, ...]]]:
    """Each comparison's :data:`Rec` and operand units, read off its trace node (None
    where the trace has none)."""
    recs: list[Rec | None] = []
    units: list[tuple[str, ...]] = []
    for cmp in comparisons:
        node = _node(conj[cmp.conjunct], cmp.path, cmp.text) if cmp.conjunct < len(conj) else None
        if node is None:
            recs.append(None)
            units.append(())
            continue
        v = Unknown(node.unknown) if node.unknown is not None else node.value
        recs.append((v, *[k.value for k in node.children]))
        units.append(tuple(k.unit for k in node.children))
    return recs, units


def comparison_values(cmp: Comparison, node: TraceNode) -> list[list[Any]]:
    """``[text, value, unit]`` of each operand of ``cmp`` that is not a numeric literal
    (value None when unknown), read from the comparison's trace node."""
    out: list[list[Any]] = []
    kids = node.children
    for i, text in cmp.operands:
        if i < len(kids):
            k = kids[i]
            out.append([text, number(k.value), k.unit])
    return out


def _conjunct_nodes(trace: TraceNode, n: int) -> list[TraceNode]:
    return list(trace.children) if n > 1 else [trace]


def failing_comparisons(plan: RulePlan, trace: TraceNode) -> list[dict[str, Any]]:
    """The conjuncts of a false condition that were false, each with the comparisons
    inside it that were false (all of them when none was: ``not (a > b)``) and the
    values they compared."""
    conj = _conjunct_nodes(trace, len(plan.conjuncts))
    recs, units = _trace_recs(plan.comparisons, conj)
    return failed(plan, [n.value for n in conj], recs, units)


class StatusRecorder:
    """One run's ``rule_status`` rows and per-comparison statistics, fed by the loop
    with each day's decisions (never evaluating anything itself): from their traces
    (:meth:`record`, the rows appended at once) or from an observed evaluation
    (:meth:`day` and :meth:`fired`, the rows made by :meth:`finish`); one recorder is fed
    one way or the other.

    ``rows=False`` keeps no rows (a run that writes no ``rule_status.parquet``: a sweep
    variant) and skips their details; the counts, statistics and reasons the run's
    coverage reads are kept all the same.
    """

    def __init__(self, book: Book, *, rows: bool = True) -> None:
        self.book = book
        self.rows = rows
        self.plans = {cr.id: plan_rule(cr, book) for cr in book.rules}
        self.order = [cr.id for cr in book.rules]  # execution order
        self.dates: list[dt.date] = []
        self.rules: list[str] = []
        self.status: list[str] = []
        self.applied: list[bool] = []
        self.detail: list[str | None] = []
        self.stats: dict[str, list[ComparisonStats]] = {
            r: [ComparisonStats() for _ in p.comparisons] for r, p in self.plans.items()
        }
        self.counts: dict[str, dict[str, int]] = {r: {} for r in self.plans}
        #: Per rule: what became of the actions of its fired days that did not apply
        #: (coverage's "never changed the book"), and why it was unknown, counted.
        self.idle: dict[str, Counter[str]] = {r: Counter() for r in self.plans}
        self.unknown_reasons: dict[str, Counter[str]] = {r: Counter() for r in self.plans}
        self._priority = {cr.id: cr.priority for cr in book.rules}
        self._slots: dict[str, tuple[tuple[int, ...], tuple[tuple[str, ...], ...]]] = {}
        # Days kept by `day` until `finish`: dates, conjuncts' values, comparison slots;
        # the rows that are not a false condition, by row number.
        self._dates: list[dt.date] = []
        self._conj: list[list[tuple[Any, ...] | None]] = []
        self._obs: list[list[Any]] = []
        self._extra: dict[int, tuple[str, bool, str | None]] = {}
        # The same few details recur day after day (a reason, a cooldown's dates).
        self._texts: dict[Any, str] = {}
        self._rows: dict[tuple[Any, ...], tuple[str, bool, str | None]] = {}
        # Per (rule, near-miss conjunct): where it is, and its comparisons.
        self._near: dict[tuple[str, str], NearPlan] = {}

    def record(
        self,
        date: dt.date,
        d: Decision,
        actions: Sequence[Mapping[str, Any]] = (),
        last_fired: dt.date | None = None,
    ) -> str:
        """Record rule ``d.rule``'s status on ``date`` (from ``d``'s traces) and return it.
        ``actions``: the fired rule's action records, as applied (statuses after the
        fills); ``last_fired``: when the rule last changed the book, as the rules saw it."""
        plan = self.plans[d.rule]
        conj: list[Any] = []
        recs: list[Rec | None] = []
        units: list[tuple[str, ...]] = []
        if d.trace is not None:
            nodes = _conjunct_nodes(d.trace, len(plan.conjuncts))
            conj = [n.value for n in nodes]
            recs, units = _trace_recs(plan.comparisons, nodes)
            fold_day(plan, recs, units, self.stats[d.rule])
        unless: tuple[list[Rec | None], list[tuple[str, ...]]] | None = None
        if d.unless_trace is not None:
            unless = _trace_recs(plan.unless_comparisons, [d.unless_trace])
        row = self._row(d, plan, conj, recs, units, actions, last_fired, unless)
        if self.rows:
            self.dates.append(date)
            self.rules.append(d.rule)
            self.status.append(row[0])
            self.applied.append(row[1])
            self.detail.append(row[2])
        return row[0]

    def day(self, date: dt.date, evaluation: Evaluation, last_fired: Mapping[str, dt.date]) -> None:
        """Keep one day of an observed evaluation (``Book.evaluate(observe=True)``): its
        conjuncts' values and comparison slots, read when the run ends (:meth:`finish`:
        a false condition, nearly every rule on nearly every day, costs nothing here).
        A rule that was unknown, cooling (``last_fired``: when each rule last changed the
        book, as the rules saw it), blocked or disabled is recorded now; a fired one by
        :meth:`fired`, once its actions are applied."""
        conj = evaluation.conjuncts
        env = evaluation.env
        assert conj is not None and env is not None
        if not self._slots:
            for plan in self.plans.values():
                self._slots_of(plan)
        n = len(self._dates)
        width = len(self.order)
        self._dates.append(date)
        self._conj.append(conj)
        self._obs.append(env.obs)
        for k, d in enumerate(evaluation.decisions):
            st = d.status
            if st == "fired" or (st == "not_met" and conj[k] is not None):
                continue
            plan = self.plans[d.rule]
            if st == "blocked":
                uslots, uunits = self._slots_of(plan, unless=True)
                unless = ([env.obs[s] for s in uslots], list(uunits))
                self._extra[n * width + k] = self._row(
                    d, plan, conj[k] or (), [], [], (), last_fired.get(d.rule), unless
                )
                continue
            # Unknown, cooling or disabled: the row is its reason's or cooldown's, the
            # same on many days; made once, counted on every day.
            last = last_fired.get(d.rule) if st == "cooling_down" else None
            key = (d.rule, st, d.reason, last)
            row = self._rows.get(key)
            if row is None:
                row = self._rows[key] = self._row(
                    d, plan, conj[k] or (), [], [], (), last, None, count=False
                )
            self._count(d, row)
            self._extra[n * width + k] = row

    def fired(self, k: int, d: Decision, actions: Sequence[Mapping[str, Any]]) -> None:
        """Record the fired rule ``d`` (``k``-th of the last :meth:`day`'s decisions) with
        its action records as applied (statuses after the fills)."""
        row = (len(self._dates) - 1) * len(self.order) + k
        self._extra[row] = self._row(d, self.plans[d.rule], (), [], [], actions, None, None)

    def finish(self) -> None:
        """Turn the days kept by :meth:`day` into rows, counts and statistics (once;
        :meth:`table` and the coverage call it)."""
        if not self._dates:
            return
        # Tens of thousands of new lists and strings, none cyclic, beside the run's
        # millions of objects: a collection on the way would rescan them all.
        with paused_gc(promote=True):
            self._finish()

    def _finish(self) -> None:
        days = self._dates, self._conj, self._obs
        self._dates, self._conj, self._obs = [], [], []
        extra, self._extra = self._extra, {}
        finish_days(self, *days, extra)

    def _slots_of(
        self, plan: RulePlan, unless: bool = False
    ) -> tuple[tuple[int, ...], tuple[tuple[str, ...], ...]]:
        """Where an observed evaluation writes each comparison of ``plan`` (its slots in
        ``Env.obs``), and their operands' units."""
        slot_of, slot_units = self.book.observed_slots()
        cmps = plan.unless_comparisons if unless else plan.comparisons
        slots = tuple(slot_of[c.node_id] for c in cmps)
        out = slots, tuple(slot_units[s] for s in slots)
        if not unless:
            self._slots[plan.rule] = out
        return out

    def _count(self, d: Decision, row: tuple[str, bool, str | None]) -> None:
        """Count one day's ``row`` of ``d``'s rule: its status, applied, unknown reason."""
        status, applied, _ = row
        counts = self.counts[d.rule]
        counts[status] = counts.get(status, 0) + 1
        if applied:
            counts["applied"] = counts.get("applied", 0) + 1
        if d.status == "unknown" and d.reason:
            self.unknown_reasons[d.rule][d.reason] += 1

    def _row(
        self,
        d: Decision,
        plan: RulePlan,
        conj: Sequence[Any],
        recs: Sequence[Rec | None],
        units: Sequence[tuple[str, ...]],
        actions: Sequence[Mapping[str, Any]],
        last_fired: dt.date | None,
        unless: tuple[Sequence[Rec | None], Sequence[tuple[str, ...]]] | None,
        *,
        count: bool = True,
    ) -> tuple[str, bool, str | None]:
        """One row's status, ``applied`` and detail; counted (:meth:`_count`) unless
        ``count`` is false (a row kept to be reused, counted on each day it stands for)."""
        # Long: one branch per status, each building that status's detail; kept together
        # so the row's columns are appended in one place.
        detail: Any = None
        applied = False
        st = d.status
        rows = self.rows
        if st == "fired":
            applied = any(a.get("status") == "apply" for a in actions)
            skipped = [
                action_detail(a, self._priority) for a in actions if a.get("status") != "apply"
            ]
            superseded = [a for a in skipped if a["status"] == "superseded"]
            status = "superseded" if superseded and not applied else "fired"
            if skipped:
                detail = {"actions": skipped}
                idle = self.idle[d.rule]
                for a in skipped:
                    by = a.get("by")
                    if by is not None:
                        prio = f" (priority {a['priority']})" if a.get("priority") else ""
                        idle[f"superseded by `{by}`{prio}"] += 1
                    else:
                        idle[str(a.get("status"))] += 1
        elif st == "not_met":
            if d.reason == "disabled for this run":
                status = "disabled"
            else:
                status = "false"
                if rows and conj:
                    detail = failed_json(plan, conj, recs, units)
        elif st == "unknown":
            status = "unknown"
            detail = self._text(("reason", d.reason), lambda: {"reason": d.reason})
        elif st == "cooling_down":
            status = "cooling"
            if last_fired is not None and plan.cooldown_days is not None:
                days = math.ceil(plan.cooldown_days)
                detail = self._text(
                    (last_fired, days),
                    lambda: {
                        "since": last_fired.isoformat(),
                        "until": (last_fired + dt.timedelta(days=days)).isoformat(),
                    },
                )
            else:
                detail = self._text(("reason", d.reason), lambda: {"reason": d.reason})
        else:  # blocked
            status = "blocked"
            detail = {"unless": plan.unless}
            if unless is not None:
                urecs, uunits = unless
                detail["comparisons"] = [
                    {"expr": cmp.text, "held": rec[0], "values": rec_values(cmp, rec, u)}
                    for cmp, rec, u in zip(plan.unless_comparisons, urecs, uunits, strict=True)
                    if rec is not None and rec[0] is True
                ]
        if rows and detail is not None and type(detail) is not str:
            detail = compact(detail)
        row = status, applied, detail
        if count:
            self._count(d, row)
        return row

    def _text(self, key: Any, detail: Callable[[], dict[str, Any]]) -> str:
        """A recurring detail's JSON text, written once per run."""
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = compact(detail())
        return text

    def near_miss(
        self,
        d: Decision,
        conj: tuple[Any, ...] | None = None,
        obs: Sequence[Rec | None] | None = None,
    ) -> dict[str, Any] | None:
        """Whether a false condition is a near miss worth recording, and its margin:
        from ``d``'s trace, or from an observed evaluation's ``conj`` and ``obs`` (the
        rule's ``Evaluation.conjuncts`` and ``Evaluation.env.obs``).

        Only when every conjunct but one held, the failing one is false (not unknown),
        the comparisons that failed inside it (itself, or the disjuncts of an ``or``,
        defines followed) are all thresholds (``<``, ``<=``, ``>``, ``>=``, ``between``)
        on values that are not counts of positions held, and one of them missed by at
        most :data:`NEAR_MISS_MARGIN` (relative to the larger side). ``condor.count ==
        0`` failing while a condor is open is the book at work, not a near miss.
        """
        if d.near_miss is None:
            return None
        plan = self.plans[d.rule]
        if d.trace is not None:
            nodes = _conjunct_nodes(d.trace, len(plan.conjuncts))
            conj = tuple(n.value for n in nodes)
            recs, units = _trace_recs(plan.comparisons, nodes)
            c = next((i for i, t in enumerate(plan.conjuncts) if t == d.near_miss), None)
            if c is None or c >= len(conj) or conj[c] is not False:
                return None
            items = zip(plan.comparisons, recs, units, strict=True)
            return near_record(d.near_miss, [x for x in items if x[0].conjunct == c])
        if conj is None or obs is None:
            return None
        key = (d.rule, d.near_miss)
        where = self._near.get(key)
        if where is None:
            where = self._near[key] = near_plan(plan, d.near_miss)
        c, inside = where
        if c is None or c >= len(conj) or conj[c] is not False:
            return None
        slots, sunits = self._slots.get(d.rule) or self._slots_of(plan)
        # Most candidates are far from their thresholds: ruled out on the raw values,
        # without the rounding and the record (status_near's docstring).
        maybe = False
        for cmp, k, rules_out in inside:
            rec = obs[slots[k]]
            if rec is None or rec[0] is not False:
                continue
            if rules_out:
                return None
            if not maybe:
                maybe = maybe_near(cmp.op, rec)
        if not maybe:
            return None
        return near_record(d.near_miss, [(cmp, obs[slots[k]], sunits[k]) for cmp, k, _ in inside])

    def table(self) -> dict[str, list[Any]]:
        """The rows as columns (what ``rule_status.parquet`` holds)."""
        self.finish()
        return {
            "date": self.dates,
            "rule": self.rules,
            "status": self.status,
            "applied": self.applied,
            "detail": self.detail,
        }
