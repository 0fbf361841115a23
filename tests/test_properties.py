"""Properties over generated rulebooks (hypothesis), fuzzed text, and deep nesting.

Valid books are generated as source text from a small grammar that mirrors the
language (statements, precedence-aware expressions, actions, continuation
lines, comments), so every generated book must parse. On those:

- ``fmt`` is idempotent, keeps the meaning (AST minus spans) and every comment;
- the AST survives a JSON round trip;
- checking never raises, and when a book checks clean, traced and untraced
  evaluation agree.

On random text and on mutated valid books, ``parse`` and ``load_checked``
never raise and only ever report the project's own diagnostics.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alvh_dsl.api import load, load_checked
from alvh_dsl.lang import ast as A
from alvh_dsl.lang.diagnostics import CODES, has_errors, render
from alvh_dsl.lang.explain import render_evaluation
from alvh_dsl.lang.fmt import format_source
from alvh_dsl.lang.parse import parse
from alvh_dsl.lang.state import State

# --------------------------------------------------------------- generators

PARAMS = ["p0", "p1", "p2"]
NUM_NAMES = ["VIX", "SPX", "DTE", "condor.pnl", "condor.delta", "VIX.M2", "hedge.layers"]
SERIES_CALLS = ["SMA(VIX, 20)", "EMA(SPX, 5)", "RSI(14)", "MACD.signal", "change(VIX, 5 days)"]
LITERALS = st.sampled_from(
    ["0", "2", "0.16", "3.5", "7d", "7 days", "1 day", "50 pts", "50 points", "$1500", "25%", "1e0"]
).filter(lambda s: s != "1e0")
COMPARE_OPS = ["<", "<=", ">", ">=", "==", "!="]

# precedence levels, loosest first (as in docs/language.md)
OR, AND, NOT, CMP, SUM, PROD, OF, NEG, ATOM = range(1, 10)


def wrap(text_prec: tuple[str, int], need: int, draw: Any) -> str:
    """Parenthesise when the grammar needs it, and now and then when it does not."""
    text, prec = text_prec
    if prec < need or draw(st.integers(0, 9)) == 0:
        return f"({text})"
    return text


@st.composite
def num_expr(draw: Any, depth: int = 2) -> tuple[str, int]:
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        kind = draw(st.sampled_from(["lit", "name", "param", "call", "fn"]))
        if kind == "lit":
            return draw(LITERALS), ATOM
        if kind == "name":
            return draw(st.sampled_from(NUM_NAMES)), ATOM
        if kind == "param":
            return draw(st.sampled_from(PARAMS)), ATOM
        if kind == "call":
            return draw(st.sampled_from(SERIES_CALLS)), ATOM
        inner = wrap(draw(num_expr(depth - 1)), OR, draw)
        if draw(st.booleans()):
            return f"abs({inner})", ATOM
        other = wrap(draw(num_expr(depth - 1)), OR, draw)
        return f"{draw(st.sampled_from(['min', 'max']))}({inner}, {other})", ATOM
    op = draw(st.sampled_from(["+", "-", "*", "/", "of", "neg"]))
    if op == "neg":
        return "-" + wrap(draw(num_expr(depth - 1)), NEG, draw), NEG
    prec = {"+": SUM, "-": SUM, "*": PROD, "/": PROD, "of": OF}[op]
    if op == "of":  # groups to the right
        left = wrap(draw(num_expr(depth - 1)), NEG, draw)
        right = wrap(draw(num_expr(depth - 1)), OF, draw)
    else:
        left = wrap(draw(num_expr(depth - 1)), prec, draw)
        right = wrap(draw(num_expr(depth - 1)), prec + 1, draw)
    return f"{left} {op} {right}", prec


# Typed mode: atoms by unit, and only unit-preserving operations, so that most
# generated books check clean and can be evaluated. Params have fixed units then
# (see TYPED_PARAMS).
TYPED_ATOMS = {
    "points": ["VIX", "SPX", "VIX.M2", "VIX.M1", "SMA(VIX, 20)", "EMA(SPX, 5)", "50 points", "20"],
    "dollars": ["condor.pnl", "condor.credit", "equity", "book.gamma", "$1500", "-$200"],
    "days": ["DTE", "condor.DTE", "hedge.DTE", "7 days", "p1", "2"],
    "number": ["condor.delta", "RSI(14)", "0.16", "p2", "RSI(VIX, 3)"],
}
TYPED_SERIES = ["VIX", "SPX", "VIX.M2", "SMA(VIX, 2)", "MACD", "MACD.signal", "20", "p0"]
TYPED_PARAMS = ["param p0 = 2", "param p1 = 45 days", "param p2 = 0.5"]


@st.composite
def typed_num(draw: Any, unit: str, depth: int = 2) -> tuple[str, int]:
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(TYPED_ATOMS[unit])), ATOM
    op = draw(st.sampled_from(["+", "-", "*", "/", "of", "neg", "abs", "min"]))
    if op == "neg":
        return "-" + wrap(draw(typed_num(unit, depth - 1)), NEG, draw), NEG
    if op in ("abs", "min"):
        a = wrap(draw(typed_num(unit, depth - 1)), OR, draw)
        if op == "abs":
            return f"abs({a})", ATOM
        b = wrap(draw(typed_num(unit, depth - 1)), OR, draw)
        return f"{draw(st.sampled_from(['min', 'max']))}({a}, {b})", ATOM
    if op == "of":
        right = wrap(draw(typed_num(unit, depth - 1)), OF, draw)
        return f"{draw(st.sampled_from(['25%', '150%', 'p2']))} of {right}", OF
    prec = SUM if op in "+-" else PROD
    left = wrap(draw(typed_num(unit, depth - 1)), prec, draw)
    if op in "*/":
        return f"{left} {op} {draw(st.sampled_from(['2', '0.5', 'p2']))}", prec
    right = wrap(draw(typed_num(unit, depth - 1)), prec + 1, draw)
    return f"{left} {op} {right}", prec


@st.composite
def typed_atom_bool(draw: Any) -> tuple[str, int]:
    kind = draw(st.sampled_from(["cmp", "cmp", "between", "crosses"]))
    if kind == "crosses":
        a, b = (draw(st.sampled_from(TYPED_SERIES)) for _ in range(2))
        return f"{a} crosses {draw(st.sampled_from(['above', 'below']))} {b}", CMP
    unit = draw(st.sampled_from(sorted(TYPED_ATOMS)))
    if kind == "between":
        v, lo, hi = (wrap(draw(typed_num(unit, 1)), SUM, draw) for _ in range(3))
        return f"{v} between {lo} and {hi}", CMP
    a, b = (wrap(draw(typed_num(unit, 1)), SUM, draw) for _ in range(2))
    return f"{a} {draw(st.sampled_from(COMPARE_OPS))} {b}", CMP


def join_bool(parts: list[str], op: str, draw: Any) -> str:
    """Join operands with and/or, sometimes across lines (both continuation styles)."""
    out = parts[0]
    for part in parts[1:]:
        style = draw(st.integers(0, 6))
        if style == 0:
            out += f" {op}\n      {part}"  # the line ends in the operator
        elif style == 6:
            out += f" {op}\n      {draw(COMMENT)}\n      {part}"  # a comment line inside
        elif style == 1:
            out += f"\n    {op} {part}"  # the next line starts with it
        else:
            out += f" {op} {part}"
    return out


@st.composite
def bool_expr(
    draw: Any, depth: int = 2, defines: tuple[str, ...] = (), typed: bool = False
) -> tuple[str, int]:
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        kind = draw(st.sampled_from(["cmp", "cmp", "between", "crosses", "define"]))
        if kind == "define" and defines:
            return draw(st.sampled_from(defines)), ATOM
        if typed:
            return draw(typed_atom_bool())
        if kind == "between":
            v, lo, hi = (wrap(draw(num_expr(1)), SUM, draw) for _ in range(3))
            return f"{v} between {lo} and {hi}", CMP
        if kind == "crosses":
            a, b = (wrap(draw(num_expr(1)), SUM, draw) for _ in range(2))
            return f"{a} crosses {draw(st.sampled_from(['above', 'below']))} {b}", CMP
        a, b = (wrap(draw(num_expr(1)), SUM, draw) for _ in range(2))
        return f"{a} {draw(st.sampled_from(COMPARE_OPS))} {b}", CMP
    op = draw(st.sampled_from(["and", "or", "not", "eq"]))
    if op == "not":
        return "not " + wrap(draw(bool_expr(depth - 1, defines, typed)), NOT, draw), NOT
    if op == "eq":  # comparing two conditions needs parentheses on both sides
        a, b = (draw(bool_expr(depth - 1, defines, typed))[0] for _ in range(2))
        return f"({a}) {draw(st.sampled_from(['==', '!=']))} ({b})", CMP
    need = AND if op == "or" else NOT
    n = draw(st.integers(2, 3))
    parts = [wrap(draw(bool_expr(depth - 1, defines, typed)), need, draw) for _ in range(n)]
    return join_bool(parts, op, draw), (OR if op == "or" else AND)


def month() -> st.SearchStrategy[str]:
    return st.sampled_from(["1", "2", "3", "p0"])


MESSAGE = st.text(alphabet=string.ascii_letters + ' "\\#%$\t\n-', max_size=12)


def quoted(text: str) -> str:
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{body}"'


@st.composite
def action(draw: Any) -> str:
    kind = draw(st.sampled_from(["open", "roll", "close", "shift", "future", "spread", "alert"]))
    if kind == "open":
        opts = [
            draw(st.sampled_from([f"month {draw(month())}", "near 45 days", "near p1"])),
            f"short delta {draw(st.sampled_from(['0.16', '0.1', 'p2']))}",
            f"wings {draw(st.sampled_from(['50', '25 points']))}",
        ]
        if draw(st.booleans()):
            opts.append(f"quantity {draw(st.sampled_from(['1', '2', 'p0', '(p0 + 1)']))}")
        return "open iron condor " + " ".join(draw(st.permutations(opts)))
    if kind == "roll":
        keep = draw(st.sampled_from(["", " keeping delta", " keeping width", " keeping strikes"]))
        return f"roll condor to month {draw(month())}{keep}"
    if kind == "close":
        target = draw(st.sampled_from(["condor", "hedge", "all", "hedge month 2"]))
        share = draw(st.sampled_from(["", "50% of ", "p2 of ", "(1 - 25%) of "]))
        return f"close {share}{target}"
    if kind == "shift":
        src = draw(st.sampled_from(["", " from month 2"]))
        of = draw(st.sampled_from(["", "of "]))
        return f"shift {draw(st.sampled_from(['50%', '100%', 'p2']))} {of}hedge{src} to month 3"
    if kind == "future":
        count = draw(st.sampled_from(["", "1 ", "3 ", "p0 ", "(p0 * 2) "]))
        noun = draw(st.sampled_from(["future", "futures"]))
        return f"{draw(st.sampled_from(['buy', 'sell']))} {count}VIX {noun} month {draw(month())}"
    if kind == "spread":
        size = draw(st.sampled_from(["", "2 "]))
        cost = (
            "" if size else draw(st.sampled_from(["", " costing 2% of equity", " costing $1500"]))
        )
        return f"buy {size}VIX call spread 25/35 month {draw(month())}{cost}"
    return "alert " + quoted(draw(MESSAGE))


COMMENT = st.text(alphabet=string.ascii_letters + " #\"'()=", max_size=15).map(
    lambda s: "# " + s.strip()
)


@st.composite
def maybe_comment(draw: Any) -> str:
    return f"  {draw(COMMENT)}" if draw(st.integers(0, 3)) == 0 else ""


@st.composite
def rule(draw: Any, index: int, defines: tuple[str, ...], typed: bool = False) -> str:
    when = draw(bool_expr(2, defines, typed))[0]
    actions = [draw(action()) for _ in range(draw(st.integers(1, 2)))]
    if draw(st.integers(0, 3)) == 0:  # the one-line form
        lines = [f"when {when} {' and '.join(actions)}{draw(maybe_comment())}"]
        if draw(st.booleans()):
            lines.append(f"  unless {draw(bool_expr(1, defines, typed))[0]}")
        return "\n".join(lines)
    head = f"rule r{index}"
    if draw(st.booleans()):
        head += " " + quoted(draw(MESSAGE))
    if draw(st.booleans()):
        head += f" priority {draw(st.integers(-5, 20))}"
    then = draw(st.sampled_from(["  then ", "  then\n    "]))  # `then` may stand alone
    clauses = [f"  when {when}", f"{then}{' and '.join(actions)}"]
    clauses += [
        f"  unless {draw(bool_expr(1, defines, typed))[0]}" for _ in range(draw(st.integers(0, 2)))
    ]
    if draw(st.booleans()):
        clauses.append(f"  cooldown {draw(st.sampled_from(['3 days', '1d', 'p1']))}")
    # any order, but a `when` first: a later `when` would start a new rule
    body = clauses[:1] + draw(st.permutations(clauses[1:]))
    body = [line + draw(maybe_comment()) for line in body]
    if draw(st.integers(0, 4)) == 0:
        body.insert(draw(st.integers(1, len(body))), f"  {draw(COMMENT)}")
    return head + draw(maybe_comment()) + "\n" + "\n".join(body)


@st.composite
def book_text(draw: Any, typed: bool | None = None) -> str:
    """A valid book; ``typed`` books keep units consistent (most check clean)."""
    if typed is None:
        typed = draw(st.booleans())
    out: list[str] = []
    if draw(st.booleans()):
        out.append('rulebook "Generated" version "1"')
    if draw(st.booleans()):
        text = draw(MESSAGE)
        if "\n" in text and '"' not in text and "\\" not in text and draw(st.booleans()):
            out.append(f'description """{text}"""')  # spans lines
        else:
            out.append("description " + quoted(text))
    if typed:
        out += [line + draw(maybe_comment()) for line in TYPED_PARAMS]
    else:
        out += [f"param {name} = {draw(LITERALS)}{draw(maybe_comment())}" for name in PARAMS]
    defines: list[str] = []
    for i in range(draw(st.integers(0, 3))):
        body = draw(bool_expr(2, tuple(defines), typed))[0]
        out.append(f"define d{i} = {body}{draw(maybe_comment())}")
        defines.append(f"d{i}")
    for i in range(draw(st.integers(1, 4))):
        out.append(draw(rule(i, tuple(defines), typed)))
    separators = [draw(st.sampled_from(["\n", "\n\n", f"\n{draw(COMMENT)}\n"])) for _ in out]
    text = "".join(stmt + sep for stmt, sep in zip(out, separators, strict=True))
    return text.replace("\n", "\r\n") if draw(st.integers(0, 7)) == 0 else text


# ------------------------------------------------------------- properties


def meaning(text: str) -> Any:
    result = parse(text)
    assert result.ok, render(result.diagnostics, {"<string>": text})
    return A.strip_spans(result.book)["statements"]


def comment_texts(text: str) -> list[str]:
    return sorted(c.text for c in parse(text).comments)


@given(book_text())
@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])
def test_generated_books_format_idempotently_and_keep_meaning(text: str) -> None:
    before = meaning(text)
    out = format_source(text)
    assert format_source(out) == out
    assert meaning(out) == before
    assert comment_texts(out) == comment_texts(text)


@given(book_text())
@settings(max_examples=60)
def test_json_round_trip(text: str) -> None:
    book = parse(text).book
    again = A.Rulebook.model_validate_json(book.model_dump_json())
    assert again == book
    assert A.strip_spans(again) == A.strip_spans(book)


STATE = State.model_validate(
    {
        "date": "2024-03-14",
        "market": {"SPX": 5150.5, "VIX": 23.4, "futures": [{"month": 2, "price": 22.9}]},
        "condors": [
            {
                "expiry": "2024-03-20",
                "short_put": 4950,
                "long_put": 4900,
                "short_call": 5300,
                "long_call": 5350,
                "credit": 6.2,
                "mark": 2.1,
            }
        ],
        "equity": 250000.0,
        "history": {
            "dates": ["2024-03-11", "2024-03-12", "2024-03-13"],
            "series": {"VIX": [20.0, 24.0, 22.0], "SPX": [5100.0, None, 5120.0]},
        },
    }
)


@given(book_text(typed=True))
@settings(max_examples=80)
def test_checking_never_raises_and_clean_books_evaluate_consistently(text: str) -> None:
    program = load_checked("gen.alvh", text=text)
    assert all(d.code in CODES for d in program.diagnostics)
    if has_errors(program.diagnostics):
        return
    book = load("gen.alvh", text=text)  # compiled with the series backend it needs
    traced, fast = book.evaluate(STATE, trace=True), book.evaluate(STATE, trace=False)
    for a, b in zip(traced.decisions, fast.decisions, strict=True):
        assert (a.rule, a.status, a.reason) == (b.rule, b.status, b.reason)
        assert [x.to_dict() for x in a.actions] == [x.to_dict() for x in b.actions]
    # the words for people never fail either, and the normalised forms parse back
    explained = book.explain()
    for line in explained.splitlines():
        if line.startswith("    normalised: "):
            assert parse(line.removeprefix("    normalised: ")).ok, line
    render_evaluation(traced, book.name, explain=True)
    json.dumps(traced.to_dict())


# ------------------------------------------------------------------ fuzzing

_LARK_TEXT = re.compile(r"Unexpected|Expected one of|Token\(|\$END|_NL\b|CONT_AND|UNIT_NUMBER")


def assert_only_own_diagnostics(text: str) -> None:
    result = parse(text, "fuzz.alvh")
    program = load_checked("fuzz.alvh", text=text)
    for d in (*result.diagnostics, *program.diagnostics):
        assert d.code in CODES
        # backquoted text is the user's own (`found `CONT_AND`` for that input)
        words = re.sub(r"`[^`]*`", "", f"{d.message} {d.help or ''}")
        assert not _LARK_TEXT.search(words), d.message
    render(program.diagnostics, program.sources)  # rendering never fails either


LANGUAGE_CHARS = string.ascii_letters + string.digits + " \t\n\r()<>=!.,%$#\"-+*/&|_'\\€é"


@given(st.text(alphabet=LANGUAGE_CHARS, max_size=200))
@settings(max_examples=150)
def test_random_text(text: str) -> None:
    assert_only_own_diagnostics(text)


TOKENS = [
    "when", "then", "and", "or", "not", "rule", "param", "define", "include", "unless",
    "cooldown", "(", ")", "=", "==", "<", ">", "between", "crosses above", "of", "%",
    "\n", "\n  and ", '"', '"""', "#", "month", "VIX", "$", "7d", "-", ",", ".",
    "open iron condor", "close", "shift", "buy", "priority", "100000000000000000",
]  # fmt: skip


@st.composite
def mutated(draw: Any, seeds: list[str]) -> str:
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert_char", "insert_token", "delete", "replace"]))
        if op == "insert_char":
            text = text[:pos] + draw(st.sampled_from(LANGUAGE_CHARS)) + text[pos:]
        elif op == "insert_token":
            text = text[:pos] + draw(st.sampled_from(TOKENS)) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 8)) :]
        else:
            text = (
                text[:pos] + draw(st.sampled_from(TOKENS)) + text[pos + draw(st.integers(1, 5)) :]
            )
    return text


SEEDS = [
    (Path(__file__).parent / "golden" / "books" / "messy.alvh").read_text(encoding="utf-8"),
    "rule r\n  when VIX > 1 and\n    SPX < 2\n  then close condor\n  cooldown 2d\n",
    'when DTE < 2 shift 50% hedge to month 2  # c\ndescription """a\nb"""\n',
]


@given(mutated(SEEDS))
@settings(max_examples=150)
@example('rule r\n  when VIX > 1 and\n    SPX < 2\n  then close condor\n  cooldown 2d\n"""')
def test_mutated_books(text: str) -> None:
    assert_only_own_diagnostics(text)


@given(st.data())
@settings(max_examples=60)
def test_mutated_generated_books(data: st.DataObject) -> None:
    seed = data.draw(book_text())
    assert_only_own_diagnostics(data.draw(mutated([seed])))


def test_mutated_shared_books(shared_dir: Path) -> None:
    seeds = [
        p.read_text(encoding="utf-8") for p in sorted((shared_dir / "rulebooks").rglob("*.alvh"))
    ]

    @given(mutated(seeds))
    @settings(max_examples=100)
    def run(text: str) -> None:
        assert_only_own_diagnostics(text)

    run()


# ------------------------------------------------------------------ nesting

DEEP = [
    ("5000 parentheses", "define x = " + "(" * 5000 + "VIX" + ")" * 5000 + " > 1"),
    ("5000 unclosed parentheses", "define x = " + "(" * 5000 + "VIX > 1"),
    ("a + a + … 5000 times", "define x = " + " + ".join(["VIX"] * 5000) + " > 1"),
    ("a of a of … 3000 times", "define x = " + " of ".join(["VIX"] * 3000) + " > 1"),
    ("10000 nots", "define x = " + "not " * 10000 + "VIX > 1"),
    ("10000 minus signs", "define x = " + "-" * 10000 + "VIX > 1"),
    ("3000 nested calls", "define x = " + "abs(" * 3000 + "VIX" + ")" * 3000 + " > 1"),
    ("5000 ands", "rule r\n  when " + " and ".join(["VIX > 1"] * 5000) + " then close condor"),
    ("one-line rule", "when " + "(" * 5000 + "VIX > 1" + ")" * 5000 + " close condor"),
    ("action argument", "when VIX > 1 buy (" + "-" * 5000 + "1) VIX futures month 2"),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("label", "text"), DEEP, ids=[d[0] for d in DEEP])
def test_deep_nesting_is_e407_or_parses(label: str, text: str) -> None:
    result = parse(text)
    assert {d.code for d in result.diagnostics} <= {"E407", "E001"}
    program = load_checked("deep.alvh", text=text)
    assert all(d.code in CODES for d in program.diagnostics)
    if result.ok:
        out = format_source(text)
        assert meaning(out) == meaning(text)
