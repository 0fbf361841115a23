"""The daily market history a dry-run replays: model, loader and writer.

A :class:`History` is a pandas DataFrame indexed by date (a sorted, unique
``DatetimeIndex`` named ``date``) plus :class:`Provenance` (source files with the sha256 of
their bytes, notes on anything done to the data, and whether it is synthetic).

Columns (see ``docs/data.md``): required ``spx`` and ``vix`` closes; optional
``spx_open/high/low``, ``vix_open``, ``vvix``, ``vx1``…``vx9`` (VIX futures settlements by
calendar-month slot: ``vxk`` is the contract expiring k-1 months after month 1),
``vx1_expiry``… ``vx9_expiry`` (their final settlement dates), ``spx_settlement`` and
``vix_settlement`` (the final settlement value of an expiry on that row's date or in the gap
since the previous row), ``rate`` and ``dividend_yield`` (decimals, continuously
compounded), ``advances`` and ``declines`` (NYSE issue counts).

Entry points:

- :func:`load_history` reads our CSV / Parquet format, validates it and applies a gap
  policy; problems raise one :class:`DataError` listing every ``file:row:column: message``.
- :func:`alvh_dsl.market.sources.merge` builds a history from Cboe / Yahoo downloads.
- :func:`alvh_dsl.market.synth.default_history` is the built-in synthetic history (no
  data needed).
- :func:`write_history` writes CSV or Parquet atomically (Parquet keeps the provenance).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import DataError
from ..fileio import atomic_path
from .limits import FIRST_DAY, LAST_DAY, LAST_ROW_DAY, outside, range_message
from .validation import (
    COLUMN_ORDER,
    EXPIRY_COLUMNS,
    FUTURES_COLUMNS,
    NUMERIC_COLUMNS,
    REQUIRED_COLUMNS,
    SETTLEMENT_COLUMNS,
    Collector,
    GapPolicy,
    Origin,
    RawFile,
    Table,
    ZeroPolicy,
    apply_gap_policy,
    check_date_order,
    check_values,
    issue,
    normalized_columns,
    parse_dates,
    parse_numbers,
    read_file,
    zeros_to_missing,
)

__all__ = [
    "COLUMN_ORDER",
    "EXPIRY_COLUMNS",
    "FUTURES_COLUMNS",
    "REQUIRED_COLUMNS",
    "SETTLEMENT_COLUMNS",
    "DataError",
    "GapPolicy",
    "History",
    "Provenance",
    "Source",
    "ZeroPolicy",
    "load_history",
    "write_history",
]


@dataclass(frozen=True)
class Source:
    """One input: its path as given, the sha256 of its bytes, and its role
    (``history``, ``spx``, ``vix``, ``vvix``, ``futures`` or ``synthetic``)."""

    path: str
    sha256: str
    role: str = "history"


@dataclass(frozen=True)
class Provenance:
    """Where a history came from and what was done to it on the way in.

    ``notes`` record every change or omission (e.g. "forward-filled 2 gap(s) in vvix
    (2010-11-11, 2013-05-13)"); ``synthetic`` marks generated data and ``generator`` says
    how to regenerate it. Reports should print all of it.
    """

    sources: tuple[Source, ...] = ()
    notes: tuple[str, ...] = ()
    synthetic: bool = False
    generator: str | None = None

    @property
    def sha256(self) -> str:
        """The sha256 of the single input file, or of ``path:sha256`` lines for several."""
        if len(self.sources) == 1:
            return self.sources[0].sha256
        text = "".join(f"{s.role}:{s.path}:{s.sha256}\n" for s in self.sources)
        return hashlib.sha256(text.encode()).hexdigest()

    def with_notes(self, *notes: str) -> Provenance:
        """A copy with ``notes`` appended."""
        return replace(self, notes=(*self.notes, *notes))

    def to_json(self) -> str:
        """Serialise (stored in the metadata of Parquet files we write)."""
        return json.dumps(
            {
                "sources": [vars(s) for s in self.sources],
                "notes": list(self.notes),
                "synthetic": self.synthetic,
                "generator": self.generator,
            }
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Provenance:
        """Inverse of :meth:`to_json` (already decoded)."""
        return cls(
            sources=tuple(Source(**s) for s in data.get("sources", [])),
            notes=tuple(data.get("notes", [])),
            synthetic=bool(data.get("synthetic", False)),
            generator=data.get("generator"),
        )


@dataclass(frozen=True, eq=False)
class History:
    """A validated daily history. Treat ``frame`` as read-only.

    ``frame`` has a sorted, unique ``DatetimeIndex`` named ``date``; numeric columns are
    float64 (NaN = missing, i.e. unknown to rules) and ``vx*_expiry`` columns are
    ``datetime64[ns]``. Build one with :func:`load_history`, :func:`merge`,
    :func:`synthesize` or :meth:`from_frame` so that it is always validated.
    """

    frame: pd.DataFrame
    provenance: Provenance = field(default_factory=Provenance)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        source: str = "<frame>",
        provenance: Provenance | None = None,
        gaps: GapPolicy = "error",
    ) -> History:
        """Validate a DataFrame (dates in a ``date`` column or the index) into a History.

        Issues name ``source`` and the 1-based record number.
        """
        cells = frame
        if "date" not in {str(c).lower() for c in frame.columns}:
            cells = frame.reset_index(names="date")
        cells = cells.reset_index(drop=True)
        raw = RawFile(source, "", "frame", cells, np.arange(1, len(cells) + 1, dtype=np.int64), 0)
        table = _table_from_raw(raw, gaps=gaps, futures_zero="error")
        prov = provenance or Provenance(sources=(Source(source, "", "frame"),))
        return cls(canonical_frame(table.frame), prov.with_notes(*table.notes))

    # ----------------------------------------------------------------- accessors
    @property
    def dates(self) -> pd.DatetimeIndex:
        """The trading days."""
        return self.frame.index

    @property
    def start(self) -> pd.Timestamp:
        return self.frame.index[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.frame.index[-1]

    def __len__(self) -> int:
        return len(self.frame)

    def has(self, column: str) -> bool:
        """Whether ``column`` exists and holds at least one value."""
        return column in self.frame and bool(self.frame[column].notna().any())

    def values(self, column: str) -> npt.NDArray[Any]:
        """The column as a NumPy array (float64 with NaN, or datetime64 with NaT)."""
        if column not in self.frame:
            raise KeyError(f"history has no column {column!r} (has: {', '.join(self.frame)})")
        values: npt.NDArray[Any] = self.frame[column].to_numpy()
        return values

    @property
    def futures_months(self) -> tuple[int, ...]:
        """The months k for which a ``vxk`` column holds any value."""
        return tuple(k for k, c in enumerate(FUTURES_COLUMNS, 1) if self.has(c))

    @property
    def synthetic(self) -> bool:
        return self.provenance.synthetic

    def between(self, start: Any = None, end: Any = None) -> History:
        """The rows with ``start <= date <= end`` (either bound optional)."""
        lo = pd.Timestamp(start) if start is not None else self.start
        hi = pd.Timestamp(end) if end is not None else self.end
        sliced = self.frame.loc[lo:hi]
        if sliced.empty:
            raise ValueError(f"no rows between {lo.date()} and {hi.date()}")
        note = f"restricted to {sliced.index[0].date()} .. {sliced.index[-1].date()}"
        return History(sliced, self.provenance.with_notes(note))

    def summary(self) -> str:
        """A human-readable description: span, rows, column coverage, provenance."""
        lines = [
            f"{len(self)} rows, {self.start.date()} .. {self.end.date()}"
            + (" (synthetic)" if self.synthetic else ""),
        ]
        for column in self.frame.columns:
            series = self.frame[column]
            count = int(series.notna().sum())
            if count == 0:
                lines.append(f"  {column:<15} empty")
                continue
            first = series.first_valid_index().date()
            last = series.last_valid_index().date()
            text = f"  {column:<15} {count:>6} values  {first} .. {last}"
            if column in NUMERIC_COLUMNS:
                text += f"  min {series.min():.6g}  max {series.max():.6g}"
            lines.append(text)
        for source in self.provenance.sources:
            lines.append(f"source {source.role}: {source.path} sha256 {source.sha256 or '-'}")
        if self.provenance.generator:
            lines.append(f"generator: {self.provenance.generator}")
        lines.extend(f"note: {note}" for note in self.provenance.notes)
        return "\n".join(lines)


# ----------------------------------------------------------------------- loading


def load_history(
    path: str | Path,
    *,
    gaps: GapPolicy = "error",
    futures_zero: ZeroPolicy = "error",
) -> History:
    """Load and validate a history file in our format (CSV, or Parquet by suffix).

    ``gaps`` is the policy for empty cells inside a series (see
    :func:`~alvh_dsl.market.validation.apply_gap_policy`): ``"error"`` (default),
    ``"ffill"`` or ``"keep"``. ``futures_zero="missing"`` reads 0 futures settlements as
    missing instead of rejecting them. Raises :class:`DataError` listing every problem
    found, each as ``file:row:column: message``.
    """
    raw = read_file(path)
    table = _table_from_raw(raw, gaps=gaps, futures_zero=futures_zero)
    stored = _stored_provenance(raw)
    source = Source(str(path), raw.sha256, "history")
    if stored is not None:
        prov = Provenance(
            sources=(source,),
            notes=(*stored.notes, *table.notes),
            synthetic=stored.synthetic,
            generator=stored.generator,
        )
        if stored.sources:
            inputs = ", ".join(f"{s.path} ({s.sha256[:12]})" for s in stored.sources if s.sha256)
            if inputs:
                prov = prov.with_notes(f"built from {inputs}")
    else:
        prov = Provenance(sources=(source,), notes=tuple(table.notes))
    return History(canonical_frame(table.frame), prov)


def _stored_provenance(raw: RawFile) -> Provenance | None:
    """The provenance a Parquet file we wrote carries, or an E601 naming the file when its
    JSON object does not have our shape (a hand-edited or foreign ``alvh`` key)."""
    if not raw.metadata:
        return None
    try:
        stored = Provenance.from_json(raw.metadata)
        for text in (*stored.notes, *(s.path + s.sha256 + s.role for s in stored.sources)):
            if not isinstance(text, str):
                raise TypeError(f"expected text, got {type(text).__name__}")
    except (TypeError, ValueError, AttributeError) as exc:
        message = f"`alvh` provenance metadata does not have the expected shape ({exc})"
        raise DataError([issue(raw.label, 0, "", message)]) from None
    return stored


def _check_window(
    raw: RawFile, column: str, days: Any, last: pd.Timestamp, collector: Collector
) -> None:
    """Report days outside FIRST_DAY .. ``last``: the expiry calendar cannot place them."""
    for pos in np.flatnonzero(outside(days, FIRST_DAY, last)):
        message = range_message(days[pos], FIRST_DAY, last)
        collector.add(raw.label, raw.lines[pos], column, message)


def _table_from_raw(raw: RawFile, *, gaps: GapPolicy, futures_zero: ZeroPolicy) -> Table:
    if gaps not in ("error", "ffill", "keep"):
        raise ValueError(f"unknown gap policy {gaps!r}; expected 'error', 'ffill' or 'keep'")
    collector = Collector()
    names = normalized_columns(raw)
    if "date" not in names:
        collector.add(raw.label, raw.header_row, "date", "missing the date column")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    for column in missing:
        hint = ""
        if "close" in names:
            hint = (
                " (this looks like a Cboe or Yahoo price file: merge those with `alvh data merge`)"
            )
        collector.add(
            raw.label, raw.header_row, column, f"missing required column {column!r}{hint}"
        )
    if len(raw.cells) == 0:
        collector.add(raw.label, raw.header_row, "", "no data rows")
    collector.raise_if_any()
    ignored = sorted(c for c in names if c != "date" and c not in COLUMN_ORDER)
    dates = parse_dates(raw, names["date"], collector, required=True)
    _check_window(raw, names["date"], dates, LAST_ROW_DAY, collector)
    check_date_order(raw, names["date"], dates, collector)
    columns: dict[str, Any] = {}
    for column in COLUMN_ORDER:
        if column not in names:
            continue
        if column in EXPIRY_COLUMNS:
            columns[column] = parse_dates(raw, names[column], collector, required=False)
            _check_window(raw, names[column], columns[column], LAST_DAY, collector)
        else:
            columns[column], _ = parse_numbers(raw, names[column], collector)
    frame = pd.DataFrame(columns, index=pd.DatetimeIndex(dates, name="date"))
    present = np.ones(len(frame), dtype=bool)
    origins = {
        column: Origin(raw.label, names[column], raw.lines, present) for column in frame.columns
    }
    table = Table(frame, origins)
    if ignored:
        table.notes.append(f"ignored unknown column(s): {', '.join(ignored)}")
    zeros_to_missing(table, futures_zero)
    check_values(table, collector)
    apply_gap_policy(table, gaps, collector)
    collector.raise_if_any()
    return table


def canonical_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical column order and dtypes."""
    ordered = [c for c in COLUMN_ORDER if c in frame.columns]
    out = frame[ordered].copy()
    for column in ordered:
        if column in EXPIRY_COLUMNS:
            out[column] = out[column].astype("datetime64[ns]")
        else:
            out[column] = out[column].astype(np.float64)
    out.index = pd.DatetimeIndex(out.index, name="date").as_unit("ns")
    return out


# ----------------------------------------------------------------------- writing


def write_history(history: History, path: str | Path) -> None:
    """Write ``history`` to ``path`` (``.parquet``/``.pq`` or ``.csv``), atomically.

    The data goes to a temporary file in the destination directory that is then renamed
    over ``path``, so a reader never sees a half-written file. Parquet keeps the
    provenance in the file's metadata; CSV cannot.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv"):
        raise ValueError(f"unknown output format {path.suffix!r}: use .parquet or .csv")
    frame = history.frame.reset_index()
    with atomic_path(path) as tmp_name:
        if suffix == ".csv":
            frame.to_csv(tmp_name, index=False, date_format="%Y-%m-%d")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            meta = dict(table.schema.metadata or {})
            meta[b"alvh"] = history.provenance.to_json().encode()
            pq.write_table(table.replace_schema_metadata(meta), tmp_name)
