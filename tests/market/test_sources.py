"""Merging Cboe / Yahoo / futures files into one history, on small files and the real ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alvh_dsl.market.history import DataError, load_history
from alvh_dsl.market.sources import load_cboe, load_series, merge

from . import problems

YAHOO = """Date,Open,High,Low,Close,Adj Close,Volume
2016-12-29,2254.0,2260.0,2245.0,2249.26,2249.26,1
2016-12-30,2251.61,2253.58,2233.62,2238.830078125,2238.830078125,1
2017-01-03,2251.570068359375,2263.8798828125,2245.1298828125,2257.830078125,2257.830078125,1
2017-01-04,2261.60,2272.82,2261.60,2270.75,2270.75,1
2017-01-05,2268.18,2271.50,2260.45,2269.00,2269.00,1
"""

CBOE_VIX = """DATE,OPEN,HIGH,LOW,CLOSE
12/30/2016,14.0,14.5,13.5,14.04
01/02/2017,14.1,14.2,14.0,14.10
01/03/2017,14.07,14.27,12.58,12.85
01/04/2017,12.7,12.8,11.6,11.85
01/05/2017,11.9,12.0,11.5,11.67
01/06/2017,11.3,11.5,11.1,11.32
"""

CBOE_VVIX = """DATE,VVIX
12/30/2016,86.0
01/03/2017,85.1
01/05/2017,82.9
"""

FUTURES = """"","date","M1","M2","M3"
"1",2016-12-30,14.9,16.1,17.0
"2",2017-01-03,14.05,15.65,0
"3",2017-01-04,13.60,15.30,NA
"4",2017-01-05,13.45,15.13,16.2
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in [
        ("spx", YAHOO),
        ("vix", CBOE_VIX),
        ("vvix", CBOE_VVIX),
        ("futures", FUTURES),
    ]:
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        out[name] = path
    return out


def test_merge_builds_a_history_from_public_formats(files: dict[str, Path]) -> None:
    history = merge(
        spx=files["spx"],
        vix=files["vix"],
        vvix=files["vvix"],
        futures=files["futures"],
        gaps="ffill",
        futures_zero="missing",
    )
    frame = history.frame
    # The span is where SPX and VIX overlap (12-30 .. 01-05), on SPX trading days only.
    assert [str(d.date()) for d in frame.index] == [
        "2016-12-30",
        "2017-01-03",
        "2017-01-04",
        "2017-01-05",
    ]
    assert list(frame.columns) == [
        "spx_open",
        "spx_high",
        "spx_low",
        "spx",
        "vix",
        "vix_open",
        "vvix",
        "vx1",
        "vx2",
        "vx3",
    ]
    assert frame.loc["2017-01-03", "spx"] == 2257.83  # float noise rounded away
    assert frame.loc["2017-01-03", "vix_open"] == 14.07  # Cboe's OPEN
    assert frame.loc["2017-01-03", "spx_open"] == 2251.57
    assert frame.loc["2017-01-04", "vvix"] == 85.1  # forward-filled
    assert np.isnan(frame.loc["2017-01-03", "vx3"])  # a zero settlement read as missing
    assert np.isnan(frame.loc["2017-01-04", "vx3"])  # a hole in a futures slot is no gap
    notes = history.provenance.notes
    assert any("dropped 1 row(s) of" in n and "(2017-01-02)" in n for n in notes)
    assert any(n.startswith("merged span 2016-12-30 .. 2017-01-05") for n in notes)
    assert any(n.startswith("rounded ") for n in notes)
    assert "forward-filled 1 gap(s) in vvix (2017-01-04)" in notes
    assert "treated 1 zero futures settlement(s) as missing" in notes
    assert [s.role for s in history.provenance.sources] == ["spx", "vix", "vvix", "futures"]


def test_start_and_end_narrow_the_span(files: dict[str, Path]) -> None:
    history = merge(spx=files["spx"], vix=files["vix"], start="2017-01-03", end="2017-01-04")
    assert len(history) == 2


def test_a_missing_vix_day_is_a_gap_naming_the_vix_file(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    vix = tmp_path / "vix_hole.csv"
    vix.write_text(CBOE_VIX.replace("01/04/2017,12.7,12.8,11.6,11.85\n", ""))
    with pytest.raises(DataError) as info:
        merge(spx=files["spx"], vix=vix)
    (issue,) = problems(info.value)
    # The row is where 01/04 would have been: the line now holding 01/05.
    assert (issue.file, issue.row, issue.column) == (str(vix), 5, "CLOSE")
    assert issue.message.startswith("no row for 2017-01-04 (a gap in vix)")
    filled = merge(spx=files["spx"], vix=vix, gaps="ffill")
    assert filled.frame.loc["2017-01-04", "vix"] == 12.85


def test_issues_in_several_inputs_are_reported_together(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    spx = tmp_path / "spx_bad.csv"
    spx.write_text(YAHOO.replace("2269.00,2269.00", "n/a?,2269.00"))
    vix = tmp_path / "vix_bad.csv"
    vix.write_text(CBOE_VIX.replace("01/05/2017", "01/04/2017"))
    with pytest.raises(DataError) as info:
        merge(spx=spx, vix=vix)
    rendered = str(info.value).splitlines()
    assert f"{spx}:6:Close: E601 not a number: 'n/a?'" in rendered
    assert f"{vix}:6:DATE: E601 duplicate date 2017-01-04 (first on row 5)" in rendered


def test_an_unreadable_file_is_reported_with_the_others(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    vix = tmp_path / "vix_bad.csv"
    vix.write_text(CBOE_VIX.replace("12.85", "?"))
    with pytest.raises(DataError) as info:
        merge(spx=empty, vix=vix)
    assert [(i.file, i.row) for i in problems(info.value)] == [(str(empty), 1), (str(vix), 4)]


def test_an_unreadable_file_keeps_its_count_of_problems_left_out(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    # 60 columns named X: 59 duplicates, more than one error lists (50).
    spx = tmp_path / "spx_dupes.csv"
    spx.write_text("Date," + ",".join(["X"] * 60) + "\n01/03/2017" + ",1" * 60 + "\n")
    vix = tmp_path / "vix_bad.csv"
    vix.write_text(CBOE_VIX.replace("12.85", "?"))
    with pytest.raises(DataError) as info:
        merge(spx=spx, vix=vix)
    found = problems(info.value)
    assert len(found) == 50 and all(p.file == str(spx) for p in found)
    assert info.value.omitted == 59 - 50 + 1  # spx's 9 left out, and vix's one problem


def test_value_errors_name_the_source_file_and_its_column(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    vvix = tmp_path / "vvix_neg.csv"
    vvix.write_text(CBOE_VVIX.replace("85.1", "-85.1"))
    with pytest.raises(DataError) as info:
        merge(spx=files["spx"], vix=files["vix"], vvix=vvix, gaps="keep")
    assert [str(i) for i in problems(info.value)] == [
        f"{vvix}:3:VVIX: prices must be positive, got -85.1"
    ]


def test_zero_settlements_are_errors_unless_read_as_missing(files: dict[str, Path]) -> None:
    with pytest.raises(DataError) as info:
        merge(spx=files["spx"], vix=files["vix"], futures=files["futures"])
    assert [(i.row, i.column) for i in problems(info.value)] == [(3, "M3")]


def test_unrecognised_inputs(tmp_path: Path, files: dict[str, Path]) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("when,a,b\n2017-01-03,1,2\n")
    with pytest.raises(DataError) as info:
        merge(spx=odd, vix=files["vix"], futures=files["vix"])
    messages = [(i.file, i.message) for i in problems(info.value)]
    assert (str(odd), "missing the date column (DATE / Date / date)") in messages
    assert any(f == str(files["vix"]) and "no futures columns" in m for f, m in messages)


def test_no_overlap_is_an_error(tmp_path: Path, files: dict[str, Path]) -> None:
    with pytest.raises(DataError, match="no SPX rows in the common span"):
        merge(spx=files["spx"], vix=files["vix"], start="2018-01-01")


def test_series_loader_understands_our_own_format(tmp_path: Path) -> None:
    path = tmp_path / "ours.csv"
    path.write_text("date,spx,vix\n2017-01-03,2257.83,12.85\n")
    assert load_series(path, "vix").frame["vix"].tolist() == [12.85]
    assert load_series(path, "spx").written == {"spx": "spx"}


@pytest.mark.shared
def test_load_cboe_reads_the_real_vix_history(shared_dir: Path) -> None:
    vix = load_cboe(shared_dir / "data/raw/noodles-rice__vix_dashboard/VIX_History.csv", name="vix")
    assert len(vix) == 9221
    assert vix.index.is_monotonic_increasing
    assert vix.loc["2008-11-20"] == 80.86 and vix.loc["2008-10-24"] == 79.13


@pytest.mark.shared
def test_merging_the_raw_files_reproduces_the_shared_history(shared_dir: Path) -> None:
    raw = shared_dir / "data" / "raw"
    merged = merge(
        spx=raw / "fja05680__stock_market_calendar" / "^GSPC.csv",
        vix=raw / "noodles-rice__vix_dashboard" / "VIX_History.csv",
        vvix=raw / "bellingxu__timing_spx" / "VVIX_History.csv",
        futures=raw / "leyhline__vix-term-structure" / "8_m_settle.csv",
        start="2007-01-03",
        end="2017-05-11",
        gaps="keep",
        futures_zero="missing",
    )
    reference = load_history(shared_dir / "data" / "history_2004_2017.csv", gaps="keep")
    expected = reference.frame.loc["2007-01-03":]
    pd.testing.assert_index_equal(merged.frame.index, expected.index)
    columns = [
        "spx_open",
        "spx_high",
        "spx_low",
        "spx",
        "vix",
        "vvix",
        *(f"vx{k}" for k in range(1, 9)),
    ]
    pd.testing.assert_frame_equal(merged.frame[columns], expected[columns])


@pytest.mark.shared
def test_raw_futures_file_zeros_are_reported_by_row(shared_dir: Path) -> None:
    raw = shared_dir / "data" / "raw"
    settle = raw / "leyhline__vix-term-structure" / "8_m_settle.csv"
    with pytest.raises(DataError) as info:
        merge(
            spx=raw / "fja05680__stock_market_calendar" / "^GSPC.csv",
            vix=raw / "noodles-rice__vix_dashboard" / "VIX_History.csv",
            futures=settle,
            start="2004-03-26",
        )
    first = problems(info.value)[0]
    assert (first.file, first.row, first.column) == (str(settle), 41, "M2")
    assert first.message.startswith("zero is not a price")
    assert len(problems(info.value)) + info.value.omitted >= 100
