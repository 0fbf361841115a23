"""Rule coverage over a dry-run (summary.json `coverage`, the terminal summary, report.html)
and which near misses decisions.jsonl keeps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alvh_dsl import api
from alvh_dsl.dryrun.coverage import value_range
from alvh_dsl.dryrun.report.text import summary_table
from alvh_dsl.dryrun.statuses import NEAR_MISS_MARGIN

ROOT = Path(__file__).resolve().parents[1]
NEVER = ROOT / "tests" / "books" / "never_fires.alvh"
TWO_CLOSERS = ROOT / "tests" / "books" / "two_closers.alvh"  # `second` always superseded
CORE = ROOT / "rulebooks" / "alvh_core.alvh"


@pytest.fixture(scope="module")
def never(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    result = api.dryrun(NEVER, start="2010-01-01", end="2011-12-31")
    return result, result.write(tmp_path_factory.mktemp("coverage") / "never")


def _entry(coverage: list[dict[str, Any]], rule: str) -> dict[str, Any]:
    return next(c for c in coverage if c["rule"] == rule)


def test_a_rule_that_never_fired_says_why_in_data_terms(never: tuple[Any, Path]) -> None:
    result, _ = never
    migrate = _entry(result.run.coverage, "migrate")
    assert migrate["fired"] == 0 and migrate["applied"] == 0
    (cmp,) = migrate["comparisons"]
    assert cmp["expr"] == "condor.DTE < 2" and cmp["held"] == 0
    (dte,) = cmp["values"]
    # The range is the front DTE the rules saw, day by day (daily.parquet's front_dte).
    seen = [r["front_dte"] for r in result.run.daily_rows if r["front_dte"] is not None]
    assert (dte["min"], dte["max"], dte["unit"]) == (min(seen), max(seen), "days")
    assert dte["min"] == 7  # rolled at 7 days, so never under 2
    assert (
        cmp["held"] + cmp["false"] + cmp["unknown"] == migrate["days"] == len(seen) + cmp["unknown"]
    )
    (pre,) = migrate["preempted_by"]
    assert (pre["rule"], pre["priority"], pre["does"]) == ("roll_forward", 10, "rolls the condor")
    assert pre["when"] == "condor.DTE <= 7 days" and pre["applied"] > 0
    assert migrate["reason"].startswith(
        "`condor.DTE` ranged 7–45 days; `condor.DTE < 2` never held; "
    )
    assert migrate["reason"].endswith(
        "`roll_forward` (priority 10) rolls the condor when `condor.DTE <= 7 days`"
    )


def test_rules_that_fired_count_days_and_have_no_reason(never: tuple[Any, Path]) -> None:
    result, _ = never
    roll = _entry(result.run.coverage, "roll_forward")
    assert roll["fired"] == result.run.summary["rules_fired"]["roll_forward"] > 0
    assert roll["applied"] == result.run.summary["rolls"]
    assert roll["reason"] is None and roll["preempted_by"] == []
    assert sum(roll["statuses"].values()) == roll["days"] == len(result.run.daily_rows)


def test_coverage_is_in_summary_json_the_terminal_and_the_page(never: tuple[Any, Path]) -> None:
    result, out = never
    doc = json.loads((out / "summary.json").read_text())
    assert [c["rule"] for c in doc["coverage"]["book"]] == result.book.rule_ids
    assert _entry(doc["coverage"]["baseline"], "migrate")["fired"] == 0
    reason = _entry(doc["coverage"]["book"], "migrate")["reason"]
    assert f"`migrate` never fired: {reason}" in summary_table(result)
    assert "2 of 3 rule(s) fired at least once" in summary_table(result)
    page = (out / "report.html").read_text()
    assert "<h2>Rule coverage</h2>" in page
    assert "`migrate` never fired: `condor.DTE` ranged 7–45 days" in page.replace("&#x27;", "'")


def test_value_range_words() -> None:
    assert value_range(7, 49, "days") == "7–49 days"
    assert value_range(7, 7, "days") == "7 days"
    assert value_range(-2635.01, -2486.7, "dollars") == "from -$2,635.01 to -$2,486.70"
    assert value_range(0.05, 0.1, "percent") == "5%–10%"


# ------------------------------------------------------------ near misses


@pytest.fixture(scope="module")
def core() -> Any:
    return api.dryrun(CORE, start="2008-01-01", end="2009-12-31")


def test_near_misses_are_thresholds_within_the_margin(core: Any) -> None:
    near = [d for d in core.run.decisions if d["status"] == "near_miss"]
    assert near, "2008-09 has days VIX came within 10 % of the trigger"
    for d in near:
        assert 0 <= d["margin"] <= NEAR_MISS_MARGIN
        assert d["near_miss"] != "condor.count == 0"  # a condor simply open: not a near miss
        assert "hedge.layers" not in d["reason"]
        assert d["reason"].startswith(f"only `{d['near_miss']}` failed: `")


def test_near_misses_drop_the_position_gates(core: Any) -> None:
    """Before: every day `open_condor` failed only on `condor.count == 0` was a near miss
    (a condor was simply open). The statuses still say those days, as `false`."""
    cols = core.run.rule_status
    gated = sum(
        1
        for r, s, d in zip(cols["rule"], cols["status"], cols["detail"], strict=True)
        if r == "open_condor" and s == "false" and '"conjunct":"condor.count == 0"' in d
    )
    assert gated > 100
    near = [d for d in core.run.decisions if d["status"] == "near_miss"]
    assert sum(1 for d in near if d["rule"] == "open_condor") < gated / 10


def test_a_rule_that_fired_but_never_applied_says_what_became_of_it() -> None:
    result = api.dryrun(TWO_CLOSERS, start="2010-01-04", end="2010-06-30", baseline=None)
    second = _entry(result.run.coverage, "second")
    assert second["fired"] > 0 and second["applied"] == 0
    assert second["reason"] == (
        f"fired on {second['fired']} day(s) but never changed the book: "
        f"superseded by `first` (priority 10) on {second['fired']} day(s)"
    )
    assert f"`second` {second['reason']}" in summary_table(result)
