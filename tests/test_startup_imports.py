"""What the main job imports: only what runs (issue 11). Not a timing: which heavy modules
a command leaves alone, checked in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A dry-run replays, summarises and writes a report: none of these is part of that.
NEVER = (
    "scipy.signal", "scipy.stats", "scipy.optimize", "scipy.interpolate",
    "distributed", "dask", "pygls", "rich.progress",
)  # fmt: skip
# The holidays come from the disk cache once computed (alvh_dsl.market.calendars).
CALENDARS = ("pandas_market_calendars", "exchange_calendars")

_SCRIPT = """
import json, sys
{body}
print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _modules(body: str, cache: Path) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ALVH_CACHE_DIR": str(cache)}
    code = _SCRIPT.format(body=body)
    # The first run ever fills the cache (the holidays); the one measured reads it.
    for _ in range(1 if any(cache.iterdir()) else 2):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
            check=True, timeout=600,
        )  # fmt: skip
    return set(json.loads(done.stdout.splitlines()[-1]))


def _dryrun(out: Path, *options: str) -> str:
    return f"""
from alvh_dsl.cli.main import main
sys.argv = ["alvh", "dryrun", "rulebooks/alvh_core.alvh", "--from", "2010-01-04",
            "--to", "2010-02-26", "--out", {str(out)!r}, *{list(options)!r}]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
"""


def test_alvh_dryrun_imports_only_what_it_runs(tmp_path: Path, cache: Path) -> None:
    out = tmp_path / "run"
    modules = _modules(_dryrun(out), cache)
    assert '<svg class="plot"' in (out / "report.html").read_text(encoding="utf-8")
    # The figure is drawn as SVG with NumPy: neither matplotlib nor Pillow is imported.
    assert not [m for m in (*NEVER, *CALENDARS, "matplotlib", "PIL") if m in modules]


def test_the_png_figure_pays_for_matplotlib(tmp_path: Path, cache: Path) -> None:
    out = tmp_path / "run"
    modules = _modules(_dryrun(out, "--figure", "png"), cache)
    assert "data:image/png;base64," in (out / "report.html").read_text(encoding="utf-8")
    assert "matplotlib" in modules  # asked for: that one is paid
    assert not [m for m in (*NEVER, *CALENDARS) if m in modules]


def test_a_dryrun_from_python_draws_nothing(cache: Path) -> None:
    body = """
import alvh_dsl
result = alvh_dsl.dryrun("rulebooks/alvh_core.alvh", start="2010-01-04", end="2010-02-26")
assert result.baseline is not None
"""
    modules = _modules(body, cache)
    assert not [m for m in (*NEVER, *CALENDARS, "matplotlib", "PIL") if m in modules]


# What `alvh check` of the example books leaves alone (issue 11: its start-up within 2x of
# `import lark, pydantic`). importlib.metadata came with a pydantic validator built at
# import (pydantic looks its plugins up then); lark is only the fast parser's fallback;
# tempfile is for writing (alvh_dsl.fileio) and xml for `--format junit`.
CHECK_NEVER = ("numpy", "pandas", "importlib.metadata", "lark", "tempfile", "xml.etree")

_CHECK = """
from alvh_dsl.cli.main import cli
try:
    cli.main(["check", "rulebooks/"], standalone_mode=False)
finally:
    assert "no problems" in sys.stderr.getvalue(), sys.stderr.getvalue()
"""


def test_alvh_check_imports_only_what_it_runs(cache: Path) -> None:
    modules = _modules("import io\nsys.stderr = io.StringIO()\n" + _CHECK, cache)
    assert "alvh_dsl.lang.check" in modules  # it did check
    assert not [m for m in CHECK_NEVER if m in modules]


def test_a_pyproject_that_only_names_the_package_is_not_parsed(tmp_path: Path, cache: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "desk"\ndependencies = ["alvh-dsl>=0.1"]\n'
        '[tool.hatch.build]\npackages = ["alvh_dsl_books"]\n'
    )  # fmt: skip
    (tmp_path / "book.alvh").write_text('rulebook "b"\nrule r\n  when VIX > 30\n  then alert "x"\n')
    body = f"""
import os
os.chdir({str(tmp_path)!r})
from alvh_dsl.project import find_config
assert find_config("book.alvh") is None
"""
    assert "tomllib" not in _modules(body, cache)


@pytest.mark.parametrize(
    "text",
    [
        "[tool.alvh]\nstrict = true\n",
        '[ tool . "alvh" ]\nstrict = true\n',
        "[tool.'alvh'.params]\ngate = 5\n",
        "[tool]\nalvh = { strict = true }\n",
        '[tool]\n"alvh".strict = true\n',
        "tool.alvh.strict = true\n",
        "tool = { alvh = { strict = true } }\n",
        "[[tool.alvh]]\n",  # not a table: still found, so that its E604 says so
        "[tool.alvh\n",  # not TOML: found, and its E604 says why
    ],
)
def test_every_spelling_of_the_table_is_still_found(tmp_path: Path, text: str) -> None:
    from alvh_dsl.project import find_config

    (tmp_path / ".git").mkdir()
    # top-level keys first: a dotted key after a table header would be that table's
    (tmp_path / "pyproject.toml").write_text(text + '[project]\nname = "alvh-dsl-books"\n')
    assert find_config(str(tmp_path)) == str(tmp_path / "pyproject.toml")


def test_the_default_configuration_is_the_models_defaults() -> None:
    # made without validation (alvh_dsl.project.default_config): the same values, and no
    # field marked as set
    from alvh_dsl.project import ProjectConfig, default_config

    made, validated = default_config(), ProjectConfig()
    assert made.__dict__ == validated.__dict__
    assert made.model_fields_set == validated.model_fields_set == set()


def test_the_console_script_runs_alvh_check_without_collections() -> None:
    # alvh_dsl.cli.main.QUICK_EXIT: the collector paused from the start, its passes over
    # the import-time objects of pydantic and the AST's classes being start-up's tenth
    code = """
import gc, os, sys
from alvh_dsl.cli import main
runs = []
gc.callbacks.append(lambda phase, info: runs.append(info) if phase == "start" else None)
exit_ = os._exit
def report(code):
    print("COLLECTIONS", len(runs), flush=True)
    exit_(code)
os._exit = report
sys.argv = ["alvh", "check", "rulebooks/"]
main()
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert "no problems" in done.stderr, done.stderr
    assert done.stdout.splitlines()[-1] == "COLLECTIONS 0"
