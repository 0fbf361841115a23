"""The light install (issue 9): ``pip install alvh-dsl`` brings lark, pydantic, click and
rich; the dry-run stack is the ``dryrun`` extra; the examples ship in the wheel.

Fast checks only: the packaging metadata, the commands run in a subprocess whose
imports are limited to the standard library and the light install's packages (the
next best thing to a clean venv), and ``alvh examples``. The real clean venv
(build the wheel, install it without extras, measure it) is a step of ``.ci/run``:
too slow for the suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alvh_dsl.cli.examples import PATTERNS, example_files, examples_root
from alvh_dsl.cli.main import cli
from alvh_dsl.extras import (
    DRYRUN_STACK,
    INSTALL_DRYRUN,
    OTHER_EXTRAS,
    missing_message,
    missing_stack_module,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
WHEEL = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]

# What the light install holds besides the standard library: the four dependencies,
# tomli, and what they pull in (rich: markdown-it-py, mdurl, pygments; pydantic:
# pydantic-core, annotated-types, typing-extensions, typing-inspection).
LIGHT = {
    "alvh_dsl",
    "lark",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_extensions",
    "typing_inspection",
    "click",
    "rich",
    "markdown_it",
    "mdurl",
    "pygments",
    "tomli",
    # pygls (alvh lsp) and what it pulls in
    "pygls",
    "lsprotocol",
    "cattrs",
    "attrs",
    "attr",
    "exceptiongroup",
}


def _name(requirement: str) -> str:
    """``"numpy>=1.24"`` -> ``numpy``; ``"alvh-dsl[dryrun]"`` -> ``alvh-dsl[dryrun]``."""
    for sep in "<>=!~;":
        requirement = requirement.split(sep)[0]
    return requirement.strip()


def test_the_light_install_is_four_packages_and_tomli() -> None:
    assert {_name(r) for r in PROJECT["dependencies"]} == {
        "lark",
        "pydantic",
        "click",
        "rich",
        "pygls",  # alvh lsp (issue 12)
        "tomli",  # Python 3.10 only: the project configuration is TOML
    }


def test_the_dryrun_extra_is_the_stack_the_cli_names() -> None:
    extra = {_name(r) for r in PROJECT["optional-dependencies"]["dryrun"]}
    assert extra == {"numpy", "pandas", "scipy", "pyarrow", "matplotlib", "pandas_market_calendars"}
    assert extra <= DRYRUN_STACK  # every module of the extra gets the one-line message
    assert INSTALL_DRYRUN == "pip install 'alvh-dsl[dryrun]'"


def test_other_extras_name_their_own_install() -> None:
    assert missing_stack_module(ModuleNotFoundError("x", name="distributed.client")) == (
        "distributed"
    )
    assert missing_stack_module(ModuleNotFoundError("x", name="yaml")) is None  # a bug
    assert missing_message("`alvh sweep`", "distributed") == (
        "`alvh sweep` needs the `sweep` extra (distributed is not installed): "
        "pip install 'alvh-dsl[sweep]'"
    )
    for module, extra in OTHER_EXTRAS.items():
        names = {_name(r) for r in PROJECT["optional-dependencies"][extra]}
        assert any(module in n for n in names), (module, names)


def test_the_test_extra_brings_the_dryrun_extra() -> None:
    # so the README's `pip install ".[test]"` then `alvh dryrun` stays two commands
    assert "alvh-dsl[dryrun]" in PROJECT["optional-dependencies"]["test"]


def test_the_wheel_carries_the_examples() -> None:
    assert set(WHEEL["only-include"]) == {"alvh_dsl", *PATTERNS}
    assert WHEEL["sources"] == {folder: f"alvh_dsl/share/{folder}" for folder in PATTERNS}
    assert WHEEL["force-include"] == {"grammar/alvh.lark": "alvh_dsl/grammar/alvh.lark"}


def test_example_files_are_the_books_states_and_config() -> None:
    files = example_files(ROOT)
    books = {p.relative_to(ROOT).as_posix() for p in (ROOT / "rulebooks").rglob("*.alvh")}
    tests = {p.relative_to(ROOT).as_posix() for p in (ROOT / "rulebooks").rglob("*.alvhtest")}
    assert books | tests <= set(files)
    assert {"rulebooks/alvh_core.alvh", "rulebooks/lib/signals.alvh"} <= set(files)
    assert {"examples/state_near_expiry.json", "examples/dryrun.toml"} <= set(files)
    assert examples_root() == ROOT  # an editable install reads the checkout


# ------------------------------------------------------------ light-install imports

_SCRIPT = """
import importlib.abc, io, json, sys
allowed = set(sys.stdlib_module_names) | set(json.loads(sys.argv[1]))
class LightInstall(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top not in allowed and not top.startswith("_sysconfigdata"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, LightInstall())
from click.testing import CliRunner
from alvh_dsl.cli.main import cli
out = {}
for label, args in json.loads(sys.argv[2]).items():
    r = CliRunner().invoke(cli, args)
    out[label] = [r.exit_code, r.stdout, r.stderr, repr(r.exception)]
import alvh_dsl
try:
    alvh_dsl.dryrun(sys.argv[3])
    out["api.dryrun"] = "ran"
except ImportError as exc:
    out["api.dryrun"] = type(exc).__name__ + ": " + str(exc)
print(json.dumps(out))
"""

BOOKS = ROOT / "rulebooks"
STATE = str(ROOT / "examples" / "state_near_expiry.json")
CORE = str(BOOKS / "alvh_core.alvh")
LAYERS = str(BOOKS / "regime_layers.alvh")  # indicators: needs NumPy to evaluate


@pytest.fixture(scope="module")
def light(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each command's [exit code, stdout, stderr, exception] with only the light
    install's packages importable."""
    target = tmp_path_factory.mktemp("light") / "demo"
    commands = {
        "check": ["check", str(BOOKS)],
        "fmt": ["fmt", "--check", str(BOOKS)],
        "eval": ["eval", CORE, "--state", STATE],
        "explain indicators": ["explain", LAYERS],
        "examples": ["examples", str(target)],
        "eval indicators": ["eval", LAYERS, "--state", STATE],
        "test": ["test", str(BOOKS / "gamma_guard.alvhtest")],  # state tests only
        "test history": ["test", str(BOOKS / "alvh_core.alvhtest")],  # replays a window
        "dryrun": ["dryrun", CORE],
        "dryrun help": ["dryrun", "--help"],
        "data synth": ["data", "synth", "-o", str(target / "h.csv")],
    }
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(sorted(LIGHT)), json.dumps(commands), CORE],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize(
    "command", ["check", "fmt", "eval", "explain indicators", "examples", "dryrun help", "test"]
)
def test_light_commands_work_without_the_stack(light: dict[str, Any], command: str) -> None:
    code, _out, err, exc = light[command]
    assert code == 0, (err, exc)


@pytest.mark.parametrize(
    ("command", "what"),
    [
        ("dryrun", "`alvh dryrun` needs the dry-run stack"),
        ("data synth", "`alvh data` needs the dry-run stack"),
        ("eval indicators", "evaluating a book that reads market history"),
    ],
)
def test_the_stack_commands_say_what_to_install(
    light: dict[str, Any], command: str, what: str
) -> None:
    code, out, err, _exc = light[command]
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err  # one line, no traceback
    assert err.startswith(f"alvh: {what} (")
    assert err.rstrip().endswith("is not installed): pip install 'alvh-dsl[dryrun]'")


def test_a_history_test_is_skipped_saying_what_to_install(light: dict[str, Any]) -> None:
    code, out, err, _exc = light["test history"]
    assert code == 0  # the state tests pass; the history tests are skipped, visibly
    assert "SKIP" in out and "pip install 'alvh-dsl[dryrun]'" in out
    assert "Traceback" not in out + err
    assert "PASS  a day before expiry the roll pre-empts the profit take" in out


def test_the_api_raises_an_import_error_that_says_what_to_install(light: dict[str, Any]) -> None:
    assert light["api.dryrun"] == (
        "MissingExtraError: alvh_dsl.dryrun needs the dry-run stack "
        "(numpy is not installed): pip install 'alvh-dsl[dryrun]'"
    )


# ------------------------------------------------------------ alvh examples


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("command", ["examples", "init"])
def test_examples_copies_the_books_and_states(tmp_path: Path, command: str) -> None:
    result = run(command, str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    for rel in example_files(ROOT):
        assert (tmp_path / "demo" / rel).read_bytes() == (ROOT / rel).read_bytes()
    assert run("check", str(tmp_path / "demo" / "rulebooks")).exit_code == 0


def test_examples_never_overwrites_without_force(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    (demo / "rulebooks").mkdir(parents=True)
    mine = demo / "rulebooks" / "alvh_core.alvh"
    mine.write_text("# my own book\n", encoding="utf-8")
    refused = run("examples", str(demo))
    assert refused.exit_code == 1
    assert "already has rulebooks/alvh_core.alvh; nothing copied (--force" in refused.stderr
    assert mine.read_text(encoding="utf-8") == "# my own book\n"
    assert sorted(p.name for p in demo.rglob("*") if p.is_file()) == ["alvh_core.alvh"]
    forced = run("examples", "--force", str(demo))
    assert forced.exit_code == 0
    assert mine.read_bytes() == (BOOKS / "alvh_core.alvh").read_bytes()
    assert not list(demo.rglob("*.tmp"))  # atomic writes leave no temporaries


def test_examples_refuses_a_file_as_the_folder(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("", encoding="utf-8")
    assert run("examples", str(tmp_path / "f")).exit_code == 2
