"""benchmarks/bench_language.py (c)'s hand-written core book gives the engine's outcomes.

The benchmark times ``Book.evaluate`` against that function (issue 11); the ratio means
something only while the function does the engine's work: every rule's status (Kleene
logic for unknown values included), the actions' arguments resolved, supersession and
cooldowns. The benchmark asserts it on the states it times; so does this test, and on
the cases a hand-written version gets wrong first.
"""

from __future__ import annotations

import importlib.util
import sys

from alvh_dsl.api import load

from .conftest import ROOT

_spec = importlib.util.spec_from_file_location(
    "bench_language", ROOT / "benchmarks" / "bench_language.py"
)
assert _spec is not None and _spec.loader is not None
bench_language = importlib.util.module_from_spec(_spec)
sys.modules["bench_language"] = bench_language
_spec.loader.exec_module(bench_language)

BOOK = load(ROOT / "rulebooks" / "alvh_core.alvh")


def test_handwritten_gives_the_engines_outcomes_on_every_timed_state() -> None:
    for state in bench_language.states():
        engine = bench_language.engine_outcomes(BOOK.evaluate(state, trace=False))
        assert bench_language.handwritten(state) == engine, state.date


def test_the_timed_states_cover_every_status_and_kleene_case() -> None:
    outcomes = [bench_language.handwritten(s) for s in bench_language.states()]
    statuses = {(rule, status) for o in outcomes for rule, status, _ in o}
    actions = {(rule, a[2]) for o in outcomes for rule, _, acts in o for a in acts}
    layer_up = [{r: st for r, st, _ in o}["layer_up"] for o in outcomes]
    # `stressed and hedge.layers < 3` with stressed unknown: unknown with room for a layer,
    # false (Kleene's `false and unknown`) with three layers (states 2 and 3).
    assert layer_up[2:4] == ["unknown", "not_met"]
    assert {"fired", "not_met", "unknown", "cooling_down"} <= {s for _, s in statuses}
    assert {("layer_up", "unresolved"), ("take_profit", "superseded"),
            ("roll_forward", "superseded"), ("migrate", "apply")} <= actions  # fmt: skip


def test_resolved_arguments_are_compared() -> None:
    """The budget of `costing hedge_budget of condor.credit` is computed, as the engine
    does: a hand-written function that left it out would not pass."""
    state = bench_language.states()[6]  # layer_up fires with a known credit
    (rule, status, (action,)) = bench_language.handwritten(state)[2]
    assert (rule, status) == ("layer_up", "fired")
    credit = state.condors[0].credit * 100 * state.condors[0].quantity
    assert action[1]["budget"] == 0.05 * credit
