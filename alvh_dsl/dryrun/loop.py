"""The day loop: one book replayed over every day of the market data.

Each day:

1. settle what expired (at intrinsic value) and mark the book;
2. build the state the rules see (plain data: a
   :class:`~alvh_dsl.lang.plain.PlainState`) and record the book's risk as the rules saw
   it (:class:`~alvh_dsl.dryrun.book_state.Marks`: summed once per change of the book);
3. evaluate the rulebook (indicators come from one
   :class:`~alvh_dsl.series.SeriesSource` over the whole history, computed
   once, vectorised: the loop only moves its index);
4. apply the fired rules' actions in execution order (fills, trades);
5. record the risk after the actions (the same marks unless something traded), and the
   day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from typing import Any

import numpy as np

from ..lang.evaluate import Book, Decision, ResolvedAction
from ..lang.state import State
from ..perf import paused_gc
from ..series import SeriesSource
from .actions import apply, is_hedge
from .book_state import Marks, RulesState, with_history
from .config import DryRunConfig
from .coverage import rule_coverage
from .daily import DailyColumns, cents
from .market_data import MarketData
from .result import RunResult
from .simulate import CondorPos, HedgePos, Simulator
from .statuses import StatusRecorder
from .summary import summarise

__all__ = ["cents", "run_book"]


def run_book(
    book: Book,
    market: MarketData,
    source: SeriesSource,
    config: DryRunConfig,
    *,
    label: str = "book",
    no_hedge: bool = False,
    progress: Callable[[int], None] | None = None,
    capture: Collection[dt.date] = (),
    audit: bool = True,
) -> RunResult:
    """Replay ``book`` over every day of ``market``.

    ``capture``: dates whose state (as the rules saw it) is kept in
    ``RunResult.states``, with the recent history included, so that
    ``alvh eval --state`` can replay that day's decisions.
    ``audit=False`` (a sweep's variant, which writes only figures): no audit trail — the
    rules are evaluated untraced, and no decisions, rule statuses or coverage are kept
    (``decisions``, ``rule_status`` and ``coverage`` are empty); the days, trades and
    summary are the same as an audited run's (``summary["rules_fired"]`` counts the
    days each rule fired, which is what the coverage's ``fired`` counts).
    """
    # Long: the day's steps in their order, read top to bottom (docs/performance.md
    # "The day"); the row and the records are helpers already.
    sim = Simulator(market, config.costs, config.starting_equity)
    last_fired: dict[str, dt.date] = {}
    days = DailyColumns(market, config.starting_equity)
    decisions: list[dict[str, Any]] = []
    counts = {"rolls": 0, "migrations": 0, "alerts": 0, "opens": 0, "closes": 0, "hedge_trades": 0}
    fired_by_rule: dict[str, int] = dict.fromkeys(book.rule_ids, 0)
    cash_by_side = {"condor": 0.0, "hedge": 0.0}  # running Σ cash flows of SPX / VIX trades
    states: dict[dt.date, State] = {}
    # Reads the traces below; evaluates nothing. Not kept without an audit trail.
    statuses = StatusRecorder(book) if audit else None
    marks = Marks(sim)
    rules_state = RulesState(sim).on
    expiring = _FirstExpiry(market)
    # Tens of thousands of small, acyclic trace records live until the end of the run.
    with paused_gc(promote=True):
        wanted = set(capture)
        for day in range(len(market)):
            trades_today = len(sim.trades)  # settlements count as the day's trades
            if day >= expiring.first_day(sim):  # before it, nothing held expires
                sim.settle(day)
            before = marks.on(day)
            state = rules_state(day, before, last_fired)
            source.index = day
            # Audited: observed, not traced — each comparison's values for the statuses,
            # a decision's trees only when it is written (book.retrace: the same trees).
            # audit=False (a sweep's variant): untraced, and nothing below records.
            evaluation = book.evaluate(state, trace=False, observe=audit, source=source)
            date = state.date
            if date in wanted:
                states[date] = with_history(state.model(), source, day)
            if statuses is not None:
                # The day's values kept as they are, read when the run ends (a false
                # rule costs nothing here); last_fired as the rules saw it.
                statuses.day(date, evaluation, state.last_fired)
            conj = evaluation.conjuncts or ()
            obs = evaluation.env.obs if evaluation.env is not None else []
            for k, d in enumerate(evaluation.decisions):
                if d.fired:
                    if statuses is not None:
                        d = book.retrace(evaluation, d)
                    rec = _fired_record(sim, day, d, no_hedge, counts, last_fired, date)
                    fired_by_rule[d.rule] = fired_by_rule.get(d.rule, 0) + 1
                    if statuses is not None:
                        decisions.append(rec)
                        statuses.fired(k, d, rec["actions"])
                    continue
                if statuses is None or d.near_miss is None:
                    continue
                near = statuses.near_miss(d, conj[k], obs)
                if near is not None:
                    d = book.retrace(evaluation, d)
                    decisions.append(_near_miss_record(date, d, near))
            after = marks.on(day)
            for t in sim.trades[trades_today:]:
                side = "condor" if t["instrument"].startswith("SPX") else "hedge"
                cash_by_side[side] += t["cash_flow"]
            trades = len(sim.trades) - trades_today
            days.add(before, after, trades, cash_by_side["condor"], cash_by_side["hedge"])
            if progress is not None:
                progress(day)
        rows = days.rows()  # some 170,000 values: the collector paused still
    summary = summarise(rows, sim, counts, fired_by_rule, config)
    if statuses is None:
        return RunResult(
            label, book.name, rows, decisions, sim.trades, summary, states,
            sim.late_settlements,
        )  # fmt: skip
    return RunResult(
        label, book.name, rows, decisions, sim.trades, summary, states, sim.late_settlements,
        rule_status=statuses.table(), coverage=rule_coverage(book, statuses),
    )  # fmt: skip


class _FirstExpiry:
    """The first day on which a position the book holds expires, found again when the book
    changes: ``Simulator.settle`` settles nothing on the days before it."""

    def __init__(self, market: MarketData) -> None:
        self.dates = market.dates
        self.key: tuple[int, int, int] | None = None
        self.day = 0

    def first_day(self, sim: Simulator) -> int:
        key = (sim.version, len(sim.condors), len(sim.hedges))
        if key != self.key:
            self.key = key
            held: list[CondorPos | HedgePos] = [*sim.condors, *sim.hedges]
            expiries = [p.expiry for p in held]
            self.day = (
                int(np.searchsorted(self.dates, min(expiries), side="left"))
                if expiries
                else len(self.dates)
            )
        return self.day


def _fired_record(
    sim: Simulator,
    day: int,
    d: Decision,
    no_hedge: bool,
    counts: dict[str, int],
    last_fired: dict[str, dt.date],
    date: dt.date,
) -> dict[str, Any]:
    """A fired rule's ``decisions.jsonl`` record, applying its actions on the way."""
    actions = []
    applied = False
    for a in d.actions:
        rec = a.to_dict()
        if a.status == "apply":
            fill = apply(sim, day, d.rule, a, no_hedge)
            rec["fill"] = fill.summary
            rec["trades"] = sorted({t["trade_id"] for t in fill.trades}, key=_trade_number)
            if fill.done:
                applied = True
                _count(a, counts)
            else:
                rec["status"] = "disabled" if fill.disabled else "unfilled"
        actions.append(rec)
    if applied:
        last_fired[d.rule] = date
    out: dict[str, Any] = {
        "date": date.isoformat(),
        "rule": d.rule,
        "title": d.title,
        "priority": d.priority,
        "status": "fired",
        "actions": actions,
    }
    if d.trace is not None:
        out["trace"] = d.trace.to_dict()
    if d.unless_trace is not None:
        out["unless_trace"] = d.unless_trace.to_dict()
    return out


def _trade_number(trade_id: str) -> int:
    return int(trade_id.lstrip("T"))


def _near_miss_record(date: dt.date, d: Decision, near: dict[str, Any]) -> dict[str, Any]:
    """A near miss's ``decisions.jsonl`` record (which ones: ``StatusRecorder.near_miss``)."""
    out: dict[str, Any] = {
        "date": date.isoformat(),
        "rule": d.rule,
        "title": d.title,
        "priority": d.priority,
        "status": "near_miss",
        "near_miss": d.near_miss,
        "margin": near["margin"],
        "reason": f"only `{d.near_miss}` failed: `{near['comparison']}` missed by "
        f"{near['margin']:.1%}",
    }
    if d.trace is not None:
        out["trace"] = d.trace.to_dict()
    return out


def _count(a: ResolvedAction, counts: dict[str, int]) -> None:
    kind = a.kind
    if kind == "roll_condor":
        counts["rolls"] += 1
    elif kind == "shift_hedge":
        counts["migrations"] += 1
    elif kind == "alert":
        counts["alerts"] += 1
    elif kind == "open_condor":
        counts["opens"] += 1
    elif kind == "close":
        counts["closes"] += 1
    if is_hedge(a):
        counts["hedge_trades"] += 1
