"""A run without its audit trail (``audit=False``, what a sweep's variant replays) keeps the
audited run's days, trades, summaries and comparison, and the sweep's row from it is the
audited run's row (issue 11 item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alvh_dsl.api import dryrun_history, load
from alvh_dsl.dryrun.config import DryRunConfig
from alvh_dsl.dryrun.engine import build_market, run_dryrun
from alvh_dsl.sweep.table import figures

ROOT = Path(__file__).resolve().parents[1]
BOOKS = ["rulebooks/alvh_core.alvh", "tests/books/never_fires.alvh"]


@pytest.fixture(scope="module")
def history() -> object:
    return dryrun_history(None, start="2008-01-01", end="2010-12-31")


@pytest.mark.parametrize("path", BOOKS)
def test_unaudited_run_keeps_days_trades_and_figures(history: object, path: str) -> None:
    book, config = load(str(ROOT / path)), DryRunConfig()
    market = build_market(history, config)  # type: ignore[arg-type]
    full = run_dryrun(book, history, config, market=market)  # type: ignore[arg-type]
    bare = run_dryrun(book, history, config, market=market, audit=False)  # type: ignore[arg-type]
    for a, b in ((full.run, bare.run), (full.baseline, bare.baseline)):
        assert a is not None and b is not None
        assert a.daily_rows == b.daily_rows
        assert a.trades == b.trades
        assert a.summary == b.summary
        assert b.decisions == [] and b.rule_status == {} and b.coverage == []
    assert full.run.decisions and full.run.coverage  # the audited run has its trail
    assert bare.comparison is not None and full.comparison is not None
    assert bare.comparison == {"scenario": full.comparison["scenario"]}
    assert bare.stress_windows == []
    assert figures(bare.summary) == figures(full.summary)
    # The coverage figure comes from the fire counts when there is no coverage.
    assert figures(bare.summary)["rule_coverage_pct"] is not None
