"""Expiry calendars: SPX standard monthlies and VIX futures / options, and trading days.

Rules (see ``docs/data.md``):

- **SPX standard monthly** expiry: the third Friday of the month; when that Friday is a
  Cboe holiday (Good Friday, e.g. 2008-03-21, 2014-04-18), the prior Cboe business day.
- **VIX futures and options** (contract month ``m``): the Wednesday 30 days before the SPX
  standard expiry of month ``m + 1``. Because the SPX date is already moved to the prior
  business day when its Friday is a holiday, the VIX date then lands on a Tuesday (e.g.
  2008-02-19, 2014-03-18); if the Wednesday itself is a Cboe holiday it moves to the prior
  business day (e.g. Juneteenth 2024 -> 2024-06-18).
- Holidays come from ``pandas_market_calendars`` (``CBOE_Index_Options`` for SPX, ``CFE``
  for VIX, ``NYSE`` for trading days). The import and the holiday rules are slow (0.7 s
  of CPU, a sixth of a dry-run's budget), so the holidays are computed on first use,
  cached for the process, and kept on disk beside the parser's tables
  (``~/.cache/alvh-dsl``, or ``$ALVH_CACHE_DIR``) keyed by the calendar and the versions
  of ``pandas_market_calendars`` and ``exchange_calendars``: a new release of either
  computes them afresh.

Convention: both contracts are AM-settled, so **on its expiry date a contract counts as
expired**. ``month 1`` on an expiry date is the *next* contract; DTE is in calendar days
and is always >= 1 for a resolved month. This matches the VX settlement data, where M1
has already rolled on the expiry Wednesday.

All array helpers take anything ``numpy.asarray(..., dtype="datetime64[D]")`` accepts
(ISO strings, ``datetime.date``, ``numpy.datetime64``, ``pandas.DatetimeIndex``) and
return ``datetime64[D]`` arrays.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from ..fileio import atomic_open, cache_dir

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "FIRST_CONTRACT_MONTH",
    "LAST_CONTRACT_MONTH",
    "DateLike",
    "DatesLike",
    "ExpiryKind",
    "busday_calendar",
    "contract_expiries",
    "days_to_expiry",
    "expiries",
    "nearest_expiries",
    "nth_expiries",
    "nth_expiry",
    "spx_expiries",
    "spx_monthly_expiry",
    "third_friday",
    "to_days",
    "trading_days",
    "vix_expiries",
    "vix_expiry",
]

ExpiryKind = Literal["spx", "vix"]
DateLike: TypeAlias = "str | _dt.date | np.datetime64 | npt.NDArray[Any]"
DatesLike: TypeAlias = "DateLike | Sequence[DateLike] | pd.Index | pd.Series"
#: A ``datetime64[D]`` array (NumPy's stubs cannot express the unit).
DayArray: TypeAlias = npt.NDArray[Any]

#: Range of contract months the cached expiry tables cover (inclusive).
FIRST_CONTRACT_MONTH = np.datetime64("1985-01", "M")
LAST_CONTRACT_MONTH = np.datetime64("2099-12", "M")

# Which pandas_market_calendars calendar supplies the holidays for each purpose.
_CALENDAR_FOR = {"spx": "CBOE_Index_Options", "vix": "CFE", "trading": "NYSE"}


def _day_array(values: Any) -> DayArray:
    return np.asarray(values, dtype="datetime64[D]")


def to_days(dates: DatesLike) -> DayArray:
    """Convert dates to a ``datetime64[D]`` array (a 0-d array for a scalar).

    Time zones are dropped (the calendar date in the stated zone is kept) rather than
    converted, because an exchange date is a local date.
    """
    tz = getattr(dates, "tz", None)
    if tz is not None:  # tz-aware pandas Timestamp / DatetimeIndex
        dates = dates.tz_localize(None)  # type: ignore[union-attr]
    elif isinstance(dates, _dt.datetime) and dates.tzinfo is not None:
        dates = dates.date()
    return np.asarray(dates, dtype="datetime64[D]")


@cache
def busday_calendar(name: Literal["spx", "vix", "trading"]) -> np.busdaycalendar:
    """A NumPy business-day calendar (Mon-Fri minus the exchange's holidays), cached.

    ``name`` is ``"spx"`` (Cboe index options), ``"vix"`` (CFE) or ``"trading"`` (NYSE).
    """
    path = _holiday_file(name)
    days = None
    if path is not None and path.is_file():
        try:
            days = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            days = None  # unreadable or truncated: computed again below
    if days is None or days.dtype != np.dtype("datetime64[D]"):
        days = _exchange_holidays(name)
        if path is not None:
            _save(path, days)
    return np.busdaycalendar(weekmask="1111100", holidays=days)


def _exchange_holidays(name: str) -> DayArray:
    """The exchange's holidays over the covered contract months, sorted and unique."""
    import pandas as pd
    import pandas_market_calendars as mcal

    calendar = mcal.get_calendar(_CALENDAR_FOR[name])
    # Only the covered range: the full 1885-2200 holiday list takes several times longer.
    first = FIRST_CONTRACT_MONTH.astype("datetime64[D]")
    last = (LAST_CONTRACT_MONTH + np.timedelta64(2, "M")).astype("datetime64[D]")
    regular = calendar.regular_holidays.holidays(str(first), str(last))
    days = np.concatenate(
        [
            np.asarray(regular.values, dtype="datetime64[D]"),
            to_days(pd.DatetimeIndex(list(calendar.adhoc_holidays))),
        ]
    )
    return _day_array(np.unique(days))


def _holiday_file(name: str) -> Path | None:
    """Where the holidays of ``name`` are kept on disk, or None without a usable cache
    directory (the same one as the parser's tables: ``alvh_dsl.lang.parse``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        versions = [version(p) for p in ("pandas_market_calendars", "exchange_calendars")]
    except PackageNotFoundError:
        return None
    directory = cache_dir()
    if directory is None:
        return None
    words = [name, _CALENDAR_FOR[name], *versions, str(FIRST_CONTRACT_MONTH)]
    key = hashlib.sha256(" ".join([*words, str(LAST_CONTRACT_MONTH), "v1"]).encode())
    return directory / f"holidays-{name}-{key.hexdigest()[:20]}.npy"


def _save(path: Path, days: DayArray) -> None:
    """Write ``days`` to ``path`` atomically; a cache that cannot be written is no error."""
    with contextlib.suppress(OSError), atomic_open(path, "wb") as f:
        np.save(f, days, allow_pickle=False)


def _months(year: npt.ArrayLike, month: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
    y = np.asarray(year, dtype=np.int64)
    m = np.asarray(month, dtype=np.int64)
    if np.any((m < 1) | (m > 12)):
        raise ValueError("month must be in 1..12")
    return ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]")


def _third_friday_of(months: npt.NDArray[np.datetime64]) -> DayArray:
    first = months.astype("datetime64[D]")
    weekday = (first.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    return _day_array(first + ((4 - weekday) % 7 + 14).astype("timedelta64[D]"))


def third_friday(year: npt.ArrayLike, month: npt.ArrayLike) -> DayArray:
    """The third Friday of each (year, month), ignoring holidays (vectorised)."""
    return _third_friday_of(_months(year, month))


def _spx_expiry_of(months: npt.NDArray[np.datetime64]) -> DayArray:
    fridays = _third_friday_of(months)
    return np.busday_offset(fridays, 0, roll="backward", busdaycal=busday_calendar("spx"))


def _vix_expiry_of(months: npt.NDArray[np.datetime64]) -> DayArray:
    next_spx = _spx_expiry_of(months + np.timedelta64(1, "M"))
    wednesday = next_spx - np.timedelta64(30, "D")
    return np.busday_offset(wednesday, 0, roll="backward", busdaycal=busday_calendar("vix"))


def spx_monthly_expiry(year: npt.ArrayLike, month: npt.ArrayLike) -> DayArray:
    """SPX standard monthly expiry of each (year, month): third Friday, or the prior
    business day when it is a Cboe holiday (vectorised)."""
    return _spx_expiry_of(_months(year, month))


def vix_expiry(year: npt.ArrayLike, month: npt.ArrayLike) -> DayArray:
    """Final settlement date of the VIX future / option of contract month (year, month).

    The Wednesday 30 days before the following month's SPX standard expiry, moved to the
    prior CFE business day when it is a holiday (vectorised).
    """
    return _vix_expiry_of(_months(year, month))


def contract_expiries(months: npt.ArrayLike, kind: ExpiryKind = "vix") -> DayArray:
    """Expiry of each contract month (``datetime64[M]`` values, NaT allowed -> NaT)."""
    m = np.asarray(months, dtype="datetime64[M]")
    out = np.full(m.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    ok = ~np.isnat(m)
    fn = _spx_expiry_of if _check_kind(kind) == "spx" else _vix_expiry_of
    out[ok] = fn(m[ok])
    return out


@cache
def _table(kind: ExpiryKind) -> DayArray:
    months = np.arange(FIRST_CONTRACT_MONTH, LAST_CONTRACT_MONTH + 1)
    table = _spx_expiry_of(months) if kind == "spx" else _vix_expiry_of(months)
    table.setflags(write=False)  # shared by every caller through the cache
    return table


def _check_kind(kind: str) -> ExpiryKind:
    if kind not in ("spx", "vix"):
        raise ValueError(f"unknown expiry kind {kind!r}; expected 'spx' or 'vix'")
    return kind  # type: ignore[return-value]


def expiries(kind: ExpiryKind, start: DateLike, end: DateLike) -> DayArray:
    """All standard monthly expiries of ``kind`` with ``start <= expiry <= end``."""
    table = _table(_check_kind(kind))
    lo, hi = to_days(start), to_days(end)
    return _day_array(table[(table >= lo) & (table <= hi)].copy())


def spx_expiries(start: DateLike, end: DateLike) -> DayArray:
    """SPX standard monthly expiries between ``start`` and ``end`` (inclusive)."""
    return expiries("spx", start, end)


def vix_expiries(start: DateLike, end: DateLike) -> DayArray:
    """VIX futures / options expiries between ``start`` and ``end`` (inclusive)."""
    return expiries("vix", start, end)


def _first_unexpired(table: DayArray, days: DayArray) -> npt.NDArray[np.intp]:
    # side="right": an expiry equal to the date has already settled (AM settlement).
    return np.searchsorted(table, days, side="right")


def _check_range(days: DayArray, idx: npt.NDArray[np.intp], size: int) -> None:
    if np.any(days < FIRST_CONTRACT_MONTH.astype("datetime64[D]")) or np.any(idx >= size):
        raise ValueError(
            f"dates outside the expiry calendar's range (contract months "
            f"{FIRST_CONTRACT_MONTH} .. {LAST_CONTRACT_MONTH})"
        )


def nth_expiries(dates: DatesLike, n: npt.ArrayLike = 1, kind: ExpiryKind = "spx") -> DayArray:
    """The ``n``-th unexpired expiry (``n`` = 1 is the front month) for each date.

    ``dates`` and ``n`` broadcast against each other. A contract expiring *on* a date
    is already expired on that date. Raises ``ValueError`` outside the covered range.
    """
    table = _table(_check_kind(kind))
    days = to_days(dates)
    nn = np.asarray(n)
    if nn.dtype.kind not in "iu" or np.any(nn < 1):
        raise ValueError("month number n must be an integer >= 1")
    idx = _first_unexpired(table, days) + nn - 1
    _check_range(days, idx, len(table))
    return _day_array(table[idx])


def nth_expiry(date: DateLike, n: int = 1, kind: ExpiryKind = "spx") -> _dt.date:
    """The ``n``-th unexpired ``kind`` expiry on ``date`` (``month N`` in a rulebook)."""
    result = nth_expiries(date, n, kind).item()
    assert isinstance(result, _dt.date)
    return result


def nearest_expiries(
    dates: DatesLike, target_dte: npt.ArrayLike, kind: ExpiryKind = "spx"
) -> DayArray:
    """For each date, the unexpired expiry whose DTE is nearest ``target_dte`` days.

    Ties go to the earlier expiry. Used for ``open … near D days``.
    """
    table = _table(_check_kind(kind))
    days = to_days(dates)
    target = days + np.asarray(target_dte).astype("timedelta64[D]")
    first = _first_unexpired(table, days)
    after = np.maximum(np.searchsorted(table, target, side="left"), first)
    before = np.maximum(after - 1, first)
    _check_range(days, after, len(table))
    dist_after = np.abs(table[after] - target)
    dist_before = np.abs(table[before] - target)
    return _day_array(np.where(dist_before <= dist_after, table[before], table[after]))


def days_to_expiry(dates: DatesLike, expiry: DatesLike) -> npt.NDArray[np.int64]:
    """Calendar days from each date to its expiry (negative once it has passed)."""
    return (to_days(expiry) - to_days(dates)).astype(np.int64)


def trading_days(start: DateLike, end: DateLike) -> DayArray:
    """NYSE trading days with ``start <= day <= end`` (holidays and ad-hoc closures excluded)."""
    lo, hi = to_days(start), to_days(end)
    if hi < lo:
        return np.empty(0, dtype="datetime64[D]")
    days = lo + np.arange(int((hi - lo).astype(np.int64)) + 1).astype("timedelta64[D]")
    return _day_array(days[np.is_busday(days, busdaycal=busday_calendar("trading"))])
