"""Issue 8, "Bugs that change the numbers": each bug on a small hand-built history.

1. a whole-layer shift traded zero lots in the target month;
2. a position expiring in a gap of the history settled at the first row after the gap;
3. short legs filled below zero;
4. the loader dropped ``vix_open`` (tests/market/test_settlement_columns.py has the loader
   side);
5. ``hedge.layers`` counted positions, so migrating merged layers and a rule bounded by
   it kept buying.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alvh_dsl.api import dryrun
from alvh_dsl.dryrun.config import DryRunConfig
from alvh_dsl.dryrun.market_data import MarketData
from alvh_dsl.dryrun.result import DryRunResult
from alvh_dsl.dryrun.simulate import LEG_SIGNS, Simulator
from alvh_dsl.lang.state import GETTERS, State
from alvh_dsl.market.calendars import nth_expiries, trading_days
from alvh_dsl.market.history import History


def history(
    start: str = "2024-01-02",
    end: str = "2024-02-07",
    *,
    drop: tuple[str, str] | None = None,
    edit: Callable[[pd.DataFrame], None] | None = None,
    **columns: float,
) -> History:
    """A flat market (SPX 4000, VIX 20, futures 21/22/23 by month slot) on NYSE days,
    without the rows from ``drop[0]`` to ``drop[1]``; ``edit`` changes the frame (indexed
    by date) before it is validated."""
    days = trading_days(start, end)
    if drop is not None:
        days = days[(days < np.datetime64(drop[0])) | (days > np.datetime64(drop[1]))]
    data: dict[str, object] = {
        "spx_open": 4000.0,
        "spx_high": 4000.0,
        "spx_low": 4000.0,
        "spx": 4000.0,
        "vix": 20.0,
        "vvix": 90.0,
        "vx1": 21.0,
        "vx2": 22.0,
        "vx3": 23.0,
        "rate": 0.02,
        "dividend_yield": 0.015,
    }
    data.update(columns)
    frame = pd.DataFrame(data, index=pd.DatetimeIndex(pd.to_datetime(days), name="date"))
    for k in (1, 2, 3):
        frame[f"vx{k}_expiry"] = pd.to_datetime(nth_expiries(days, k, "vix"))
    if edit is not None:
        edit(frame)
    return History.from_frame(frame, source="hand-built")


def run(tmp_path: Path, text: str, hist: History, **kwargs: object) -> DryRunResult:
    path = tmp_path / "book.alvh"
    path.write_text(text)
    kwargs.setdefault("baseline", None)
    return dryrun(path, hist, **kwargs)  # type: ignore[arg-type]


def fired(result: DryRunResult, rule: str) -> list[dict[str, object]]:
    return [d for d in result.run.decisions if d["rule"] == rule and d["status"] == "fired"]


# ------------------------------------------------ 1. a whole-layer shift


SHIFT_BOOK = """\
rule seed
  when hedge.layers == 0
  then buy 1 VIX future month 1
rule migrate
  when hedge.M1.notional > 0 and hedge.DTE < 9
  then shift {share} hedge from month 1 to month 2
"""


@pytest.mark.parametrize("share", ["100%", "50%"])  # half of one lot rounds to the lot
def test_shifting_a_whole_layer_buys_the_same_notional_in_the_target_month(
    tmp_path: Path, share: str
) -> None:
    r = run(tmp_path, SHIFT_BOOK.format(share=share), history(end="2024-01-16"))
    (migration,) = fired(r, "migrate")  # 2024-01-09: 8 days before the 2024-01-17 expiry
    trades = r.trades[r.trades.action.str.startswith("shift")]
    # round(1 × F1 21 / F2 22) = 1 contract of the 2024-02-14 future, bought, not 0.
    assert trades[["expiry", "quantity"]].values.tolist() == [
        ["2024-01-17", -1],
        ["2024-02-14", 1],
    ]
    assert "bought 1 VIX future(s) 2024-02-14" in migration["actions"][0]["fill"]  # type: ignore[index]
    # The hedge stayed on, so the seed rule had no reason to buy again.
    assert len(fired(r, "seed")) == 1
    assert (r.daily["layers"].iloc[1:] == 1).all()


# ------------------------------------ 2. expiries that fall in a gap of the history


def _after_gap(frame: pd.DataFrame) -> None:
    # The market moves while the history has no rows: SPX +15 %, VIX to 35.
    later = frame.index > pd.Timestamp("2024-02-20")
    for column in ("spx_open", "spx_high", "spx_low", "spx"):
        frame.loc[later, column] = 4600.0
    frame.loc[later, "vix"] = 35.0


GAP = ("2024-02-12", "2024-02-20")  # VIX expires 2024-02-14, SPX 2024-02-16
GAP_BOOK = """\
rule opener
  when condor.count == 0
  then open iron condor month 2 short delta 0.16 wings 50 points and buy 2 VIX futures month 2
  cooldown 365 days
"""


def test_an_expiry_inside_a_gap_settles_at_the_last_close_before_it(tmp_path: Path) -> None:
    hist = history(end="2024-03-01", drop=GAP, edit=_after_gap)
    r = run(tmp_path, GAP_BOOK, hist, baseline="no-hedge")
    settle = r.trades[r.trades.action == "settle"]
    # Booked on the first row after the gap, at the prices of 2024-02-09: SPX 4000 leaves
    # every leg of the condor worthless (at 4600 its call side lost the whole wing).
    assert set(settle.date) == {"2024-02-21"}
    condor = settle[settle.instrument.str.startswith("SPX")]
    assert (condor.fill == 0).all() and (condor.cash_flow == 0).all()
    future = settle[settle.instrument == "VIX future"]
    assert future.fill.tolist() == [20.0]  # the VIX close of 2024-02-09, not 35
    late = r.run.late_settlements
    assert [(s["position"], s["kind"]) for s in late] == [("C1", "condor"), ("F2", "future")]
    for s, price in zip(late, (4000.0, 20.0), strict=True):
        assert (s["date_used"], s["price"], s["booked"]) == ("2024-02-09", price, "2024-02-21")
        assert s["source"] == "last close before expiry"
    assert late[0]["expiry"] == "2024-02-16" and late[1]["expiry"] == "2024-02-14"
    # Every one is in the report's notes, for the book and for the baseline.
    notes = [n for n in r.notes if "a day with no row in the history" in n]
    assert notes == [
        "book: C1 (condor) expiring 2024-02-16, a day with no row in the history, settled "
        "at SPX 4000.00 (last close before expiry, 2024-02-09), booked on 2024-02-21: 0.00",
        "book: F2 (future) expiring 2024-02-14, a day with no row in the history, settled "
        f"at VIX 20.00 (last close before expiry, 2024-02-09), booked on 2024-02-21: "
        f"{future.cash_flow.sum():,.2f}",
        "baseline: no hedge: C1 (condor) expiring 2024-02-16, a day with no row in the "
        "history, settled at SPX 4000.00 (last close before expiry, 2024-02-09), booked on "
        "2024-02-21: 0.00",
    ]


def test_the_run_directory_shows_the_late_settlements(tmp_path: Path) -> None:
    import json

    hist = history(end="2024-03-01", drop=GAP, edit=_after_gap)
    out = run(tmp_path, GAP_BOOK, hist).write(tmp_path / "run")
    notes = json.loads((out / "summary.json").read_text())["run"]["notes"]
    assert sum("a day with no row in the history" in n for n in notes) == 2
    assert "booked on 2024-02-21" in (out / "report.html").read_text()


def test_settlement_columns_give_the_exchange_settlement(tmp_path: Path) -> None:
    def settlements(frame: pd.DataFrame) -> None:
        _after_gap(frame)
        frame["spx_settlement"] = np.nan
        frame["vix_settlement"] = np.nan
        # Both expiries fell in the gap before 2024-02-21: their values go on that row.
        frame.loc["2024-02-21", ["spx_settlement", "vix_settlement"]] = (3700.0, 25.0)

    r = run(tmp_path, GAP_BOOK, history(end="2024-03-01", drop=GAP, edit=settlements))
    settle = r.trades[r.trades.action == "settle"]
    puts = settle[settle.instrument == "SPX put"]
    assert puts.fill.tolist() == [max(k - 3700.0, 0.0) for k in puts.strike]
    assert puts.fill.max() > 0  # the short put is in the money at 3700
    assert settle[settle.instrument == "VIX future"].fill.tolist() == [25.0]
    assert [(s["date_used"], s["price"], s["source"]) for s in r.run.late_settlements] == [
        ("2024-02-16", 3700.0, "spx_settlement column"),
        ("2024-02-14", 25.0, "vix_settlement column"),
    ]


def test_a_settlement_column_belongs_to_the_last_expiry_of_a_gap() -> None:
    # SPX expiries 2024-01-19 and 2024-02-16 both fall in this gap; 2024-02-21 can carry
    # only one settlement value: the later expiry's.
    def settlement(frame: pd.DataFrame) -> None:
        frame["spx_settlement"] = np.nan
        frame.loc["2024-02-21", "spx_settlement"] = 4100.0

    hist = history(end="2024-02-23", drop=("2024-01-16", "2024-02-20"), edit=settlement)
    sim = Simulator(MarketData.build(hist), DryRunConfig().costs, 250_000.0)
    day = int(np.searchsorted(sim.market.dates, np.datetime64("2024-02-21")))
    later = sim.settlement_price(day, np.datetime64("2024-02-16"), "spx")
    earlier = sim.settlement_price(day, np.datetime64("2024-01-19"), "spx")
    assert later == (4100.0, np.datetime64("2024-02-16"), "spx_settlement column")
    assert earlier == (4000.0, np.datetime64("2024-01-12"), "last close before expiry")


def test_an_on_time_expiry_uses_its_settlement_column_else_the_open(tmp_path: Path) -> None:
    book = "rule buyer\n  when hedge.layers == 0\n  then buy 1 VIX future month 1\n"
    book += "  cooldown 365 days\n"

    def settlement(frame: pd.DataFrame) -> None:
        frame["vix_settlement"] = np.nan
        frame.loc["2024-01-17", "vix_settlement"] = 18.25

    end = "2024-01-18"
    with_column = run(tmp_path, book, history(end=end, vix_open=19.5, edit=settlement))
    with_open = run(tmp_path, book, history(end=end, vix_open=19.5))
    for r, price in ((with_column, 18.25), (with_open, 19.5)):
        settle = r.trades[r.trades.action == "settle"]
        assert settle[["date", "fill"]].values.tolist() == [["2024-01-17", price]]
        assert r.run.late_settlements == []


# --------------------------------------------------- 3. fills never below zero


def test_a_call_spreads_short_leg_never_fills_below_zero(tmp_path: Path) -> None:
    # VIX 12, futures 13: the 35 call is worth a fraction of the 0.02 slippage.
    calm = history(end="2024-01-10", vix=12.0, vx1=13.0, vx2=13.5, vx3=14.0)
    book = "rule layer\n  when hedge.layers == 0\n  then buy 10 VIX call spread 25/35 month 1\n"
    r = run(tmp_path, book, calm)
    legs = r.trades[r.trades.instrument == "VIX call"]
    long, short = legs.iloc[0], legs.iloc[1]
    assert short.mid < 0.02
    assert short.fill == 0.0 and (r.trades.fill >= 0).all()
    debit = long.fill - short.fill
    assert f"for {debit:.2f}" in fired(r, "layer")[0]["actions"][0]["fill"]  # type: ignore[index]
    assert short.cash_flow == pytest.approx(-short.commission)  # nothing received
    # The position's entry price is the debit actually paid.
    assert r.run.trades[0]["cash_flow"] + r.run.trades[1]["cash_flow"] == pytest.approx(
        -debit * 100 * 10 - 2 * 0.65 * 10, abs=0.011
    )


def test_a_condors_short_leg_never_fills_below_zero_and_the_credit_is_the_fills() -> None:
    market = MarketData.build(history())
    sim = Simulator(market, DryRunConfig().costs, 250_000.0)
    # The put side is far out of the money (its short mid is below the 0.05 slippage);
    # the call side at the money carries the credit.
    fill = sim.open_condor(
        0, np.datetime64("2024-01-19"), 0.16, 50.0, 1, "r", "open",
        strikes=(3000.0, 3050.0, 4000.0, 4050.0),
    )  # fmt: skip
    assert fill.done
    legs = pd.DataFrame(fill.trades)
    assert legs.mid.iloc[1] < 0.05
    assert (legs.fill >= 0).all() and legs.fill.iloc[1] == 0.0
    credit = -sum(s * f for s, f in zip(LEG_SIGNS, legs.fill, strict=True))
    assert sim.condors[0].credit == pytest.approx(credit, abs=1e-5)  # fills: 6 decimals
    assert f"for {credit:.2f} credit" in fill.summary


# ------------------------------------------------------- 4. vix_open is read


def test_vix_expiries_settle_at_the_vix_open_of_a_history_that_has_it(tmp_path: Path) -> None:
    book = "rule buyer\n  when hedge.layers == 0\n  then buy 1 VIX future month 1\n"
    book += "  cooldown 365 days\n"
    path = tmp_path / "h.csv"
    frame = history(end="2024-01-18", vix_open=19.5).frame
    frame.reset_index().to_csv(path, index=False, date_format="%Y-%m-%d")
    r = run(tmp_path, book, path)  # loaded from the file, as `alvh dryrun --history` does
    assert not any("ignored unknown column" in n for n in r.history_provenance.notes)
    assert not any("no VIX open" in n for n in r.notes)
    settle = r.trades[r.trades.action == "settle"]
    assert settle.fill.tolist() == [19.5]  # not the close, 20


# --------------------------------------------- 5. hedge.layers bounds the hedge


STRESSED_BOOK = """\
rule layer_up "Add a VIX layer under stress"
  when VIX > 22 and hedge.layers < 3
  then buy VIX call spread 25/35 month 2 costing 1% of equity
  cooldown 5 days
rule migrate
  when hedge.M1.notional > 0 and hedge.DTE < 9
  then shift 100% hedge from month 1 to month 2
"""


def test_migrating_layers_keeps_at_most_three(tmp_path: Path) -> None:
    # Stressed every day for five months; each month the hedge migrates out of month 1.
    stressed = history(end="2024-06-28", vix=30.0, vx1=31.0, vx2=32.0, vx3=33.0)
    r = run(tmp_path, STRESSED_BOOK, stressed)
    assert len(fired(r, "migrate")) >= 4
    # Three decisions, then no more (before the fix: 13, each migration merging the
    # layers into one, until 900 spreads in the longer run).
    bought = r.trades[(r.trades.rule == "layer_up") & (r.trades.quantity > 0)]
    assert len(bought) == 3
    assert r.daily["layers"].max() == 3
    assert bought.layer.tolist() == ["L1", "L2", "L3"]
    # A shift moves the same notional: no trade grows a layer past what it bought.
    calls = r.trades[r.trades.instrument == "VIX call"]
    assert calls.quantity.abs().max() <= bought.quantity.max()
    assert set(calls.layer) == {"L1", "L2", "L3"}


def test_a_partial_shift_leaves_one_layer_in_two_months(tmp_path: Path) -> None:
    book = SHIFT_BOOK.replace("buy 1", "buy 4").format(share="50%")
    r = run(tmp_path, book, history(end="2024-01-10"), capture=[dt.date(2024, 1, 10)])
    shift = r.trades[r.trades.action.str.startswith("shift")]
    assert shift[["date", "position", "layer", "quantity"]].values.tolist() == [
        ["2024-01-09", "F1", "L1", -2],
        ["2024-01-09", "F2", "L1", 2],  # a new position in month 2, in the same layer
        ["2024-01-10", "F1", "L1", -1],
        ["2024-01-10", "F2", "L1", 1],  # and the next half joins it
    ]
    state = r.run.states[dt.date(2024, 1, 10)]  # as the rules saw it, before that shift
    assert [(h.id, h.layer, h.quantity) for h in state.hedges] == [("F1", "L1", 2), ("F2", "L1", 2)]
    assert GETTERS["hedge.layers"](state) == 1.0
    assert r.daily["layers"].iloc[-1] == 1


def _state(*hedges: dict[str, object]) -> State:
    return State.model_validate(
        {"date": "2024-01-10", "market": {"SPX": 4000, "VIX": 20}, "equity": 1, "hedges": hedges}
    )


def test_hedge_layers_counts_distinct_layers_of_a_hand_written_state() -> None:
    def future(**extra: object) -> dict[str, object]:
        return {"kind": "future", "quantity": 1, "month": 1, "entry_price": 20, **extra}

    together = _state(future(id="F1", layer="L1"), future(id="F2", layer="L1", month=2))
    assert GETTERS["hedge.layers"](together) == 1.0
    # Without a layer each entry is a layer of its own, as before.
    assert GETTERS["hedge.layers"](_state(future(), future(), future(id="F3"))) == 3.0
