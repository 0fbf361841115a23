"""Rule coverage over a dry-run: how often each rule fired, and why one never did.

:func:`rule_coverage` turns what :class:`~alvh_dsl.dryrun.statuses.StatusRecorder`
gathered from the day loop's traces into one entry per rule (the ``coverage`` key of
``summary.json``, the report's "Rule coverage"). For a rule that never fired it says
why in data terms: the range each compared value took over the run, whether each
comparison ever held, how often the rule was unknown, cooling or blocked, and which
rule pre-empted it — one that changed the book the rule looks at, or acted on the same
target ahead of it ("`roll_forward` (priority 10) rolls the condor when
`condor.DTE <= 7 days`").

Plain Python over the recorder's counters; nothing is evaluated again.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from ..lang import ast as A
from ..lang.explain import format_value, normalise
from ..lang.printer import format_expr
from ..lang.targets import consumed_targets
from .statuses import names_read

if TYPE_CHECKING:  # pragma: no cover
    from ..lang.evaluate import Book, CompiledRule
    from .statuses import ComparisonStats, RulePlan, StatusRecorder

__all__ = ["coverage_lines", "rule_coverage", "value_range"]


def _acts_on(a: A.ActionNode) -> tuple[set[str], str] | None:
    """The families of names (``condor``, ``hedge``) an action changes, and its verb."""
    if isinstance(a, A.Close):
        if a.target == "condor":
            return {"condor"}, "closes the condor"
        if a.target == "all":
            return {"condor", "hedge"}, "closes every position"
        return {"hedge"}, "closes the hedge"
    if isinstance(a, A.OpenCondor):
        return {"condor"}, "opens a condor"
    if isinstance(a, A.RollCondor):
        return {"condor"}, "rolls the condor"
    if isinstance(a, A.ShiftHedge):
        return {"hedge"}, "shifts the hedge"
    if isinstance(a, A.TradeFuture):
        return {"hedge"}, f"{a.side}s VIX futures"
    if isinstance(a, A.BuyCallSpread):
        return {"hedge"}, "buys VIX call spreads"
    return None


def _family(name: str) -> str | None:
    head = name.partition(".")[0]
    if head == "condor":
        return "condor"
    if head == "hedge":
        return "hedge"
    return None


def value_range(low: float, high: float, unit: str) -> str:
    """``7–49 days``, ``$120–$1,240``, ``14.2–35.1``: a range in words, the unit once."""
    lo, hi = format_value(low, unit), format_value(high, unit)
    if lo == hi:
        return lo
    if low < 0 or high < 0:
        return f"from {lo} to {hi}"
    for suffix in (" days", " day", " points"):
        if lo.endswith(suffix) and hi.endswith(" days" if suffix == " day" else suffix):
            lo = lo[: -len(suffix)]
            break
    return f"{lo}–{hi}"


def _comparison_entry(text: str, stats: ComparisonStats) -> dict[str, Any]:
    return {
        "expr": text,
        "held": stats.held,
        "false": stats.false,
        "unknown": stats.unknown,
        "values": [
            {
                "expr": name,
                "unit": stats.units.get(name, "bare"),
                "min": stats.low[name],
                "max": stats.high[name],
            }
            for name in stats.low
        ],
    }


def _preempters(
    cr: CompiledRule, plan: RulePlan, book: Book, applied: dict[str, int]
) -> list[dict[str, Any]]:
    """Rules that applied an action during the run and stood in ``cr``'s way: they
    change what its condition compares (a roll moves ``condor.DTE``), or act on a
    target it acts on, ahead of it. Those whose condition reads one of the names it
    compares come first."""
    families = {f for n in plan.reads if (f := _family(n)) is not None}
    mine = {t for a in cr.rule.actions for t in consumed_targets(a)}
    ahead = True
    out: list[tuple[int, dict[str, Any]]] = []
    params, defines = dict(book.params), book.program.defines
    for other in book.rules:  # execution order
        if other.id == cr.id:
            ahead = False
            continue
        if not applied.get(other.id):
            continue
        verbs = []
        for a in other.rule.actions:
            acts = _acts_on(a)
            if acts is None:
                continue
            changes, verb = acts
            same_target = ahead and bool(mine & set(consumed_targets(a)))
            if changes & families or same_target:
                verbs.append(verb)
        if not verbs:
            continue
        when = other.rule.when
        assert when is not None
        conj = when.operands if isinstance(when, A.BoolOp) and when.op == "and" else (when,)
        shared = [c for c in conj if names_read(c, defines) & plan.reads]
        shown = shared or list(conj)
        entry = {
            "rule": other.id,
            "priority": other.priority,
            "applied": applied[other.id],
            "does": " and ".join(dict.fromkeys(verbs)),
            "when": " and ".join(format_expr(normalise(c, params, defines)) for c in shown),
        }
        out.append((0 if shared else 1, entry))
    # Rules whose condition reads what this one compares say the most; the others
    # (any rule opening a condor changes `condor.*`) only when there is none of those.
    best = min((rank for rank, _ in out), default=0)
    return [e for rank, e in out if rank == best]


def rule_coverage(book: Book, recorder: StatusRecorder) -> list[dict[str, Any]]:
    """One entry per rule, in file order: days evaluated, fired and applied, days per
    status, each comparison's days held / false / unknown and the range of the values
    it compared; and for a rule that never fired, ``preempted_by`` and ``reason``."""
    recorder.finish()  # the days an observed run kept, counted
    by_id = {cr.id: cr for cr in book.rules}
    applied = {r: c.get("applied", 0) for r, c in recorder.counts.items()}
    unknown_reasons = _unknown_reasons(recorder)
    out = []
    for rule_id in book.rule_ids:
        cr, plan = by_id[rule_id], recorder.plans[rule_id]
        counts = recorder.counts[rule_id]
        fired = counts.get("fired", 0) + counts.get("superseded", 0)
        comparisons = [
            _comparison_entry(c.text, s)
            for c, s in zip(plan.comparisons, recorder.stats[rule_id], strict=True)
        ]
        entry: dict[str, Any] = {
            "rule": rule_id,
            "title": cr.title,
            "priority": cr.priority,
            "days": sum(v for k, v in counts.items() if k != "applied"),
            "fired": fired,
            "applied": applied.get(rule_id, 0),
            "statuses": {k: v for k, v in sorted(counts.items()) if k != "applied"},
            "comparisons": comparisons,
            "preempted_by": [],
            "reason": None,
        }
        if fired == 0:
            entry["preempted_by"] = _preempters(cr, plan, book, applied)
            entry["reason"] = _reason(entry, unknown_reasons.get(rule_id))
        elif entry["applied"] == 0:
            entry["reason"] = _idle_reason(recorder, rule_id, fired)
        out.append(entry)
    return out


def _idle_reason(recorder: StatusRecorder, rule: str, fired: int) -> str:
    """Why a rule that fired never changed the book: what became of its actions
    (superseded by which rule, unfilled, unresolved, disabled), counted over its days."""
    seen = recorder.idle.get(rule) or Counter()
    what = "; ".join(f"{k} on {n:,} day(s)" for k, n in seen.most_common())
    return f"fired on {fired:,} day(s) but never changed the book" + (f": {what}" if what else "")


def _unknown_reasons(recorder: StatusRecorder) -> dict[str, str]:
    """The most common reason each rule was unknown."""
    return {r: c.most_common(1)[0][0] for r, c in recorder.unknown_reasons.items() if c}


def _reason(entry: dict[str, Any], unknown_reason: str | None) -> str:
    """Why a rule never fired, in one sentence of data."""
    parts = []
    for c in entry["comparisons"]:
        for v in c["values"]:
            parts.append(f"`{v['expr']}` ranged {value_range(v['min'], v['max'], v['unit'])}")
        if c["held"] == 0:
            parts.append(f"`{c['expr']}` never held")
        else:
            parts.append(f"`{c['expr']}` held on {c['held']:,} day(s)")
    st = entry["statuses"]
    if st.get("unknown"):
        why = f" ({unknown_reason})" if unknown_reason else ""
        parts.append(f"unknown on {st['unknown']:,} day(s){why}")
    if st.get("cooling"):
        parts.append(f"cooling down on {st['cooling']:,} day(s)")
    if st.get("blocked"):
        parts.append(f"blocked by its `unless` on {st['blocked']:,} day(s)")
    if st.get("disabled"):
        parts.append(f"disabled on {st['disabled']:,} day(s)")
    for p in entry["preempted_by"][:2]:
        prio = f" (priority {p['priority']})" if p["priority"] else ""
        parts.append(f"`{p['rule']}`{prio} {p['does']} when `{p['when']}`")
    if not entry["days"]:
        return "never evaluated (the run has no days)"
    return "; ".join(parts) if parts else "its condition never held"


def coverage_lines(coverage: list[dict[str, Any]], label: str = "") -> list[str]:
    """The coverage in words, for the terminal and the report: one line per rule that
    never fired (with its reason), then one line counting the others."""
    never = [c for c in coverage if c["fired"] == 0]
    lines = [f"{label}`{c['rule']}` never fired: {c['reason']}" for c in never]
    lines += [
        f"{label}`{c['rule']}` {c['reason']}"
        for c in coverage
        if c["fired"] and not c["applied"] and c["reason"]
    ]
    fired = len(coverage) - len(never)
    lines.append(f"{label}{fired} of {len(coverage)} rule(s) fired at least once")
    return lines
