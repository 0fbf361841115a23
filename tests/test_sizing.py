"""Hedge sizing relative to the condor's risk: `costing P of condor.credit | condor.max_loss`.

``condor.credit`` is the credit received, ``condor.max_loss`` what the condor loses at
worst: (wider wing − credit per unit) × $100 × quantity (spec/domain.md). Both are
dollars, so either sizes a call spread's budget; both are unknown when no condor is open.
"""

from __future__ import annotations

from typing import Any

import pytest

from alvh_dsl.api import check, load
from alvh_dsl.lang.state import State

SIZED = (
    "rule by_credit\n"
    "  when VIX > 1\n"
    "  then buy VIX call spread 25/35 month 2 costing 25% of condor.credit\n"
    "rule by_max_loss\n"
    "  when VIX > 1\n"
    "  then buy VIX call spread 25/35 month 2 costing 10% of condor.max_loss\n"
)


def condor(
    *, quantity: int = 1, credit: float = 6.0, put_wing: float = 50, call_wing: float = 50
) -> dict[str, Any]:
    """A condor around 5000, its wings as given, with the credit per unit in points."""
    return {
        "expiry": "2024-04-19",
        "quantity": quantity,
        "short_put": 4800,
        "long_put": 4800 - put_wing,
        "short_call": 5200,
        "long_call": 5200 + call_wing,
        "credit": credit,
        "mark": 2.0,
    }


def state(*condors: dict[str, Any]) -> State:
    return State.model_validate(
        {
            "date": "2024-03-14",
            "market": {"SPX": 5000.0, "VIX": 23.0},
            "condors": list(condors),
            "equity": 250_000.0,
        }
    )


# (case, condors, condor.credit, condor.max_loss) in dollars.
CASES: list[tuple[str, list[dict[str, Any]], float, float]] = [
    ("one lot", [condor()], 600.0, 4_400.0),  # (50 − 6) × 100
    ("three lots", [condor(quantity=3, credit=4.5)], 1_350.0, 13_650.0),  # (50 − 4.5) × 300
    # The wider wing is what can be lost: the call side here, 75 points.
    ("unequal wings", [condor(credit=5.0, call_wing=75)], 500.0, 7_000.0),
    ("wider put wing", [condor(credit=5.0, put_wing=100)], 500.0, 9_500.0),
    # The front condor (nearest expiry) is the one measured, as for every condor.* name.
    (
        "two condors",
        [{**condor(quantity=2, credit=3.0), "expiry": "2024-05-17"}, condor(credit=8.0)],
        800.0,
        4_200.0,
    ),
]


@pytest.mark.parametrize(
    ("condors", "credit", "max_loss"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_credit_and_max_loss_of_the_front_condor(
    condors: list[dict[str, Any]], credit: float, max_loss: float
) -> None:
    s = state(*condors)
    assert s.value("condor.credit") == pytest.approx(credit)
    assert s.value("condor.max_loss") == pytest.approx(max_loss)
    # An evaluation reads names through the snapshot, which finds the front condor once.
    snapshot = s.snapshot()
    assert snapshot["condor.max_loss"] == pytest.approx(max_loss)


@pytest.mark.parametrize(
    ("condors", "credit", "max_loss"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_costing_a_share_of_the_condors_risk_resolves_to_that_budget(
    condors: list[dict[str, Any]], credit: float, max_loss: float
) -> None:
    ev = load("t.alvh", text=SIZED).evaluate(state(*condors))
    budgets = {d.rule: d.actions[0].to_dict()["args"].get("budget") for d in ev.decisions}
    assert budgets == {
        "by_credit": pytest.approx(0.25 * credit),
        "by_max_loss": pytest.approx(0.10 * max_loss),
    }
    assert all(a.status == "apply" for d in ev.decisions for a in d.actions)


def test_without_a_condor_the_budget_is_unknown_and_says_why() -> None:
    ev = load("t.alvh", text=SIZED).evaluate(state())
    actions = {d.rule: (d.status, d.actions[0].status, d.actions[0].reason) for d in ev.decisions}
    assert actions == {
        "by_credit": ("fired", "unresolved", "condor.credit is unknown: no condor is open"),
        "by_max_loss": ("fired", "unresolved", "condor.max_loss is unknown: no condor is open"),
    }


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("when VIX > 1 then buy VIX call spread 25/35 month 2 costing 10% of condor.max_loss", []),
        ("when condor.pnl <= -50% of condor.max_loss then close condor", []),
        ("when condor.max_loss > $5000 then close condor", []),
        ("when condor.max_loss > 5 days then close condor", ["E201"]),  # dollars, not days
    ],
)
def test_max_loss_is_a_dollar_name_to_the_checker(text: str, codes: list[str]) -> None:
    found = [d.code for d in check("t.alvh", text=f'rulebook "t"\n{text}\n') if d.is_error]
    assert found == codes


def test_a_misspelt_max_loss_suggests_it() -> None:
    text = 'rulebook "t"\nwhen condor.maxloss > $1 then close condor\n'
    (diagnostic,) = [d for d in check("t.alvh", text=text) if d.code == "E101"]
    assert diagnostic.help == "did you mean `condor.max_loss`?"
