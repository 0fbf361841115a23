"""The report's figure as inline SVG (alvh_dsl.dryrun.report.svg): it parses, has every
panel with its title, stays within its pixel budget without losing a spike, ticks on
nice numbers, says "no data" where there is none, and is the same bytes every time."""

from __future__ import annotations

import dataclasses
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from alvh_dsl.api import dryrun
from alvh_dsl.dryrun.report import svg, svg_plot
from alvh_dsl.dryrun.report.files import write_run
from alvh_dsl.dryrun.report.html import PLOT_ALT
from alvh_dsl.dryrun.result import DryRunResult

from .test_report import (
    TITLES,  # the matplotlib figure's, in the same order
    without_hedge_held,
)

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "rulebooks" / "alvh_core.alvh"
START, END = "2010-01-01", "2011-06-30"


@pytest.fixture(scope="module")
def result() -> DryRunResult:
    return dryrun(str(CORE), start=START, end=END)


@pytest.fixture(scope="module")
def solo() -> DryRunResult:
    return dryrun(str(CORE), start=START, end=END, baseline=None)


def _panels(figure: str) -> dict[str, ET.Element]:
    root = ET.fromstring(figure)
    return {g.findtext("title") or "": g for g in root.findall("g")}


def _texts(panel: ET.Element) -> list[str]:
    return [t.text or "" for t in panel.iter("text")]


def test_the_svg_parses_and_has_every_panel(result: DryRunResult) -> None:
    figure = svg.figure_svg(result, "a description")
    root = ET.fromstring(figure)
    assert root.tag == "svg" and root.get("role") == "img"
    assert root.get("viewBox") == f"0 0 {svg_plot.WIDTH} {svg_plot.height()}"
    assert root.findtext("title", "").startswith("ALVH core 1.0 — 2010-")
    assert root.findtext("desc") == "a description"
    panels = _panels(figure)
    assert list(panels) == TITLES
    for name, panel in panels.items():
        assert name in _texts(panel)  # the title is drawn too, not only announced
        assert "no data" not in _texts(panel)  # every panel of this run has data
    # The legends of the matplotlib figure, the same words.
    assert {"book: total", "book: condors", "book: hedge", "baseline: no hedge: total"} <= set(
        _texts(panels[TITLES[3]])
    )
    market = _texts(panels[TITLES[4]])
    assert any(t.startswith("hedge migration (") for t in market) and "VIX" in market
    assert "matplotlib" not in figure and "http" not in figure


def test_the_page_embeds_the_svg(result: DryRunResult, tmp_path: Path) -> None:
    page = (write_run(result, tmp_path / "core") / "report.html").read_text(encoding="utf-8")
    start = page.index('<svg class="plot"')
    inline = page[start : page.index("</svg>", start) + len("</svg>")]
    assert inline == svg.figure_svg(result, PLOT_ALT)  # with the alt text as its <desc>
    assert list(_panels(inline)) == TITLES


def test_polylines_are_bounded_by_the_pixel_width(result: DryRunResult) -> None:
    root = ET.fromstring(svg.figure_svg(result))
    widths = [float(r.get("width", 0)) for r in root.iter("rect") if r.get("fill") == "none"]
    budget = 2 * max(widths)
    lines = list(root.iter("polyline"))
    assert lines
    assert all(len((ln.get("points") or "").split()) <= budget for ln in lines)
    # A long series is cut down to two points per pixel column.
    plot = svg_plot.Plot(0, 0, 200, 100, "t", (0.0, 49_999.0), (-2.0, 2.0))
    plot.line(np.arange(50_000.0), np.sin(np.arange(50_000.0) / 50), "#000")
    (line,) = ET.fromstring(f"<g>{plot.body[0]}</g>")
    assert 200 <= len((line.get("points") or "").split()) <= 400


def _ys(element: str, attribute: str) -> list[float]:
    (node,) = ET.fromstring(f"<g>{element}</g>")
    return [float(p.split(",")[1]) for p in (node.get(attribute) or "").split()]


def test_a_spike_survives_decimation() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(0.0, 1.0, 20_000)
    values[12_345] = -40.0  # one day's crash, a 20,000th of the series
    values[777] = 35.0
    plot = svg_plot.Plot(10, 20, 300, 100, "t", (0.0, 19_999.0), (-40.0, 35.0))
    plot.line(np.arange(20_000.0), values, "#000")
    ys = _ys(plot.body[0], "points")
    assert len(ys) <= 600
    assert max(ys) == pytest.approx(float(plot.py(-40.0)), abs=0.05)  # down the page
    assert min(ys) == pytest.approx(float(plot.py(35.0)), abs=0.05)
    # Every 33rd point (a stride, not extremes) would have lost both.
    assert values[::33].min() > -40.0 and values[::33].max() < 35.0
    # An area (drawdown, gamma) keeps its spike too.
    plot.area(np.arange(20_000.0), values, np.zeros(20_000), "#000")
    assert max(_ys(plot.body[1], "points")) == pytest.approx(float(plot.py(-40.0)), abs=0.05)


def _is_nice(step: float) -> bool:
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(math.isclose(mantissa, m) for m in (1.0, 2.0, 5.0))


@pytest.mark.parametrize(
    ("lo", "hi"),
    [(0.0, 1.0), (-4321.0, 987.0), (249_000.0, 286_000.0), (0.013, 0.0171), (-3.7, -1.2)],
)
def test_ticks_are_nice_numbers(lo: float, hi: float) -> None:
    ticks = svg_plot.nice_ticks(lo, hi)
    assert 3 <= len(ticks) <= 11
    assert all(lo <= t <= hi for t in ticks)
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0]) and _is_nice(float(steps[0]))
    assert all(math.isclose(t / steps[0], round(t / steps[0]), abs_tol=1e-9) for t in ticks)
    assert all(len(f"{t:g}") <= 8 for t in ticks)  # 0.3, not 0.30000000000000004


def test_symlog_and_date_ticks() -> None:
    assert svg_plot.symlog_ticks(-1.5, 12.0, 0.1) == [-1.0, -0.1, 0.0, 0.1, 1.0, 10.0]
    first = int(np.datetime64("2004-03-15", "D").astype(int))
    last = int(np.datetime64("2023-11-30", "D").astype(int))
    ticks = svg_plot.date_ticks(first, last)
    assert [label for _, label in ticks] == [str(y) for y in range(2006, 2024, 2)]
    assert all(str(np.datetime64(d, "D")).endswith("-01-01") for d, _ in ticks)
    short = svg_plot.date_ticks(first, first + 120)
    assert [label for _, label in short] == ["Apr", "May", "Jun", "Jul"]
    assert svg_plot.number(-1250000.0, money=True) == "\u22121,250,000"


def test_panels_without_data_say_so(solo: DryRunResult) -> None:
    panels = _panels(svg.figure_svg(solo))
    assert list(panels) == TITLES
    assert _texts(panels[TITLES[0]])[-2:] == ["no data", "(no baseline to pair with)"]
    assert "no data" not in _texts(panels[TITLES[1]])  # the book's own figures
    no_hedge = without_hedge_held(solo)
    panel = _panels(svg.figure_svg(no_hedge))[TITLES[2]]
    assert _texts(panel)[-2:] == ["no data", "(no hedge held)"]
    assert panel.find("polygon") is None


def test_the_bytes_are_deterministic(result: DryRunResult) -> None:
    again = dryrun(str(CORE), start=START, end=END)
    assert svg.figure_svg(again) == svg.figure_svg(result) == svg.figure_svg(result)


def test_text_from_the_book_is_escaped(result: DryRunResult) -> None:
    assert result.baseline is not None
    odd = dataclasses.replace(
        result, baseline=dataclasses.replace(result.baseline, label='<b>&"base"')
    )
    figure = svg.figure_svg(odd)
    assert "<b>" not in figure
    assert '<b>&"base": total' in _texts(_panels(figure)[TITLES[3]])
