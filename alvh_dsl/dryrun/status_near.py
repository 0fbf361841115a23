"""Near misses: which false conditions are worth a line in ``decisions.jsonl``.

:meth:`~alvh_dsl.dryrun.statuses.StatusRecorder.near_miss` asks this module, once per
rule and day whose evaluation named a near-miss candidate (every conjunct but one held),
whether the failed conjunct missed by a margin small enough to say so (the rule is
docs/dryrun.md's, "Near misses"). Most candidates are nowhere near — the core book's
``stop_loss`` is a P&L far from its stop on most days — so :func:`maybe_near` rules a day
out from the raw values, before any rounding, and only a day it cannot rule out takes
the exact walk (:func:`near_record`), whose rounded margins decide.

Plain Python (no NumPy).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .status_detail import miss_margin, rec_values

if TYPE_CHECKING:  # pragma: no cover
    from .status_detail import Rec
    from .statuses import Comparison, RulePlan

__all__ = ["NEAR_MISS_MARGIN", "NearPlan", "maybe_near", "near_plan", "near_record"]

NEAR_MISS_MARGIN = 0.10
"""A failed threshold comparison is a near miss when its two sides are this close,
relative to the larger of them (docs/dryrun.md, "Near misses")."""

ORDERING = frozenset({"<", "<=", ">", ">="})

# Raw margins above this cannot round to NEAR_MISS_MARGIN or under: the margin is taken
# of values rounded to 6 significant digits (a relative change of at most 5e-6 each),
# which lowers a margin f to no less than (f - 1e-5) / (1 + 5e-6).
_SURELY_FAR = NEAR_MISS_MARGIN + 1e-3

NearPlan = tuple[int | None, tuple[tuple["Comparison", int, bool], ...]]
"""Where a rule's near-miss conjunct is (its index, None when the rule has none of
that text) and per comparison inside it: the comparison, its index in the rule's
comparisons, and whether its failing rules the day out (a count, or not a threshold)."""


def near_plan(plan: RulePlan, conjunct: str) -> NearPlan:
    """The :data:`NearPlan` of ``plan``'s conjunct ``conjunct`` (made once per run)."""
    c = next((i for i, t in enumerate(plan.conjuncts) if t == conjunct), None)
    if c is None:
        return None, ()
    inside = tuple(
        (cmp, k, cmp.counts or (cmp.op not in ORDERING and cmp.op != "between"))
        for k, cmp in enumerate(plan.comparisons)
        if cmp.conjunct == c
    )
    return c, inside


def _plain(x: Any) -> bool:
    """A number whose rounding to 6 significant digits moves it by at most 5e-6 of
    itself: a float of the normal range (or zero), an int a float holds exactly."""
    t = type(x)
    ok: bool = (
        (x == 0.0 or 1e-300 < abs(x) < 1e300) if t is float else t is int and -(2**53) < x < 2**53
    )
    return ok


def _raw_margin(value: Any, threshold: Any) -> float:
    scale = max(abs(value), abs(threshold))
    return abs(value - threshold) / scale if scale > 0 else 0.0


def maybe_near(op: str, rec: Rec) -> bool:
    """False when the failed comparison ``rec`` (of operator ``op``) is surely no near
    miss — its margin would be None (not two numbers) or over :data:`NEAR_MISS_MARGIN` —
    and True when it may be one, or ``rec`` is not the shape an observed evaluation
    writes (the exact walk decides)."""
    if op == "between":
        if len(rec) != 4:
            return True  # not an observed Rec: the exact walk (as miss_margin reads it)
        x, low, high = rec[1], rec[2], rec[3]
        if not (_plain(x) and _plain(low) and _plain(high)):
            return True
        # The nearer bound is chosen on rounded values; neither bound may be near.
        return min(_raw_margin(x, low), _raw_margin(x, high)) <= _SURELY_FAR
    if len(rec) != 3:
        return True
    value, threshold = rec[1], rec[2]
    if not (_plain(value) and _plain(threshold)):
        return True
    return _raw_margin(value, threshold) <= _SURELY_FAR


def near_record(
    conjunct: str, inside: Iterable[tuple[Comparison, Rec | None, tuple[str, ...]]]
) -> dict[str, Any] | None:
    """The exact walk: the near miss of a false conjunct (text ``conjunct``) from its
    comparisons ``inside`` it, each with its day's :data:`Rec` and operand units, in the
    rule's order; or None."""
    best: tuple[float, Comparison, Rec, tuple[str, ...]] | None = None
    for cmp, rec, u in inside:
        if rec is None or rec[0] is not False:
            continue
        if cmp.counts or (cmp.op not in ORDERING and cmp.op != "between"):
            return None
        margin = miss_margin(cmp, rec)
        if margin is not None and (best is None or margin < best[0]):
            best = (margin, cmp, rec, u)
    if best is None or best[0] > NEAR_MISS_MARGIN:
        return None
    margin, cmp, rec, u = best
    return {
        "conjunct": conjunct,
        "comparison": cmp.text,
        "margin": round(margin, 4),
        "values": rec_values(cmp, rec, u),
    }
