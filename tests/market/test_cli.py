"""`alvh data merge / synth / check`: outputs, error reporting and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from alvh_dsl.cli.data import data
from alvh_dsl.market.history import load_history

SPX = """Date,Open,High,Low,Close
2017-01-03,2251.57,2263.88,2245.13,2257.83
2017-01-04,2261.60,2272.82,2261.60,2270.75
2017-01-05,2268.18,2271.50,2260.45,2269.00
"""
VIX = """DATE,OPEN,HIGH,LOW,CLOSE
01/03/2017,14,14,12,12.85
01/04/2017,12,12,11,11.85
01/05/2017,11,12,11,11.67
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_synth_writes_a_loadable_parquet(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "synth.parquet"
    result = runner.invoke(data, ["synth", "--years", "2", "--seed", "7", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: " in result.output
    history = load_history(out)
    assert history.synthetic
    assert "seed=7" in (history.provenance.generator or "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synth.parquet"]


def test_synth_is_deterministic_across_runs(runner: CliRunner, tmp_path: Path) -> None:
    paths = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for path in paths:
        assert runner.invoke(data, ["synth", "--years", "1", "-o", str(path)]).exit_code == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_merge_and_check(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "spx.csv").write_text(SPX)
    (tmp_path / "vix.csv").write_text(VIX)
    out = tmp_path / "history.csv"
    args = [
        "merge",
        "--spx",
        str(tmp_path / "spx.csv"),
        "--vix",
        str(tmp_path / "vix.csv"),
        "-o",
        str(out),
    ]
    result = runner.invoke(data, args)
    assert result.exit_code == 0, result.output
    assert "note: merged span 2017-01-03 .. 2017-01-05" in result.output
    checked = runner.invoke(data, ["check", str(out)])
    assert checked.exit_code == 0, checked.output
    assert "3 rows, 2017-01-03 .. 2017-01-05" in checked.output
    assert "VIX month 1: 3 of 3 day(s) modelled" in checked.output
    assert runner.invoke(data, ["info", str(out)]).output == checked.output


def test_merge_reports_bad_data_and_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "spx.csv").write_text(SPX.replace("2270.75", "oops"))
    (tmp_path / "vix.csv").write_text(VIX)
    out = tmp_path / "history.parquet"
    result = runner.invoke(
        data,
        [
            "merge",
            "--spx",
            str(tmp_path / "spx.csv"),
            "--vix",
            str(tmp_path / "vix.csv"),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 1
    assert f"{tmp_path / 'spx.csv'}:3:Close: E601 not a number: 'oops'" in result.output
    assert not out.exists()


def test_check_reports_every_issue_and_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("date,spx,vix\n2017-01-03,2257.83,-1\n2017-01-03,x,11.85\n")
    result = runner.invoke(data, ["check", str(path)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line]
    assert lines == [
        f"{path}:3:date: E601 duplicate date 2017-01-03 (first on row 2)",
        f"{path}:3:spx: E601 not a number: 'x'",
        f"{path}:2:vix: E601 prices must be positive, got -1",
        f"alvh: {path} is not a valid history (see docs/data.md)",
    ]


def test_check_gap_policy_option(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "gap.csv"
    path.write_text(
        "date,spx,vix\n2017-01-03,2257.83,12.85\n2017-01-04,2270.75,\n2017-01-05,2269.00,11.67\n"
    )
    assert runner.invoke(data, ["check", str(path)]).exit_code == 1
    result = runner.invoke(data, ["check", "--gaps", "ffill", str(path)])
    assert result.exit_code == 0
    assert "note: forward-filled 1 gap(s) in vix (2017-01-04)" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["synth", "-o", "out.xlsx"],
        ["synth", "--years", "0", "-o", "out.parquet"],
        ["synth", "--start", "yesterday", "-o", "out.parquet"],
        ["synth", "-o", "no/such/dir/out.parquet"],
        ["check", "missing.csv"],
        ["check", "--gaps", "interpolate", "x.csv"],
        ["merge", "--spx", "missing.csv", "--vix", "missing.csv", "-o", "o.parquet"],
    ],
)
def test_usage_errors_exit_2(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(data, args)
    assert result.exit_code == 2, result.output
    assert list(tmp_path.iterdir()) == []


def test_registered_under_the_main_cli(runner: CliRunner) -> None:
    from alvh_dsl.cli.main import cli

    result = runner.invoke(cli, ["data", "--help"])
    assert result.exit_code == 0
    for command in ("merge", "synth", "check"):
        assert command in result.output


def test_cli_module_does_not_import_pandas() -> None:
    code = "import sys, alvh_dsl.cli.data; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.shared
def test_check_the_real_history(runner: CliRunner, shared_dir: Path) -> None:
    path = shared_dir / "data" / "history_2004_2017.csv"
    result = runner.invoke(data, ["check", "--gaps", "ffill", str(path)])
    assert result.exit_code == 0, result.output
    assert "3081 rows, 2004-04-19 .. 2017-05-11" in result.output
    assert "note: 209 NYSE trading day(s) in the span have no row" in result.output
    assert "VIX month 9: 3081 of 3081 day(s) modelled" in result.output
    strict = runner.invoke(data, ["check", str(path)])
    assert strict.exit_code == 1 and f"{path}:1448:vvix:" in strict.output


def test_written_csv_is_plain(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    assert runner.invoke(data, ["synth", "--years", "0.1", "-o", str(out)]).exit_code == 0
    frame = pd.read_csv(out)
    assert frame.columns[0] == "date" and "vx9" in frame.columns
