"""Scale (issue 10, part 4): the cost of one string literal, and W202 bounded by grouping.

The timings of large books are in benchmarks/bench_scale.py, not here: these tests only
pin what would make the benchmarks super-linear again, each in well under a second.
"""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from alvh_dsl.api import check
from alvh_dsl.cli.main import cli
from alvh_dsl.lang.parse import parse, parser
from alvh_dsl.lang.transform import MAX_STRING_BYTES

from .helpers import codes


def _book(literal: str) -> str:
    return f'rulebook "x"\ndescription {literal}\nrule r\n  when VIX > 30 then close condor\n'


def _peak_per_byte(text: str) -> float:
    parser()  # the parser's tables are built once per process, not per literal
    tracemalloc.start()
    try:
        parse(text, "t.alvh")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / len(text)


@pytest.mark.parametrize(
    "literal",
    [
        # Lexed by a group repeated per character, these cost ~600 bytes per byte.
        '"' + "a" * (MAX_STRING_BYTES - 2) + '"',
        '"""' + "line\n" * ((MAX_STRING_BYTES - 6) // 5) + '"""',
        # Over the limit: still lexed (then refused), so still cheap.
        '"' + "a" * (256 * 1024) + '"',
    ],
    ids=["plain", "triple-quoted", "256KiB"],
)
def test_a_string_literal_costs_a_small_constant_per_byte(literal: str) -> None:
    assert _peak_per_byte(_book(literal)) < 20


@pytest.mark.parametrize(
    ("length", "expected"),
    [(MAX_STRING_BYTES, []), (MAX_STRING_BYTES + 1, ["E011"])],
)
def test_string_literals_longer_than_the_limit_are_E011(length: int, expected: list[str]) -> None:
    for literal in ('"' + "a" * (length - 2) + '"', '"""' + "a" * (length - 6) + '"""'):
        result = parse(_book(literal), "t.alvh")
        assert codes(result.diagnostics) == expected
        if expected:
            (d,) = result.diagnostics
            assert (d.span.line, d.span.column) == (2, 13)
            assert "64 KiB" in d.message


def _rules(*rows: tuple[str, str]) -> str:
    return "".join(
        f"rule r{i}\n  when {when} then {action}\n" for i, (when, action) in enumerate(rows)
    )


_CLOSE, _ROLL = "close condor", "roll condor to month 2"


@pytest.mark.parametrize(
    ("book", "messages"),
    [
        (
            _rules(("VIX > 30", _CLOSE), ("VIX > 20", _ROLL)),
            ["rules `r0` and `r1` have the same priority (0) and both act on the condor"],
        ),
        (
            _rules(("VIX > 30", _CLOSE), ("VIX > 20", _ROLL), ("VIX > 25", _CLOSE)),
            ["rules `r0`, `r1` and `r2` have the same priority (0) and all act on the condor"],
        ),
        (
            _rules(*[("VIX > 30", (_CLOSE, _ROLL)[i % 2]) for i in range(5)]),
            ["rules `r0`, `r1`, `r2`, `r3` and `r4` have the same priority (0) and all act"],
        ),
        (
            _rules(*[("VIX > 30", (_CLOSE, _ROLL)[i % 2]) for i in range(40)]),
            ["rules `r0`, `r1`, `r2`, `r3`, `r4` and 35 more (40 in all) have the same"],
        ),
        # r0 and r2 cannot fire together, but both conflict with r1: one group of three.
        (
            _rules(("VIX > 30", _CLOSE), ("SPX > 1", _ROLL), ("VIX < 10", _CLOSE)),
            ["rules `r0`, `r1` and `r2` have"],
        ),
        # Two groups that cannot fire together: two warnings, each at its first conflict.
        (
            _rules(
                ("VIX > 30", _CLOSE), ("VIX > 31", _ROLL), ("VIX < 10", _CLOSE), ("VIX < 9", _ROLL)
            ),
            ["rules `r0` and `r1` have", "rules `r2` and `r3` have"],
        ),
        # Identical actions never conflict.
        (_rules(*[("VIX > 30", _CLOSE) for _ in range(30)]), []),
    ],
    ids=["2", "3", "5", "40", "chain", "two-groups", "same-action"],
)
def test_W202_is_one_warning_per_group_of_conflicting_rules(book: str, messages: list[str]) -> None:
    found = [d for d in check("t.alvh", text=book) if d.code == "W202"]
    assert len(found) == len(messages)
    for d, expected in zip(found, messages, strict=True):
        assert d.message.startswith(expected)


def test_W202_groups_keep_the_output_of_a_large_book_bounded() -> None:
    rows = [(f"VIX > {10 + i % 7}", (_CLOSE, _ROLL)[i % 2]) for i in range(500)]
    found = [d for d in check("t.alvh", text=_rules(*rows)) if d.code == "W202"]
    assert len(found) == 1
    assert "and 495 more (500 in all)" in found[0].message


def test_alvh_check_keeps_its_book_out_of_the_collector(tmp_path: Path) -> None:
    """`alvh check` holds its last book until the process leaves (os._exit) rather than
    freeing every node first, and freezes it: else the first collection after the pause
    rescans it all. The next call thaws it, so in-process callers keep one book at most."""
    small, large = tmp_path / "small.alvh", tmp_path / "large.alvh"
    small.write_text(_rules(("VIX > 30", _CLOSE)), encoding="utf-8")
    large.write_text(_rules(*[("VIX > 30", _CLOSE)] * 2000), encoding="utf-8")
    runner = CliRunner()

    def frozen_after(book: Path) -> int:
        gc.collect()
        assert runner.invoke(cli, ["check", str(book)]).exit_code == 0
        return gc.get_freeze_count()

    try:
        gc.unfreeze()
        before = frozen_after(small)
        held = frozen_after(large) - before
        assert held > 2000 * 5  # the rules' nodes and spans are frozen, not freed
        assert frozen_after(large) - before < held * 1.2  # thawed, then one book again
        assert frozen_after(small) - before < held / 10  # and the large book let go
    finally:
        gc.unfreeze()
