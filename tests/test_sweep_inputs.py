"""alvh sweep's inputs from a demanding user: grids written two ways, huge grids, sweep
files with mistakes (named by file and line), and the CLI's handling of each (docs/sweep.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from alvh_dsl.api import load_checked
from alvh_dsl.sweep.grid import Grid, GridError, load_sweep_file, parse_grid

ROOT = Path(__file__).resolve().parents[1]
CORE = str(ROOT / "rulebooks" / "alvh_core.alvh")


@pytest.fixture(scope="module")
def program() -> Any:
    return load_checked(CORE)


def _problems(arguments: Any, program: Any) -> list[str]:
    with pytest.raises(GridError) as caught:
        parse_grid(arguments, program)
    return [f"{d.code} {d.message}" for d in caught.value.diagnostics]


@pytest.mark.parametrize(
    ("argument", "twice"),
    [
        ("roll_dte=5.0d,5d", "5d is listed twice (as 5.0d)"),
        ("roll_dte=7 days,7d", "7d is listed twice (as 7 days)"),
        ("roll_dte=5d..9d/1d,7d", "7d is listed twice"),
        ("hedge_budget=0.5%,0.50%", "0.50% is listed twice (as 0.5%)"),
    ],
)
def test_a_value_spelled_twice_is_one_variant_twice(
    program: Any, argument: str, twice: str
) -> None:
    # Two spellings of one value would run the same variant twice, as two rows.
    [problem] = _problems([argument], program)
    assert problem.startswith("E503") and twice in problem


def test_different_values_of_one_unit_are_not_twice(program: Any) -> None:
    grid = parse_grid(["roll_dte=5d,7 days,10 days", "hedge_budget=0.5%,5%"], program)
    assert grid.size == 6


def test_a_large_range_is_checked_without_parsing_each_value(
    program: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A range's values share LOW's unit: the loader's check (a parse of the value) runs
    # once per way of writing the unit, not once for each of 100,000 values.
    import alvh_dsl.lang.loader as loader
    import alvh_dsl.sweep.grid as grid_module

    calls = []
    real = loader.apply_overrides

    def counted(program: Any, overrides: Any) -> None:
        calls.append(overrides)
        real(program, overrides)

    monkeypatch.setattr(grid_module, "apply_overrides", counted)
    grid = parse_grid(["roll_dte=1d..100000d/1d,100001 days"], program)
    assert grid.size == 100_001
    assert len(calls) == 2  # "Nd" and "N days"
    with pytest.raises(GridError):  # and a bad unit among them is still found
        parse_grid(["roll_dte=1d..100d/1d,5%"], program)


def test_a_sample_of_a_large_grid_is_drawn_by_position(program: Any) -> None:
    axes = ["roll_dte=1d..999d/1d", "entry_dte=1d..999d/1d"]
    grid = parse_grid(axes, program, sample=3, seed=5)
    small = parse_grid(["roll_dte=1d..20d/1d", "hedge_budget=1%..5%/1%"], program, sample=7, seed=3)
    every = parse_grid(["roll_dte=1d..20d/1d", "hedge_budget=1%..5%/1%"], program).variants()
    import random

    # The same draw as sampling the full list: positions, decoded (last axis fastest).
    picked = sorted(random.Random(3).sample(range(100), 7))
    assert small.variants() == [every[i] for i in picked]
    assert [grid.variant(i) for i in (0, 1, 999)] == [
        {"roll_dte": "1d", "entry_dte": "1d"},
        {"roll_dte": "1d", "entry_dte": "2d"},
        {"roll_dte": "2d", "entry_dte": "1d"},
    ]
    assert len(grid.variants()) == 3


def test_variant_decodes_grid_order() -> None:
    from alvh_dsl.sweep.grid import Axis

    grid = Grid((Axis("a", ("1", "2")), Axis("b", ("x", "y", "z"))))
    assert [grid.variant(i) for i in range(grid.size)] == grid.variants()


@pytest.mark.parametrize(
    ("grid", "words"),
    [
        ("roll_dte=5d,7d", None),  # one string is one axis, not one per character
        ({"short_delta": [0.1, 1e-05]}, None),  # a float in plain decimal
        ({"roll_dte": [5, 7]}, None),
        ({"roll_dte": True}, "True is not a value"),
        ({"roll_dte": None}, "None is not a value"),
        ({"roll_dte": []}, "an empty list of values"),
        ({"roll_dte": ["5d,7d"]}, "one value per list item"),
        ([5], "a --grid argument is text"),
    ],
)
def test_api_grid_forms(program: Any, grid: Any, words: str | None) -> None:
    if words is None:
        checked = parse_grid(grid, program)
        assert checked.size == 2
        if isinstance(grid, dict) and "short_delta" in grid:
            assert checked.axes[0].values == ("0.1", "0.00001")
        return
    [problem] = _problems(grid, program)
    assert problem.startswith("E503") and words in problem


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[grid]\nroll_dte = ["5d", "7d"]\nshort_delta = true\n', 3, "True is not a value"),
        ('[grid]\nroll_dte = ["5d"]\n[sample]\nn = 2\nsed = 1\n', 5, "not `sed`"),
        ('[grid]\nroll_dte = ["5d", "7d"]\n[sample]\nn = true\n', 4, "n is an integer"),
        ('n = 3\n[grid]\nroll_dte = ["5d"]\n', 1, "unknown key or table `n`"),
        ('[grid]\nroll_dte = ["5d,7d"]\n', 2, "one value per list item"),
        ('[grid]\nroll_dte = ["5d"\nx = 1\n', 3, "sweep file"),  # bad TOML: tomllib's line
    ],
)
def test_sweep_file_mistakes_name_the_line(
    tmp_path: Path, program: Any, text: str, line: int, words: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(GridError) as caught:
        grid, n, seed = load_sweep_file(path)
        parse_grid(grid, program, sample=n, seed=seed)
    [problem] = caught.value.diagnostics
    assert words in problem.message
    assert problem.span is not None and problem.span.file == str(path)
    assert problem.span.line == line
    assert f"{path}:{line}:" in caught.value.render()  # and the line's text under it


def test_sweep_file_unit_error_points_at_its_line(tmp_path: Path, program: Any) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[grid]\nshort_delta = [0.1]\n"roll_dte" = ["5d", "5%"]\n')
    grid, n, seed = load_sweep_file(path)
    with pytest.raises(GridError) as caught:
        parse_grid(grid, program, sample=n, seed=seed)
    [problem] = caught.value.diagnostics
    assert problem.code == "E502" and "in days, not percent" in problem.message
    assert problem.span is not None and problem.span.line == 3
    assert caught.value.subject == str(path)


def test_sweep_file_not_text(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(b"\xbc\xff\x00[grid]")
    with pytest.raises(GridError) as caught:
        load_sweep_file(path)
    assert "sweep file" in caught.value.diagnostics[0].message
