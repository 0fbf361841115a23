"""The figure of a dry-run: equity, drawdown, the book's greeks and effective gamma over
time, as a matplotlib Figure (Agg canvas, no pyplot state) or deterministic PNG bytes.

matplotlib and NumPy are imported inside the functions.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from .document import applied_actions
from .text import title

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..result import DryRunResult, RunResult

__all__ = ["PNG_DPI", "figure", "figure_png"]

PNG_DPI = 100
_BOOK, _BASE = "#1f4e79", "#b85c00"


def _dates(run: RunResult) -> Any:
    import numpy as np

    return np.array([r["date"] for r in run.daily_rows], dtype="datetime64[D]")


def _col(run: RunResult, key: str) -> Any:
    import numpy as np

    return np.array(
        [np.nan if r[key] is None else r[key] for r in run.daily_rows], dtype=np.float64
    )


def _drawdown(run: RunResult) -> Any:
    import numpy as np

    equity = _col(run, "equity")
    start = float(run.summary.get("starting_equity") or (equity[0] if len(equity) else 0.0))
    peak = np.maximum.accumulate(np.maximum(equity, start))
    return equity - peak


def figure(result: DryRunResult) -> Figure:
    """A matplotlib Figure (Agg canvas, no pyplot) in four panels sharing the date axis:
    equity (book and baseline), drawdown, the book's model greeks as the rules saw them,
    and effective gamma as the rules saw it — ``eff_gamma_max``, the largest |Γ| on the
    spot–vol grid, above zero, and ``eff_gamma_min``, the most negative Γ, below it, for
    the book and the baseline — with markers on the days a roll or a hedge migration was
    applied and the near-expiry days shaded. The gamma axis is symmetric-log
    so that a hedged book and an unhedged one, often orders of magnitude apart, both show.
    """
    from matplotlib import dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import StrMethodFormatter

    run, base = result.run, result.baseline
    fig = Figure(figsize=(11.0, 13.0), dpi=PNG_DPI, layout="constrained")
    FigureCanvasAgg(fig)  # render with Agg whatever pyplot's backend is
    ax_eq, ax_dd, ax_gr, ax_eg = fig.subplots(4, 1, sharex=True)
    fig.suptitle(title(result), fontsize=13)
    _equity_panel(ax_eq, run, base)
    _drawdown_panel(ax_dd, run, base)
    _greeks_panel(ax_gr, run)
    _gamma_panel(ax_eg, run, base, result.config.risk.near_expiry_dte)
    for ax in (ax_eq, ax_dd, ax_eg):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    money = StrMethodFormatter("{x:,.0f}")
    for ax in (ax_eq, ax_dd):
        ax.yaxis.set_major_formatter(money)
    for ax in (ax_eq, ax_dd, ax_gr, ax_eg):
        ax.grid(True, color="0.9", lw=0.6)
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax_eg.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
    ax_eg.xaxis.set_major_formatter(formatter)
    return fig


def _label(base: RunResult | None) -> str:
    return base.label if base is not None else ""


def _equity_panel(ax: Any, run: RunResult, base: RunResult | None) -> None:
    x = _dates(run)
    ax.plot(x, _col(run, "equity"), color=_BOOK, lw=1.2, label="book")
    if base is not None:
        ax.plot(_dates(base), _col(base, "equity"), color=_BASE, lw=1.0, label=_label(base))
    start = run.summary.get("starting_equity")
    if start is not None:
        ax.axhline(float(start), color="0.6", lw=0.8, ls="--", label="starting equity")
    ax.set_ylabel("equity ($)")
    ax.set_title("Equity", loc="left", fontsize=10)


def _drawdown_panel(ax: Any, run: RunResult, base: RunResult | None) -> None:
    ax.fill_between(_dates(run), _drawdown(run), 0.0, color=_BOOK, alpha=0.35, lw=0, label="book")
    if base is not None:
        ax.plot(_dates(base), _drawdown(base), color=_BASE, lw=1.0, label=_label(base))
    ax.set_ylabel("drawdown ($)")
    ax.set_title("Drawdown from the running peak", loc="left", fontsize=10)


def _greeks_panel(ax: Any, run: RunResult) -> None:
    x = _dates(run)
    for key, color, label in (
        ("delta", "#2a7f62", "delta ($/pt)"),
        ("vega", "#7b3294", "vega ($/vol pt)"),
        ("theta", "#e08214", "theta ($/day)"),
    ):
        ax.plot(x, _col(run, key), color=color, lw=0.9, label=label)
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_ylabel("$ per unit move")
    ax_g2 = ax.twinx()
    ax_g2.plot(x, _col(run, "gamma"), color="#d7301f", lw=0.9, label="gamma ($/pt², right)")
    ax_g2.set_ylabel("gamma ($/pt²)")
    ax.set_title("Book model greeks, as the rules saw them", loc="left", fontsize=10)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax_g2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", bbox_to_anchor=(1.08, 1.0), fontsize=8)


def _gamma_panel(ax: Any, run: RunResult, base: RunResult | None, near_n: int) -> None:
    import numpy as np

    x = _dates(run)
    base_label = _label(base)
    eff = _col(run, "eff_gamma_max")
    ax.plot(x, eff, color=_BOOK, lw=1.0, label="book: largest |Γ| (above 0)")
    if base is not None:
        ax.plot(
            _dates(base), _col(base, "eff_gamma_max"), color=_BASE, lw=0.9,
            label=f"{base_label}: largest |Γ|",
        )  # fmt: skip
    if run.daily_rows and "eff_gamma_min" in run.daily_rows[0]:
        # The short side, below 0: the most negative Γ on the grid.
        ax.plot(
            x, _col(run, "eff_gamma_min"), color="#6baed6", lw=0.8,
            label="book: most negative Γ (below 0)",
        )  # fmt: skip
        if base is not None:
            ax.plot(
                _dates(base), _col(base, "eff_gamma_min"), color="#fdae6b", lw=0.8,
                label=f"{base_label}: most negative Γ",
            )  # fmt: skip
    ax.plot(x, _col(run, "gamma"), color="0.4", lw=0.7, ls=":", label="book: model gamma")
    near = np.nan_to_num(_col(run, "front_dte"), nan=np.inf) <= near_n
    if near.any():
        ax.fill_between(
            x, 0, 1, where=near, transform=ax.get_xaxis_transform(), color="#fdd49e",
            alpha=0.7, lw=0, label=f"front DTE ≤ {near_n}",
        )  # fmt: skip
    index = {r["date"]: i for i, r in enumerate(run.daily_rows)}
    for kind, marker, color, label in (
        ("roll_condor", "v", "#e6550d", "roll applied"),
        ("shift_hedge", "D", "#756bb1", "hedge migration applied"),
    ):
        days = sorted({a["date"] for a in applied_actions(run, [kind]) if a["date"] in index})
        if days:
            at = [index[d] for d in days]
            ax.scatter(x[at], eff[at], marker=marker, s=30, color=color, zorder=3, label=label)
    ax.set_yscale("symlog", linthresh=0.1)
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_ylabel("Γ ($ per SPX point²)")
    ax.set_title(
        "Effective gamma as the rules saw it (spot–vol grid, VIX hedges included)",
        loc="left",
        fontsize=10,
    )


def figure_png(result: DryRunResult) -> bytes:
    """:func:`figure` as PNG bytes, byte-identical for identical inputs (no ``Software``
    metadata, fixed DPI)."""
    fig = figure(result)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buf.getvalue()
