"""Golden files: rendered diagnostics, formatted books, AST JSON and decisions, byte for byte.

Inputs are the small books in ``tests/golden/books/`` (each full of one kind
of mistake) and the shared books in ``../shared/rulebooks``. Books are
loaded by a path relative to their directory (the test changes into it), so
the goldens hold no checkout-specific paths.

To regenerate after an intended change, run::

    ALVH_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

and review the diff of ``tests/golden/`` before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from alvh_dsl.api import check_paths, load, load_checked
from alvh_dsl.lang.diagnostics import render, summary
from alvh_dsl.lang.explain import render_evaluation
from alvh_dsl.lang.fmt import format_source
from alvh_dsl.lang.parse import parse
from alvh_dsl.lang.state import load_state

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("ALVH_UPDATE_GOLDEN") == "1"

BOOKS = ["syntax_errors", "name_errors", "unit_errors", "action_errors", "warnings", "messy"]
FORMATTED = [b for b in BOOKS if b != "syntax_errors"]  # a broken book is refused
SHARED = ["alvh_core", "one_liners", "regime_signals", "common/params"]


def compare(name: str, actual: str) -> None:
    """Compare ``actual`` with the golden file ``tests/golden/NAME``, byte for byte."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
        return
    if not path.exists():
        pytest.fail(f"no golden file {name}: run ALVH_UPDATE_GOLDEN=1 pytest {__file__}")
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected, f"{name} differs (ALVH_UPDATE_GOLDEN=1 regenerates it)"


def normalise(text: str, root: Path) -> str:
    """Replace the absolute root directory (E404's help names it) with a placeholder."""
    return text.replace(os.path.realpath(root), "<root>")


def rendered(root: Path, relative: str) -> str:
    program = load_checked(relative)
    text = render(program.diagnostics, program.sources, color=False)
    return normalise(text + summary(program.diagnostics) + "\n", root)


# -------------------------------------------------------------- the test books


@pytest.mark.parametrize("name", [*BOOKS, "includes/main"])
def test_diagnostics(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    compare(f"{name.replace('/', '_')}.diagnostics.txt", rendered(GOLDEN, f"books/{name}.alvh"))


@pytest.mark.parametrize("name", FORMATTED)
def test_formatted(name: str) -> None:
    source = (GOLDEN / "books" / f"{name}.alvh").read_text(encoding="utf-8")
    out = format_source(source, f"books/{name}.alvh")
    compare(f"{name}.fmt.alvh", out)
    assert format_source(out) == out


def test_ast_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    text = Path("books/messy.alvh").read_text(encoding="utf-8")
    book = parse(text, "books/messy.alvh").book
    compare("messy.ast.json", json.dumps(json.loads(book.model_dump_json()), indent=1) + "\n")


def test_golden_books_stay_broken_the_way_they_were_written() -> None:
    # Guard against a golden silently losing its point: each test book still
    # produces the family of codes it was written for.
    expected = {
        "syntax_errors": "E0",
        "name_errors": "E1",
        "unit_errors": "E2",
        "action_errors": "E3",
        "warnings": "W",
    }
    for name, prefix in expected.items():
        text = (GOLDEN / f"{name}.diagnostics.txt").read_text(encoding="utf-8")
        assert f": {prefix}" in text, name


# ---------------------------------------------------------------- shared books


def test_shared_check(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(shared_dir)
    report = check_paths(["rulebooks"])
    text = render(report.diagnostics, report.sources, color=False)
    compare("shared/check.txt", normalise(text + summary(report.diagnostics) + "\n", shared_dir))


@pytest.mark.parametrize("name", SHARED)
def test_shared_formatted(shared_dir: Path, name: str) -> None:
    path = shared_dir / "rulebooks" / f"{name}.alvh"
    out = format_source(path.read_text(encoding="utf-8"), f"rulebooks/{name}.alvh")
    compare(f"shared/{name.replace('/', '_')}.fmt.alvh", out)


@pytest.mark.parametrize("name", ["alvh_core", "regime_signals", "one_liners"])
def test_shared_decisions(
    shared_dir: Path, project_root: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = load_state(project_root / "examples" / "state_near_expiry.json")
    monkeypatch.chdir(shared_dir)
    book = load(f"rulebooks/{name}.alvh")
    evaluation = book.evaluate(state)
    compare(f"shared/{name}.eval.txt", render_evaluation(evaluation, book.name, explain=True))
    compare(
        f"shared/{name}.eval.json",
        json.dumps(evaluation.to_dict(), indent=1, ensure_ascii=False) + "\n",
    )
