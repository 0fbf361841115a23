"""What a report says about a run besides its figures: the summary document
(``summary.json``), the book's and the history's provenance, and rule counts.

Plain data, shared by the run directory's files, the HTML page and the terminal summary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ...lang.evaluate import Book
    from ..result import DryRunResult, RunResult

__all__ = [
    "FORMAT",
    "RuleCount",
    "applied_actions",
    "book_info",
    "history_info",
    "late_settlements",
    "rule_counts",
    "summary_document",
]

FORMAT = "alvh-dryrun/1"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def book_info(book: Book) -> dict[str, Any]:
    """Name, version, description, files with their hashes, and params of a loaded book."""
    from ...lang.printer import format_quantity

    program = book.program
    header = program.header
    params = {}
    for name, number in book.params.items():
        params[name] = {
            "value": format_quantity(number),
            "overridden": number.span.file == "<param>",
        }
    return {
        "name": book.name,
        "version": header.version if header is not None else None,
        "description": program.description,
        "file": program.root,
        "files": {path: _sha256(text) for path, text in sorted(program.sources.items())},
        "params": params,
        "rules": book.rule_ids,
    }


def history_info(result: DryRunResult) -> dict[str, Any]:
    """Where the history came from, as recorded by the loader (and the span replayed)."""
    prov = result.history_provenance
    daily = result.run.daily_rows
    return {
        "sha256": result.history_sha256 or None,
        "synthetic": bool(getattr(prov, "synthetic", False)),
        "generator": getattr(prov, "generator", None),
        "sources": [
            {"path": s.path, "sha256": s.sha256 or None, "role": s.role}
            for s in getattr(prov, "sources", ())
        ],
        "notes": list(getattr(prov, "notes", ())),
        "start": daily[0]["date"] if daily else None,
        "end": daily[-1]["date"] if daily else None,
        "days": len(daily),
    }


def summary_document(result: DryRunResult, baseline_book: Book | None = None) -> dict[str, Any]:
    """What ``summary.json`` holds: ``result.summary`` (``book``, ``baseline``,
    ``comparison``) plus ``run``: the book and its hashes, the baseline, the history's
    provenance, the config, the model notes, and the rule counts."""
    from ... import __version__

    base = result.baseline
    baseline: dict[str, Any] | None = None
    if base is not None:
        baseline = {"label": base.label, "name": base.book_name}
        if baseline_book is not None:
            baseline["book"] = book_info(baseline_book)
    doc = dict(result.summary)
    doc["run"] = {
        "format": FORMAT,
        "alvh_version": __version__,
        "book": {**book_info(result.book), "sha256": result.book_sha256},
        "baseline": baseline,
        "history": history_info(result),
        "config": result.config.model_dump(mode="json"),
        "notes": list(result.notes),
        "rules": rule_counts(result),
        "captured_states": sorted(d.isoformat() for d in result.run.states),
    }
    return doc


@dataclass(frozen=True)
class RuleCount:
    """How often one rule fired in one run: days it fired, days it changed the book
    (at least one action applied), and days it was a near miss."""

    fired: int = 0
    applied: int = 0
    near_misses: int = 0


def _counts(run: RunResult | None) -> dict[str, RuleCount]:
    if run is None:
        return {}
    fired: dict[str, int] = {}
    applied: dict[str, int] = {}
    near: dict[str, int] = {}
    for d in run.decisions:
        rule = d["rule"]
        if d["status"] == "fired":
            fired[rule] = fired.get(rule, 0) + 1
            if any(a.get("status") == "apply" for a in d.get("actions", ())):
                applied[rule] = applied.get(rule, 0) + 1
        elif d["status"] == "near_miss":
            near[rule] = near.get(rule, 0) + 1
    rules = set(fired) | set(near)
    return {r: RuleCount(fired.get(r, 0), applied.get(r, 0), near.get(r, 0)) for r in rules}


def rule_counts(result: DryRunResult) -> list[dict[str, Any]]:
    """One row per rule of the book, in file order: title, priority, and how often it
    fired / applied actions / nearly fired, in the book run and in the baseline.

    In a no-hedge baseline a hedge rule still *fires* (its condition holds) but its
    actions are disabled, so it never applies and never starts its cooldown.
    """
    book_counts, base_counts = _counts(result.run), _counts(result.baseline)
    by_id = {cr.rule.id: cr.rule for cr in result.book.rules}
    rows = []
    for rule_id in result.book.rule_ids:
        rule = by_id[rule_id]
        b, s = book_counts.get(rule_id, RuleCount()), base_counts.get(rule_id, RuleCount())
        row: dict[str, Any] = {
            "rule": rule_id,
            "title": rule.title,
            "priority": rule.priority,
            "fired": b.fired,
            "applied": b.applied,
            "near_misses": b.near_misses,
        }
        if result.baseline is not None:
            row["baseline_fired"] = s.fired
            row["baseline_applied"] = s.applied
            row["baseline_near_misses"] = s.near_misses
        rows.append(row)
    return rows


def applied_actions(run: RunResult, kinds: Iterable[str]) -> list[dict[str, Any]]:
    """Every action of one of ``kinds`` that a fired rule applied: date, rule, kind, text,
    fill."""
    wanted = set(kinds)
    out = []
    for d in run.decisions:
        if d["status"] != "fired":
            continue
        for a in d.get("actions", ()):
            if a.get("status") == "apply" and a["kind"] in wanted:
                out.append(
                    {
                        "date": d["date"],
                        "rule": d["rule"],
                        "kind": a["kind"],
                        "text": a["text"],
                        "fill": a.get("fill", ""),
                    }
                )
    return out


def late_settlements(run: RunResult) -> list[dict[str, Any]]:
    """Every settlement booked after its position's expiry — the expiry fell in a gap of
    the history, so the loop first saw it on a later row — one entry per settlement:
    ``trade_id``, ``position``, ``instrument``, ``expiry``, ``date`` (booked), ``days``
    (calendar days late) and ``cash_flow`` ($). Read from the trade log, so it does not
    depend on how the engine words its notes."""
    import datetime as dt

    out: dict[str, dict[str, Any]] = {}
    for t in run.trades:
        if t.get("action") != "settle" or not t.get("expiry"):
            continue
        booked, expiry = str(t["date"]), str(t["expiry"])
        if booked <= expiry:  # ISO dates compare as text
            continue
        entry = out.setdefault(
            str(t["trade_id"]),
            {
                "trade_id": str(t["trade_id"]),
                "position": str(t["position"]),
                "instrument": str(t["instrument"]).split(" ")[0],
                "expiry": expiry,
                "date": booked,
                "days": (dt.date.fromisoformat(booked) - dt.date.fromisoformat(expiry)).days,
                "cash_flow": 0.0,
            },
        )
        entry["cash_flow"] += float(t["cash_flow"])
    return list(out.values())
