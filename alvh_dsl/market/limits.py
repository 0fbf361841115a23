"""The dates a history may hold and the arguments ``alvh data synth`` accepts.

The expiry calendar (:mod:`alvh_dsl.market.calendars`) covers contract months 1985-01 ..
2099-12, and pandas stores days as nanoseconds (years 1677 .. 2262). A date outside those
windows would otherwise surface far from the file as a ``ValueError`` from the calendar or
an ``OutOfBoundsDatetime`` from pandas; checking it while the cells are read (the pandas
window, for every file) and while a history is built (the calendar's) reports it as an
E601 at the row and column instead (docs/data.md, docs/diagnostics.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

#: The days any date cell of any file read (a source file too) may hold: pandas keeps
#: days as nanoseconds since 1970, which reach from 1677-09-21 to 2262-04-11.
READABLE_FIRST = pd.Timestamp("1678-01-01")
READABLE_LAST = pd.Timestamp("2261-12-31")
#: The first day a history's date cell (a row's date or a ``vx*_expiry``) may hold. Source
#: files (``alvh data merge``) may reach further back; the merged history may not.
FIRST_DAY = pd.Timestamp("1985-01-01")
#: The last day a history's date cell may hold: the calendar's last contract month.
LAST_DAY = pd.Timestamp("2099-12-31")
#: The last day a row may be dated: a year before :data:`LAST_DAY`, so that month-N
#: lookups (futures up to month 9, ``open … near D days`` up to a year) stay in the calendar.
LAST_ROW_DAY = pd.Timestamp("2098-12-31")

#: ``alvh data synth --years`` bounds: a month at least (fewer rows leave nothing to
#: replay), a century at most (about 25,000 rows; the calendar's range bounds it anyway).
SYNTH_MIN_YEARS = 1 / 12
SYNTH_MAX_YEARS = 100.0


def outside(
    values: Any, first: pd.Timestamp = FIRST_DAY, last: pd.Timestamp = LAST_DAY
) -> npt.NDArray[np.bool_]:
    """Which of ``values`` (any unit; NaT is not outside) fall outside ``first .. last``."""
    days = pd.DatetimeIndex(values)
    flags: npt.NDArray[np.bool_] = np.asarray((days < first) | (days > last), dtype=bool)
    return flags


def range_message(
    value: Any, first: pd.Timestamp = FIRST_DAY, last: pd.Timestamp = LAST_DAY
) -> str:
    """The E601 message for a date outside ``first .. last``."""
    day = pd.Timestamp(value).isoformat().split("T")[0]  # .date() fails before year 1
    return f"date {day} is outside the supported range {first.date()} .. {last.date()}"


def in_range_days(values: pd.DatetimeIndex) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """``values`` as ``datetime64[ns]`` with the ones outside READABLE_FIRST ..
    READABLE_LAST NaT, and which they were.

    Masking before the conversion to nanoseconds is what keeps a year such as 2300 (which
    pandas parses at a coarser unit) from raising ``OutOfBoundsDatetime``.
    """
    bad = outside(values, READABLE_FIRST, READABLE_LAST)
    days: npt.NDArray[Any] = values.where(~bad).as_unit("ns").to_numpy()
    return days, bad


def synth_start_window(years: float) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last start day ``alvh data synth --years years`` accepts: the history
    it generates must end by :data:`LAST_ROW_DAY`."""
    latest = LAST_ROW_DAY - pd.Timedelta(days=int(np.ceil(years * 366)))
    return FIRST_DAY, latest
