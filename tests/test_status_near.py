"""The near misses' early rule-out (``status_near.maybe_near``) never drops a near miss.

``StatusRecorder.near_miss`` rules a candidate day out from the raw values when
``maybe_near`` says it is surely far; the exact walk (``near_record``) decides every
other day. Here every failed comparison of adversarial values — at the margin's edge,
rounding across it, ints, bools, zeros of both signs, NaN, infinities, huge and tiny
floats, unknowns, short Recs — that ``maybe_near`` rules out must be one the exact walk
gives no near miss for.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from alvh_dsl.dryrun.status_near import NEAR_MISS_MARGIN, maybe_near, near_plan, near_record
from alvh_dsl.dryrun.statuses import Comparison, RulePlan
from alvh_dsl.lang.state import Unknown


def _plan(op: str) -> RulePlan:
    operands = ((0, "x"), (1, "t"), (2, "h")) if op == "between" else ((0, "x"), (1, "t"))
    cmp = Comparison("x ? t", op, 0, (), operands, (False,) * len(operands), False)
    return RulePlan("r", 0, ("c",), (cmp,), None, (), None, frozenset())


def _values() -> list[Any]:
    rng = random.Random(11)
    edge = [1.0 - NEAR_MISS_MARGIN * s for s in (0.99999, 1.0, 1.000001, 1.00001, 1.0001, 1.01)]
    out: list[Any] = [
        *edge,
        *(-v for v in edge),
        1.0,
        -1.0,
        0.0,
        -0.0,
        0,
        1,
        2,
        True,
        False,
        None,
        Unknown("no quote"),
        float("nan"),
        float("inf"),
        -float("inf"),
        1.7976931348623157e308,
        1e300,
        1e-300,
        5e-324,
        2.2250738585072014e-308,
        2**53,
        -(2**53) - 1,
        10**400,
        0.8999995,
        0.9000005,
        1.1111115,
        1.1111105,
    ]
    out += [rng.uniform(0.85, 1.15) for _ in range(200)]
    out += [rng.uniform(-1e6, 1e6) for _ in range(20)]
    return out


def _exact(op: str, rec: tuple[Any, ...]) -> dict[str, Any] | None:
    cmp = _plan(op).comparisons[0]
    try:
        return near_record("c", [(cmp, rec, ("bare",) * (len(rec) - 1))])
    except OverflowError:  # a huge int: the exact walk fails, so maybe_near must not rule out
        return {"margin": "overflow"}


@pytest.mark.parametrize("op", ["<", ">=", "between"])
def test_what_maybe_near_rules_out_is_no_near_miss(op: str) -> None:
    values = _values()
    pairs = list(itertools.product(values[:60], repeat=2)) + [
        (x, 1.0) for x in values
    ]  # every value against a threshold of 1
    checked = ruled_out = 0
    for x, t in pairs:
        recs: list[tuple[Any, ...]] = (
            [(False, x, t, 1.0), (False, x, 0.5, t), (False, x, t, t)]
            if op == "between"
            else [(False, x, t)]
        )
        recs.append((False, x))  # a short Rec: no margin
        for rec in recs:
            checked += 1
            if not maybe_near(op, rec):
                ruled_out += 1
                assert _exact(op, rec) is None, rec
    assert ruled_out > checked // 10  # the rule-out is taken, not only the exact walk


def test_near_plan_finds_the_conjunct_and_what_rules_it_out() -> None:
    plan = _plan("<")
    counted = Comparison("condor.count == 0", "==", 0, (), ((0, "condor.count"),), (False,), True)
    both = RulePlan("r", 0, ("c", "d"), (counted, plan.comparisons[0]), None, (), None, frozenset())
    assert near_plan(both, "e") == (None, ())
    c, inside = near_plan(both, "c")
    assert c == 0 and [(k, out) for _, k, out in inside] == [(0, True), (1, False)]
