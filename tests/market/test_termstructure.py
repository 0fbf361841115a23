"""VIX futures term structure: measured where present, modelled and flagged elsewhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alvh_dsl.market.calendars import nth_expiries
from alvh_dsl.market.history import History, load_history
from alvh_dsl.market.termstructure import TermStructureConfig, model_futures, term_structure


def _history(**columns: list[float]) -> History:
    days = pd.DatetimeIndex(["2017-01-17", "2017-01-18", "2017-01-19"], name="date")
    data = {"spx": [2267.89, 2271.89, 2263.69], "vix": [11.87, 12.48, 12.78], **columns}
    return History.from_frame(pd.DataFrame(data, index=days))


def test_without_futures_every_month_is_modelled_on_the_vix_calendar() -> None:
    ts = term_structure(_history())
    assert ts.price.shape == (3, 9) and ts.modelled.all()
    np.testing.assert_array_equal(ts.expiry[:, 0], nth_expiries(ts.dates, 1, "vix"))
    # 2017-01-18 is an expiry date: month 1 has already rolled to February.
    assert str(ts.expiry[0, 0]) == "2017-01-18" and str(ts.expiry[1, 0]) == "2017-02-15"
    assert ts.dte[0, 0] == 1 and (ts.dte > 0).all()
    assert (np.diff(ts.expiry.astype("datetime64[D]").astype(np.int64), axis=1) > 0).all()
    np.testing.assert_allclose(ts.price, model_futures(ts.vix[:, None], ts.dte))
    assert ts.modelled_share == 1.0
    assert len(ts.notes()) == 9 and ts.notes()[0].startswith("VIX month 1: 3 of 3 day(s) modelled")


def test_measured_columns_are_used_and_holes_flagged() -> None:
    ts = term_structure(_history(vx1=[12.9, 13.5, 13.6], vx2=[14.1, np.nan, 14.8]))
    assert ts.price[0, 0] == 12.9 and ts.price[2, 1] == 14.8
    assert list(ts.modelled[:, 0]) == [False, False, False]
    assert list(ts.modelled[:, 1]) == [False, True, False]
    assert ts.modelled[:, 2:].all()
    assert np.isfinite(ts.price).all()
    np.testing.assert_allclose(ts.term_slope, (ts.price[:, 1] - ts.price[:, 0]) / ts.price[:, 0])


def test_data_expiries_take_precedence_and_anchor_later_months() -> None:
    # A month-1 expiry that differs from today's rule (as in 2004): slot k follows it.
    days = pd.DatetimeIndex(["2004-07-06"], name="date")
    frame = pd.DataFrame(
        {
            "spx": [1116.0],
            "vix": [16.0],
            "vx1": [17.0],
            "vx1_expiry": pd.to_datetime(["2004-07-14"]),
        },
        index=days,
    )
    ts = term_structure(History.from_frame(frame))
    assert str(ts.expiry[0, 0]) == "2004-07-14"  # the rule alone would say 2004-07-21
    assert str(ts.expiry[0, 1]) == "2004-08-18"
    assert str(ts.expiry[0, 2]) == "2004-09-15"


def test_anchoring_continues_the_measured_curve() -> None:
    # Month 8 priced by the model with another long-run level: the anchored month 9 must
    # follow that curve, not the default one.
    base = term_structure(_history())
    other = TermStructureConfig(long_run=21.0)
    vx8 = model_futures(base.vix, base.dte[:, 7], other)
    anchored = term_structure(_history(vx8=list(vx8)))
    np.testing.assert_allclose(anchored.price[:, 8], model_futures(base.vix, base.dte[:, 8], other))
    np.testing.assert_allclose(anchored.price[:, 7], vx8)
    assert not anchored.modelled[:, 7].any() and anchored.modelled[:, 8].all()
    plain = term_structure(_history(vx8=list(vx8)), TermStructureConfig(anchor=False))
    np.testing.assert_allclose(plain.price[:, 8], base.price[:, 8])


@given(st.floats(min_value=8.0, max_value=90.0), st.integers(min_value=0, max_value=400))
def test_model_shape(vix: float, dte: int) -> None:
    cfg = TermStructureConfig()
    f = float(model_futures(vix, dte, cfg))
    lo, hi = sorted([vix, cfg.long_run])
    assert lo - 1e-9 <= f <= hi + 1e-9  # between spot and the long-run level
    later = float(model_futures(vix, dte + 30, cfg))
    if vix < cfg.long_run:
        assert later >= f - 1e-9  # contango below the long-run level
    else:
        assert later <= f + 1e-9  # backwardation above it


def test_model_limits() -> None:
    assert float(model_futures(15.0, 0)) == pytest.approx(15.0)
    assert float(model_futures(15.0, 100_000)) == pytest.approx(TermStructureConfig().long_run)
    with pytest.raises(ValueError):
        TermStructureConfig(months=12)


def test_constant_maturity_interpolates_between_bracketing_points() -> None:
    ts = term_structure(_history(vx1=[12.9, 13.5, 13.6], vx2=[14.1, 14.6, 14.8]))
    # 2017-01-17: month 1 is 1 day out, month 2 29 days, month 3 64 days: 30 lies in 2..3.
    d2, d3 = ts.dte[0, 1], ts.dte[0, 2]
    assert d2 < 30 <= d3
    w = (30 - d2) / (d3 - d2)
    assert ts.constant_maturity[0] == pytest.approx(
        ts.price[0, 1] + w * (ts.price[0, 2] - ts.price[0, 1])
    )
    assert ts.constant_maturity_modelled[0]  # month 3 is modelled
    # 2017-01-18: month 1 (February) is 28 days out, month 2 63: between measured points.
    assert ts.dte[1, 0] == 28 and not ts.constant_maturity_modelled[1]


def test_constant_maturity_uses_spot_when_month_1_is_beyond_the_target() -> None:
    ts = term_structure(
        _history(vx1=[12.9] * 3, vx2=[14.1] * 3), TermStructureConfig(constant_maturity_days=10)
    )
    d1 = ts.dte[1, 0]  # 28 days
    assert ts.constant_maturity[1] == pytest.approx(
        ts.vix[1] + 10 / d1 * (ts.price[1, 0] - ts.vix[1])
    )
    assert not ts.constant_maturity_modelled[1]


@pytest.mark.shared
def test_real_history_term_structure(shared_dir: Path) -> None:
    history = load_history(shared_dir / "data" / "history_2004_2017.csv", gaps="ffill")
    ts = term_structure(history)
    frame = history.frame
    np.testing.assert_array_equal(ts.price[:, 0], frame["vx1"].to_numpy())
    np.testing.assert_array_equal(
        ts.expiry[:, 1], frame["vx2_expiry"].to_numpy().astype("datetime64[D]")
    )
    # Exactly the empty slots are modelled; vx9 is absent, so always modelled.
    for k in range(1, 9):
        np.testing.assert_array_equal(ts.modelled[:, k - 1], frame[f"vx{k}"].isna().to_numpy())
    assert ts.modelled[:, 8].all()
    assert (np.diff(ts.dte, axis=1) > 0).all()
    assert 0.80 < (ts.term_slope > 0).mean() < 0.86  # contango on most days
    # The model's error on measured points stays near the documented figure.
    measured = ~ts.modelled[:, :8]
    modelled = model_futures(ts.vix[:, None], ts.dte[:, :8])
    rmse = float(np.sqrt(np.mean((modelled[measured] - ts.price[:, :8][measured]) ** 2)))
    assert 2.0 < rmse < 3.2
