"""The run directory, report.html, the figure and the terminal summary.

One short dry-run (18 months of the synthetic history) and one without a baseline are
shared by the module; each test writes where it needs to. Figures the engine did not
measure are made by replacing parts of a real result (``dataclasses.replace``), so every
page is rendered by the real code. The real-history test skips without ../shared.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import hashlib
import html
import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from alvh_dsl.api import dryrun
from alvh_dsl.dryrun.moves import scenario_column
from alvh_dsl.dryrun.report import chart, chart_panels, document, files
from alvh_dsl.dryrun.report import html as report_html
from alvh_dsl.dryrun.report import text as report_text
from alvh_dsl.dryrun.report.files import (
    BASELINE_FILES,
    RUN_FILES,
    TRADE_COLUMNS,
    check_run_directory,
    jsonable,
    write_run,
)
from alvh_dsl.dryrun.report.text import summary_table
from alvh_dsl.dryrun.result import DryRunResult
from alvh_dsl.errors import RunDirectoryError
from alvh_dsl.lang.state import load_state

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "rulebooks" / "alvh_core.alvh"
START, END = "2010-01-01", "2011-06-30"
CAPTURED = "2010-02-12"


@pytest.fixture(scope="module")
def result() -> DryRunResult:
    return dryrun(str(CORE), start=START, end=END, capture=[CAPTURED])


@pytest.fixture(scope="module")
def solo() -> DryRunResult:
    return dryrun(str(CORE), start=START, end=END, baseline=None)


@pytest.fixture(scope="module")
def run_dir(result: DryRunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(result, tmp_path_factory.mktemp("runs") / "core")


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


# ------------------------------------------------------------------ outputs


def test_every_output_exists(run_dir: Path) -> None:
    names = {p.name for p in run_dir.iterdir()}
    assert names == {*RUN_FILES, "baseline", f"state-{CAPTURED}.json"}
    assert {p.name for p in (run_dir / "baseline").iterdir()} == set(BASELINE_FILES)


def test_decisions_jsonl_is_one_json_object_per_decision(
    result: DryRunResult, run_dir: Path
) -> None:
    for path, run in ((run_dir, result.run), (run_dir / "baseline", result.baseline)):
        assert run is not None
        lines = (path / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines]
        assert records == [jsonable(d) for d in run.decisions]
    text = (run_dir / "decisions.jsonl").read_text(encoding="utf-8")
    records = [json.loads(line) for line in text.splitlines()]
    fired = [r for r in records if r["status"] == "fired"]
    near = [r for r in records if r["status"] == "near_miss"]
    assert fired and near
    for r in fired:
        assert {"date", "rule", "priority", "actions", "trace"} <= set(r)
        for action in r["actions"]:
            assert {"kind", "text", "args", "status"} <= set(action)
            if action["status"] == "apply":
                assert "fill" in action and isinstance(action["trades"], list)
    assert all("trace" in r and r["near_miss"] for r in near)


def test_daily_parquet_reads_back_as_the_daily_frame(result: DryRunResult, run_dir: Path) -> None:
    frame = pd.read_parquet(run_dir / "daily.parquet")
    pd.testing.assert_frame_equal(frame, result.daily)
    assert list(frame.columns) == list(result.daily.columns)
    headline = scenario_column(result.config.risk.headline_move)
    wanted = {"equity", "eff_gamma_short", "eff_gamma_long_after", "front_dte", headline}
    assert wanted | {"condor_pnl", "hedge_pnl", "hedge_notional_m1"} <= set(frame.columns)
    assert result.baseline is not None
    base = pd.read_parquet(run_dir / "baseline" / "daily.parquet")
    pd.testing.assert_frame_equal(base, result.baseline.daily)


def test_trades_csv_has_every_leg(result: DryRunResult, run_dir: Path) -> None:
    with open(run_dir / "trades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == TRADE_COLUMNS
    assert len(rows) == len(result.run.trades)
    first = result.run.trades[0]
    assert rows[0]["trade_id"] == first["trade_id"]
    assert float(rows[0]["cash_flow"]) == first["cash_flow"]
    assert sum(float(r["cash_flow"]) for r in rows) == pytest.approx(
        sum(t["cash_flow"] for t in result.run.trades)
    )
    futures = [r for r in rows if r["instrument"] == "VIX future"]
    assert all(r["strike"] == "" for r in futures)  # no strike: an empty cell, not "nan"


def test_summary_json_has_figures_and_provenance(result: DryRunResult, run_dir: Path) -> None:
    doc = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert {"book", "baseline", "comparison", "run"} <= set(doc)
    assert doc["book"] == jsonable(result.run.summary)
    assert doc["comparison"] == jsonable(result.summary["comparison"])
    run = doc["run"]
    assert run["format"] == "alvh-dryrun/1"
    book = run["book"]
    assert (book["name"], book["version"]) == ("ALVH core", "1.0")
    assert book["sha256"] == result.book_sha256
    source = result.book_sources[book["file"]]
    assert book["files"][book["file"]] == hashlib.sha256(source.encode()).hexdigest()
    assert book["params"]["roll_dte"] == {"value": "7 days", "overridden": False}
    hist = run["history"]
    assert hist["synthetic"] is True and hist["generator"]
    assert (hist["start"], hist["end"]) == (doc["book"]["start"], doc["book"]["end"])
    assert run["config"] == result.config.model_dump(mode="json")
    assert run["notes"] == result.notes
    assert run["baseline"]["label"] == "baseline: no hedge"
    assert run["captured_states"] == [CAPTURED]
    fired = {r["rule"]: r["fired"] for r in run["rules"]}
    assert fired == result.run.summary["rules_fired"]


def test_state_file_is_what_alvh_eval_reads(result: DryRunResult, run_dir: Path) -> None:
    state = load_state(run_dir / f"state-{CAPTURED}.json")
    assert state.date.isoformat() == CAPTURED
    assert state == next(iter(result.run.states.values()))


def test_outputs_are_byte_identical_across_runs(run_dir: Path, tmp_path: Path) -> None:
    again = dryrun(str(CORE), start=START, end=END, capture=[CAPTURED])
    second = write_run(again, tmp_path / "again")
    assert _tree(second) == _tree(run_dir)


# ------------------------------------------------------------- report.html


def test_report_html_is_self_contained(run_dir: Path) -> None:
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "url(" not in page
    # The figure is inline SVG (tests/test_report_svg.py reads it): no image to fetch.
    assert re.findall(r'\bsrc="([^"]*)"', page) == []
    assert re.findall(r'\bhref="([^"]*)"', page) == []
    assert page.count('<svg class="plot"') == 1 and "<img" not in page


def test_report_html_with_the_png_figure(result: DryRunResult, tmp_path: Path) -> None:
    written = write_run(result, tmp_path / "png", figure="png")
    page = (written / "report.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and "<svg" not in page
    sources = re.findall(r'\bsrc="([^"]*)"', page)
    assert len(sources) == 1 and sources[0].startswith("data:image/png;base64,")
    png = base64.b64decode(sources[0].split(",", 1)[1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png == chart.figure_png(result)
    with pytest.raises(ValueError, match="figure must be one of svg, png"):
        write_run(result, tmp_path / "gif", figure="gif")
    assert not (tmp_path / "gif").exists()


def test_report_html_shows_the_figures_and_the_book(result: DryRunResult, run_dir: Path) -> None:
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    book, base = result.run.summary, result.baseline.summary  # type: ignore[union-attr]
    assert "<h1>ALVH core 1.0</h1>" in page
    for value in (
        report_text.format_value(book["total_pnl"], "money"),
        report_text.format_value(base["total_pnl"], "money"),
        report_text.format_value(book["max_drawdown"], "money"),
        report_text.format_value(book["worst_day"], "money"),
        report_text.format_value(book["hedge_premium_paid"], "money"),
        report_text.format_value(book["condor_pnl"], "money"),
    ):
        assert html.escape(value) in page, value
    for key in ("near_expiry_peak_short_eff_gamma", "near_expiry_mean_short_eff_gamma"):
        label = {
            "near_expiry_peak_short_eff_gamma": "peak",
            "near_expiry_mean_short_eff_gamma": "mean",
        }
        cells = "".join(
            f'<td class="n">{report_text.format_value(s[key], "gamma")}</td>' for s in (book, base)
        )
        assert f"<td>Near-expiry {label[key]} short effective gamma (DTE ≤ 7)</td>{cells}" in page
    for label in ("Rolls", "Hedge migrations", "Peak long effective gamma", "Peak |model gamma|"):
        assert f"<td>{html.escape(label)}</td>" in page
    for path, text in result.book_sources.items():
        assert html.escape(text) in page
        assert hashlib.sha256(text.encode()).hexdigest() in page
        assert html.escape(path) in page
    assert result.book_sha256 in page
    for note in result.notes:
        assert html.escape(note) in page
    for rule in result.book.rule_ids:
        assert f"<td>{rule}</td>" in page
    assert "synthetic history" in page


def _page(result: DryRunResult) -> str:
    """report.html of ``result`` (the figure left out: these tests read the text)."""
    return report_html.render_html(result, document.summary_document(result), b"png")


def _section(page: str, heading: str) -> str:
    """The HTML from ``<h2>heading</h2>`` to the next ``<h2>``."""
    start = page.index(f"<h2>{heading}</h2>")
    end = page.find("<h2>", start + 1)
    return page[start : end if end >= 0 else len(page)]


def test_the_finding_is_at_the_top_of_report_html(result: DryRunResult, run_dir: Path) -> None:
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    body = page[page.index("<body>") :]
    finding = report_text.headline_finding(result)
    scenario = result.summary["comparison"]["scenario"]
    assert finding.startswith(scenario["finding"])
    cost = result.summary["comparison"]["hedge_cost"]
    per_year = report_text.format_value(cost["premium_per_year"], "dollars")
    assert f"The hedge cost {per_year} a year in premium (" in finding
    assert f"{cost['premium_pct_of_credit']:.0f}% of the condors' credit" in finding
    at = body.index(f'<div class="finding">{html.escape(finding)}</div>')
    # Before every table and the figure: the first thing after the title.
    assert at < body.index("<table") < body.index("<svg")
    assert body.index("<h2>") == body.index("<h2>Finding</h2>")
    # Then the scenario table, the headline move first, its reduction with the interval.
    table = body[body.index("<table", at) : body.index("</table>", at)]
    rows = re.findall(r"<tr><td>([^<]*)</td>", table)
    moves = [report_text.format_move(m["move"]) for m in scenario["moves"]]
    assert rows[0] == report_text.format_move(scenario["headline_move"]) + " *"
    assert sorted(r.removesuffix(" *") for r in rows) == sorted(moves)
    head = next(m for m in scenario["moves"] if m["move"] == scenario["headline_move"])
    reduction = report_text.format_reduction(head["reduction"]["cvar5"])
    assert html.escape(reduction) in table
    assert body.index("Short effective gamma on the same") < body.index("<svg")


def test_the_finding_is_at_the_top_of_the_terminal_summary(result: DryRunResult) -> None:
    from rich.console import Console

    text = summary_table(result)
    paragraphs = text.split("\n\n")
    assert paragraphs[0] == report_text.title(result) + " — synthetic history"
    assert paragraphs[1] == report_text.headline_finding(result)  # one line, verbatim
    assert paragraphs[2].startswith("Near-expiry scenario P&L")
    assert "\n-5% *  " in paragraphs[2]  # the headline move is the first row
    assert text.index("\nP&L  ") > text.index("Near-expiry scenario P&L")
    with open(os.devnull, "w") as sink:
        console = Console(record=True, width=100, file=sink)
        console.print(report_text.summary_rich(result))
    rendered = " ".join(console.export_text().split())
    finding = " ".join(report_text.headline_finding(result).split())
    assert finding in rendered
    assert (
        rendered.index(finding)
        < rendered.index("Near-expiry scenario")
        < rendered.index("Max drawdown")
    )


def _without_figures(result: DryRunResult) -> DryRunResult:
    """``result`` as if the run had had no near-expiry day: those figures are None."""
    summary = dict(result.run.summary)
    for key in list(summary):
        if key.startswith("near_expiry") and key not in ("near_expiry_dte", "near_expiry_days"):
            summary[key] = None
    summary["near_expiry_days"] = 0
    summary["hedge_premium_pct_of_credit"] = None
    return dataclasses.replace(
        result, run=dataclasses.replace(result.run, summary=summary), baseline=None
    )


def test_figures_with_no_data_say_no_data(result: DryRunResult) -> None:
    for kind in ("money", "dollars", "pct", "int", "gamma", "ratio"):
        assert report_text.format_value(None, kind) == "no data"
        assert report_text.format_value(float("nan"), kind) == "no data"
    assert report_text.format_value(0.0, "gamma") == "0.000"  # a measured zero stays one
    empty = {"value": None, "low": None, "high": None, "n": 0}
    assert report_text.format_reduction(empty) == "no data"
    assert report_text.format_reduction({**empty, "n": 12}) == "n/a"
    assert report_text.format_reduction({**empty, "n": 12, "value": 0.5}) == "50% [–]"
    full = {"value": 0.456, "low": -0.1, "high": 0.71, "n": 12}
    assert report_text.format_reduction(full) == "46% [-10%, 71%]"
    blank = _without_figures(result)
    rows = {r[0]: r[1] for r in report_text.summary_rows(blank)}
    assert rows["Near-expiry peak short effective gamma (DTE ≤ 7)"] == "no data"
    assert rows["Near-expiry mean short effective gamma (DTE ≤ 7)"] == "no data"
    assert rows["Hedge premium, % of condor credit"] == "no data"
    text = summary_table(blank)
    assert "no near-expiry days" in text and "no data" in text and "0.000" not in text
    assert "no condor credit to set it against" in report_text.hedge_cost_sentence(blank)
    page = _page(blank)
    assert '<td class="n">no data</td>' in page and "0.000" not in page


def _fit_cells(fit: dict[str, Any]) -> str:
    se = "no data" if fit["se"] is None else f"{fit['se']:.2g}"
    return (
        f'<td class="n">{fit["value"]:.3g}</td><td class="n">{fit["n"]:,}</td>'
        f'<td class="n">{se}</td><td>{fit["source"]}</td>'
        f"<td>{html.escape(fit.get('reason') or '')}</td>"
    )


def test_the_market_responses_table(result: DryRunResult) -> None:
    calibration = result.summary["calibration"]
    section = _section(_page(result), "Market responses")
    names = {
        "beta_down": "beta_down (VIX on SPX falls)",
        "beta_up": "beta_up (VIX on SPX rallies)",
        "futures_response": "VIX futures response w (ln F′/F per ln VIX′/VIX)",
        "option_vol_scale": "VIX option vol ÷ (VVIX / 100)",
        "option_vol": "VIX option vol without VVIX",
    }
    sources = []
    for key, name in names.items():
        fits = calibration[key] if isinstance(calibration[key], list) else [calibration[key]]
        for month, fit in enumerate(fits, 1):
            flag = ' class="flag"' if fit["source"] != "fitted" else ""
            where = str(month) if key not in ("beta_down", "beta_up") else ""
            row = f'<tr{flag}><td>{name}</td><td class="n">{where}</td>{_fit_cells(fit)}</tr>'
            assert row in section, row
            sources.append(fit["source"])
    assert section.count("<tr") == len(sources) + 1  # and the header
    assert "fitted" in sources  # 18 months: most fits hold, some fall back to defaults
    # Defaults and config values are flagged, with the reason.
    calibration = dict(result.calibration)
    calibration["beta_up"] = {"value": 3.0, "n": 0, "se": None, "source": "config"}
    months = list(calibration["option_vol"])
    months[8] = {"value": 0.27, "n": 0, "se": None, "source": "default", "reason": "no vx9 data"}
    calibration["option_vol"] = months
    section = _section(
        _page(dataclasses.replace(result, calibration=calibration)), "Market responses"
    )
    assert (
        '<tr class="flag"><td>beta_up (VIX on SPX rallies)</td><td class="n"></td>'
        '<td class="n">3</td><td class="n">0</td><td class="n">no data</td><td>config</td>'
    ) in section
    assert (
        '<tr class="flag"><td>VIX option vol without VVIX</td><td class="n">9</td>'
        '<td class="n">0.27</td><td class="n">0</td><td class="n">no data</td><td>default</td>'
        "<td>no vx9 data</td></tr>"
    ) in section
    defaults = section.count("<td>default</td>")
    assert "1 config" in section and f"{defaults} default" in section
    empty = _section(_page(dataclasses.replace(result, calibration={})), "Market responses")
    assert "no data" in empty and "<table" not in empty


def test_the_stress_windows_table(result: DryRunResult, solo: DryRunResult) -> None:
    (window,) = result.summary["stress_windows"]  # 2010-01 .. 2011-06: the flash crash
    assert window["name"] == "2010 flash crash"
    section = _section(_page(result), "Stress windows")
    cells = [
        window["name"], window["start"], window["end"], str(window["days"]),
        report_text.format_value(window["book"]["pnl"], "money"),
        report_text.format_value(window["book"]["max_drawdown"], "money"),
        report_text.format_value(window["baseline"]["pnl"], "money"),
        report_text.format_value(window["baseline"]["max_drawdown"], "money"),
    ]  # fmt: skip
    flat = re.sub(r"(<[^>]+>)+", "|", section)
    assert flat.count("|" + "|".join(html.escape(c) for c in cells) + "|") == 1
    assert "baseline max drawdown" in section
    alone = _section(_page(solo), "Stress windows")
    assert "2010 flash crash" in alone and "baseline P&amp;L" not in alone
    none = _section(_page(dataclasses.replace(result, stress_windows=[])), "Stress windows")
    assert "No named stress window" in none and "<table" not in none


def test_late_settlements_are_listed(result: DryRunResult) -> None:
    assert document.late_settlements(result.run) == []  # every synthetic day is a row
    assert "None: every position settled" in _section(_page(result), "Late settlements")
    leg = {
        "date": "2005-09-19", "trade_id": "T99", "rule": "", "action": "settle",
        "position": "C12", "instrument": "SPX call", "strike": 1220.0,
        "expiry": "2005-06-17", "quantity": 1, "mid": 17.91, "fill": 17.91,
        "commission": 0.0, "multiplier": 100.0, "cash_flow": -1791.0,
    }  # fmt: skip
    on_time = {**leg, "trade_id": "T98", "position": "C11", "date": "2005-06-17"}
    trades = [*result.run.trades, on_time, leg, {**leg, "instrument": "SPX put", "cash_flow": 0.0}]
    late = dataclasses.replace(
        result,
        run=dataclasses.replace(result.run, trades=trades),
        notes=[*result.notes, "book: C12 settled at SPX 1190.50, the last close before 2005-06-17"],
    )
    assert document.late_settlements(late.run) == [
        {
            "trade_id": "T99", "position": "C12", "instrument": "SPX", "expiry": "2005-06-17",
            "date": "2005-09-19", "days": 94, "cash_flow": -1791.0,
        }
    ]  # fmt: skip
    section = _section(_page(late), "Late settlements")
    assert (
        "<tr><td>book</td><td>C12</td><td>SPX</td><td>2005-06-17</td><td>2005-09-19</td>"
        '<td class="n">94</td><td class="n">-$1,791.00</td></tr>'
    ) in section
    assert "<li>book: C12 settled at SPX 1190.50, the last close before 2005-06-17</li>" in section
    assert "Settlements booked after the expiry" in summary_table(late)
    assert "Settlements booked after the expiry" not in summary_table(result)


def test_report_html_escapes_all_text(tmp_path: Path) -> None:
    book = tmp_path / "nasty.alvh"
    book.write_text(
        'rulebook "A <b>bold</b> & \\"quoted\\" book" version "<1>"\n'
        'description "<script>alert(1)</script>"\n'
        'rule open_condor "Open <when> flat & calm"\n'
        "  when condor.count == 0\n"
        "  then open iron condor near 45 days short delta 0.16 wings 50 points\n"
        "  # a comment with <tags> & ampersands\n",
        encoding="utf-8",
    )
    res = dryrun(str(book), start="2010-01-01", end="2010-03-31", baseline=None)
    page = (write_run(res, tmp_path / "run") / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "<b>bold" not in page and "<when>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Open &lt;when&gt; flat &amp; calm" in page
    assert "# a comment with &lt;tags&gt; &amp; ampersands" in page


def test_report_without_baseline(solo: DryRunResult, tmp_path: Path) -> None:
    res = solo
    out = write_run(res, tmp_path / "solo")
    assert not (out / "baseline").exists()
    doc = json.loads((out / "summary.json").read_text())
    assert "baseline" not in doc and doc["run"]["baseline"] is None
    page = (out / "report.html").read_text()
    assert "no baseline" in page and "No baseline was run" in page
    assert "vs baseline" not in summary_table(res)
    finding = report_text.headline_finding(res)
    assert f'<div class="finding">{html.escape(finding)}</div>' in page
    assert (
        "the book's expected loss (the mean of its losses, a gain counting as none) under a "
        "-5% SPX move was" in finding
    )
    table = _section(page, "Finding")
    assert (
        "<th>SPX move</th><th>expected loss</th><th>CVaR 5%</th><th>mean</th><th>worst</th>"
        in table
    )
    assert "book vs baseline" not in table


# --------------------------------------------------------------- atomicity


def test_an_interrupted_write_leaves_the_previous_outputs(
    result: DryRunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "run"
    write_run(result, target)
    before = _tree(target)

    def boom(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("interrupted while rendering the page")

    # report.html is written last: everything else is already in the temporary directory.
    monkeypatch.setattr(report_html, "render_html", boom)
    with pytest.raises(RuntimeError, match="interrupted"):
        write_run(result, target)
    assert _tree(target) == before
    assert _leftovers(tmp_path) == []


def test_an_interrupted_first_write_leaves_nothing(
    result: DryRunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "trades_csv", boom)
    with pytest.raises(KeyboardInterrupt):
        write_run(result, tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_swap_puts_the_previous_outputs_back(
    result: DryRunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "run"
    write_run(result, target)
    before = _tree(target)
    real_rename = os.rename

    def rename(src: Any, dst: Any) -> None:
        if Path(dst) == target and Path(src).name.endswith(".tmp"):
            raise OSError("disk gone")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError, match="disk gone"):
        write_run(result, target)
    assert _tree(target) == before
    assert _leftovers(tmp_path) == []


def test_a_directory_that_is_not_a_run_is_never_replaced(
    result: DryRunResult, tmp_path: Path
) -> None:
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(RunDirectoryError, match="not a dry-run directory"):
        write_run(result, precious)
    assert (precious / "thesis.tex").read_text() == "years of work"
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunDirectoryError, match="not a directory"):
        check_run_directory(tmp_path / "file")
    (tmp_path / "empty").mkdir()
    check_run_directory(tmp_path / "empty")  # an empty directory is fine
    assert write_run(result, tmp_path / "empty") == tmp_path / "empty"
    assert (tmp_path / "empty" / "report.html").is_file()


def test_result_write_is_write_run(result: DryRunResult, run_dir: Path, tmp_path: Path) -> None:
    out = result.write(tmp_path / "via-api")
    assert out == tmp_path / "via-api"
    assert _tree(out) == _tree(run_dir)


# ------------------------------------------------------- figure and summary

TITLES = [
    "Near-expiry P&L under a -5% SPX move, paired by day",
    "Near-expiry P&L by SPX move: CVaR 5 % and expected loss",
    "Hedge notional by VIX futures month (after each day's actions)",
    "Cumulative P&L: condors vs hedge",
    "SPX and VIX, with the trades applied",
    "Equity",
    "Drawdown from the running peak",
    "Effective gamma, weekly extremes (whole-book revaluation, VIX hedges included)",
]


def _axes(fig: Any) -> dict[str, Any]:
    return {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_title(loc="left")}


def _texts(ax: Any) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_figure_has_its_panels(result: DryRunResult) -> None:
    import matplotlib.pyplot as plt
    import numpy as np

    before = plt.get_fignums()
    fig = result.plot()
    assert plt.get_fignums() == before  # no pyplot state
    axes = _axes(fig)
    assert list(axes) == TITLES
    # (a) one dot per near-expiry day, book (y) against baseline (x), paired by date.
    scatter = axes[TITLES[0]]
    book, base = chart_panels.scenario_pairs(result)
    (dots,) = [c for c in scatter.collections if c.get_label().startswith("a day")]
    np.testing.assert_array_equal(dots.get_offsets(), np.column_stack([base, book]))
    assert len(book) == result.summary["comparison"]["scenario"]["days"]
    # (b) the notional by month, stacked; (c) condors, hedge, total.
    labels = axes[TITLES[2]].get_legend_handles_labels()[1]
    assert labels and all(label.startswith("VIX month ") for label in labels)
    labels = axes[TITLES[3]].get_legend_handles_labels()[1]
    assert labels == ["book: total", "book: condors", "book: hedge", "baseline: no hedge: total"]
    # (d) SPX and VIX on their own axes, trade markers on the day they were applied.
    market = axes[TITLES[4]]
    (vix,) = [ax for ax in fig.axes if ax.get_ylabel() == "VIX"]
    assert vix is not market and market.get_ylabel() == "SPX"
    rolls = {a["date"] for a in document.applied_actions(result.run, ["roll_condor"])}
    moves = {a["date"] for a in document.applied_actions(result.run, ["shift_hedge"])}
    assert rolls and moves
    (roll,) = [c for c in market.collections if c.get_label().startswith("roll (")]
    (shift,) = [c for c in vix.collections if c.get_label().startswith("hedge migration (")]
    assert (len(roll.get_offsets()), len(shift.get_offsets())) == (len(rolls), len(moves))
    # (f) effective gamma as weekly extremes: one step per week, not one per day.
    gamma = axes[TITLES[7]]
    (line,) = [ln for ln in gamma.get_lines() if ln.get_label() == "baseline: no hedge: long Γ"]
    days = chart_panels.dates(result.run)
    weeks = np.unique(days - ((days.astype(np.int64) - 4) % 7).astype("timedelta64[D]"))
    assert len(line.get_xdata()) == len(weeks) + 1 < len(days)
    assert not any(_texts(ax) for ax in fig.axes)  # every panel has data
    assert chart.figure_png(result) == chart.figure_png(result)


def test_figure_is_laid_out_without_measuring_its_text(result: DryRunResult) -> None:
    from matplotlib.text import Text

    # A fixed layout, no mathtext: the two costs that made the figure 3.3 s of CPU.
    fig = result.plot()
    assert fig.get_layout_engine() is None
    gamma = _axes(fig)[TITLES[7]]
    labels = [gamma.yaxis.get_major_formatter()(v, 0) for v in (-1.0, -0.1, 0.0, 0.1, 1.0)]
    assert labels == ["\u22121", "\u22120.1", "0", "0.1", "1"]  # plain text, no $…$
    # Every text written when the figure is made (tick labels come at drawing, from the
    # formatters above, which write no `$`).
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    assert len(texts) > 20 and not any(t.get_parse_math() for t in texts)
    right = max(ax.get_position().x1 for ax in fig.axes)
    assert right < 0.8  # the legends drawn outside the panels have their margin


def without_hedge_held(result: DryRunResult) -> DryRunResult:
    """``result`` with no hedge notional on any day (the figure's hedge panel has no data)."""
    return dataclasses.replace(
        result,
        run=dataclasses.replace(
            result.run,
            daily_rows=[
                {k: (0.0 if k.startswith("hedge_notional") else v) for k, v in r.items()}
                for r in result.run.daily_rows
            ],
        ),
    )


def test_figure_panels_without_data_say_so(solo: DryRunResult) -> None:
    axes = _axes(solo.plot())
    assert list(axes) == TITLES
    assert _texts(axes[TITLES[0]]) == ["no data\n(no baseline to pair with)"]
    assert _texts(axes[TITLES[1]]) == []  # the book's own figures, without a baseline
    assert solo.run.summary["near_expiry_days"] > 0
    axes = _axes(_without_figures(solo).plot())
    assert _texts(axes[TITLES[1]]) == ["no data\n(no near-expiry day)"]
    no_hedge = without_hedge_held(solo)
    axes = _axes(no_hedge.plot())
    assert _texts(axes[TITLES[2]]) == ["no data\n(no hedge held)"]


def test_extremes_bin_by_week_and_by_month() -> None:
    import numpy as np

    # Fri 2010-01-01, Mon 4, Wed 6, Fri 8, Mon 11, Tue 2 Feb.
    days = np.array(
        ["2010-01-01", "2010-01-04", "2010-01-06", "2010-01-08", "2010-01-11", "2010-02-02"],
        dtype="datetime64[D]",
    )
    values = np.array([1.0, 3.0, np.nan, 2.0, -1.0, 5.0])
    edges, peaks = chart_panels.extremes(days, values, "max", "week")
    assert edges.astype(str).tolist() == [
        "2009-12-28", "2010-01-04", "2010-01-11", "2010-02-01", "2010-02-08",
    ]  # fmt: skip
    assert peaks.tolist() == [1.0, 3.0, -1.0, 5.0, 5.0]  # NaN ignored; the last repeated
    edges, lows = chart_panels.extremes(days, values, "min", "month")
    assert edges.astype(str).tolist() == ["2010-01-01", "2010-02-01", "2010-03-01"]
    assert lows.tolist() == [-1.0, 5.0, 5.0]


def test_long_runs_bin_gamma_by_month(result: DryRunResult) -> None:
    assert chart_panels.gamma_bin(result.run) == "week"
    rows = [{"date": f"{y}-01-02"} for y in range(2000, 2008)]  # 7 years: 365 weeks
    assert chart_panels.gamma_bin(dataclasses.replace(result.run, daily_rows=rows)) == "month"


def test_summary_table_plain_and_rich(result: DryRunResult) -> None:
    from rich.console import Console

    text = summary_table(result)
    assert "\x1b[" not in text
    assert text.startswith("ALVH core 1.0 — 2010-01-04 .. 2011-06-30")
    assert "baseline: no hedge" in text
    pnl = report_text.format_value(result.run.summary["total_pnl"], "money")
    assert pnl in text
    for label in ("P&L", "Max drawdown", "Rolls", "Hedge migrations", "Near-expiry peak short"):
        assert label in text
    tables = [line for line in text.splitlines() if "  " in line]  # sentences: one line each
    assert len(tables) > 15 and max(len(line) for line in tables) <= 100
    with open(os.devnull, "w") as sink:
        console = Console(record=True, width=100, file=sink)
        console.print(report_text.summary_rich(result))
    rendered = console.export_text()
    assert pnl in rendered and "vs baseline" in rendered


def _with_cost(result: DryRunResult, **cost: Any) -> DryRunResult:
    comparison = dict(result.comparison or {})
    comparison["hedge_cost"] = {**comparison["hedge_cost"], **cost}
    return dataclasses.replace(result, comparison=comparison)


@pytest.mark.parametrize(
    ("cost", "expected"),
    [
        (
            {"premium_per_year": 8473.74, "premium_pct_of_credit": 62.15,
             "condor_credit_per_year": 13634.03, "hedge_pnl_per_year": -210.31},
            "The hedge cost $8,474 a year in premium (62% of the condors' credit of $13,634 a "
            "year); its P&L was -$210 a year.",
        ),
        (
            {"premium_per_year": 0.0, "premium_pct_of_credit": None, "hedge_pnl_per_year": 0.0},
            "The hedge cost $0 a year in premium (no condor credit to set it against); its P&L "
            "was $0 a year.",
        ),
        ({"premium_per_year": None}, "The hedge's cost a year: no data."),
    ],
)  # fmt: skip
def test_the_hedge_cost_sentence(result: DryRunResult, cost: dict[str, Any], expected: str) -> None:
    changed = _with_cost(result, **cost)
    assert report_text.hedge_cost_sentence(changed) == expected
    assert report_text.headline_finding(changed).endswith(" " + expected)


# ------------------------------------------------------------- real history


def test_the_report_on_real_history(shared_dir: Path, tmp_path: Path) -> None:
    from alvh_dsl.market.history import load_history

    history = load_history(shared_dir / "data" / "history_2004_2023.csv", gaps="keep")
    res = dryrun(str(CORE), history, start="2004-04-19", end="2008-12-31")
    page = (write_run(res, tmp_path / "real") / "report.html").read_text(encoding="utf-8")
    body = page[page.index("<body>") :]
    assert body.index('<div class="finding">') < body.index("<table")
    assert "market history" in page
    responses = _section(page, "Market responses")
    assert "<td>fitted</td>" in responses
    stress = _section(page, "Stress windows")
    assert "Lehman / 2008 crash" in stress
    # The early file has gaps of weeks: an expiry inside one settles on the next row.
    late = document.late_settlements(res.run)
    assert late and all(e["date"] > e["expiry"] for e in late)
    section = _section(page, "Late settlements")
    for e in late:
        assert f"<td>{e['position']}</td>" in section
    assert list(_axes(res.plot())) == TITLES  # 4.7 years: still weekly
