"""The end-of-run pass's column helpers (``status_days.columns``, ``picker``,
``transposed``) give what the per-column comprehensions they replace gave."""

from __future__ import annotations

from typing import Any

import pytest

from alvh_dsl.dryrun.status_days import columns, picker, transposed


@pytest.mark.parametrize("at", [[], [2], [0, 2], [1, 1, 0], [3, 0, 3, 1]])
def test_columns_are_the_rows_read_at_each_position(at: list[int]) -> None:
    rows = [[(i, p) for p in range(4)] for i in range(7)]
    assert [list(c) for c in columns(rows, at)] == [[row[p] for row in rows] for p in at]


@pytest.mark.parametrize("at", [[0], [3], [0, 1], [4, 2, 0], list(range(5))])
def test_picker_gives_the_items_in_order(at: list[int]) -> None:
    seq = tuple("abcde")
    assert list(picker(at)(seq)) == [seq[p] for p in at]


@pytest.mark.parametrize(
    "rows",
    [
        [(True, 1.0, 2), (False, 3.0, 4)],
        [(True,), (False,)],
        [(True, 1.0), None],  # a day without a Rec
        [(True, 1.0, 2), (False, 3.0)],  # lengths differ
        [],
    ],
)
def test_transposed_only_rows_of_one_length(rows: list[Any]) -> None:
    out = transposed(rows)
    if not rows or None in rows or len({len(r) for r in rows}) > 1:
        assert out is None
    else:
        assert out == [tuple(r[p] for r in rows) for p in range(len(rows[0]))]
