"""The statistics behind the dry-run's headline: near-expiry scenario losses, stress windows.

Pure functions over NumPy arrays: no engine import, no closures among the arguments
(data and names only), so they work from a notebook and inside Dask tasks alike.

- :func:`cvar`: the mean of the worst ``alpha`` fraction of days, exactly defined for
  small and weighted samples;
- :func:`paired_bootstrap`: the reduction ``1 − stat(book) / stat(base)`` of a statistic
  (``"mean"``, ``"worst"``, ``"cvar5"``) with a seeded, paired percentile interval,
  resampling days or whole clusters of days (an expiry cycle's near-expiry days);
- :func:`scenario_statistics`: per SPX scenario move, book against baseline on the
  near-expiry days, and the headline sentence;
- stress windows are :mod:`alvh_dsl.dryrun.stress`.

Money is in $, a loss is negative. Results are JSON-ready: Python floats rounded to 12
significant digits (as the run's other figures), ``None`` where a figure is undefined.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "STATISTICS",
    "Interval",
    "cvar",
    "paired_bootstrap",
    "resample_weights",
    "scenario_statistics",
]

Floats = NDArray[np.float64]

STATISTICS = ("mean", "mean_loss", "worst", "cvar5")
"""The statistics :func:`paired_bootstrap` knows: ``mean_loss`` is the mean of
``min(P&L, 0)`` (the expected loss, a gain counting as none), ``cvar5`` is :func:`cvar`
at 5 %."""

_CVAR5_ALPHA = 0.05
# Resamples are drawn and reduced in blocks of this many, so memory stays at about
# block × days numbers whatever n_resamples is; fixed, so a seed gives one answer.
_BLOCK = 256


@dataclass(frozen=True)
class Interval:
    """A reduction ``1 − stat(book) / stat(base)`` and its bootstrap percentile interval.

    ``value`` is the reduction on the sample itself, ``low`` and ``high`` the interval's
    bounds at ``level``; each is ``None`` when undefined, and ``reason`` says why. ``n``
    is the number of days, ``clusters`` the number of resampling units (``n`` when days
    are resampled one by one), ``resamples`` and ``seed`` the bootstrap's. ``undefined``
    counts the resamples in which the baseline showed no loss (its statistic ≥ 0): they
    count as the lowest reductions, so the bounds are ``None`` when they reach a tail.
    """

    value: float | None
    low: float | None
    high: float | None
    n: int
    clusters: int
    resamples: int
    level: float
    seed: int
    reason: str | None = None
    statistic: str = "mean"
    undefined: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return asdict(self)


def cvar(pnl: ArrayLike, alpha: float = 0.05, weights: ArrayLike | None = None) -> float:
    """Conditional value at risk: the expected P&L over the worst ``alpha`` of the days.

    The lower tail of an empirical distribution, a loss being negative. With days sorted
    worst first, values ``x₍ᵢ₎`` and weights ``w₍ᵢ₎`` (1 each by default) of total ``W``,
    the tail holds a mass ``αW``, filled by the worst days in turn, the last of them in
    part::

        CVaR = Σ tᵢ x₍ᵢ₎ / (αW),   tᵢ = min(w₍ᵢ₎, max(0, αW − Σⱼ₍<ᵢ₎ w₍ⱼ₎))

    So on ``n`` unweighted days it is the mean of the worst ``αn`` days, counting a
    fraction of the next one: the worst day alone when ``αn ≤ 1``; ``(x₍₁₎ + ½ x₍₂₎) / 1.5``
    for ``n = 30`` at 5 %; the mean at ``alpha = 1``. Integer weights act as repeated
    days. This is the expected shortfall of the empirical distribution (Acerbi and
    Tasche), and it moves continuously with the weights, as a bootstrap needs.

    Raises ``ValueError`` for an empty sample, non-finite values, ``alpha`` outside
    ``(0, 1]``, or weights that are negative, of another length or all zero.
    """
    x = _vector(pnl, "pnl")
    if weights is None:
        w = np.ones((1, len(x)))
    else:
        w = _vector(weights, "weights").reshape(1, -1)
        if w.shape[1] != len(x):
            raise ValueError(f"weights has {w.shape[1]} values for {len(x)} days")
        if (w < 0).any() or not w.sum() > 0:
            raise ValueError("weights must be non-negative, and not all zero")
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], not {alpha}")
    return float(_cvar_rows(x, w, float(alpha))[0])


def _vector(values: ArrayLike, name: str) -> Floats:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (shape {x.shape})")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} has {int((~np.isfinite(x)).sum())} non-finite value(s)")
    return x


def _cvar_rows(x: Floats, weights: NDArray[Any], alpha: float) -> Floats:
    """:func:`cvar` of ``x`` under each row of ``weights`` ([rows, days]), vectorised."""
    order = np.argsort(x, kind="stable")
    tail = alpha * weights.sum(axis=1)
    # Only the worst days up to the tail's mass count: work on a prefix of the sorted
    # days that holds it in every row (a few times αn days), widened if one falls short.
    width = min(len(x), 16 + math.ceil(4 * alpha * len(x)))
    while True:
        w = weights[:, order[:width]]
        filled = np.cumsum(w, axis=1)
        if width == len(x) or (filled[:, -1] >= tail).all():
            break
        width = min(len(x), 2 * width)
    taken = np.minimum(np.maximum(tail[:, None] - (filled - w), 0.0), w)
    result: Floats = (taken @ x[order[:width]]) / tail
    return result


def _statistic_rows(x: Floats, weights: NDArray[Any], statistic: str) -> Floats:
    """One statistic of ``x`` under each row of ``weights``."""
    if statistic == "mean":
        result: Floats = (weights @ x) / weights.sum(axis=1)
        return result
    if statistic == "mean_loss":
        result = (weights @ np.minimum(x, 0.0)) / weights.sum(axis=1)
        return result
    if statistic == "worst":
        result = np.where(weights > 0, x, np.inf).min(axis=1)
        return result
    if statistic == "cvar5":
        return _cvar_rows(x, weights, _CVAR5_ALPHA)
    raise ValueError(f"unknown statistic {statistic!r}: one of {', '.join(STATISTICS)}")


def resample_weights(
    clusters: ArrayLike, n_resamples: int = 2000, seed: int = 0
) -> NDArray[np.int64]:
    """The bootstrap's resamples as day weights, ``[n_resamples, days]``.

    ``clusters`` labels each day (pass ``np.arange(days)`` to resample days one by one).
    Each resample draws as many clusters as there are, with replacement, and every day
    of a drawn cluster counts once per draw: a multinomial count per cluster, spread to
    its days. :func:`paired_bootstrap` uses the same weights for the book and the
    baseline, which is what makes it paired.
    """
    codes, k = _cluster_codes(clusters, None)
    blocks = list(_weight_blocks(codes, k, _checked_resamples(n_resamples), seed))
    return np.concatenate(blocks, axis=0)


def _checked_resamples(n_resamples: int, level: float = 0.95) -> int:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), not {level}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, not {n_resamples}")
    return int(n_resamples)


def _cluster_codes(clusters: ArrayLike | None, n: int | None) -> tuple[NDArray[np.intp], int]:
    """Each day's cluster as 0..k−1, and k; no labels: every day its own cluster."""
    if clusters is None:
        assert n is not None
        return np.arange(n), n
    labels = np.asarray(clusters)
    if labels.ndim != 1 or len(labels) == 0 or (n is not None and len(labels) != n):
        raise ValueError(f"clusters must label each of the {n} days (shape {labels.shape})")
    try:
        uniques, codes = np.unique(labels, return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"cluster labels must be comparable with each other: {exc}") from None
    return codes.reshape(-1), len(uniques)


def _weight_blocks(
    codes: NDArray[np.intp], k: int, n_resamples: int, seed: int
) -> Iterator[NDArray[np.int64]]:
    rng = np.random.default_rng(seed)
    for start in range(0, n_resamples, _BLOCK):
        rows = min(_BLOCK, n_resamples - start)
        drawn = rng.integers(0, k, size=(rows, k)) + k * np.arange(rows)[:, None]
        counts = np.bincount(drawn.ravel(), minlength=rows * k).reshape(rows, k)
        yield counts[:, codes]


def _reduction_draws(
    book: Floats,
    base: Floats,
    statistics: Sequence[str],
    codes: NDArray[np.intp],
    k: int,
    n_resamples: int,
    seed: int,
) -> dict[str, Floats]:
    """Per statistic, ``[n_resamples, moves]`` reductions (``book``, ``base``: [days,
    moves]); −inf where the resample's baseline statistic is ≥ 0 (no loss to reduce)."""
    out: dict[str, list[Floats]] = {s: [] for s in statistics}
    for weights in _weight_blocks(codes, k, n_resamples, seed):
        for s in statistics:
            columns = []
            for j in range(book.shape[1]):
                hedged = _statistic_rows(book[:, j], weights, s)
                unhedged = _statistic_rows(base[:, j], weights, s)
                safe = np.where(unhedged < 0, unhedged, -1.0)
                columns.append(np.where(unhedged < 0, 1.0 - hedged / safe, -np.inf))
            out[s].append(np.stack(columns, axis=1))
    return {s: np.concatenate(blocks, axis=0) for s, blocks in out.items()}


def _point(book: Floats, base: Floats, statistic: str) -> tuple[float, float]:
    """The statistic of the book and of the baseline on the sample itself."""
    ones = np.ones((1, len(book)))
    hedged, unhedged = (_statistic_rows(x, ones, statistic)[0] for x in (book, base))
    return float(hedged), float(unhedged)


def _percentile(ordered: Floats, q: float) -> float | None:
    """numpy's default (linear) quantile of sorted values; None if it touches −inf."""
    pos = q * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    if not (math.isfinite(ordered[lo]) and math.isfinite(ordered[hi])):
        return None
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


def _interval(
    hedged: float,
    unhedged: float,
    draws: Floats,
    statistic: str,
    meta: dict[str, Any],
) -> Interval:
    """The Interval of one statistic from its sample values and bootstrap draws."""
    level, undefined = meta["level"], int(np.isneginf(draws).sum())
    facts = {**meta, "statistic": statistic, "undefined": undefined}
    if unhedged >= 0:
        why = f"the baseline's {statistic} P&L is {_money(unhedged)}, not a loss: nothing to reduce"
        return Interval(None, None, None, **facts, reason=why)
    ordered = np.sort(draws)
    low = _percentile(ordered, (1.0 - level) / 2.0)
    high = _percentile(ordered, (1.0 + level) / 2.0)
    if low is None or high is None:
        why = (
            f"in {undefined} of {len(draws)} resamples the baseline showed no loss, "
            "too many for the interval's tail"
        )
        return Interval(_clean(1.0 - hedged / unhedged), None, None, **facts, reason=why)
    return Interval(_clean(1.0 - hedged / unhedged), _clean(low), _clean(high), **facts)


def paired_bootstrap(
    book: ArrayLike,
    base: ArrayLike,
    statistic: str,
    *,
    clusters: ArrayLike | None = None,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """The reduction ``1 − stat(book) / stat(base)`` with a paired bootstrap interval.

    ``book`` and ``base`` are the same days' P&L (a loss negative); ``statistic`` is
    ``"mean"``, ``"worst"`` (the lowest) or ``"cvar5"`` (:func:`cvar` at 5 %, each
    series over its own worst days). Each resample draws the same days for both — or,
    with ``clusters`` (a label per day), the same clusters, each with all its days:
    near-expiry days of one expiry cycle move together, so the cycle is the unit. The
    interval holds the ``(1 ± level) / 2`` percentiles of the resampled reductions
    (numpy's linear quantile); the weights are :func:`resample_weights`, drawn in
    blocks with no Python loop per resample.

    A baseline statistic ≥ 0 on the sample means no loss to reduce: ``value`` and the
    bounds are ``None`` and ``reason`` says so. A resample whose baseline shows no loss
    counts as the lowest reduction (the hedge is never credited with reducing a loss
    that is not there); when such resamples reach the lower percentile the bounds are
    ``None`` too.
    """
    if statistic not in STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r}: one of {', '.join(STATISTICS)}")
    n_resamples = _checked_resamples(n_resamples, level)
    hedged, unhedged = _vector(book, "book"), _vector(base, "base")
    if len(hedged) != len(unhedged):
        raise ValueError(f"book has {len(hedged)} days and base {len(unhedged)}: not paired")
    codes, k = _cluster_codes(clusters, len(hedged))
    draws = _reduction_draws(
        hedged[:, None], unhedged[:, None], [statistic], codes, k, n_resamples, seed
    )[statistic][:, 0]
    meta = _meta(len(hedged), k, n_resamples, level, seed)
    return _interval(*_point(hedged, unhedged, statistic), draws, statistic, meta)


def _meta(n: int, k: int, n_resamples: int, level: float, seed: int) -> dict[str, Any]:
    return {"n": n, "clusters": k, "resamples": n_resamples, "level": level, "seed": seed}


def scenario_statistics(
    dates: ArrayLike,
    moves: ArrayLike,
    book_pnl: ArrayLike,
    base_pnl: ArrayLike,
    near: ArrayLike,
    clusters: ArrayLike | None,
    *,
    headline_move: float = -0.05,
    n_resamples: int = 2000,
    seed: int = 0,
    min_days: int = 30,
    level: float = 0.95,
    near_expiry_dte: int | None = None,
) -> dict[str, Any]:
    """Book against baseline under each SPX scenario move, over the near-expiry days.

    ``book_pnl`` and ``base_pnl`` are ``[days, len(moves)]``: each day's $ P&L of the
    book (baseline) if SPX moved by ``moves[j]`` (a fraction: −0.05) — its value under
    the move minus its value now. ``near`` marks the near-expiry days (the only rows
    read: other days may hold NaN); ``clusters`` labels each day (the front condor's
    expiry) for :func:`paired_bootstrap`, or ``None`` to resample days. Days are paired
    by date: both arrays' rows are the same days.

    Returns JSON-ready data: ``days`` and ``clusters`` (counts over the near-expiry
    days), ``meaningful`` (``days ≥ min_days``), ``min_days``, ``headline_move``,
    ``first`` and ``last`` (near-expiry dates), and per move ``{"move", "book",
    "baseline", "reduction"}``: the worst, mean and cvar5 P&L of each, and the
    reductions — ``mean`` and ``cvar5`` as :meth:`Interval.to_dict`, ``worst`` a value
    only. All moves share one set of resamples. ``finding`` is one sentence on the mean
    under ``headline_move`` (plus a second when ``days < min_days``); ``near_expiry_dte``,
    if given, is named in it.
    """
    n_resamples = _checked_resamples(n_resamples, level)
    move_values = _vector(moves, "moves")
    hits = np.flatnonzero(np.isclose(move_values, headline_move, rtol=0.0, atol=1e-9))
    if len(hits) == 0:
        raise ValueError(
            f"headline_move {headline_move} is not among the moves {move_values.tolist()}"
        )
    book = _matrix(book_pnl, "book_pnl", move_values)
    base = _matrix(base_pnl, "base_pnl", move_values)
    mask = np.asarray(near, dtype=bool)
    day_dates = np.asarray(dates, dtype="datetime64[D]")
    if mask.shape != (book.shape[0],) or day_dates.shape != mask.shape:
        raise ValueError(
            f"dates ({day_dates.shape}) and near ({mask.shape}) must have one entry per "
            f"row of the P&L ({book.shape[0]} days)"
        )
    picked = np.flatnonzero(mask)
    book, base = book[picked], base[picked]
    for name, values in (("book_pnl", book), ("base_pnl", base)):
        if not np.isfinite(values).all():
            raise ValueError(f"{name} has non-finite values on near-expiry days")
    n = len(picked)
    labels = None if clusters is None or n == 0 else np.asarray(clusters)[picked]
    codes, k = _cluster_codes(labels, n)
    draws = (
        _reduction_draws(book, base, ("mean", "mean_loss", "cvar5"), codes, k, n_resamples, seed)
        if n
        else {}
    )
    meta = _meta(n, k, n_resamples, level, seed)
    rows = [_move_row(float(m), book, base, j, draws, meta) for j, m in enumerate(move_values)]
    head = rows[int(hits[0])]
    wording = {"clustered": clusters is not None, "min_days": min_days, "dte": near_expiry_dte}
    return {
        "days": n,
        "clusters": k,
        "meaningful": n >= min_days,
        "min_days": min_days,
        "headline_move": float(move_values[hits[0]]),
        "first": str(day_dates[picked[0]]) if n else None,
        "last": str(day_dates[picked[-1]]) if n else None,
        "moves": rows,
        "finding": _finding(head, n, k, wording),
    }


def _matrix(values: ArrayLike, name: str, moves: Floats) -> Floats:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(moves):
        raise ValueError(f"{name} must be [days, {len(moves)} moves], not {x.shape}")
    return x


def _move_row(
    move: float,
    book: Floats,
    base: Floats,
    j: int,
    draws: dict[str, Floats],
    meta: dict[str, Any],
) -> dict[str, Any]:
    """One move's figures: book, baseline and their reductions (None without days)."""
    if len(book) == 0:
        none = Interval(None, None, None, **meta, reason="no near-expiry days").to_dict()
        reduction = {
            "mean": none,
            "mean_loss": {**none, "statistic": "mean_loss"},
            "cvar5": {**none, "statistic": "cvar5"},
            "worst": None,
        }
        empty = dict.fromkeys(STATISTICS)
        return {"move": move, "book": empty, "baseline": dict(empty), "reduction": reduction}
    points = {s: _point(book[:, j], base[:, j], s) for s in STATISTICS}
    worst_book, worst_base = points["worst"]
    return {
        "move": move,
        "book": {s: _clean(points[s][0]) for s in STATISTICS},
        "baseline": {s: _clean(points[s][1]) for s in STATISTICS},
        "reduction": {
            "mean": _interval(*points["mean"], draws["mean"][:, j], "mean", meta).to_dict(),
            "mean_loss": _interval(
                *points["mean_loss"], draws["mean_loss"][:, j], "mean_loss", meta
            ).to_dict(),
            "cvar5": _interval(*points["cvar5"], draws["cvar5"][:, j], "cvar5", meta).to_dict(),
            "worst": _clean(1.0 - worst_book / worst_base) if worst_base < 0 else None,
        },
    }


def _finding(row: dict[str, Any], n: int, k: int, wording: dict[str, Any]) -> str:
    """The headline sentence: the expected loss under the headline move, hedged vs
    unhedged. The expected loss (the mean of ``min(P&L, 0)``) rather than the mean P&L:
    a blowup is a loss, and a mean that nets gains on some days against losses on others
    can sit near zero, where a ratio means nothing."""
    move = f"a {_signed_pct(row['move'])} SPX move"
    dte = f"front condor DTE ≤ {wording['dte']}" if wording["dte"] is not None else ""
    if n == 0:
        return (
            f"There were no near-expiry days{f' ({dte})' if dte else ''} in this run, so "
            f"the hedge's effect on the P&L under {move} cannot be measured."
        )
    cycles = f"{k:,} expiry cycle{'s' if k != 1 else ''}" if wording["clustered"] else ""
    notes = "; ".join(part for part in (dte, cycles) if part)
    where = f"On {n:,} near-expiry day{'s' if n != 1 else ''}" + (f" ({notes})" if notes else "")
    hedged, unhedged = row["book"]["mean_loss"], row["baseline"]["mean_loss"]
    interval = row["reduction"]["mean_loss"]
    if unhedged >= 0:
        text = (
            f"{where}, the unhedged book lost on no day under {move} (hedged expected "
            f"loss {_money(hedged)}), so there was no loss for the hedge to reduce."
        )
    else:
        text = (
            f"{where}, the hedged book's expected loss under {move} (the mean of its "
            f"losses, a gain counting as none) was {_money(hedged)} against "
            f"{_money(unhedged)} unhedged on the same days: {_change(interval['value'])} "
            f"({_bounds(interval, wording['clustered'])})."
        )
    if n < wording["min_days"]:
        text += (
            f" The figure rests on {n} near-expiry day{'s' if n != 1 else ''} (fewer than "
            f"{wording['min_days']}) and is not meaningful."
        )
    return text


def _change(reduction: float) -> str:
    """A reduction in words: ``45% less``, ``12% more``, or a loss turned into a gain."""
    if reduction > 1.0:
        return f"the loss became a gain, a reduction of {reduction:.0%}"
    if round(reduction * 100) == 0:
        return "about the same, a reduction of 0%"
    return f"{abs(reduction):.0%} {'less' if reduction > 0 else 'more'}"


def _bounds(interval: dict[str, Any], clustered: bool) -> str:
    how = f"paired bootstrap over {'expiry cycles' if clustered else 'days'}"
    low, high = interval["low"], interval["high"]
    if low is None or high is None:
        return f"no {interval['level']:.0%} interval: {interval['reason']}; {how}"
    if low >= 0:  # both bounds are reductions
        span = f"{low:.0%} to {high:.0%} less"
    elif high <= 0:  # both are increases: the smaller increase first
        span = f"{-high:.0%} to {-low:.0%} more"
    else:
        span = f"{-low:.0%} more to {high:.0%} less"
    return f"{interval['level']:.0%} interval {span}, {how}"


def _money(value: float) -> str:
    """Whole dollars, as the summary writes money: ``-$3,210``."""
    return f"{'-' if value < 0 else ''}${abs(value):,.0f}"


def _signed_pct(move: float) -> str:
    return f"{'+' if move > 0 else ''}{move * 100:g}%"


def _clean(value: float | None) -> float | None:
    """A finite float without binary noise (12 significant digits); else None."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.12g}")
