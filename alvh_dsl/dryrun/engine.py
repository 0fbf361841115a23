"""The dry-run engine: a loaded book and its baseline replayed over one market history.

:func:`run_dryrun` builds everything that depends only on market data once,
vectorised (:class:`~alvh_dsl.dryrun.market_data.MarketData`: indicators' series, the
futures curve, rates, calendars; each position's marks and greeks over its whole life
when it opens), then replays the book and its :class:`Baseline` on it day by day
(:func:`~alvh_dsl.dryrun.loop.run_book`) and gathers a
:class:`~alvh_dsl.dryrun.result.DryRunResult` with the notes a report must show.
A no-hedge baseline of a book without hedge actions is not replayed: it would be the
book's own run, which it reuses under the baseline's label, and a note says so
(:mod:`alvh_dsl.dryrun.hedging`).
The run is deterministic: the same inputs give byte-identical outputs.

It takes a loaded :class:`~alvh_dsl.lang.evaluate.Book` and a
:class:`~alvh_dsl.market.history.History`; loading them from paths, the built-in
history and the ``start``/``end`` window are :func:`alvh_dsl.api.dryrun`'s job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

from ..lang.evaluate import Book
from ..market.history import SETTLEMENT_COLUMNS, History
from ..series import SeriesSource
from .config import DryRunConfig, model_notes, response_notes
from .hedging import has_hedge_actions
from .loop import run_book
from .market_data import MarketData, series_source
from .plausibility import IMPLAUSIBLE_EQUITY, implausible_notes
from .result import DryRunResult, RunResult
from .summary import compare, windows

__all__ = [
    "IMPLAUSIBLE_EQUITY",
    "NO_HEDGE",
    "OWN_RUN_NOTE",
    "Baseline",
    "build_market",
    "run_dryrun",
]


@dataclass(frozen=True)
class Baseline:
    """What the book is compared with, on the same data and config: another ``book``
    labelled ``baseline: NAME``, or (no book) the book itself with every hedge action
    disabled."""

    book: Book | None = None
    name: str = "no hedge"

    @property
    def label(self) -> str:
        return f"baseline: {self.name}"


NO_HEDGE = Baseline()

#: The note of a run whose no-hedge baseline is the book's own run (no hedge actions).
OWN_RUN_NOTE = (
    "{label}: the book has no hedge action to disable, so its no-hedge baseline is the "
    "book's own run (the same days, trades and figures; not replayed a second time)"
)


def run_dryrun(
    book: Book,
    history: History,
    config: DryRunConfig | None = None,
    *,
    baseline: Baseline | None = NO_HEDGE,
    progress: Callable[[str, int, int], None] | None = None,
    capture: Collection[dt.date] = (),
    market: MarketData | None = None,
    baseline_run: RunResult | None = None,
    audit: bool = True,
) -> DryRunResult:
    """Replay ``book`` over every day of ``history``, and ``baseline`` (unless None).

    ``progress`` is called as ``progress(label, day, days)``; ``capture`` lists dates
    whose state the main run keeps in ``result.run.states``. ``market`` is the
    :class:`MarketData` of this very history and config when the caller already built it
    (a sweep's worker builds it once and reuses it across variants: ``alvh_dsl.sweep``).
    ``baseline_run`` is the baseline's run when the caller already has it: a sweep's
    worker shares one no-hedge baseline between variants that cannot differ in it
    (:func:`~alvh_dsl.dryrun.hedging.baseline_params`); it is used as given.
    ``audit=False`` replays both runs without their audit trail (a sweep's variant, which
    keeps only figures: :func:`~alvh_dsl.dryrun.loop.run_book`): no decisions, rule
    statuses, coverage or stress windows, and the comparison holds only its headline
    ``scenario``; the days, trades, summaries and that headline are the audited run's.
    """
    config = config or DryRunConfig()
    if baseline_run is not None and baseline is None:
        raise ValueError("a baseline_run needs its baseline")
    if market is None:
        market = build_market(history, config)
    source = series_source(market)
    run = _replay(book, market, source, config, "book", False, progress, capture, audit)
    base_run: RunResult | None = None
    notes: list[str] = []
    if baseline is not None:
        other = baseline.book if baseline.book is not None else book
        if baseline_run is not None:
            base_run = baseline_run
        elif baseline.book is None and not has_hedge_actions(book.program):
            base_run = replace(run, label=baseline.label, states={})
            notes.append(OWN_RUN_NOTE.format(label=baseline.label))
        else:
            # Indicator arrays are cached per source; a different book gets its own.
            src = source if other is book else series_source(market)
            base_run = _replay(
                other, market, src, config, baseline.label, baseline.book is None, progress,
                (), audit,
            )  # fmt: skip
    results = [run] if base_run is None else [run, base_run]
    sources = dict(book.program.sources)
    notes = _notes(market, history, results, config) + notes
    return DryRunResult(
        run=run,
        baseline=base_run,
        book=book,
        config=config,
        history_provenance=history.provenance,
        history_sha256=history.provenance.sha256,
        book_sources=sources,
        book_sha256=_sha256_text(sources),
        notes=notes + response_notes(market.responses.fits),
        baseline_book=baseline.book if baseline is not None and baseline.book is not book else None,
        comparison=compare(run, base_run, config, headline_only=not audit)
        if base_run is not None
        else None,
        stress_windows=windows(run, base_run, config) if audit else [],
        calibration=market.responses.fits,
    )


def _replay(
    book: Book,
    market: MarketData,
    source: SeriesSource,
    config: DryRunConfig,
    label: str,
    no_hedge: bool,
    progress: Callable[[str, int, int], None] | None,
    capture: Collection[dt.date],
    audit: bool = True,
) -> RunResult:
    """One :func:`run_book`, its progress reported under ``label``."""
    tick = None
    if progress is not None:
        cb, total = progress, len(market)

        def tick(day: int) -> None:
            cb(label, day, total)

    return run_book(
        book, market, source, config, label=label, no_hedge=no_hedge, progress=tick,
        capture=capture, audit=audit,
    )  # fmt: skip


def build_market(history: History, config: DryRunConfig) -> MarketData:
    """The :class:`MarketData` a run of ``history`` under ``config`` replays."""
    return MarketData.build(
        history,
        config.pricing.market_config(),
        config.term_structure.market_config(),
        config.risk,
        vix_option_vol=config.pricing.vix_option_vol,
    )


def _notes(
    market: MarketData, history: History, results: list[RunResult], config: DryRunConfig
) -> list[str]:
    """What the report must say about the data and the model: modelled inputs, a
    synthetic history, where settlement prices came from, every settlement booked late
    (its expiry fell in a gap of the history), equity below zero, and every model choice."""
    notes = list(market.notes)
    if history.synthetic:
        generator = history.provenance.generator or "built-in generator"
        notes.insert(0, f"history is synthetic ({generator})")
    for column in SETTLEMENT_COLUMNS:
        if history.has(column):
            days = int(history.frame[column].notna().sum())
            notes.append(f"{column}: the exchange's final settlement, given on {days} day(s)")
    for r in results:
        for s in r.late_settlements:
            index = "SPX" if s["kind"] == "condor" else "VIX"
            notes.append(
                f"{r.label}: {s['position']} ({s['kind']}) expiring {s['expiry']}, a day with "
                f"no row in the history, settled at {index} {s['price']:.2f} ({s['source']}, "
                f"{s['date_used']}), booked on {s['booked']}: {s['cash_flow']:,.2f}"
            )
        if r.summary["min_equity"] < 0:
            notes.append(
                f"{r.label}: equity fell below zero ({r.summary['min_equity']:,.2f} on "
                f"{r.summary['min_equity_date']}); the dry-run models no margin calls"
            )
        # A figure no desk could trade (a 10^12-lot quantity, a budget of 1000 % of
        # equity) still runs; the report must not let it pass as a result.
        notes.extend(implausible_notes(r.label, r.daily_rows, r.trades, config.starting_equity))
    notes.extend(model_notes(config))
    return notes


def _sha256_text(sources: dict[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(sources):
        h.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    return h.hexdigest()
