"""Build a :class:`~alvh_dsl.market.history.History` from files users already have.

:func:`merge` combines an SPX file, a VIX file and optionally VVIX and VIX-futures files
(``alvh data merge --spx … --vix … --futures … -o history.parquet``). Each input may be:

- a Cboe download: ``DATE,OPEN,HIGH,LOW,CLOSE`` (``VIX_History.csv``) or ``DATE,<NAME>``
  (``VVIX_History.csv``), dates MM/DD/YYYY;
- a Yahoo Finance download: ``Date,Open,High,Low,Close,Adj Close,Volume``;
- a file in our own format (``date,spx,…`` / ``date,vix,…``);
- for futures: ``date`` plus ``vx1``…``vx9`` or ``M1``…``M9`` settlement columns (and
  optionally ``vx1_expiry``…), as in the public ``8_m_settle.csv``.

Besides the closes, the SPX file's open, high and low are kept, and the VIX file's open
(Cboe ``OPEN``, Yahoo ``Open``, or our ``vix_open``) becomes ``vix_open``, the price VIX
expiries settle at when the history has no ``vix_settlement``.

The SPX file defines the trading days. The merged span is where both the SPX and the VIX
files have data (narrowed by ``start`` / ``end``); rows outside it are dropped and the
notes say so. Inside it, a day without a VIX close is a gap (see the gap policy), and
rows of other files on days without an SPX close are dropped and counted in the notes.
Every issue names the input file, its row and its column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import DataError
from .history import History, Provenance, Source, canonical_frame
from .limits import FIRST_DAY, LAST_DAY, LAST_ROW_DAY, outside, range_message
from .validation import (
    EXPIRY_COLUMNS,
    FUTURES_MONTHS,
    Collector,
    GapPolicy,
    Origin,
    RawFile,
    Table,
    ZeroPolicy,
    apply_gap_policy,
    check_date_order,
    check_values,
    normalized_columns,
    parse_dates,
    parse_numbers,
    read_file,
    zeros_to_missing,
)

__all__ = ["SeriesFile", "load_cboe", "load_series", "merge"]

Role = Literal["spx", "vix", "vvix", "futures"]
PathLike = str | Path

_DATE_NAMES = ("date", "trade date", "timestamp")
_OHLC = {"open": "spx_open", "high": "spx_high", "low": "spx_low"}


@dataclass
class SeriesFile:
    """One parsed input file: canonical columns indexed by its (sorted, unique) dates, the
    column names as written, the row number of every record, and the file's hash."""

    path: str
    role: Role
    sha256: str
    frame: pd.DataFrame
    written: dict[str, str]
    lines: npt.NDArray[np.int64]

    def source(self) -> Source:
        return Source(self.path, self.sha256, self.role)


def _value_columns(
    role: Role, names: dict[str, str], label: str, collector: Collector, row: int
) -> dict[str, str]:
    """Canonical column -> normalised source name, for one role."""
    if role == "futures":
        mapping: dict[str, str] = {}
        for key in names:
            m = re.fullmatch(r"(?:vx|m)(\d)(_expiry)?", key)
            if m and 1 <= int(m.group(1)) <= FUTURES_MONTHS:
                mapping[f"vx{m.group(1)}{m.group(2) or ''}"] = key
        if not any(not c.endswith("_expiry") for c in mapping):
            collector.add(label, row, "", "no futures columns: expected vx1…vx9 or M1…M9")
        return mapping
    if role in names:  # our own format, or a Cboe DATE,VVIX file
        mapping = {role: role}
        if role == "spx":
            mapping.update({c: c for c in _OHLC.values() if c in names})
        if role == "vix" and "vix_open" in names:
            mapping["vix_open"] = "vix_open"
        return mapping
    if "close" in names:
        mapping = {role: "close"}
        if role == "spx":
            mapping.update({canon: key for key, canon in _OHLC.items() if key in names})
        if role == "vix" and "open" in names:
            # The open is what VIX expiries settle at when no vix_settlement is given.
            mapping["vix_open"] = "open"
        return mapping
    values = [k for k in names if k not in _DATE_NAMES]
    if len(values) == 1:
        return {role: values[0]}
    collector.add(
        label,
        row,
        "",
        f"cannot tell which column is the {role.upper()} close: expected "
        f"a CLOSE column (Cboe / Yahoo) or a column named {role}",
    )
    return {}


def load_series(path: PathLike, role: Role, *, collector: Collector | None = None) -> SeriesFile:
    """Parse one input file for ``role`` (``spx``, ``vix``, ``vvix`` or ``futures``).

    Structural problems (unreadable dates or numbers, duplicate or unsorted dates) raise a
    :class:`~alvh_dsl.market.history.DataError`, unless a ``collector`` is given, in which
    case they are added to it (so that several files are reported together).
    """
    own = collector is None
    if collector is None:
        collector = Collector()
    try:
        raw: RawFile = read_file(path)
    except DataError as error:  # unreadable as a whole: report with the other files
        if own:
            raise
        collector.extend(error)
        empty = np.empty(0, dtype=np.int64)
        return SeriesFile(str(path), role, "", pd.DataFrame(), {}, empty)
    names = normalized_columns(raw)
    date_key = next((n for n in _DATE_NAMES if n in names), None)
    if date_key is None:
        collector.add(raw.label, raw.header_row, "", "missing the date column (DATE / Date / date)")
    mapping = _value_columns(role, names, raw.label, collector, raw.header_row)
    frame = pd.DataFrame()
    if date_key is not None and mapping:
        dates = parse_dates(raw, names[date_key], collector, required=True)
        check_date_order(raw, names[date_key], dates, collector)
        columns: dict[str, Any] = {}
        for canon, key in mapping.items():
            if canon in EXPIRY_COLUMNS:
                columns[canon] = parse_dates(raw, names[key], collector, required=False)
            else:
                columns[canon], _ = parse_numbers(raw, names[key], collector)
        frame = pd.DataFrame(columns, index=pd.DatetimeIndex(dates, name="date"))
    if own:
        collector.raise_if_any()
    written = {canon: names[key] for canon, key in mapping.items()}
    return SeriesFile(raw.label, role, raw.sha256, frame, written, raw.lines)


def load_cboe(path: PathLike, *, name: str = "close") -> pd.Series:
    """Read a Cboe history download (``VIX_History.csv``: DATE, OPEN, HIGH, LOW, CLOSE, or
    ``VVIX_History.csv``: DATE, VVIX; dates MM/DD/YYYY) into a close-price Series indexed
    by date, validated (raises :class:`~alvh_dsl.market.history.DataError`)."""
    series = load_series(path, "vix")
    return series.frame["vix"].rename(name)


def _origin(series: SeriesFile, column: str, index: pd.DatetimeIndex) -> Origin:
    src = series.frame.index.to_numpy()
    target = index.to_numpy()
    pos = np.searchsorted(src, target)
    clipped = np.minimum(pos, len(src) - 1)
    present = (pos < len(src)) & (src[clipped] == target)
    last = series.lines[-1] + 1 if len(series.lines) else 2
    lines = np.where(pos < len(src), series.lines[clipped], last).astype(np.int64)
    return Origin(series.path, series.written[column], lines, present)


def _span_note(series: SeriesFile) -> str:
    idx = series.frame.index
    return f"{series.role}: {series.path}, {len(idx)} rows, {idx[0].date()} .. {idx[-1].date()}"


def _dropped_note(series: SeriesFile, index: pd.DatetimeIndex) -> str | None:
    own = series.frame.index
    inside = own[(own >= index[0]) & (own <= index[-1])]
    dropped = inside.difference(index)
    if len(dropped) == 0:
        return None
    shown = ", ".join(str(d.date()) for d in dropped[:5]) + (", …" if len(dropped) > 5 else "")
    return f"dropped {len(dropped)} row(s) of {series.path} on days without an SPX close ({shown})"


def _round_index_levels(table: Table) -> None:
    # The S&P 500 is published to 2 decimals; Yahoo's downloads carry float32 noise
    # (4773.4501953125). Rounding restores the published value, and the note says so.
    changed = 0
    for column in ("spx", *_OHLC.values()):
        if column in table.frame:
            values = table.frame[column].to_numpy()
            rounded = np.round(values, 2)
            with np.errstate(invalid="ignore"):
                changed += int(np.sum(np.abs(rounded - values) > 1e-9))
            table.frame[column] = rounded
    if changed:
        table.notes.append(
            f"rounded {changed} SPX value(s) to 2 decimals (float noise in the source)"
        )


def _check_calendar_window(table: Table, collector: Collector) -> None:
    """The merged history's days must lie where the expiry calendar can place them (source
    files may reach further back: their rows outside the common span are dropped)."""
    windows = [("spx", pd.DatetimeIndex(table.frame.index), LAST_ROW_DAY)]
    for column in EXPIRY_COLUMNS:
        if column in table.frame:
            windows.append((column, pd.DatetimeIndex(table.frame[column]), LAST_DAY))
    for column, days, last in windows:
        origin = table.origins[column]
        where = "" if column == "spx" else origin.column  # a row's date: the whole row
        for pos in np.flatnonzero(outside(days, FIRST_DAY, last)):
            message = range_message(days[pos], FIRST_DAY, last)
            collector.add(origin.file, int(origin.lines[pos]), where, message)


def merge(
    *,
    spx: PathLike,
    vix: PathLike,
    vvix: PathLike | None = None,
    futures: PathLike | None = None,
    start: Any = None,
    end: Any = None,
    gaps: GapPolicy = "error",
    futures_zero: ZeroPolicy = "error",
) -> History:
    """Merge SPX, VIX and optional VVIX / VIX-futures files into one validated History.

    ``start`` / ``end`` narrow the span; ``gaps`` and ``futures_zero`` are as in
    :func:`~alvh_dsl.market.history.load_history` (``futures_zero="missing"`` reads the 0
    settlements of ``8_m_settle.csv`` as "no settlement"). Raises
    :class:`~alvh_dsl.market.history.DataError` naming file, row and column.
    """
    if gaps not in ("error", "ffill", "keep"):
        raise ValueError(f"unknown gap policy {gaps!r}; expected 'error', 'ffill' or 'keep'")
    collector = Collector()
    inputs: list[SeriesFile] = []
    for role, path in (("spx", spx), ("vix", vix), ("vvix", vvix), ("futures", futures)):
        if path is not None:
            inputs.append(load_series(path, role, collector=collector))  # type: ignore[arg-type]
    collector.raise_if_any()
    for series in inputs:
        if series.frame.empty:
            collector.add(series.path, 0, "", "no data rows")
    collector.raise_if_any()
    spx_file, vix_file = inputs[0], inputs[1]
    lo = max(spx_file.frame.index[0], vix_file.frame.index[0])
    hi = min(spx_file.frame.index[-1], vix_file.frame.index[-1])
    if start is not None:
        lo = max(lo, pd.Timestamp(start))
    if end is not None:
        hi = min(hi, pd.Timestamp(end))
    spx_days = spx_file.frame.index
    index = spx_days[(spx_days >= lo) & (spx_days <= hi)]
    if len(index) == 0:
        collector.add(
            spx_file.path,
            0,
            "",
            f"no SPX rows in the common span {lo.date()} .. {hi.date()} "
            "of the SPX and VIX files (and --start / --end)",
        )
        collector.raise_if_any()
    notes = [_span_note(s) for s in inputs]
    notes.append(
        f"merged span {index[0].date()} .. {index[-1].date()}: SPX trading days where both "
        "the SPX and the VIX files have data"
    )
    columns: dict[str, Any] = {}
    origins: dict[str, Origin] = {}
    for series in inputs:
        aligned = series.frame.reindex(index)
        for column in series.frame.columns:
            columns[column] = aligned[column].to_numpy()
            origins[column] = _origin(series, column, index)
        if series is not spx_file:
            dropped = _dropped_note(series, index)
            if dropped:
                notes.append(dropped)
    table = Table(pd.DataFrame(columns, index=index), origins, notes)
    _check_calendar_window(table, collector)
    _round_index_levels(table)
    zeros_to_missing(table, futures_zero)
    check_values(table, collector)
    apply_gap_policy(table, gaps, collector)
    collector.raise_if_any()
    provenance = Provenance(sources=tuple(s.source() for s in inputs), notes=tuple(table.notes))
    return History(canonical_frame(table.frame), provenance)
