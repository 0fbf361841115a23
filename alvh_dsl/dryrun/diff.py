"""Two versions of a rulebook replayed over the same history: what the change does.

:func:`run_diff` replays an OLD and a NEW book on one
:class:`~alvh_dsl.dryrun.market_data.MarketData` (the same history, config and market
responses) and pairs their decisions by date: a decision is a fired rule with its
resolved actions (kind, text, arguments, status), and a day differs when a rule fired on
one side only or fired with other actions. For each such rule the other side's
decision is recovered from the state its rules saw that day (why it did not fire:
``not_met``, ``unknown``, ``cooling_down``, ``blocked``, with the trace), so both sides'
traces stand side by side. Fills and trade IDs are not compared: once the books hold
different positions they differ by construction, and the decision is what a reviewer
reads.

The P&L and risk difference are each side's summary figures (``summary.summarise``),
and NEW against OLD paired by date with :func:`~alvh_dsl.dryrun.summary.compare`: the
near-expiry scenario P&L and short effective gamma on NEW's near-expiry days, OLD's on
the same days, with the paired bootstrap. No no-hedge baseline runs.

:class:`DiffResult` renders as JSON (``alvh-diff/1``, docs/diff.md), text and one
self-contained HTML page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from ..lang.evaluate import Book, Evaluation
from ..lang.plain import PlainState, StateLike
from .config import DryRunConfig
from .loop import run_book
from .market_data import MarketData, series_source
from .result import RunResult
from .summary import compare

if TYPE_CHECKING:  # pragma: no cover
    from ..market.history import History

__all__ = [
    "FIGURES",
    "FORMAT",
    "IDLE",
    "DiffResult",
    "DiffSide",
    "Figure",
    "action_key",
    "book_side",
    "run_diff",
    "same_decision",
]

FORMAT = "alvh-diff/1"


@dataclass(frozen=True)
class DiffSide:
    """One side of a diff: how it was named and what was loaded (files with sha256)."""

    display: str  # ``rulebooks/x.alvh@HEAD~1 (1a2b3c4)`` or the path
    path: str
    name: str
    version: str | None
    sha256: str
    files: dict[str, str]
    params: dict[str, str]
    revision: str | None = None
    commit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "display": self.display,
            "path": self.path,
            "revision": self.revision,
            "commit": self.commit,
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "files": dict(sorted(self.files.items())),
            "params": dict(sorted(self.params.items())),
        }


def book_side(
    book: Book,
    path: str,
    display: str,
    *,
    rename: Callable[[str], str] | None = None,
    revision: str | None = None,
    commit: str | None = None,
) -> DiffSide:
    """The :class:`DiffSide` of a loaded book: ``rename`` maps its loaded file names to the
    names shown (``lib/x.alvh@HEAD~1`` for an exported revision). The sha256 covers each
    included file's path relative to the book's folder and every text (the root file
    by its text alone), so the same book at two revisions, in the working tree or
    under another name hashes the same."""
    import hashlib
    import os

    from ..lang.printer import format_quantity

    program = book.program
    folder = os.path.dirname(program.root)
    digest = hashlib.sha256()
    files = {}
    for name in sorted(program.sources):
        text = program.sources[name]
        rel = "" if name == program.root else os.path.relpath(name, folder or ".")
        digest.update(rel.encode() + b"\0" + text.encode() + b"\0")
        files[rename(name) if rename else name] = hashlib.sha256(text.encode()).hexdigest()
    header = program.header
    return DiffSide(
        display=display,
        path=path,
        name=book.name,
        version=header.version if header is not None else None,
        sha256=digest.hexdigest(),
        files=files,
        params={k: format_quantity(v) for k, v in book.params.items()},
        revision=revision,
        commit=commit,
    )


@dataclass(frozen=True)
class Figure:
    """One summary figure compared: its key in the run summary, label, kind (``money``,
    ``int``, ``gamma``) and what it rests on (``all`` days or ``near_expiry`` days)."""

    key: str
    label: str
    kind: str
    rests_on: str = "all"


FIGURES = (
    Figure("total_pnl", "Total P&L", "money"),
    Figure("max_drawdown", "Max drawdown", "money"),
    Figure("worst_day", "Worst day", "money"),
    Figure("condor_pnl", "Condor P&L", "money"),
    Figure("hedge_pnl", "Hedge P&L", "money"),
    Figure("hedge_premium_per_year", "Hedge premium per year", "money"),
    Figure("hedge_pnl_per_year", "Hedge P&L per year", "money"),
    Figure("condors_opened", "Condors opened", "int"),
    Figure("rolls", "Rolls", "int"),
    Figure("closes", "Closes", "int"),
    Figure("migrations", "Hedge migrations", "int"),
    Figure("hedge_trades", "Hedge trades", "int"),
    Figure("near_expiry_days", "Near-expiry days", "int"),
    Figure(
        "near_expiry_mean_short_eff_gamma", "Near-expiry mean short eff. gamma", "gamma",
        "near_expiry",
    ),
    Figure(
        "near_expiry_peak_short_eff_gamma", "Near-expiry peak short eff. gamma", "gamma",
        "near_expiry",
    ),
    Figure("headline_mean_loss", "Near-expiry expected loss, headline move", "money",
           "near_expiry"),
)  # fmt: skip


class _Recorder:
    """Stands in for a :class:`Book` in the day loop and keeps each day's state, so that
    a rule's decision on any day can be recovered afterwards without a second run."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self.name = book.name
        self.rule_ids = book.rule_ids
        self.states: list[tuple[StateLike, dict[str, dt.date]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.book, name)  # everything else the loop may read, as the book has it

    def evaluate(self, state: StateLike, **kwargs: Any) -> Evaluation:
        # The loop hands every day the same last_fired dict and updates it afterwards.
        self.states.append((state, dict(state.last_fired)))
        return self.book.evaluate(state, **kwargs)

    def decisions_on(self, day: int, market: MarketData, source: Any) -> dict[str, dict[str, Any]]:
        state, last_fired = self.states[day]
        source.index = day
        # The loop's state is plain data (lang/plain.py); a State (a test's) is copied.
        day_state = (
            state.with_last_fired(last_fired)
            if isinstance(state, PlainState)
            else state.model_copy(update={"last_fired": last_fired})
        )
        evaluation = self.book.evaluate(day_state, trace=True, source=source)
        return {d.rule: d.to_dict() for d in evaluation.decisions}


@dataclass
class DiffResult:
    """What a change to a book does over one history (:func:`alvh_dsl.api.diff`).

    ``days`` lists each day on which decisions differ, ``counts`` sums them,
    ``figures`` compares the summary figures (OLD, NEW, NEW − OLD, on how many days
    each rests), ``paired`` is NEW against OLD paired by date
    (:func:`~alvh_dsl.dryrun.summary.compare`), and ``old_run`` / ``new_run`` hold the
    full runs (daily rows, decisions, trades)."""

    old: DiffSide
    new: DiffSide
    history: dict[str, Any]
    config: DryRunConfig
    days: list[dict[str, Any]]
    counts: dict[str, Any]
    figures: list[dict[str, Any]]
    paired: dict[str, Any]
    rules: list[dict[str, Any]]
    old_run: RunResult = field(repr=False)
    new_run: RunResult = field(repr=False)

    @property
    def changed(self) -> bool:
        """True when a decision or a figure differs."""
        return bool(self.days) or any(f["old"] != f["new"] for f in self.figures)

    def __repr__(self) -> str:
        c = self.counts
        what = (
            f"{c['days_differing']} of {c['days']} days differ"
            if self.changed
            else f"no difference over {c['days']} days"
        )
        return f"<DiffResult {self.old.display} → {self.new.display}: {what}>"

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (``alvh-diff/1``), plain data."""
        return {
            "format": FORMAT,
            "changed": self.changed,
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "history": self.history,
            "config": self.config.model_dump(mode="json"),
            "counts": self.counts,
            "figures": self.figures,
            "paired": self.paired,
            "rules": self.rules,
            "days": self.days,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The JSON document as text: sorted keys, shortest round-trip floats."""
        from .report.files import dumps

        return dumps(self.to_dict(), indent=indent)

    def to_text(self, *, limit: int | None = 50) -> str:
        """The terminal report: counts, figures, and the first ``limit`` differing days."""
        from .report.diff_text import render_text

        return render_text(self, limit=limit)

    def to_html(self) -> str:
        """One self-contained HTML page (inline CSS, no script, no external URL)."""
        from .report.diff_html import render_html

        return render_html(self)


def run_diff(
    old: Book,
    new: Book,
    history: History,
    config: DryRunConfig | None = None,
    *,
    old_side: DiffSide,
    new_side: DiffSide,
    progress: Callable[[str, int, int], None] | None = None,
) -> DiffResult:
    """Replay ``old`` and ``new`` over ``history`` with one config and compare them."""
    config = config or DryRunConfig()
    market = MarketData.build(
        history,
        config.pricing.market_config(),
        config.term_structure.market_config(),
        config.risk,
        vix_option_vol=config.pricing.vix_option_vol,
    )
    recorders = {"old": _Recorder(old), "new": _Recorder(new)}
    runs: dict[str, RunResult] = {}
    for label, recorder in recorders.items():
        tick = None
        if progress is not None:
            cb, total = progress, len(market)

            def tick(day: int, cb: Any = cb, label: str = label, total: int = total) -> None:
                cb(label.upper(), day, total)

        # The recorder is the book to the loop (it delegates), and keeps each day's state.
        runs[label] = run_book(
            cast(Book, recorder), market, series_source(market), config, label=label,
            progress=tick,
        )  # fmt: skip
    days = _differing_days(runs["old"], runs["new"], recorders, market)
    paired = compare(runs["new"], runs["old"], config)
    return DiffResult(
        old=old_side,
        new=new_side,
        history=_history_info(history, runs["new"]),
        config=config,
        days=days,
        counts=_counts(days, runs["new"]),
        figures=_figures(runs["old"], runs["new"], config),
        paired=_paired(paired, config),
        rules=_rules(runs["old"], runs["new"], old, new),
        old_run=runs["old"],
        new_run=runs["new"],
    )


# ------------------------------------------------------------------ decisions


def _fired(run: RunResult) -> dict[str, dict[str, dict[str, Any]]]:
    """date → rule → the fired record (near misses are not decisions)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for rec in run.decisions:
        if rec["status"] == "fired":
            out.setdefault(rec["date"], {})[rec["rule"]] = rec
    return out


def action_key(action: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two actions the same decision: kind, text, resolved arguments and
    status (not the fill or trade IDs, which follow from the positions held)."""
    from .report.files import dumps

    return (
        action["kind"],
        action["text"],
        dumps(action.get("args", {})),
        action["status"],
        action.get("superseded_by"),
    )


#: action statuses that leave the book as it was
IDLE = frozenset({"unfilled", "disabled", "superseded", "unresolved"})


def same_decision(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The same decision: the same actions (:func:`action_key`), or the same actions but
    for their resolved arguments when none of them did anything on either side (a
    ``costing 5% of condor.credit`` left unfilled every day of a stress spell, on
    condors whose credits differ, is not a difference a reviewer reads)."""
    xs, ys = a.get("actions", ()), b.get("actions", ())
    if [action_key(x) for x in xs] == [action_key(y) for y in ys]:
        return True
    return (
        len(xs) == len(ys)
        and all(x["status"] in IDLE for x in (*xs, *ys))
        and [action_key(x)[:2] + action_key(x)[3:] for x in xs]
        == [action_key(y)[:2] + action_key(y)[3:] for y in ys]
    )


def _side(rec: dict[str, Any] | None) -> dict[str, Any] | None:
    """A decision as the diff shows it: status, reason, actions, traces."""
    if rec is None:
        return None
    keep = ("status", "reason", "near_miss", "priority", "title", "actions", "trace",
            "unless_trace")  # fmt: skip
    return {k: rec[k] for k in keep if k in rec}


def _differing_days(
    old: RunResult,
    new: RunResult,
    recorders: dict[str, _Recorder],
    market: MarketData,
) -> list[dict[str, Any]]:
    fired = {"old": _fired(old), "new": _fired(new)}
    index = {d.isoformat(): k for k, d in enumerate(market.pydates)}
    sources = {label: series_source(market) for label in recorders}
    days = []
    for date in sorted(set(fired["old"]) | set(fired["new"])):
        o, n = fired["old"].get(date, {}), fired["new"].get(date, {})
        changes: list[dict[str, Any]] = []
        for rule in _rule_order(o, n):
            a, b = o.get(rule), n.get(rule)
            if a is not None and b is not None:
                if same_decision(a, b):
                    continue
                change = "changed"
            else:
                change = "only_old" if b is None else "only_new"
            changes.append({"rule": rule, "change": change, "old": a, "new": b})
        if not changes:
            continue
        for label in ("old", "new"):
            missing = [c for c in changes if c[label] is None]
            if missing:  # why the rule did not fire on this side: its own decision that day
                recovered = recorders[label].decisions_on(index[date], market, sources[label])
                for c in missing:
                    c[label] = recovered.get(c["rule"], {"status": "absent"})
        for c in changes:
            c["old"], c["new"] = _side(c["old"]), _side(c["new"])
        days.append({"date": date, "rules": changes})
    return days


def _rule_order(o: dict[str, Any], n: dict[str, Any]) -> list[str]:
    """The rules fired on either side, in NEW's execution order, then OLD's."""
    return [*n, *(r for r in o if r not in n)]


def _counts(days: list[dict[str, Any]], run: RunResult) -> dict[str, Any]:
    changes = [c["change"] for d in days for c in d["rules"]]
    return {
        "days": len(run.daily_rows),
        "days_differing": len(days),
        "first_difference": days[0]["date"] if days else None,
        "last_difference": days[-1]["date"] if days else None,
        "decisions_only_old": changes.count("only_old"),
        "decisions_only_new": changes.count("only_new"),
        "decisions_changed": changes.count("changed"),
    }


# ------------------------------------------------------------------- figures


def _headline(summary: dict[str, Any], move: float) -> float | None:
    for row in summary.get("near_expiry_scenario", ()):
        if row["move"] == move:
            value = row["mean_loss"]
            return None if value is None else float(value)
    return None


def _figures(old: RunResult, new: RunResult, config: DryRunConfig) -> list[dict[str, Any]]:
    out = []
    for f in FIGURES:
        if f.key == "headline_mean_loss":
            a = _headline(old.summary, config.risk.headline_move)
            b = _headline(new.summary, config.risk.headline_move)
        else:
            a, b = old.summary.get(f.key), new.summary.get(f.key)
        if f.rests_on == "near_expiry":
            days = {"old": old.summary["near_expiry_days"], "new": new.summary["near_expiry_days"]}
        else:
            days = {"old": old.summary["days"], "new": new.summary["days"]}
        diff = None if a is None or b is None else round(b - a, 10)
        out.append(
            {"key": f.key, "label": f.label, "kind": f.kind, "old": a, "new": b,
             "difference": diff, "days": days, "rests_on": f.rests_on}
        )  # fmt: skip
    return out


def _paired(paired: dict[str, Any], config: DryRunConfig) -> dict[str, Any]:
    """NEW against OLD on NEW's near-expiry days: the headline move's figures, the short
    gamma, and the full comparison (book = NEW, baseline = OLD)."""
    scen = paired["scenario"]
    head = next((m for m in scen.get("moves", ()) if m["move"] == config.risk.headline_move), None)
    return {
        "days": scen.get("days", 0),
        "clusters": scen.get("clusters", 0),
        "meaningful": scen.get("meaningful", False),
        "headline_move": config.risk.headline_move,
        "headline": None
        if head is None
        else {
            "new": head["book"],
            "old": head["baseline"],
            "reduction": head["reduction"],
        },
        "short_eff_gamma": {
            "days": paired["near_expiry_short_eff_gamma"]["days"],
            "new_mean": paired["near_expiry_short_eff_gamma"]["book_mean"],
            "old_mean": paired["near_expiry_short_eff_gamma"]["baseline_mean"],
            "reduction": paired["near_expiry_short_eff_gamma"]["reduction"],
        },
        "total_pnl_difference": paired["total_pnl_difference"],
        "max_drawdown_ratio": paired["max_drawdown_ratio"],
        "comparison": paired,
    }


def _rules(old: RunResult, new: RunResult, old_book: Book, new_book: Book) -> list[dict[str, Any]]:
    """Days each rule fired on each side (None: the side has no such rule)."""
    a, b = old.summary["rules_fired"], new.summary["rules_fired"]
    names = [*new_book.rule_ids, *(r for r in old_book.rule_ids if r not in b)]
    return [{"rule": r, "old": a.get(r), "new": b.get(r)} for r in names]


def _history_info(history: History, run: RunResult) -> dict[str, Any]:
    prov = history.provenance
    rows = run.daily_rows
    return {
        "sha256": getattr(prov, "sha256", None) or None,
        "synthetic": bool(history.synthetic),
        "sources": [
            {"path": s.path, "sha256": s.sha256 or None, "role": s.role}
            for s in getattr(prov, "sources", ())
        ],
        "start": rows[0]["date"] if rows else None,
        "end": rows[-1]["date"] if rows else None,
        "days": len(rows),
    }
