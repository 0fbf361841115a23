"""History loading and validation: real data, broken files, gap policy, Parquet round trip."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alvh_dsl.lang.diagnostics import render
from alvh_dsl.market.history import (
    DataError,
    History,
    Provenance,
    Source,
    load_history,
    write_history,
)
from alvh_dsl.market.validation import issue

from . import problems

HEADER = "date,spx_open,spx_high,spx_low,spx,vix,vvix,vx1,vx2,vx1_expiry,vx2_expiry"
GOOD_ROWS = [
    "2017-01-03,2251.57,2263.88,2245.13,2257.83,12.85,85.1,14.05,15.65,2017-01-18,2017-02-15",
    "2017-01-04,2261.60,2272.82,2261.60,2270.75,11.85,83.2,13.60,15.30,2017-01-18,2017-02-15",
    "2017-01-05,2268.18,2271.50,2260.45,2269.00,11.67,82.9,13.45,15.13,2017-01-18,2017-02-15",
    "2017-01-06,2271.14,2282.10,2264.06,2276.98,11.32,81.6,13.25,15.03,2017-01-18,2017-02-15",
]


def write(tmp_path: Path, rows: list[str], header: str = HEADER, name: str = "h.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def issues_of(path: Path, **kwargs: object) -> list[tuple[int, str, str]]:
    with pytest.raises(DataError) as info:
        load_history(path, **kwargs)  # type: ignore[arg-type]
    for d in info.value.diagnostics:
        assert d.code == "E601" and d.span is not None and d.span.file == str(path)
    return [(i.row, i.column, i.message) for i in problems(info.value)]


def test_small_good_file_loads(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_ROWS)
    history = load_history(path)
    assert len(history) == 4
    assert isinstance(history.frame.index, pd.DatetimeIndex)
    assert history.frame.index.name == "date"
    assert history.frame.index.is_monotonic_increasing and history.frame.index.is_unique
    assert history.frame["spx"].dtype == np.float64
    assert str(history.frame["vx1_expiry"].dtype) == "datetime64[ns]"
    assert history.values("spx")[0] == 2257.83
    assert history.futures_months == (1, 2)
    assert history.provenance.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert history.provenance.sources == (Source(str(path), history.provenance.sha256, "history"),)
    assert not history.synthetic


def _replace(row: int, column: str, value: str) -> list[str]:
    names = HEADER.split(",")
    rows = [r.split(",") for r in GOOD_ROWS]
    rows[row][names.index(column)] = value
    return [",".join(r) for r in rows]


# One broken cell each: (row index in GOOD_ROWS, column, new value, expected message part).
# The file line is the row index + 2 (the header is line 1).
BROKEN_CELLS = [
    (1, "vix", "abc", "not a number: 'abc'"),
    (2, "spx", "1e400", "not a number"),
    (0, "vix", "-12.85", "prices must be positive, got -12.85"),
    (3, "vx2", "0", "zero is not a price"),
    (1, "date", "2017-13-01", "not a date: '2017-13-01' (expected YYYY-MM-DD)"),
    (2, "date", "", "missing date"),
    (2, "date", "2017-01-03", "duplicate date 2017-01-03 (first on row 2)"),
    (3, "date", "2017-01-02", "date 2017-01-02 is before the previous row's 2017-01-05"),
    (0, "vx1_expiry", "2017-01-03", "expiry 2017-01-03 is not after the date 2017-01-03"),
    (0, "vx1_expiry", "2016-12-21", "is not after the date"),
    (1, "vx2_expiry", "2017-01-18", "expiry 2017-01-18 is not after vx1_expiry 2017-01-18"),
    (1, "vx1_expiry", "soon", "not a date: 'soon'"),
    (2, "spx_low", "2275.00", "low 2275 is above the high 2271.5"),
    (2, "spx", "2280.00", "2280 is outside the day's range 2260.45 .. 2271.5"),
]


@pytest.mark.parametrize(("row", "column", "value", "message"), BROKEN_CELLS)
def test_broken_cell_is_reported_with_file_row_and_column(
    tmp_path: Path, row: int, column: str, value: str, message: str
) -> None:
    path = write(tmp_path, _replace(row, column, value))
    found = issues_of(path)
    assert any(r == row + 2 and c == column and message in m for r, c, m in found), found


@pytest.mark.parametrize(
    ("header", "column", "message"),
    [
        ("date,spx", "vix", "missing required column 'vix'"),
        ("date,vix", "spx", "missing required column 'spx'"),
        ("day,spx,vix", "date", "missing the date column"),
        ("DATE,OPEN,HIGH,LOW,CLOSE", "spx", "this looks like a Cboe or Yahoo price file"),
    ],
)
def test_missing_columns_are_reported_on_the_header_line(
    tmp_path: Path, header: str, column: str, message: str
) -> None:
    path = write(tmp_path, ["2017-01-03,1,2,3,4"[: 10 + 2 * (header.count(",") - 0)]], header)
    found = issues_of(path)
    assert any(r == 1 and c == column and message in m for r, c, m in found), found


def test_all_issues_are_collected_and_rendered_one_per_line(tmp_path: Path) -> None:
    rows = _replace(0, "vix", "x")
    rows[2] = rows[2].replace("2269.00", "-1")
    path = write(tmp_path, rows)
    with pytest.raises(DataError) as info:
        load_history(path)
    lines = [line for line in str(info.value).splitlines() if line]
    assert f"{path}:2:vix: E601 not a number: 'x'" in lines
    assert any(line.startswith(f"{path}:4:spx: E601 prices must be positive") for line in lines)
    assert len(lines) == len(info.value.diagnostics) >= 2


def test_issue_count_is_capped(tmp_path: Path) -> None:
    rows = [f"2017-01-{d:02d},x,x,x,x,x,x,x,x,2017-01-18,2017-02-15" for d in range(1, 31)]
    with pytest.raises(DataError) as info:
        load_history(write(tmp_path, rows))
    # 30 rows x 8 unreadable numbers, plus 13 rows dated on or after vx1_expiry.
    assert len(info.value.diagnostics) == 50
    assert info.value.omitted == 30 * 8 + 13 - 50
    assert str(info.value).endswith("… and 203 more problem(s) not shown\n")


def test_issue_renders_file_row_column() -> None:
    assert render([issue("a.csv", 7, "vix", "bad")]) == "a.csv:7:vix: E601 bad\n"
    assert render([issue("a.csv", 3, "", "malformed")]) == "a.csv:3: E601 malformed\n"


def test_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("\n".join([HEADER, GOOD_ROWS[0], "", GOOD_ROWS[1].replace("11.85", "?")]))
    assert issues_of(path) == [(4, "vix", "not a number: '?'")]


def test_malformed_csv_row(tmp_path: Path) -> None:
    path = write(tmp_path, [*GOOD_ROWS[:2], GOOD_ROWS[2] + ",extra,cells"])
    ((row, column, message),) = issues_of(path)
    assert row == 4 and column == "" and message.startswith("malformed CSV")


@pytest.mark.parametrize("text", ["", "\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(text)
    assert issues_of(path) == [(1, "", "empty file: expected a header line")]


def test_header_without_rows(tmp_path: Path) -> None:
    assert issues_of(write(tmp_path, [], "date,spx,vix")) == [(1, "", "no data rows")]


def test_duplicate_column_names(tmp_path: Path) -> None:
    path = write(tmp_path, ["2017-01-03,2257.83,12.85,13"], "date,spx,vix,VIX")
    assert issues_of(path) == [(1, "VIX", "duplicate column name")]


def test_column_names_are_case_insensitive_and_unknown_ones_are_noted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        ["2017-01-03,2257.83,12.85,7", "2017-01-04,2270.75,11.85,8"],
        "Date, SPX ,VIX,volume",
    )
    history = load_history(path)
    assert list(history.frame.columns) == ["spx", "vix"]
    assert history.provenance.notes == ("ignored unknown column(s): volume",)


def test_missing_value_tokens_and_cboe_dates(tmp_path: Path) -> None:
    rows = [
        "01/03/2017,2257.83,12.85,NA",
        "01/04/2017,2270.75,11.85,null",
        "01/05/2017,2269.00,11.67,",
    ]
    history = load_history(write(tmp_path, rows, "date,spx,vix,vvix"))
    assert str(history.start.date()) == "2017-01-03"
    assert not history.has("vvix")


def test_rates_and_breadth_are_range_checked(tmp_path: Path) -> None:
    rows = [
        "2017-01-03,2257.83,12.85,5.25,0.02,1500,1400",
        "2017-01-04,2270.75,11.85,0.0525,-0.01,1500.5,-3",
    ]
    found = issues_of(write(tmp_path, rows, "date,spx,vix,rate,dividend_yield,advances,declines"))
    assert {(r, c) for r, c, _ in found} == {
        (2, "rate"),
        (3, "dividend_yield"),
        (3, "advances"),
        (3, "declines"),
    }
    assert any("looks like a percent" in m for _, _, m in found)


# ------------------------------------------------------------------------ gap policy

GAP_ROWS = [
    "2017-01-03,2257.83,12.85,85.1",
    "2017-01-04,2270.75,11.85,",
    "2017-01-05,2269.00,,",
    "2017-01-06,2276.98,11.32,81.6",
]


def test_gaps_are_errors_by_default(tmp_path: Path) -> None:
    found = issues_of(write(tmp_path, GAP_ROWS, "date,spx,vix,vvix"))
    assert [(r, c) for r, c, _ in found] == [(4, "vix"), (3, "vvix"), (4, "vvix")]
    assert "no value on 2017-01-05 (a gap in vix)" in found[0][2]
    assert "--gaps ffill" in found[0][2]


def test_ffill_fills_and_reports_counts(tmp_path: Path) -> None:
    history = load_history(write(tmp_path, GAP_ROWS, "date,spx,vix,vvix"), gaps="ffill")
    assert list(history.values("vix")) == [12.85, 11.85, 11.85, 11.32]
    assert list(history.values("vvix")) == [85.1, 85.1, 85.1, 81.6]
    assert history.provenance.notes == (
        "forward-filled 1 gap(s) in vix (2017-01-05)",
        "forward-filled 2 gap(s) in vvix (2017-01-04, 2017-01-05)",
    )


def test_keep_leaves_optional_gaps_missing_but_not_required_ones(tmp_path: Path) -> None:
    path = write(tmp_path, GAP_ROWS, "date,spx,vix,vvix")
    found = issues_of(path, gaps="keep")
    assert [(r, c) for r, c, _ in found] == [(4, "vix")]
    rows = [r.replace("2269.00,,", "2269.00,11.67,") for r in GAP_ROWS]
    history = load_history(write(tmp_path, rows, "date,spx,vix,vvix"), gaps="keep")
    assert np.isnan(history.values("vvix")[1:3]).all()
    assert history.provenance.notes == (
        "kept 2 gap(s) in vvix as missing (2017-01-04, 2017-01-05)",
    )


def test_late_starting_series_is_not_a_gap_but_missing_required_start_is(tmp_path: Path) -> None:
    rows = ["2017-01-03,2257.83,12.85,", "2017-01-04,2270.75,11.85,83.2"]
    assert not load_history(write(tmp_path, rows, "date,spx,vix,vvix")).provenance.notes
    rows = ["2017-01-03,2257.83,", "2017-01-04,2270.75,11.85"]
    found = issues_of(write(tmp_path, rows, "date,spx,vix"), gaps="ffill")
    assert found == [
        (
            2,
            "vix",
            "no value on 2017-01-03, and no earlier value to carry forward (required column)",
        )
    ]


def test_futures_slots_are_not_gaps_and_zeros_can_be_read_as_missing(tmp_path: Path) -> None:
    rows = [r.replace("13.60,15.30", "0,15.30") for r in GOOD_ROWS]
    path = write(tmp_path, rows)
    assert issues_of(path) == [
        (3, "vx1", "zero is not a price (leave the cell empty when there is no value)")
    ]
    history = load_history(path, futures_zero="missing")
    assert np.isnan(history.values("vx1")[1])
    assert "treated 1 zero futures settlement(s) as missing" in history.provenance.notes


def test_unknown_policy_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="gap policy"):
        load_history(write(tmp_path, GOOD_ROWS), gaps="interpolate")  # type: ignore[arg-type]


# ------------------------------------------------------------------------ parquet, frames


def test_parquet_round_trip_keeps_values_and_provenance(tmp_path: Path) -> None:
    history = load_history(write(tmp_path, GAP_ROWS, "date,spx,vix,vvix"), gaps="ffill")
    out = tmp_path / "h.parquet"
    write_history(history, out)
    again = load_history(out)
    pd.testing.assert_frame_equal(again.frame, history.frame)
    assert again.provenance.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert history.provenance.notes[0] in again.provenance.notes
    assert any(n.startswith("built from ") for n in again.provenance.notes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.csv", "h.parquet"]


def test_csv_round_trip(tmp_path: Path) -> None:
    history = load_history(write(tmp_path, GOOD_ROWS))
    out = tmp_path / "copy.csv"
    write_history(history, out)
    pd.testing.assert_frame_equal(load_history(out).frame, history.frame)
    assert out.read_text().splitlines()[0] == HEADER


def test_written_file_gets_ordinary_permissions(tmp_path: Path) -> None:
    import os

    history = load_history(write(tmp_path, GOOD_ROWS))
    out = tmp_path / "copy.parquet"
    old = os.umask(0o022)
    try:
        write_history(history, out)
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644


def test_write_rejects_unknown_format_and_leaves_nothing_behind(tmp_path: Path) -> None:
    history = load_history(write(tmp_path, GOOD_ROWS))
    with pytest.raises(ValueError, match="unknown output format"):
        write_history(history, tmp_path / "h.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.csv"]


def test_failed_write_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = load_history(write(tmp_path, GOOD_ROWS))

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        write_history(history, tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.csv"]


def test_parquet_issues_use_record_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2017-01-03", "2017-01-04"]),
            "spx": [2257.83, -1.0],
            "vix": [12.85, 11.85],
        }
    )
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path)
    assert issues_of(path) == [(2, "spx", "prices must be positive, got -1")]


def test_unreadable_parquet(tmp_path: Path) -> None:
    path = tmp_path / "junk.parquet"
    path.write_bytes(b"not parquet at all")
    ((row, _column, message),) = issues_of(path)
    assert row == 0 and message.startswith("not a readable Parquet file")


def test_from_frame_validates_and_accepts_an_index(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"spx": [2257.83, 2270.75], "vix": [12.85, 11.85]},
        index=pd.DatetimeIndex(["2017-01-04", "2017-01-03"], name="date"),
    )
    with pytest.raises(DataError) as info:
        History.from_frame(frame, source="mine")
    assert [str(i) for i in problems(info.value)] == [
        "mine:2:date: date 2017-01-03 is before the previous row's 2017-01-04: rows must be in "
        "ascending date order"
    ]
    history = History.from_frame(frame.sort_index(), provenance=Provenance(notes=("x",)))
    assert history.provenance.notes == ("x",)
    assert len(history.between("2017-01-04")) == 1


def test_summary_mentions_coverage_and_notes(tmp_path: Path) -> None:
    history = load_history(write(tmp_path, GAP_ROWS, "date,spx,vix,vvix"), gaps="ffill")
    text = history.summary()
    assert "4 rows, 2017-01-03 .. 2017-01-06" in text
    assert "vvix" in text and "note: forward-filled 2 gap(s) in vvix" in text


# ------------------------------------------------------------------------ the real file


@pytest.mark.shared
def test_real_history_loads_and_validates(shared_dir: Path) -> None:
    path = shared_dir / "data" / "history_2004_2017.csv"
    history = load_history(path, gaps="ffill")
    frame = history.frame
    assert len(history) == 3081
    assert str(history.start.date()) == "2004-04-19" and str(history.end.date()) == "2017-05-11"
    counts = frame.notna().sum()
    assert counts["vx3"] == 2790 and counts["vx8"] == 2397
    assert counts["vvix"] == 2606 + 2  # the two holes, forward-filled
    assert history.provenance.notes == ("forward-filled 2 gap(s) in vvix (2010-11-11, 2013-05-13)",)
    # Spot checks from the data README.
    assert frame.loc["2008-11-20", "vix"] == 80.86
    assert frame.loc["2008-10-10", "spx"] == 899.22
    assert frame.loc["2015-08-24", "vix"] == 40.74
    assert frame.loc["2017-01-03", "spx"] == 2257.83
    assert history.provenance.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.shared
def test_real_history_gaps_are_errors_by_default(shared_dir: Path) -> None:
    path = shared_dir / "data" / "history_2004_2017.csv"
    with pytest.raises(DataError) as info:
        load_history(path)
    assert [(i.row, i.column) for i in problems(info.value)] == [(1448, "vvix"), (2075, "vvix")]
    history = load_history(path, gaps="keep")
    assert history.frame["vvix"].notna().sum() == 2606
