"""What a dry-run returns: each run's records, and the run with its baseline.

:class:`RunResult` is one replay of one book (daily rows, decisions, trades, summary);
:class:`DryRunResult` holds the book's run and its baseline with everything a report
needs (the book, the config, the history's provenance, hashes, model notes), and the
frames, summary, figure and run directory as properties and methods.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..lang.evaluate import Book
from ..lang.state import State
from .config import DryRunConfig
from .rows import columns_of

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["DryRunResult", "RunResult"]


@dataclass
class RunResult:
    """One replay of one book: daily rows, decisions, trades, summary figures."""

    label: str
    book_name: str
    daily_rows: Sequence[dict[str, Any]]
    decisions: list[dict[str, Any]]
    trades: list[dict[str, Any]]
    summary: dict[str, Any]
    states: dict[dt.date, State] = field(default_factory=dict)  # captured on request
    #: Positions settled after an expiry that fell in a gap of the history
    #: (``late_settlements`` of :class:`~alvh_dsl.dryrun.simulate.Simulator`).
    late_settlements: list[dict[str, Any]] = field(default_factory=list)
    #: Every day's status of every rule, as columns (``date``, ``rule``, ``status``,
    #: ``applied``, ``detail``): ``rule_status.parquet`` (:mod:`~alvh_dsl.dryrun.statuses`).
    rule_status: dict[str, list[Any]] = field(default_factory=dict)
    #: Per rule, in file order: how often it fired and, for one that never did, why in
    #: data terms (:func:`~alvh_dsl.dryrun.coverage.rule_coverage`).
    coverage: list[dict[str, Any]] = field(default_factory=list)

    def __repr__(self) -> str:
        # The generated repr printed every decision and trade (megabytes for a 20-year
        # run, `result.run` typed in a notebook): what the run is, in one line.
        s = self.summary
        return (
            f"RunResult({self.label!r}, {self.book_name!r}, {len(self.daily_rows)} days, "
            f"{len(self.decisions)} decisions, {len(self.trades)} trades, "
            f"P&L {s.get('total_pnl', 0.0) or 0.0:,.2f})"
        )

    @property
    def statuses(self) -> pd.DataFrame:
        """One row per day and rule: ``date``, ``rule``, ``status``, ``applied``,
        ``detail`` (what ``rule_status.parquet`` holds)."""
        import pandas as pd

        return pd.DataFrame(self.rule_status)

    @property
    def daily(self) -> pd.DataFrame:
        import pandas as pd

        kept = columns_of(self.daily_rows)
        # The kept columns give the frame the rows would (same values, so same dtypes).
        frame = pd.DataFrame(kept if kept is not None else self.daily_rows)
        if not frame.empty:
            frame["date"] = pd.to_datetime(frame["date"])
            frame = frame.set_index("date")
        return frame


@dataclass
class DryRunResult:
    """The outcome of :func:`alvh_dsl.api.dryrun`: the run, its baseline, and everything to
    report them."""

    run: RunResult
    baseline: RunResult | None
    book: Book
    config: DryRunConfig
    history_provenance: Any
    history_sha256: str
    book_sources: dict[str, str]
    book_sha256: str
    notes: list[str] = field(default_factory=list)
    baseline_book: Book | None = None  # when the baseline is another book
    comparison: dict[str, Any] | None = None  # book vs baseline, paired by date
    stress_windows: list[dict[str, Any]] = field(default_factory=list)
    calibration: dict[str, Any] = field(default_factory=dict)  # the responses the run used

    @property
    def daily(self) -> pd.DataFrame:
        """One row per trading day: marks, greeks (before and after the day's actions),
        effective gamma, equity."""
        return self.run.daily

    @property
    def decisions(self) -> pd.DataFrame:
        """Fired rules and near misses, one row per decision."""
        import pandas as pd

        return pd.DataFrame(self.run.decisions)

    @property
    def trades(self) -> pd.DataFrame:
        """Every fill and settlement, one row per leg."""
        import pandas as pd

        return pd.DataFrame(self.run.trades)

    @property
    def summary(self) -> dict[str, Any]:
        """The figures a trader checks first, with the baseline side by side: ``book``,
        ``baseline``, ``comparison`` (paired by date), ``stress_windows`` and
        ``calibration`` (the fitted market responses with their sample sizes), ``coverage``
        (per rule: days fired and applied; for a rule that never fired, why)."""
        out: dict[str, Any] = {
            "book": self.run.summary,
            "stress_windows": self.stress_windows,
            "calibration": self.calibration,
        }
        if self.baseline is not None:
            out["baseline"] = self.baseline.summary
            out["comparison"] = self.comparison
        out["coverage"] = {"book": self.run.coverage}
        if self.baseline is not None:
            out["coverage"]["baseline"] = self.baseline.coverage
        return out

    def __repr__(self) -> str:
        # The generated repr prints every daily row and decision (636,909 characters for
        # six months): a notebook wants the few figures that say what the run found.
        s = self.run.summary
        text = (
            f"DryRunResult({self.book.name!r}, {s['start']} .. {s['end']}, {s['days']} days: "
            f"P&L {s['total_pnl']:,.2f}, max drawdown {s['max_drawdown']:,.2f}, "
            f"{s['rolls']} rolls, hedge {s['hedge_premium_per_year']:,.2f}/yr"
        )
        if self.baseline is not None:
            text += f"; {self.baseline.label} P&L {self.baseline.summary['total_pnl']:,.2f}"
        return text + ")"

    def _repr_html_(self) -> str:
        """A small table for notebooks: the headline sentence and the main figures, book
        beside baseline (the full page is ``write(DIR)``'s report.html)."""
        import html

        rows = [
            ("P&L", "total_pnl"), ("CAGR %", "cagr_pct"), ("max drawdown", "max_drawdown"),
            ("worst day", "worst_day"), ("rolls", "rolls"), ("migrations", "migrations"),
            ("hedge premium / yr", "hedge_premium_per_year"),
        ]  # fmt: skip
        base = self.baseline.summary if self.baseline is not None else None
        head = "<tr><th></th><th>book</th>" + (
            f"<th>{html.escape(self.baseline.label)}</th>" if self.baseline is not None else ""
        ) + "</tr>"  # fmt: skip

        def cell(value: Any) -> str:
            text = f"{value:,.2f}" if isinstance(value, float) else str(value)
            return f"<td style='text-align:right'>{html.escape(text)}</td>"

        body = "".join(
            f"<tr><th style='text-align:left'>{label}</th>{cell(self.run.summary.get(key))}"
            + (cell(base.get(key)) if base is not None else "")
            + "</tr>"
            for label, key in rows
        )
        s = self.run.summary
        title = f"{self.book.name}: {s['start']} .. {s['end']}, {s['days']} days"
        finding = ((self.comparison or {}).get("scenario") or {}).get("finding")
        note = f"<p>{html.escape(str(finding))}</p>" if finding else ""
        return f"<div><b>{html.escape(title)}</b>{note}<table>{head}{body}</table></div>"

    def plot(self) -> Figure:
        """A matplotlib figure: equity, drawdown, greeks and effective gamma over time."""
        from .report.chart import figure

        return figure(self)

    def write(self, directory: str | os.PathLike[str]) -> Path:
        """Write the run directory (decisions.jsonl, daily.parquet, trades.csv,
        summary.json, report.html), each file atomically."""
        from .report.files import write_run

        return write_run(self, Path(directory), baseline_book=self.baseline_book)
