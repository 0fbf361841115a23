"""Reading a Parquet history into raw cells (:func:`read_parquet`), refusing what a
hostile or damaged file can hold: an unreadable file, ``alvh`` provenance metadata that is
not a JSON object in UTF-8, and binary columns whose bytes are not UTF-8 text. Each is an
E601 naming the file (and, for a cell, its record and column), never a traceback.

Split from :mod:`alvh_dsl.market.validation` (which calls it) to keep that module small;
it imports nothing from there, so that the two do not import each other.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd

from ..errors import DataError
from ..lang.diagnostics import Diagnostic, data_span, error

MAX_ISSUES = 50  # as validation.MAX_ISSUES


def issue(file: str, row: int, column: str, message: str) -> Diagnostic:
    """An E601 at ``file:row:column`` (validation.issue, which this module cannot import)."""
    return error("E601", message, data_span(file, int(row), column))


def read_parquet(data: bytes, label: str) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """The raw cells of a Parquet file's bytes (records numbered from 1, in order) and
    its decoded ``alvh`` provenance metadata, if any."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
        frame = table.to_pandas()
    except (pa.ArrowException, OSError, ValueError, OverflowError) as exc:
        # ValueError / OverflowError: pandas refusing a timestamp column it cannot hold.
        raise DataError([issue(label, 0, "", f"not a readable Parquet file ({exc})")]) from None
    metadata = _metadata(table.schema.metadata, label)
    if isinstance(frame.index, pd.DatetimeIndex):
        frame = frame.reset_index(names=frame.index.name or "date")
    frame = frame.reset_index(drop=True)
    binary = [str(f.name) for f in table.schema if pa.types.is_binary(f.type)]
    binary += [str(f.name) for f in table.schema if pa.types.is_large_binary(f.type)]
    _decode_binary(frame, binary, label)
    return frame, metadata


def _metadata(schema_meta: dict[bytes, bytes] | None, label: str) -> dict[str, Any] | None:
    raw = (schema_meta or {}).get(b"alvh")
    if not raw:
        return None
    try:
        decoded = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        message = f"unreadable `alvh` provenance metadata ({exc})"
        raise DataError([issue(label, 0, "", message)]) from None
    if not isinstance(decoded, dict):
        message = f"`alvh` provenance metadata is a JSON {type(decoded).__name__}, not an object"
        raise DataError([issue(label, 0, "", message)])
    return decoded


def _decode_binary(frame: pd.DataFrame, columns: list[str], label: str) -> None:
    """Binary cells as text (pandas would keep ``bytes``, which no later parse expects);
    cells that are not UTF-8 are reported at their record and column."""
    issues: list[Diagnostic] = []
    for column in columns:
        if column not in frame.columns:
            continue  # an index column already turned into the dates
        texts: list[str | None] = []
        for pos, value in enumerate(frame[column].tolist()):
            if value is None:
                texts.append(None)
                continue
            try:
                texts.append(bytes(value).decode("utf-8"))
            except UnicodeDecodeError as exc:
                issues.append(issue(label, pos + 1, column, f"not UTF-8 text ({exc.reason})"))
                texts.append(None)
        frame[column] = pd.Series(texts, dtype=object, index=frame.index)
    if issues:
        raise DataError(issues[:MAX_ISSUES], omitted=max(0, len(issues) - MAX_ISSUES))
