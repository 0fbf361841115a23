"""One rule's day from an observed evaluation, a repeated day costing a dict lookup.

An observed evaluation (:mod:`alvh_dsl.lang.observe`) leaves each comparison's values in
its slot; :func:`day_recorder` builds, once per rule and run, the function that folds a
day's values into the rule's per-comparison statistics (days held / false / unknown, the
range of each compared value) and renders the day's ``detail`` of a false condition.

Most days repeat an earlier day of the same rule exactly (``condor.DTE <= 7 days`` while
the condor is weeks away, ``condor.count == 0`` while one is open), so a day is keyed on
its conjuncts' and comparisons' values **with their types** (``1``, ``1.0`` and ``True``
are equal in Python but are written differently): a day seen before adds its known
outcome to the counts — its values are already inside the ranges — and reuses its text.
Only a float zero is equal to one of another sign and the same type (``-0.0`` is written
``-0``): a day comparing one is rendered afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..lang.state import Unknown
from .status_detail import Rec, false_renderer

if TYPE_CHECKING:  # pragma: no cover
    from .statuses import ComparisonStats, RulePlan

__all__ = ["DayRecorder", "day_recorder"]

DayRecorder = Callable[[Sequence[Any], Sequence[Any], bool], "str | None"]
"""``(conjuncts' values, Env.obs, want the detail) -> the false detail's JSON or None``."""

_KEPT = 4096
"""Distinct days kept per rule: enough for every repeating one; values that never repeat
(a P&L) would only grow the table."""

_TRIAL = 100
"""Days a rule's table is tried before it is judged (see ``day``)."""

_HELD, _FALSE, _UNKNOWN = 0, 1, 2


def day_recorder(
    plan: RulePlan,
    slots: Sequence[int],
    units: Sequence[tuple[str, ...]],
    stats: Sequence[ComparisonStats],
) -> DayRecorder:
    """The day function of one rule (see the module's docstring): ``slots`` and ``units``
    of its comparisons in ``Env.obs``, ``stats`` the statistics it adds to."""
    # Long: two closures sharing the rule's tables (its statistics, the days seen), the
    # inner loop of the statuses; split, they would pass those around on every call.
    render = false_renderer(plan, units)
    # Per comparison: its statistics, and the operands whose values vary (not numeric
    # literals, not params): (index in the Rec, text, unit).
    per = [
        (st, tuple((i + 1, text, u[i]) for i, text in cmp.operands if not cmp.literal[i]))
        for cmp, st, u in zip(plan.comparisons, stats, units, strict=True)
    ]
    seen: dict[Any, list[Any]] = {}  # key → [detail text or None, outcomes, zero]
    tally = [0, 0]  # days looked up, days found: a rule whose days never repeat stops looking

    def fold(recs: Sequence[Rec | None]) -> tuple[int, ...]:
        """Add a new day to the statistics; its outcomes."""
        outcomes = []
        for (st, ops), rec in zip(per, recs, strict=True):
            if rec is None:
                st.unknown += 1
                outcomes.append(_UNKNOWN)
                continue
            v0 = rec[0]
            if type(v0) is Unknown:
                st.unknown += 1
                outcomes.append(_UNKNOWN)
                continue
            if v0 is True:
                st.held += 1
                outcomes.append(_HELD)
            else:
                st.false += 1
                outcomes.append(_FALSE)
            low, high = st.low, st.high
            for j, text, unit in ops:
                v: Any = rec[j]  # ints too, whatever the trace type says
                if type(v) is not float or v - v != 0:  # bool, unknown, NaN, inf
                    if type(v) is not int:
                        continue
                    v = float(v)
                lo = low.get(text)
                if lo is None:
                    low[text] = high[text] = v
                    st.units[text] = unit
                elif v < lo:
                    low[text] = v
                elif v > high[text]:
                    high[text] = v
        return tuple(outcomes)

    def zero(recs: Sequence[Rec | None]) -> bool:
        """Whether a day compares a float zero (maybe -0.0, written otherwise)."""
        for (_, ops), rec in zip(per, recs, strict=True):
            if rec is not None:
                for j, _, _ in ops:
                    x = rec[j]
                    if type(x) is float and x == 0:
                        return True
        return False

    def day(conj: Sequence[Any], obs: Sequence[Any], want: bool) -> str | None:
        recs = tuple([obs[s] for s in slots])
        if tally[0] >= _TRIAL and tally[1] * 4 < tally[0]:
            # Under a quarter of its days repeat (a P&L compared): the key costs more
            # than it saves.
            fold(recs)
            return render(conj, recs) if want else None
        tally[0] += 1
        key = (
            tuple(conj),
            tuple(map(type, conj)),
            recs,
            tuple([None if r is None else tuple(map(type, r)) for r in recs]),
        )
        entry = seen.get(key)
        if entry is None:
            outcomes = fold(recs)
            text = render(conj, recs) if want else None
            if len(seen) < _KEPT:
                z = zero(recs)
                seen[key] = [None if z else text, outcomes, z]
            return text
        tally[1] += 1
        for (st, _), o in zip(per, entry[1], strict=True):
            if o == _HELD:
                st.held += 1
            elif o == _FALSE:
                st.false += 1
            else:
                st.unknown += 1
        if not want:
            return None
        text = entry[0]
        if text is None:
            text = render(conj, recs)
            if not entry[2]:
                entry[0] = text
        return text

    return day
