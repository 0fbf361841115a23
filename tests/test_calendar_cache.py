"""The exchange holidays kept on disk (alvh_dsl.market.calendars): the same calendar
whether computed or read back, and a damaged cache file is computed again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from alvh_dsl.market.calendars import busday_calendar


def _weekdays(path: Path) -> np.ndarray:
    """The holidays of a cache file that fall on weekdays (what a calendar keeps)."""
    return np.busdaycalendar(weekmask="1111100", holidays=np.load(path)).holidays


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    busday_calendar.cache_clear()
    yield tmp_path
    busday_calendar.cache_clear()


def test_holidays_read_back_equal_the_computed_ones(cache_dir: Path) -> None:
    computed = busday_calendar("spx").holidays
    (kept,) = cache_dir.glob("holidays-spx-*.npy")
    assert np.datetime64("2008-03-21") in computed  # Good Friday
    busday_calendar.cache_clear()
    np.testing.assert_array_equal(busday_calendar("spx").holidays, computed)
    np.testing.assert_array_equal(_weekdays(kept), computed)
    # Damaged: computed again, and the file rewritten.
    kept.write_bytes(b"\x93NUMPY broken")
    busday_calendar.cache_clear()
    np.testing.assert_array_equal(busday_calendar("spx").holidays, computed)
    np.testing.assert_array_equal(_weekdays(kept), computed)


def test_an_unwritable_cache_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ALVH_CACHE_DIR", str(blocker / "cache"))
    busday_calendar.cache_clear()
    try:
        assert np.datetime64("2024-06-19") in busday_calendar("vix").holidays  # Juneteenth
    finally:
        busday_calendar.cache_clear()
