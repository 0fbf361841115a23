"""Tests of the market layer; :func:`problems` reads a DataError's diagnostics as rows."""

from __future__ import annotations

from typing import NamedTuple

from alvh_dsl.errors import DataError
from alvh_dsl.lang.diagnostics import DataSpan


class Problem(NamedTuple):
    """A data diagnostic flattened for comparisons: where it is, and what it says."""

    file: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = (
            f"{self.file}:{self.row}:{self.column}" if self.column else f"{self.file}:{self.row}"
        )
        return f"{where}: {self.message}"


def problems(error: DataError) -> list[Problem]:
    """Every E601 diagnostic of ``error`` as a :class:`Problem`."""
    out = []
    for d in error.diagnostics:
        assert d.code == "E601" and isinstance(d.span, DataSpan), d
        out.append(Problem(d.span.file, d.span.row, d.span.column, d.message))
    return out
