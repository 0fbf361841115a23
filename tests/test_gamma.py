"""Effective gamma and scenario P&L: one-sided stencils that never cross the kink at m = 0,
converging as the stencil shrinks, independent of the profile grid; closed forms by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from alvh_dsl.dryrun.config import RiskSection
from alvh_dsl.dryrun.market_data import MarketData
from alvh_dsl.dryrun.moves import MoveSet, grid_risk
from alvh_dsl.dryrun.valuation import value_call_spread, value_condor, value_future
from alvh_dsl.market.calendars import nth_expiries, trading_days
from alvh_dsl.market.history import History
from alvh_dsl.market.pricing import bsm

SPX, VIX, F2 = 4000.0, 20.0, 22.0
EXPIRY_M2 = np.datetime64("2024-02-14")  # the VIX month-2 expiry seen from 2024-01-02


def _history(end: str = "2024-01-19") -> History:
    days = trading_days("2024-01-02", end)
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(days), "spx_open": SPX, "spx_high": SPX, "spx_low": SPX,
            "spx": SPX, "vix": VIX, "vvix": 90.0, "vx1": 21.0, "vx2": F2, "vx3": 23.0,
            "rate": 0.02, "dividend_yield": 0.015,
        }
    )  # fmt: skip
    for k in (1, 2, 3):
        frame[f"vx{k}_expiry"] = pd.to_datetime(nth_expiries(days, k, "vix"))
    return History.from_frame(frame, source="flat")


HISTORY = _history()


def _market(step: float = 0.001, **risk: object) -> MarketData:
    fixed = {"beta_down": 6.0, "beta_up": 3.0, "futures_dampening": [0.8, 0.6, 0.5]}
    fixed.update(risk)
    return MarketData.build(HISTORY, risk=RiskSection(gamma_step=step, **fixed))  # type: ignore[arg-type]


def _gammas(market: MarketData, valuation: object, row: int = 0) -> tuple[float, float]:
    values = valuation.grid[row]  # type: ignore[attr-defined]
    g = grid_risk(values, market.moves, float(market.spx[row]))
    return g.gamma_down, g.gamma_up


def _future(market: MarketData) -> object:
    return value_future(market, 0, EXPIRY_M2, F2)


def _condor(market: MarketData) -> object:
    # 12 days before the SPX January expiry, short strikes 1 % out: a near-expiry condor.
    return value_condor(market, 0, np.datetime64("2024-01-19"), (3860.0, 3960.0, 4040.0, 4140.0))


def _spread(market: MarketData) -> object:
    return value_call_spread(market, 0, EXPIRY_M2, 22.0, 30.0)


def test_a_future_matches_the_closed_form() -> None:
    # P(m) = $1,000 · (F·exp(−w·β·m) − entry): d²P/dS² at 0 from each side is
    # $1,000 · F · (w·β)² / S², with β = 6 below and 3 above, w = 0.6 for month 2.
    market = _market()
    down, up = _gammas(market, _future(market))
    # The stencil's truncation error is (11/12)·(w·β·h)² relative: 1.2e-5 below.
    assert down == pytest.approx(1000 * F2 * (0.6 * 6.0) ** 2 / SPX**2, rel=3e-5)
    assert up == pytest.approx(1000 * F2 * (0.6 * 3.0) ** 2 / SPX**2, rel=1e-5)


def test_a_linear_response_gives_a_future_no_gamma() -> None:
    market = _market(beta_down=0.0, beta_up=0.0)
    assert _gammas(market, _future(market)) == pytest.approx((0.0, 0.0), abs=1e-9)


def test_a_condor_without_vol_response_has_its_model_gamma() -> None:
    # With VIX fixed (β = 0) and no skew the path is plain BSM in S: Γ↓ = Γ↑ = Σ leg gammas.
    market = _market(beta_down=0.0, beta_up=0.0)
    down, up = _gammas(market, _condor(market))
    t = 17 / 365.0
    legs = [(3860.0, False, 1), (3960.0, False, -1), (4040.0, True, -1), (4140.0, True, 1)]
    exact = 100 * sum(
        sign * float(bsm(SPX, k, t, 0.20, 0.02, 0.015, call=call).gamma) for k, call, sign in legs
    )
    # O(h²) truncation at h = 0.1 % of SPX on a 17-day condor: about 0.1 %.
    assert down == pytest.approx(exact, rel=3e-3)
    assert up == pytest.approx(exact, rel=3e-3)


@pytest.mark.parametrize("make", [_future, _condor, _spread], ids=["future", "condor", "spread"])
def test_the_figures_converge_as_the_step_shrinks(make: object) -> None:
    steps = (0.004, 0.002, 0.001, 0.0005)
    figures = []
    for step in steps:
        market = _market(step)
        figures.append(_gammas(market, make(market)))  # type: ignore[operator]
    for side in (0, 1):
        values = [f[side] for f in figures]
        errors = [abs(v - values[-1]) for v in values[:-1]]
        # Second order: each halving of the step cuts the error about four times.
        assert errors[1] < errors[0] / 2.5 + 1e-12 and errors[2] < errors[1] / 2.5 + 1e-12
        assert abs(values[-2] - values[-1]) <= 0.01 * abs(values[-1]) + 1e-12


def test_a_centred_stencil_across_the_kink_would_blow_up() -> None:
    # What the one-sided stencils avoid: (P(h) − 2P(0) + P(−h)) / (hS)² grows as 1/h for a
    # future, because the slope jumps at m = 0 when β does.
    market = _market()
    v = _future(market).grid[0]  # type: ignore[attr-defined]
    moves = market.moves
    h = moves.step * SPX
    centred = (v[moves.up[1]] - 2 * v[moves.zero] + v[moves.down[1]]) / h**2
    down, up = _gammas(market, _future(market))
    assert centred > 20 * max(down, up)


def test_the_profile_grid_does_not_move_any_gamma_figure() -> None:
    coarse = _market(grid_step=0.01)
    fine = _market(grid_step=0.0025)
    for make in (_future, _condor, _spread):
        assert _gammas(coarse, make(coarse)) == pytest.approx(_gammas(fine, make(fine)), rel=1e-12)


def test_the_scenario_pnl_of_a_future_is_exact() -> None:
    market = _market()
    g = grid_risk(_future(market).grid[0], market.moves, SPX)  # type: ignore[attr-defined]
    for move, pnl in zip(market.moves.scenario_moves, g.scenario, strict=True):
        beta = 6.0 if move < 0 else 3.0
        assert pnl == pytest.approx(1000 * F2 * (math.exp(-0.6 * beta * move) - 1), rel=1e-12)


def test_short_and_long_gamma() -> None:
    market = _market()
    condor = grid_risk(_condor(market).grid[0], market.moves, SPX)  # type: ignore[attr-defined]
    assert condor.short > 0 and condor.long == 0
    assert condor.profile_min <= min(condor.gamma_down, condor.gamma_up)
    future = grid_risk(_future(market).grid[0], market.moves, SPX)  # type: ignore[attr-defined]
    assert future.short == 0 and future.long == pytest.approx(future.gamma_down)


def test_a_move_set_lays_out_each_move_once() -> None:
    moves = MoveSet.build((-0.1, -0.003, 0.05), 0.001, np.array([-0.01, 0.0, 0.01]))
    assert len(set(np.round(moves.moves, 12))) == len(moves.moves)
    assert moves.moves[moves.zero] == 0.0
    assert list(np.round(moves.moves[moves.down], 6)) == [0.0, -0.001, -0.002, -0.003]
    assert list(moves.moves[moves.scenario]) == [-0.1, -0.003, 0.05]
    assert moves.profile.shape == (2, 3)
