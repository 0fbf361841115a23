"""One evaluation: snapshot, order, supersession, cooldowns, Kleene logic, unknowns, traces."""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from alvh_dsl.api import load, load_checked
from alvh_dsl.errors import RulebookError
from alvh_dsl.lang.diagnostics import has_errors
from alvh_dsl.lang.evaluate import (
    Book,
    Evaluation,
    NoSeriesBackend,
    compile_program,
    reads_history,
)
from alvh_dsl.lang.state import State
from alvh_dsl.series import BACKEND

BASE: dict[str, Any] = {
    "date": "2024-03-14",
    "market": {
        "SPX": 5150.5,
        "VIX": 23.4,
        "VVIX": 96.0,
        "futures": [
            {"month": 1, "price": 24.1, "expiry": "2024-03-20"},
            {"month": 2, "price": 22.9, "expiry": "2024-04-17"},
            {"month": 3, "price": 21.8, "expiry": "2024-05-22"},
        ],
    },
    "condors": [
        {
            "id": "IC-1",
            "expiry": "2024-03-15",
            "quantity": 2,
            "short_put": 4950,
            "long_put": 4900,
            "short_call": 5300,
            "long_call": 5350,
            "credit": 6.2,
            "mark": 2.1,
            "greeks": {"delta": -0.04, "gamma": -0.0031, "theta": 1.9, "vega": -0.6},
        }
    ],
    "hedges": [
        {
            "id": "H1",
            "kind": "call_spread",
            "quantity": 10,
            "expiry": "2024-03-20",
            "lower": 25,
            "upper": 35,
            "entry_price": 1.4,
            "mark": 1.1,
        }
    ],
    "greeks": {"delta": -850.0, "gamma": -62.0, "vega": -120.0, "theta": 380.0},
    "equity": 250000.0,
}


def state(**changes: Any) -> State:
    """The base state with top-level keys replaced (``market`` is merged one level)."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if key == "market":
            data["market"].update(value)
        else:
            data[key] = value
    return State.model_validate(data)


def book(text: str, params: dict[str, str] | None = None) -> Book:
    return load("t.alvh", params, text=text)


def statuses(ev: Evaluation) -> dict[str, str]:
    return {d.rule: d.status for d in ev.decisions}


def decision(ev: Evaluation, rule: str) -> Any:
    return next(d for d in ev.decisions if d.rule == rule)


def untraced_view(ev: Evaluation) -> list[dict[str, Any]]:
    out = []
    for d in ev.decisions:
        doc = d.to_dict()
        for key in ("trace", "unless_trace", "near_miss"):
            doc.pop(key, None)
        out.append(doc)
    return out


# ------------------------------------------------------------- order, snapshot


def test_rules_run_by_priority_then_file_order() -> None:
    b = book(
        'rule a\n  when VIX > 1 then alert "a"\n'
        'rule b priority 5\n  when VIX > 1 then alert "b"\n'
        'rule c\n  when VIX > 1 then alert "c"\n'
        'rule d priority 10\n  when VIX > 1 then alert "d"\n'
        'rule e priority -1\n  when VIX > 1 then alert "e"\n'
    )
    ev = b.evaluate(state())
    assert [d.rule for d in ev.decisions] == ["d", "b", "a", "c", "e"]
    assert [d.priority for d in ev.decisions] == [10, 5, 0, 0, -1]
    assert b.rule_ids == ["a", "b", "c", "d", "e"]  # file order


def test_every_condition_sees_the_same_snapshot() -> None:
    # `close` fires first, but `still_open` still sees the condor: actions change
    # nothing during the evaluation.
    b = book(
        "rule close_it priority 10\n  when condor.count == 1 then close condor\n"
        'rule still_open\n  when condor.count == 1 then alert "open"\n'
    )
    ev = b.evaluate(state())
    assert statuses(ev) == {"close_it": "fired", "still_open": "fired"}
    assert [a.status for a in decision(ev, "still_open").actions] == ["apply"]


# ---------------------------------------------------------------- supersession

SUPERSEDE = (
    "rule stop priority 100\n  when condor.pnl > $0 then close condor\n"
    "rule roll_it priority 10\n  when DTE <= 7 then roll condor to month 2\n"
    'rule profit\n  when condor.pnl > $0 then close condor and alert "took profit"\n'
    "rule add\n  when VIX > 1 then open iron condor month 2 short delta 0.1 wings 50\n"
    "rule migrate\n  when DTE < 2 shift 50% hedge to month 2\n"
    "rule trim\n  when VIX > 1 then close 50% of hedge month 1\n"
    "rule trim3\n  when VIX > 1 then close hedge month 3\n"
)


def test_superseded_actions_name_the_superseding_rule() -> None:
    ev = book(SUPERSEDE).evaluate(state())
    assert all(d.status == "fired" for d in ev.decisions)
    acts = {d.rule: [(a.kind, a.status, a.superseded_by) for a in d.actions] for d in ev.decisions}
    assert acts["stop"] == [("close", "apply", None)]
    assert acts["roll_it"] == [("roll_condor", "superseded", "stop")]
    assert acts["profit"] == [("close", "superseded", "stop"), ("alert", "apply", None)]
    assert acts["add"] == [("open_condor", "apply", None)]  # opening supersedes nothing
    assert acts["migrate"] == [("shift_hedge", "apply", None)]  # consumes month 1
    assert acts["trim"] == [("close", "superseded", "migrate")]
    assert acts["trim3"] == [("close", "apply", None)]
    reason = decision(ev, "roll_it").actions[0].reason
    assert reason == "rule `stop` already acted on condor this step"


def test_a_rule_whose_actions_were_all_superseded_did_nothing() -> None:
    ev = book(SUPERSEDE).evaluate(state())
    applied = ev.applied_rules()
    assert "roll_it" not in applied  # its only action was superseded: no cooldown starts
    assert {"stop", "profit", "add", "migrate", "trim3"} <= set(applied)


# -------------------------------------------------------------------- cooldown

COOLDOWN = "rule layer\n  when VIX > 20 then buy 1 VIX future month 2\n  cooldown 5 days\n"


@pytest.mark.parametrize(
    ("today", "status"),
    [
        ("2024-03-11", "cooling_down"),  # the day it fired
        ("2024-03-12", "cooling_down"),
        ("2024-03-15", "cooling_down"),  # 4 days later
        ("2024-03-16", "fired"),  # exactly 5 days later
        ("2024-03-30", "fired"),
    ],
)
def test_cooldown(today: str, status: str) -> None:
    s = state(date=today, last_fired={"layer": "2024-03-11"})
    d = decision(book(COOLDOWN).evaluate(s), "layer")
    assert d.status == status
    if status == "cooling_down":
        assert d.reason == "fired on 2024-03-11; cooldown until 2024-03-16"
        assert d.actions == ()


def test_cooldown_only_matters_when_the_condition_holds() -> None:
    s = state(last_fired={"layer": "2024-03-13"}, market={"VIX": 15})
    assert decision(book(COOLDOWN).evaluate(s), "layer").status == "not_met"
    assert decision(book(COOLDOWN).evaluate(state()), "layer").status == "fired"


def test_cooldown_from_a_param() -> None:
    text = "param wait = 3 days\n" + COOLDOWN.replace("5 days", "wait")
    s = state(date="2024-03-14", last_fired={"layer": "2024-03-11"})
    assert decision(book(text).evaluate(s), "layer").status == "fired"
    overridden = book(text, {"wait": "4d"})
    assert decision(overridden.evaluate(s), "layer").status == "cooling_down"


# ------------------------------------------------------------- Kleene logic

# T is true, F is false, U is unknown (there is no VIX month 9 in the state).
KLEENE_DEFINES = "define T = VIX > 1\ndefine F = VIX < 1\ndefine U = VIX.M9 > 1\n"
KLEENE = [
    ("T and T", "fired"),
    ("T and F", "not_met"),
    ("F and T", "not_met"),
    ("F and F", "not_met"),
    ("T and U", "unknown"),
    ("U and T", "unknown"),
    ("F and U", "not_met"),
    ("U and F", "not_met"),
    ("U and U", "unknown"),
    ("T or T", "fired"),
    ("T or F", "fired"),
    ("F or F", "not_met"),
    ("T or U", "fired"),
    ("U or T", "fired"),
    ("F or U", "unknown"),
    ("U or F", "unknown"),
    ("U or U", "unknown"),
    ("not T", "not_met"),
    ("not F", "fired"),
    ("not U", "unknown"),
    ("not (U and F)", "fired"),
    ("not (U or T)", "not_met"),
    ("(U or T) and not (F and U)", "fired"),
    ("T == T", "fired"),
    ("T != F", "fired"),
    ("U == T", "unknown"),
]


@pytest.mark.parametrize(("condition", "status"), KLEENE, ids=[k[0] for k in KLEENE])
@pytest.mark.parametrize("trace", [True, False], ids=["traced", "fast"])
def test_kleene(condition: str, status: str, trace: bool) -> None:
    b = book(KLEENE_DEFINES + f'rule r\n  when {condition} then alert "x"\n')
    d = decision(b.evaluate(state(), trace=trace), "r")
    assert d.status == status
    if status == "unknown":
        assert d.reason == "VIX futures month 9 is not in the state"


UNLESS = [
    ("T", "blocked"),
    ("F", "fired"),
    ("U", "fired"),
    ("T and U", "fired"),
    ("T or U", "blocked"),
]


@pytest.mark.parametrize(("unless", "status"), UNLESS, ids=[u[0] for u in UNLESS])
@pytest.mark.parametrize("trace", [True, False], ids=["traced", "fast"])
def test_unless_blocks_only_when_true(unless: str, status: str, trace: bool) -> None:
    b = book(KLEENE_DEFINES + f'rule r\n  when T then alert "x"\n  unless {unless}\n')
    d = decision(b.evaluate(state(), trace=trace), "r")
    assert d.status == status
    if status == "blocked":
        assert d.reason == "its `unless` condition holds" and d.actions == ()


# ------------------------------------------------------------------- unknowns

FLAT_AND_MISSING = (
    'rule near_expiry\n  when DTE < 2 then alert "x"\n'
    'rule pnl\n  when condor.pnl > $0 then alert "x"\n'
    'rule month4\n  when VIX.M4 > 20 then alert "x"\n'
    'rule hedge_expiry\n  when hedge.DTE < 3 then alert "x"\n'
    'rule flat\n  when condor.count == 0 and hedge.layers == 0 then alert "x"\n'
    'rule slope\n  when VIX.term_slope < 0 then alert "x"\n'
)


def test_unknown_values_do_not_fire_and_say_why() -> None:
    flat = state(condors=[], hedges=[], market={"futures": [{"month": 2, "price": 20}]})
    ev = book(FLAT_AND_MISSING).evaluate(flat)
    got = {d.rule: (d.status, d.reason) for d in ev.decisions}
    assert got == {
        "near_expiry": ("unknown", "DTE is unknown: no condor is open"),
        "pnl": ("unknown", "condor.pnl is unknown: no condor is open"),
        "month4": ("unknown", "VIX futures month 4 is not in the state"),
        "hedge_expiry": ("unknown", "hedge.DTE is unknown: there is no hedge"),
        "flat": ("fired", None),  # counts are known (zero) when flat
        "slope": ("unknown", "VIX.term_slope needs VIX futures months 1 and 2"),
    }
    trace = decision(ev, "near_expiry").trace
    assert trace.value is None and trace.unknown == "DTE is unknown: no condor is open"
    assert trace.children[0].text == "DTE" and trace.children[0].unknown is not None


def test_division_by_zero_is_unknown() -> None:
    b = book('rule r\n  when VIX / (SPX - SPX) > 1 then alert "x"\n')
    d = decision(b.evaluate(state()), "r")
    assert (d.status, d.reason) == ("unknown", "VIX / (SPX - SPX) divides by zero")


def history(vix: list[float | None], spx: list[float | None] | None = None) -> dict[str, Any]:
    """Daily history ending the day before the base state's date."""
    n = len(vix)
    end = dt.date(2024, 3, 13)
    dates = [(end - dt.timedelta(days=n - 1 - i)).isoformat() for i in range(n)]
    series: dict[str, list[float | None]] = {"VIX": vix}
    if spx is not None:
        series["SPX"] = spx
    return {"dates": dates, "series": series}


def test_indicator_warm_up_is_unknown_with_a_reason() -> None:
    b = book('rule r\n  when SMA(VIX, 20) > 10 then alert "x"\n')
    d = decision(b.evaluate(state(history=history([20.0] * 5))), "r")
    assert d.status == "unknown"
    assert d.reason == "SMA(VIX, 20) is unknown: not enough history (6 observations)"
    d = decision(b.evaluate(state(history=history([20.0] * 19))), "r")
    assert d.status == "fired"  # 19 days of history + today = 20 observations


def test_indicator_without_any_history() -> None:
    b = book('rule r\n  when RSI(14) < 30 then alert "x"\n')
    d = decision(b.evaluate(state()), "r")
    assert (d.status, d.reason) == (
        "unknown",
        "RSI(14) is unknown: not enough history (1 observations)",
    )


def test_history_after_the_state_date_is_never_read() -> None:
    data = history([10.0, 10.0])
    data["dates"].append("2024-03-15")  # the day after the state's date
    data["series"]["VIX"].append(99.0)
    b = book('rule r\n  when SMA(VIX, 3) > 15 then alert "x"\n')
    d = decision(b.evaluate(state(history=data)), "r")
    # (10 + 10 + 23.4) / 3 = 14.47 from the past and today; 99 is tomorrow
    assert d.status == "not_met"
    assert d.trace.children[0].value == pytest.approx((10 + 10 + 23.4) / 3)


def test_abs_min_max_use_todays_values_without_history() -> None:
    b = book(
        'rule r\n  when abs(book.gamma) > $50 and min(condor.pnl, $1000) > $500 then alert "x"\n'
    )
    d = decision(b.evaluate(state()), "r")
    assert d.status == "fired"
    kids = d.trace.children
    assert [k.value for k in kids[0].children] == [62.0, 50.0]
    # pnl = (6.2 - 2.1) × 100 × 2 = 820
    assert kids[1].children[0].value == pytest.approx(820.0)


# --------------------------------------------------------------------- crosses

CROSSES = (
    'rule up\n  when VIX crosses above 22 then alert "up"\n'
    'rule down\n  when VIX crosses below 22 then alert "down"\n'
    'rule sma\n  when VIX crosses above SMA(VIX, 2) then alert "sma"\n'
)


@pytest.mark.parametrize(
    ("past", "today", "expected"),
    [
        # prev 21 <= 22 < 23.4; SMA(VIX, 2) was 20.5 then 22.2, and VIX stayed above it
        ([20.0, 21.0], 23.4, {"up": "fired", "down": "not_met", "sma": "not_met"}),
        # from equal: prev 22 <= 22
        ([20.0, 22.0], 23.4, {"up": "fired", "down": "not_met", "sma": "not_met"}),
        # already above: prev 23 > 22
        ([20.0, 23.0], 23.4, {"up": "not_met", "down": "not_met", "sma": "not_met"}),
        # prev 24 >= 22 > 21; SMA 24.5 then 22.5, VIX stays below it
        ([25.0, 24.0], 21.0, {"up": "not_met", "down": "fired", "sma": "not_met"}),
        # already below: prev 21 < 22
        ([25.0, 21.0], 20.0, {"up": "not_met", "down": "not_met", "sma": "not_met"}),
        # SMA 21 then 21.7: VIX 20 <= 21 yesterday, 23.4 > 21.7 today
        ([22.0, 20.0], 23.4, {"up": "fired", "down": "not_met", "sma": "fired"}),
    ],
)
def test_crosses(past: list[float], today: float, expected: dict[str, str]) -> None:
    s = state(history=history(past), market={"VIX": today})
    assert statuses(book(CROSSES).evaluate(s)) == expected


def test_crosses_on_the_first_observation_or_a_gap_is_unknown() -> None:
    d = decision(book(CROSSES).evaluate(state()), "up")
    assert (d.status, d.reason) == (
        "unknown",
        "`crosses` needs a previous observation, and this is the first",
    )
    d = decision(book(CROSSES).evaluate(state(history=history([20.0, None]))), "up")
    assert d.status == "unknown"
    assert d.reason == "VIX is missing on 2024-03-13 (a gap in its inputs)"


# ------------------------------------------------------------------- actions


def test_action_arguments_are_resolved() -> None:
    b = book(
        "param entry_dte = 45 days\nparam budget = 2%\n"
        "rule r\n  when VIX > 1\n"
        "  then open iron condor near entry_dte short delta 0.16 wings 50 points\n"
        "  and buy VIX call spread 25/35 month 2 costing budget of equity\n"
        "  and roll condor to month 2\n"
        "  and buy (equity / $100000) VIX futures month 3\n"
        "  and shift 25% hedge from month 2 to month 3\n"
    )
    acts = decision(b.evaluate(state()), "r").actions
    assert [a.to_dict()["args"] for a in acts] == [
        {"quantity": 1, "near_days": 45.0, "short_delta": 0.16, "wings": 50.0},
        {"lower": 25.0, "upper": 35.0, "month": 2, "budget": 5000.0},
        {"keeping": "delta", "month": 2},
        {"side": "buy", "count": 2, "month": 3},  # 2.5 rounds down
        {"fraction": 0.25, "from_month": 2, "to_month": 3},
    ]


def test_unresolvable_action_arguments() -> None:
    b = book(
        "rule r\n  when VIX > 1\n"
        "  then buy (equity / $1000000) VIX futures month 2\n"
        "  and open iron condor month 1 short delta condor.delta + 1 wings VIX.M7\n"
    )
    acts = decision(b.evaluate(state()), "r").actions
    assert [(a.status, a.reason) for a in acts] == [
        ("unresolved", "count comes to 0.25, less than one contract"),
        ("unresolved", "VIX futures month 7 is not in the state"),
    ]


def test_disabled_rules_never_fire() -> None:
    ev = book(COOLDOWN).evaluate(state(), disabled=frozenset({"layer"}))
    d = decision(ev, "layer")
    assert (d.status, d.reason) == ("not_met", "disabled for this run")


# -------------------------------------------------------------- traces, JSON

STATES = [
    state(),
    state(condors=[], hedges=[]),
    state(market={"VIX": 12.0, "futures": []}),
    state(history=history([30.0, 25.0, 22.0]), market={"VIX": 21.0}),
    state(date="2024-03-20", last_fired={"layer_up": "2024-03-18"}),
]


def test_traced_and_untraced_agree_on_every_decision(shared_dir: Any, project_root: Any) -> None:
    paths = sorted((shared_dir / "rulebooks").glob("*.alvh"))
    paths += sorted((project_root / "rulebooks").glob("*.alvh"))
    texts = [KLEENE_DEFINES + 'rule r\n  when (U or T) and not F then alert "x"\n', SUPERSEDE]
    books = [load(p) for p in paths] + [book(t) for t in texts]
    assert len(books) >= 5
    for b in books:
        for s in STATES:
            traced = b.evaluate(s, trace=True)
            fast = b.evaluate(s, trace=False)
            assert untraced_view(traced) == untraced_view(fast), b.name
            assert all(d.trace is None for d in fast.decisions)
            assert all(d.trace is not None for d in traced.decisions)


def test_decisions_as_json() -> None:
    b = book(
        'rule r "Title" priority 3\n  when condor.pnl >= 50% of condor.credit\n'
        '  then close condor and alert "x"\n  unless VIX > 40\n'
    )
    doc = json.loads(json.dumps(b.evaluate(state()).to_dict()))
    assert doc["date"] == "2024-03-14"
    (d,) = doc["decisions"]
    assert {k: d[k] for k in ("rule", "title", "priority", "status")} == {
        "rule": "r",
        "title": "Title",
        "priority": 3,
        "status": "fired",
    }
    assert d["actions"] == [
        {"kind": "close", "text": "close condor", "args": {"target": "condor", "fraction": 1.0},
         "status": "apply"},
        {"kind": "alert", "text": 'alert "x"', "args": {"message": "x"}, "status": "apply"},
    ]  # fmt: skip
    # credit = 6.2 × 100 × 2 = 1240; 50% of it = 620; pnl = (6.2 - 2.1) × 200 = 820
    assert d["trace"] == {
        "expr": "condor.pnl >= 50% of condor.credit",
        "value": True,
        "children": [
            {"expr": "condor.pnl", "value": 820.0, "unit": "dollars"},
            {
                "expr": "50% of condor.credit",
                "value": 620.0,
                "unit": "dollars",
                "children": [
                    {"expr": "50%", "value": 0.5, "unit": "percent"},
                    {"expr": "condor.credit", "value": 1240.0, "unit": "dollars"},
                ],
            },
        ],
    }
    assert d["unless_trace"]["value"] is False


def test_near_miss_names_the_one_failing_conjunct() -> None:
    b = book('rule r\n  when VIX > 20 and SPX > 6000 and DTE < 5 then alert "x"\n')
    d = decision(b.evaluate(state()), "r")
    assert (d.status, d.near_miss) == ("not_met", "SPX > 6000")
    b = book('rule r\n  when VIX > 30 and SPX > 6000 then alert "x"\n')
    assert decision(b.evaluate(state()), "r").near_miss is None


# --------------------------------------------------------------------- params


def test_param_overrides_change_decisions() -> None:
    text = (
        "param roll_dte = 7 days\nrule roll_it\n  when condor.DTE <= roll_dte then close condor\n"
    )
    assert decision(book(text).evaluate(state()), "roll_it").status == "fired"  # DTE is 1
    late = book(text, {"roll_dte": "0"})
    assert decision(late.evaluate(state()), "roll_it").status == "not_met"
    assert late.params["roll_dte"].value == 0


def test_load_refuses_a_book_with_errors() -> None:
    with pytest.raises(RulebookError) as info:
        book("rule r\n  when condor.detla > 1 then close condor\n")
    assert [d.code for d in info.value.diagnostics] == ["E101"]
    with pytest.raises(RulebookError):
        book("param p = 1\nrule r\n  when VIX > p then close condor\n", {"p": "3d"})


def test_the_example_state_against_the_core_book(shared_dir: Any, project_root: Any) -> None:
    from alvh_dsl.lang.state import load_state

    s = load_state(project_root / "examples" / "state_near_expiry.json")
    ev = load(shared_dir / "rulebooks" / "alvh_core.alvh").evaluate(s)
    assert statuses(ev) == {
        "stop_loss": "not_met",
        "roll_forward": "fired",
        "layer_up": "cooling_down",
        "open_condor": "not_met",
        "migrate": "not_met",
        "take_profit": "fired",
    }
    assert decision(ev, "take_profit").actions[0].superseded_by == "roll_forward"


def test_an_indicator_whose_input_series_is_missing_says_so() -> None:
    b = book(
        'rule breadth\n  when ADLINE < SMA(ADLINE, 2) then alert "x"\n'
        'rule vvix\n  when SMA(VVIX, 2) > 90 then alert "x"\n'
        'rule vvix_cross\n  when VIX crosses above VVIX then alert "x"\n'
        'rule enough\n  when SMA(VIX, 2) > 1 then alert "x"\n'
    )
    no_vvix = state(history=history([20.0, 21.0]), market={"VVIX": None})
    got = {d.rule: (d.status, d.reason) for d in b.evaluate(no_vvix).decisions}
    assert got == {
        "breadth": (
            "unknown",
            "ADLINE is unknown: the history has no values for `advances`, `declines`",
        ),
        "vvix": ("unknown", "SMA(VVIX, 2) is unknown: the history has no values for `VVIX`"),
        "vvix_cross": ("unknown", "VVIX is unknown: the history has no values for `VVIX`"),
        "enough": ("fired", None),
    }
    # with breadth data, ADLINE is a value again
    data = history([20.0, 21.0])
    data["series"].update({"advances": [300.0, 100.0], "declines": [200.0, 250.0]})
    d = decision(b.evaluate(state(history=data)), "breadth")
    # ADLINE: 100, then 100 + (100 - 250) = -50; today has no breadth, so it is a gap
    assert d.status == "unknown"
    assert d.reason == "ADLINE is missing on 2024-03-14 (a gap in its inputs)"


# ------------------------------------------------------- the series backend


def _heavy_modules_after(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; the heavy packages it imported."""
    script = (
        "import sys\n"
        f"{code}\n"
        "import json\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('numpy', 'pandas')]\n"
        "print(json.dumps(sorted(heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    heavy: list[str] = json.loads(done.stdout.splitlines()[-1])
    return heavy


def test_the_language_imports_no_numpy(project_root: Path) -> None:
    modules = sorted(p.stem for p in (project_root / "alvh_dsl" / "lang").glob("*.py"))
    assert "compiler" in modules and "evaluate" in modules
    code = "\n".join(f"import alvh_dsl.lang.{m}" for m in modules)
    assert _heavy_modules_after(code) == []


def test_a_book_without_history_evaluates_without_numpy(project_root: Path) -> None:
    code = (
        "import alvh_dsl\n"
        "from alvh_dsl.lang.state import load_state\n"
        f"book = alvh_dsl.load({str(project_root / 'rulebooks' / 'alvh_core.alvh')!r})\n"
        f"state = load_state({str(project_root / 'examples' / 'state_near_expiry.json')!r})\n"
        "assert book.evaluate(state).fired and not book.uses_history\n"
    )
    assert _heavy_modules_after(code) == []


def test_a_book_with_history_loads_the_numpy_backend() -> None:
    code = (
        "import alvh_dsl\n"
        "text = 'rule r\\n  when VIX > SMA(VIX, 2) then alert \"x\"\\n'\n"
        "book = alvh_dsl.load('t.alvh', text=text)\n"
        "assert book.uses_history\n"
    )
    assert "numpy" in _heavy_modules_after(code)


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ('rule r\n  when VIX > SMA(VIX, 20) then alert "x"\n', "SMA(VIX, 20)"),
        ('define d = MACD.signal\nrule r\n  when d > 0 then alert "x"\n', "MACD.signal"),
        ('rule r\n  when VIX crosses above 20 then alert "x"\n', "VIX crosses above 20"),
    ],
)
def test_a_book_with_history_needs_a_series_backend(text: str, written: str) -> None:
    program = load_checked("t.alvh", text=text)
    assert not has_errors(program.diagnostics)
    assert reads_history(program)
    with pytest.raises(NoSeriesBackend) as info:
        compile_program(program)
    message = str(info.value)
    assert f"`{written}` reads market history" in message
    assert "without a series backend" in message and "alvh_dsl.series.BACKEND" in message
    assert message.startswith("t.alvh:")
    assert compile_program(program, series=BACKEND).uses_history


def test_reads_history_agrees_with_the_compiler(project_root: Path) -> None:
    paths = sorted((project_root / "rulebooks").glob("*.alvh"))
    paths += sorted((project_root / "tests" / "golden" / "books").glob("*.alvh"))
    seen = {False: 0, True: 0}
    for path in paths:
        program = load_checked(str(path))
        if has_errors(program.diagnostics):
            continue
        needs = reads_history(program)
        assert compile_program(program, series=BACKEND).uses_history == needs, path
        seen[needs] += 1
    assert seen[False] and seen[True]  # both kinds are covered
