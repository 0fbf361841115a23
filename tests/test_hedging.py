"""What a no-hedge baseline can see of a book (alvh_dsl.dryrun.hedging), and the two
savings built on it: a book without hedge actions is its own baseline (not replayed), and
a sweep's variants that differ only in hedge-only params share one baseline run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

import alvh_dsl
from alvh_dsl.api import dryrun_history
from alvh_dsl.dryrun import engine
from alvh_dsl.dryrun.config import DryRunConfig
from alvh_dsl.dryrun.engine import NO_HEDGE, OWN_RUN_NOTE, build_market, run_dryrun
from alvh_dsl.dryrun.hedging import baseline_params, has_hedge_actions
from alvh_dsl.dryrun.loop import run_book
from alvh_dsl.dryrun.market_data import series_source
from alvh_dsl.sweep import tasks as sweep_tasks
from alvh_dsl.sweep.grid import override_values
from alvh_dsl.sweep.table import figures

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "rulebooks" / "alvh_core.alvh"
WINDOW = {"start": "2010-01-04", "end": "2010-06-30"}

# The core book without its two hedge rules (and the params and define only they read).
NO_HEDGE_BOOK = """\
rulebook "condors only" version "1.0"

param entry_dte    = 45 days
param roll_dte     = 7 days

rule open_condor "Open a condor when flat"
  when condor.count == 0 and VIX between 14 and 35
  then open iron condor near entry_dte short delta 0.16 wings 50 points

rule roll_forward "Roll the front condor forward" priority 10
  when condor.DTE <= roll_dte
  then roll condor to month 2 keeping delta

rule take_profit
  when condor.pnl >= 50% of condor.credit
  then close condor and alert "profit taken"
"""


@pytest.fixture(scope="module")
def history() -> Any:
    return dryrun_history(None, start=WINDOW["start"], end=WINDOW["end"])


def test_the_core_books_baseline_reads_only_its_condor_params() -> None:
    program = alvh_dsl.load(CORE).program
    assert has_hedge_actions(program)
    # vix_trigger (through the define `stressed`) and hedge_budget feed only `layer_up`,
    # whose one action buys a VIX call spread; `migrate` only shifts the hedge.
    assert baseline_params(program) == {"entry_dte", "roll_dte", "short_delta", "wing_width"}


def test_close_all_makes_every_param_visible(tmp_path: Path) -> None:
    # `close all` consumes the hedge months too, so a hedge-only rule that fires first
    # supersedes it: that rule's params then reach the baseline.
    path = tmp_path / "book.alvh"
    path.write_text(
        CORE.read_text()
        + "\nrule flatten\n  when condor.pnl <= -300% of condor.credit\n  then close all\n"
    )
    program = alvh_dsl.load(path).program
    assert baseline_params(program) == set(program.params)


def test_a_book_without_hedge_actions_is_its_own_baseline(tmp_path: Path, history: Any) -> None:
    path = tmp_path / "condors.alvh"
    path.write_text(NO_HEDGE_BOOK)
    book = alvh_dsl.load(path)
    assert not has_hedge_actions(book.program)
    result = alvh_dsl.dryrun(book, history)
    note = OWN_RUN_NOTE.format(label=NO_HEDGE.label)
    assert note in result.notes
    assert result.baseline is not None and result.baseline.label == NO_HEDGE.label
    # What replaying it would have given, field for field.
    config = DryRunConfig()
    market = build_market(history, config)
    replay = run_book(
        book, market, series_source(market), config, label=NO_HEDGE.label, no_hedge=True
    )
    base = result.baseline
    assert base.daily_rows == replay.daily_rows and len(replay.daily_rows) > 100
    assert base.trades == replay.trades and replay.trades
    assert base.decisions == replay.decisions
    assert base.summary == replay.summary
    assert base.rule_status == replay.rule_status
    assert base.coverage == replay.coverage
    # A book with hedge actions is replayed: no such note.
    hedged = alvh_dsl.dryrun(alvh_dsl.load(CORE), history)
    assert not any("no hedge action to disable" in n for n in hedged.notes)


def _task(variant: int, overrides: dict[str, str], history: Any) -> sweep_tasks.Task:
    book = alvh_dsl.load(CORE)
    config = DryRunConfig()
    return sweep_tasks.Task(
        variant=variant, part="all", root=book.program.root,
        sources=dict(book.program.sources), overrides=overrides,
        params=override_values(book.program, overrides), series=False,
        history_key=sweep_tasks.history_key(history), config=config,
        config_key=sweep_tasks.config_key(config), baseline="no-hedge",
    )  # fmt: skip


def test_variants_differing_in_hedge_only_params_share_one_baseline(
    history: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = baseline_params(alvh_dsl.load(CORE).program)
    grid = [
        {"vix_trigger": "15", "hedge_budget": "1%"},
        {"vix_trigger": "30", "hedge_budget": "8%"},
        {"vix_trigger": "15", "hedge_budget": "8%"},
    ]
    plain = [_task(i, o, history) for i, o in enumerate(grid)]
    keys = {sweep_tasks.baseline_key(t, seen) for t in plain}
    assert len(keys) == 1 and None not in keys
    other = _task(9, {"roll_dte": "5d"}, history)
    assert sweep_tasks.baseline_key(other, seen) not in keys  # roll_dte reaches it
    # Each variant on its own (nothing shared) against the variants sharing a baseline.
    built: list[int] = []
    real = engine.build_market

    def counted(h: Any, c: Any) -> Any:
        built.append(1)
        return real(h, c)

    monkeypatch.setattr(engine, "build_market", counted)
    sweep_tasks.MARKETS.clear()
    sweep_tasks.BASELINES.clear()
    alone = [sweep_tasks.run_task(t, history) for t in plain]
    assert not sweep_tasks.BASELINES
    keyed = [dataclasses.replace(t, baseline_key=sweep_tasks.baseline_key(t, seen)) for t in plain]
    shared = [sweep_tasks.run_task(t, history) for t in keyed]
    assert len(sweep_tasks.BASELINES) == 1
    assert len(built) == 1  # one market for the six runs (a worker's MARKETS)
    assert shared == alone
    rows = [json.loads(text) for text in alone]
    assert len({r["pnl"] for r in rows}) == 3  # the variants' books do differ
    # The shared baseline itself: the same days, trades and figures as each variant's own.
    (kept,) = sweep_tasks.BASELINES.values()
    for task in plain[1:]:
        book = sweep_tasks.build_book(task)
        result = run_dryrun(book, history, task.config, baseline=NO_HEDGE)
        own = result.baseline
        assert own is not None
        assert kept.daily_rows == own.daily_rows
        assert kept.trades == own.trades
        assert kept.summary == {k: v for k, v in own.summary.items() if k != "rules_fired"}
        with_shared = run_dryrun(book, history, task.config, baseline=NO_HEDGE, baseline_run=kept)
        assert figures(with_shared.summary) == figures(result.summary)
        assert with_shared.comparison == result.comparison
    sweep_tasks.BASELINES.clear()
