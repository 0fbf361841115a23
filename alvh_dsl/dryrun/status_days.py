"""One rule's false days and statistics, computed once at the end of a run from columns.

An observed evaluation (:mod:`alvh_dsl.lang.observe`) leaves each comparison's values in
its slot of ``Env.obs``; the statuses keep each day's ``obs`` list and conjuncts' values
as they are (one append per day for the whole book) and
:func:`~alvh_dsl.dryrun.status_finish.finish_days` reads them, once per run, into columns
(:func:`columns`: each day's list read once), which this module reads per rule:

- the rule's per-comparison statistics (days held / false / unknown, the range of each
  compared value) are counts and ``min``/``max`` over a column, where the day loop used
  to fold every day into them one comparison at a time; the result is the fold's, to the
  bit: the first of equal extremes is kept (``min``/``max`` keep the first, as the fold's
  strict ``<``/``>`` did, which tells ``-0.0`` from ``0.0``), ints are counted as floats,
  NaN, infinities and bools are left out, and each operand's range is inserted when the
  fold would have first seen it (the order ``coverage`` lists them in);
- each false day's ``detail`` is rendered once per distinct day. Most days repeat an
  earlier day of the same rule exactly (``condor.DTE <= 7 days`` while the condor is
  weeks away, ``condor.count == 0`` while one is open), so a day is keyed on its
  conjuncts' and comparisons' values; where a column holds values of two types that
  compare equal (``1``, ``1.0`` and ``True``, written differently) the key holds the
  types too, and where zeros of both signs share a place (``-0.0`` is written ``-0``)
  the days comparing one are rendered afresh.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import is_, itemgetter
from typing import TYPE_CHECKING, Any

from ..lang.state import Unknown
from .status_detail import FALSE, NULL, TRUE, UNSEEN, Template, value_text

if TYPE_CHECKING:  # pragma: no cover
    from .status_detail import Rec
    from .statuses import ComparisonStats, RulePlan

__all__ = [
    "Renderer",
    "Templater",
    "column_stats",
    "columns",
    "false_details",
    "fold_day",
    "picker",
    "transposed",
]

Renderer = Callable[[Sequence[Any], Sequence["Rec | None"]], str]
"""``(conjuncts' values, the comparisons' Recs) -> the false detail's JSON``."""

Templater = Callable[[Sequence[bool], Sequence[int]], Template]
"""``(which conjuncts failed, each comparison's held class) -> its template``."""

_NONE = type(None)


def columns(rows: Sequence[Sequence[Any]], at: Sequence[int]) -> list[Sequence[Any]]:
    """The columns ``at`` (positions, repeats allowed) of ``rows``, each as a sequence
    over the rows: one pass over the rows, each read once."""
    if not at:
        return []
    if len(at) == 1:
        p = at[0]
        return [[row[p] for row in rows]]
    return list(zip(*map(itemgetter(*at), rows), strict=True))


def picker(at: Sequence[int]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """A function giving the items ``at`` (positions, in order) of a sequence."""
    if len(at) > 1:
        return itemgetter(*at)
    return lambda seq: [seq[p] for p in at]


def column_stats(
    plan: RulePlan,
    recs: Sequence[Sequence[Rec | None]],
    units: Sequence[tuple[str, ...]],
    stats: Sequence[ComparisonStats],
) -> None:
    """Add a rule's days to its comparisons' ``stats``: ``recs[c]`` is comparison ``c``'s
    column (its :data:`Rec` on each day the rule was evaluated, in day order)."""
    for cmp, st, col, u in zip(plan.comparisons, stats, recs, units, strict=True):
        ops = [(i + 1, text, u[i]) for i, text in cmp.operands if not cmp.literal[i]]
        if st.low or len({text for _, text, _ in ops}) < len(ops):
            # Ranges already started, or two operands of one text sharing a range: the
            # fold itself, day by day (never the dry-run's case).
            _fold(col, ops, st)
            continue
        by_pos = transposed(col)
        res = by_pos[0] if by_pos is not None else [None if r is None else r[0] for r in col]
        types = list(map(type, res))
        unknown = types.count(_NONE) + types.count(Unknown)
        held = sum(map(is_, res, repeat(True)))
        st.held += held
        st.false += len(col) - held - unknown
        st.unknown += unknown
        if unknown:
            known_types = zip(col, types, strict=True)
            col = [r for r, t in known_types if t is not _NONE and t is not Unknown]
            by_pos = None
        if not col:
            continue
        known: list[Rec] = col  # type: ignore[assignment]  # no None left
        ranges = []
        for pos, (j, text, unit) in enumerate(ops):
            raw = by_pos[j] if by_pos is not None else [r[j] for r in known]
            vals = _finite(raw)
            if not vals:
                continue
            first = 0 if len(vals) == len(raw) else next(i for i, v in enumerate(raw) if _ok(v))
            ranges.append((first, pos, text, unit, min(vals), max(vals)))
        for _, _, text, unit, lo, hi in sorted(ranges, key=_first):
            st.low[text], st.high[text] = lo, hi
            st.units[text] = unit


def _first(r: tuple[Any, ...]) -> tuple[int, int]:
    return r[0], r[1]


def _ok(v: Any) -> bool:
    """What the ranges count: a finite float, or an int (as a float); not a bool."""
    t = type(v)
    return (t is float and v - v == 0) or t is int


def transposed(rows: Sequence[Sequence[Any] | None]) -> list[tuple[Any, ...]] | None:
    """``rows`` as columns by position (``rows[i][p]`` is ``out[p][i]``), read in one
    pass, when every row is a sequence of one length; else None (a day without a Rec)."""
    try:
        lengths = set(map(len, rows))  # type: ignore[arg-type]  # None: TypeError
    except TypeError:
        return None
    if len(lengths) != 1:
        return None
    return list(zip(*rows, strict=True))


def _finite(raw: Sequence[Any]) -> Sequence[float]:
    """The values of ``raw`` the ranges count (:func:`_ok`), ints as floats, in order."""
    kinds = set(map(type, raw))
    if kinds == {float}:
        s = sum(raw)
        if s - s == 0:  # every term finite (a NaN or an infinity would carry into the sum)
            return raw
        return [v for v in raw if v - v == 0]
    if kinds == {int}:
        return list(map(float, raw))
    return [v if type(v) is float else float(v) for v in raw if _ok(v)]


def fold_day(
    plan: RulePlan,
    recs: Sequence[Rec | None],
    units: Sequence[tuple[str, ...]],
    stats: Sequence[ComparisonStats],
) -> None:
    """Add one day to a rule's ``stats``: ``recs[c]`` comparison ``c``'s :data:`Rec` (read
    off a trace, which may hold fewer values than the comparison has operands)."""
    for cmp, st, rec, u in zip(plan.comparisons, stats, recs, units, strict=True):
        ops = [
            (i + 1, text, u[i] if i < len(u) else "bare")
            for i, text in cmp.operands
            if not cmp.literal[i]
        ]
        _fold((rec,), ops, st)


def _fold(col: Sequence[Rec | None], ops: list[tuple[int, str, str]], st: ComparisonStats) -> None:
    """The statistics of a column, one day at a time (see :func:`column_stats`)."""
    for rec in col:
        if rec is None or type(rec[0]) is Unknown:
            st.unknown += 1
            continue
        if rec[0] is True:
            st.held += 1
        else:
            st.false += 1
        low, high = st.low, st.high
        for j, text, unit in ops:
            if j >= len(rec):
                continue
            v: Any = rec[j]
            if not _ok(v):
                continue
            v = float(v)
            lo = low.get(text)
            if lo is None:
                low[text] = high[text] = v
                st.units[text] = unit
            elif v < lo:
                low[text] = v
            elif v > high[text]:
                high[text] = v


def false_details(
    conj: Sequence[tuple[Any, ...]],
    recs: Sequence[Sequence[Rec | None]],
    render: Renderer,
    template: Templater | None = None,
) -> list[str]:
    """The ``detail`` of each of a rule's false days: ``conj`` the conjuncts' values per
    day, ``recs[c]`` comparison ``c``'s column over the same days.

    A rule whose days repeat has each distinct day rendered once (see the module's
    docstring). One whose days are mostly new (a P&L compared), with a ``template``
    (:func:`~alvh_dsl.dryrun.status_detail.false_templater`) and conjuncts and results
    that are bools or unknowns (what an observed evaluation gives), has its days grouped
    by which conjuncts and comparisons failed, and each group's texts are one template
    filled from the values' texts, formatted a column at a time.
    """
    if not conj:
        return []
    trial = list(zip(conj[:_TRIAL], *[col[:_TRIAL] for col in recs], strict=True))
    if len(conj) > _TRIAL and len(set(trial)) * 4 > _TRIAL * 3:
        # Most days new (a P&L compared): keys would cost more than they save.
        results = [[None if r is None else r[0] for r in col] for col in recs]
        if template is not None and _plain(list(zip(*conj, strict=True)), results):
            return _templated(conj, recs, results, template)
        return [render(c, day) for c, day in zip(conj, zip(*recs, strict=True), strict=True)]
    keys = list(zip(conj, *recs, strict=True))
    # Each position of the key as a column: the conjuncts', then each Rec's.
    # (Each read in one pass where every day has a tuple of one length.)
    columns: list[Sequence[Any]] = []
    by_conj = transposed(conj)
    columns += (
        by_conj if by_conj is not None else [[c[i] for c in conj] for i in range(len(conj[0]))]
    )
    for col in recs:
        by_pos = transposed(col)
        if by_pos is not None:
            columns += by_pos
            continue
        width = max((len(r) for r in col if r is not None), default=0)
        columns += [[None if r is None else r[p] for r in col] for p in range(width)]
    typed = False
    fresh: set[int] = set()  # days comparing a float zero
    for column in columns:
        kinds = set(map(type, column))
        kinds.discard(_NONE)
        kinds.discard(Unknown)
        if len(kinds) > 1:
            typed = True
        if float in kinds and 0.0 in column:  # (a literal 0 compared is a float zero)
            zeros = [i for i, x in enumerate(column) if type(x) is float and x == 0]
            if len({math.copysign(1.0, column[i]) for i in zeros}) > 1:
                fresh.update(zeros)
    if typed:
        keys = [(k, tuple([_types(x) for x in k])) for k in keys]
    seen: dict[Any, str] = {}
    out: list[str] = []
    append = out.append
    for i, key in enumerate(keys):
        text = seen.get(key)
        if text is None:
            text = render(conj[i], [col[i] for col in recs])
            if i not in fresh:
                seen[key] = text
        append(text)
    return out


_TRIAL = 100
"""Days tried for repeats before a rule's details are keyed or templated."""


def _plain(conj_cols: Sequence[Sequence[Any]], results: Sequence[Sequence[Any]]) -> bool:
    """Whether conjuncts are bools or unknowns, and results those or no Rec: values that
    a dict tells apart by ``==`` (no ``1`` beside ``True``), as the templates need."""
    for col in conj_cols:
        if not set(map(type, col)) <= _CONJ_TYPES:
            return False
    return all(set(map(type, col)) <= _RESULT_TYPES for col in results)


_CONJ_TYPES = frozenset({bool, Unknown})
_RESULT_TYPES = frozenset({bool, Unknown, _NONE})


def _held(v: Any) -> int:
    return UNSEEN if v is None else FALSE if v is False else TRUE if v is True else NULL


def _templated(
    conj: Sequence[tuple[Any, ...]],
    recs: Sequence[Sequence[Rec | None]],
    results: Sequence[Sequence[Any]],
    template: Templater,
) -> list[str]:
    """:func:`false_details` by templates (see there)."""
    n = len(conj)
    shapes = list(zip(conj, *results, strict=True))
    groups: dict[Any, list[int]] = {}
    if len(set(shapes)) == 1:
        groups[shapes[0]] = list(range(n))
    else:
        for i, shape in enumerate(shapes):
            groups.setdefault(shape, []).append(i)
    out: list[str] = [""] * n
    for shape, days in groups.items():
        failed = [v is False for v in shape[0]]
        pieces, positions = template(failed, [_held(v) for v in shape[1:]])
        full = len(days) == n
        cols: list[list[Any]] = []
        fmt = pieces[0]
        for (k, j), piece in zip(positions, pieces[1:], strict=True):
            col = recs[k]  # a Rec on each of these days: the template reads it
            vals = [r[j] for r in col] if full else [col[i][j] for i in days]  # type: ignore[index]
            if set(map(type, vals)) == {float} and (s := sum(vals)) - s == 0:
                fmt += "%.6g" + piece  # finite floats: formatted by `%` as value_text does
                cols.append(vals)
            else:
                fmt += "%s" + piece
                cols.append(list(map(value_text, vals)))
        filled = list(map(fmt.__mod__, zip(*cols, strict=True))) if cols else [fmt % ()] * len(days)
        if full:
            return filled
        for i, text in zip(days, filled, strict=True):
            out[i] = text
    return out


def _types(x: Any) -> Any:
    """The types of a key's conjuncts' values, or of a Rec's values."""
    return tuple(map(type, x)) if type(x) is tuple else type(x)
