"""alvh sweep / alvh_dsl.sweep: grids, rows equal to single dry-runs, the cache, Dask,
the out-of-sample report, the page (docs/sweep.md)."""

from __future__ import annotations

import itertools
import json
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

import alvh_dsl
from alvh_dsl.api import load_checked
from alvh_dsl.cli.main import cli
from alvh_dsl.sweep import table
from alvh_dsl.sweep.grid import GridError, load_sweep_file, parse_grid
from alvh_dsl.sweep.table import FIGURES, figures, rank_and_frontier

ROOT = Path(__file__).resolve().parents[1]
CORE = str(ROOT / "rulebooks" / "alvh_core.alvh")
# A short synthetic window: four variants run in a few seconds.
WINDOW = {"start": "2010-01-04", "end": "2010-03-31"}
GRID = {"roll_dte": ["5d", "10d"], "hedge_budget": "1%..5%/4%"}

distributed = pytest.importorskip("distributed")


def test_the_sweep_package_calls_the_api_function(monkeypatch: pytest.MonkeyPatch) -> None:
    import alvh_dsl.api
    import alvh_dsl.sweep.run  # the sub-package is now the attribute of alvh_dsl

    monkeypatch.setattr(alvh_dsl.api, "sweep", lambda *a, **k: ("ran", a, k))
    assert alvh_dsl.sweep("b.alvh", {"x": [1]}, workers=0) == ("ran", ("b.alvh", {"x": [1]}),
                                                               {"workers": 0})  # fmt: skip


# ------------------------------------------------------------------ the grid


@pytest.fixture(scope="module")
def program() -> Any:
    return load_checked(CORE)


@pytest.mark.parametrize(
    ("argument", "values"),
    [
        ("roll_dte=5d,7d,10d", ["5d", "7d", "10d"]),
        ("hedge_budget=0.25%..1%/0.25%", ["0.25%", "0.5%", "0.75%", "1%"]),
        ("short_delta=0.1..0.3/0.1", ["0.1", "0.2", "0.3"]),  # decimal steps: no 0.30000000004
        ("wing_width=25 points..50 points/25 points", ["25 points", "50 points"]),
        ("roll_dte=5d..9d/2d, 12d", ["5d", "7d", "9d", "12d"]),
        ("vix_trigger=20..21/0.5", ["20", "20.5", "21"]),
        ("roll_dte=5d..6d/2d", ["5d"]),  # HIGH is not on a step: it is not reached
    ],
)
def test_grid_values(program: Any, argument: str, values: list[str]) -> None:
    grid = parse_grid([argument], program)
    assert list(grid.axes[0].values) == values


@pytest.mark.parametrize(
    ("arguments", "code", "words"),
    [
        (["roll_dte=5%"], "E502", "`--grid roll_dte=5%`: `roll_dte` is in days, not percent"),
        (["roll_dte=5d,7%"], "E502", "`--grid roll_dte=5d,7%`"),
        (["hedge_budget=1%..5d/1%"], "E502", "different units"),
        (["wing_width=$5"], "E502", "in points, not dollars"),
        (["roll_dtee=5d"], "E501", "the book has no param `roll_dtee`"),
        (["roll_dte"], "E503", "expected NAME=V1,V2"),
        (["roll_dte=x"], "E503", "not a value"),
        (["roll_dte=5d,,7d"], "E503", "an empty value"),
        (["roll_dte=5d..9d"], "E503", "needs a /STEP"),
        (["roll_dte=9d..5d/1d"], "E503", "HIGH is below LOW"),
        (["roll_dte=5d..9d/0d"], "E503", "above zero"),
        (["roll_dte=5d,5d"], "E503", "listed twice"),
        (["roll_dte=5d", "roll_dte=7d"], "E503", "has another --grid"),
        ([], "E503", "at least one --grid"),
    ],
)
def test_grid_errors(program: Any, arguments: list[str], code: str, words: str) -> None:
    with pytest.raises(GridError) as caught:
        parse_grid(arguments, program)
    assert [d.code for d in caught.value.diagnostics] == [code]
    assert words in caught.value.diagnostics[0].message


def test_grid_sample_is_seeded_and_in_grid_order(program: Any) -> None:
    full = parse_grid(["roll_dte=1d..20d/1d", "hedge_budget=1%..5%/1%"], program)
    picked = parse_grid(full_args := ["roll_dte=1d..20d/1d", "hedge_budget=1%..5%/1%"], program,
                        sample=7, seed=3).variants()  # fmt: skip
    again = parse_grid(full_args, program, sample=7, seed=3).variants()
    other = parse_grid(full_args, program, sample=7, seed=4).variants()
    every = full.variants()
    assert full.size == 100 and len(picked) == 7
    assert picked == again and picked != other
    assert sorted(picked, key=every.index) == picked


def test_sweep_file(tmp_path: Path, program: Any) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text('[grid]\nroll_dte = ["5d", "7d"]\nhedge_budget = "1%..3%/1%"\n'
                    "[sample]\nn = 4\nseed = 2\n")  # fmt: skip
    grid, n, seed = load_sweep_file(path)
    assert (n, seed) == (4, 2)
    assert parse_grid(grid, program, sample=n, seed=seed).size == 6
    path.write_text("[grids]\nroll_dte = 5\n")
    with pytest.raises(GridError) as caught:
        load_sweep_file(path)
    assert {d.code for d in caught.value.diagnostics} == {"E503"}


# ------------------------------------------------------------------ sweeps


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A real local cluster of two worker processes, started here."""
    local = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    yield local
    local.close()


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    """The 2x2 sweep, run in this process (``workers=0``): the reference the cluster runs
    must equal."""
    out = tmp_path_factory.mktemp("sweep")
    return alvh_dsl.sweep(CORE, GRID, out=out, workers=0, **WINDOW), out


def test_rows_equal_single_dryruns(swept: tuple[pd.DataFrame, Path]) -> None:
    frame, _ = swept
    assert list(frame["variant"]) == [0, 1, 2, 3]
    assert list(zip(frame["roll_dte"], frame["hedge_budget"], strict=True)) == [
        ("5d", "1%"), ("5d", "5%"), ("10d", "1%"), ("10d", "5%"),
    ]  # fmt: skip
    for _, row in frame.iterrows():
        params = {"roll_dte": row["roll_dte"], "hedge_budget": row["hedge_budget"]}
        result = alvh_dsl.dryrun(CORE, params=params, **WINDOW)
        single = figures(result.summary)
        got = {k: (None if pd.isna(row[k]) else row[k]) for k in FIGURES}
        assert got == single, params
    # A notebook shows a result in a line, or a small table (not every daily row).
    assert len(repr(result)) < 400 and repr(result).startswith("DryRunResult('ALVH core'")
    assert "baseline: no hedge" in repr(result)
    page = result._repr_html_()
    assert page.count("<tr>") == 8 and "max drawdown" in page
    # The variants differ where the hedge budget does: the grid reached the runs.
    assert frame["hedge_cost_per_year"][0] != frame["hedge_cost_per_year"][1]


def test_the_command_reproduces_the_row(swept: tuple[pd.DataFrame, Path], tmp_path: Path) -> None:
    frame, _ = swept
    row = frame.iloc[3]
    words = shlex.split(row["command"])
    assert words[:3] == ["alvh", "dryrun", CORE]
    result = CliRunner().invoke(
        cli, [*words[1:], "--out", str(tmp_path / "run"), "--format", "json"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert figures(summary) == {k: (None if pd.isna(row[k]) else row[k]) for k in FIGURES}


def test_resume_from_the_cache(swept: tuple[pd.DataFrame, Path], tmp_path: Path) -> None:
    frame, out = swept
    again = alvh_dsl.sweep(CORE, GRID, out=out, workers=0, **WINDOW)
    assert again.attrs["sweep"]["computed"] == 0 and again.attrs["sweep"]["cached"] == 4
    pd.testing.assert_frame_equal(again, frame)
    # An interrupted sweep: one result missing, one run computed, the same rows.
    copy = tmp_path / "copy"
    (copy / "cache").mkdir(parents=True)
    cached = sorted((out / "cache").glob("*.json"))
    assert len(cached) == 4
    for path in cached[1:]:
        (copy / "cache" / path.name).write_text(path.read_text())
    resumed = alvh_dsl.sweep(CORE, GRID, out=copy, workers=0, **WINDOW)
    assert resumed.attrs["sweep"]["computed"] == 1
    assert (copy / "sweep.csv").read_bytes() == (out / "sweep.csv").read_bytes()


def test_same_rows_on_a_cluster_started_here(
    swept: tuple[pd.DataFrame, Path], cluster: Any, tmp_path: Path
) -> None:
    frame, out = swept
    with distributed.Client(cluster) as client:
        on_cluster = alvh_dsl.sweep(CORE, GRID, client=client, **WINDOW)
    pd.testing.assert_frame_equal(on_cluster, frame)
    # The CLI against the same scheduler, by address: the same bytes.
    args = ["sweep", CORE, "--grid", "roll_dte=5d,10d", "--grid", "hedge_budget=1%..5%/4%",
            "--from", WINDOW["start"], "--to", WINDOW["end"], "--out", str(tmp_path / "cli"),
            "--scheduler", cluster.scheduler_address]  # fmt: skip
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "4 run(s) computed" in result.output
    assert (tmp_path / "cli" / "sweep.csv").read_bytes() == (out / "sweep.csv").read_bytes()


def test_the_default_starts_its_own_local_cluster(swept: tuple[pd.DataFrame, Path]) -> None:
    frame, _ = swept
    # One variant on a cluster the sweep starts (and closes) itself, one worker process.
    own = alvh_dsl.sweep(CORE, {"roll_dte": ["10d"], "hedge_budget": ["5%"]}, workers=1, **WINDOW)
    expected = frame.iloc[[3]].drop(columns=["variant", "rank", "frontier"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(own.drop(columns=["variant", "rank", "frontier"]), expected)


def test_split_ranks_in_sample_and_reports_out_of_sample(tmp_path: Path) -> None:
    frame = alvh_dsl.sweep(
        CORE, {"hedge_budget": ["1%", "5%", "20%"]}, start="2010-01-04", end="2010-04-30",
        split="2010-03-01", workers=0, out=tmp_path,
    )  # fmt: skip
    report = frame.attrs["sweep"]
    assert report["variants_tried"] == 3 and report["ranked_on"] == "in"
    best = frame.loc[frame["rank"] == 1].iloc[0]
    assert best["in_pnl"] == frame["in_pnl"].max()
    assert report["best_out_of_sample"] == best["out_pnl"]
    expected_rank = 1 + int((frame["out_pnl"] > best["out_pnl"]).sum())
    assert report["best_out_of_sample_rank"] == expected_rank
    assert "3 variant(s) tried" in report["text"] and "Out of sample" in report["text"]

    # The P&L in dollars as a desk writes them, not in exponent form.
    def dollars(x: float) -> str:
        return f"-${-x:,.0f}" if x < 0 else f"${x:,.0f}"

    assert f"({dollars(best['in_pnl'])})" in report["text"]
    assert f"gives {dollars(best['out_pnl'])}," in report["text"] and "e+0" not in report["text"]
    assert "--to 2010-02-28" in best["in_command"] and "--from 2010-03-01" in best["out_command"]
    assert {c for c in frame.columns if c.startswith("out_")} >= {f"out_{f}" for f in FIGURES}
    page = (tmp_path / "sweep.html").read_text()
    assert report["text"].split(";")[0] in page


@pytest.mark.parametrize(
    ("value", "figure", "text"),
    [
        (29070.46, "pnl", "$29,070"),
        (-1234.4, "max_drawdown", "-$1,234"),
        (12.345, "cagr_pct", "12.35 %"),
        (0.4213, "crash_loss_reduction", "42.1 %"),
        (-0.05, "crash_loss_reduction_low", "-5.0 %"),
        (123456.0, "rolls", "123,456"),
        (2.5, "", "2.5"),
        (0.000123, "", "0.000123"),
        (None, "pnl", "n/a"),
    ],
)
def test_report_figures_read_as_a_desk_writes_them(value: Any, figure: str, text: str) -> None:
    assert table._fmt(value, figure) == text


def test_walk_forward_folds(tmp_path: Path) -> None:
    frame = alvh_dsl.sweep(
        CORE, {"hedge_budget": ["1%", "20%"]}, start="2010-01-04", end="2010-04-30", folds=3,
        workers=0, out=tmp_path,
    )  # fmt: skip
    report = frame.attrs["sweep"]
    assert [(f["in"], f["out"]) for f in report["folds"]] == [("f1", "f2"), ("f2", "f3")]
    for fold in report["folds"]:
        here, after = frame[f"{fold['in']}_pnl"], frame[f"{fold['out']}_pnl"]
        best = int(here.idxmax())
        assert fold["best_variant"] == best
        assert fold["best_out_of_sample_rank"] == 1 + int((after > after[best]).sum())
    # Consecutive parts, no day in two of them; each with its own reproducing command.
    ends = [shlex.split(frame[f"f{k}_command"][0]) for k in (1, 2, 3)]
    spans = [(w[w.index("--from") + 1], w[w.index("--to") + 1]) for w in ends]
    assert spans[0][0] == "2010-01-04" and spans[-1][1] == "2010-04-30"
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))
    assert "walk-forward over 3 parts" in report["text"] and "picking at random" in report["text"]


def test_html_is_self_contained(swept: tuple[pd.DataFrame, Path]) -> None:
    frame, out = swept
    page = (out / "sweep.html").read_text()
    assert "http" not in page and "<link" not in page and "src=" not in page
    assert '<table id="rows">' in page and 'id="heat"' in page and "Frontier:" in page
    data = json.loads(page.split('id="data">')[1].split("</script>")[0])
    assert [r["command"] for r in data["rows"]] == list(frame["command"])
    assert data["axes"] == ["roll_dte", "hedge_budget"]
    pd.testing.assert_frame_equal(pd.read_parquet(out / "sweep.parquet"), frame)


def test_rank_and_frontier() -> None:
    frame = pd.DataFrame(
        {
            "variant": [0, 1, 2, 3, 4],
            "pnl": [5.0, 9.0, None, 9.0, 1.0],
            "hedge_cost_per_year": [100.0, 200.0, 50.0, 100.0, 300.0],
            "crash_loss_reduction": [0.2, 0.5, 0.1, 0.3, 0.4],
        }
    )
    ranked = rank_and_frontier(frame, "pnl", "all")
    assert list(ranked["rank"]) == [3, 1, 5, 2, 4]  # ties by variant, no figure last
    # 3 dominates 0 (same cost, more reduction); 4 costs more than 1 for less.
    assert list(ranked["frontier"]) == [False, True, True, True, False]
    cheapest = rank_and_frontier(frame, "hedge_cost_per_year", "all")
    assert list(cheapest["rank"]) == [2, 4, 1, 3, 5]  # smaller is better


def test_cli_errors_exit_2() -> None:
    result = CliRunner().invoke(cli, ["sweep", CORE, "--grid", "roll_dte=5%"])
    assert result.exit_code == 2
    assert "E502" in result.output and "`--grid roll_dte=5%`" in result.output


def test_docs_example(tmp_path: Path) -> None:
    """The worked example of docs/sweep.md, run as written there (in this process)."""
    text = (ROOT / "docs" / "sweep.md").read_text()
    block = text.split("<!-- example -->")[1].split("```sh")[1].split("```")[0]
    words = shlex.split(block.replace("\\\n", " "))
    assert words[:2] == ["alvh", "sweep"]
    words = [w.replace("rulebooks/", f"{ROOT}/rulebooks/") for w in words]
    result = CliRunner().invoke(
        cli, [*words[1:], "--out", str(tmp_path), "--workers", "0"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "variant(s) tried" in result.output
    assert (tmp_path / "sweep.html").is_file() and (tmp_path / "sweep.csv").is_file()


@pytest.mark.shared
def test_done_when_on_real_history(shared_dir: Path, cluster: Any, tmp_path: Path) -> None:
    """The issue's command, a small grid on a short window of the real history, on a
    scheduler started here and in this process: the same rows."""
    history = str(shared_dir / "data" / "history_2004_2017.csv")
    args = ["sweep", CORE, "--grid", "roll_dte=5d,7d,10d", "--grid", "hedge_budget=5%",
            "--history", history, "--gaps", "ffill", "--from", "2008-09-01",
            "--to", "2008-11-28"]  # fmt: skip
    runner = CliRunner()
    first = runner.invoke(cli, [*args, "--out", str(tmp_path / "a"), "--scheduler",
                                cluster.scheduler_address], catch_exceptions=False)  # fmt: skip
    assert first.exit_code == 0, first.output
    second = runner.invoke(cli, [*args, "--out", str(tmp_path / "b"), "--workers", "0"])
    assert second.exit_code == 0, second.output
    csv = (tmp_path / "a" / "sweep.csv").read_bytes()
    assert csv == (tmp_path / "b" / "sweep.csv").read_bytes()
    assert (tmp_path / "a" / "sweep.html").is_file()
    frame = pd.read_csv(tmp_path / "a" / "sweep.csv")
    assert len(frame) == 3 and frame["pnl"].notna().all()
