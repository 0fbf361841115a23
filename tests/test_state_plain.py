"""The dry-run's per-day snapshot (PlainState) answers every name as the State model does.

The loop hands the evaluator plain objects instead of a pydantic State each day; a
``--dump-state`` file and ``alvh eval --state`` use the model. The two must hold the same
fields and give the same value, of the same type, for every name of the language.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from alvh_dsl.dryrun.book_state import Marks, rules_state
from alvh_dsl.dryrun.config import DryRunConfig
from alvh_dsl.dryrun.engine import build_market
from alvh_dsl.dryrun.simulate import Simulator
from alvh_dsl.lang import plain as P
from alvh_dsl.lang import state as S
from alvh_dsl.market.synth import default_history


def same(value: Any) -> Any:
    if isinstance(value, S.Unknown):
        return ("unknown", value.reason)
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return (type(value).__name__, value)


@pytest.mark.parametrize(
    ("plain", "model"),
    [
        (P.PlainState, S.State),
        (P.PlainMarket, S.Market),
        (P.PlainCondor, S.Condor),
        (P.PlainHedge, S.HedgeLayer),
        (P.PlainGreeks, S.Greeks),
        (P.PlainQuote, S.FutureQuote),
    ],
)
def test_a_plain_class_has_every_field_of_its_model(plain: type, model: Any) -> None:
    # A field may be a property over private slots (PlainMarket's futures, made when read).
    public = {name for name in plain.__slots__ if not name.startswith("_")}
    lazy = {name for name, v in vars(plain).items() if isinstance(v, property)}
    slots = public | lazy | ({"history"} if plain is P.PlainState else set())
    assert slots == set(model.model_fields)


def test_every_name_has_the_same_value_in_the_plain_state_and_the_model() -> None:
    market = build_market(default_history().between("2009-01-01", "2009-06-30"), DryRunConfig())
    sim = Simulator(market, DryRunConfig().costs, 250_000.0)
    marks = Marks(sim)
    last_fired: dict[str, Any] = {}
    checked = full = 0
    for day in range(len(market)):
        sim.settle(day)
        if day == 2:
            sim.open_condor(day, market.dates[40], 0.16, 50.0, 2, "r", "open")
            sim.open_condor(day, market.dates[70], 0.10, 25.0, 1, "r", "open")
        if day in (3, 30):
            sim.buy_call_spread(day, 2, 25.0, 35.0, 4, None, "r", "buy")
            sim.trade_future(day, 3, -2, "r", "sell")
        plain = rules_state(sim, day, marks.on(day), last_fired)
        model = plain.model()
        # The model validates as a state file would (it is what --dump-state writes).
        reread = S.parse_state(model.model_dump_json())
        for name in S.GETTERS:
            want = same(S.GETTERS[name](model))
            assert same(S.GETTERS[name](plain)) == want, (day, name)
            # Read back from JSON, NumPy floats come back as floats: the same values.
            assert S.GETTERS[name](reread) == S.GETTERS[name](model), (day, name)
            checked += 1
        assert same(plain.front_condor() is None) == same(model.front_condor() is None)
        full += len(sim.condors) == 2 and len(sim.hedges) >= 2
    assert checked and full  # two condors and several hedge positions on some days


def test_a_days_futures_are_made_once_when_first_read() -> None:
    market = build_market(default_history().between("2009-01-01", "2009-03-31"), DryRunConfig())
    made: list[int] = []
    quotes = [P.PlainQuote(1, 20.0, None, False)]

    def make() -> list[P.PlainQuote]:
        made.append(1)
        return quotes

    lazy = P.PlainMarket(1000.0, 20.0, None, make)
    assert made == []
    assert lazy.futures is quotes and lazy.futures is quotes and made == [1]
    # The dry-run's market: each day's quotes are that day's row of the curve.
    day = market.plain_market(5)
    assert market.plain_market(5) is day  # shared by a book and its baseline
    want = [
        (k, p if math.isfinite(p) else None, e, m)
        for k, (p, e, m) in enumerate(
            zip(market.curve.price[5].tolist(), market.curve.expiry[5].tolist(),
                market.curve.modelled[5].tolist(), strict=True), 1,
        )
    ]  # fmt: skip
    got = [(q.month, q.price, q.expiry, q.modelled) for q in day.futures]
    assert [same(v) for row in got for v in row] == [same(v) for row in want for v in row]
