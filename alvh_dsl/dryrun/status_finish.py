"""The end of a run's statuses: the days kept by ``StatusRecorder.day`` turned into rows.

:meth:`StatusRecorder.day <alvh_dsl.dryrun.statuses.StatusRecorder.day>` keeps each day's
conjuncts' values and observed ``Env.obs`` list as they are; :func:`finish_days` reads
them once the run ends. The days are read row-wise, each day's lists once — they lie
scattered over the run's heap, and a pass per column read them back cold — into one
column per rule (its conjuncts' values) and per comparison (its :data:`Rec`), from which
:mod:`.status_days` computes the statistics and the false days' details.

Plain Python (no NumPy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

from .status_days import column_stats, columns, false_details, picker
from .status_detail import false_renderer, false_templater

if TYPE_CHECKING:  # pragma: no cover
    from .statuses import StatusRecorder

__all__ = ["finish_days"]


def finish_days(
    recorder: StatusRecorder,
    dates: Sequence[dt.date],
    conj_days: Sequence[Sequence[tuple[Any, ...] | None]],
    obs_days: Sequence[Sequence[Any]],
    extra: Mapping[int, tuple[str, bool, str | None]],
) -> None:
    """Add the kept days to ``recorder``'s rows, counts and statistics: ``dates``, each
    day's conjuncts' values per rule (None: disabled) and ``Env.obs``, and the rows
    already made (``extra``: status, applied and detail by row number, day × rule)."""
    order = recorder.order
    width = len(order)
    details: list[str | None] = [None] * (len(dates) * width)
    conj_cols = list(zip(*conj_days, strict=True))
    slot_cols = columns(obs_days, [s for r in order for s in recorder._slots[r][0]])
    recorded: list[set[int]] = [set() for _ in order]  # per rule, its days not false
    for row in extra:
        recorded[row % width].add(row // width)
    start = 0
    for k, rule in enumerate(order):
        plan = recorder.plans[rule]
        slots, units = recorder._slots[rule]
        conj: Sequence[Any] = conj_cols[k]
        cols = slot_cols[start : start + len(slots)]
        start += len(slots)
        kept: Sequence[int] = range(len(dates))
        if None in conj:  # disabled on some days (as `conj` a day holds None)
            kept = [i for i, c in enumerate(conj) if c is not None]
            pick = picker(kept)
            conj, cols = pick(conj), [pick(col) for col in cols]
        column_stats(plan, cols, units, recorder.stats[rule])
        done = recorded[k]
        false: Sequence[int] = (
            [j for j, i in enumerate(kept) if i not in done] if done else range(len(kept))
        )
        counts = recorder.counts[rule]
        if false:
            counts["false"] = counts.get("false", 0) + len(false)
        if not (recorder.rows and false and plan.conjuncts):
            continue
        if len(false) < len(kept):
            pick = picker(false)
            conj, cols = pick(conj), [pick(col) for col in cols]
        texts = false_details(conj, cols, false_renderer(plan, units), false_templater(plan, units))
        if len(texts) == len(dates):  # false on every day: each of the rule's rows
            details[k::width] = texts
            continue
        for j, text in zip(false, texts, strict=True):
            details[kept[j] * width + k] = text
    if not recorder.rows:
        return
    n = len(details)
    status, applied = ["false"] * n, [False] * n
    for row, (st, app, detail) in extra.items():
        status[row], applied[row], details[row] = st, app, detail
    recorder.dates += chain.from_iterable(zip(*[dates] * width, strict=True))
    recorder.rules += order * len(dates)
    recorder.status += status
    recorder.applied += applied
    recorder.detail += details
