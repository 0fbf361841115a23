"""One error family: every user-caused failure is an AlvhError carrying diagnostics.

Each data code (E504 state, E601 history, E602 config, E603 run directory) has a
case here; the CLI prints every kind through the one renderer and exits with the
error's own code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from alvh_dsl import errors
from alvh_dsl.lang.diagnostics import CODES, DataSpan, Span, render

ROOT = Path(__file__).resolve().parents[1]
CORE = str(ROOT / "rulebooks" / "alvh_core.alvh")


def raised(call: object) -> errors.AlvhError:
    assert callable(call)
    with pytest.raises(errors.AlvhError) as info:
        call()
    return info.value


def test_every_user_error_class_is_an_alvh_error() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.AlvhError), name
        assert cls.exit_code in (1, 2), name
    assert issubclass(errors.DataError, ValueError)  # kept for callers that catch ValueError


def test_a_state_file_gives_e504_at_its_json_path(tmp_path: Path) -> None:
    from alvh_dsl.lang.state import load_state

    path = tmp_path / "s.json"
    path.write_text(json.dumps({"date": "2024-03-14", "market": {"SPX": -1, "VIX": 20}}))
    exc = raised(lambda: load_state(path))
    assert isinstance(exc, errors.StateError)
    assert {d.code for d in exc.diagnostics} == {"E504"}
    spans = [d.span for d in exc.diagnostics]
    assert all(isinstance(s, DataSpan) and s.file == str(path) for s in spans)
    assert "$.market.SPX" in {s.path for s in spans if isinstance(s, DataSpan)}
    assert exc.subject == str(path)
    assert str(exc).startswith(f"{path}: $.")


def test_a_history_file_gives_e601_at_row_and_column(tmp_path: Path) -> None:
    from alvh_dsl.market.history import load_history

    path = tmp_path / "h.csv"
    path.write_text("date,spx,vix\n2017-01-03,2257.83,x\n")
    exc = raised(lambda: load_history(path))
    assert isinstance(exc, errors.DataError)
    (d,) = exc.diagnostics
    assert d.code == "E601" and d.span == DataSpan(file=str(path), row=2, column="vix")
    assert str(exc) == f"{path}:2:vix: E601 not a number: 'x'\n"


def test_a_config_file_gives_e602_at_its_key(tmp_path: Path) -> None:
    from alvh_dsl.dryrun.config import load_config

    path = tmp_path / "c.toml"
    path.write_text("starting_equity = -5\n")
    exc = raised(lambda: load_config(path))
    assert isinstance(exc, errors.ConfigError)
    (d,) = exc.diagnostics
    assert d.code == "E602" and d.span == DataSpan(file=str(path), path="starting_equity")
    assert exc.summary == f"{path} is not a valid dry-run config (see docs/dryrun.md)"


def test_an_output_path_that_is_not_a_run_directory_gives_e603(tmp_path: Path) -> None:
    from alvh_dsl.dryrun.report.files import check_run_directory

    (tmp_path / "precious.txt").write_text("keep me")
    exc = raised(lambda: check_run_directory(tmp_path))
    assert isinstance(exc, errors.RunDirectoryError) and exc.exit_code == 2
    assert [d.code for d in exc.diagnostics] == ["E603"]
    assert "precious.txt" in exc.diagnostics[0].message


def test_a_book_with_errors_names_the_book_it_was_asked_for(tmp_path: Path) -> None:
    import alvh_dsl

    (tmp_path / "lib.alvh").write_text("param p = 7 dyas\n")
    book = tmp_path / "book.alvh"
    book.write_text('include "lib.alvh"\n')
    exc = raised(lambda: alvh_dsl.load(book))
    assert isinstance(exc, errors.RulebookError)
    assert exc.subject == str(book)  # not the included file the first error is in
    assert all(isinstance(d.span, Span) for d in exc.diagnostics)
    assert "^" in str(exc)  # sources travel with the error: carets under the text


def test_omitted_problems_and_the_hint_follow_the_diagnostics() -> None:
    from alvh_dsl.market.validation import issue

    exc = errors.DataError([issue("a.csv", 2, "vix", "bad")], omitted=3, hint="try this")
    assert str(exc) == (
        "a.csv:2:vix: E601 bad\n… and 3 more problem(s) not shown\nhint: try this\n"
    )


def test_data_spans_render_without_a_caret() -> None:
    from alvh_dsl.lang.diagnostics import data_span, error

    d = error("E601", "bad", data_span("a.csv", 0))
    assert render([d], {"a.csv": "date,spx\n"}) == "a.csv:0: E601 bad\n"
    assert str(data_span("s.json", path="$.x")) == "s.json: $.x"
    assert str(data_span("c.toml")) == "c.toml"


@pytest.mark.parametrize(
    ("args", "code", "exit_code", "closing"),
    [
        (["eval", CORE, "--state", "{missing}"], "E504", 1, "is not a valid state"),
        (["dryrun", CORE, "--config", "{toml}"], "E602", 1, "is not a valid dry-run config"),
        (["dryrun", CORE, "--history", "{csv}"], "E601", 1, "is not a valid history"),
        (["dryrun", CORE, "--out", "{dir}"], "E603", 2, "is not a dry-run directory"),
        (["data", "check", "{csv}"], "E601", 1, "is not a valid history"),
    ],
)
def test_the_cli_maps_every_error_the_same_way(
    tmp_path: Path, args: list[str], code: str, exit_code: int, closing: str
) -> None:
    from alvh_dsl.cli import cli

    (tmp_path / "c.toml").write_text("[risk]\ngrid_stepp = 1\n")
    (tmp_path / "h.csv").write_text("date,spx,vix\n2017-01-03,2257.83,x\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("x")
    paths = {
        "{missing}": str(tmp_path / "nope.json"),
        "{toml}": str(tmp_path / "c.toml"),
        "{csv}": str(tmp_path / "h.csv"),
        "{dir}": str(tmp_path / "d"),
    }
    result = CliRunner().invoke(cli, [paths.get(a, a) for a in args])
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.splitlines()
    assert f" {code} " in lines[0], result.stderr
    assert lines[-1].startswith("alvh: ") and closing in lines[-1], result.stderr


def test_every_data_code_is_registered() -> None:
    for code in ("E504", "E601", "E602", "E603"):
        assert code in CODES
