"""The `alvh` command line, end to end: exit codes, output formats, error paths.

Most tests go through click's CliRunner (stdout and stderr are kept apart);
a few run the installed console script in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from alvh_dsl.cli.main import cli
from alvh_dsl.lang import ast as A
from alvh_dsl.lang.parse import parse

from .helpers import write

CLEAN = (
    "param roll_dte = 7 days\n\n"
    "rule roll_forward\n  when condor.DTE <= roll_dte\n  then roll condor to month 2\n"
)
WARNS = "param unused = 3\n\nwhen DTE < 2 shift 50% hedge to month 2\n"
BROKEN = "rule r\n  when condor.detla > 1\n  then close condor\n"


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input)


@pytest.fixture
def books(tmp_path: Path) -> Path:
    write(tmp_path, {"clean.alvh": CLEAN, "warns.alvh": WARNS, "broken.alvh": BROKEN})
    return tmp_path


@pytest.fixture
def example_state(project_root: Path) -> Path:
    return project_root / "examples" / "state_near_expiry.json"


# ------------------------------------------------------------------------ check


def test_check_clean_exits_0(books: Path) -> None:
    result = run("check", str(books / "clean.alvh"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "checked 1 book (1 file): no problems\n"
    assert result.stdout == ""


def test_check_errors_exit_1_with_location_caret_and_help(books: Path) -> None:
    result = run("check", "--color", "never", str(books / "broken.alvh"))
    assert result.exit_code == 1
    path = books / "broken.alvh"
    assert f"{path}:2:8: E101 unknown name `condor.detla`" in result.stderr
    assert "2 |   when condor.detla > 1\n" in result.stderr
    assert "  |        ^^^^^^^^^^^^\n" in result.stderr
    assert "= help: did you mean `condor.delta`?" in result.stderr
    assert result.stderr.endswith("checked 1 book (1 file): 1 error\n")
    assert "\x1b[" not in result.stderr


def test_check_warnings_exit_0_unless_strict(books: Path) -> None:
    result = run("check", str(books / "warns.alvh"))
    assert result.exit_code == 0
    assert "W101" in result.stderr and "W102" in result.stderr
    assert run("check", "--strict", str(books / "warns.alvh")).exit_code == 1
    assert run("check", "--strict", str(books / "clean.alvh")).exit_code == 0


def test_check_a_directory(books: Path) -> None:
    result = run("check", str(books))
    assert result.exit_code == 1
    assert result.stderr.endswith("checked 3 books (3 files): 1 error, 2 warnings\n")


@pytest.mark.parametrize(
    "args",
    [
        ["check"],
        ["check", "/no/such/book.alvh"],
        ["check", "--param", "roll_dte", "X.alvh"],
        ["check", "--format", "yaml", "X.alvh"],
        ["check", "--bogus", "X.alvh"],
        ["frobnicate"],
    ],
    ids=["no-path", "missing-path", "bad-param", "bad-format", "bad-option", "bad-command"],
)
def test_usage_errors_exit_2(books: Path, args: list[str]) -> None:
    args = [str(books / "clean.alvh") if a == "X.alvh" else a for a in args]
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.stderr or "Error:" in result.stderr


def test_check_json(books: Path) -> None:
    result = run("check", "--format", "json", str(books))
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert (doc["errors"], doc["warnings"]) == (1, 2)
    assert sorted(Path(b).name for b in doc["books"]) == ["broken.alvh", "clean.alvh", "warns.alvh"]
    e101 = next(d for d in doc["diagnostics"] if d["code"] == "E101")
    assert e101["severity"] == "error"
    assert e101["span"] == {
        "file": str(books / "broken.alvh"),
        "line": 2,
        "column": 8,
        "end_line": 2,
        "end_column": 20,
    }
    assert e101["help"] == "did you mean `condor.delta`?"


def test_check_color(books: Path) -> None:
    result = run("check", "--color", "always", str(books / "broken.alvh"))
    assert "\x1b[1;31mE101\x1b[0m" in result.stderr


def test_check_param_override_errors(books: Path) -> None:
    result = run("check", str(books / "clean.alvh"), "--param", "roll_dte=50%")
    assert result.exit_code == 1
    assert "E502 `--param roll_dte=50%`: `roll_dte` is in days, not percent" in result.stderr
    result = run("check", str(books / "clean.alvh"), "-p", "rol_dte=5d")
    assert result.exit_code == 1
    assert "did you mean `roll_dte`?" in result.stderr
    assert run("check", str(books / "clean.alvh"), "-p", "roll_dte=5").exit_code == 0


@pytest.mark.parametrize(
    "command", [("check",), ("fmt",), ("fmt", "--check")], ids=["check", "fmt", "fmt-check"]
)
def test_directory_without_books_fails_every_command(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    # issue 9: `fmt --check` on an empty directory passed CI while `check` failed it
    result = run(*command, str(tmp_path))
    assert result.exit_code == 1
    assert "no rulebooks (*.alvh) found" in result.stderr


# ------------------------------------------------------------------------ parse


def test_parse_json_round_trips(books: Path) -> None:
    path = books / "clean.alvh"
    result = run("parse", "--json", str(path))
    assert result.exit_code == 0
    book = A.Rulebook.model_validate_json(result.stdout)
    assert book == parse(CLEAN, str(path)).book
    assert json.loads(book.model_dump_json()) == json.loads(result.stdout)


def test_parse_outline(books: Path) -> None:
    result = run("parse", "--outline", str(books / "clean.alvh"))
    path = books / "clean.alvh"
    assert result.stdout == f"{path}:1:1: param roll_dte\n{path}:3:1: rule roll_forward\n"


def test_parse_a_broken_file_exits_1_with_its_diagnostics(tmp_path: Path) -> None:
    write(tmp_path, {"bad.alvh": "param p = 1\ndefine x = VIX >> 1\n"})
    result = run("parse", str(tmp_path / "bad.alvh"))
    assert result.exit_code == 1
    assert "E001 expected an expression, found `>`" in result.stderr
    # what did parse is still printed
    assert [s["kind"] for s in json.loads(result.stdout)["statements"]] == ["param"]


def test_parse_a_non_utf8_file(tmp_path: Path) -> None:
    (tmp_path / "latin.alvh").write_bytes(b"param p = 1 # caf\xe9\n")
    result = run("parse", str(tmp_path / "latin.alvh"))
    assert result.exit_code == 1
    assert "E408" in result.stderr and "not valid UTF-8" in result.stderr


# ---------------------------------------------------------------------- explain


def test_explain(books: Path) -> None:
    result = run("explain", str(books / "clean.alvh"), "--param", "roll_dte=5d")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "roll_dte" in out and "(overridden; declared 7 days)" in out
    assert "roll_forward" in out
    assert "normalised: when condor.DTE <= 5 days then roll condor to month 2" in out


def test_explain_json(books: Path) -> None:
    result = run("explain", "--format", "json", str(books / "clean.alvh"))
    doc = json.loads(result.stdout)
    assert doc["params"] == {"roll_dte": {"value": 7.0, "unit": "days", "text": "7 days"}}
    (rule,) = doc["rules"]
    assert (rule["id"], rule["when"], rule["normalised_when"]) == (
        "roll_forward",
        "condor.DTE <= roll_dte",
        "condor.DTE <= 7 days",
    )


def test_explain_refuses_a_book_with_errors(books: Path) -> None:
    result = run("explain", str(books / "broken.alvh"))
    assert result.exit_code == 1
    assert "E101" in result.stderr and "has errors" in result.stderr
    assert run("explain", str(books / "nope.alvh")).exit_code == 2


# ------------------------------------------------------------------------- eval


def test_eval_text(shared_dir: Path, example_state: Path) -> None:
    book = shared_dir / "rulebooks" / "alvh_core.alvh"
    result = run("eval", str(book), "--state", str(example_state))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("ALVH core on 2024-03-14: 2 of 6 rules fired, 1 action(s) superseded\n")
    assert "FIRED    roll_forward (priority 10)" in out
    assert "✗ close condor   superseded by `roll_forward`" in out
    assert "fired on 2024-03-11; cooldown until 2024-03-16" in out
    assert "condor.DTE  →" not in out  # traces only with --explain


def test_eval_explain_shows_every_value(shared_dir: Path, example_state: Path) -> None:
    book = shared_dir / "rulebooks" / "alvh_core.alvh"
    out = run("eval", str(book), "--state", str(example_state), "--explain").stdout
    assert "when condor.DTE <= roll_dte  →  true" in out
    assert "condor.DTE  →  1 day" in out
    assert "condor.credit  →  $1,240" in out


def test_eval_json(shared_dir: Path, example_state: Path) -> None:
    book = shared_dir / "rulebooks" / "alvh_core.alvh"
    result = run("eval", str(book), "--state", str(example_state), "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["book"] == str(book) and doc["date"] == "2024-03-14"
    assert [d["rule"] for d in doc["decisions"]][:2] == ["stop_loss", "roll_forward"]
    assert all("trace" not in d for d in doc["decisions"])
    with_trace = run(
        "eval", str(book), "--state", str(example_state), "--format", "json", "--explain"
    )
    assert all("trace" in d for d in json.loads(with_trace.stdout)["decisions"])


def test_eval_param_override(shared_dir: Path, example_state: Path) -> None:
    book = shared_dir / "rulebooks" / "alvh_core.alvh"
    out = run("eval", str(book), "--state", str(example_state), "-p", "roll_dte=0d").stdout
    assert "not met  roll_forward" in out
    result = run("eval", str(book), "--state", str(example_state), "-p", "roll_dte=5%")
    assert result.exit_code == 1
    assert "E502" in result.stderr


def test_eval_broken_state_names_the_json_path(shared_dir: Path, tmp_path: Path) -> None:
    bad = {
        "date": "2024-01-01",
        "market": {"SPX": -1, "VIX": 20},
        "equity": 1,
        "condors": [{"expiry": "soon"}],
    }
    (tmp_path / "s.json").write_text(json.dumps(bad))
    book = shared_dir / "rulebooks" / "alvh_core.alvh"
    result = run("eval", str(book), "--state", str(tmp_path / "s.json"))
    assert result.exit_code == 1
    state = tmp_path / "s.json"
    assert f"{state}: $.market.SPX: E504 Input should be greater than 0" in result.stderr
    assert f"{state}: $.condors[0].expiry: E504 " in result.stderr
    assert f"{state}: $.condors[0].credit: E504 Field required" in result.stderr
    assert "is not a valid state (see `alvh schema`)" in result.stderr


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("{not json", "not valid JSON"), (None, "cannot read the file")],
)
def test_eval_unreadable_state(
    shared_dir: Path, tmp_path: Path, content: str | None, fragment: str
) -> None:
    path = tmp_path / "s.json"
    if content is not None:
        path.write_text(content)
    book = shared_dir / "rulebooks" / "alvh_core.alvh"
    result = run("eval", str(book), "--state", str(path))
    assert result.exit_code == 1
    assert f"{path}: $: E504 {fragment}" in result.stderr


def test_eval_needs_a_state(books: Path) -> None:
    assert run("eval", str(books / "clean.alvh")).exit_code == 2


# ----------------------------------------------------------------------- schema


def test_schema(tmp_path: Path) -> None:
    result = run("schema")
    doc = json.loads(result.stdout)
    assert "properties" in doc
    assert {"date", "market", "condors", "hedges", "equity"} <= set(doc["properties"])
    assert doc["required"] == ["date", "market", "equity"]
    assert run("schema", "-o", str(tmp_path / "s.json")).exit_code == 0
    assert json.loads((tmp_path / "s.json").read_text()) == doc


def test_the_example_state_validates_against_the_schema(example_state: Path) -> None:
    from alvh_dsl.lang.state import load_state, state_schema

    schema = state_schema()
    data = json.loads(example_state.read_text())
    assert set(data) <= set(schema["properties"])
    assert load_state(example_state).equity == 250000.0


# ------------------------------------------------------------------ help, version


def test_help_lists_commands_and_exit_codes() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("check", "fmt", "parse", "explain", "eval", "schema"):
        assert f"  {command} " in result.stdout
    assert "Exit codes: 0 ok, 1 problems found, 2 usage error." in result.stdout


# ------------------------------------------------------------ real subprocesses


def alvh_script() -> Path:
    script = Path(sys.executable).parent / ("alvh.exe" if os.name == "nt" else "alvh")
    if not script.exists():
        pytest.skip("the alvh console script is not installed in this environment")
    return script


def test_console_script_check(books: Path) -> None:
    script = alvh_script()
    ok = subprocess.run(
        [script, "check", books / "clean.alvh"], capture_output=True, text=True, check=False
    )
    assert (ok.returncode, ok.stderr) == (0, "checked 1 book (1 file): no problems\n")
    bad = subprocess.run(
        [script, "check", "--format", "json", books / "broken.alvh"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["errors"] == 1


def test_console_script_fmt_stdin() -> None:
    done = subprocess.run(
        [alvh_script(), "fmt", "-"], input="param  p=7d\n", capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (0, "param p = 7 days\n")


def test_check_does_not_import_numpy_or_pandas(shared_dir: Path) -> None:
    code = (
        "import sys\n"
        "from alvh_dsl.cli.main import cli\n"
        "try:\n"
        f"    cli.main(['check', {str(shared_dir / 'rulebooks')!r}], standalone_mode=False)\n"
        "finally:\n"
        "    heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'pandas', 'scipy', 'matplotlib', 'pyarrow'))\n"
        "    print('HEAVY:', heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert "checked 3 books" in done.stderr, done.stderr
    assert "HEAVY: []" in done.stdout, done.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ("dryrun", "{book}", "--from", "2020-13-01"),
        ("dryrun", "{book}", "--dump-state", "yesterday"),
        ("diff", "{book}", "{book}", "--to", "2020-02-30"),
        ("sweep", "{book}", "--grid", "p=1,2", "--split", "soon"),
        ("data", "synth", "--start", "2020-1-1", "-o", "{out}"),
    ],
    ids=["dryrun-from", "dryrun-dump-state", "diff-to", "sweep-split", "data-synth-start"],
)
def test_a_bad_date_option_is_a_usage_error_naming_it(books: Path, argv: tuple[str, ...]) -> None:
    # one parser for every command's dates (cli.common.date_option), read before any work
    args = [a.format(book=books / "clean.alvh", out=books / "h.csv") for a in argv]
    result = run(*args)
    assert result.exit_code == 2, result.output
    option = next(a for a in argv if a.startswith("--") and a != "--grid")
    assert "is not a date (YYYY-MM-DD)" in result.stderr and option in result.stderr
    assert not (books / "h.csv").exists()
