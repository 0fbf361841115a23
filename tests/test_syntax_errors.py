"""Syntax diagnostics: malformed input → code, line, column and a message fragment; recovery.

Each row is ``(source, code, line, column, fragment of the message or help)``.
The first diagnostic of the source is compared.
"""

from __future__ import annotations

import re

import pytest

from alvh_dsl.lang.diagnostics import CODES, Diagnostic, render
from alvh_dsl.lang.parse import MAX_EXPR_DEPTH, MAX_FILE_BYTES, MAX_SYNTAX_ERRORS, parse

from .helpers import codes, rules_of

SYNTAX_ERRORS = [
    # E001: what was expected, what was found
    ("define x = (VIX > 1", "E001", 1, 20, "expected `)`, found the end of the file"),
    ("define x = (VIX > 1\nparam p = 3", "E001", 1, 20, "expected `)`, found the end of the line"),
    ("define x = SMA(VIX 20)", "E001", 1, 20, "expected `)`, found `20`"),
    ("define x = VIX > 1)", "E001", 1, 19, "expected the end of the line, found `)`"),
    ("param x =", "E001", 1, 10, "a number, a percentage or a quantity"),
    ("param = 3", "E001", 1, 7, "expected a name, found `=`"),
    ("param p = VIX", "E001", 1, 11, "found `VIX`"),
    ("rule", "E001", 1, 5, "expected a name, found the end of the file"),
    ("rule r when VIX >", "E001", 1, 18, "expected an expression, found the end of the file"),
    ("rule r priority high\n  when VIX > 1 then close condor", "E001", 1, 17, "found `high`"),
    ("rul r\n  when VIX > 1 then close condor", "E001", 1, 1, "did you mean `rule`?"),
    ("rule r\n  wehn VIX > 1 then close condor", "E001", 2, 3, "did you mean `when`?"),
    ("rule r\n  when VIX > 1 then clse condor", "E001", 2, 21, "did you mean the action `close`?"),
    # after an unknown action: the list of actions, and the one meant when it is close
    ("when VIX > 1 then frobnicate condor", "E001", 1, 19, "the actions are `open`, `roll`"),
    ("when VIX > 1 then 50% hedge", "E001", 1, 19, "`buy`, `sell` and `alert`"),
    (
        "rule r\n  when hedge.DTE < 2\n  then migrate 100% hedge to month 2",
        "E001",
        3,
        8,
        "did you mean the action `shift`? (the actions are `open`",
    ),
    # a misspelt unit word after a number (issue 9: `21 dyas`)
    ("param roll_dte = 21 dyas", "E001", 1, 21, "did you mean `days`?"),
    ("param roll_dte = 21dyas", "E001", 1, 20, "did you mean `days`?"),
    ("param p = 1 dya", "E001", 1, 13, "did you mean `day`?"),
    ("param w = 50 pionts", "E001", 1, 14, "did you mean `points`?"),
    ("param p = 3 weeks", "E001", 1, 13, "durations are written in days"),
    ("define x = 1.", "E001", 1, 13, "expected an operator, `and`, `or` or the end of the line"),
    ("param x = 1..2", "E001", 1, 12, "expected the end of the line, found `.`"),
    ("param r = 1e5", "E001", 1, 12, "expected the end of the line, found `e5`"),
    ("include params.alvh", "E001", 1, 9, 'expected a "string"'),
    ("when VIX > 1 then shift 50% hedge month 2", "E001", 1, 35, "expected `from` or `to`"),
    ("when VIX > 1 then buy VIX call spread 25-35 month 2", "E001", 1, 41, "expected `/`"),
    # a keyword where a value belongs is refused at the keyword
    ("define x = and > 3", "E001", 1, 12, "expected an expression, found `and`"),
    ("define x = VIX >\n  and VIX < 3", "E001", 2, 3, "expected an expression, found `and`"),
    ("when VIX > 1 and or > 3 then close condor", "E001", 1, 18, "found `or`"),
    # a line that ends too early is reported at its end, not at the next line's keyword
    (
        "param p =\nrule r\n  when VIX > 1 then close condor",
        "E001",
        1,
        10,
        "found the end of the line",
    ),
    # E002: a character that cannot start anything, with a hint for other languages' spellings
    ("define x = VIX & 2", "E002", 1, 16, "use `and`"),
    ("define x = VIX && 2", "E002", 1, 16, "use `and`"),
    ("define x = VIX || 2", "E002", 1, 16, "use `or`"),
    ("define x = VIX | 2", "E002", 1, 16, "use `or`"),
    ("define x = VIX ! 3", "E002", 1, 16, "use `not` (or `!=`)"),
    ("define x = VIX €", "E002", 1, 16, "unexpected character `€`"),
    # E003: strings
    ('rule r "abc', "E003", 1, 8, "this string is never closed"),
    ('description "abc\nparam p = 3', "E003", 1, 13, "triple quotes"),
    ('description """never closed\nparam p = 3', "E003", 1, 13, '"""triple-quoted""" string'),
    # E004–E007
    ("define x = 1 < VIX < 3", "E004", 1, 20, "X between A and B"),
    ("when VIX = 3 then close condor", "E005", 1, 10, "use `==`"),
    ("rule r\n  when VIX > 3\n  close condor", "E006", 3, 3, "write `then close`"),
    ('rule r\n  when VIX > 3\n  alert "x"', "E006", 3, 3, "`alert` starts an action"),
    ("then close condor", "E007", 1, 1, "`then` clause does not belong to any rule"),
    ("unless VIX > 3", "E007", 1, 1, "`unless` clause"),
    ("cooldown 3 days", "E007", 1, 1, "`cooldown` clause"),
    # E009: numbers
    ("param x = 99999999999999999", "E009", 1, 11, "is too large"),
    ("define x = VIX > 1000000000000001", "E009", 1, 18, "is too large"),
    ("rule r priority 1.5\n  when VIX > 1 then close condor", "E009", 1, 17, "not a whole number"),
    ("rule r priority 99999999999999999999", "E009", 1, 17, "below 1e15"),
    # options and clauses given twice are found while parsing
    (
        "when VIX > 1 then open iron condor month 1 month 2 short delta 0.1 wings 5",
        "E306",
        1,
        44,
        "given twice",
    ),
    (
        "rule r\n  when VIX > 1 then close condor\n  cooldown 1d\n  cooldown 2d",
        "E304",
        4,
        3,
        "twice",
    ),
]


@pytest.mark.parametrize(
    ("source", "code", "line", "column", "fragment"),
    SYNTAX_ERRORS,
    ids=[f"{row[1]}-{i}" for i, row in enumerate(SYNTAX_ERRORS)],
)
def test_syntax_error(source: str, code: str, line: int, column: int, fragment: str) -> None:
    result = parse(source, "t.alvh")
    assert result.diagnostics, "expected a diagnostic"
    first = result.diagnostics[0]
    assert (first.code, first.span.line, first.span.column) == (code, line, column), render(
        result.diagnostics, {"t.alvh": source}
    )
    assert fragment in f"{first.message} | {first.help}"
    assert first.is_error


def apply_fix(source: str, d: Diagnostic) -> str:
    """``source`` with the diagnostic's fix applied (spans are 1-based, end exclusive)."""
    assert d.fix is not None, d
    lines = source.split("\n")
    span = d.fix.span

    def offset(line: int, column: int) -> int:
        return sum(len(x) + 1 for x in lines[: line - 1]) + column - 1

    start, end = offset(span.line, span.column), offset(span.end_line, span.end_column)
    return source[:start] + d.fix.replacement + source[end:]


# Did-you-means carry a machine-applicable fix; applied, the line parses.
FIXES = [
    ("param roll_dte = 21 dyas", "days"),
    ("param roll_dte = 21dyas", "days"),
    ("param p = 1 dya", "day"),
    ("rul r\n  when VIX > 1 then close condor", "rule"),
    ("rule r\n  wehn VIX > 1 then close condor", "when"),
    ("rule r\n  when VIX > 1 then clse condor", "close"),
    ("rule r\n  when hedge.DTE < 2\n  then migrate 100% hedge to month 2", "shift"),
    ("rule r\n  when VIX > 1 then close condor\n  cooldwn 3 days", "cooldown"),
]


@pytest.mark.parametrize(("source", "replacement"), FIXES)
def test_did_you_mean_carries_a_fix(source: str, replacement: str) -> None:
    first = parse(source, "t.alvh").diagnostics[0]
    assert first.fix is not None and first.fix.replacement == replacement
    assert first.fix.span == first.span
    fixed = parse(apply_fix(source, first), "t.alvh")
    assert fixed.ok, render(fixed.diagnostics, {"t.alvh": apply_fix(source, first)})


@pytest.mark.parametrize(
    "source",
    ["when VIX > 1 then frobnicate condor", "param p = 3 weeks", "define x = VIX >> 1"],
)
def test_no_fix_without_a_guess(source: str) -> None:
    assert parse(source, "t.alvh").diagnostics[0].fix is None


def test_every_syntax_code_has_a_case() -> None:
    # E008 (header placement) is found by the checker; E406, E407 and E409 by the limits below.
    tested = {row[1] for row in SYNTAX_ERRORS}
    syntax = {c for c in CODES if c.startswith("E00")}
    assert syntax - tested == {"E008"}


# ------------------------------------------------------------------- near misses

VALID_LOOKALIKES = [
    "define x = VIX != 3",  # `!=` is not `!`
    "define x = VIX between 1 and 3",  # not a chained comparison
    "define x = (VIX > 1) == (SPX > 2)",  # a comparison of comparisons, parenthesised
    'description """spans\nlines"""',  # a closed triple-quoted string
    "rule r\n  when VIX > 3\n  then close condor",  # the action has its `then`
    "when VIX > 3 close condor",  # ... or sits on the `when` line
    "param p = 999999999999999",  # just below the limit
    "param rule_level = 3",  # a keyword inside a longer name
    "define x = condor.delta > 0.1",  # a keyword as a dotted name's field
]


@pytest.mark.parametrize("source", VALID_LOOKALIKES)
def test_valid_lookalike(source: str) -> None:
    result = parse(source)
    assert result.ok, render(result.diagnostics, {"<string>": source})


def test_reserved_word_as_a_declared_name_is_not_a_syntax_error() -> None:
    # `param month = 3` parses; the checker reports E105 (see test_checker.py).
    for source in ("param month = 3", "define when = VIX > 1", "rule close\n  when VIX > 1"):
        assert parse(source).ok


# --------------------------------------------------------------------- recovery


def test_recovery_reports_every_broken_line_and_keeps_the_good_ones() -> None:
    text = (
        "rule ok1\n"
        "  when VIX > 1 then close condor\n"
        "rule bad1\n"
        "  when VIX >> 1 then close condor\n"  # 4
        "rule ok2\n"
        "  when VIX > 2 then close condor\n"
        "param p = \n"  # 7: ends too early
        "rule ok3\n"
        "  when VIX > 3 then close condor\n"
        "define d = (VIX & 3)\n"  # 10
        "param q = 1\n"
        "rule bad2\n"
        "  when VIX > 4\n"
        "  close condor\n"  # 14: an action without `then`
        "rule ok4\n"
        "  when VIX > 5 then close condor\n"
    )
    result = parse(text, "t.alvh")
    assert [(d.code, d.span.line) for d in result.diagnostics] == [
        ("E001", 4),
        ("E001", 7),
        ("E002", 10),
        ("E006", 14),
    ]
    kept = [getattr(s, "id", None) or s.name for s in result.book.statements]
    # broken rules are dropped whole (no follow-on "rule has no action" noise)
    assert kept == ["ok1", "ok2", "ok3", "q", "ok4"]


def test_recovery_skips_continuation_lines_of_a_broken_line() -> None:
    text = "define d = VIX >> 1\n  and SPX > 2\n  or DTE < 3\ndefine e = VIX > 1\n"
    result = parse(text)
    assert codes(result.diagnostics) == ["E001"]
    assert [s.name for s in result.book.statements] == ["e"]


def test_broken_unnamed_rule_does_not_swallow_the_next_rule() -> None:
    text = "when VIX >> 1 close condor\nwhen DTE < 2 close hedge\n"
    result = parse(text)
    assert codes(result.diagnostics) == ["E001"]
    assert [r["id"] for r in rules_of("when DTE < 2 close hedge")] == [
        s.id for s in result.book.statements
    ]


def test_too_many_errors_stops_with_e409() -> None:
    text = "define x = VIX >> 1\n" * (MAX_SYNTAX_ERRORS + 20)
    result = parse(text)
    assert codes(result.diagnostics) == ["E001"] * MAX_SYNTAX_ERRORS + ["E409"]


def test_file_too_large_is_e406() -> None:
    text = "# padding\n" * (MAX_FILE_BYTES // 10 + 1)
    result = parse(text, "big.alvh")
    assert codes(result.diagnostics) == ["E406"]
    assert result.book.statements == ()


@pytest.mark.parametrize(
    "source",
    [
        "define x = " + "-" * (MAX_EXPR_DEPTH + 5) + "VIX > 1",
        "define x = " + " + ".join(["VIX"] * (MAX_EXPR_DEPTH + 5)) + " > 1",
        "when " + "not " * (MAX_EXPR_DEPTH + 5) + "VIX > 1 close condor",
    ],
    ids=["neg", "sum", "not"],
)
def test_nesting_limit_is_e407(source: str) -> None:
    result = parse(source)
    assert codes(result.diagnostics) == ["E407"]
    assert result.book.statements == ()


def test_nesting_just_under_the_limit_parses() -> None:
    assert parse("define x = " + "-" * (MAX_EXPR_DEPTH - 2) + "VIX > 1").ok


# -------------------------------------------------- messages are the project's own

_LARK_WORDS = re.compile(
    r"Unexpected|Expected one of|Token\(|\$END|_NL|UNIT_NUMBER|CONT_AND|COMP_OP|LPAR|"
    r"Previous tokens|lark",
)


@pytest.mark.parametrize("source", [row[0] for row in SYNTAX_ERRORS])
def test_no_lark_text_in_messages(source: str) -> None:
    for d in parse(source).diagnostics:
        text = re.sub(r"`[^`]*`", "", f"{d.message} {d.help or ''}")  # minus quoted source
        assert not _LARK_WORDS.search(text), text
        assert d.code in CODES


def test_render_puts_the_caret_under_the_span_with_tabs_and_wide_characters() -> None:
    source = 'rule r\n\twhen VIX > 1 then alert "日本語" and clse condor\n'
    result = parse(source, "t.alvh")
    text = render(result.diagnostics, {"t.alvh": source})
    lines = text.splitlines()
    assert lines[0] == "t.alvh:2:36: E001 expected an action, found `clse`"  # characters
    assert lines[2] == '2 |     when VIX > 1 then alert "日本語" and clse condor'
    # on screen the tab takes 4 cells and each CJK character 2: `clse` starts after
    # 4 + 24 (`when VIX > 1 then alert `) + 1 + 6 + 1 + 5 (` and `) = 41 cells
    assert lines[3] == "  | " + " " * 41 + "^^^^"
    assert render(result.diagnostics, {"t.alvh": source}, color=True).count("\x1b[") > 4
