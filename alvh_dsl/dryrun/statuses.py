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
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..lang import ast as A
from ..lang.printer import format_expr

if TYPE_CHECKING:  # pragma: no cover
    from ..lang.evaluate import Book, CompiledRule, Decision, TraceNode

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

NEAR_MISS_MARGIN = 0.10
"""A failed threshold comparison is a near miss when its two sides are this close,
relative to the larger of them (docs/dryrun.md, "Near misses")."""

_ORDERING = frozenset({"<", "<=", ">", ">="})


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
                    bool(read) and read <= counts,
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


def _number(value: Any) -> float | None:
    """A finite number to 6 significant digits (what words and ranges need), or None."""
    t = type(value)
    if t is float:
        # NaN and infinities are the only floats for which x - x is not 0.
        return float(f"{value:.6g}") if value - value == 0 else None
    if t is int:
        return float(value)
    return None


def comparison_values(cmp: Comparison, node: TraceNode) -> list[list[Any]]:
    """``[text, value, unit]`` of each operand of ``cmp`` that is not a numeric literal
    (value None when unknown), read from the comparison's trace node."""
    out: list[list[Any]] = []
    kids = node.children
    for i, text in cmp.operands:
        if i < len(kids):
            k = kids[i]
            out.append([text, _number(k.value), k.unit])
    return out


def _conjunct_nodes(trace: TraceNode, n: int) -> list[TraceNode]:
    return list(trace.children) if n > 1 else [trace]


def failing_comparisons(plan: RulePlan, trace: TraceNode) -> list[dict[str, Any]]:
    """The conjuncts of a false condition that were false, each with the comparisons
    inside it that were false (all of them when none was: ``not (a > b)``) and the
    values they compared."""
    conj = _conjunct_nodes(trace, len(plan.conjuncts))
    found = []
    for cmp in plan.comparisons:
        if cmp.conjunct < len(conj):
            node = _node(conj[cmp.conjunct], cmp.path, cmp.text)
            if node is not None:
                found.append((cmp, node))
    return _failed(plan, conj, found)


def _failed(
    plan: RulePlan, conj: list[TraceNode], found: list[tuple[Comparison, TraceNode]]
) -> list[dict[str, Any]]:
    out = []
    for c, text in enumerate(plan.conjuncts):
        if c >= len(conj) or conj[c].value is not False:
            continue
        inside = [(cmp, node) for cmp, node in found if cmp.conjunct == c]
        false = [(cmp, node) for cmp, node in inside if node.value is False] or inside
        out.append(
            {
                "conjunct": text,
                "comparisons": [
                    {"expr": cmp.text, "held": node.value, "values": comparison_values(cmp, node)}
                    for cmp, node in false
                ],
            }
        )
    return out


_JSON_TEXT: dict[str, str] = {}


def _json_text(text: str) -> str:
    """``text`` as a JSON string, memoised: expressions, operand names and units repeat
    on every row."""
    out = _JSON_TEXT.get(text)
    if out is None:
        out = _JSON_TEXT[text] = json.dumps(text, ensure_ascii=False)
    return out


def _num_text(value: Any) -> str:
    v = _number(value)
    return "null" if v is None else repr(v)


def _failed_json(
    plan: RulePlan, conj: list[TraceNode], found: list[tuple[Comparison, TraceNode]]
) -> str:
    """``{"failed": _failed(...)}`` as compact JSON, written directly: the row detail of
    nearly every rule on nearly every day, so it skips building the dictionaries
    (tests/test_why.py checks it parses to the same data)."""
    parts = []
    for c, text in enumerate(plan.conjuncts):
        if c >= len(conj) or conj[c].value is not False:
            continue
        inside = [(cmp, node) for cmp, node in found if cmp.conjunct == c]
        false = [(cmp, node) for cmp, node in inside if node.value is False] or inside
        cmps = []
        for cmp, node in false:
            kids = node.children
            values = []
            for i, name in cmp.operands:
                if i < len(kids):
                    k = kids[i]
                    x = k.value
                    # JSON's number text at 6 significant digits, as _number gives.
                    shown = f"{x:.6g}" if type(x) is float and x - x == 0 else _num_text(x)
                    values.append(f"[{_json_text(name)},{shown},{_json_text(k.unit)}]")
            held = "true" if node.value is True else "false" if node.value is False else "null"
            cmps.append(
                f'{{"expr":{_json_text(cmp.text)},"held":{held},"values":[{",".join(values)}]}}'
            )
        parts.append(f'{{"conjunct":{_json_text(text)},"comparisons":[{",".join(cmps)}]}}')
    return f'{{"failed":[{",".join(parts)}]}}'


class StatusRecorder:
    """One run's ``rule_status`` rows and per-comparison statistics, fed by the loop
    with each day's traced decisions (never evaluating anything itself)."""

    def __init__(self, book: Book) -> None:
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
        self._priority = {cr.id: cr.priority for cr in book.rules}

    def record(
        self,
        date: dt.date,
        d: Decision,
        actions: Sequence[Mapping[str, Any]] = (),
        last_fired: dt.date | None = None,
    ) -> str:
        """Record rule ``d.rule``'s status on ``date`` and return it. ``actions``: the
        fired rule's action records, as applied (statuses after the fills);
        ``last_fired``: when the rule last changed the book, as the rules saw it."""
        plan = self.plans[d.rule]
        detail: Any = None
        applied = False
        found = self._observe(plan, d.trace) if d.trace is not None else []
        st = d.status
        if st == "fired":
            applied = any(a.get("status") == "apply" for a in actions)
            skipped = [
                _action_detail(a, self._priority) for a in actions if a.get("status") != "apply"
            ]
            superseded = [a for a in skipped if a["status"] == "superseded"]
            status = "superseded" if superseded and not applied else "fired"
            detail = {"actions": skipped} if skipped else None
        elif st == "not_met":
            if d.reason == "disabled for this run":
                status = "disabled"
            else:
                status = "false"
                if d.trace is not None:
                    conj = _conjunct_nodes(d.trace, len(plan.conjuncts))
                    detail = _failed_json(plan, conj, found)
        elif st == "unknown":
            status, detail = "unknown", {"reason": d.reason}
        elif st == "cooling_down":
            status = "cooling"
            if last_fired is not None and plan.cooldown_days is not None:
                until = last_fired + dt.timedelta(days=math.ceil(plan.cooldown_days))
                detail = {"since": last_fired.isoformat(), "until": until.isoformat()}
            else:
                detail = {"reason": d.reason}
        else:  # blocked
            status = "blocked"
            detail = {"unless": plan.unless}
            if d.unless_trace is not None:
                detail["comparisons"] = [
                    {"expr": cmp.text, "held": node.value, "values": comparison_values(cmp, node)}
                    for cmp in plan.unless_comparisons
                    if (node := _node(d.unless_trace, cmp.path, cmp.text)) is not None
                    and node.value is True
                ]
        self.dates.append(date)
        self.rules.append(d.rule)
        self.status.append(status)
        self.applied.append(applied)
        if detail is not None and type(detail) is not str:
            detail = _compact(detail)
        self.detail.append(detail)
        counts = self.counts[d.rule]
        counts[status] = counts.get(status, 0) + 1
        if applied:
            counts["applied"] = counts.get("applied", 0) + 1
        return status

    def _observe(self, plan: RulePlan, trace: TraceNode) -> list[tuple[Comparison, TraceNode]]:
        """Count each comparison's day and widen its operands' ranges; return the
        comparisons' trace nodes (for the day's detail)."""
        # The inner loop of the statuses (every rule, every day): kept flat.
        conj = _conjunct_nodes(trace, len(plan.conjuncts))
        found = []
        for cmp, stats in zip(plan.comparisons, self.stats[plan.rule], strict=True):
            node = (
                _node(conj[cmp.conjunct], cmp.path, cmp.text) if cmp.conjunct < len(conj) else None
            )
            if node is None:
                stats.unknown += 1
                continue
            found.append((cmp, node))
            if node.unknown is not None:
                stats.unknown += 1
                continue
            if node.value is True:
                stats.held += 1
            else:
                stats.false += 1
            kids = node.children
            low, high = stats.low, stats.high
            for i, text in cmp.operands:
                if i >= len(kids) or cmp.literal[i]:  # a param's value never varies
                    continue
                v: Any = kids[i].value  # ints too, whatever the trace type says
                if type(v) is not float or v - v != 0:  # bool, unknown, NaN, inf
                    if type(v) is not int:
                        continue
                    v = float(v)
                lo = low.get(text)
                if lo is None:
                    low[text] = high[text] = v
                    stats.units[text] = kids[i].unit
                elif v < lo:
                    low[text] = v
                elif v > high[text]:
                    high[text] = v
        return found

    def near_miss(self, d: Decision) -> dict[str, Any] | None:
        """Whether a false condition is a near miss worth recording, and its margin.

        Only when every conjunct but one held, the failing one is false (not unknown),
        the comparisons that failed inside it (itself, or the disjuncts of an ``or``,
        defines followed) are all thresholds (``<``, ``<=``, ``>``, ``>=``, ``between``)
        on values that are not counts of positions held, and one of them missed by at
        most :data:`NEAR_MISS_MARGIN` (relative to the larger side). ``condor.count ==
        0`` failing while a condor is open is the book at work, not a near miss.
        """
        if d.near_miss is None or d.trace is None:
            return None
        plan = self.plans[d.rule]
        conj = _conjunct_nodes(d.trace, len(plan.conjuncts))
        c = next((i for i, t in enumerate(plan.conjuncts) if t == d.near_miss), None)
        if c is None or c >= len(conj) or conj[c].value is not False:
            return None
        best: tuple[float, Comparison, TraceNode] | None = None
        for cmp in plan.comparisons:
            if cmp.conjunct != c:
                continue
            node = _node(conj[c], cmp.path, cmp.text)
            if node is None or node.value is not False:
                continue
            if cmp.counts or (cmp.op not in _ORDERING and cmp.op != "between"):
                return None
            margin = _margin(cmp, node)
            if margin is not None and (best is None or margin < best[0]):
                best = (margin, cmp, node)
        if best is None or best[0] > NEAR_MISS_MARGIN:
            return None
        margin, cmp, node = best
        return {
            "conjunct": d.near_miss,
            "comparison": cmp.text,
            "margin": round(margin, 4),
            "values": comparison_values(cmp, node),
        }

    def table(self) -> dict[str, list[Any]]:
        """The rows as columns (what ``rule_status.parquet`` holds)."""
        return {
            "date": self.dates,
            "rule": self.rules,
            "status": self.status,
            "applied": self.applied,
            "detail": self.detail,
        }


def _margin(cmp: Comparison, node: TraceNode) -> float | None:
    """How far a failed threshold missed: |value − threshold| ÷ the larger of the two
    (``between``: the nearer bound); None without two numbers."""
    values = [_number(k.value) for k in node.children]
    if cmp.op == "between":
        if len(values) < 3 or any(v is None for v in values):
            return None
        x, low, high = (float(v) for v in values[:3])  # type: ignore[arg-type]
        value, threshold = x, (low if abs(x - low) <= abs(x - high) else high)
    else:
        if len(values) < 2 or values[0] is None or values[1] is None:
            return None
        value, threshold = values[0], values[1]
    scale = max(abs(value), abs(threshold))
    return abs(value - threshold) / scale if scale > 0 else 0.0


def _action_detail(a: Mapping[str, Any], priority: Mapping[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {"action": a.get("text"), "status": a.get("status")}
    by = a.get("superseded_by")
    if by is not None:
        out["by"] = by
        out["priority"] = priority.get(by, 0)
    elif a.get("reason"):
        out["reason"] = a["reason"]
    elif a.get("fill"):
        out["reason"] = a["fill"]
    return out


# One encoder for every row (json.dumps with options makes one per call); the details'
# keys are written in a fixed order, so no sorting is needed for byte-identical files.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _compact(value: Any) -> str:
    return _ENCODER.encode(value)
