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

    pending: list[Any] = []  # the day being fed: date, decisions, last fired, fired rows

    def flush(self: StatusRecorder) -> None:
        if pending:
            date, decisions, last, fired = pending.pop()
            for k, d in enumerate(decisions):
                if k in fired:
                    self.record(date, *fired[k])
                else:
                    self.record(date, d, last_fired=last.get(d.rule))

    def day(self: StatusRecorder, date: Any, evaluation: Evaluation, last_fired: Any) -> None:
        flush(self)
        pending.append((date, evaluation.decisions, dict(last_fired), {}))

    def fired(self: StatusRecorder, k: int, d: Decision, actions: Any) -> None:
        pending[-1][3][k] = (d, actions)

    def table(self: StatusRecorder) -> Any:
        flush(self)
        return original_table(self)

    near_miss = StatusRecorder.near_miss
    original_table = StatusRecorder.table
    monkeypatch.setattr(Book, "evaluate", traced)
    monkeypatch.setattr(Book, "retrace", lambda self, evaluation, d: d)
    monkeypatch.setattr(StatusRecorder, "day", day)
    monkeypatch.setattr(StatusRecorder, "fired", fired)
    monkeypatch.setattr(StatusRecorder, "table", table)
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


def _adversarial_columns(seed: int, days: int) -> list[list[Any]]:
    """Three comparisons' columns of Recs with what the columns must not blur: ints,
    floats and bools that compare equal, -0.0 and 0.0, NaN and infinities, unknowns,
    missing Recs, values that repeat and values that do not."""
    import random

    from alvh_dsl.lang.state import Unknown

    rng = random.Random(seed)
    pool: list[Any] = [0, 0.0, -0.0, 1, 1.0, True, False, 2.5, -2.5, float("nan"),
                       float("inf"), -float("inf"), Unknown("warm-up"), None, 7]  # fmt: skip

    def value() -> Any:
        return rng.choice(pool) if rng.random() < 0.5 else rng.uniform(-3, 3)

    def rec() -> Any:
        r = rng.random()
        if r < 0.05:
            return None
        if r < 0.1:
            return (Unknown("flat book"), value(), value())
        return (rng.random() < 0.5, value(), value())

    base = [rec() for _ in range(6)]  # days that repeat
    return [
        [rng.choice(base) if rng.random() < 0.6 else rec() for _ in range(days)] for _ in range(3)
    ]


def test_columns_give_the_day_by_day_statistics_and_details() -> None:
    """The statuses' end-of-run columns (``column_stats``, ``false_details``) give what
    folding and rendering each day in turn gives: counts, ranges with their order and
    the sign of their zeros, units, and every day's detail text."""
    import random

    from alvh_dsl.dryrun.status_days import column_stats, false_details, fold_day
    from alvh_dsl.dryrun.status_detail import false_renderer, false_templater
    from alvh_dsl.dryrun.statuses import Comparison, ComparisonStats, RulePlan
    from alvh_dsl.lang.state import Unknown

    def cmp(text: str, c: int, literal: tuple[bool, bool]) -> Comparison:
        return Comparison(text, "<", c, (), ((0, f"a{c}"), (1, f"b{text}")), literal, False)

    plan = RulePlan("r", 0, ("c0", "c1"), (cmp("50% of x", 0, (False, False)),
                    cmp("y", 1, (False, True)), cmp("z", 1, (False, False))), None, (), None,
                    frozenset())  # fmt: skip
    units = [("usd", "usd"), ("days", "days"), ("bare", "count")]
    render, template = false_renderer(plan, units), false_templater(plan, units)
    unknown = Unknown("warm-up")
    for seed in range(40):
        cols = _adversarial_columns(seed, 300)
        rng = random.Random(seed)
        conj = [
            (rng.choice([False, True, 0, unknown]), rng.choice([False, False, True, 0.0]))
            for _ in range(300)
        ]
        if seed % 2:  # days that repeat the day before, as most of a run's do: keyed
            for i in range(1, len(conj)):
                if rng.random() < 0.8:
                    conj[i] = conj[i - 1]
                    for col in cols:
                        col[i] = col[i - 1]
        by_day, by_column = (
            [ComparisonStats() for _ in range(3)],
            [ComparisonStats() for _ in range(3)],
        )
        for recs in zip(*cols, strict=True):
            fold_day(plan, recs, units, by_day)
        column_stats(plan, cols, units, by_column)
        assert repr(by_column) == repr(by_day), seed  # repr: -0.0 and 0.0 told apart
        for a, b in zip(by_column, by_day, strict=True):
            assert list(a.low) == list(b.low) and list(a.units) == list(b.units)
        days = list(zip(conj, zip(*cols, strict=True), strict=True))
        assert false_details(conj, cols, render) == [render(c, recs) for c, recs in days]
        # Conjuncts of bools and unknowns, as an observed evaluation gives: by templates.
        plain = [tuple(unknown if v == 0 and v is not False else v for v in c) for c in conj]
        days = list(zip(plain, zip(*cols, strict=True), strict=True))
        expected = [render(c, recs) for c, recs in days]
        assert false_details(plain, cols, render, template) == expected
        assert false_details(plain, cols, render) == expected
    # Finite floats (zeros of both signs among them), new every day: by templates, the
    # floats formatted by `%`.
    rng = random.Random(7)

    def floats() -> list[Any]:
        return [(rng.random() < 0.5, rng.choice([0.0, -0.0, rng.uniform(-1e6, 1e6)]),
                 rng.uniform(-1, 1)) for _ in range(300)]  # fmt: skip

    cols = [floats(), floats(), floats()]
    conj = [(rng.random() < 0.5, rng.choice([False, unknown])) for _ in range(300)]
    days = list(zip(conj, zip(*cols, strict=True), strict=True))
    assert false_details(conj, cols, render, template) == [render(c, r) for c, r in days]
    # Days equal but for the sign of a zero (or the type of a one), same-typed columns.
    same = [(False, 0.0, 1.0), (False, -0.0, 1.0), (False, 0.0, 1.0), (False, 1.0, 1.0)]
    cols = [same, [(False, 1, 2)] * 4, [(False, 3.0, 4.0)] * 4]
    conj = [(False, False)] * 4
    texts = false_details(conj, cols, render)
    assert texts == [render(c, recs) for c, recs in zip(conj, zip(*cols, strict=True), strict=True)]
    assert '["a0",-0,' in texts[1] and '["a0",0,' in texts[2], texts
    assert false_details(conj, cols, render, template) == texts
