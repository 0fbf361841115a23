"""Rulebook test files (``*.alvhtest``): text → :class:`TestFile` (docs/testing.md).

A test file is line-oriented and declarative, so that it reads well in a diff
and is reviewed with the books it tests::

    book "alvh_core.alvh"                        # defaults for every test below
    state "../examples/state_near_expiry.json"

    test "rolls the condor at 6 days"
      set condor.DTE = 6 days
      expect roll_forward fires
      expect take_profit is superseded by roll_forward

    test "migrates in 2008"
      history synthetic from 2008-01-01 to 2008-12-31
      expect migrate fires at least once

Lines before the first ``test`` (``book``, ``state``, ``param``) are defaults
that a test may replace; ``#`` starts a comment; indentation is for people.
Paths are relative to the test file. Every problem is a
:class:`~alvh_dsl.lang.diagnostics.Diagnostic` (E701–E708) at its line and
column. A plain line parser, not a grammar: each line is one statement whose
first word says what it is, and errors point at the word that is wrong.
Values of ``set`` are parsed with the rulebook grammar
(:func:`~alvh_dsl.lang.loader.parse_param_value`) and their units checked
against the state names' (:data:`~alvh_dsl.lang.names.STATE_NAMES`).
"""

from __future__ import annotations

import datetime as dt
import re

from .ast import Span
from .diagnostics import Diagnostic, error
from .loader import parse_param_value
from .names import STATE_NAMES, suggest
from .testcases import (
    TEST_SUFFIX,
    Expectation,
    HistorySpec,
    Located,
    Setting,
    TestCase,
    TestFile,
)

__all__ = [
    "TEST_SUFFIX",
    "Expectation",
    "HistorySpec",
    "Located",
    "Setting",
    "TestCase",
    "TestFile",
    "parse_test_file",
]

# ------------------------------------------------------------------- lexing

_WORD = re.compile(r'"(?:[^"\\]|\\.)*(?P<end>")?|[^\s"]+')
_STATUS_WORDS = {
    ("not", "met"): "not_met",
    ("unknown",): "unknown",
    ("blocked",): "blocked",
    ("cooling", "down"): "cooling_down",
    ("cooling",): "cooling_down",
}
_STATEMENTS = ("book", "state", "param", "test", "set", "history", "expect")
_GAPS = ("error", "ffill", "keep")


class _Bad(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def _span(file: str, line: int, start: int, end: int) -> Span:
    return Span(file=file, line=line, column=start + 1, end_line=line, end_column=end + 1)


def _words(file: str, line_no: int, text: str) -> list[Located]:
    """The line's words and ``"strings"`` (unquoted, ``\\"`` and ``\\\\`` unescaped),
    up to a ``#`` comment outside a string."""
    out: list[Located] = []
    for m in _WORD.finditer(text):
        word = m.group()
        span = _span(file, line_no, m.start(), m.end())
        if word.startswith("#"):
            break
        if word.startswith('"'):
            if m.group("end") is None:
                raise _Bad(error("E701", "unterminated string", span, help='close it with `"`'))
            word = re.sub(r"\\(.)", r"\1", word[1:-1])
            out.append(Located('"' + word, span))  # a leading quote marks a string
        else:
            out.append(Located(word, span))
    return out


def _is_string(w: Located) -> bool:
    return w.text.startswith('"')


def _string(w: Located) -> str:
    return w.text[1:]


# ------------------------------------------------------------------- parsing


def parse_test_file(source: str, path: str) -> TestFile:
    """Parse a test file; never raises (problems are diagnostics)."""
    defaults = TestCase(name="", file=path, span=_span(path, 1, 0, 0))
    tests: list[TestCase] = []
    file_diags: list[Diagnostic] = []
    names: dict[str, Span] = {}
    for line_no, raw in enumerate(source.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        current = tests[-1] if tests else None
        sink = current.diagnostics if current is not None else file_diags
        try:
            words = _words(path, line_no, line)
            if not words:
                continue
            head = words[0]
            if head.text == "test":
                try:
                    case = _new_test(words, defaults)
                except _Bad as bad:  # the lines below still belong to this (broken) test
                    case = _test_from(defaults, f"line {line_no}", head.span)
                    case.diagnostics.append(bad.diagnostic)
                if case.name in names:
                    case.diagnostics.append(
                        error(
                            "E708",
                            f"a test named “{case.name}” is already in this file",
                            case.span,
                            help=f"the first is at {names[case.name]}; give each test its own name",
                        )
                    )
                names.setdefault(case.name, case.span)
                tests.append(case)
                continue
            _statement(words, line, current if current is not None else defaults)
        except _Bad as bad:
            sink.append(bad.diagnostic)
    if not tests and not file_diags:
        file_diags.append(
            error(
                "E707",
                "the file has no tests",
                _span(path, 1, 0, 1),
                help='add one: `test "what it checks"`, then `expect …` lines',
            )
        )
    for case in tests:
        _complete(case)
    return TestFile(path, source, tests, file_diags)


def _new_test(words: list[Located], defaults: TestCase) -> TestCase:
    head = words[0]
    if len(words) != 2 or not _is_string(words[1]) or not _string(words[1]).strip():
        raise _Bad(
            error(
                "E701",
                "a test needs a name in quotes",
                head.span if len(words) < 2 else words[1].span.cover(words[-1].span),
                help='write `test "rolls the condor at 6 days"`',
            )
        )
    return _test_from(defaults, _string(words[1]).strip(), head.span.cover(words[1].span))


def _test_from(defaults: TestCase, name: str, span: Span) -> TestCase:
    return TestCase(
        name=name,
        file=defaults.file,
        span=span,
        book=defaults.book,
        state=defaults.state,
        params=dict(defaults.params),
    )


def _statement(words: list[Located], line: str, target: TestCase) -> None:
    """Apply one line to a test (or to the file's defaults, before the first test)."""
    head = words[0]
    in_test = bool(target.name)
    if head.text in ("book", "state"):
        if len(words) != 2 or not _is_string(words[1]):
            raise _Bad(_syntax(head, f"`{head.text}` takes one path in quotes", f'{head.text} "…"'))
        setattr(target, head.text, Located(_string(words[1]), words[1].span))
    elif head.text == "param":
        name, value, span = _assignment(words, line)
        target.params[name.text] = (value, name.span.cover(span))
    elif head.text in ("set", "history", "expect") and not in_test:
        raise _Bad(
            error(
                "E701",
                f"`{head.text}` outside a test",
                head.span,
                help='start a test first: `test "what it checks"`',
            )
        )
    elif head.text == "set":
        target.settings.append(_setting(words, line))
    elif head.text == "history":
        if target.history is not None:
            raise _Bad(error("E701", "a test has one `history` line", head.span))
        target.history = _history(words)
    elif head.text == "expect":
        target.expectations.append(_expectation(words, line))
    else:
        guess = suggest(head.text, _STATEMENTS)
        raise _Bad(
            error(
                "E701",
                f"`{head.text}` does not start a line of a test file",
                head.span,
                help=(f"did you mean `{guess}`? " if guess else "")
                + "lines start with book, state, param, test, set, history or expect",
            )
        )


def _syntax(at: Located, message: str, example: str) -> Diagnostic:
    return error("E701", message, at.span, help=f"write `{example}`")


def _assignment(words: list[Located], line: str) -> tuple[Located, str, Span]:
    """``param NAME = VALUE`` / ``set NAME = VALUE``: the name, the value's text, its span."""
    head = words[0]
    # The value ends where the line's last word does: a `#` inside a string is not a comment.
    end = words[-1].span.end_column - 1
    m = re.match(r"\s*\S+\s+([^\s=]+)\s*=\s*(\S.*)?$", line[:end])
    if m is None or not m.group(2):
        raise _Bad(
            _syntax(head, f"`{head.text}` needs `NAME = VALUE`", f"{head.text} NAME = 6 days")
        )
    name = Located(m.group(1), _span(head.span.file, head.span.line, m.start(1), m.end(1)))
    return name, m.group(2), _span(head.span.file, head.span.line, m.start(2), m.end(2))


def _setting(words: list[Located], line: str) -> Setting:
    name, text, span = _assignment(words, line)
    whole = words[0].span.cover(span)
    if name.text.startswith("last_fired."):
        rule = Located(name.text.partition(".")[2], name.span)
        last = None if text == "never" else _date(Located(text, span))
        return Setting(name, None, None, whole, f"{name.text} = {text}", rule, last)
    state_name = STATE_NAMES.get(name.text)
    if state_name is None:
        guess = suggest(name.text, STATE_NAMES)
        raise _Bad(
            error(
                "E704",
                f"`{name.text}` is not a state name a test can set",
                name.span,
                help=(f"did you mean `{guess}`?" if guess else "see docs/language.md, State names")
                + " (params are set with `param`; cooldowns with `last_fired.RULE`)",
            )
        )
    unknown = re.fullmatch(r'unknown(?:\s+"((?:[^"\\]|\\.)*)")?', text)
    if unknown is not None:
        reason = re.sub(r"\\(.)", r"\1", unknown.group(1) or "") or "set unknown by the test"
        return Setting(name, None, reason, whole, f"{name.text} = {text}")
    number = parse_param_value(text)
    if number is None:
        raise _Bad(
            error(
                "E705",
                f"`{text}` is not a value",
                span,
                help="write a number with an optional unit (6 days, 31 points, $1500, -2%), "
                'or `unknown "why"`',
            )
        )
    unit = state_name.unit
    given = number.unit
    if given == "bare" and unit == "percent":
        raise _Bad(
            error(
                "E705",
                f"`{name.text}` is a percentage: `{text}` is ambiguous",
                span,
                help=f"write it with `%` (`{text}%` for {text} percent)",
            )
        )
    if given != "bare" and given != unit:
        raise _Bad(
            error(
                "E705",
                f"`{name.text}` is in {_unit_word(unit)}, not {_unit_word(given)}",
                span,
                help=f"`{name.text}` is {state_name.description}",
            )
        )
    value = number.value / 100 if given == "percent" else number.value
    return Setting(name, value, None, whole, f"{name.text} = {text}")


def _unit_word(unit: str) -> str:
    return {"bare": "a plain number", "percent": "percent", "count": "a count"}.get(
        unit, "a plain number" if unit == "number" else unit
    )


def _date(word: Located) -> dt.date:
    try:
        return dt.date.fromisoformat(word.text)
    except ValueError:
        raise _Bad(
            error("E701", f"`{word.text}` is not a date", word.span, help="write YYYY-MM-DD")
        ) from None


def _history(words: list[Located]) -> HistorySpec:
    head = words[0]
    if len(words) < 2:
        raise _Bad(_syntax(head, "`history` needs a source", 'history "data.csv" from 2008-01-01'))
    src = words[1]
    if not _is_string(src) and src.text != "synthetic":
        raise _Bad(
            _syntax(src, "the history is a path in quotes or `synthetic`", 'history "h.csv"')
        )
    start = end = None
    gaps = None
    if_present = False
    rest = words[2:]
    i = 0
    while i < len(rest):
        w = rest[i]
        nxt = rest[i + 1] if i + 1 < len(rest) else None
        if w.text in ("from", "to", "gaps") and nxt is None:
            raise _Bad(error("E701", f"`{w.text}` needs a value after it", w.span))
        if w.text == "from" and nxt is not None:
            start = _date(nxt)
        elif w.text == "to" and nxt is not None:
            end = _date(nxt)
        elif w.text == "gaps" and nxt is not None:
            if nxt.text not in _GAPS:
                raise _Bad(
                    error(
                        "E701",
                        f"unknown gap policy `{nxt.text}`",
                        nxt.span,
                        help="error, ffill or keep",
                    )
                )
            gaps = nxt.text
        elif w.text == "if" and nxt is not None and nxt.text == "present":
            if_present = True
        else:
            raise _Bad(
                error(
                    "E701",
                    f"unexpected `{w.text.lstrip(chr(34))}` in `history`",
                    w.span,
                    help="history SOURCE [from DATE] [to DATE] [gaps ffill] [if present]",
                )
            )
        i += 2
    if start is not None and end is not None and start > end:
        raise _Bad(error("E701", f"the window starts ({start}) after it ends ({end})", head.span))
    return HistorySpec(
        None if src.text == "synthetic" else Located(_string(src), src.span),
        start,
        end,
        gaps,
        if_present,
        head.span.cover(words[-1].span),
    )


_EXPECT_HELP = (
    "expect RULE fires | does not fire | never fires | is not met | is unknown [because "
    '"…"] | is blocked | is cooling down | is superseded by RULE | fires at least N times; '
    'expect action "…" [by RULE] [with NAME = VALUE, …] | no action "…" | no actions'
)


def _expectation(words: list[Located], line: str) -> Expectation:
    head = words[0]
    span = head.span.cover(words[-1].span)
    text = line[span.column - 1 : span.end_column - 1]
    rest = words[1:]
    plain = [w.text for w in rest]
    if not rest:
        raise _Bad(
            error("E701", "`expect` needs something to expect", head.span, help=_EXPECT_HELP)
        )
    if plain[0] == "action" and len(rest) >= 2 and _is_string(rest[1]):
        return _action(rest, line, span, text)
    if plain[:2] == ["no", "action"] and len(rest) == 3 and _is_string(rest[2]):
        return Expectation("no_action", span, text, action=_string(rest[2]))
    if plain == ["no", "actions"]:
        return Expectation("no_actions", span, text)
    rule, verb = rest[0], plain[1:]
    if _is_string(rule) or not verb:
        raise _Bad(error("E701", "expected a rule and what it does", span, help=_EXPECT_HELP))
    found = _rule_expectation(verb, rest[1:])
    if found is None:
        raise _Bad(
            error(
                "E701",
                f"cannot read `{' '.join(w.lstrip(chr(34)) for w in verb)}` as an expectation",
                rest[1].span.cover(rest[-1].span),
                help=_EXPECT_HELP,
            )
        )
    kind, fields = found
    return Expectation(kind, span, text, rule=rule, **fields)  # type: ignore[arg-type]


def _action(rest: list[Located], line: str, span: Span, text: str) -> Expectation:
    """``action "TEXT" [by RULE] [with NAME = VALUE, …]``."""
    by, i = None, 2
    if len(rest) > i and rest[i].text == "by":
        if len(rest) == i + 1:
            raise _Bad(error("E701", "`by` needs a rule", rest[i].span))
        by, i = rest[i + 1], i + 2
    args: list[tuple[str, float | str]] = []
    if len(rest) > i:
        if rest[i].text != "with":
            raise _Bad(
                error(
                    "E701",
                    f"expected `by` or `with`, found `{rest[i].text.lstrip(chr(34))}`",
                    rest[i].span,
                    help='expect action "…" by RULE with budget = $62, month = 2',
                )
            )
        start, end = rest[i].span.end_column - 1, rest[-1].span.end_column - 1
        for part in line[start:end].split(","):
            lead = len(part) - len(part.lstrip())
            where = _span(span.file, span.line, start + lead, start + len(part.rstrip()))
            start += len(part) + 1
            m = re.fullmatch(r"\s*([\w.]+)\s*=\s*(\S.*?)\s*", part)
            if m is None:
                raise _Bad(_syntax(Located(part, where), "expected `NAME = VALUE`", "month = 2"))
            number = parse_param_value(m.group(2))
            value: float | str = m.group(2) if number is None else number.value
            if number is not None and number.unit == "percent":
                value = number.value / 100
            args.append((m.group(1), value))
    return Expectation("action", span, text, action=_string(rest[1]), other=by, args=tuple(args))


def _rule_expectation(
    verb: list[str], words: list[Located]
) -> tuple[str, dict[str, object]] | None:
    """``fires`` / ``is unknown because "…"`` / ``fires at least 3 times``… → (kind, fields)."""
    if verb == ["fires"]:
        return "status", {"status": "fires"}
    if verb in (["does", "not", "fire"],):
        return "status", {"status": "not_fired"}
    if verb == ["never", "fires"]:
        return "count", {"at_most": 0}
    if verb[0] == "is":
        tail = tuple(verb[1:])
        if tail[:2] == ("superseded", "by") and len(tail) == 3:
            return "superseded", {"other": words[3]}
        if len(tail) >= 3 and tail[0] == "unknown" and tail[1] == "because" and len(tail) == 3:
            if not _is_string(words[3]):
                return None
            return "status", {"status": "unknown", "reason": _string(words[3])}
        status = _STATUS_WORDS.get(tail)
        if status is not None:
            return "status", {"status": status}
        return None
    if verb[0] == "fires" and len(verb) >= 3 and verb[1] in ("at", "exactly"):
        bound = verb[1] if verb[1] == "exactly" else f"at {verb[2]}"
        count_words = verb[2:] if verb[1] == "exactly" else verb[3:]
        if bound not in ("exactly", "at least", "at most"):
            return None
        n = _count(count_words)
        if n is None:
            return None
        if bound == "exactly":
            return "count", {"at_least": n, "at_most": n}
        return "count", {"at_least": n} if bound == "at least" else {"at_most": n}
    return None


def _count(words: list[str]) -> int | None:
    """``once`` → 1; ``N times`` → N."""
    if words == ["once"]:
        return 1
    if (
        len(words) == 2
        and words[0].isdigit()
        and words[1] in ("times", "time")
        and len(words[0]) < 9
    ):
        return int(words[0])
    return None


def _complete(case: TestCase) -> None:
    """What a test needs: a book, a state or a history, and expectations that fit."""
    where = case.span
    if case.book is None:
        case.diagnostics.append(
            error("E707", f"test “{case.name}” names no book", where, help='add `book "my.alvh"`')
        )
    if not case.expectations:
        case.diagnostics.append(
            error("E707", f"test “{case.name}” expects nothing", where, help=_EXPECT_HELP)
        )
    if case.history is None and case.state is None:
        case.diagnostics.append(
            error(
                "E707",
                f"test “{case.name}” has neither a state nor a history",
                where,
                help='add `state "state.json"`, or `history synthetic from 2008-01-01`',
            )
        )
    history = case.history is not None
    for e in case.expectations:
        if e.history != history:
            case.diagnostics.append(
                error(
                    "E706",
                    "a history expectation in a state test"
                    if e.history
                    else "a single-evaluation expectation in a history test",
                    e.span,
                    help="over a history, say how often: `expect RULE fires at least once`, "
                    "`never fires`, `fires at most 3 times`"
                    if history
                    else "one state is one evaluation: `expect RULE fires` / `does not fire`",
                )
            )
    if history and case.settings:
        case.diagnostics.append(
            error(
                "E706",
                "`set` changes one state: a history test has none",
                case.settings[0].span,
                help="use `param` to change the book, or a state test",
            )
        )
