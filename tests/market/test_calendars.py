"""Expiry calendars against published expiries, the AM-settlement convention and real data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alvh_dsl.market.calendars import (
    contract_expiries,
    days_to_expiry,
    nearest_expiries,
    nth_expiries,
    nth_expiry,
    spx_expiries,
    spx_monthly_expiry,
    third_friday,
    to_days,
    trading_days,
    vix_expiries,
    vix_expiry,
)

# (contract year, month, published final settlement date)
VIX_PUBLISHED = [
    (2008, 11, "2008-11-19"),
    (2017, 1, "2017-01-18"),
    (2020, 3, "2020-03-18"),
    # The following month's third Friday is Good Friday: 30 days before the Thursday.
    (2008, 2, "2008-02-19"),
    (2014, 3, "2014-03-18"),
    # The Wednesday itself is a holiday (Juneteenth 2024): the business day before.
    (2024, 6, "2024-06-18"),
    (2017, 5, "2017-05-17"),
    (2017, 6, "2017-06-21"),
    (2018, 2, "2018-02-14"),
]

SPX_PUBLISHED = [
    (2008, 10, "2008-10-17"),
    (2017, 1, "2017-01-20"),
    (2020, 3, "2020-03-20"),
    # Good Friday: the prior business day.
    (2008, 3, "2008-03-20"),
    (2014, 4, "2014-04-17"),
    (2025, 4, "2025-04-17"),
]


@pytest.mark.parametrize(("year", "month", "expected"), VIX_PUBLISHED)
def test_vix_expiry_matches_published(year: int, month: int, expected: str) -> None:
    assert vix_expiry(year, month) == np.datetime64(expected)


@pytest.mark.parametrize(("year", "month", "expected"), SPX_PUBLISHED)
def test_spx_monthly_matches_published(year: int, month: int, expected: str) -> None:
    assert spx_monthly_expiry(year, month) == np.datetime64(expected)


def test_vectorised_expiries_equal_scalar_ones() -> None:
    years = np.array([y for y, _, _ in VIX_PUBLISHED])
    months = np.array([m for _, m, _ in VIX_PUBLISHED])
    expected = np.array([e for _, _, e in VIX_PUBLISHED], dtype="datetime64[D]")
    np.testing.assert_array_equal(vix_expiry(years, months), expected)


def test_third_friday_is_a_friday_between_15_and_21() -> None:
    fridays = third_friday(np.repeat(np.arange(1990, 2040), 12), np.tile(np.arange(1, 13), 50))
    weekday = (fridays.astype(np.int64) + 3) % 7
    day = (fridays - fridays.astype("datetime64[M]")).astype(int) + 1
    assert set(weekday.tolist()) == {4}
    assert day.min() == 15 and day.max() == 21


def test_vix_expiries_are_wednesdays_unless_a_holiday_moved_them() -> None:
    exp = vix_expiries("2004-01-01", "2030-12-31")
    weekday = (exp.astype(np.int64) + 3) % 7
    moved = exp[weekday != 2]
    # Only Tuesdays, and only where a holiday intervened.
    assert set(((moved.astype(np.int64) + 3) % 7).tolist()) <= {1}
    assert {"2008-02-19", "2014-03-18", "2024-06-18"} <= {str(d) for d in moved}


def test_expiries_between_dates_are_inclusive_and_monthly() -> None:
    spx = spx_expiries("2017-01-20", "2017-12-15")
    assert spx[0] == np.datetime64("2017-01-20")
    assert spx[-1] == np.datetime64("2017-12-15")
    assert len(spx) == 12
    assert len(vix_expiries("2017-01-01", "2017-12-31")) == 12


@pytest.mark.parametrize(
    ("date", "n", "kind", "expected"),
    [
        # On the expiry date the contract has settled (AM): month 1 is the next one.
        ("2017-01-18", 1, "vix", "2017-02-15"),
        ("2017-01-17", 1, "vix", "2017-01-18"),
        ("2017-01-17", 2, "vix", "2017-02-15"),
        ("2017-01-20", 1, "spx", "2017-02-17"),
        ("2017-01-19", 1, "spx", "2017-01-20"),
        ("2017-01-19", 3, "spx", "2017-03-17"),
        ("2008-03-20", 1, "spx", "2008-04-18"),
        ("2008-03-19", 1, "spx", "2008-03-20"),
    ],
)
def test_nth_expiry_convention(date: str, n: int, kind: str, expected: str) -> None:
    assert nth_expiry(date, n, kind) == dt.date.fromisoformat(expected)  # type: ignore[arg-type]


def test_nth_expiries_broadcasts_dates_and_months() -> None:
    days = np.array(["2017-01-17", "2017-01-18"], dtype="datetime64[D]")
    grid = nth_expiries(days[:, None], np.array([1, 2, 3]), "vix")
    assert grid.shape == (2, 3)
    assert str(grid[0, 0]) == "2017-01-18"
    assert str(grid[1, 0]) == "2017-02-15"
    assert (np.diff(grid, axis=1) > np.timedelta64(0, "D")).all()


@given(
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 1, 1)),
    st.integers(min_value=1, max_value=9),
    st.sampled_from(["spx", "vix"]),
)
def test_month_n_is_the_nth_expiry_strictly_after_the_date(
    date: dt.date, n: int, kind: str
) -> None:
    expiry = nth_expiry(date, n, kind)  # type: ignore[arg-type]
    assert expiry > date
    listed = (spx_expiries if kind == "spx" else vix_expiries)(date + dt.timedelta(days=1), expiry)
    assert len(listed) == n
    assert days_to_expiry(date, expiry) == (expiry - date).days >= 1


def test_nth_expiries_rejects_bad_month_numbers_and_out_of_range_dates() -> None:
    with pytest.raises(ValueError, match="month number"):
        nth_expiries("2017-01-03", 0)
    with pytest.raises(ValueError, match="outside"):
        nth_expiries("1970-01-02", 1)
    with pytest.raises(ValueError, match="outside"):
        nth_expiries("2099-12-31", 2)
    with pytest.raises(ValueError, match="kind"):
        nth_expiries("2017-01-03", 1, "weekly")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("date", "target", "expected"),
    [
        ("2017-01-03", 45, "2017-02-17"),  # DTE 45 exactly
        ("2017-01-03", 60, "2017-03-17"),  # 45 vs 73: 73 is nearer
        ("2017-01-03", 1, "2017-01-20"),  # never an expired contract
        ("2017-01-20", 0, "2017-02-17"),  # on expiry day the front is the next month
    ],
)
def test_nearest_expiry_by_dte(date: str, target: int, expected: str) -> None:
    assert str(nearest_expiries(date, target, "spx")) == expected


def test_nearest_expiry_tie_goes_to_the_earlier() -> None:
    # 2017-02-17 and 2017-03-17 are 28 days apart; 14 days after the first is a tie.
    assert str(nearest_expiries("2017-02-03", 28, "spx")) == "2017-02-17"


def test_trading_days_exclude_holidays_and_closures() -> None:
    days = {str(d) for d in trading_days("2012-10-26", "2012-11-01")}
    assert days == {"2012-10-26", "2012-10-31", "2012-11-01"}  # Sandy closed 10-29/30
    assert "2018-12-05" not in {str(d) for d in trading_days("2018-12-03", "2018-12-07")}
    assert len(trading_days("2017-01-01", "2017-12-31")) == 251
    assert len(trading_days("2017-01-02", "2017-01-01")) == 0


def test_contract_expiries_handle_missing_months() -> None:
    months = np.array(["2017-01", "NaT", "2020-03"], dtype="datetime64[M]")
    out = contract_expiries(months, "vix")
    assert str(out[0]) == "2017-01-18" and np.isnat(out[1]) and str(out[2]) == "2020-03-18"


def test_to_days_accepts_common_date_types() -> None:
    import pandas as pd

    assert to_days(pd.Timestamp("2020-01-02 15:30", tz="America/New_York")) == np.datetime64(
        "2020-01-02"
    )
    assert to_days(dt.datetime(2020, 1, 2, 23, tzinfo=dt.timezone.utc)) == np.datetime64(
        "2020-01-02"
    )
    assert list(to_days(pd.DatetimeIndex(["2020-01-02"]))) == [np.datetime64("2020-01-02")]


@pytest.mark.shared
def test_calendar_matches_vx1_expiry_of_the_real_history(shared_dir: Path) -> None:
    """Every row's vx1_expiry equals month 1 on the VIX calendar, apart from 2004-2005,
    when some months were not listed and two contracts used an older settlement date."""
    import pandas as pd

    frame = pd.read_csv(
        shared_dir / "data" / "history_2004_2017.csv",
        usecols=["date", "vx1_expiry", "vx2_expiry"],
        parse_dates=["date", "vx1_expiry", "vx2_expiry"],
    )
    days = to_days(frame["date"].to_numpy())
    recent = days >= np.datetime64("2005-10-01")
    month1 = nth_expiries(days, 1, "vix")
    month2 = nth_expiries(days, 2, "vix")
    np.testing.assert_array_equal(month1[recent], to_days(frame["vx1_expiry"].to_numpy())[recent])
    np.testing.assert_array_equal(month2[recent], to_days(frame["vx2_expiry"].to_numpy())[recent])
    mismatched = days[~recent][month1[~recent] != to_days(frame["vx1_expiry"].to_numpy())[~recent]]
    assert 0 < len(mismatched) < 60
