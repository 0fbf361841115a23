"""alvh sweep's runs from a demanding user: windows that leave a part empty, a param both
fixed and swept, a corrupt cache, an unwritable --out, a scheduler nobody runs
(docs/sweep.md). Each bad input is a message and exit 2, never a traceback."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

import alvh_dsl
from alvh_dsl.cli.main import cli
from alvh_dsl.sweep.grid import GridError
from alvh_dsl.sweep.run import SchedulerUnreachable, WindowError
from alvh_dsl.sweep.tasks import ResultCache, SweepDirectoryError

ROOT = Path(__file__).resolve().parents[1]
CORE = str(ROOT / "rulebooks" / "alvh_core.alvh")
GRID = ["--grid", "hedge_budget=1%,5%"]


def _sweep(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sweep", CORE, *GRID, "--workers", "0", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        # The split on the window's first trading day, or after a --from on a weekend
        # before it: no in-sample day. Said as such, not as History.between's words.
        (["--from", "2010-01-04", "--to", "2010-01-29", "--split", "2010-01-04"],
         "--split 2010-01-04: the window's trading days are 2010-01-04 .. 2010-01-29"),
        (["--from", "2010-01-02", "--to", "2010-01-29", "--split", "2010-01-04"],
         "the window's trading days are 2010-01-04"),
        (["--from", "2010-01-04", "--to", "2010-01-29", "--split", "2010-02-01"],
         "both parts have days"),
        (["--from", "2010-01-04", "--to", "2010-01-29", "--folds", "12"],
         "--folds 12: the window has 19 trading day(s); 12 parts need at least 24"),
        (["--from", "2030-01-01", "--to", "2030-02-01"], "--from/--to: no rows between"),
    ],
)  # fmt: skip
def test_windows_without_days(args: list[str], words: str, tmp_path: Path) -> None:
    code, output = _sweep(*args, "--out", str(tmp_path))
    assert code == 2 and words in output
    assert "Invalid value for --from/--to/--split" not in output


def test_a_param_fixed_and_swept_is_an_error(tmp_path: Path) -> None:
    # The grid's value used to win silently over --param's.
    code, output = _sweep("--param", "hedge_budget=2%", "--out", str(tmp_path))
    assert code == 2 and "E503" in output
    assert "`--param hedge_budget=2%` and `--grid hedge_budget=...`" in output
    with pytest.raises(GridError):
        alvh_dsl.sweep(CORE, {"roll_dte": ["5d"]}, params={"roll_dte": "7d"}, workers=0)
    # A param fixed and another swept is fine (the test runs nothing past the check).


@pytest.mark.parametrize(
    "garbage",
    [b"garbage", b'{"pnl": "x"}', b"[]", b"", b"\xff\xfe", b'{"pnl": 1}', b'{"pnl": true}'],
)
def test_a_corrupt_cache_file_is_a_miss(tmp_path: Path, garbage: bytes) -> None:
    from alvh_dsl.sweep.table import FIGURES

    cache = ResultCache(tmp_path)
    good = '{"' + '": null, "'.join(sorted(FIGURES)) + '": null}'
    cache.put("k", good)
    assert cache.get("k") == good
    (tmp_path / "cache" / "k.json").write_bytes(garbage)
    assert cache.get("k") is None  # recomputed, never read into the table


def test_a_corrupt_cache_is_recomputed_to_the_same_rows(tmp_path: Path) -> None:
    args = ["--from", "2010-01-04", "--to", "2010-01-29", "--out", str(tmp_path)]
    assert _sweep(*args)[0] == 0
    reference = (tmp_path / "sweep.csv").read_bytes()
    for path in (tmp_path / "cache").glob("*.json"):
        path.write_text('{"pnl": "x"}')
    code, output = _sweep(*args)
    assert code == 0 and "2 run(s) computed, 0 from the cache" in output
    assert (tmp_path / "sweep.csv").read_bytes() == reference


def test_an_unwritable_out_fails_before_any_run(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    code, output = _sweep("--out", str(tmp_path / "afile" / "sub"))
    assert code == 2 and "cannot write" in output and "choose another --out" in output
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "cache").write_text("")  # a file where cache/ goes
    code, output = _sweep("--out", str(tmp_path / "o"))
    assert code == 2 and "cache" in output and "Traceback" not in output
    with pytest.raises(SweepDirectoryError):
        ResultCache(tmp_path / "afile")


def test_outputs_all_or_nothing(tmp_path: Path) -> None:
    # A directory where sweep.html goes: found before the parquet and CSV are replaced.
    args = ["--from", "2010-01-04", "--to", "2010-01-15", "--out", str(tmp_path)]
    (tmp_path / "sweep.html").mkdir(parents=True)
    code, output = _sweep(*args)
    assert code == 2 and "sweep.html" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "sweep.html"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_scheduler_nobody_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    import alvh_dsl.sweep.run as run

    monkeypatch.setattr(run, "CONNECT_TIMEOUT", "1s")
    address = f"tcp://127.0.0.1:{_free_port()}"
    code, output = _sweep("--from", "2010-01-04", "--to", "2010-01-08", "--scheduler", address,
                          "--out", str(tmp_path))  # fmt: skip
    assert code == 2 and f"--scheduler {address}: no Dask scheduler reached" in output
    code, output = _sweep("--from", "2010-01-04", "--to", "2010-01-08", "--scheduler", "nonsense",
                          "--out", str(tmp_path))  # fmt: skip
    assert code == 2 and "no Dask scheduler reached" in output
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    with pytest.raises(SchedulerUnreachable, match="DASK_SCHEDULER_ADDRESS"):
        alvh_dsl.sweep(CORE, {"hedge_budget": ["1%"]}, start="2010-01-04", end="2010-01-08")


def test_window_error_is_a_value_error() -> None:
    # The API's callers who caught ValueError still do.
    assert issubclass(WindowError, ValueError)


@pytest.mark.shared
@pytest.mark.parametrize("gaps", ["keep", "ffill"])
def test_a_loaded_history_gets_its_file_in_the_command(
    shared_dir: Path, gaps: str, tmp_path: Path
) -> None:
    # alvh_dsl.sweep(book, grid, History): each command named no --history, so it
    # replayed the synthetic history, not the one swept.
    import shlex

    from alvh_dsl.api import dryrun_history
    from alvh_dsl.sweep.table import figures

    path = str(shared_dir / "data" / "history_2004_2017.csv")
    history = dryrun_history(path, gaps=gaps)  # type: ignore[arg-type]
    frame = alvh_dsl.sweep(CORE, {"hedge_budget": ["1%"]}, history, start="2010-11-01",
                           end="2010-12-31", workers=0)  # fmt: skip
    words = shlex.split(frame["command"][0])
    assert words[words.index("--history") + 1] == path
    assert words[words.index("--gaps") + 1] == gaps
    assert frame.attrs["sweep"]["meta"]["history"] == path
    # The command, run as printed, gives the row.
    run = CliRunner().invoke(cli, [*words[1:], "--out", str(tmp_path / "run"), "--format", "json"])
    assert run.exit_code == 0, run.output
    assert figures(json.loads(run.output))["pnl"] == frame["pnl"][0]


def test_a_config_object_is_named_in_the_command_not_dropped() -> None:
    # A DryRunConfig passed as an object has no file; the commands left --config out, so
    # they replayed the default config, not the one swept.
    import shlex

    from alvh_dsl.api import CONFIG_PLACEHOLDER
    from alvh_dsl.dryrun.config import DryRunConfig

    config = DryRunConfig.model_validate({"starting_equity": 500_000})
    window = {"start": "2010-01-04", "end": "2010-02-26", "workers": 0}
    frame = alvh_dsl.sweep(CORE, {"hedge_budget": ["1%"]}, None, config, **window)
    words = shlex.split(frame["command"][0])
    assert words[words.index("--config") + 1] == CONFIG_PLACEHOLDER
    default = alvh_dsl.sweep(CORE, {"hedge_budget": ["1%"]}, None, DryRunConfig(), **window)
    assert "--config" not in shlex.split(default["command"][0])
