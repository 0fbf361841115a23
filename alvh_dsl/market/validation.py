"""Reading raw cells and validating them, with every issue traced to file, row and column.

Internal to :mod:`alvh_dsl.market.history` and :mod:`alvh_dsl.market.sources`; the public
names (:class:`~alvh_dsl.errors.DataError`, the column constants) are re-exported there.

The pipeline is: :func:`read_file` (bytes, hash, raw string cells and their line numbers)
→ :func:`parse_table` (dates and numbers, structural checks) → :func:`check_values` (a
tuple of independent passes over a :class:`Table`) → :func:`apply_gap_policy`. Each step
adds an E601 :class:`~alvh_dsl.lang.diagnostics.Diagnostic` at ``file:row:column`` (see
:func:`issue`) to a :class:`Collector`; the caller raises them together as one
:class:`~alvh_dsl.errors.DataError`, so a user sees every problem (up to
:data:`MAX_ISSUES`) at once.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import DataError
from ..fileio import HISTORY_LIMIT, read_regular_file
from ..lang.diagnostics import DataSpan, Diagnostic, data_span, error
from .limits import READABLE_FIRST, READABLE_LAST, in_range_days, range_message
from .parquet_reader import read_parquet

GapPolicy = Literal["error", "ffill", "keep"]
ZeroPolicy = Literal["error", "missing"]

REQUIRED_COLUMNS = ("spx", "vix")
OHLC_COLUMNS = ("spx_open", "spx_high", "spx_low")
FUTURES_MONTHS = 9
FUTURES_COLUMNS = tuple(f"vx{k}" for k in range(1, FUTURES_MONTHS + 1))
EXPIRY_COLUMNS = tuple(f"vx{k}_expiry" for k in range(1, FUTURES_MONTHS + 1))
RATE_COLUMNS = ("rate", "dividend_yield")
BREADTH_COLUMNS = ("advances", "declines")
#: Final settlement values (SPX SOQ, VIX VRO) of an expiry on the row's date or in the gap
#: since the previous row; empty on other rows (docs/data.md).
SETTLEMENT_COLUMNS = ("spx_settlement", "vix_settlement")
#: Every column a history may carry, in the order a written file uses.
COLUMN_ORDER = (
    *OHLC_COLUMNS,
    *REQUIRED_COLUMNS,
    "vix_open",
    "vvix",
    *FUTURES_COLUMNS,
    *EXPIRY_COLUMNS,
    *SETTLEMENT_COLUMNS,
    *RATE_COLUMNS,
    *BREADTH_COLUMNS,
)
NUMERIC_COLUMNS = tuple(c for c in COLUMN_ORDER if c not in EXPIRY_COLUMNS)
#: Columns that hold prices and so must be strictly positive.
PRICE_COLUMNS = (
    *OHLC_COLUMNS, *REQUIRED_COLUMNS, "vix_open", "vvix", *FUTURES_COLUMNS, *SETTLEMENT_COLUMNS
)  # fmt: skip
#: Columns the gap policy applies to. Futures slots are not among them: an empty slot means
#: "that contract month was not listed"; the term structure models and flags it instead.
#: Nor are settlement columns, which are empty on every row without an expiry.
GAP_COLUMNS = tuple(
    c for c in NUMERIC_COLUMNS if c not in FUTURES_COLUMNS and c not in SETTLEMENT_COLUMNS
)

MAX_ISSUES = 50
MISSING_TOKENS = frozenset({"", "na", "nan", "null", "none", "n/a", "#n/a", "-"})
DATE_FORMATS = (("%Y-%m-%d", "YYYY-MM-DD"), ("%m/%d/%Y", "MM/DD/YYYY"), ("%m/%d/%y", "MM/DD/YY"))

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def issue(file: str, row: int, column: str, message: str) -> Diagnostic:
    """One problem in a data file: an E601 diagnostic at ``file:row:column``.

    ``row`` is the 1-based line number in a CSV file (the header is line 1, so the first
    data row is line 2) or the 1-based record number in a Parquet file / DataFrame (0 for
    problems with the schema as a whole). ``column`` is the column name as written in the
    file ("" when the issue concerns the whole row or file).
    """
    return error("E601", message, data_span(file, int(row), column))


class Collector:
    """Accumulates issues up to a cap, counting the ones past it."""

    def __init__(self, cap: int = MAX_ISSUES) -> None:
        self.cap = cap
        self.issues: list[Diagnostic] = []
        self.omitted = 0
        self._cells: set[tuple[str, int, str]] = set()
        self._rows: set[tuple[str, int]] = set()

    def add(self, file: str, row: int, column: str, message: str) -> None:
        self._keep(issue(file, row, column, message))

    def extend(self, error: DataError) -> None:
        """Report another file's :class:`DataError` with these: its problems as they are,
        and the ones it had already left out."""
        for d in error.diagnostics:
            self._keep(d)
        self.omitted += error.omitted

    def _keep(self, d: Diagnostic) -> None:
        if isinstance(d.span, DataSpan) and d.span.row is not None:
            self._cells.add((d.span.file, d.span.row, d.span.column))
            self._rows.add((d.span.file, d.span.row))
        if len(self.issues) < self.cap:
            self.issues.append(d)
        else:
            self.omitted += 1

    def reported(self, file: str, row: int, column: str | None) -> bool:
        """Whether an issue was already raised for this cell, or for any cell of the row
        when ``column`` is None (so it is not reported twice, e.g. an unreadable number
        that is also, now, an empty cell)."""
        if column is None:
            return (file, int(row)) in self._rows
        return (file, int(row), column) in self._cells

    def __bool__(self) -> bool:
        return bool(self.issues)

    def raise_if_any(self) -> None:
        if self.issues:
            raise DataError(self.issues, omitted=self.omitted)


@dataclass
class RawFile:
    """A file's undecoded cells. ``cells`` columns are the names as written; ``lines``
    gives each record's row number for :func:`issue`."""

    label: str
    sha256: str
    kind: Literal["csv", "parquet", "frame"]
    cells: pd.DataFrame
    lines: IntArray
    header_row: int
    metadata: dict[str, Any] | None = None


@dataclass
class Origin:
    """Where a table column came from: the file, its column name there, and for each
    table row the row number in that file (for a row the file lacks, the row before which
    it would sit) and whether the file actually had that row."""

    file: str
    column: str
    lines: IntArray
    present: BoolArray


@dataclass
class Table:
    """Parsed data on its way to a :class:`~alvh_dsl.market.history.History`: canonical
    columns indexed by date, with the origin of every column for error messages."""

    frame: pd.DataFrame
    origins: dict[str, Origin]
    notes: list[str] = field(default_factory=list)

    def where(self, column: str, positions: Iterable[int]) -> Iterable[tuple[int, str, int, str]]:
        """(position, file, row, column-as-written) for rows of ``column``."""
        origin = self.origins[column]
        for pos in positions:
            yield int(pos), origin.file, int(origin.lines[pos]), origin.column


def read_file(path: str | Path, label: str | None = None) -> RawFile:
    """Read a CSV or Parquet file (chosen by suffix) into raw cells, hashing its bytes."""
    path = Path(path)
    label = label or str(path)
    data = read_regular_file(path, HISTORY_LIMIT, lambda m: DataError([issue(label, 0, "", m)]))
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() in (".parquet", ".pq"):
        frame, metadata = read_parquet(data, label)
        lines = np.arange(1, len(frame) + 1, dtype=np.int64)
        return RawFile(label, digest, "parquet", frame, lines, 0, metadata)
    return _read_csv(data, label, digest)


def _read_csv(data: bytes, label: str, digest: str) -> RawFile:
    text_head = data[:4096].decode("utf-8-sig", errors="replace").splitlines()
    if not text_head or not text_head[0].strip():
        raise DataError([issue(label, 1, "", "empty file: expected a header line")])
    header = next(csv.reader([text_head[0]]))
    seen: set[str] = set()
    dupes = Collector()
    for name in header:
        key = name.strip().lower()
        if key in seen:
            dupes.add(label, 1, name.strip(), "duplicate column name")
        seen.add(key)
    dupes.raise_if_any()
    try:
        cells = pd.read_csv(
            io.BytesIO(data),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            encoding="utf-8-sig",
        )
    except pd.errors.ParserError as exc:
        raise DataError([_parser_issue(label, str(exc))]) from None
    except UnicodeDecodeError as exc:
        raise DataError([issue(label, 1, "", f"not UTF-8 text ({exc.reason})")]) from None
    # Line numbers before dropping blank records, so they match what an editor shows.
    lines = np.arange(2, len(cells) + 2, dtype=np.int64)
    if len(cells.columns):
        blank = np.ones(len(cells), dtype=bool)
        for col in cells.columns:
            blank &= cells[col].str.strip().to_numpy(dtype=object) == ""
        if blank.any():
            cells = cells.loc[~blank].reset_index(drop=True)
            lines = lines[~blank]
    return RawFile(label, digest, "csv", cells, lines, 1)


def _parser_issue(label: str, message: str) -> Diagnostic:
    # pandas: "Error tokenizing data. C error: Expected 3 fields in line 5, saw 4"
    import re

    match = re.search(r"line (\d+)", message)
    row = int(match.group(1)) if match else 0
    detail = message.split("C error: ")[-1].strip()
    return issue(label, row, "", f"malformed CSV: {detail}")


def normalized_columns(raw: RawFile) -> dict[str, str]:
    """Lower-cased, stripped column name -> the name as written (index columns dropped)."""
    out: dict[str, str] = {}
    for name in raw.cells.columns:
        key = str(name).strip().lower()
        if key == "" or key.startswith("unnamed:"):
            continue  # an R / pandas row-number column
        out[key] = str(name)
    return out


def _as_text(values: pd.Series) -> pd.Series:
    return pd.Series(values.to_numpy(dtype=object), dtype="str").str.strip()


def parse_numbers(raw: RawFile, column: str, collector: Collector) -> tuple[FloatArray, BoolArray]:
    """Cells of ``column`` as floats (NaN = missing). Non-numeric and non-finite cells are
    reported and become NaN. Also returns the mask of genuinely empty cells."""
    series = raw.cells[column]
    if pd.api.types.is_bool_dtype(series.dtype):
        values = np.full(len(series), np.nan)
        bad = np.ones(len(series), dtype=bool)
        missing = np.zeros(len(series), dtype=bool)
        texts: Sequence[Any] = series.astype(str).tolist()
    elif pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(values)
        bad = np.isinf(values)
        texts = values.tolist()
    else:
        text = _as_text(series)
        missing = (text.isna() | text.str.lower().isin(MISSING_TOKENS)).to_numpy(dtype=bool)
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = (~missing & np.isnan(values)) | np.isinf(values)
        texts = text.tolist()
    if bad.any():
        for pos in np.flatnonzero(bad):
            collector.add(
                raw.label, raw.lines[pos], column, f"not a number: {str(texts[int(pos)])!r}"
            )
        values = np.where(bad, np.nan, values)
    return values, missing


def parse_dates(raw: RawFile, column: str, collector: Collector, *, required: bool) -> FloatArray:
    """Cells of ``column`` as ``datetime64[ns]`` (NaT = missing or unreadable).

    Text dates may be YYYY-MM-DD, MM/DD/YYYY (Cboe) or MM/DD/YY; the format is taken from
    the first non-empty cell and every other cell must use the same one.
    """
    series = raw.cells[column]
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        parsed = pd.DatetimeIndex(series)
        if parsed.tz is not None:
            parsed = parsed.tz_localize(None)
        result, far = in_range_days(parsed.normalize())
        for pos in np.flatnonzero(far):
            message = range_message(parsed[pos], READABLE_FIRST, READABLE_LAST)
            collector.add(raw.label, raw.lines[pos], column, message)
        if required:
            for pos in np.flatnonzero(np.isnat(result) & ~far):
                collector.add(raw.label, raw.lines[pos], column, "missing date")
        return result
    text = _as_text(series)
    missing = (text.isna() | text.str.lower().isin(MISSING_TOKENS)).to_numpy(dtype=bool)
    non_empty = text[~missing]
    result = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    if len(non_empty) == 0:
        if required:
            for pos in np.flatnonzero(missing):
                collector.add(raw.label, raw.lines[pos], column, "missing date")
        return result
    first = str(non_empty.iloc[0])
    fmt, shown = DATE_FORMATS[0]
    for candidate, name in DATE_FORMATS:
        if not pd.isna(pd.to_datetime(first, format=candidate, errors="coerce")):
            fmt, shown = candidate, name
            break
    parsed_ok = pd.to_datetime(non_empty, format=fmt, errors="coerce")
    values, far = in_range_days(pd.DatetimeIndex(parsed_ok))
    result[~missing] = values
    for pos, value in zip(np.flatnonzero(~missing)[far], parsed_ok[far], strict=True):
        message = range_message(value, READABLE_FIRST, READABLE_LAST)
        collector.add(raw.label, raw.lines[pos], column, message)
    for pos in np.flatnonzero(~missing & np.isnat(result)):
        if collector.reported(raw.label, raw.lines[pos], column):
            continue
        collector.add(
            raw.label, raw.lines[pos], column, f"not a date: {text.iloc[pos]!r} (expected {shown})"
        )
    if required:
        for pos in np.flatnonzero(missing):
            collector.add(raw.label, raw.lines[pos], column, "missing date")
    return result


def check_date_order(
    raw: RawFile, column: str, dates: npt.NDArray[Any], collector: Collector
) -> None:
    """Dates must be unique and ascending: report duplicates and rows out of order."""
    valid = np.flatnonzero(~np.isnat(dates))
    if len(valid) < 2:
        return
    d = dates[valid]
    codes, _ = pd.factorize(d)
    _, first_of_code = np.unique(codes, return_index=True)
    first = first_of_code[codes]
    duplicate = first != np.arange(len(d))
    running_max = np.maximum.accumulate(d)
    previous_max = np.concatenate([d[:1], running_max[:-1]])
    backwards = ~duplicate & (d < previous_max)
    for i in np.flatnonzero(duplicate | backwards):
        line = raw.lines[valid[i]]
        if duplicate[i]:
            message = f"duplicate date {_day(d[i])} (first on row {raw.lines[valid[first[i]]]})"
        else:
            message = (
                f"date {_day(d[i])} is before the previous row's {_day(d[i - 1])}: "
                "rows must be in ascending date order"
            )
        collector.add(raw.label, line, column, message)


def _day(value: Any) -> str:
    return str(np.datetime64(value, "D"))


# --------------------------------------------------------------------------- value checks

Check = Callable[[Table, Collector], None]


def _check_positive(table: Table, collector: Collector) -> None:
    for column in PRICE_COLUMNS:
        if column not in table.frame:
            continue
        values = table.frame[column].to_numpy()
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(values <= 0)
        for pos, file, row, name in table.where(column, bad):
            value = values[pos]
            if value == 0:
                message = "zero is not a price (leave the cell empty when there is no value)"
            else:
                message = f"prices must be positive, got {value:g}"
            collector.add(file, row, name, message)


def _check_ohlc(table: Table, collector: Collector) -> None:
    frame = table.frame
    if not all(c in frame for c in ("spx_high", "spx_low")):
        return
    high = frame["spx_high"].to_numpy()
    low = frame["spx_low"].to_numpy()
    tol = 1e-9 * np.abs(high)
    with np.errstate(invalid="ignore"):
        for pos, file, row, name in table.where("spx_low", np.flatnonzero(low > high + tol)):
            collector.add(file, row, name, f"low {low[pos]:g} is above the high {high[pos]:g}")
        for column in ("spx", "spx_open"):
            if column not in frame:
                continue
            value = frame[column].to_numpy()
            outside = (value < low - tol) | (value > high + tol)
            for pos, file, row, name in table.where(column, np.flatnonzero(outside)):
                collector.add(
                    file,
                    row,
                    name,
                    f"{value[pos]:g} is outside the day's range {low[pos]:g} .. {high[pos]:g}",
                )


def _check_ranges(table: Table, collector: Collector) -> None:
    frame = table.frame
    with np.errstate(invalid="ignore"):
        if "rate" in frame:
            rate = frame["rate"].to_numpy()
            for pos, file, row, name in table.where("rate", np.flatnonzero(np.abs(rate) > 1)):
                collector.add(
                    file,
                    row,
                    name,
                    f"rate {rate[pos]:g} looks like a percent: rates are decimals (0.05 means 5 %)",
                )
        if "dividend_yield" in frame:
            dy = frame["dividend_yield"].to_numpy()
            bad = np.flatnonzero((dy < 0) | (dy >= 1))
            for pos, file, row, name in table.where("dividend_yield", bad):
                collector.add(
                    file,
                    row,
                    name,
                    f"dividend yield {dy[pos]:g} is outside 0 .. 1: yields are decimals "
                    "(0.02 means 2 %)",
                )
        for column in BREADTH_COLUMNS:
            if column not in frame:
                continue
            count = frame[column].to_numpy()
            bad = np.flatnonzero((count < 0) | (count != np.round(count)))
            for pos, file, row, name in table.where(column, bad):
                collector.add(
                    file,
                    row,
                    name,
                    f"a count of issues must be a whole number >= 0, got {count[pos]:g}",
                )


def _check_expiries(table: Table, collector: Collector) -> None:
    frame = table.frame
    dates = frame.index.to_numpy()
    previous: tuple[str, npt.NDArray[Any]] | None = None
    for column in EXPIRY_COLUMNS:
        if column not in frame:
            previous = None
            continue
        expiry = frame[column].to_numpy()
        present = ~np.isnat(expiry)
        stale = np.flatnonzero(present & (expiry <= dates))
        for pos, file, row, name in table.where(column, stale):
            collector.add(
                file,
                row,
                name,
                f"expiry {_day(expiry[pos])} is not after the date {_day(dates[pos])}: a contract "
                "has settled on the morning of its expiry, so on that date month 1 is the next one",
            )
        if previous is not None:
            prev_name, prev = previous
            both = present & ~np.isnat(prev)
            for pos, file, row, name in table.where(
                column, np.flatnonzero(both & (expiry <= prev))
            ):
                collector.add(
                    file,
                    row,
                    name,
                    f"expiry {_day(expiry[pos])} is not after {prev_name} {_day(prev[pos])}",
                )
        previous = (column, expiry)


#: The value checks, independent passes sharing one signature.
VALUE_CHECKS: tuple[Check, ...] = (_check_positive, _check_ohlc, _check_ranges, _check_expiries)


def check_values(table: Table, collector: Collector) -> None:
    """Run every value check over ``table``."""
    for check in VALUE_CHECKS:
        check(table, collector)


def zeros_to_missing(table: Table, policy: ZeroPolicy) -> None:
    """With ``policy="missing"``, turn zero futures settlements into missing values (some
    sources write 0 for "no settlement") and note how many."""
    if policy == "error":
        return
    if policy != "missing":
        raise ValueError(f"unknown zero policy {policy!r}; expected 'error' or 'missing'")
    total = 0
    for column in FUTURES_COLUMNS:
        if column in table.frame:
            zero = table.frame[column].to_numpy() == 0
            if zero.any():
                total += int(zero.sum())
                table.frame.loc[zero, column] = np.nan
    if total:
        table.notes.append(f"treated {total} zero futures settlement(s) as missing")


def _dates_text(dates: npt.NDArray[Any], limit: int = 5) -> str:
    shown = ", ".join(_day(d) for d in dates[:limit])
    return shown + (", …" if len(dates) > limit else "")


def apply_gap_policy(table: Table, policy: GapPolicy, collector: Collector) -> None:
    """Handle empty cells in the series columns (:data:`GAP_COLUMNS`).

    A gap is an empty cell in a required column, or one strictly between the first and
    last values of an optional column (a series that starts late, like VVIX in 2007, is
    not gappy before it starts). ``"error"`` reports every gap; ``"ffill"`` carries the
    previous value forward and notes how many cells it filled; ``"keep"`` leaves optional
    gaps missing (rules see "unknown") and notes them. Required columns can only be
    forward-filled.
    """
    if policy not in ("error", "ffill", "keep"):
        raise ValueError(f"unknown gap policy {policy!r}; expected 'error', 'ffill' or 'keep'")
    frame = table.frame
    dates = frame.index.to_numpy()
    for column in GAP_COLUMNS:
        if column not in frame:
            continue
        values = frame[column].to_numpy()
        missing = np.isnan(values)
        if not missing.any():
            continue
        required = column in REQUIRED_COLUMNS
        origin = table.origins[column]
        # Cells already reported (unreadable numbers) are not gaps on top of that, nor is
        # a row its file lacks and an earlier column already reported (vix, then vix_open).
        reported = np.array(
            [
                collector.reported(origin.file, row, None if absent else origin.column)
                for row, absent in zip(origin.lines, ~origin.present, strict=True)
            ],
            dtype=bool,
        )
        filled = np.flatnonzero(~missing)
        if len(filled) == 0:
            if required and not reported.any():
                collector.add(origin.file, origin.lines[0], origin.column, "no values at all")
            continue
        positions = np.arange(len(values))
        inside = (positions > filled[0]) & (positions < filled[-1])
        gaps = missing & (inside | required) & ~reported
        if not gaps.any():
            continue
        leading = gaps & (positions < filled[0])
        if policy == "ffill" or (policy == "keep" and not required):
            for pos, file, row, name in table.where(column, np.flatnonzero(leading)):
                collector.add(
                    file, row, name, _gap_message(table, column, pos, dates, leading=True)
                )
            fillable = gaps & ~leading
            if not fillable.any():
                continue
            where = np.flatnonzero(fillable)
            if policy == "ffill":
                frame[column] = frame[column].ffill().where(~missing | fillable)
                table.notes.append(
                    f"forward-filled {len(where)} gap(s) in {column} ({_dates_text(dates[where])})"
                )
            else:
                table.notes.append(
                    f"kept {len(where)} gap(s) in {column} as missing ({_dates_text(dates[where])})"
                )
            continue
        for pos, file, row, name in table.where(column, np.flatnonzero(gaps)):
            collector.add(file, row, name, _gap_message(table, column, pos, dates, leading=False))


def _gap_message(
    table: Table, column: str, pos: int, dates: npt.NDArray[Any], *, leading: bool
) -> str:
    origin = table.origins[column]
    day = _day(dates[pos])
    what = f"no value on {day}" if origin.present[pos] else f"no row for {day}"
    if leading:
        return f"{what}, and no earlier value to carry forward (required column)"
    hint = "gaps='ffill' (CLI: --gaps ffill) carries the previous value forward"
    if column not in REQUIRED_COLUMNS:
        hint += "; gaps='keep' leaves it missing"
    return f"{what} (a gap in {column}); {hint}"
