"""Why a rule did or did not fire on a day of a dry-run, read from the run directory.

:func:`why` reads ``rule_status.parquet`` (and, for a rule that fired, its line of
``decisions.jsonl``) of a run directory written by :func:`~alvh_dsl.dryrun.report.files.write_run`
and returns one :class:`RuleWhy` per rule of that day, each with its status, the data
behind it and a sentence; :func:`render_why` prints them (``alvh why``). Nothing is
re-run: the statuses were read off the traces of the run itself
(:mod:`alvh_dsl.dryrun.statuses`).

Light on imports: reading the Parquet file needs pyarrow, nothing else heavy.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import RunDirectoryError
from ..lang.diagnostics import data_span, error
from ..lang.explain import format_value

if TYPE_CHECKING:  # pragma: no cover
    from ..lang.evaluate import Book, Evaluation

__all__ = [
    "RuleWhy",
    "WhyAnswer",
    "WhyError",
    "false_condition",
    "render_why",
    "sentence",
    "why",
    "why_json",
    "with_failing_values",
]

_MANIFEST = ".alvh-run.json"  # report.files.MANIFEST, without importing the writer
_STATUS_FILE = "rule_status.parquet"


class WhyError(ValueError):
    """A question the run cannot answer: a date outside it or not one of its trading
    days, a rule it does not have (``alvh why`` exits 2)."""


@dataclass(frozen=True)
class RuleWhy:
    """One rule on one day: ``status`` (see ``rule_status.parquet`` in docs/dryrun.md),
    whether an action ``applied``, the ``detail`` behind it, and ``text``, in words."""

    rule: str
    title: str | None
    priority: int
    status: str
    applied: bool
    detail: dict[str, Any] | None
    text: str
    actions: list[dict[str, Any]] = field(default_factory=list)  # a fired rule's, as done


@dataclass(frozen=True)
class WhyAnswer:
    """Every rule asked about on ``date`` of the run in ``directory``, in execution order."""

    directory: str
    baseline: bool
    date: dt.date
    rules: list[RuleWhy]


def _not_a_run(path: Path, message: str) -> RunDirectoryError:
    return RunDirectoryError([error("E603", message, data_span(str(path)))], subject=str(path))


def _parse_date(date: str | dt.date) -> dt.date:
    if isinstance(date, dt.date):
        return date
    try:
        return dt.date.fromisoformat(date)
    except ValueError:
        raise WhyError(f"`{date}` is not a date (YYYY-MM-DD)") from None


def _read_table(path: Path) -> dict[str, list[Any]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return {name: table.column(name).to_pylist() for name in table.column_names}


def _rule_info(root: Path) -> dict[str, dict[str, Any]]:
    """Title and priority of each rule, from ``summary.json`` (``run.rules``)."""
    try:
        doc = json.loads((root / "summary.json").read_text(encoding="utf-8"))
        return {r["rule"]: r for r in doc["run"]["rules"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _fired_actions(decisions: Path, date: str) -> dict[str, list[dict[str, Any]]]:
    """The fired rules' action records of ``date``, from ``decisions.jsonl``."""
    out: dict[str, list[dict[str, Any]]] = {}
    needle = f'"date":"{date}"'
    try:
        with open(decisions, encoding="utf-8") as f:
            for line in f:
                if needle not in line:
                    continue
                rec = json.loads(line)
                if rec.get("status") == "fired":
                    out[rec["rule"]] = list(rec.get("actions", ()))
    except OSError:
        pass
    return out


def why(
    directory: str | os.PathLike[str],
    date: str | dt.date,
    rule: str | None = None,
    *,
    baseline: bool = False,
) -> WhyAnswer:
    """Every rule's status on ``date`` of the run in ``directory`` (only ``rule``'s
    when given), in words and as data; ``baseline`` answers for the baseline run.

    Raises :class:`~alvh_dsl.errors.RunDirectoryError` (E603) when ``directory`` is not
    a run directory with rule statuses, :class:`WhyError` for a date the run does not
    have (naming its first and last days, or the nearest trading days) or an unknown
    rule.
    """
    root = Path(directory)
    if not (root / _MANIFEST).is_file():
        raise _not_a_run(root, f"not a dry-run directory (no {_MANIFEST})")
    run_dir = root / "baseline" if baseline else root
    path = run_dir / _STATUS_FILE
    if not path.is_file():
        what = (
            "has no baseline run" if baseline and not run_dir.is_dir() else f"has no {_STATUS_FILE}"
        )
        raise _not_a_run(root, f"{what}; re-run `alvh dryrun` with this version to record it")
    day = _parse_date(date)
    cols = _read_table(path)
    dates: list[dt.date] = cols["date"]
    if not dates:
        raise WhyError("the run has no days")
    if day not in set(dates):
        first, last = dates[0], dates[-1]
        if day < first or day > last:
            raise WhyError(f"{day} is outside the run, which covers {first} to {last}")
        before = max(d for d in dates if d < day)
        after = min(d for d in dates if d > day)
        raise WhyError(
            f"{day} is not a trading day of the run ({first} to {last}); "
            f"the nearest are {before} and {after}"
        )
    rows = [i for i, d in enumerate(dates) if d == day]
    names = [cols["rule"][i] for i in rows]
    if rule is not None and rule not in names:
        raise WhyError(f"the run has no rule `{rule}`; its rules: {', '.join(names)}")
    info = _rule_info(root)
    fired = (
        _fired_actions(run_dir / "decisions.jsonl", day.isoformat())
        if any(cols["status"][i] in ("fired", "superseded") for i in rows)
        else {}
    )
    out = []
    for i in rows:
        name = cols["rule"][i]
        if rule is not None and name != rule:
            continue
        raw = cols["detail"][i]
        detail = json.loads(raw) if raw else None
        meta = info.get(name, {})
        priority = int(meta.get("priority") or 0)
        status, applied = cols["status"][i], bool(cols["applied"][i])
        actions = fired.get(name, [])
        out.append(
            RuleWhy(
                name, meta.get("title"), priority, status, applied, detail,
                sentence(name, priority, status, applied, detail, actions), actions,
            )
        )  # fmt: skip
    return WhyAnswer(str(root), baseline, day, out)


# ------------------------------------------------------------------ words


def _value(v: list[Any]) -> str:
    text, value, unit = v[0], v[1], v[2] if len(v) > 2 else "bare"
    shown = "unknown" if value is None else format_value(value, unit)
    return f"{text} was {shown}"


def _comparison(c: dict[str, Any], verb: str) -> str:
    values = [_value(v) for v in c.get("values", ())]
    said = f"`{c['expr']}` {verb}"
    return f"{said}: {', '.join(values)}" if values else said


def _rule_name(rule: str, priority: int) -> str:
    return f"`{rule}`" + (f" (priority {priority})" if priority else "")


def sentence(
    rule: str,
    priority: int,
    status: str,
    applied: bool,
    detail: dict[str, Any] | None,
    actions: list[dict[str, Any]] | None = None,
) -> str:
    """One rule's status in words ("did not fire: `VIX > 30` was false: VIX was 24.1")."""
    # One branch per status, each a sentence: apart they would read worse.
    d = detail or {}
    who = _rule_name(rule, priority)
    if status in ("fired", "superseded"):
        done = [a for a in actions or () if a.get("status") == "apply"]
        skipped = []
        for a in d.get("actions", ()):
            if a.get("status") == "superseded":
                by = _rule_name(a["by"], a.get("priority", 0))
                skipped.append(
                    f"`{a['action']}` was superseded by {by}, which had already acted on its target"
                )
            else:
                why_not = f" ({a['reason']})" if a.get("reason") else ""
                skipped.append(f"`{a['action']}` was {a.get('status')}{why_not}")
        if applied:
            did = "; ".join(
                f"`{a['text']}`" + (f" ({a['fill']})" if a.get("fill") else "") for a in done
            )
            text = f"{who} fired and changed the book" + (f": {did}" if did else "")
        elif status == "superseded":
            text = f"{who} fired but was superseded"
        else:
            text = f"{who} fired but changed nothing"
        return text + ("; " + "; ".join(skipped) if skipped else "")
    if status == "false":
        parts = []
        for f in d.get("failed", ()):
            cmps = f.get("comparisons", ())
            if len(cmps) == 1 and cmps[0]["expr"] == f["conjunct"]:
                parts.append(_comparison(cmps[0], "was false"))
            else:
                inner = "; ".join(
                    _comparison(c, "was false" if c.get("held") is False else "held") for c in cmps
                )
                parts.append(f"`{f['conjunct']}` was false" + (f" ({inner})" if inner else ""))
        return f"{who} did not fire: " + ("; ".join(parts) or "its condition was false")
    if status == "unknown":
        return (
            f"{who} did not fire: its condition was unknown ({d.get('reason', 'no reason given')})"
        )
    if status == "cooling":
        if "until" in d:
            return (
                f"{who} did not fire: its condition held, but it was cooling down until "
                f"{d['until']} (it last changed the book on {d['since']})"
            )
        return (
            f"{who} did not fire: its condition held, but it was cooling down ({d.get('reason')})"
        )
    if status == "blocked":
        held = "; ".join(_comparison(c, "held") for c in d.get("comparisons", ()))
        return (
            f"{who} did not fire: its condition held, but it was blocked by "
            f"`unless {d.get('unless')}`" + (f" ({held})" if held else "")
        )
    if status == "disabled":
        return f"{who} was disabled for this run"
    return f"{who}: {status}"


def false_condition(failed: list[dict[str, Any]]) -> str:
    """A false condition's failing comparisons with their values, as ``alvh eval``
    prints them: "`VIX > 30` is false (VIX = 24.1 points)"."""
    parts = []
    for f in failed:
        for c in f.get("comparisons", ()):
            values = ", ".join(
                f"{v[0]} = " + ("unknown" if v[1] is None else format_value(v[1], v[2]))
                for v in c.get("values", ())
            )
            verb = "is false" if c.get("held") is False else "holds"
            parts.append(f"`{c['expr']}` {verb}" + (f" ({values})" if values else ""))
        if not f.get("comparisons") or f["comparisons"][0]["expr"] != f["conjunct"]:
            parts.append(f"so `{f['conjunct']}` is false")
    return "; ".join(parts)


def with_failing_values(book: Book, evaluation: Evaluation) -> Evaluation:
    """``evaluation`` with each false condition's reason naming its failing comparisons
    and their values (:func:`false_condition`), read from the decision's trace."""
    from ..lang.evaluate import Evaluation
    from .statuses import failing_comparisons, plan_rule

    by_id = {cr.id: cr for cr in book.rules}
    out = []
    for d in evaluation.decisions:
        cr = by_id.get(d.rule)
        if d.status == "not_met" and d.trace is not None and cr is not None:
            said = false_condition(failing_comparisons(plan_rule(cr, book), d.trace))
            if said:
                d = d._replace(reason=f"not fired: {said}")
        out.append(d)
    return Evaluation(evaluation.date, out)


def render_why(answer: WhyAnswer) -> str:
    """The answer as text: a heading, then one paragraph per rule."""
    run = "baseline run" if answer.baseline else "run"
    fired = sum(1 for r in answer.rules if r.status in ("fired", "superseded"))
    asked = len(answer.rules)
    out = [f"{answer.date} in the {run} of {answer.directory}: {fired} of {asked} rule(s) fired"]
    for r in answer.rules:
        out.append("")
        out.append(f"  {r.text}")
    return "\n".join(out) + "\n"


def why_json(answer: WhyAnswer) -> dict[str, Any]:
    """The answer as plain JSON data (``alvh why --format json``)."""
    return {
        "run": answer.directory,
        "baseline": answer.baseline,
        "date": answer.date.isoformat(),
        "rules": [
            {
                "rule": r.rule,
                "title": r.title,
                "priority": r.priority,
                "status": r.status,
                "applied": r.applied,
                "detail": r.detail,
                "actions": r.actions,
                "text": r.text,
            }
            for r in answer.rules
        ],
    }
