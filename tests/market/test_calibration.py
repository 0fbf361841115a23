"""Calibration of the dry-run's market responses: known answers, the pairing rules, the
fallbacks, and the defaults reproduced from the real shared history."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alvh_dsl.market.calendars import nth_expiries
from alvh_dsl.market.calibration import (
    DEFAULT_CALIBRATION,
    MIN_OBSERVATIONS,
    TRADING_DAYS_PER_YEAR,
    Calibration,
    Fit,
    calibrate,
    spot_vol_betas,
)
from alvh_dsl.market.history import History, load_history

MONTHS = 9


def _frame(n: int, seed: int = 0, start: str = "2012-01-03") -> pd.DataFrame:
    """``n`` business days of SPX and VIX with known betas (5 down, 3 up), no futures."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(start, periods=n, name="date")
    ret = 0.012 * rng.standard_normal(n)
    ret[0] = 0.0
    dvix = np.where(ret < 0, -5.0 * ret, -3.0 * ret) + 0.03 * rng.standard_normal(n)
    dvix[0] = 0.0
    return pd.DataFrame(
        {"spx": 2000.0 * np.exp(np.cumsum(ret)), "vix": 18.0 * np.exp(np.cumsum(dvix))},
        index=days,
    )


def _with_futures(frame: pd.DataFrame, seed: int = 1, vvix: bool = True) -> pd.DataFrame:
    """Futures slots that move ``w_k = 0.7 / k`` times VIX, plus noise, and jump on rolls."""
    rng = np.random.default_rng(seed)
    days = frame.index.to_numpy().astype("datetime64[D]")
    front = nth_expiries(days, 1, "vix")
    roll = np.concatenate([[False], front[1:] != front[:-1]])
    dvix = np.concatenate([[0.0], np.diff(np.log(frame["vix"].to_numpy()))])
    out = frame.copy()
    for k in range(1, MONTHS + 1):
        change = 0.7 / k * dvix + 0.01 * rng.standard_normal(len(days))
        # A roll replaces the contract in every slot: a jump no daily change explains.
        change[roll] += 0.5
        out[f"vx{k}"] = 20.0 * np.exp(np.cumsum(change))
    out["vx1_expiry"] = front.astype("datetime64[ns]")
    if vvix:
        out["vvix"] = 90.0 * np.exp(0.1 * rng.standard_normal(len(days)))
    return out


def _history(frame: pd.DataFrame) -> History:
    return History.from_frame(frame)


# ---------------------------------------------------------------- known answers


def test_betas_are_recovered_with_sample_sizes_and_errors() -> None:
    cal = calibrate(_history(_frame(3000)))
    down, up = cal.beta_down, cal.beta_up
    assert down.source == up.source == "fitted"
    assert abs(down.value - 5.0) < 3 * down.se  # type: ignore[operator]
    assert abs(up.value - 3.0) < 3 * up.se  # type: ignore[operator]
    assert 0.0 < down.se < 0.5 and 0.0 < up.se < 0.5  # type: ignore[operator]
    assert down.n + up.n == 2999 and down.sample == "down days"


@pytest.mark.parametrize("rows", [10, 3000])
def test_spot_vol_betas_are_calibrates_own(rows: int) -> None:
    # The betas alone (benchmarks/numpy_condor.py's risk columns): the same fits, to the
    # bit, fitted or defaulted alike, with futures columns present or not.
    for frame in (_frame(rows), _with_futures(_frame(rows))):
        cal = calibrate(_history(frame))
        assert spot_vol_betas(_history(frame)) == (cal.beta_down, cal.beta_up)
    assert spot_vol_betas(_history(_frame(3000, seed=5))) != (cal.beta_down, cal.beta_up)


def test_beta_standard_errors_cover_under_heteroskedastic_noise() -> None:
    # Noise that grows with |SPX return|, as VIX changes do in stress: the classical
    # OLS error is too small there, the robust one covers about 95 % of the time.
    rng = np.random.default_rng(11)
    covered, runs = 0, 120
    for _ in range(runs):
        n = 700
        ret = 0.012 * rng.standard_normal(n) * np.exp(0.8 * rng.standard_normal(n))
        dvix = -4.0 * ret + 4.0 * np.abs(ret) * rng.standard_normal(n)
        days = pd.bdate_range("2012-01-03", periods=n + 1, name="date")
        frame = pd.DataFrame(
            {
                "spx": 2000.0 * np.exp(np.concatenate([[0.0], np.cumsum(ret)])),
                "vix": 18.0 * np.exp(np.concatenate([[0.0], np.cumsum(dvix)])),
            },
            index=days,
        )
        fit = calibrate(_history(frame)).beta_down
        covered += abs(fit.value - 4.0) < 1.96 * fit.se  # type: ignore[operator]
    assert 0.88 <= covered / runs <= 0.99


def test_futures_responses_and_option_vols_are_recovered() -> None:
    frame = _with_futures(_frame(2500))
    cal = calibrate(_history(frame))
    for k in range(1, MONTHS + 1):
        w = cal.futures_response[k - 1]
        assert w.source == "fitted" and abs(w.value - 0.7 / k) < 4 * w.se  # type: ignore[operator]
    # The realised vol and the VVIX scale, recomputed by hand over same-contract pairs.
    days = frame.index.to_numpy().astype("datetime64[D]")
    front = frame["vx1_expiry"].to_numpy()
    same = front[1:] == front[:-1]
    change = np.diff(np.log(frame["vx2"].to_numpy()))[same]
    sigma = change.std(ddof=1) * np.sqrt(TRADING_DAYS_PER_YEAR)
    vol, scale = cal.option_vol[1], cal.option_vol_scale[1]
    assert vol.n == scale.n == same.sum() == len(days) - 1 - (~same).sum()
    assert vol.value == pytest.approx(sigma, rel=1e-12)
    level = frame["vvix"].to_numpy()[:-1][same].mean() / 100.0
    assert scale.value == pytest.approx(sigma / level, rel=1e-12)
    assert 0.0 < vol.se < 0.1 * vol.value and 0.0 < scale.se < 0.1 * scale.value  # type: ignore[operator]


# ------------------------------------------------------------------ pairing rules


def test_changes_across_a_gap_in_the_history_are_not_daily_changes() -> None:
    frame = _frame(1200)
    # Three weeks missing, across which SPX and VIX rose together: counted as one daily
    # change it would be a huge positive-beta outlier.
    kept = frame.drop(frame.index[600:615])
    kept.iloc[600:, kept.columns.get_loc("spx")] *= 1.25
    kept.iloc[600:, kept.columns.get_loc("vix")] *= 2.0
    cal = calibrate(_history(kept))
    assert cal.beta_down.n + cal.beta_up.n == len(kept) - 2
    assert abs(cal.beta_up.value - 3.0) < 3 * cal.beta_up.se  # type: ignore[operator]


def test_a_long_weekend_is_a_daily_change() -> None:
    frame = _frame(1000)
    # Friday to Tuesday (4 calendar days) over a Monday holiday.
    monday = next(i for i, d in enumerate(frame.index) if d.weekday() == 0 and i > 10)
    cal = calibrate(_history(frame.drop(frame.index[monday])))
    assert cal.beta_down.n + cal.beta_up.n == len(frame) - 2


def test_rolls_are_not_same_contract_changes() -> None:
    frame = _with_futures(_frame(1500))
    cal = calibrate(_history(frame))
    front = frame["vx1_expiry"].to_numpy()
    rolls = int((front[1:] != front[:-1]).sum())
    assert rolls > 60
    assert cal.futures_response[0].n == len(frame) - 1 - rolls
    # Without vx1_expiry the VIX calendar says when slots roll, to the same effect.
    again = calibrate(_history(frame.drop(columns="vx1_expiry")))
    assert again.futures_response[0] == cal.futures_response[0]


def test_missing_futures_prices_are_skipped() -> None:
    frame = _with_futures(_frame(1500))
    frame.iloc[100:400, frame.columns.get_loc("vx3")] = np.nan
    cal = calibrate(_history(frame))
    front = frame["vx1_expiry"].to_numpy()
    same = front[1:] == front[:-1]
    # Rows 100..399 missing: the pairs 99-100 .. 399-400 go.
    assert cal.futures_response[2].n == same.sum() - same[99:400].sum()
    assert abs(cal.futures_response[2].value - 0.7 / 3) < 4 * cal.futures_response[2].se  # type: ignore[operator]


# ------------------------------------------------------------------- fallbacks


def _assert_default(fit: Fit, default: Fit, reason: str) -> None:
    assert fit.source == "default" and fit.value == default.value
    assert fit.n == 0 and fit.se is None and reason in fit.reason


def test_ten_rows_give_the_defaults() -> None:
    cal = calibrate(_history(_with_futures(_frame(10))))
    d = DEFAULT_CALIBRATION
    _assert_default(cal.beta_down, d.beta_down, "fewer than")
    _assert_default(cal.beta_up, d.beta_up, "fewer than")
    for name in ("futures_response", "option_vol_scale", "option_vol"):
        for fit, default in zip(getattr(cal, name), getattr(d, name), strict=True):
            _assert_default(fit, default, "only")
    assert cal.responses.tolist() == d.responses.tolist()


def test_no_futures_and_no_vvix_give_default_responses_and_fitted_betas() -> None:
    cal = calibrate(_history(_frame(1500)))
    assert cal.beta_down.source == cal.beta_up.source == "fitted"
    for k in range(MONTHS):
        _assert_default(cal.futures_response[k], DEFAULT_CALIBRATION.futures_response[k], "no vx")
        _assert_default(cal.option_vol[k], DEFAULT_CALIBRATION.option_vol[k], f"no vx{k + 1}")


def test_without_vvix_only_the_scales_default() -> None:
    cal = calibrate(_history(_with_futures(_frame(1500), vvix=False)))
    for k in range(MONTHS):
        _assert_default(cal.option_vol_scale[k], DEFAULT_CALIBRATION.option_vol_scale[k], "vvix")
        assert cal.option_vol[k].source == cal.futures_response[k].source == "fitted"


def test_the_minimum_sample_is_the_boundary() -> None:
    # Only up days: the up beta has exactly n = len - 1 observations.
    for n, source in ((MIN_OBSERVATIONS, "fitted"), (MIN_OBSERVATIONS - 1, "default")):
        days = pd.bdate_range("2012-01-03", periods=n + 1, name="date")
        rng = np.random.default_rng(n)
        ret = np.concatenate([[0.0], 0.001 + 0.01 * rng.random(n)])
        vix = 18.0 * np.exp(np.cumsum(-3.0 * ret + 0.01 * rng.standard_normal(n + 1)))
        frame = pd.DataFrame({"spx": 2000.0 * np.exp(np.cumsum(ret)), "vix": vix}, index=days)
        cal = calibrate(_history(frame))
        assert cal.beta_up.source == source
        assert cal.beta_down.source == "default" and "only 0 down days" in cal.beta_down.reason


# ------------------------------------------------------------ report and JSON


def test_describe_notes_and_dict() -> None:
    fit = Fit(4.71234, 2310, 0.1234, "fitted", "down days")
    assert fit.describe("beta_down") == "beta_down 4.71 (SE 0.12, 2,310 down days, fitted)"
    assert Fit(0.62, reason="no vx1 data").describe("w_1") == "w_1 0.62 (default: no vx1 data)"
    assert Fit(0.5, source="config").describe("w_1") == "w_1 0.5 (config)"
    cal = calibrate(_history(_with_futures(_frame(600))))
    notes = cal.notes()
    assert len(notes) == 2 + 3 * MONTHS
    assert notes[0].startswith("beta_down") and "fitted" in notes[0]
    data = json.loads(json.dumps(cal.to_dict()))
    assert set(data) == set(Calibration.__dataclass_fields__)
    assert len(data["futures_response"]) == MONTHS
    assert set(data["beta_up"]) == {"value", "n", "se", "source", "reason"}
    assert data["beta_up"]["n"] == cal.beta_up.n and data["option_vol"][8]["source"] == "fitted"


def test_option_vol_uses_the_scale_or_the_fallback() -> None:
    cal = DEFAULT_CALIBRATION
    vols = cal.vix_option_vol(np.array([100.0, np.nan]), 2)
    assert vols.tolist() == [cal.option_vol_scale[1].value, cal.option_vol[1].value]


def test_a_calibration_needs_every_month() -> None:
    d = DEFAULT_CALIBRATION
    with pytest.raises(ValueError, match="one Fit per month"):
        Calibration(
            d.beta_down, d.beta_up, d.futures_response[:8], d.option_vol_scale, d.option_vol
        )


# ------------------------------------------------------------- the real history


def test_every_default_is_flagged_as_such() -> None:
    d = DEFAULT_CALIBRATION
    fits = [d.beta_down, d.beta_up, *d.futures_response, *d.option_vol_scale, *d.option_vol]
    assert all(f.source == "default" and f.n == 0 and f.se is None and f.reason for f in fits)
    # Further months respond less and realise less vol.
    for values in (d.futures_response, d.option_vol, d.option_vol_scale):
        assert all(a.value >= b.value for a, b in itertools.pairwise(values))


@pytest.fixture(scope="module")
def real_history(shared_dir: Path) -> History:
    path = shared_dir / "data" / "history_2004_2023.csv"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return load_history(path, gaps="keep")


@pytest.mark.shared
def test_the_defaults_are_the_fit_to_the_shared_history(real_history: History) -> None:
    cal = calibrate(real_history)
    d = DEFAULT_CALIBRATION
    pairs = [(cal.beta_down, d.beta_down), (cal.beta_up, d.beta_up)]
    for name in ("futures_response", "option_vol_scale", "option_vol"):
        pairs += list(zip(getattr(cal, name)[:8], getattr(d, name)[:8], strict=True))
    for fitted, default in pairs:
        assert fitted.source == "fitted" and fitted.n > 2000
        assert fitted.value == pytest.approx(default.value, abs=0.005 + 1e-9)
    assert cal.beta_down.n == 2155 and cal.beta_up.n == 2575
    assert cal.futures_response[0].n == 4519
    # The file has no vx9: month 9 is the default, which extrapolates months 6-8.
    for name in ("futures_response", "option_vol_scale", "option_vol"):
        month9 = getattr(cal, name)[8]
        assert month9.source == "default" and "no vx9 data" in month9.reason
        logs = np.log([f.value for f in getattr(cal, name)[5:8]])
        extrapolated = np.exp(np.polyval(np.polyfit([6, 7, 8], logs, 1), 9))
        assert getattr(d, name)[8].value == pytest.approx(extrapolated, abs=0.005)
