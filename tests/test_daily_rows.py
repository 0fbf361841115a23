"""DailyRows: a run's day rows kept as columns, built into dicts only when read."""

from __future__ import annotations

import pickle

import pytest

from alvh_dsl.dryrun.rows import DailyRows, column_of

COLUMNS = {"date": ["2024-01-02", "2024-01-03", "2024-01-04"], "equity": [1.0, 2.5, None]}
AS_LIST = [
    {"date": "2024-01-02", "equity": 1.0},
    {"date": "2024-01-03", "equity": 2.5},
    {"date": "2024-01-04", "equity": None},
]


def rows() -> DailyRows:
    return DailyRows({k: list(v) for k, v in COLUMNS.items()})


def test_equals_the_list_of_dicts_it_stands_for() -> None:
    r = rows()
    assert r == AS_LIST and list(r) == AS_LIST
    assert AS_LIST == r  # noqa: SIM300  # the list's side: DailyRows.__eq__ reflected
    assert r != AS_LIST[:2] and r != [*AS_LIST[:2], {"date": "2024-01-04", "equity": 0.0}]
    assert r == rows()


@pytest.mark.parametrize("index", [0, 1, 2, -1, -3])
def test_a_day_by_index_is_built_alone_and_kept(index: int) -> None:
    r = rows()
    assert r[index] == AS_LIST[index]
    assert r[index] is r[index]  # built once: a reader's edit is not lost
    r[index]["note"] = "x"
    assert list(r)[index]["note"] == "x"  # the whole pass reuses the row built before


@pytest.mark.parametrize("index", [3, -4, 100])
def test_out_of_range_is_an_index_error(index: int) -> None:
    with pytest.raises(IndexError):
        rows()[index]


def test_slices_len_and_keys_in_order() -> None:
    r = rows()
    assert len(r) == 3 and r[1:] == AS_LIST[1:] and r[::-1] == AS_LIST[::-1]
    assert [list(d) for d in r] == [["date", "equity"]] * 3


def test_columns_are_read_without_the_rows() -> None:
    r = rows()
    assert r.column("equity") == [1.0, 2.5, None] and column_of(r, "date") == COLUMNS["date"]
    assert column_of(AS_LIST, "equity") == [1.0, 2.5, None]  # a plain list of dicts
    with pytest.raises(KeyError):
        r.column("missing")


def test_empty_and_prebuilt_rows() -> None:
    empty = DailyRows({})
    assert len(empty) == 0 and empty == [] and column_of(empty, "equity") == []
    assert empty.columns is None  # no days: readers take the rows' path
    built = DailyRows.of([dict(d) for d in AS_LIST])
    assert built.columns is None and built == AS_LIST and built.column("equity")[1] == 2.5


@pytest.mark.parametrize("make", [rows, lambda: DailyRows.of([dict(d) for d in AS_LIST])])
def test_pickles_and_keeps_a_short_repr(make: object) -> None:
    r = make()  # type: ignore[operator]
    back = pickle.loads(pickle.dumps(r))
    assert isinstance(back, DailyRows) and back == AS_LIST
    assert repr(r) == "<DailyRows: 3 day(s)>"


def test_a_run_keeps_its_rows_as_columns_and_a_one_line_repr() -> None:
    pytest.importorskip("numpy")
    from alvh_dsl.api import dryrun

    result = dryrun("rulebooks/alvh_core.alvh", start="2010-01-01", end="2010-03-31")
    daily = result.run.daily_rows
    assert isinstance(daily, DailyRows) and daily.columns is not None
    values = zip(*daily.columns.values(), strict=True)
    built = [dict(zip(daily.columns, v, strict=True)) for v in values]
    assert daily == built and list(daily[0]) == list(daily.columns)
    assert repr(daily) == f"<DailyRows: {len(built)} day(s)>"
    run = result.run
    assert repr(run) == (
        f"RunResult('book', 'ALVH core', {len(built)} days, {len(run.decisions)} decisions, "
        f"{len(run.trades)} trades, P&L {run.summary['total_pnl']:,.2f})"
    )
