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
# Heights (inches) of the top row (the scenario panels) and of each panel over time.
_TOP, _ROW = 4.2, 2.7
_TIME_PANELS = 6


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
    from matplotlib import dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import StrMethodFormatter

    run, base = result.run, result.baseline
    height = _TOP + _TIME_PANELS * _ROW
    fig = Figure(figsize=(11.0, height), dpi=PNG_DPI, layout="constrained")
    FigureCanvasAgg(fig)  # render with Agg whatever pyplot's backend is
    grid = fig.add_gridspec(1 + _TIME_PANELS, 2, height_ratios=[_TOP] + [_ROW] * _TIME_PANELS)
    fig.suptitle(title(result), fontsize=13)
    panels.scenario_scatter_panel(fig.add_subplot(grid[0, 0]), result)
    panels.scenario_moves_panel(fig.add_subplot(grid[0, 1]), result)
    first = fig.add_subplot(grid[1, :])
    axes = [first] + [fig.add_subplot(grid[k, :], sharex=first) for k in range(2, 1 + _TIME_PANELS)]
    ax_notional, ax_pnl, ax_market, ax_eq, ax_dd, ax_gamma = axes
    panels.hedge_notional_panel(ax_notional, run)
    panels.pnl_split_panel(ax_pnl, run, base)
    ax_vix = panels.market_panel(ax_market, run)
    panels.equity_panel(ax_eq, run, base)
    panels.drawdown_panel(ax_dd, run, base)
    panels.gamma_panel(ax_gamma, run, base, result.config.risk.near_expiry_dte)
    money = StrMethodFormatter("{x:,.0f}")
    for ax in (ax_notional, ax_pnl, ax_eq, ax_dd):
        ax.yaxis.set_major_formatter(money)
    for ax in fig.axes:
        if ax is not ax_vix:
            ax.grid(True, color="0.9", lw=0.6)
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    _date_axis(ax_gamma, mdates)
    return fig


def _date_axis(ax: Any, mdates: Any) -> None:
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def figure_png(result: DryRunResult) -> bytes:
    """:func:`figure` as PNG bytes, byte-identical for identical inputs (no ``Software``
    metadata, fixed DPI)."""
    fig = figure(result)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buf.getvalue()
