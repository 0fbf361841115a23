"""`alvh dryrun` end to end: outputs, options, replaying a dumped state, errors and exit codes.

Runs use windows of a few months of the synthetic history, except the two that check a
fresh install's default run and the real 2004–2017 history.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from alvh_dsl.cli.main import cli
from alvh_dsl.dryrun.config import DryRunConfig, load_config
from alvh_dsl.dryrun.report.files import BASELINE_FILES, RUN_FILES

ROOT = Path(__file__).resolve().parents[1]
CORE = str(ROOT / "rulebooks" / "alvh_core.alvh")
WINDOW = ["--from", "2010-01-01", "--to", "2010-09-30"]


def alvh(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def summary(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return data


def decisions(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_history(
    path: Path, rows: int = 70, *, bad: dict[tuple[int, str], str] | None = None
) -> Path:
    """A small valid history (spx, vix, vvix), with cells replaced by ``bad``."""
    import numpy as np
    import pandas as pd

    dates = pd.bdate_range("2020-01-02", periods=rows)
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),
            "spx": (3200 * np.exp(np.cumsum(rng.normal(0, 0.01, rows)))).round(2),
            "vix": (15 + np.abs(np.cumsum(rng.normal(0, 0.5, rows)))).round(2),
            "vvix": (90 + rng.normal(0, 3, rows)).round(2),
        }
    ).astype(str)
    for (row, column), value in (bad or {}).items():
        frame.loc[row, column] = value
    frame.to_csv(path, index=False)
    return path


# ------------------------------------------------------------------ success


def test_a_fresh_install_runs_the_core_book_with_no_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = alvh("dryrun", CORE)
    assert result.exit_code == 0, result.output
    out = tmp_path / "runs" / "alvh_core"
    assert {p.name for p in out.iterdir()} == {*RUN_FILES, "baseline"}
    assert {p.name for p in (out / "baseline").iterdir()} == set(BASELINE_FILES)
    assert result.stdout.rstrip().endswith("report: runs/alvh_core/report.html")
    assert "ALVH core 1.0 — 2005-01-03 .. 2025-01-02" in result.stdout
    assert "synthetic history" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: plain text
    assert "days" not in result.stderr  # and no progress bar
    doc = summary(out)
    assert doc["run"]["history"]["synthetic"] is True
    assert doc["book"]["days"] == 5034


def test_window_params_and_json_output(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = alvh(
        "dryrun", CORE, *WINDOW, "--param", "roll_dte=5d", "-p", "vix_trigger=25",
        "--out", str(out), "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["report"] == str(out / "report.html") and doc["out"] == str(out)
    assert (doc["book"]["start"], doc["book"]["end"]) == ("2010-01-04", "2010-09-30")
    assert set(doc) >= {"book", "baseline", "comparison"}
    params = summary(out)["run"]["book"]["params"]
    assert params["roll_dte"] == {"value": "5 days", "overridden": True}
    assert params["vix_trigger"] == {"value": "25", "overridden": True}
    assert params["entry_dte"]["overridden"] is False


def test_the_example_config_loads_and_is_the_defaults(tmp_path: Path) -> None:
    assert load_config(ROOT / "examples" / "dryrun.toml") == DryRunConfig()
    out = tmp_path / "run"
    result = alvh(
        "dryrun", CORE, *WINDOW, "--config", str(ROOT / "examples" / "dryrun.toml"),
        "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert summary(out)["run"]["config"] == DryRunConfig().model_dump(mode="json")


def test_a_config_changes_the_run(tmp_path: Path) -> None:
    config = tmp_path / "small.toml"
    config.write_text("starting_equity = 100000\n[risk]\nnear_expiry_dte = 10\n")
    out = tmp_path / "run"
    result = alvh("dryrun", CORE, *WINDOW, "--config", str(config), "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = summary(out)
    assert doc["book"]["starting_equity"] == 100000
    assert doc["book"]["near_expiry_dte"] == 10
    assert "DTE ≤ 10" in result.stdout


def test_baseline_none(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = alvh("dryrun", CORE, *WINDOW, "--baseline", "none", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert not (out / "baseline").exists()
    doc = summary(out)
    assert "baseline" not in doc and doc["run"]["baseline"] is None
    assert "No baseline was run" in result.stdout


def test_color_always_prints_a_rich_table(tmp_path: Path) -> None:
    args = ["--from", "2010-01-01", "--to", "2010-03-31", "--baseline", "none"]
    result = alvh("dryrun", CORE, *args, "--color", "always", "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    assert "\x1b[" in result.stdout and "┏" in result.stdout and "P&L" in result.stdout


def test_baseline_another_book(tmp_path: Path) -> None:
    other = ROOT / "rulebooks" / "gamma_guard.alvh"
    out = tmp_path / "run"
    result = alvh("dryrun", CORE, *WINDOW, "--baseline", str(other), "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = summary(out)
    base = doc["run"]["baseline"]
    assert base["label"] == "baseline: gamma_guard.alvh"
    assert base["name"] == "Gamma-guarded condors"
    text = other.read_text(encoding="utf-8")
    assert base["book"]["files"][str(other)] == hashlib.sha256(text.encode()).hexdigest()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Baseline rulebook" in page and "Gamma-guarded condors" in page
    base_rules = {d["rule"] for d in decisions(out / "baseline" / "decisions.jsonl")}
    assert base_rules & {"gamma_guard", "delta_breach", "expiry_exit", "hedge_backwardation"}


# A window of the built-in history with a roll and a hedge layer in it.
DUMP_WINDOW = ["--from", "2009-06-01", "--to", "2010-06-30"]


def test_dump_state_then_eval_reproduces_the_fired_rules(tmp_path: Path) -> None:
    first = tmp_path / "first"
    args = [*DUMP_WINDOW, "--baseline", "none"]
    assert alvh("dryrun", CORE, *args, "--out", str(first)).exit_code == 0
    fired_on: dict[str, set[str]] = {}
    for d in decisions(first / "decisions.jsonl"):
        if d["status"] == "fired":
            fired_on.setdefault(d["date"], set()).add(d["rule"])
    # A roll, a hedge layer (its cooldown matters on later days), a quiet day.
    roll = next(day for day, rules in sorted(fired_on.items()) if "roll_forward" in rules)
    layer = next(day for day, rules in sorted(fired_on.items()) if "layer_up" in rules)
    quiet = next(
        r["date"]
        for r in decisions(first / "decisions.jsonl")
        if r["date"] not in fired_on and r["date"] > layer
    )
    out = tmp_path / "run"
    dump = [arg for day in (roll, layer, quiet) for arg in ("--dump-state", day)]
    result = alvh("dryrun", CORE, *args, *dump, "--out", str(out))
    assert result.exit_code == 0, result.output
    for day in (roll, layer, quiet):
        state = out / f"state-{day}.json"
        assert f"state: {state}" in result.stdout
        replay = alvh("eval", CORE, "--state", str(state), "--format", "json")
        assert replay.exit_code == 0, replay.output
        fired = {
            d["rule"] for d in json.loads(replay.stdout)["decisions"] if d["status"] == "fired"
        }
        assert fired == fired_on.get(day, set()), day


def test_history_file(tmp_path: Path) -> None:
    history = write_history(tmp_path / "small.csv")
    out = tmp_path / "run"
    result = alvh("dryrun", CORE, "--history", str(history), "--out", str(out))
    assert result.exit_code == 0, result.output
    hist = summary(out)["run"]["history"]
    assert hist["synthetic"] is False
    assert hist["sha256"] == hashlib.sha256(history.read_bytes()).hexdigest()
    assert hist["sources"] == [{"path": str(history), "sha256": hist["sha256"], "role": "history"}]
    assert (hist["start"], hist["days"]) == ("2020-01-02", 70)
    assert "market history" in (out / "report.html").read_text(encoding="utf-8")


def test_a_gap_needs_a_policy(tmp_path: Path) -> None:
    history = write_history(tmp_path / "gappy.csv", bad={(10, "vvix"): ""})
    result = alvh("dryrun", CORE, "--history", str(history), "--out", str(tmp_path / "run"))
    assert result.exit_code == 1
    assert f"{history}:12:vvix: E601 no value on 2020-01-16 (a gap in vvix)" in result.stderr
    assert "hint: --gaps ffill" in result.stderr
    assert not (tmp_path / "run").exists()
    result = alvh(
        "dryrun", CORE, "--history", str(history), "--gaps", "ffill", "--out", str(tmp_path / "run")
    )
    assert result.exit_code == 0, result.output
    notes = summary(tmp_path / "run")["run"]["history"]["notes"]
    assert "forward-filled 1 gap(s) in vvix (2020-01-16)" in notes


def test_a_broken_history_lists_file_row_column(tmp_path: Path) -> None:
    history = write_history(tmp_path / "broken.csv", bad={(3, "vix"): "abc", (5, "spx"): "-1"})
    result = alvh("dryrun", CORE, "--history", str(history), "--out", str(tmp_path / "run"))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"{history}:5:vix: E601 ") for line in lines), result.stderr
    assert any(line.startswith(f"{history}:7:spx: E601 ") for line in lines), result.stderr
    assert f"alvh: {history} is not a valid history" in result.stderr
    assert "hint: --gaps" not in result.stderr  # not a gap problem
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[risk]\ngrid_stepp = 0.01\n", "risk.grid_stepp: E602 Extra inputs are not permitted"),
        ("starting_equity = -5\n", "starting_equity: E602 Input should be greater than 0"),
        ("[costs\n", "E602 not valid TOML"),
        ("[risk]\ngrid_low = 0.01\n", "risk: E602 the grid must span 0"),
        ("[risk]\ngrid_step = 0.2\n", "risk: E602 grid_step 0.2 leaves no move on one side of 0"),
    ],
)
def test_a_broken_config_exits_1(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    result = alvh("dryrun", CORE, *WINDOW, "--config", str(config), "--out", str(tmp_path / "r"))
    assert result.exit_code == 1
    assert f"{config}: " in result.stderr and expected in result.stderr
    assert "is not a valid dry-run config" in result.stderr
    assert not (tmp_path / "r").exists()


def test_a_missing_config_exits_1(tmp_path: Path) -> None:
    result = alvh("dryrun", CORE, "--config", str(tmp_path / "nope.toml"))
    assert result.exit_code == 1 and "cannot read" in result.stderr


def test_a_book_with_errors_prints_diagnostics(tmp_path: Path) -> None:
    book = tmp_path / "broken.alvh"
    book.write_text("rule r\n  when condor.detla > 0.3\n  then close condor\n")
    result = alvh("dryrun", str(book), "--out", str(tmp_path / "run"), "--color", "never")
    assert result.exit_code == 1
    assert "E101" in result.stderr and "condor.detla" in result.stderr
    assert "did you mean `condor.delta`?" in result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2010-13-01"], "'2010-13-01' is not a date"),
        (["--from", "2011-01-01", "--to", "2010-01-01"], "is after --to"),
        (["--from", "2031-01-01"], "no trading days between 2031-01-01 and the end"),
        (["--param", "roll_dte"], "--param takes NAME=VALUE"),
        (["--gaps", "ffill"], "--gaps applies to a --history file"),
        ([*WINDOW, "--dump-state", "2010-01-02"], "2010-01-02 is not a trading day"),
        (["--baseline", "nothing.alvh"], "expected no-hedge, none or a rulebook file"),
        (["--format", "xml"], "'xml' is not one of"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = alvh("dryrun", CORE, *args, "--out", str(tmp_path / "run"))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not (tmp_path / "run").exists()


def test_out_must_be_a_run_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = alvh("dryrun", CORE, *WINDOW, "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "is not a dry-run directory" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_second_run_replaces_the_first(tmp_path: Path) -> None:
    out = tmp_path / "run"
    dump = ["--dump-state", "2010-03-01"]
    assert alvh("dryrun", CORE, *WINDOW, *dump, "--out", str(out)).exit_code == 0
    assert (out / "state-2010-03-01.json").exists()
    result = alvh("dryrun", CORE, *WINDOW, "--baseline", "none", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == set(RUN_FILES)  # no stale state or baseline
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_progress_callback() -> None:
    from alvh_dsl.cli.dryrun import progress_bar

    with progress_bar(True) as tick:  # what a terminal gets (drawn only if stderr is one)
        assert tick is not None
        for day in range(50):
            tick("book", day, 50)
    with progress_bar(False) as none:
        assert none is None


def test_alvh_check_does_not_import_the_dry_run_stack() -> None:
    code = (
        "import sys, alvh_dsl.cli.main\n"
        "heavy = {'alvh_dsl.cli.dryrun', 'alvh_dsl.dryrun.report', 'alvh_dsl.dryrun.config',\n"
        "         'alvh_dsl.dryrun.engine', 'matplotlib', 'pandas', 'rich.progress', 'pyarrow'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_lists_every_option() -> None:
    result = alvh("dryrun", "--help")
    assert result.exit_code == 0
    for option in (
        "--history", "--gaps", "--from", "--to", "--param", "--config", "--baseline", "--out",
        "--dump-state", "--format", "--color", "Exit codes",
    ):  # fmt: skip
        assert option in result.stdout


# ------------------------------------------------------------- real history


def test_the_real_2004_2017_history(shared_dir: Path, tmp_path: Path) -> None:
    data = shared_dir / "data" / "history_2004_2017.csv"
    out = tmp_path / "real"
    refused = alvh("dryrun", CORE, "--history", str(data), "--out", str(out))
    assert refused.exit_code == 1 and "hint: --gaps ffill" in refused.stderr
    result = alvh("dryrun", CORE, "--history", str(data), "--gaps", "ffill", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {*RUN_FILES, "baseline"}
    doc = summary(out)
    hist = doc["run"]["history"]
    assert hist["synthetic"] is False
    assert hist["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert (hist["start"], hist["end"]) == ("2004-04-19", "2017-05-11")
    assert any(n.startswith("forward-filled 2 gap(s) in vvix") for n in hist["notes"])
    assert doc["comparison"]["scenario"]["finding"] in result.stdout
    page = (out / "report.html").read_text(encoding="utf-8")
    assert hist["sha256"] in page and "market history" in page
