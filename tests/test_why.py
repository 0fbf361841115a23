"""`alvh why RUN_DIR DATE [RULE]`: every day's status of every rule, from the run directory.

The issue-9 question — "why didn't `hedge_up` fire on 2007-08-02?" — answered from a
run directory over the shared real history (skipped without ../shared), and the same
machinery on synthetic data (fast): rule_status.parquet is written, read back, and
said in words with the values the failing comparison compared.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from alvh_dsl import api
from alvh_dsl.cli.main import cli
from alvh_dsl.dryrun.report.files import BASELINE_FILES, RUN_FILES, check_run_directory
from alvh_dsl.dryrun.statuses import STATUSES
from alvh_dsl.dryrun.why import WhyError, why

ROOT = Path(__file__).resolve().parents[1]
HEDGE_UP = ROOT / "tests" / "books" / "hedge_up.alvh"
TWO_CLOSERS = ROOT / "tests" / "books" / "two_closers.alvh"  # `second` always superseded
CORE = ROOT / "rulebooks" / "alvh_core.alvh"


def alvh(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# ------------------------------------------------------------ the real question


@pytest.fixture(scope="module")
def real_run(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("why") / "hedge_up"
    history = shared_dir / "data" / "history_2004_2023.csv"
    res = alvh(
        "dryrun", str(HEDGE_UP), "--history", str(history), "--gaps", "keep",
        "--from", "2007-07-02", "--to", "2007-08-31", "--out", str(out), "--format", "json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return out


def test_why_hedge_up_did_not_fire_on_2007_08_02(real_run: Path) -> None:
    res = alvh("why", str(real_run), "2007-08-02", "hedge_up")
    assert res.exit_code == 0, res.output
    # VIX closed at 21.22 that day (the history's row), under the book's trigger of 22.
    assert (
        "`hedge_up` (priority 5) did not fire: `VIX > vix_trigger` was false: "
        "VIX was 21.22 points, vix_trigger was 22"
    ) in res.output
    assert "open_condor" not in res.output  # only the rule asked about


def test_why_around_2007_08_02_fired_then_cooling(real_run: Path) -> None:
    fired = alvh("why", str(real_run), "2007-08-01", "hedge_up").output
    assert "`hedge_up` (priority 5) fired and changed the book: `buy 1 VIX future month 2`" in fired
    cooling = alvh("why", str(real_run), "2007-08-03", "hedge_up").output
    assert "cooling down until 2007-08-06 (it last changed the book on 2007-08-01)" in cooling


def test_why_json_carries_the_values(real_run: Path) -> None:
    res = alvh("why", str(real_run), "2007-08-02", "hedge_up", "--format", "json")
    doc = json.loads(res.output)
    (rule,) = doc["rules"]
    assert rule["status"] == "false" and rule["applied"] is False
    (failed,) = rule["detail"]["failed"]
    assert failed["conjunct"] == "VIX > vix_trigger"
    assert failed["comparisons"][0]["values"] == [
        ["VIX", 21.22, "points"],
        ["vix_trigger", 22.0, "bare"],
    ]


# ------------------------------------------------------------ synthetic, fast


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    result = api.dryrun(CORE, start="2008-01-01", end="2008-12-31")
    out = result.write(tmp_path_factory.mktemp("why") / "core")
    return result, out


def test_rule_status_is_in_the_run_directory_and_its_manifest(synthetic: tuple[Any, Path]) -> None:
    result, out = synthetic
    assert "rule_status.parquet" in RUN_FILES and "rule_status.parquet" in BASELINE_FILES
    manifest = json.loads((out / ".alvh-run.json").read_text())
    assert {"rule_status.parquet", "baseline/rule_status.parquet"} <= set(manifest["files"])
    check_run_directory(out)  # a run directory with statuses can be replaced
    import pandas as pd

    frame = pd.read_parquet(out / "rule_status.parquet")
    days, rules = len(result.run.daily_rows), len(result.book.rules)
    assert len(frame) == days * rules  # every day, every rule
    assert set(frame["status"]) <= set(STATUSES)
    assert frame["applied"].sum() == sum(c["applied"] for c in result.run.coverage)


def test_every_status_is_said_with_its_data(synthetic: tuple[Any, Path]) -> None:
    result, out = synthetic
    cols = result.run.rule_status
    seen: dict[str, int] = {}
    for i, status in enumerate(cols["status"]):
        seen.setdefault(status, i)
    assert {"fired", "false", "unknown"} <= set(seen)
    for status, i in seen.items():
        date, rule = cols["date"][i], cols["rule"][i]
        (answer,) = why(out, date, rule).rules
        assert answer.status == status
        if status == "false":
            detail = json.loads(cols["detail"][i])
            first = detail["failed"][0]["comparisons"][0]
            assert f"`{first['expr']}`" in answer.text and " was " in answer.text
        elif status == "unknown":
            assert "is unknown" in answer.text
        elif status == "fired" and answer.applied:
            assert "fired and changed the book" in answer.text


def test_why_false_names_the_value(synthetic: tuple[Any, Path]) -> None:
    result, out = synthetic
    cols = result.run.rule_status
    i = next(
        k for k, (r, s) in enumerate(zip(cols["rule"], cols["status"], strict=True))
        if r == "roll_forward" and s == "false"
    )  # fmt: skip
    dte = json.loads(cols["detail"][i])["failed"][0]["comparisons"][0]["values"][0][1]
    res = alvh("why", str(out), cols["date"][i].isoformat(), "roll_forward")
    assert f"`condor.DTE <= roll_dte` was false: condor.DTE was {dte:g} days" in res.output
    # The same day as the rules saw it: the daily row's front DTE.
    row = next(r for r in result.run.daily_rows if r["date"] == cols["date"][i].isoformat())
    assert row["front_dte"] == dte


def test_why_superseded_names_the_rule(tmp_path: Path) -> None:
    result = api.dryrun(TWO_CLOSERS, start="2010-01-04", end="2010-03-31", baseline=None)
    out = result.write(tmp_path / "run")
    cols = result.run.rule_status
    i = cols["status"].index("superseded")
    assert cols["rule"][i] == "second"
    (answer,) = why(out, cols["date"][i], "second").rules
    assert "superseded by `first` (priority 10)" in answer.text
    with pytest.raises(Exception, match="no baseline run"):
        why(out, cols["date"][i], baseline=True)


def test_why_baseline_answers_for_the_baseline(synthetic: tuple[Any, Path]) -> None:
    result, out = synthetic
    cols = result.baseline.rule_status
    i = next(
        k for k, (r, d) in enumerate(zip(cols["rule"], cols["detail"], strict=True))
        if r == "layer_up" and d is not None and '"status":"disabled"' in d
    )  # fmt: skip
    res = alvh("why", str(out), cols["date"][i].isoformat(), "layer_up", "--baseline")
    assert res.exit_code == 0 and "baseline run" in res.output
    assert "fired but changed nothing" in res.output and "disabled" in res.output


def test_why_dates_outside_the_run_name_its_span(synthetic: tuple[Any, Path]) -> None:
    result, out = synthetic
    first, last = result.run.daily_rows[0]["date"], result.run.daily_rows[-1]["date"]
    res = alvh("why", str(out), "2001-01-02")
    assert res.exit_code == 2
    assert f"outside the run, which covers {first} to {last}" in res.output
    res = alvh("why", str(out), "2008-03-15")  # a Saturday
    assert res.exit_code == 2 and "not a trading day" in res.output
    assert "2008-03-14 and 2008-03-17" in res.output
    with pytest.raises(WhyError, match="not a date"):
        why(out, "2008-13-01")


def test_why_unknown_rule_and_not_a_run_directory(
    synthetic: tuple[Any, Path], tmp_path: Path
) -> None:
    _, out = synthetic
    res = alvh("why", str(out), "2008-03-14", "hedge_up")
    assert res.exit_code == 2 and "no rule `hedge_up`" in res.output and "layer_up" in res.output
    (tmp_path / "summary.json").write_text("{}")
    res = alvh("why", str(tmp_path), "2008-03-14")
    assert res.exit_code == 2 and "E603" in res.output


def test_why_whole_day_lists_every_rule_in_execution_order(synthetic: tuple[Any, Path]) -> None:
    result, out = synthetic
    answer = why(out, dt.date(2008, 3, 14))
    assert [r.rule for r in answer.rules] == [cr.id for cr in result.book.rules]
    text = alvh("why", str(out), "2008-03-14").output
    assert text.startswith("2008-03-14 in the run of ")
    assert all(f"`{cr.id}`" in text for cr in result.book.rules)


# ------------------------------------------------------------ alvh eval


def test_eval_names_the_failing_values_without_explain() -> None:
    state = str(ROOT / "examples" / "state_near_expiry.json")
    res = alvh("eval", str(CORE), "--state", state)
    assert res.exit_code == 0, res.output
    assert "not fired: `hedge.DTE < 2` is false (hedge.DTE = 6 days)" in res.output
    assert (
        "not fired: `condor.pnl <= -200% of condor.credit` is false "
        "(condor.pnl = $820, -200% of condor.credit = -$2,480)"
    ) in res.output
    assert "the condition is false" not in res.output
    # With --explain the trace itself shows every value, as before.
    explained = alvh("eval", str(CORE), "--state", state, "--explain").output
    assert "the condition is false" in explained and "hedge.DTE  →  6 days" in explained


def test_false_details_written_directly_parse_to_the_failing_comparisons() -> None:
    from alvh_dsl.dryrun.statuses import StatusRecorder, failing_comparisons
    from alvh_dsl.lang.state import load_state

    book = api.load(CORE)
    evaluation = book.evaluate(load_state(ROOT / "examples" / "state_near_expiry.json"))
    recorder = StatusRecorder(book)
    checked = 0
    for d in evaluation.decisions:
        if recorder.record(evaluation.date, d) == "false":
            assert d.trace is not None
            expected = {"failed": failing_comparisons(recorder.plans[d.rule], d.trace)}
            assert json.loads(recorder.detail[-1]) == expected
            checked += 1
    assert checked == 3  # stop_loss, open_condor, migrate
