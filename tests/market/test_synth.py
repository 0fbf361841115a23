"""Synthetic history: deterministic, valid, and plausible in the ways the rules care about."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alvh_dsl.market.calendars import nth_expiries, trading_days
from alvh_dsl.market.calibration import DEFAULT_CALIBRATION, calibrate
from alvh_dsl.market.history import History
from alvh_dsl.market.synth import DEFAULT_SEED, SynthConfig, default_history, synthesize
from alvh_dsl.market.termstructure import term_structure


@pytest.fixture(scope="module")
def synthetic() -> History:
    return synthesize(years=20, seed=7)


def test_same_seed_same_history(synthetic: History) -> None:
    again = synthesize(years=20, seed=7)
    pd.testing.assert_frame_equal(again.frame, synthetic.frame)
    assert again.provenance == synthetic.provenance


def test_different_seed_different_history(synthetic: History) -> None:
    other = synthesize(years=20, seed=8)
    pd.testing.assert_index_equal(other.frame.index, synthetic.frame.index)
    assert not np.allclose(other.values("vix"), synthetic.values("vix"))


def test_marked_synthetic_with_a_generator(synthetic: History) -> None:
    prov = synthetic.provenance
    assert prov.synthetic and synthetic.synthetic
    assert (
        prov.generator == "alvh_dsl.market.synth.synthesize(years=20, seed=7, start='2005-01-03')"
    )
    assert prov.sources[0].role == "synthetic"


def test_columns_and_nyse_trading_days(synthetic: History) -> None:
    frame = synthetic.frame
    assert {
        "spx",
        "spx_open",
        "spx_high",
        "spx_low",
        "vix",
        "vvix",
        "vx1_expiry",
        "vx2_expiry",
        "rate",
        "dividend_yield",
        "advances",
        "declines",
    } <= set(frame.columns)
    assert synthetic.futures_months == tuple(range(1, 10))
    days = trading_days("2005-01-03", "2025-01-02")
    np.testing.assert_array_equal(frame.index.to_numpy().astype("datetime64[D]"), days)
    assert frame.notna().all().all()


def test_futures_expiries_follow_the_vix_calendar(synthetic: History) -> None:
    days = synthetic.dates.to_numpy().astype("datetime64[D]")
    expiry1 = synthetic.values("vx1_expiry").astype("datetime64[D]")
    np.testing.assert_array_equal(expiry1, nth_expiries(days, 1, "vix"))
    np.testing.assert_array_equal(
        synthetic.values("vx2_expiry").astype("datetime64[D]"), nth_expiries(days, 2, "vix")
    )


def test_passes_validation_again(synthetic: History) -> None:
    again = History.from_frame(synthetic.frame)
    pd.testing.assert_frame_equal(again.frame, synthetic.frame)


def test_plausible_dynamics(synthetic: History) -> None:
    vix = synthetic.values("vix")
    spx = synthetic.values("spx")
    ret = np.diff(np.log(spx))
    dvix = np.diff(np.log(vix))
    # Spot-vol correlation: SPX falls when VIX rises.
    assert np.corrcoef(ret, dvix)[0, 1] < -0.5
    # VIX lives in a believable range, with spikes.
    assert vix.min() > 8.0 and vix.max() < 150.0
    assert 14.0 < np.median(vix) < 22.0
    assert vix.max() > 40.0
    assert (dvix > np.log(1.2)).sum() >= 5  # several one-day jumps of 20 % or more
    # SPX annualised vol in the usual band.
    assert 0.12 < ret.std() * np.sqrt(252) < 0.25
    # OHLC consistent (validation also checks it).
    frame = synthetic.frame
    assert (frame["spx_low"] <= frame[["spx", "spx_open"]].min(axis=1)).all()


def test_contango_most_days_backwardation_in_stress(synthetic: History) -> None:
    ts = term_structure(synthetic)
    slope = ts.term_slope
    vix = synthetic.values("vix")
    assert 0.7 < (slope > 0).mean() < 0.97
    assert (slope[vix > 30] < 0).mean() > 0.7
    # Futures converge on VIX near expiry. The shared 2004-2023 history, within two days
    # of expiry: median gap 1.3 %, 99th percentile 6.4 %, largest 12.2 %.
    near = ts.dte[:, 0] <= 2
    gap = np.abs(ts.price[near, 0] / vix[near] - 1)
    assert np.median(gap) < 0.02 and np.percentile(gap, 99) < 0.065 and gap.max() < 0.15


def test_futures_respond_to_vix_like_the_real_ones() -> None:
    # calibrate() on the built-in history against its fit to the shared 2004-2023 file
    # (the defaults): the old one-factor curve gave month 1 0.94 and month 3 0.74.
    cal = calibrate(default_history())
    real = DEFAULT_CALIBRATION
    for name in ("futures_response", "option_vol", "option_vol_scale"):
        pairs = zip(getattr(cal, name), getattr(real, name), strict=True)
        for k, (fit, default) in enumerate(pairs, 1):
            assert fit.source == "fitted", (name, k)
            assert abs(fit.value - default.value) < 0.1, (name, k, fit.value, default.value)
    assert abs(cal.beta_down.value - real.beta_down.value) < 1.0
    assert abs(cal.beta_up.value - real.beta_up.value) < 1.0
    responses = cal.responses
    assert (np.diff(responses) < 0).all() and responses[0] < 0.75


def test_vix_has_spikes_and_regimes(synthetic: History) -> None:
    # Shared 2004-2023 history: autocorrelation of ln VIX 0.78 at 21 days, 0.23 at 252.
    x = np.log(synthetic.values("vix"))
    lag21 = np.corrcoef(x[:-21], x[21:])[0, 1]
    lag252 = np.corrcoef(x[:-252], x[252:])[0, 1]
    assert 0.6 < lag21 < 0.9 and 0.1 < lag252 < 0.4


def test_the_term_premium_grows_with_maturity(synthetic: History) -> None:
    # Mean ln(F_k / VIX) on the shared history: 0.04 for month 1 … 0.20 for month 8.
    vix = synthetic.values("vix")
    premium = [np.mean(np.log(synthetic.values(f"vx{k}") / vix)) for k in range(1, 10)]
    assert (np.diff(premium) > 0).all()
    assert 0.02 < premium[0] < 0.07 and 0.15 < premium[7] < 0.25


def test_config_and_years() -> None:
    short = synthesize(years=1, seed=3, start="2010-01-04", config=SynthConfig(vix_level=25.0))
    assert 245 <= len(short) <= 256
    assert str(short.start.date()) == "2010-01-04"
    assert "vix_level" in (short.provenance.generator or "")
    with pytest.raises(ValueError, match="years"):
        synthesize(years=0)


def test_default_history_is_the_cached_default_synthesis() -> None:
    first = default_history()
    second = default_history()
    assert first.synthetic and DEFAULT_SEED == 7
    pd.testing.assert_frame_equal(first.frame, second.frame)
    assert first.frame is not second.frame  # callers get their own copy
    first.frame.iloc[0, 0] = -1.0
    assert default_history().frame.iloc[0, 0] != -1.0
    assert len(first) > 5000


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.97, 0.999, -0.3])
@pytest.mark.parametrize("start", [0.0, 1.7, -250.0])
def test_ar1_is_scipys_filter_bit_for_bit(phi: float, start: float) -> None:
    # the generator dropped scipy.signal for start-up time; the history must not change
    from scipy.signal import lfilter

    from alvh_dsl.market.synth import ar1

    shocks = np.random.default_rng(1).standard_normal(6000) * 2.5
    expected, _ = lfilter([1.0], [1.0, -phi], shocks, zi=np.array([phi * start]))
    assert np.array_equal(ar1(shocks, phi, start), expected)
