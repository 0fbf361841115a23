"""The run directory, report.html, the figure and the terminal summary.

One short dry-run (18 months of the synthetic history) is shared by the module; each
test writes where it needs to.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import json
import os
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from alvh_dsl.api import dryrun
from alvh_dsl.dryrun.report import chart, document, files
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
    assert {"equity", "eff_gamma_max", "eff_gamma_max_after", "front_dte"} <= set(frame.columns)
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
    sources = re.findall(r'\bsrc="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert re.findall(r'\bhref="([^"]*)"', page) == []
    png = base64.b64decode(sources[0].split(",", 1)[1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_report_html_shows_the_figures_and_the_book(result: DryRunResult, run_dir: Path) -> None:
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    book, base = result.run.summary, result.baseline.summary  # type: ignore[union-attr]
    assert "<h1>ALVH core 1.0</h1>" in page
    for value in (
        report_text.format_value(book["total_pnl"], "money"),
        report_text.format_value(base["total_pnl"], "money"),
        report_text.format_value(book["max_drawdown"], "money"),
        report_text.format_value(book["worst_day"], "money"),
        report_text.format_value(book["near_expiry_peak_eff_gamma"], "gamma"),
        report_text.format_value(base["near_expiry_peak_eff_gamma"], "gamma"),
        report_text.format_value(book["hedge_premium_paid"], "money"),
    ):
        assert html.escape(value) in page, value
    ratio = result.summary["comparison"]["near_expiry_peak_eff_gamma_ratio"]
    assert f"a ratio of {ratio:.2f}" in page
    if "near_expiry_peak_short_eff_gamma" in book:  # the short side, where the engine has it
        short = report_text.format_value(book["near_expiry_peak_short_eff_gamma"], "gamma")
        assert (
            f'<td>Near-expiry peak short effective gamma (DTE ≤ 7)</td><td class="n">{short}'
            in page
        )
    for label in ("Rolls", "Hedge migrations", "Near-expiry peak |effective gamma|"):
        assert html.escape(label) in page
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


def test_report_without_baseline(tmp_path: Path) -> None:
    res = dryrun(str(CORE), start="2010-01-01", end="2010-06-30", baseline=None)
    out = write_run(res, tmp_path / "solo")
    assert not (out / "baseline").exists()
    doc = json.loads((out / "summary.json").read_text())
    assert "baseline" not in doc and doc["run"]["baseline"] is None
    page = (out / "report.html").read_text()
    assert "no baseline" in page and "No baseline was run" in page
    assert "vs baseline" not in summary_table(res)


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


def test_figure_has_its_panels_and_markers(result: DryRunResult) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = result.plot()
    assert plt.get_fignums() == before  # no pyplot state
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[:4] == [
        "Equity",
        "Drawdown from the running peak",
        "Book model greeks, as the rules saw them",
        "Effective gamma as the rules saw it (spot–vol grid, VIX hedges included)",
    ]
    gamma_ax = fig.axes[3]
    labels = gamma_ax.get_legend_handles_labels()[1]
    assert "baseline: no hedge: largest |Γ|" in labels
    rolls = result.run.summary["rolls"]
    assert rolls > 0 and "roll applied" in labels
    (markers,) = [c for c in gamma_ax.collections if c.get_label() == "roll applied"]
    assert len(markers.get_offsets()) == len(  # type: ignore[arg-type]
        {a["date"] for a in document.applied_actions(result.run, ["roll_condor"])}
    )
    assert chart.figure_png(result) == chart.figure_png(result)


def test_summary_table_plain_and_rich(result: DryRunResult) -> None:
    from rich.console import Console

    text = summary_table(result)
    assert "\x1b[" not in text
    assert text.startswith("ALVH core 1.0 — 2010-01-04 .. 2011-06-30")
    assert "baseline: no hedge" in text
    pnl = report_text.format_value(result.run.summary["total_pnl"], "money")
    assert pnl in text
    for label in ("P&L", "Max drawdown", "Rolls", "Hedge migrations", "Near-expiry peak"):
        assert label in text
    assert "Near expiry (front condor DTE ≤ 7" in text
    with open(os.devnull, "w") as sink:
        console = Console(record=True, width=100, file=sink)
        console.print(report_text.summary_rich(result))
    rendered = console.export_text()
    assert pnl in rendered and "vs baseline" in rendered


def _fake(ratio: float | None, days: int, label: str = "baseline: no hedge") -> Any:
    book = {"near_expiry_dte": 7, "near_expiry_days": days, "near_expiry_peak_eff_gamma": 1.0}
    base = {"near_expiry_peak_eff_gamma": 2.0}
    return SimpleNamespace(
        run=SimpleNamespace(summary=book),
        baseline=SimpleNamespace(summary=base, label=label),
        summary={"comparison": {"near_expiry_peak_eff_gamma_ratio": ratio}},
    )


@pytest.mark.parametrize(
    ("ratio", "days", "expected"),
    [
        (0.5, 30, "50% lower than the baseline. The ALVH claim under test is 40–60% less"),
        (0.5, 30, "shows a reduction within that range."),
        (0.25, 30, "shows a larger reduction than claimed."),
        (0.8, 30, "shows a smaller reduction than claimed."),
        (6.23, 30, "523% higher than the baseline"),
        (6.23, 30, "shows no reduction: the hedged book carries more"),
        (0.5, 3, "The figure rests on 3 day(s) only."),
        (None, 0, "no near-expiry days, so the ratio cannot be measured"),
        (None, 5, "the ratio is undefined"),
    ],
)
def test_gamma_finding_says_what_the_data_says(
    ratio: float | None, days: int, expected: str
) -> None:
    assert expected in report_text.gamma_finding(_fake(ratio, days))


def test_gamma_finding_against_another_book_makes_no_claim() -> None:
    text = report_text.gamma_finding(_fake(0.5, 30, "baseline: other.alvh"))
    assert "for the baseline (other.alvh)" in text and "claim" not in text
