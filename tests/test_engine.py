"""The dry-run engine: a hand-checked scenario leg by leg, reconciliation, determinism,
baseline, action semantics and config."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alvh_dsl.api import dryrun
from alvh_dsl.dryrun.config import DryRunConfig, load_config
from alvh_dsl.errors import ConfigError
from alvh_dsl.market.calendars import nth_expiries, trading_days
from alvh_dsl.market.history import History
from alvh_dsl.market.pricing import bsm

BOOKS = Path(__file__).parent / "books"
ROOT = Path(__file__).resolve().parents[1]


def flat_history(start: str = "2024-01-02", end: str = "2024-02-07", **columns: float) -> History:
    """A market that never moves: SPX 4000, VIX 20, futures 21/22/23 by month slot."""
    days = trading_days(start, end)
    data = {
        "date": pd.to_datetime(days),
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
    frame = pd.DataFrame(data)
    for k in (1, 2, 3):
        frame[f"vx{k}_expiry"] = pd.to_datetime(nth_expiries(days, k, "vix"))
    return History.from_frame(frame, source="flat")


def _mid(strike: float, call: bool, dte: int) -> float:
    return float(bsm(4000.0, strike, dte / 365.0, 0.20, 0.02, 0.015, call=call).price)


@pytest.fixture(scope="module")
def scenario() -> object:
    return dryrun(BOOKS / "scenario.alvh", flat_history(), baseline=None)


# ------------------------------------------------------------- the scenario


def test_scenario_opens_the_condor_leg_by_leg(scenario: object) -> None:
    trades = scenario.trades  # type: ignore[attr-defined]
    opening = trades[(trades.date == "2024-01-02") & trades.instrument.str.startswith("SPX")]
    # Month 1 on 2024-01-02 is the 2024-01-19 expiry: 17 days. 16-delta shorts on a
    # 5-point grid at SPX 4000, VIX 20, r 2%, q 1.5%; wings 50 points.
    assert list(opening.expiry) == ["2024-01-19"] * 4
    assert list(opening.strike) == [3785.0, 3835.0, 4180.0, 4230.0]
    assert list(opening.quantity) == [2, -2, -2, 2]
    # The short strikes are the grid strikes whose delta is nearest 0.16.
    put_delta = lambda k: abs(float(bsm(4000, k, 17 / 365, 0.2, 0.02, 0.015, call=False).delta))  # noqa: E731
    assert abs(put_delta(3835) - 0.16) < min(
        abs(put_delta(3830) - 0.16), abs(put_delta(3840) - 0.16)
    )
    for row in opening.itertuples():
        call = row.instrument == "SPX call"
        mid = _mid(row.strike, call, 17)
        sign = 1 if row.quantity > 0 else -1  # bought above mid, sold below
        assert row.mid == pytest.approx(mid, abs=1e-6)
        assert row.fill == pytest.approx(mid + sign * 0.05, abs=1e-6)
        assert row.commission == pytest.approx(0.65 * 2)
        assert row.cash_flow == pytest.approx(-row.fill * 100 * row.quantity - 1.3, abs=0.01)
    hedge = trades[(trades.date == "2024-01-02") & (trades.instrument == "VIX future")]
    assert hedge.iloc[0][["expiry", "quantity", "mid", "fill", "cash_flow"]].tolist() == [
        "2024-01-17",
        4,
        21.0,
        21.02,
        -6.0,  # futures: no premium, commission 4 × $1.50
    ]


def test_scenario_rolls_at_7_dte_as_one_close_and_open(scenario: object) -> None:
    trades = scenario.trades  # type: ignore[attr-defined]
    roll = trades[trades.action == "roll condor to month 2 keeping delta"]
    assert set(roll.date) == {"2024-01-12"}  # 2024-01-19 minus 7 days
    assert roll.trade_id.nunique() == 1
    closing, opening = roll[roll.expiry == "2024-01-19"], roll[roll.expiry == "2024-02-16"]
    assert list(closing.quantity) == [-2, 2, 2, -2]
    for row in closing.itertuples():
        mid = _mid(row.strike, row.instrument == "SPX call", 7)
        sign = 1 if row.quantity > 0 else -1
        assert row.fill == pytest.approx(max(mid + sign * 0.05, 0.0), abs=1e-6)
    # Keeping delta: new 16-delta shorts, 35 days out, same 50-point wings, same size.
    assert list(opening.strike) == [3720.0, 3770.0, 4265.0, 4315.0]
    assert list(opening.quantity) == [2, -2, -2, 2]
    for row in opening.itertuples():
        assert row.mid == pytest.approx(
            _mid(row.strike, row.instrument == "SPX call", 35), abs=1e-6
        )
    decision = next(
        d
        for d in scenario.run.decisions
        if d["rule"] == "roll_forward"  # type: ignore[attr-defined]
    )
    net = roll.cash_flow.sum()
    assert f"net credit ${net:,.2f}" in decision["actions"][0]["fill"]


def test_scenario_shifts_half_the_hedge_to_month_2(scenario: object) -> None:
    trades = scenario.trades  # type: ignore[attr-defined]
    shift = trades[trades.action == "shift 50% hedge to month 2"]
    # The front VIX month expires 2024-01-17: hedge.DTE is 1 (< 2) on 2024-01-16.
    assert set(shift.date) == {"2024-01-16"}
    sold, bought = shift.iloc[0], shift.iloc[1]
    assert (sold.expiry, sold.quantity, sold.fill) == ("2024-01-17", -2, 20.98)
    # Realised (20.98 − 21.02) × $1,000 × 2, minus 2 × $1.50.
    assert sold.cash_flow == pytest.approx(-80.0 - 3.0)
    # The same notional in month 2: round(2 × 21 / 22) = 2 contracts.
    assert (bought.expiry, bought.quantity, bought.fill, bought.cash_flow) == (
        "2024-02-14", 2, 22.02, -3.0,
    )  # fmt: skip
    settle = trades[trades.action == "settle"]
    assert settle[["date", "quantity", "fill", "cash_flow"]].values.tolist() == [
        ["2024-01-17", -2, 20.0, -2040.0]  # the other half settles at VIX: (20 − 21.02) × 2000
    ]


def test_scenario_cash_and_equity_reconcile_to_the_cent(scenario: object) -> None:
    _reconcile(scenario, 250_000.0)


def _reconcile(result: object, start: float) -> None:
    daily = result.daily  # type: ignore[attr-defined]
    trades = pd.DataFrame(result.trades)  # type: ignore[attr-defined]
    flows = trades.groupby("date")["cash_flow"].sum()
    dates = daily.index.strftime("%Y-%m-%d")
    cash = start + flows.reindex(dates, fill_value=0.0).cumsum().to_numpy()
    assert np.abs(np.round(cash, 2) - daily["cash"].to_numpy()).max() < 0.005
    marks = daily["cash"] + daily["condor_value"] + daily["hedge_value"]
    assert np.abs(marks - daily["equity"]).max() <= 0.011  # each column is rounded to the cent
    pnl = daily["equity"].diff().fillna(daily["equity"].iloc[0] - start)
    assert np.abs(pnl - daily["pnl"]).max() <= 0.011


# ----------------------------------------------------- a long synthetic run


@pytest.fixture(scope="module")
def core_run() -> object:
    return dryrun(ROOT / "rulebooks" / "alvh_core.alvh", start="2008-01-01", end="2011-12-31")


def test_core_run_reconciles_every_day(core_run: object) -> None:
    _reconcile(core_run, 250_000.0)
    _reconcile(core_run.baseline, 250_000.0)  # type: ignore[attr-defined]


def test_core_run_trades_are_consistent(core_run: object) -> None:
    trades = core_run.trades  # type: ignore[attr-defined]
    assert not trades.empty
    assert (trades.commission >= 0).all()
    assert (trades.fill >= 0).all()
    legs = trades[trades.instrument.str.startswith("SPX")]
    # Every SPX position opened is closed or settled by the end, or still open.
    net = legs.groupby(["position", "strike"])["quantity"].sum()
    open_positions = set(net[net != 0].index.get_level_values(0))
    assert len(open_positions) <= 1


def test_no_hedge_baseline_trades_no_vix_and_the_same_condors(core_run: object) -> None:
    base = core_run.baseline  # type: ignore[attr-defined]
    assert base is not None
    base_trades = pd.DataFrame(base.trades)
    assert not base_trades.instrument.str.startswith("VIX").any()
    # The core book's condor rules do not look at the hedge, so the condor trades match.
    book_spx = core_run.trades  # type: ignore[attr-defined]
    book_spx = book_spx[book_spx.instrument.str.startswith("SPX")]
    cols = ["date", "instrument", "strike", "expiry", "quantity", "fill"]
    assert (
        book_spx[cols]
        .reset_index(drop=True)
        .equals(
            base_trades[base_trades.instrument.str.startswith("SPX")][cols].reset_index(drop=True)
        )
    )
    disabled = [
        a for d in base.decisions if d["status"] == "fired" for a in d["actions"]
        if a["status"] == "disabled"
    ]  # fmt: skip
    assert disabled and all(a["kind"] in ("buy_call_spread", "shift_hedge") for a in disabled)


def test_runs_are_deterministic() -> None:
    kwargs = {"start": "2009-01-01", "end": "2009-12-31"}
    a = dryrun(ROOT / "rulebooks" / "alvh_core.alvh", **kwargs)
    b = dryrun(ROOT / "rulebooks" / "alvh_core.alvh", **kwargs)
    for attr in ("daily_rows", "trades", "decisions", "summary"):
        # daily_rows is a DailyRows (a sequence of dicts), not a list: json wants a list.
        x, y = getattr(a.run, attr), getattr(b.run, attr)
        if attr == "daily_rows":
            x, y = list(x), list(y)
        assert json.dumps(x, sort_keys=True) == json.dumps(y, sort_keys=True)


def test_summary_figures(core_run: object) -> None:
    s = core_run.summary  # type: ignore[attr-defined]
    book, cmp = s["book"], s["comparison"]
    assert book["days"] == len(core_run.daily)  # type: ignore[attr-defined]
    assert book["final_equity"] == pytest.approx(core_run.daily["equity"].iloc[-1])  # type: ignore[attr-defined]
    assert book["rolls"] == sum(
        1 for d in core_run.run.decisions if d["status"] == "fired"  # type: ignore[attr-defined]
        for a in d["actions"] if a["kind"] == "roll_condor" and a["status"] == "apply"
    )  # fmt: skip
    assert book["near_expiry_dte"] == 7
    # The headline pairs book and baseline on the same near-expiry days.
    scenario = cmp["scenario"]
    assert scenario["days"] == book["near_expiry_days"]
    assert [m["move"] for m in scenario["moves"]] == list(core_run.config.risk.scenario_moves)
    for move, mine in zip(scenario["moves"], book["near_expiry_scenario"], strict=True):
        assert move["book"] == {k: mine[k] for k in ("worst", "mean", "mean_loss", "cvar5")}
    assert set(book["rules_fired"]) == {
        "open_condor", "roll_forward", "migrate", "layer_up", "take_profit", "stop_loss"
    }  # fmt: skip


def test_decisions_carry_traces_and_near_misses(core_run: object) -> None:
    decisions = core_run.run.decisions  # type: ignore[attr-defined]
    fired = [d for d in decisions if d["status"] == "fired"]
    near = [d for d in decisions if d["status"] == "near_miss"]
    assert fired and near
    assert all("trace" in d and d["trace"]["value"] is True for d in fired)
    assert all(d["trace"]["value"] is not True for d in near)
    # A near miss names the one conjunct that failed, and it is false or unknown in the trace.
    for d in near[:50]:
        failing = [c for c in d["trace"]["children"] if c["value"] is not True]
        assert [c["expr"] for c in failing] == [d["near_miss"]]


# ------------------------------------------------------ action semantics


def _book(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "book.alvh"
    path.write_text(text)
    return path


def test_close_a_percentage_rounds_half_up(tmp_path: Path) -> None:
    book = _book(
        tmp_path,
        "rule opener\n  when condor.count == 0\n"
        "  then open iron condor month 2 short delta 0.16 wings 50 points quantity 3\n"
        "  cooldown 365 days\n"
        "rule trim\n  when condor.quantity == 3\n  then close 50% of condor\n",
    )
    r = dryrun(book, flat_history(), baseline=None)
    trim = r.trades[r.trades.rule == "trim"]
    assert list(trim.quantity.abs()) == [2, 2, 2, 2]  # 1.5 rounds half up to 2
    assert r.daily["condors"].iloc[-1] == 1


def test_selling_futures_reduces_a_long_layer_first(tmp_path: Path) -> None:
    book = _book(
        tmp_path,
        "rule buyer\n  when hedge.layers == 0\n  then buy 3 VIX futures month 2\n"
        "  cooldown 365 days\n"
        "rule seller\n  when hedge.M2.notional > 0 or hedge.M1.notional > 0\n"
        "  then sell 1 VIX future month 2\n  cooldown 365 days\n",
    )
    r = dryrun(book, flat_history(end="2024-01-10"), baseline=None)
    futures = r.trades[r.trades.instrument == "VIX future"]
    assert list(futures.quantity) == [3, -1]
    assert futures.position.nunique() == 1  # the sale reduced the existing layer
    assert r.daily["layers"].iloc[-1] == 1


def test_call_spread_costing_sizes_from_the_budget(tmp_path: Path) -> None:
    book = _book(
        tmp_path,
        "rule layer\n  when hedge.layers == 0\n"
        "  then buy VIX call spread 20/30 month 2 costing 1% of equity\n  cooldown 365 days\n"
        "rule tiny\n  when hedge.layers == 1\n"
        "  then buy VIX call spread 20/30 month 2 costing $1\n  cooldown 365 days\n",
    )
    r = dryrun(book, flat_history(end="2024-01-10"), baseline=None)
    longs = r.trades[(r.trades.instrument == "VIX call") & (r.trades.quantity > 0)]
    debit = longs.iloc[0].fill - r.trades.iloc[1].fill
    assert longs.iloc[0].quantity == math.floor(2500 // (debit * 100))
    tiny = next(d for d in r.run.decisions if d["rule"] == "tiny")
    assert tiny["actions"][0]["status"] == "unfilled"
    assert "buys no spread" in tiny["actions"][0]["fill"]


def test_unfilled_actions_do_not_start_a_cooldown(tmp_path: Path) -> None:
    book = _book(
        tmp_path,
        "rule tiny\n  when VIX > 0\n"
        "  then buy VIX call spread 20/30 month 2 costing $1\n  cooldown 365 days\n",
    )
    r = dryrun(book, flat_history(end="2024-01-10"), baseline=None)
    assert sum(d["rule"] == "tiny" for d in r.run.decisions) == len(r.daily)


# ------------------------------------------------------------------- config


def test_config_loads_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        "starting_equity = 100000\n[costs]\nspx_option_slippage = 0.1\n[risk]\nbeta_down = 5\n"
    )
    cfg = load_config(path)
    assert cfg.starting_equity == 100_000
    assert cfg.costs.spx_option_slippage == 0.1
    assert cfg.risk.beta_down == 5
    assert cfg.costs.vix_future_commission == DryRunConfig().costs.vix_future_commission


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("starting_equity = -5\n", "starting_equity"),
        ("[costs]\nspx_option_slipage = 0.1\n", "costs.spx_option_slipage"),
        ("[risk\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")):
        load_config(path)


def test_starting_equity_and_costs_change_the_result(tmp_path: Path) -> None:
    cheap = dryrun(BOOKS / "scenario.alvh", flat_history(), baseline=None)
    costly = dryrun(
        BOOKS / "scenario.alvh",
        flat_history(),
        DryRunConfig.model_validate({"costs": {"spx_option_slippage": 0.25}}),
        baseline=None,
    )
    extra = (0.25 - 0.05) * 100 * 2 * 4 * 3  # open, roll-close, roll-open: 4 legs × 2 each
    assert cheap.run.summary["total_pnl"] - costly.run.summary["total_pnl"] == pytest.approx(
        extra, abs=0.05
    )


def test_repeated_partial_shifts_do_not_multiply_layers(tmp_path: Path) -> None:
    # Half the front-month hedge moves every day of its last week: the moved halves
    # join one month-2 position of the same layer instead of opening a new one each
    # time, and the layer, now in two months, is still one layer.
    book = _book(
        tmp_path,
        "rule seed\n  when hedge.layers == 0\n  then buy 8 VIX futures month 1\n"
        "  cooldown 365 days\n"
        "rule migrate\n  when hedge.M1.notional > 0 and hedge.DTE < 9\n"
        "  then shift 50% hedge to month 2\n",
    )
    r = dryrun(book, flat_history(end="2024-01-16"), baseline=None)
    shifts = [d for d in r.run.decisions if d["rule"] == "migrate"]
    assert len(shifts) >= 3
    assert r.daily["layers"].max() == 1
    bought = r.trades[(r.trades.quantity > 0) & (r.trades.expiry == "2024-02-14")]
    assert bought.position.nunique() == 1
    _reconcile(r, 250_000.0)


def test_a_grid_that_misses_zero_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="span 0"):
        DryRunConfig.model_validate({"risk": {"grid_low": 0.01}})
    with pytest.raises(ValidationError, match="no move on one side"):
        DryRunConfig.model_validate({"risk": {"grid_step": 0.2}})


def test_implausible_equity_is_flagged_in_the_notes(tmp_path: Path) -> None:
    book = _book(
        tmp_path,
        "rule huge\n  when condor.count == 0\n"
        "  then open iron condor month 2 short delta 0.16 wings 50 quantity 1000000\n",
    )
    r = dryrun(book, flat_history(), baseline=None)
    assert any("not plausible" in n for n in r.notes)
    small = _book(
        tmp_path,
        "rule one\n  when condor.count == 0\n"
        "  then open iron condor month 2 short delta 0.16 wings 50\n",
    )
    assert not any("not plausible" in n for n in dryrun(small, flat_history(), baseline=None).notes)
