"""The console script's quick exit (``os._exit`` after check, fmt, explain, parse; issue 10).

Run end to end in a real process, as a user runs ``alvh``: the exit code is the command's,
the whole report comes through a pipe or into a file (the last block sits in stdout's
buffer until it is flushed), ``-o FILE`` is complete, and the other commands (``lsp``
among them) still leave the ordinary way, running exit handlers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from alvh_dsl.cli.main import COLLECTOR_OFF, QUICK_EXIT, cli

# An exit handler that says when it ran: `os._exit` skips it, an ordinary exit runs it.
_SCRIPT = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('ATEXIT', file=sys.stderr))\n"
    "from alvh_dsl.cli.main import main\n"
    "main()\n"
)


def _alvh(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", _SCRIPT, *args], text=True, timeout=120, **kwargs
    )


def _book(n: int) -> str:
    """A book whose JSON report is far larger than a pipe's buffer (W201 on every rule)."""
    rules = "".join(
        f"rule r{i} priority {i}\n  when VIX > 30 and VIX < {10 + i % 7} then close condor\n"
        for i in range(n)
    )
    return f'rulebook "exit" version "1.0"\n\n{rules}'


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exit") / "big.alvh"
    path.write_text(_book(600), encoding="utf-8")
    return path


def _in_process(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout


def test_check_through_a_pipe_prints_everything_and_exits_with_its_code(book: Path) -> None:
    args = ("check", str(book), "--format", "json")
    code, expected = _in_process(*args)
    done = _alvh(*args, capture_output=True)
    assert (done.returncode, done.stdout) == (code, expected) == (0, expected)
    assert len(done.stdout) > 200_000  # several pipe buffers, and a last block to flush
    assert len(json.loads(done.stdout)["diagnostics"]) == 600
    assert "ATEXIT" not in done.stderr  # left with os._exit: the heap was not torn down


def test_strict_check_exits_1_and_usage_errors_exit_2(book: Path) -> None:
    strict = _alvh("check", str(book), "--strict", capture_output=True)
    assert strict.returncode == 1
    assert strict.stderr.count("W201") == 600  # the text report goes to stderr
    assert strict.stderr.rstrip().endswith("600 warnings")
    assert "ATEXIT" not in strict.stderr
    usage = _alvh("check", "--no-such-option", capture_output=True)
    assert usage.returncode == 2
    assert "No such option" in usage.stderr


def test_output_to_a_file_and_with_dash_o_is_complete(book: Path, tmp_path: Path) -> None:
    _, expected = _in_process("check", str(book), "--format", "json")
    redirected = tmp_path / "stdout.json"
    with redirected.open("w", encoding="utf-8") as out:
        done = _alvh("check", str(book), "--format", "json", stdout=out, stderr=subprocess.PIPE)
    assert done.returncode == 0
    assert redirected.read_text(encoding="utf-8") == expected
    target = tmp_path / "report.json"
    done = _alvh("check", str(book), "--format", "json", "-o", str(target), capture_output=True)
    assert done.returncode == 0
    assert target.read_text(encoding="utf-8") == expected
    # no temporary file left behind
    assert {p.name for p in tmp_path.iterdir()} == {"stdout.json", "report.json"}


def test_fmt_check_exit_code_through_the_quick_exit(tmp_path: Path) -> None:
    messy = tmp_path / "messy.alvh"
    messy.write_text('rulebook "m" version "1.0"\nrule a\n  when VIX>30 then close condor\n')
    done = _alvh("fmt", "--check", str(messy), capture_output=True)
    assert done.returncode == 1
    assert "ATEXIT" not in done.stderr


def test_other_commands_exit_the_ordinary_way() -> None:
    # `lsp` runs for as long as the editor does; it and the rest keep Python's exit.
    assert "lsp" not in QUICK_EXIT and "dryrun" not in QUICK_EXIT
    for args in (["lsp", "--help"], ["--version"], ["dryrun", "--help"]):
        done = _alvh(*args, capture_output=True)
        assert done.returncode == 0, done.stderr
        assert "ATEXIT" in done.stderr, args


# Prints, at exit, whether the collector was on while the command ran.
_GC_SCRIPT = (
    "import atexit, gc, sys\n"
    "atexit.register(lambda: print('GC', gc.isenabled(), file=sys.stderr))\n"
    "from alvh_dsl.cli.main import main\n"
    "main()\n"
)


@pytest.mark.parametrize(("args", "on"), [(["dryrun", "--help"], False), (["--version"], True)])
def test_the_console_scripts_dryrun_runs_with_the_collector_off(args: list[str], on: bool) -> None:
    # One replay, then the process exits: collections only rescanned what it kept (decision
    # 96). Every other command that exits the ordinary way keeps the collector.
    assert "dryrun" in COLLECTOR_OFF and "lsp" not in COLLECTOR_OFF and "sweep" not in COLLECTOR_OFF
    done = subprocess.run(
        [sys.executable, "-c", _GC_SCRIPT, *args], text=True, timeout=120, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert f"GC {on}" in done.stderr


def test_in_process_cli_leaves_the_collector_as_it_found_it() -> None:
    import gc

    assert gc.isenabled()
    assert CliRunner().invoke(cli, ["dryrun", "--help"]).exit_code == 0
    assert gc.isenabled()
