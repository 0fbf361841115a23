"""What the SVG figure (:mod:`.svg`) is drawn with: the layout in pixels, a panel's
axes (:class:`Plot`: linear or symmetric-log scales, lines, areas), nice tick values,
date ticks by year, decimation to the pixel width, legend samples.

NumPy is imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

__all__ = [
    "WIDTH",
    "Plot",
    "columns",
    "date_ticks",
    "decimate",
    "height",
    "nice_ticks",
    "number",
    "swatch_box",
    "swatch_line",
    "symlog_ticks",
]

#: The figure's width in viewBox pixels, the PNG's (11 in at 100 dpi).
WIDTH = 1100
# The layout of :mod:`.chart`, in pixels: margins, the title, the scenario row and the
# six panels over time sharing the date axis; the right margin holds the legends.
LEFT, RIGHT = 95, 275
HEAD, TOP_ROW, TOP_GAP, ROW, ROW_GAP, FOOT = 70, 330, 90, 220, 38, 35
TIME_PANELS = 6
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"'
GRID, AXIS, MUTED = "#e6e6e6", "#444444", "#737373"
MINUS = "\u2212"


def height() -> int:
    """The figure's height in viewBox pixels."""
    panels = TIME_PANELS * ROW + (TIME_PANELS - 1) * ROW_GAP
    return HEAD + TOP_ROW + TOP_GAP + panels + FOOT


def e(value: Any) -> str:
    """``value`` as escaped XML text (a book's name or label is anybody's text)."""
    return escape(str(value), quote=True)


def f1(value: float) -> str:
    """A coordinate with one decimal: a tenth of a pixel is below what a screen shows,
    and a fixed format keeps the bytes deterministic."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def number(value: float, money: bool = False) -> str:
    """A tick label: plain (``0.1``, ``20``) or with thousands separators for money,
    with a true minus sign."""
    if value == 0:
        return "0"
    text = f"{value:,.0f}" if money and abs(value) >= 1 else f"{value:g}"
    return text.replace("-", MINUS)


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Tick values in ``[lo, hi]`` on a 1-2-5 step (…, 0.1, 0.2, 0.5, 1, 2, 5, 10, …),
    about ``target`` of them."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(target, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * 0.999)
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    # Rounded to the step's decimals, so that 0.30000000000000004 is written 0.3.
    digits = max(0, -math.floor(math.log10(step)))
    return [round(k * step, digits) + 0.0 for k in range(first, last + 1)]


def symlog_ticks(lo: float, hi: float, linthresh: float) -> list[float]:
    """0 and ± ``linthresh`` × 10ᵏ inside ``[lo, hi]``: the decades of a symlog axis."""
    ticks = [0.0] if lo <= 0 <= hi else []
    top = max(abs(lo), abs(hi), linthresh)
    for k in range(math.ceil(math.log10(top / linthresh)) + 1):
        value = linthresh * 10.0**k
        value = float(f"{value:.6g}")
        ticks += [v for v in (-value, value) if lo <= v <= hi]
    return sorted(ticks)


def date_ticks(first: int, last: int) -> list[tuple[int, str]]:
    """Ticks for a date axis of days since 1970 in ``[first, last]``: 1 January of
    every year (every 2nd, 5th, … when there are many), or the 1st of each month
    (every 2nd, 3rd, 6th) for a span of under two years; ``(day, label)``."""
    import numpy as np

    start = np.datetime64(int(first), "D")
    end = np.datetime64(int(last), "D")
    y0, y1 = int(str(start)[:4]), int(str(end)[:4])
    if y1 - y0 >= 2:
        step = next(s for s in (1, 2, 5, 10, 20, 50) if (y1 - y0) / s <= 12)
        years = [y for y in range(y0, y1 + 1) if y % step == 0]
        days = [(int(np.datetime64(f"{y:04d}-01-01", "D").astype(int)), str(y)) for y in years]
    else:
        months = np.arange(start.astype("datetime64[M]"), end.astype("datetime64[M]") + 1)
        step = next(s for s in (1, 2, 3, 6, 12) if len(months) / s <= 12)
        days = []
        for m in months:
            month = int(str(m)[5:7])
            if (month - 1) % step:
                continue
            label = str(m)[:4] if month == 1 else _MONTH_NAMES[month - 1]
            days.append((int(m.astype("datetime64[D]").astype(int)), label))
    return [(d, label) for d, label in days if first <= d <= last]


_MONTH_NAMES = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def columns(px: Any, left: float, width: float) -> tuple[Any, Any]:
    """The pixel columns of a plot ``width`` wide from ``left`` that sorted x pixels
    fall in: ``(index of each column's first point, the column's centre)``. The right
    edge belongs to the last column, so there are at most ``ceil(width)``."""
    import numpy as np

    last = max(math.ceil(width) - 1, 0)
    col = np.clip(np.floor(np.asarray(px) - left), 0, last).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    return starts, left + col[starts] + 0.5


def decimate(px: Any, py: Any, left: float, width: float) -> tuple[Any, Any]:
    """Pixel coordinates reduced to at most two points per pixel column: the column's
    minimum and maximum, in the order they come. A polyline with more points than its
    plot has pixels draws the same picture, bigger and slower; keeping each column's
    extremes (not every n-th point) means no spike is lost — a crash day one pixel wide
    still reaches its low. Fewer points than ``2 × width`` come back as they are."""
    import numpy as np

    px, py = np.asarray(px, dtype=np.float64), np.asarray(py, dtype=np.float64)
    if len(px) <= 2 * width:
        return px, py
    starts, centres = columns(px, left, width)
    lo = np.minimum.reduceat(py, starts)
    hi = np.maximum.reduceat(py, starts)
    first, last = py[starts], py[np.r_[starts[1:], len(py)] - 1]
    # Screen y grows downwards: a rising column (last above first) goes from the
    # larger y to the smaller one.
    rising = last <= first
    ys = np.column_stack([np.where(rising, hi, lo), np.where(rising, lo, hi)]).ravel()
    xs = np.repeat(centres, 2)
    return xs, ys


def points(xs: Any, ys: Any) -> str:
    """``x,y x,y …`` for a ``points`` attribute."""
    return " ".join(f"{f1(x)},{f1(y)}" for x, y in zip(xs.tolist(), ys.tolist(), strict=True))


@dataclass
class Plot:
    """One panel: its box in pixels, its data ranges and what is drawn in it.
    ``scale`` is ``linear`` or ``symlog`` (linear within ±``linthresh``, a decade per
    unit beyond, as matplotlib's ``symlog``)."""

    x: float
    y: float
    w: float
    h: float
    title: str
    x_range: tuple[float, float] = (0.0, 1.0)
    y_range: tuple[float, float] = (0.0, 1.0)
    scale: str = "linear"
    linthresh: float = 0.1
    body: list[str] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (swatch svg, label)

    def _t(self, v: Any) -> Any:
        import numpy as np

        v = np.asarray(v, dtype=np.float64)
        if self.scale != "symlog":
            return v
        a = np.abs(v) / self.linthresh
        return np.sign(v) * np.where(a <= 1, a, 1 + np.log10(np.maximum(a, 1)))

    def px(self, xs: Any) -> Any:
        """Data x (days since 1970, or any number) → pixels."""
        import numpy as np

        lo, hi = self.x_range
        return self.x + (np.asarray(xs, dtype=np.float64) - lo) / ((hi - lo) or 1) * self.w

    def py(self, ys: Any) -> Any:
        """Data y → pixels (down the page)."""
        lo, hi = (float(v) for v in self._t(self.y_range))
        return self.y + self.h - (self._t(ys) - lo) / ((hi - lo) or 1) * self.h

    def line(self, xs: Any, ys: Any, color: str, lw: float = 1.0, dash: str = "") -> None:
        """A polyline, broken where ``ys`` is NaN, decimated to the plot's width."""
        import numpy as np

        xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        ok = np.isfinite(ys)
        edges = np.flatnonzero(np.diff(np.r_[False, ok, False].astype(np.int8)))
        style = f' stroke-dasharray="{dash}"' if dash else ""
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            px, py = decimate(self.px(xs[a:b]), self.py(ys[a:b]), self.x, self.w)
            self.body.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="{lw}"{style} '
                f'stroke-linejoin="round" points="{points(px, py)}"/>'
            )

    def area(
        self,
        xs: Any,
        lows: Any,
        highs: Any,
        color: str,
        opacity: float = 1.0,
        low_by: str = "min",
    ) -> None:
        """The area between two series (NaN as 0), decimated to a point per pixel column:
        the highest of ``highs`` and the lowest of ``lows`` (``low_by="min"``), so a
        spike up or down keeps its height. A layer of a stack passes ``low_by="max"``:
        its floor is then the layer below's (max-reduced) top, and the layers meet
        rather than overlap."""
        import numpy as np

        top = self.py(np.nan_to_num(np.asarray(highs, dtype=np.float64)))
        bottom = self.py(np.nan_to_num(np.asarray(lows, dtype=np.float64)))
        px = self.px(xs)
        if len(px) > 2 * self.w:
            starts, px = columns(px, self.x, self.w)
            # Screen y grows downwards: the data's max is the pixels' min.
            top = np.minimum.reduceat(top, starts)
            floor = np.maximum if low_by == "min" else np.minimum
            bottom = floor.reduceat(bottom, starts)
        xs2 = np.r_[px, px[::-1]]
        ys2 = np.r_[top, bottom[::-1]]
        fill = f' fill-opacity="{opacity}"' if opacity < 1 else ""
        self.body.append(f'<polygon fill="{color}"{fill} points="{points(xs2, ys2)}"/>')

    def hline(self, value: float, color: str, lw: float = 0.6, dash: str = "") -> None:
        """A horizontal line across the plot at data ``value``."""
        y = f1(float(self.py(value)))
        style = f' stroke-dasharray="{dash}"' if dash else ""
        self.body.append(
            f'<line x1="{f1(self.x)}" x2="{f1(self.x + self.w)}" y1="{y}" y2="{y}" '
            f'stroke="{color}" stroke-width="{lw}"{style}/>'
        )

    def no_data(self, why: str = "") -> None:
        """Write "no data" (and why) across the panel."""
        from .text import NO_DATA

        cx, cy = f1(self.x + self.w / 2), self.y + self.h / 2
        lines = [NO_DATA] + ([f"({why})"] if why else [])
        for k, text in enumerate(lines):
            y = f1(cy + (k - (len(lines) - 1) / 2) * 18 + 5)
            self.body.append(
                f'<text x="{cx}" y="{y}" text-anchor="middle" font-size="15" '
                f'fill="{MUTED}">{e(text)}</text>'
            )

    def frame(self, y_ticks: list[float], y_label: str, money: bool = False) -> list[str]:
        """The panel's title, horizontal grid and y ticks, its frame and its y label."""
        out = [f'<text x="{f1(self.x)}" y="{f1(self.y - 6)}" font-size="14">{e(self.title)}</text>']
        x0, x1 = f1(self.x), f1(self.x + self.w)
        for v in y_ticks:
            y = f1(float(self.py(v)))
            out.append(f'<line x1="{x0}" x2="{x1}" y1="{y}" y2="{y}" stroke="{GRID}"/>')
            out.append(
                f'<text x="{f1(self.x - 5)}" y="{f1(float(y) + 4)}" text-anchor="end" '
                f'font-size="11">{e(number(v, money))}</text>'
            )
        cy = f1(self.y + self.h / 2)
        out.append(
            f'<text transform="translate({f1(self.x - 72)},{cy}) rotate(-90)" '
            f'text-anchor="middle" font-size="12">{e(y_label)}</text>'
        )
        return out

    def x_grid(self, ticks: Sequence[tuple[float, str]], labels: bool) -> list[str]:
        """Vertical grid lines at ``ticks`` and, if ``labels``, their labels below."""
        out = []
        bottom = self.y + self.h
        for v, label in ticks:
            x = f1(float(self.px(v)))
            out.append(
                f'<line x1="{x}" x2="{x}" y1="{f1(self.y)}" y2="{f1(bottom)}" stroke="{GRID}"/>'
            )
            if labels:
                out.append(
                    f'<text x="{x}" y="{f1(bottom + 15)}" text-anchor="middle" '
                    f'font-size="11">{e(label)}</text>'
                )
        return out

    def legend_at(self, x: float, y: float) -> list[str]:
        """The legend's entries from (``x``, ``y``) down, one a line."""
        out = []
        for k, (swatch, label) in enumerate(self.legend):
            top = y + 4 + k * 16
            out.append(f'<g transform="translate({f1(x + 4)},{f1(top)})">{swatch}</g>')
            out.append(
                f'<text x="{f1(x + 30)}" y="{f1(top + 10)}" font-size="11">{e(label)}</text>'
            )
        return out

    def render(self, head: list[str], legend: tuple[float, float] | None) -> str:
        """The panel as a ``<g>`` with its ``<title>``: ``head`` (frame, grid) below the
        data, the border above it, the legend where asked."""
        border = (
            f'<rect x="{f1(self.x)}" y="{f1(self.y)}" width="{f1(self.w)}" '
            f'height="{f1(self.h)}" fill="none" stroke="{AXIS}" stroke-width="0.8"/>'
        )
        tail = self.legend_at(*legend) if legend is not None and self.legend else []
        parts = [f"<g><title>{e(self.title)}</title>", *head, *self.body, border, *tail, "</g>"]
        return "\n".join(parts)


def swatch_line(color: str, lw: float = 1.5, dash: str = "") -> str:
    """A legend's line sample."""
    style = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<line x1="0" x2="22" y1="6" y2="6" stroke="{color}" stroke-width="{lw}"{style}/>'


def swatch_box(color: str, opacity: float = 1.0) -> str:
    """A legend's area sample."""
    fill = f' fill-opacity="{opacity}"' if opacity < 1 else ""
    return f'<rect x="0" y="1" width="22" height="10" fill="{color}"{fill}/>'
