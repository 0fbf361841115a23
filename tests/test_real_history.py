"""The core book on the real 2004–2023 history: what the summary must carry (issue 8's
"Done when"), and that no reported gamma figure depends on the profile grid's step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alvh_dsl import api
from alvh_dsl.dryrun.config import DryRunConfig, RiskSection

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "rulebooks" / "alvh_core.alvh"


@pytest.fixture(scope="module")
def real(shared_dir: Path) -> Any:
    history = api.dryrun_history(shared_dir / "data" / "history_2004_2023.csv", gaps="keep")
    return history, api.dryrun(CORE, history=history)


def test_the_summary_answers_the_question(real: Any) -> None:
    _, result = real
    summary = result.summary
    scenario = summary["comparison"]["scenario"]
    head = next(m for m in scenario["moves"] if m["move"] == scenario["headline_move"])
    reduction = head["reduction"]["mean"]
    assert scenario["days"] == summary["book"]["near_expiry_days"] > 0
    assert reduction["n"] == scenario["days"] and reduction["resamples"] == 2000
    assert {"value", "low", "high"} <= set(reduction)
    assert scenario["finding"].startswith("On ")
    cost = summary["comparison"]["hedge_cost"]
    assert cost["premium_per_year"] is not None and cost["hedge_pnl_per_year"] is not None
    # The responses are fitted from this history, with their sample sizes.
    cal = summary["calibration"]
    for key in ("beta_down", "beta_up"):
        assert cal[key]["source"] == "fitted" and cal[key]["n"] > 1000
    assert all(f["source"] == "fitted" for f in cal["futures_response"][:8])
    assert 0.4 < cal["futures_response"][0]["value"] < 0.8  # not exp(−κτ) ≈ 0.94


def test_every_settlement_is_on_its_expiry_or_noted(real: Any) -> None:
    _, result = real
    notes = "\n".join(result.notes)
    for run in (result.run, result.baseline):
        for t in run.trades:
            if t["action"] == "settle" and t["date"] != t["expiry"]:
                assert t["position"] in notes and t["expiry"] in notes, t


def test_the_stress_windows_are_reported(real: Any) -> None:
    _, result = real
    names = [w["name"] for w in result.summary["stress_windows"]]
    assert len(names) == 6  # every built-in window lies inside 2004–2023
    assert all(w["baseline"] is not None for w in result.summary["stress_windows"])


def test_the_grid_step_moves_no_gamma_figure(real: Any) -> None:
    history, coarse = real
    risk = RiskSection(grid_step=0.0025)
    fine = api.dryrun(CORE, history=history, config=DryRunConfig(risk=risk))
    for run_a, run_b in ((coarse.run, fine.run), (coarse.baseline, fine.baseline)):
        for key, value in run_a.summary.items():
            if "gamma" in key and isinstance(value, float):
                other = run_b.summary[key]
                assert other == pytest.approx(value, rel=0.10), key
    a = np.array([r["eff_gamma_short"] for r in coarse.run.daily_rows])
    b = np.array([r["eff_gamma_short"] for r in fine.run.daily_rows])
    assert np.allclose(a, b, rtol=1e-9, atol=1e-12)
