"""docs/ci.md: every example is written out and run.

The page's file blocks (each preceded by ``<!-- file: PATH -->``) make one
desk repository; the workflow's ``alvh`` steps run on it, the configuration
examples load and do what the page says, and the pre-commit configuration is
the one tests/test_precommit.py runs with the real pre-commit.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from alvh_dsl.api import check_paths
from alvh_dsl.project import load_project

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
FILE_BLOCK = re.compile(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)```", re.S)
FILES = dict(FILE_BLOCK.findall(DOC))


def test_every_example_is_a_file_the_tests_use() -> None:
    blocks = re.findall(r"^```", DOC, re.M)
    # the one block that is not a file: the repository's layout
    assert len(blocks) // 2 == len(FILES) + 1
    layout = re.search(r"## A desk's repository.*?```\n(.*?)```", DOC, re.S)
    assert layout is not None
    listed = {line.split()[0] for line in layout.group(1).splitlines()}
    assert set(FILES) - {"pyproject.toml"} <= listed


def desk(root: Path) -> Path:
    for name, body in FILES.items():
        if name == "pyproject.toml":
            continue  # the alternative to alvh.toml, tested on its own
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body, encoding="utf-8")
    state = ROOT / "examples" / "state_near_expiry.json"
    (root / "states").mkdir()
    shutil.copy(state, root / "states" / "near_expiry.json")
    (root / ".git").mkdir()  # the repository root: configuration discovery stops here
    return root


def test_the_desk_checks_clean_and_its_suppressions_do_work(tmp_path: Path) -> None:
    root = desk(tmp_path)
    report = check_paths([str(root / "books")])
    assert report.diagnostics == [] and report.strict
    book = root / "books" / "desk.alvh"
    bare = re.sub(r" *# alvh: ignore\[[^\]]*\][^\n]*", "", book.read_text(encoding="utf-8"))
    book.write_text(bare, encoding="utf-8")
    found = sorted(d.code for d in check_paths([str(root / "books")]).diagnostics)
    assert found == ["W101", "W201"]


def test_the_configuration_examples_load_alike(tmp_path: Path) -> None:
    configs = []
    for name in ("alvh.toml", "pyproject.toml"):
        (tmp_path / name).write_text(FILES[name], encoding="utf-8")
        project, problems = load_project(str(tmp_path / name))
        assert problems == []
        configs.append(project.config)
    assert configs[0] == configs[1]
    assert configs[0].strict and configs[0].params == {"hedge_gate": 28}


def test_the_default_param_is_checked_against_the_book(tmp_path: Path) -> None:
    root = desk(tmp_path)
    alvh = shutil.which("alvh")
    if alvh is None:
        pytest.skip("the alvh command is not installed")
    done = subprocess.run([alvh, "check", "books/"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # a default that does not fit the declared unit is E604 at its key
    (root / "alvh.toml").write_text('[params]\nhedge_gate = "5 days"\n', encoding="utf-8")
    done = subprocess.run([alvh, "check", "books/"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 1 and "alvh.toml: params.hedge_gate: E604" in done.stderr


def workflow() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    doc: dict[str, Any] = yaml.safe_load(FILES[".github/workflows/alvh.yml"])
    return doc


def test_the_workflow_steps_run(tmp_path: Path) -> None:
    steps = workflow()["jobs"]["alvh"]["steps"]
    alvh = shutil.which("alvh")
    if alvh is None:
        pytest.skip("the alvh command is not installed")
    root = desk(tmp_path)
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses == ["actions/checkout", "actions/setup-python", "github/codeql-action/upload-sarif"]
    runs = [s["run"] for s in steps if "run" in s]
    assert runs[0] == "python -m pip install alvh-dsl"  # the environment under test stands in
    for command in runs[1:]:
        args = shlex.split(command.removesuffix(" || true"))
        assert args[0] == "alvh", command
        done = subprocess.run([alvh, *args[1:]], cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action"))
    sarif = json.loads((root / upload["with"]["sarif_file"]).read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert (root / "alvh-tests.xml").read_text(encoding="utf-8").startswith("<?xml")


def test_the_check_step_annotates_and_fails_a_broken_book(tmp_path: Path) -> None:
    steps = workflow()["jobs"]["alvh"]["steps"]
    alvh = shutil.which("alvh")
    if alvh is None:
        pytest.skip("the alvh command is not installed")
    root = desk(tmp_path)
    (root / "books" / "lib" / "params.alvh").write_text("param hedge_gait = 30\n")
    check = next(s["run"] for s in steps if s.get("name", "").startswith("check"))
    done = subprocess.run([alvh, *shlex.split(check)[1:]], cwd=root, capture_output=True, text=True)
    assert done.returncode == 1
    assert "::error file=books/desk.alvh,line=5" in done.stdout


def test_the_precommit_config_names_the_shipped_hooks() -> None:
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load(FILES[".pre-commit-config.yaml"])
    shipped = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    used = [h["id"] for r in config["repos"] for h in r["hooks"]]
    assert used and set(used) <= set(shipped)
    assert shipped["alvh-fmt"]["entry"] == "alvh fmt --check"  # never rewrites
    assert all(h["language"] == "python" for h in shipped.values())
