"""A run's day rows kept as columns, zipped into dicts only when read.

Plain Python, no NumPy: the report's modules read the columns without importing it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

__all__ = ["DailyRows", "column_of", "columns_of"]


class DailyRows(Sequence[dict[str, Any]]):
    """A run's day rows (``RunResult.daily_rows``): a read-only sequence of dicts, one per
    day, kept as its columns and zipped into dicts only when read.

    Most readers want a few columns of every day (the summary, the comparison, the notes,
    ``daily.parquet``): :meth:`column` (or :func:`column_of`, which takes plain lists of
    dicts too) hands them out as they are, and a day read by index is built alone. Each
    row is built once and kept, so ``rows[i] is rows[i]``, and a whole pass (iteration, a
    slice) builds the rest. It equals a list of the same dicts, and pickles as its columns.
    """

    __slots__ = ("_built", "_columns", "_n", "_names", "_rows")

    def __init__(self, columns: dict[str, Sequence[Any]]) -> None:
        # No days, no columns: readers then take the rows' path, which gives [] for any key.
        self._columns: dict[str, Sequence[Any]] | None = columns or None
        self._names = list(columns)
        self._n = len(next(iter(columns.values()))) if columns else 0
        self._rows: list[dict[str, Any] | None] = [None] * self._n
        self._built = 0  # rows built so far

    @classmethod
    def of(cls, rows: list[dict[str, Any]]) -> DailyRows:
        """Rows already built (a run whose days hold different keys): no columns."""
        out = cls({})
        out._n = len(rows)
        out._rows = list(rows)
        out._built = len(rows)
        return out

    @property
    def columns(self) -> dict[str, Sequence[Any]] | None:
        """Each key's values over the days, in the rows' key order; None when there are no
        days or the days do not all hold the same keys. Read only."""
        return self._columns

    def column(self, key: str) -> Sequence[Any]:
        """``[row[key] for row in self]``, without building the rows when the columns are
        kept (``KeyError`` when no row holds ``key``, as the rows would raise)."""
        if self._columns is not None:
            return self._columns[key]
        return [r[key] for r in self]

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return self._all()[index]
        i = index + self._n if index < 0 else index
        if not 0 <= i < self._n:
            raise IndexError("daily row index out of range")
        row = self._rows[i]
        if row is None:
            assert self._columns is not None  # built rows leave no None
            row = self._rows[i] = {k: c[i] for k, c in self._columns.items()}
            self._built += 1
        return row

    def _all(self) -> list[dict[str, Any]]:
        rows = self._rows
        if self._built < self._n:
            assert self._columns is not None
            names, columns = self._names, list(self._columns.values())
            if self._built == 0:
                rows[:] = [dict(zip(names, v, strict=False)) for v in zip(*columns, strict=False)]
            else:
                for i, row in enumerate(rows):
                    if row is None:
                        rows[i] = {k: c[i] for k, c in zip(names, columns, strict=True)}
            self._built = self._n
        return rows  # type: ignore[return-value]  # every row is built now

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DailyRows):
            other = other._all()
        if isinstance(other, list):
            return self._all() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable rows, as a list's

    def __repr__(self) -> str:
        return f"<DailyRows: {self._n} day(s)>"

    def __reduce__(self) -> tuple[Any, ...]:
        if self._columns is None:
            return (DailyRows.of, (self._all(),))
        return (DailyRows, (self._columns,))


def columns_of(rows: Sequence[Mapping[str, Any]]) -> dict[str, Sequence[Any]] | None:
    """The kept columns of :class:`DailyRows` (see :attr:`DailyRows.columns`), else None."""
    return rows.columns if isinstance(rows, DailyRows) else None


def column_of(rows: Sequence[Mapping[str, Any]], key: str) -> Sequence[Any]:
    """``[row[key] for row in rows]``: the kept column of :class:`DailyRows`, else the rows'
    values (rows built elsewhere: a run directory read back, a test's)."""
    if isinstance(rows, DailyRows):
        return rows.column(key)
    return [r[key] for r in rows]
