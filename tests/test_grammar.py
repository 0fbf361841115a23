"""The grammar, table-driven: statements, expressions, unit literals, actions, layout.

Each table row is ``(source, expected)``; expected ASTs are written as the
s-expressions of :mod:`tests.helpers` (independent of the formatter).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from alvh_dsl.lang import ast as A
from alvh_dsl.lang.names import KEYWORDS
from alvh_dsl.lang.parse import grammar_path, parse, parser

from .helpers import codes, parse_ok, rules_of, sexp, span_tuple


def expr(source: str) -> Any:
    """The expression of ``define x = SOURCE``."""
    (stmt,) = parse_ok(f"define x = {source}").book.statements
    assert isinstance(stmt, A.Define)
    return stmt.expr


# ------------------------------------------------------------------ expressions

EXPRESSIONS = [
    # arithmetic precedence and associativity
    ("1 + 2 * 3", "(+ 1 (* 2 3))"),
    ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
    ("a - b - c", "(- (- a b) c)"),
    ("a - (b - c)", "(- a (- b c))"),
    ("a / b * c", "(* (/ a b) c)"),
    ("a + b * c - d / e", "(- (+ a (* b c)) (/ d e))"),
    # `of` binds tighter than * and groups to the right
    ("50% of condor.credit", "(of 50% condor.credit)"),
    ("a of b of c", "(of a (of b c))"),
    ("(a of b) of c", "(of (of a b) c)"),
    ("a * b of c", "(* a (of b c))"),
    ("hedge_budget of equity", "(of hedge_budget equity)"),
    # unary minus: binds tightest, and folds into literals
    ("-a of b", "(of (neg a) b)"),
    ("-200% of condor.credit", "(of -200% condor.credit)"),
    ("-3.5", "-3.5"),
    ("- 3.5", "-3.5"),
    ("-(3)", "-3"),
    ("- -3", "3"),
    ("--a", "(neg (neg a))"),
    ("-(a + b)", "(neg (+ a b))"),
    ("2 - -3", "(- 2 -3)"),
    ("-7 days", "-7d"),
    ("-$5", "-$5"),
    # comparisons
    ("VIX < 1", "(< VIX 1)"),
    ("VIX <= 1", "(<= VIX 1)"),
    ("VIX > 1", "(> VIX 1)"),
    ("VIX >= 1", "(>= VIX 1)"),
    ("VIX == 1", "(== VIX 1)"),
    ("VIX != 1", "(!= VIX 1)"),
    ("VIX > 1 + 2", "(> VIX (+ 1 2))"),
    ("(VIX > 1) == (SPX > 2)", "(== (> VIX 1) (> SPX 2))"),
    ("VIX between 14 and 35", "(between VIX 14 35)"),
    ("VIX + 1 between a - 1 and b * 2", "(between (+ VIX 1) (- a 1) (* b 2))"),
    ("VIX between 14 and 35 and SPX > 1", "(and (between VIX 14 35) (> SPX 1))"),
    ("VIX crosses above SMA(VIX, 20)", "(crosses-above VIX (SMA VIX 20))"),
    ("MACD crosses below MACD.signal", "(crosses-below MACD MACD.signal)"),
    # boolean logic: or < and < not < comparison; and/or chains are flattened
    ("a and b or c", "(or (and a b) c)"),
    ("a or b and c", "(or a (and b c))"),
    ("a and b and c", "(and a b c)"),
    ("a or b or c", "(or a b c)"),
    ("(a and b) and c", "(and (and a b) c)"),
    ("not a", "(not a)"),
    ("not not a", "(not (not a))"),
    ("not a and b", "(and (not a) b)"),
    ("not (a and b)", "(not (and a b))"),
    ("not VIX > 3", "(not (> VIX 3))"),
    # names and calls
    ("VIX.M2", "VIX.M2"),
    ("hedge.M1.notional", "hedge.M1.notional"),
    ("ADLINE", "ADLINE"),
    ("MACD.hist", "MACD.hist"),
    ("SMA(SPX, 20)", "(SMA SPX 20)"),
    ("RSI(14)", "(RSI 14)"),
    ("RSI(VIX, 14)", "(RSI VIX 14)"),
    ("MACD(SPX, 12, 26, 9).signal", "(MACD SPX 12 26 9).signal"),
    ("MACD(SPX).hist", "(MACD SPX).hist"),
    ("change(VIX, 5 days)", "(change VIX 5d)"),
    ("realized_vol(SPX, 20)", "(realized_vol SPX 20)"),
    ("abs(book.gamma)", "(abs book.gamma)"),
    ("min(VIX, max(SPX, 3))", "(min VIX (max SPX 3))"),
    ("f()", "(f)"),
    ("SMA(VIX - VIX.M1, 10)", "(SMA (- VIX VIX.M1) 10)"),
]


@pytest.mark.parametrize(("source", "expected"), EXPRESSIONS, ids=[s for s, _ in EXPRESSIONS])
def test_expression(source: str, expected: str) -> None:
    assert sexp(expr(source)) == expected


# ---------------------------------------------------------------- unit literals

UNITS = [
    ("2", 2, "bare"),
    ("0.16", 0.16, "bare"),
    ("-3.5", -3.5, "bare"),
    ("7d", 7, "days"),
    ("7 d", 7, "days"),
    ("7 days", 7, "days"),
    ("7\tdays", 7, "days"),
    ("1 day", 1, "days"),
    ("2.5 days", 2.5, "days"),
    ("50 points", 50, "points"),
    ("1 point", 1, "points"),
    ("50 pts", 50, "points"),
    ("50pts", 50, "points"),
    ("50 pt", 50, "points"),
    ("$1500", 1500, "dollars"),
    ("$1500.50", 1500.5, "dollars"),
    ("50%", 50, "percent"),
    ("2.5%", 2.5, "percent"),
    ("-200%", -200, "percent"),
]


@pytest.mark.parametrize(("literal", "value", "unit"), UNITS, ids=[u[0] for u in UNITS])
def test_unit_literal(literal: str, value: float, unit: str) -> None:
    (param,) = parse_ok(f"param p = {literal}").book.statements
    assert isinstance(param, A.Param)
    assert (param.value.value, param.value.unit) == (value, unit)
    # the same literal inside an expression
    number = expr(f"{literal} + 1").left
    assert (number.value, number.unit) == (value, unit)


@pytest.mark.parametrize(
    "literal", ["7 dayz", "7 dollars", "1e5", "$ 5", "5$", "50 %", "7days1", ".5", "1."]
)
def test_not_a_unit_literal(literal: str) -> None:
    result = parse(f"param p = {literal}")
    assert not result.ok
    assert set(codes(result.diagnostics)) <= {"E001", "E002"}


# ----------------------------------------------------------------------- actions

ACTIONS = [
    (
        "open iron condor month 1 short delta 0.16 wings 50 points",
        "(open :month 1 :delta 0.16 :wings 50pt)",
    ),
    (
        "open iron condor near 45 days short delta 0.16 wings 50 points quantity 2",
        "(open :near 45d :delta 0.16 :wings 50pt :qty 2)",
    ),
    # options in any order
    (
        "open iron condor wings 25 short delta 0.1 quantity 3 month 2",
        "(open :month 2 :delta 0.1 :wings 25 :qty 3)",
    ),
    (
        "open iron condor near entry_dte short delta short_delta wings wing_width",
        "(open :near entry_dte :delta short_delta :wings wing_width)",
    ),
    ("open iron condor month 1", "(open :month 1)"),  # missing options: the checker's job
    ("roll condor to month 2", "(roll :month 2)"),
    ("roll condor to month 2 keeping delta", "(roll :month 2 :keeping delta)"),
    ("roll condor to month 2 keeping width", "(roll :month 2 :keeping width)"),
    ("roll condor to month 2 keeping strikes", "(roll :month 2 :keeping strikes)"),
    ("roll condor to near 30 days", "(roll :near 30d)"),
    ("close condor", "(close condor)"),
    ("close hedge", "(close hedge)"),
    ("close hedge month 2", "(close hedge :month 2)"),
    ("close all", "(close all)"),
    ("close 50% of hedge month 2", "(close hedge :month 2 :fraction 50%)"),
    ("close 50% of condor", "(close condor :fraction 50%)"),
    ("close part of all", "(close all :fraction part)"),
    ("close (1 - 50%) of hedge", "(close hedge :fraction (- 1 50%))"),
    ("shift 50% hedge to month 2", "(shift 50% :to 2)"),
    ("shift 50% of hedge to month 2", "(shift 50% :to 2)"),
    ("shift 100% hedge from month 1 to month 3", "(shift 100% :from 1 :to 3)"),
    ("shift share hedge from month m1 to month m2", "(shift share :from m1 :to m2)"),
    ("buy 1 VIX future month 2", "(buy-future :count 1 :month 2)"),
    ("buy VIX futures month 2", "(buy-future :month 2)"),
    ("sell 3 VIX futures month 1", "(sell-future :count 3 :month 1)"),
    ("buy n VIX futures month 2", "(buy-future :count n :month 2)"),
    ("buy (n + 1) VIX futures month 2", "(buy-future :count (+ n 1) :month 2)"),
    ("buy VIX call spread 25/35 month 2", "(call-spread 25 35 :month 2)"),
    ("buy 2 VIX call spread 25/35 month 2", "(call-spread 25 35 :month 2 :count 2)"),
    ("buy VIX call spread 25 points/35 points month 2", "(call-spread 25pt 35pt :month 2)"),
    (
        "buy VIX call spread 20/30 month 3 costing 1% of equity",
        "(call-spread 20 30 :month 3 :costing (of 1% equity))",
    ),
    (
        "buy VIX call spread lo/hi month 2 costing $1500",
        "(call-spread lo hi :month 2 :costing $1500)",
    ),
    ('alert "stop loss hit"', '(alert "stop loss hit")'),
    ('alert "say \\"hi\\"\\tnow\\\\"', '(alert "say \\"hi\\"\\tnow\\\\")'),
    ('alert """two\nlines"""', '(alert "two\\nlines")'),
]


@pytest.mark.parametrize(("source", "expected"), ACTIONS, ids=[s for s, _ in ACTIONS])
def test_action(source: str, expected: str) -> None:
    for text in (f"when VIX > 1 then {source}", f"when VIX > 1 {source}"):
        (rule,) = rules_of(text)
        assert rule["actions"] == [expected]


def test_several_actions_joined_with_and() -> None:
    (rule,) = rules_of('when VIX > 1 then close condor and alert "x" and close hedge month 2')
    assert rule["actions"] == ["(close condor)", '(alert "x")', "(close hedge :month 2)"]


def test_vix_is_a_keyword_in_actions_and_a_name_in_expressions() -> None:
    (rule,) = rules_of("when VIX > VIX.M1 buy VIX future month 2")
    assert rule["when"] == "(> VIX VIX.M1)"
    assert rule["actions"] == ["(buy-future :month 2)"]


# -------------------------------------------------------------------- statements


def test_every_top_level_statement() -> None:
    text = (
        'rulebook "Book" version "1.0"\n'
        'description "What it does"\n'
        "param roll_dte = 7 days\n"
        "define due = DTE <= roll_dte\n"
        'include "lib/params.alvh"\n'
        'rule roll "Roll it" priority 10\n'
        "  when due then roll condor to month 2\n"
        "when DTE < 2 shift 50% hedge to month 2\n"
    )
    stmts = parse_ok(text).book.statements
    assert [s.kind for s in stmts] == [
        "header",
        "description",
        "param",
        "define",
        "include",
        "rule",
        "rule",
    ]
    header, description, param, define, include, named, unnamed = stmts
    assert (header.name, header.version) == ("Book", "1.0")
    assert description.text == "What it does"
    assert param.name == "roll_dte"
    assert (define.name, sexp(define.expr)) == ("due", "(<= DTE roll_dte)")
    assert include.path == "lib/params.alvh"
    assert (named.id, named.title, named.priority, named.named) == ("roll", "Roll it", 10, True)
    assert (unnamed.id, unnamed.named) == ("dte_lt_2_shift_50pct_hedge_to_month_2", False)


def test_header_without_version() -> None:
    (header,) = parse_ok('rulebook "B"').book.statements
    assert header.version is None


RULES = [
    # the one-line form; `then` may be left out only on the `when` line
    (
        "when DTE < 2 shift 50% hedge to month 2",
        [
            {
                "id": "dte_lt_2_shift_50pct_hedge_to_month_2",
                "named": False,
                "title": None,
                "priority": 0,
                "when": "(< DTE 2)",
                "unless": None,
                "actions": ["(shift 50% :to 2)"],
                "cooldown": None,
            }
        ],
    ),
    # clauses in any order, one per line
    (
        "rule r\n  cooldown 3d\n  then close condor\n  unless VIX > 40\n  when SPX < 1\n",
        [
            {
                "id": "r",
                "named": True,
                "title": None,
                "priority": 0,
                "when": "(< SPX 1)",
                "unless": "(> VIX 40)",
                "actions": ["(close condor)"],
                "cooldown": "3d",
            }
        ],
    ),
    # several clauses on the rule line
    (
        'rule r "T" priority -5 when VIX > 1 then close condor cooldown 2 days',
        [
            {
                "id": "r",
                "named": True,
                "title": "T",
                "priority": -5,
                "when": "(> VIX 1)",
                "unless": None,
                "actions": ["(close condor)"],
                "cooldown": "2d",
            }
        ],
    ),
    # `then` on several lines adds actions in order; several `unless` lines are or-ed
    (
        "rule r\n"
        "  when VIX > 1\n"
        "  then close condor\n"
        '  then alert "a" and close hedge\n'
        "  unless SPX < 1 or SPX > 9\n"
        "  unless DTE < 2\n",
        [
            {
                "id": "r",
                "named": True,
                "title": None,
                "priority": 0,
                "when": "(> VIX 1)",
                "unless": "(or (< SPX 1) (> SPX 9) (< DTE 2))",
                "actions": ["(close condor)", '(alert "a")', "(close hedge)"],
                "cooldown": None,
            }
        ],
    ),
    # a second `when` starts a new unnamed rule; other clauses attach to the rule above
    (
        "rule r\n  when VIX > 1\n  then close condor\nwhen DTE < 2 close hedge\n  cooldown 1 day\n",
        [
            {
                "id": "r",
                "named": True,
                "title": None,
                "priority": 0,
                "when": "(> VIX 1)",
                "unless": None,
                "actions": ["(close condor)"],
                "cooldown": None,
            },
            {
                "id": "dte_lt_2_close_hedge_cooldown_1_day",
                "named": False,
                "title": None,
                "priority": 0,
                "when": "(< DTE 2)",
                "unless": None,
                "actions": ["(close hedge)"],
                "cooldown": "1d",
            },
        ],
    ),
]


@pytest.mark.parametrize(("source", "expected"), RULES)
def test_rules(source: str, expected: list[dict[str, object]]) -> None:
    assert rules_of(source) == expected


# -------------------------------------------------------- lines and continuation

# Each source must mean `when VIX > 1 and SPX < 2 then close condor` (or the or-version).
CONTINUATIONS = [
    ("line ends in `and`", "rule r\n  when VIX > 1 and\n      SPX < 2\n  then close condor"),
    ("next line starts with `and`", "rule r\n  when VIX > 1\n   and SPX < 2\n  then close condor"),
    ("line ends in `(`", "rule r\n  when (\n    VIX > 1 and SPX < 2\n  )\n  then close condor"),
    ("inside parentheses", "rule r\n  when (VIX > 1\n        and SPX < 2)\n  then close condor"),
    ("line ends in a comparison", "rule r\n  when VIX >\n    1 and SPX < 2\n  then close condor"),
    ("line ends in `when`", "rule r\n  when\n    VIX > 1 and SPX < 2\n  then close condor"),
    ("line ends in `then`", "rule r\n  when VIX > 1 and SPX < 2 then\n    close condor"),
    (
        "comments and blank lines between",
        "rule r  # head\n\n  when VIX > 1 and  # first\n\n      SPX < 2  # second\n"
        "  then close condor\n",
    ),
    ("CRLF line ends", "rule r\r\n  when VIX > 1\r\n   and SPX < 2\r\n  then close condor\r\n"),
    ("tabs", "rule r\n\twhen VIX > 1\n\t and SPX < 2\n\tthen close condor\n"),
    ("byte-order mark", "\ufeffrule r\n  when VIX > 1 and SPX < 2\n  then close condor"),
]


@pytest.mark.parametrize(("label", "source"), CONTINUATIONS, ids=[c[0] for c in CONTINUATIONS])
def test_continuation(label: str, source: str) -> None:
    (rule,) = rules_of(source)
    assert rule["when"] == "(and (> VIX 1) (< SPX 2))"
    assert rule["actions"] == ["(close condor)"]


def test_or_continuation_and_arguments_over_lines() -> None:
    (rule,) = rules_of(
        "rule r\n  when VIX > 1\n    or max(SPX,\n           3) < 2\n  then close all"
    )
    assert rule["when"] == "(or (> VIX 1) (< (max SPX 3) 2))"
    (define,) = parse_ok("define x =\n  VIX > 1 +\n  2").book.statements
    assert sexp(define.expr) == "(> VIX (+ 1 2))"


def test_newline_ends_a_clause() -> None:
    # Without an operator at the end, the next line is a new statement.
    result = parse_ok("define a = VIX > 1\ndefine b = SPX > 2\n")
    assert [s.name for s in result.book.statements] == ["a", "b"]


# ---------------------------------------------------------- comments and strings


def test_comments_are_collected_not_parsed() -> None:
    text = (
        "# leading\n"
        'param p = 3  # trailing, with "quotes" and # hashes\n'
        "define d = VIX > 1 # no space\n"
        'when VIX > 1 alert "a # is not a comment"\n'
        "  # own line, indented\n"
    )
    result = parse_ok(text)
    assert [(c.line, c.text, c.trailing) for c in result.comments] == [
        (1, "# leading", False),
        (2, '# trailing, with "quotes" and # hashes', True),
        (3, "# no space", True),
        (5, "# own line, indented", False),
    ]
    assert rules_of(text)[0]["actions"] == ['(alert "a # is not a comment")']


def test_triple_quoted_strings() -> None:
    text = 'description """First line,\n  "quoted" second line\n# not a comment"""\nparam p = 1\n'
    result = parse_ok(text)
    description, param = result.book.statements
    assert description.text == 'First line,\n  "quoted" second line\n# not a comment'
    assert result.comments == ()
    assert span_tuple(description.span) == (1, 1, 3, 19)
    assert param.span.line == 4


def test_string_escapes() -> None:
    (header,) = parse_ok(r'rulebook "a\"b\\c\nd\te\rf\q"').book.statements
    assert header.name == 'a"b\\c\nd\te\rf\\q'


# ------------------------------------------------------------------------ spans


def test_spans_of_a_rule() -> None:
    text = 'rule r "T" priority 5\n  when VIX > 20\n  then close condor\n'
    (rule,) = parse_ok(text).book.statements
    assert isinstance(rule, A.Rule)
    assert span_tuple(rule.span) == (1, 1, 3, 20)
    assert span_tuple(rule.id_span) == (1, 6, 1, 7)
    assert rule.when is not None
    assert span_tuple(rule.when.span) == (2, 8, 2, 16)
    assert span_tuple(rule.when.left.span) == (2, 8, 2, 11)
    assert span_tuple(rule.actions[0].span) == (3, 8, 3, 20)


def test_spans_of_statements_and_expressions() -> None:
    text = (
        "param p = 7 days\n"
        "define x = - 3.5 + MACD(SPX).hist\n"
        "define y = VIX > 1 and\n"
        "  SPX < 2\n"
        'include "lib.alvh"\n'
    )
    param, x, y, include = parse_ok(text).book.statements
    assert span_tuple(param.span) == (1, 1, 1, 17)
    assert span_tuple(param.name_span) == (1, 7, 1, 8)
    assert span_tuple(param.value.span) == (1, 11, 1, 17)
    folded = x.expr.left
    assert (folded.kind, folded.value) == ("number", -3.5)
    assert span_tuple(folded.span) == (2, 12, 2, 17)  # the `-` is part of the literal
    assert span_tuple(x.expr.right.span) == (2, 20, 2, 34)
    assert span_tuple(y.expr.span) == (3, 12, 4, 10)
    assert span_tuple(include.path_span) == (5, 9, 5, 19)
    assert span_tuple(include.span) == (5, 1, 5, 19)


def test_spans_carry_the_file_name() -> None:
    result = parse("param p = 1", "books/a.alvh")
    (param,) = result.book.statements
    assert param.span.file == "books/a.alvh" == result.book.file
    assert str(param.span) == "books/a.alvh:1:1"


def test_empty_and_comment_only_files() -> None:
    for text in ("", "\n\n", "# only a comment\n", "   \n\t\n"):
        result = parse_ok(text)
        assert result.book.statements == ()


# ------------------------------------------------------ the grammar file itself


def _grammar_keywords() -> dict[str, str]:
    text = grammar_path().read_text(encoding="utf-8")
    return dict(re.findall(r'^([A-Z_]+):\s*"([A-Za-z]+)"\s*$', text, flags=re.M))


def test_keywords_match_the_grammar() -> None:
    terminals = _grammar_keywords()
    assert len(terminals) > 40  # the regex did find the keyword block
    assert set(terminals.values()) == set(KEYWORDS)
    # The post-lexer re-types a keyword read as a NAME by upper-casing it.
    assert all(name == word.upper() for name, word in terminals.items())


def test_parser_is_built_once() -> None:
    assert parser() is parser()


@pytest.mark.parametrize("word", sorted(KEYWORDS - {"VIX"}))
def test_no_keyword_is_a_value(word: str) -> None:
    # `VIX + and`: no keyword can follow `+`, so each one is refused where it stands
    # (not read as a name and reported later as an unknown name).
    result = parse(f"define x = VIX + {word}")
    assert not result.ok
    assert codes(result.diagnostics) == ["E001"]
    assert f"found `{word}`" in result.diagnostics[0].message
