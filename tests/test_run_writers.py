"""The run directory's writers after their speed-ups (issue 11 item 5): the same bytes as
the plain formulas they replace, on the kinds of values a run holds."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from typing import Any

import numpy as np
import pytest

from alvh_dsl.dryrun.report.chart_panels import column, columns_cached, dates
from alvh_dsl.dryrun.report.files import (
    TRADE_COLUMNS,
    decisions_jsonl,
    dumps,
    jsonable,
    trades_csv,
)
from alvh_dsl.dryrun.result import RunResult

ODD = [
    1.5, 0.1 + 0.2, -0.0, 1e-300, 123456789.125, math.nan, math.inf, -math.inf,
    np.float64(2.675), np.float64(math.nan), np.int64(7), 3, -12, True, False, None,
    "SPX put", "", dt.date(2020, 3, 16), 10**20,
]  # fmt: skip


def test_trade_cells_are_written_as_before() -> None:
    rows = [dict.fromkeys(TRADE_COLUMNS, v) for v in ODD]
    lines = trades_csv(rows).decode().splitlines()
    expected = [
        "1.5", "0.30000000000000004", "-0.0", "1e-300", "123456789.125", "", "", "",
        "2.675", "", "7", "3", "-12", "True", "False", "", "SPX put", "", "2020-03-16",
        "100000000000000000000",
    ]  # fmt: skip
    assert lines[0] == ",".join(TRADE_COLUMNS)
    # Every row is one value in every column.
    assert lines[1:] == [",".join([cell] * len(TRADE_COLUMNS)) for cell in expected]


def test_decisions_are_one_dumps_per_line() -> None:
    records: list[dict[str, Any]] = [
        {"rule": "b", "date": "2020-01-02", "margin": np.float64(0.125), "z": [1, None]},
        {"rule": "a", "values": {"y": math.nan, "x": dt.date(2020, 1, 3)}},  # the slow path
        {"rule": "ü", "t": (1, 2)},
    ]
    assert decisions_jsonl(records) == "".join(dumps(r) + "\n" for r in records).encode()
    assert decisions_jsonl([]) == b""


def _run(rows: list[dict[str, Any]]) -> RunResult:
    return RunResult("book", "b", rows, [], [], {})


def test_cached_columns_are_the_columns_and_copies() -> None:
    rows = [
        {"date": "2020-01-02", "equity": 1.0, "front_dte": None},
        {"date": "2020-01-03", "equity": np.float64(2.5), "front_dte": 4},
    ]
    run = _run(rows)
    plain = {k: column(run, k) for k in ("equity", "front_dte", "missing")}
    with columns_cached():
        for k, values in plain.items():
            first = column(run, k)
            np.testing.assert_array_equal(first, values)
            first[:] = -1.0  # a panel changing its copy changes nobody else's
            np.testing.assert_array_equal(column(run, k), values)
        d = dates(run)
        d[0] = np.datetime64("1999-01-01")
        assert dates(run).tolist() == [dt.date(2020, 1, 2), dt.date(2020, 1, 3)]
    rows[0]["equity"] = 9.0  # the cache is gone once the figure is drawn
    assert column(run, "equity").tolist() == [9.0, 2.5]


def _plain_cell(value: Any) -> str:
    """A trade cell by the formula of the run directory's docs: JSON's plain value, empty
    where null, ``repr`` of a float."""
    value = jsonable(value)
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def _plain_csv(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(TRADE_COLUMNS)
    for row in rows:
        writer.writerow([_plain_cell(row.get(c)) for c in TRADE_COLUMNS])
    return buf.getvalue().encode()


PLAIN = [1.5, 0.1 + 0.2, -0.0, 1e-300, 1.7e308, 3, -12, 10**20, None, "", "a,b", 'say "x"']


@pytest.mark.parametrize(
    "odd",
    [None, math.nan, math.inf, -math.inf, np.float64(2.675), True, dt.date(2020, 3, 16), "missing"],
)
def test_a_table_of_plain_cells_is_written_as_cell_by_cell(odd: Any) -> None:
    # Plain tables go to the csv writer as they are (one itemgetter per row); one odd cell
    # anywhere, or a row without a column, must send the whole table the slow way.
    cycle = PLAIN * 3
    rows = [{c: cycle[k + i] for i, c in enumerate(TRADE_COLUMNS)} for k in range(len(PLAIN))]
    assert trades_csv(rows) == _plain_csv(rows)
    if odd == "missing":
        del rows[5][TRADE_COLUMNS[3]]
    elif odd is not None:
        rows[7][TRADE_COLUMNS[2]] = odd
    assert trades_csv(rows) == _plain_csv(rows)
    big = [dict.fromkeys(TRADE_COLUMNS, 1.7e308) for _ in range(3)]  # finite; the sum is not
    assert trades_csv(big) == _plain_csv(big)


def test_the_figures_columns_read_together_are_the_columns() -> None:
    keys = ["equity", "condor_pnl", "hedge_pnl", "spx", "vix", "gamma", "eff_gamma_long",
            "eff_gamma_short", "front_dte"]  # fmt: skip
    keys += [f"hedge_notional_m{k}" for k in range(1, 10)]
    values = [1.0, np.float64(2.5), None, 4, -0.0, np.float64(math.nan)]
    rows = [
        {"date": f"2020-01-{d + 2:02d}", **{k: values[(d + i) % 6] for i, k in enumerate(keys)}}
        for d in range(6)
    ]
    short = [dict(r) for r in rows]
    del short[3]["vix"]  # a row without a key: each column on its own, NaN there
    for case in (rows, short):
        run = _run(case)
        plain = {k: column(run, k) for k in keys}
        with columns_cached():
            for k in keys:
                np.testing.assert_array_equal(column(run, k), plain[k])
