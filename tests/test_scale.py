"""Scale (issue 10, part 4): the cost of one string literal, and W202 bounded by grouping.

The timings of large books are in benchmarks/bench_scale.py, not here: these tests only
pin what would make the benchmarks super-linear again, each in well under a second.
"""

from __future__ import annotations

import tracemalloc

import pytest

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
