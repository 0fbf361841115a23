"""The loader's settlement inputs (issue 8): ``vix_open`` and the expiry-settlement columns
``spx_settlement`` / ``vix_settlement`` are known columns, checked as prices, and the
settlement columns are sparse by design (no gaps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alvh_dsl.market.history import DataError, load_history, write_history

from . import problems

HEADER = "date,spx_open,spx,vix,vix_open,vx1,vx2,spx_settlement,vix_settlement"
ROWS = [
    "2017-01-17,2269.14,2267.89,11.87,12.20,12.80,14.10,,",
    "2017-01-18,2269.14,2271.89,12.48,11.90,13.50,14.40,,11.63",  # VIX expiry (VRO 11.63)
    "2017-01-19,2271.90,2263.69,12.78,12.40,13.60,14.50,,",
    "2017-01-20,2269.96,2271.31,11.54,12.60,13.30,14.30,2269.96,",  # SPX expiry (SOQ)
    "2017-01-23,2267.78,2265.20,11.77,11.80,13.40,14.40,,",
]


def write(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "h.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_vix_open_and_settlement_columns_are_read(tmp_path: Path) -> None:
    history = load_history(write(tmp_path, ROWS))  # gaps="error": empty cells are no gaps
    assert not any("ignored" in note for note in history.provenance.notes)
    frame = history.frame
    assert list(frame.columns) == [
        "spx_open", "spx", "vix", "vix_open", "vx1", "vx2", "spx_settlement", "vix_settlement"
    ]  # fmt: skip
    assert frame["vix_open"].tolist() == [12.2, 11.9, 12.4, 12.6, 11.8]
    assert frame["vix_settlement"].notna().sum() == 1
    assert frame.loc["2017-01-20", "spx_settlement"] == 2269.96
    assert np.isnan(frame.loc["2017-01-19", "spx_settlement"])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_the_columns_survive_a_round_trip(tmp_path: Path, suffix: str) -> None:
    history = load_history(write(tmp_path, ROWS))
    write_history(history, tmp_path / f"out{suffix}")
    again = load_history(tmp_path / f"out{suffix}")
    cols = ["vix_open", "spx_settlement", "vix_settlement"]
    assert again.frame[cols].equals(history.frame[cols])


def test_they_must_be_positive_prices(tmp_path: Path) -> None:
    rows = [*ROWS]
    rows[0] = rows[0].replace(",12.20,", ",0,")
    rows[3] = rows[3].removesuffix("2269.96,") + "-1,"  # the settlement, not the open
    with pytest.raises(DataError) as info:
        load_history(write(tmp_path, rows))
    found = [(p.row, p.column, p.message) for p in problems(info.value)]
    assert found == [
        (2, "vix_open", "zero is not a price (leave the cell empty when there is no value)"),
        (5, "spx_settlement", "prices must be positive, got -1"),
    ]


def test_a_hole_in_vix_open_is_a_gap(tmp_path: Path) -> None:
    rows = [*ROWS]
    rows[2] = rows[2].replace(",12.40,", ",,")
    with pytest.raises(DataError) as info:
        load_history(write(tmp_path, rows))
    (problem,) = problems(info.value)
    assert (problem.row, problem.column) == (4, "vix_open")
    assert "a gap in vix_open" in problem.message
    assert load_history(write(tmp_path, rows), gaps="keep").has("vix_open")
