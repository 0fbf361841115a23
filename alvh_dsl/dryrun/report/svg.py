"""The figure of a dry-run as one inline SVG string, drawn with NumPy only (no
matplotlib): the same panels as :mod:`.chart`, laid out the same, for ``report.html``.
The panels are :mod:`.svg_panels`, drawn with :mod:`.svg_plot` (the axes, nice ticks,
date ticks by year, the symmetric-log scale, decimation, the legends).

Why not matplotlib: its text and ticks cost ~1.5 s of CPU per report, plus ~0.9 s to
import it (issue 11); the lines themselves are cheap. The SVG's coordinates are pixels of
a ``viewBox`` the width of the PNG (1,100 px), so it scales with the page; numbers are
written with one decimal, so the bytes are the same for the same inputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import svg_panels
from .chart_panels import columns_cached
from .svg_plot import FONT, WIDTH, e, height
from .text import title

if TYPE_CHECKING:  # pragma: no cover
    from ..result import DryRunResult

__all__ = ["figure_svg"]


def figure_svg(result: DryRunResult, description: str = "") -> str:
    """The figure as one ``<svg>`` element (no ``xmlns``: inline in HTML it needs none,
    and the page keeps no URL), the panels of :func:`.chart.figure` in the same order
    and layout, each a ``<g>`` with its ``<title>``. Deterministic for the same
    inputs. ``description``: the figure's ``<desc>``, for a screen reader."""
    h = height()
    heading = title(result)
    parts = [
        f'<svg class="plot" viewBox="0 0 {WIDTH} {h}" role="img" aria-label="{e(heading)}" '
        f'{FONT} fill="#1b1f24">',
        f"<title>{e(heading)}</title>",
        *([f"<desc>{e(description)}</desc>"] if description else []),
        f'<rect width="{WIDTH}" height="{h}" fill="#ffffff"/>',
        f'<text x="{WIDTH / 2}" y="30" text-anchor="middle" font-size="18">{e(heading)}</text>',
    ]
    with columns_cached():
        parts += svg_panels.panels(result)
    parts.append("</svg>")
    return "\n".join(parts)
