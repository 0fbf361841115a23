"""The panels of the SVG figure (:mod:`.svg`), one function per panel, drawn with
:mod:`.svg_plot` from the data of :mod:`.chart_panels` (the same series, colours,
titles, legends and "no data" as the matplotlib figure). Each returns its panel's
``<g>`` element.

NumPy is imported inside the functions.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from . import chart_panels as data
from .svg_plot import (
    HEAD,
    LEFT,
    RIGHT,
    ROW,
    ROW_GAP,
    TOP_GAP,
    TOP_ROW,
    WIDTH,
    Plot,
    date_ticks,
    e,
    f1,
    nice_ticks,
    swatch_box,
    swatch_line,
    symlog_ticks,
)
from .text import format_move

if TYPE_CHECKING:  # pragma: no cover
    from ..result import DryRunResult, RunResult

__all__ = ["panels"]

_PLOT_W = WIDTH - LEFT - RIGHT
_PAIR_W = _PLOT_W / 2.4  # two panels with 0.4 of one between them, as chart.py's wspace
_RED = "#d7301f"


def _name(base: RunResult | None) -> str:
    return base.label if base is not None else ""


def _span(*arrays: Any, pad: float = 0.05, zero: bool = False) -> tuple[float, float]:
    """The finite range of ``arrays`` (and 0 if ``zero``), padded by ``pad`` of itself."""
    import numpy as np

    values = [np.asarray(a, dtype=np.float64).ravel() for a in arrays]
    joined = np.concatenate(values + ([np.zeros(1)] if zero else []))
    joined = joined[np.isfinite(joined)]
    if not len(joined):
        return 0.0, 1.0
    lo, hi = float(joined.min()), float(joined.max())
    margin = pad * (hi - lo) or max(1.0, abs(hi)) * pad
    return lo - margin, hi + margin


def _marker(kind: str, xs: Any, ys: Any, color: str) -> str:
    """One ``<path>`` holding a marker per point: ``v`` ``^`` ``x`` ``D`` or ``X``."""
    shapes = {
        "v": "m-4,-3.5 h8 l-4,7 z",
        "^": "m-4,3.5 h8 l-4,-7 z",
        "D": "m0,-4.5 l4,4.5 l-4,4.5 l-4,-4.5 z",
        "x": "m-3.5,-3.5 l7,7 m0,-7 l-7,7",
        "X": "m-6,-6 l12,12 m0,-12 l-12,12",
    }
    d = "".join(f"M{f1(x)},{f1(y)} {shapes[kind]} " for x, y in zip(xs, ys, strict=True))
    if kind in "xX":
        width = "1.4" if kind == "x" else "3"
        return f'<path d="{d.strip()}" fill="none" stroke="{color}" stroke-width="{width}"/>'
    return f'<path d="{d.strip()}" fill="{color}"/>'


def _steps(edges: Any, values: Any) -> tuple[Any, Any]:
    """A step drawn ``post`` (each value from its bin's start to the next) as points."""
    import numpy as np

    return np.repeat(edges, 2)[1:-1], np.repeat(values[:-1], 2)


# ---------------------------------------------------------------- near-expiry scenario


def scenario_scatter(result: DryRunResult, box: Plot) -> str:
    """Book against baseline under the headline move, one dot per near-expiry day."""
    import numpy as np

    book, base = data.scenario_pairs(result)
    if result.baseline is None or not len(book) or not np.isfinite(book).all():
        box.no_data("no baseline to pair with" if result.baseline is None else "no near-expiry day")
        return box.render(box.frame([], ""), None)
    lo, hi = _span(book, base)
    box.x_range = box.y_range = (lo, hi)
    ticks = nice_ticks(lo, hi)
    head = box.frame(ticks, "book (hedged), $", money=True)
    head += box.x_grid([(v, _money(v)) for v in ticks], labels=True)
    head.append(_x_label(box, f"{_name(result.baseline)}, $"))
    box.body.append(
        f'<line x1="{f1(box.x)}" y1="{f1(box.y + box.h)}" x2="{f1(box.x + box.w)}" '
        f'y2="{f1(box.y)}" stroke="#8c8c8c" stroke-width="0.8" stroke-dasharray="4 3"/>'
    )
    box.hline(0.0, "#d9d9d9")
    x0 = f1(float(box.px(0.0)))
    box.body.append(
        f'<line x1="{x0}" x2="{x0}" y1="{f1(box.y)}" y2="{f1(box.y + box.h)}" stroke="#d9d9d9"/>'
    )
    dots = "".join(
        f'<circle cx="{f1(x)}" cy="{f1(y)}" r="2.3"/>'
        for x, y in zip(box.px(base).tolist(), box.py(book).tolist(), strict=True)
    )
    box.body.append(f'<g fill="{data.BOOK}" fill-opacity="0.7">{dots}</g>')
    losses = [float(np.minimum(v, 0.0).mean()) for v in (base, book)]
    box.body.append(_marker("X", [float(box.px(losses[0]))], [float(box.py(losses[1]))], _RED))
    box.legend = [
        (swatch_line("#8c8c8c", 0.8, "4 3"), "no difference"),
        (f'<circle cx="11" cy="6" r="3" fill="{data.BOOK}"/>', f"a day ({len(book)})"),
        (_marker("X", [11.0], [6.0], _RED), "expected losses"),
    ]
    back = (
        f'<rect x="{f1(box.x + 4)}" y="{f1(box.y + 4)}" width="150" height="54" '
        f'fill="#ffffff" fill-opacity="0.85" stroke="#d0d7de"/>'
    )
    # The legend inside the panel, upper left, over the dots (as matplotlib's).
    box.body += [back, *box.legend_at(box.x + 4, box.y + 4)]
    box.legend = []
    return box.render(head, None)


def _money(value: float) -> str:
    from .svg_plot import number

    return number(value, money=True)


def _x_label(box: Plot, label: str) -> str:
    return (
        f'<text x="{f1(box.x + box.w / 2)}" y="{f1(box.y + box.h + 32)}" '
        f'text-anchor="middle" font-size="12">{e(label)}</text>'
    )


def scenario_moves(result: DryRunResult, box: Plot) -> str:
    """Near-expiry CVaR 5 % (bars) and expected loss (dots) under every move."""
    import numpy as np

    scenario = (result.summary.get("comparison") or {}).get("scenario")
    rows, dot = data.move_rows(result)
    if not rows or all(r[1].get(dot) is None for r in rows):
        box.no_data("no near-expiry day")
        return box.render(box.frame([], ""), None)
    sides = [("book", data.BOOK, 1)] + (
        [(_name(result.baseline), data.BASE, 2)] if scenario else []
    )
    series = []
    for label, color, at in sides:
        cvar = np.array([np.nan if r[at]["cvar5"] is None else r[at]["cvar5"] for r in rows])
        loss = np.array([np.nan if r[at][dot] is None else r[at][dot] for r in rows])
        series.append((label, color, cvar, loss))
    box.x_range = (-0.6, len(rows) - 0.4)
    box.y_range = _span(*[s[2] for s in series], *[s[3] for s in series], zero=True)
    ticks = nice_ticks(*box.y_range)
    head = box.frame(ticks, "$ P&L", money=True)
    centres = [(float(k), format_move(r[0])) for k, r in enumerate(rows)]
    head += [t for t in box.x_grid(centres, labels=True) if t.startswith("<text")]
    head.append(_x_label(box, "SPX move"))
    width = 0.8 / len(sides)
    zero = float(box.py(0.0))
    name = "expected loss" if dot == "mean_loss" else "mean"
    for k, (label, color, cvar, loss) in enumerate(series):
        offset = np.arange(len(rows)) + (k - (len(sides) - 1) / 2) * width
        bar_w = width * 0.95 * box.w / (box.x_range[1] - box.x_range[0])
        for x, v in zip(box.px(offset).tolist(), cvar.tolist(), strict=True):
            if math.isfinite(v):
                y = float(box.py(v))
                box.body.append(
                    f'<rect x="{f1(x - bar_w / 2)}" y="{f1(min(y, zero))}" width="{f1(bar_w)}" '
                    f'height="{f1(abs(y - zero))}" fill="{color}" fill-opacity="0.45"/>'
                )
        ok = np.isfinite(loss)
        dots = "".join(
            f'<circle cx="{f1(x)}" cy="{f1(y)}" r="3.2"/>'
            for x, y in zip(box.px(offset[ok]).tolist(), box.py(loss[ok]).tolist(), strict=True)
        )
        box.body.append(f'<g fill="{color}">{dots}</g>')
        box.legend += [
            (swatch_box(color, 0.45), f"{label}: CVaR 5 %"),
            (f'<circle cx="11" cy="6" r="3.2" fill="{color}"/>', f"{label}: {name}"),
        ]
    box.hline(0.0, "#999999")
    return box.render(head, (box.x + box.w + 6, box.y))


# ------------------------------------------------------------------------ over time


def _time_head(box: Plot, ticks: list[float], label: str, bottom: bool, money: bool) -> list[str]:
    head = box.frame(ticks, label, money=money)
    return head + box.x_grid(date_ticks(*map(int, box.x_range)), labels=bottom)


def hedge_notional(run: RunResult, box: Plot, bottom: bool) -> str:
    """The hedge's notional by VIX futures month, stacked."""
    import numpy as np

    months = data.hedge_months(run)
    if not months:
        box.no_data("no hedge held")
        return box.render(_time_head(box, [], "notional ($)", bottom, True), None)
    x = data.dates(run).astype(np.int64)
    total = np.sum([v for _, v in months], axis=0)
    box.y_range = (0.0, float(total.max()) * 1.05 or 1.0)
    below = np.zeros(len(x))
    for k, values in months:
        color = data.MONTH_COLORS[k - 1]
        box.area(x, below, below + values, color, low_by="max")
        below = below + values
        box.legend.append((swatch_box(color), f"VIX month {k}"))
    head = _time_head(box, nice_ticks(*box.y_range), "notional ($)", bottom, True)
    return box.render(head, (box.x + box.w * 1.01, box.y))


def pnl_split(run: RunResult, base: RunResult | None, box: Plot, bottom: bool) -> str:
    """Cumulative P&L of the condors and of the hedge, their total, and the baseline's."""
    import numpy as np

    x = data.dates(run).astype(np.int64)
    if not len(x):
        box.no_data()
        return box.render(_time_head(box, [], "P&L ($)", bottom, True), None)
    start = float(run.summary.get("starting_equity") or 0.0)
    lines = [
        (x, data.column(run, "equity") - start, "#000000", 1.4, "", "book: total"),
        (x, data.column(run, "condor_pnl"), data.BOOK, 1.2, "", "book: condors"),
        (x, data.column(run, "hedge_pnl"), "#756bb1", 1.2, "", "book: hedge"),
    ]
    if base is not None:
        total = data.column(base, "equity") - float(base.summary.get("starting_equity") or start)
        lines.append(
            (data.dates(base).astype(np.int64), total, data.BASE, 1.2, "5 3",
             f"{_name(base)}: total")
        )  # fmt: skip
    box.y_range = _span(*[ln[1] for ln in lines], zero=True)
    box.hline(0.0, "#999999")
    for xs, ys, color, lw, dash, label in lines:
        box.line(xs, ys, color, lw, dash)
        box.legend.append((swatch_line(color, lw, dash), label))
    head = _time_head(box, nice_ticks(*box.y_range), "P&L ($)", bottom, True)
    return box.render(head, (box.x + box.w * 1.01, box.y))


def market(run: RunResult, box: Plot, bottom: bool) -> str:
    """SPX (left axis) and VIX (right axis), markers on the days trades were applied."""
    import numpy as np

    x = data.dates(run).astype(np.int64)
    if not len(x):
        box.no_data()
        return box.render(_time_head(box, [], "SPX", bottom, True), None)
    spx, vix = data.column(run, "spx"), data.column(run, "vix")
    right = Plot(box.x, box.y, box.w, box.h, box.title, box.x_range, _span(vix))
    box.y_range = _span(spx)
    box.line(x, spx, "#333333", 1.1)
    right.line(x, vix, "#d95f0e", 0.9)
    box.legend = [
        (swatch_line("#333333", 1.1), "SPX (left)"),
        (swatch_line("#d95f0e", 0.9), "VIX (right)"),
    ]
    for kinds, marker, color, label, on_vix in data.MARKERS:
        at = data.marker_days(run, kinds)
        if not at:
            continue
        plot, y = (right, vix) if on_vix else (box, spx)
        plot.body.append(_marker(marker, plot.px(x[at]).tolist(), plot.py(y[at]).tolist(), color))
        sample = _marker(marker, [11.0], [6.0], color)
        box.legend.append((sample, f"{label} ({len(at)} day{'s' if len(at) != 1 else ''})"))
    box.body += right.body
    head = _time_head(box, nice_ticks(*box.y_range), "SPX", bottom, True)
    edge = box.x + box.w
    for v in nice_ticks(*right.y_range, target=7):
        y = float(right.py(v))
        head.append(
            f'<text x="{f1(edge + 5)}" y="{f1(y + 4)}" font-size="11" fill="#d95f0e">'
            f"{e(_money(v))}</text>"
        )
    head.append(
        f'<text transform="translate({f1(edge + 40)},{f1(box.y + box.h / 2)}) rotate(90)" '
        f'text-anchor="middle" font-size="12">VIX</text>'
    )
    return box.render(head, (edge + box.w * 0.06, box.y))


def equity(run: RunResult, base: RunResult | None, box: Plot, bottom: bool) -> str:
    """Equity of the book and the baseline, and the starting equity."""
    import numpy as np

    eq = data.column(run, "equity")
    lines = [(data.dates(run).astype(np.int64), eq, data.BOOK, 1.5, "book")]
    if base is not None:
        lines.append((data.dates(base).astype(np.int64), data.column(base, "equity"), data.BASE,
                      1.2, _name(base)))  # fmt: skip
    start = run.summary.get("starting_equity")
    extra = [] if start is None else [float(start)]
    box.y_range = _span(*[ln[1] for ln in lines], extra)
    if start is not None:
        box.hline(float(start), "#999999", 1.0, "5 3")
    for xs, ys, color, lw, label in lines:
        box.line(xs, ys, color, lw)
        box.legend.append((swatch_line(color, lw), label))
    if start is not None:
        box.legend.append((swatch_line("#999999", 1.0, "5 3"), "starting equity"))
    head = _time_head(box, nice_ticks(*box.y_range), "equity ($)", bottom, True)
    return box.render(head, (box.x + box.w * 1.01, box.y))


def drawdown(run: RunResult, base: RunResult | None, box: Plot, bottom: bool) -> str:
    """Drawdown from the running peak, book (filled) and baseline."""
    import numpy as np

    x = data.dates(run).astype(np.int64)
    dd = data.drawdown(run)
    lines = [] if base is None else [(data.dates(base).astype(np.int64), data.drawdown(base))]
    box.y_range = _span(dd, *[ln[1] for ln in lines], zero=True)
    box.y_range = (box.y_range[0], max(box.y_range[1], 0.0))
    box.area(x, dd, np.zeros(len(x)), data.BOOK, 0.35)
    box.legend.append((swatch_box(data.BOOK, 0.35), "book"))
    for xs, ys in lines:
        box.line(xs, ys, data.BASE, 1.2)
        box.legend.append((swatch_line(data.BASE, 1.2), _name(base)))
    head = _time_head(box, nice_ticks(*box.y_range), "drawdown ($)", bottom, True)
    return box.render(head, (box.x + box.w * 1.01, box.y))


def gamma(run: RunResult, base: RunResult | None, near_n: int, box: Plot, bottom: bool) -> str:
    """Effective gamma as weekly (or monthly) extremes on a symmetric-log axis, long Γ
    above zero and short Γ below; the model gamma dotted; near-expiry days shaded."""
    # Long: the panel's five series and its shading, each a few lines, read best together.
    import numpy as np

    x = data.dates(run)
    label = "Γ ($ per SPX point²)"
    if not len(x) or np.isnan(data.column(run, "eff_gamma_short")).all():
        box.no_data()
        return box.render(_time_head(box, [], label, bottom, False), None)
    by = data.gamma_bin(run)
    last = float(box.x_range[1])
    drawn: list[tuple[Any, Any, str, str, str]] = []  # (xs, ys, kind, colour, label)
    for r, color in ((run, data.BOOK), (base, data.BASE)):
        if r is None:
            continue
        edges, long_ = data.extremes(data.dates(r), data.column(r, "eff_gamma_long"), "max", by)
        _, short = data.extremes(data.dates(r), data.column(r, "eff_gamma_short"), "max", by)
        ex = np.minimum(edges.astype(np.int64), last)
        if r is run:
            drawn.append((*_steps(ex, long_), "fill", color, "book: long Γ (above 0)"))
            drawn.append((*_steps(ex, -short), "fill", "#6baed6", "book: short Γ (below 0)"))
        else:
            drawn.append((*_steps(ex, long_), "line", color, f"{_name(r)}: long Γ"))
            drawn.append((*_steps(ex, -short), "line", "#e6550d", f"{_name(r)}: short Γ"))
    edges, model = data.extremes(x, data.column(run, "gamma"), "min", by)
    ex = np.minimum(edges.astype(np.int64), last)
    drawn.append((*_steps(ex, model), "dotted", "#4d4d4d", "book: model gamma"))
    lo, hi = _span(*[d[1] for d in drawn], zero=True, pad=0.0)
    box.scale, box.linthresh = "symlog", 0.1
    box.y_range = (min(lo * 1.5, -0.1), max(hi * 1.5, 0.1))
    near = np.nan_to_num(data.column(run, "front_dte"), nan=math.inf) <= near_n
    days = x.astype(np.int64)
    if near.any():
        edges_ = np.flatnonzero(np.diff(np.r_[False, near, False].astype(np.int8)))
        rects = []
        for a, b in zip(edges_[::2].tolist(), edges_[1::2].tolist(), strict=True):
            x0, x1 = float(box.px(days[a])), float(box.px(days[b - 1]))
            rects.append(f'<rect x="{f1(x0)}" y="{f1(box.y)}" width="{f1(max(x1 - x0, 1.0))}" '
                         f'height="{f1(box.h)}"/>')  # fmt: skip
        box.body.append(f'<g fill="#fdd49e" fill-opacity="0.7">{"".join(rects)}</g>')
    for xs, ys, kind, color, name in drawn:
        if kind == "fill":
            opacity = 0.55 if color == data.BOOK else 0.8
            zero = np.zeros(len(xs))
            # Long Γ from 0 up, short Γ from its (negative) extreme up to 0.
            lows, highs = (zero, ys) if color == data.BOOK else (ys, zero)
            box.area(xs, lows, highs, color, opacity)
            box.legend.append((swatch_box(color, opacity), name))
        else:
            dash = "1.5 2" if kind == "dotted" else ""
            box.line(xs, ys, color, 1.0, dash)
            box.legend.append((swatch_line(color, 1.0, dash), name))
    if near.any():
        box.legend.append((swatch_box("#fdd49e", 0.7), f"front DTE ≤ {near_n}"))
    box.hline(0.0, "#999999")
    ticks = symlog_ticks(*box.y_range, box.linthresh)
    return box.render(_time_head(box, ticks, label, bottom, False), (box.x + box.w * 1.01, box.y))


def panels(result: DryRunResult) -> list[str]:
    """Every panel, the answer first: the scenario row, then six panels over time
    sharing the date axis (its labels under the last)."""
    import numpy as np

    run, base = result.run, result.baseline
    top = HEAD
    names = data.panel_titles(result)
    pair = [
        Plot(LEFT, top, _PAIR_W, TOP_ROW, names[0]),
        Plot(LEFT + _PAIR_W * 1.4, top, _PAIR_W, TOP_ROW, names[1]),
    ]
    out = [scenario_scatter(result, pair[0]), scenario_moves(result, pair[1])]
    days = data.dates(run).astype(np.int64)
    span = (float(days[0]), float(days[-1])) if len(days) else (0.0, 1.0)
    titles = names[2:]
    first = top + TOP_ROW + TOP_GAP
    boxes = [
        Plot(LEFT, first + k * (ROW + ROW_GAP), _PLOT_W, ROW, t, span) for k, t in enumerate(titles)
    ]
    out += [
        hedge_notional(run, boxes[0], False),
        pnl_split(run, base, boxes[1], False),
        market(run, boxes[2], False),
        equity(run, base, boxes[3], False),
        drawdown(run, base, boxes[4], False),
        gamma(run, base, result.config.risk.near_expiry_dte, boxes[5], True),
    ]
    return out
