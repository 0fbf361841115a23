"""The dry-run's observed evaluation records what the traced one did, to the byte.

The day loop evaluates the rules observed (``Book.evaluate(observe=True)``: each
comparison's values, no trace trees), folds those into the statuses and the coverage,
and builds a decision's trees only when it is written (``Book.retrace``). Here every
book is replayed twice over the same days — as the loop does it, and with the traced
evaluation the statuses used to read (``StatusRecorder.record`` on the trees) — and
every output must be equal: rule statuses with their details, coverage, decisions with
their traces, near misses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import alvh_dsl
from alvh_dsl.api import dryrun_history
from alvh_dsl.dryrun.config import DryRunConfig
from alvh_dsl.dryrun.engine import build_market
from alvh_dsl.dryrun.loop import run_book
from alvh_dsl.dryrun.market_data import series_source
from alvh_dsl.dryrun.statuses import StatusRecorder
from alvh_dsl.lang.evaluate import Book, Decision, Evaluation
from alvh_dsl.lang.state import load_state

ROOT = Path(__file__).resolve().parents[1]
BOOKS = sorted(
    [
        *(ROOT / "rulebooks").glob("*.alvh"),
        *(ROOT / "tests" / "books").glob("*.alvh"),
        ROOT / "benchmarks" / "books" / "rolled_condor.alvh",
    ]
)

# What the books above leave out: `unless` (blocked days), `between`, `or`, `not`, a
# function, a division, a define read twice, a param compared, a cooldown.
EXTRA = """\
param calm = 18
define wide = VIX between 12 and calm or VIX > 2 * calm

rule open_condor
  when condor.count == 0 and VIX / SPX < 1
  then open iron condor month 2 short delta 0.16 wings 50 points
  unless VIX > 2 * calm and wide

rule roll_forward priority 10
  when condor.DTE <= 7 days and not (VIX > 60)
  then roll condor to month 2 keeping delta
  cooldown 3 days

rule guard priority 5
  when abs(book.delta) > 1 and (wide or VIX >= 12) and not (wide and VIX > 50)
  then alert "delta"
  unless VIX > 25 and condor.count > 0
"""


@pytest.fixture(scope="module")
def history() -> Any:
    # 2008's crash: unknowns, near misses, stops and blocked days as well as quiet ones.
    return dryrun_history(None, start="2008-06-02", end="2009-06-30")


def _traced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop with the traced evaluation and the statuses read off its trees."""
    evaluate = Book.evaluate

    def traced(self: Book, state: Any, **kw: Any) -> Evaluation:
        kw["trace"] = kw.pop("observe", False) or kw.get("trace", True)
        evaluation = evaluate(self, state, **kw)
        evaluation.conjuncts = [None] * len(evaluation.decisions)  # the loop reads them
        return evaluation

    def record(self: StatusRecorder, date: Any, d: Decision, conj: Any, obs: Any,
               actions: Any = (), last_fired: Any = None) -> str:  # fmt: skip
        return self.record(date, d, actions, last_fired)

    near_miss = StatusRecorder.near_miss
    monkeypatch.setattr(Book, "evaluate", traced)
    monkeypatch.setattr(Book, "retrace", lambda self, evaluation, d: d)
    monkeypatch.setattr(StatusRecorder, "observed", record)
    monkeypatch.setattr(StatusRecorder, "near_miss", lambda self, d, *a: near_miss(self, d))


def _run(book: Book, history: Any) -> Any:
    config = DryRunConfig()
    market = build_market(history, config)
    return run_book(book, market, series_source(market), config)


@pytest.mark.parametrize("path", [*BOOKS, None], ids=lambda p: p.stem if p else "extra")
def test_observed_run_records_what_the_traced_run_did(
    path: Path | None, history: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if path is None:
        path = tmp_path / "extra.alvh"
        path.write_text(EXTRA)
    book = alvh_dsl.load(path)
    observed = _run(book, history)
    with monkeypatch.context() as m:
        _traced(m)
        traced = _run(alvh_dsl.load(path), history)
    assert observed.rule_status == traced.rule_status
    assert observed.coverage == traced.coverage
    assert observed.decisions == traced.decisions
    assert observed.daily_rows == traced.daily_rows and observed.trades == traced.trades
    assert len(observed.rule_status["date"]) == len(observed.daily_rows) * len(book.rules)
    if path.name == "extra.alvh":  # the statuses this book is there for did occur
        seen = set(observed.rule_status["status"])
        assert {"false", "blocked", "fired"} <= seen, seen


def test_retrace_gives_the_traced_decision() -> None:
    book = alvh_dsl.load(ROOT / "rulebooks" / "alvh_core.alvh")
    state = load_state(ROOT / "examples" / "state_near_expiry.json")
    traced = book.evaluate(state, trace=True)
    observed = book.evaluate(state, trace=False, observe=True)
    assert observed.env is not None and observed.conjuncts is not None
    assert [d.trace for d in observed.decisions] == [None] * len(book.rules)
    for t, o in zip(traced.decisions, observed.decisions, strict=True):
        assert book.retrace(observed, o).to_dict() == t.to_dict()
        assert o._replace(trace=t.trace, unless_trace=t.unless_trace) == t
