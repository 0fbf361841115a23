"""The figure of a dry-run, as a matplotlib Figure (Agg canvas, no pyplot state) or
deterministic PNG bytes. The panels themselves are :mod:`.chart_panels`.

matplotlib and NumPy are imported inside the functions.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from . import chart_panels as panels
from .text import title

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..result import DryRunResult

__all__ = ["PNG_DPI", "figure", "figure_png"]

PNG_DPI = 100
# The layout in inches, fixed rather than solved by matplotlib's constrained layout
# (which measured every tick label of every panel several times: 1.9 s of a 3.3 s
# figure). Top: the title; the scenario row; the gap for its x labels and the next
# title; six panels over time, each with its title above; the date labels at the bottom.
# The right margin holds the legends drawn outside the panels.
_WIDTH = 11.0
_LEFT, _RIGHT = 0.95, 2.75
_HEAD, _TOP_ROW, _TOP_GAP, _ROW, _ROW_GAP, _FOOT = 0.7, 3.3, 0.9, 2.2, 0.38, 0.35
_TIME_PANELS = 6
#: What the figure's text is drawn with: no mathtext (a book's name or a label with two
#: ``$`` is text, and the parser's first use costs 0.75 s), titles at a fixed height
#: (their automatic placement measures every tick label again).
_RC: dict[Any, Any] = {"text.parse_math": False, "axes.titley": 1.0}


def _height() -> float:
    panels = _TIME_PANELS * _ROW + (_TIME_PANELS - 1) * _ROW_GAP
    return _HEAD + _TOP_ROW + _TOP_GAP + panels + _FOOT


def figure(result: DryRunResult) -> Figure:
    """A matplotlib Figure (Agg canvas, no pyplot), the answer first. Top row, on their
    own axes: each near-expiry day's scenario P&L under the headline move, book against
    baseline paired by day, with the diagonal; and the near-expiry CVaR 5 % and mean under
    every move. Below, sharing the date axis: hedge notional by VIX futures month
    (stacked); cumulative P&L of condors and hedge; SPX and VIX on twin axes with markers
    on the days a roll, a close, a hedge trade or a migration was applied; equity;
    drawdown; and effective gamma as weekly (or monthly) extremes, long above zero and
    short below. A panel with nothing to draw says "no data".
    """
    from matplotlib import rc_context

    with rc_context(_RC), panels.columns_cached():
        return _figure(result)


def _figure(result: DryRunResult) -> Figure:
    from matplotlib import dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, NullFormatter, StrMethodFormatter

    run, base = result.run, result.baseline
    height = _height()
    fig = Figure(figsize=(_WIDTH, height), dpi=PNG_DPI)
    FigureCanvasAgg(fig)  # render with Agg whatever pyplot's backend is
    left, right = _LEFT / _WIDTH, 1.0 - _RIGHT / _WIDTH
    top = 1.0 - _HEAD / height
    row = fig.add_gridspec(1, 2, left=left, right=right, top=top,
                           bottom=top - _TOP_ROW / height, wspace=0.4)  # fmt: skip
    time_top = top - (_TOP_ROW + _TOP_GAP) / height
    grid = fig.add_gridspec(
        _TIME_PANELS, 1, left=left, right=right, top=time_top, bottom=_FOOT / height,
        hspace=_ROW_GAP / _ROW,
    )  # fmt: skip
    fig.suptitle(title(result), fontsize=13, y=1.0 - 0.12 / height, va="top")
    pair = [fig.add_subplot(row[0, 0]), fig.add_subplot(row[0, 1])]
    panels.scenario_scatter_panel(pair[0], result)
    panels.scenario_moves_panel(pair[1], result)
    first = fig.add_subplot(grid[0, 0])
    axes = [first] + [fig.add_subplot(grid[k, 0], sharex=first) for k in range(1, _TIME_PANELS)]
    ax_notional, ax_pnl, ax_market, ax_eq, ax_dd, ax_gamma = axes
    panels.hedge_notional_panel(ax_notional, run)
    panels.pnl_split_panel(ax_pnl, run, base)
    ax_vix = panels.market_panel(ax_market, run)
    panels.equity_panel(ax_eq, run, base)
    panels.drawdown_panel(ax_dd, run, base)
    panels.gamma_panel(ax_gamma, run, base, result.config.risk.near_expiry_dte)
    for ax, name in zip(pair + axes, panels.panel_titles(result), strict=True):
        ax.set_title(name, loc="left", fontsize=10)
    money = StrMethodFormatter("{x:,.0f}")
    for ax in (ax_notional, ax_pnl, ax_eq, ax_dd):
        ax.yaxis.set_major_formatter(money)
    if ax_gamma.get_yscale() == "symlog":
        # Plain numbers (0.1, 1, 10) rather than the log formatter's mathtext powers.
        ax_gamma.yaxis.set_major_formatter(FuncFormatter(_plain_number))
        ax_gamma.yaxis.set_minor_formatter(NullFormatter())
    for ax in fig.axes:
        if ax is not ax_vix:
            ax.grid(True, color="0.9", lw=0.6)
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    _date_axis(ax_gamma, mdates)
    return fig


def _plain_number(value: float, _pos: object = None) -> str:
    """A tick value as plain text, with a true minus sign."""
    return f"{value:g}".replace("-", "\u2212")


def _date_axis(ax: Any, mdates: Any) -> None:
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def figure_png(result: DryRunResult) -> bytes:
    """:func:`figure` as PNG bytes, byte-identical for identical inputs (no ``Software``
    metadata, fixed DPI)."""
    fig = figure(result)
    buf = io.BytesIO()
    # zlib level 1: a chart is mostly flat colour, so the file is barely larger, and
    # level 6 (PIL's default) took a tenth of the figure's time.
    fig.savefig(
        buf, format="png", dpi=PNG_DPI, metadata={"Software": None},
        pil_kwargs={"compress_level": 1},
    )  # fmt: skip
    return buf.getvalue()
