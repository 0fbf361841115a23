"""`alvh test`: rulebook test files (*.alvhtest), their runner, reports and coverage.

The project's own books are tested by rulebooks/*.alvhtest (run here, and they must
pass); the error cases are a table of (code, test file, fragment) like the checker's.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import alvh_dsl
from alvh_dsl.api import find_books, run_tests
from alvh_dsl.cli.main import cli
from alvh_dsl.lang.ast import Span
from alvh_dsl.lang.testfile import parse_test_file

from .conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "rulebooks" / "alvh_core.alvh"
STATE = ROOT / "examples" / "state_near_expiry.json"
HEAD = f'book "{CORE}"\nstate "{STATE}"\n'


def alvh(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, text: str, name: str = "t.alvhtest") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------ the shipped tests


def test_the_rulebooks_tests_pass() -> None:
    code, out, err = alvh("test", str(ROOT / "rulebooks"))
    assert code == 0, out + err
    assert "FAIL" not in out and "ERROR" not in out
    assert re.search(r"\d+ tests: \d+ passed", out)
    # both shipped test files ran, a history test among them
    assert "alvh_core.alvhtest" in out and "gamma_guard.alvhtest" in out
    assert "the synthetic 2008" in out


def test_the_shipped_tests_cover_every_condition_outcome() -> None:
    code, out, err = alvh("test", str(ROOT / "rulebooks"), "--coverage", "--fail-under", "100")
    assert code == 0, out + err
    assert "condition coverage:" in out and "(100.0%)" in out


def test_the_real_history_test_runs_when_shared_data_is_present() -> None:
    report = run_tests([str(ROOT / "rulebooks" / "alvh_core.alvhtest")])
    real = [r for r in report.results if r.case.history and r.case.history.source]
    assert real, "alvh_core.alvhtest has a history test over ../shared/data"
    present = (SHARED / "data" / "history_2004_2023.csv").is_file()
    assert {r.status for r in real} == ({"pass"} if present else {"skip"})


def test_a_changed_book_fails_its_tests(tmp_path: Path) -> None:
    # roll_dte 0 days: the condor a day from expiry is no longer rolled.
    text = (ROOT / "rulebooks" / "alvh_core.alvhtest").read_text(encoding="utf-8")
    text = text.replace('book "alvh_core.alvh"', f'book "{CORE}"\nparam roll_dte = 0 days')
    text = text.replace('"../examples/', f'"{ROOT / "examples"}/')
    test_file = write(tmp_path, text.split('test "the synthetic')[0])
    code, out, _ = alvh("test", str(test_file))
    assert code == 1
    assert "FAIL  a day before expiry the roll pre-empts the profit take" in out
    assert "expected: `roll_forward` fires" in out
    assert "actual:   `roll_forward` was not met" in out
    # the decision with its trace, as `alvh eval --explain` shows it
    assert "when condor.DTE <= roll_dte  →  false" in out
    assert "roll_dte  →  0 days" in out


def test_check_does_not_read_test_files() -> None:
    assert not [b for b in find_books([str(ROOT / "rulebooks")]) if b.endswith(".alvhtest")]


def test_the_api_function_is_exported() -> None:
    report = alvh_dsl.run_tests([str(ROOT / "rulebooks" / "gamma_guard.alvhtest")])
    assert report.exit_code == 0 and report.count("pass") == len(report.results) > 0


def test_state_tests_load_no_numpy(tmp_path: Path) -> None:
    test_file = write(tmp_path, HEAD + 'test "t"\n  expect roll_forward fires\n')
    code = (
        "import sys, alvh_dsl\n"
        f"r = alvh_dsl.run_tests([{str(test_file)!r}], coverage=True)\n"
        "assert r.exit_code == 0, r.results\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'pandas')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


# ------------------------------------------------------------- expectations


def outcome(tmp_path: Path, body: str) -> list[str]:
    """The test's status, then each failure's expected/actual."""
    report = run_tests([str(write(tmp_path, HEAD + 'test "t"\n' + body))])
    (result,) = report.results
    assert not result.diagnostics, result.diagnostics
    return [result.status, *(f"{f.expected} | {f.actual}" for f in result.failures)]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("expect roll_forward fires", "pass"),
        ("expect roll_forward does not fire", "fail"),
        ("expect migrate does not fire", "pass"),
        ("expect migrate is not met", "pass"),
        ("expect migrate fires", "fail"),
        ("expect take_profit is superseded by roll_forward", "pass"),
        ("expect take_profit is superseded by stop_loss", "fail"),
        ("expect roll_forward is superseded by take_profit", "fail"),
        ("expect layer_up is cooling down", "pass"),
        ("expect layer_up is cooling", "pass"),
        ("expect layer_up fires", "fail"),
        ("expect layer_up is blocked", "fail"),
        ('expect action "roll condor to month 2 keeping delta"', "pass"),
        ('expect action "roll condor to month 2   keeping delta" by roll_forward', "pass"),
        ('expect action "roll condor to month 2 keeping delta" by take_profit', "fail"),
        ('expect action "close condor"', "fail"),  # take_profit's was superseded
        ('expect action "roll condor to month 2 keeping delta" with month = 2, keeping = delta',
         "pass"),
        ('expect action "roll condor to month 2 keeping delta" with month = 3', "fail"),
        ('expect action "roll condor to month 2 keeping delta" with strikes = 3', "fail"),
        ("set last_fired.layer_up = never\n  expect action \"buy VIX call spread 25/35 month 2 "
         'costing hedge_budget of condor.credit" with budget = $62, lower = 25', "pass"),
        ("set last_fired.layer_up = never\n  expect action \"buy VIX call spread 25/35 month 2 "
         'costing hedge_budget of condor.credit" with budget = $62.5', "fail"),
        ('expect no action "close condor"', "pass"),
        ('expect no action "roll condor to month 2 keeping delta"', "fail"),
        ("expect no actions", "fail"),
        ("set condor.DTE = 8 days\n  expect roll_forward does not fire", "pass"),
        ("set DTE = 8 days\n  expect roll_forward does not fire", "pass"),  # one value, two names
        ("set condor.DTE = 8\n  expect roll_forward does not fire", "pass"),  # a bare number
        ('set condor.DTE = unknown "flat"\n  expect roll_forward is unknown', "pass"),
        ('set condor.DTE = unknown "flat"\n  expect roll_forward is unknown because "fl"', "pass"),
        ('set condor.DTE = unknown "flat"\n  expect roll_forward is unknown because "x"', "fail"),
        ("set VIX.M1 = 20\n  set VIX = 18\n  set last_fired.layer_up = never\n"
         "  expect layer_up is not met", "pass"),
        ("set last_fired.layer_up = never\n  expect layer_up fires", "pass"),
        ("set last_fired.layer_up = 2024-03-13\n  expect layer_up is cooling down", "pass"),
        ("set condor.pnl = -$2500\n  expect stop_loss fires\n"
         '  expect action "alert \\"stop loss hit\\"" by stop_loss', "pass"),
        ("set VIX.term_slope = -2%\n  expect roll_forward fires", "pass"),
        ("set condor.count = 0\n  set condor.DTE = unknown\n  set condor.pnl = unknown\n"
         "  set condor.credit = unknown\n  expect no action \"close condor\"\n"
         '  expect action "open iron condor near entry_dte short delta short_delta wings '
         'wing_width"', "pass"),
    ],
)  # fmt: skip
def test_expectations(tmp_path: Path, body: str, status: str) -> None:
    assert outcome(tmp_path, "  " + body + "\n")[0] == status


def test_every_expectation_of_a_test_is_checked(tmp_path: Path) -> None:
    got = outcome(
        tmp_path,
        "  expect migrate fires\n  expect roll_forward fires\n  expect open_condor fires\n",
    )
    assert got[0] == "fail" and len(got) == 3
    assert got[1].startswith("`migrate` fires | `migrate` was not met")
    assert got[2].startswith("`open_condor` fires | `open_condor` was not met")


def test_param_overrides_apply(tmp_path: Path) -> None:
    body = "  param roll_dte = 0 days\n  expect roll_forward does not fire\n"
    assert outcome(tmp_path, body) == ["pass"]


def test_file_defaults_and_test_overrides(tmp_path: Path) -> None:
    gamma = ROOT / "rulebooks" / "gamma_guard.alvh"
    text = HEAD + (
        'test "core"\n  expect roll_forward fires\n'
        f'test "gamma"\n  book "{gamma}"\n  expect expiry_exit fires\n'
        'test "core again"\n  expect take_profit fires\n'
    )
    report = run_tests([str(write(tmp_path, text))])
    assert [(r.case.name, r.status, Path(r.book or "").name) for r in report.results] == [
        ("core", "pass", "alvh_core.alvh"),
        ("gamma", "pass", "gamma_guard.alvh"),
        ("core again", "pass", "alvh_core.alvh"),
    ]


def test_paths_are_relative_to_the_test_file(tmp_path: Path) -> None:
    (tmp_path / "books").mkdir()
    shutil.copy(CORE, tmp_path / "books" / "core.alvh")
    shutil.copy(STATE, tmp_path / "state.json")
    (tmp_path / "books" / "tests").mkdir()
    write(
        tmp_path / "books" / "tests",
        'book "../core.alvh"\nstate "../../state.json"\ntest "t"\n  expect roll_forward fires\n',
    )
    code, out, err = alvh("test", str(tmp_path))  # found recursively
    assert code == 0, out + err


def test_history_expectations(tmp_path: Path) -> None:
    text = f'book "{CORE}"\n' + (
        'test "h"\n  history synthetic from 2008-01-01 to 2008-12-31\n'
        "  expect migrate fires at least once\n"
        "  expect stop_loss never fires\n"
        "  expect roll_forward fires at most 1000 times\n"
        "  expect migrate fires at least 1000 times\n"
        "  expect take_profit never fires\n"
    )
    (result,) = run_tests([str(write(tmp_path, text))]).results
    assert result.status == "fail"
    assert [f.expectation.span.line for f in result.failures] == [7, 8]
    assert result.failures[0].expected == "`migrate` fires on at least 1000 day(s)"
    assert re.fullmatch(r"fired on \d+ day\(s\): 2008-\d\d-\d\d.*", result.failures[0].actual)


def test_a_missing_history_with_if_present_is_skipped(tmp_path: Path) -> None:
    text = f'book "{CORE}"\ntest "h"\n  history "nowhere.csv" if present\n'
    text += "  expect migrate never fires\n"
    code, out, _ = alvh("test", str(write(tmp_path, text)))
    assert code == 0
    assert "SKIP  h  (nowhere.csv is not present)" in out


# --------------------------------------------------------------- diagnostics

# (code, test file text after HEAD, fragment of a message or help, line, column)
ERRORS = [
    ("E701", 'test "t"\n  expct roll_forward fires\n', "did you mean `expect`?", 4, 3),
    ("E701", "test t\n  expect roll_forward fires\n", "a test needs a name in quotes", 3, 6),
    ("E701", 'test "t\n', "unterminated string", 3, 6),
    ("E701", 'expect roll_forward fires\ntest "t"\n', "`expect` outside a test", 3, 1),
    ("E701", 'test "t"\n  expect roll_forward flies\n', "cannot read `flies`", 4, 23),
    ("E701", 'test "t"\n  history synthetic from 2008-13-01\n', "not a date", 4, 26),
    ("E701", 'test "t"\n  expect action "x" by r with month 2\n', "expected `NAME = VALUE`", 4, 31),
    ("E701", 'test "t"\n  expect action "x" month = 2\n', "expected `by` or `with`", 4, 21),
    ("E701", 'test "t"\n  history synthetic gaps fill\n', "unknown gap policy", 4, 26),
    ("E702", 'test "t"\n  book "nowhere.alvh"\n  expect x fires\n', "is not found", 4, 8),
    ("E702", 'test "t"\n  state "nowhere.json"\n  expect migrate fires\n', "is not found", 4, 9),
    ("E703", 'test "t"\n  expect roll_forwrd fires\n', "did you mean `roll_forward`?", 4, 10),
    ("E703", 'test "t"\n  set last_fired.layr_up = never\n  expect migrate fires\n',
     "did you mean `layer_up`?", 4, 7),
    ("E704", 'test "t"\n  set condor.detla = 1\n  expect migrate fires\n',
     "did you mean `condor.delta`?", 4, 7),
    ("E705", 'test "t"\n  set condor.DTE = 6 points\n  expect migrate fires\n',
     "`condor.DTE` is in days, not points", 4, 20),
    ("E705", 'test "t"\n  set VIX.term_slope = 2\n  expect migrate fires\n', "ambiguous", 4, 24),
    ("E705", 'test "t"\n  set VIX = 2 dyas\n  expect migrate fires\n', "not a value", 4, 13),
    ("E706", 'test "t"\n  expect migrate fires at least once\n', "a history expectation", 4, 3),
    ("E706", 'test "t"\n  history synthetic\n  expect migrate fires\n', "in a history test", 5, 3),
    ("E707", 'test "t"\n', "expects nothing", 3, 1),
    ("E707", "# nothing\n", "the file has no tests", 1, 1),
    ("E708", 'test "t"\n  expect migrate fires\ntest "t"\n  expect migrate fires\n',
     "already in this file", 5, 1),
    ("E709", 'test "t"\n  param roll_dte = 5%\n  expect migrate fires\n',
     "`roll_dte` is in days", 4, 9),
    ("E709", 'test "t"\n  param rol_dte = 5 days\n  expect migrate fires\n',
     "no param `rol_dte`", 4, 9),
    ("E709", 'test "t"\n  state "bad.json"\n  expect migrate fires\n', "is not valid", 4, 9),
]  # fmt: skip


@pytest.mark.parametrize(("code", "text", "fragment", "line", "column"), ERRORS)
def test_errors(
    tmp_path: Path, code: str, text: str, fragment: str, line: int, column: int
) -> None:
    (tmp_path / "bad.json").write_text('{"date": "2024-01-01"}', encoding="utf-8")
    body = text if code == "E707" and "nothing" in text else HEAD + text
    report = run_tests([str(write(tmp_path, body))])
    assert report.exit_code == 2
    found = report.diagnostics + [d for r in report.results for d in r.diagnostics]
    mine = [d for d in found if d.code == code]
    assert mine, [f"{d.code} {d.message}" for d in found]
    d = mine[0]
    assert fragment in f"{d.message} {d.help}", f"{d.message} / {d.help}"
    assert (d.span.line, d.span.column) == (line, column), d.span  # type: ignore[union-attr]


def test_an_error_is_shown_with_its_caret_and_exits_2(tmp_path: Path) -> None:
    test_file = write(tmp_path, HEAD + 'test "t"\n  set condor.DTE = 6 points\n  expect x fires\n')
    code, _, err = alvh("test", str(test_file))
    assert code == 2
    assert f"{test_file}:4:20: E705 `condor.DTE` is in days, not points" in err
    assert "4 |   set condor.DTE = 6 points" in err
    assert "^^^^^^^^" in err


def test_a_book_with_errors_shows_its_own_diagnostics(tmp_path: Path) -> None:
    book = tmp_path / "b.alvh"
    book.write_text("rule r\n  when condor.detla > 1\n  then close condor\n", encoding="utf-8")
    text = f'book "b.alvh"\nstate "{STATE}"\ntest "t"\n  expect r fires\n'
    code, _, err = alvh("test", str(write(tmp_path, text)))
    assert code == 2
    assert "E709 the book does not load" in err
    assert "E101 unknown name `condor.detla`" in err


def test_no_tests_found(tmp_path: Path) -> None:
    code, _, err = alvh("test", str(tmp_path))
    assert code == 1 and "no rulebook tests" in err


def test_the_parser_reads_every_construct() -> None:
    text = (
        'book "b.alvh"  # a comment\nstate "s.json"\nparam roll_dte = 5 days\n'
        'test "a \\"quoted\\" name"\n'
        '  set condor.DTE = 6 days\n  set VIX.term_slope = -2%\n  set VVIX = unknown "gone"\n'
        "  set last_fired.layer_up = 2024-03-01\n"
        '  expect r is unknown because "gone"\n  expect r is superseded by s\n'
        '  expect action "alert \\"x\\"" by s\n  expect no actions\n'
        'test "h"\n  history "h.csv" from 2008-01-01 to 2008-12-31 gaps ffill if present\n'
        "  expect r fires exactly 3 times\n  expect s fires at most once\n"
    )
    parsed = parse_test_file(text, "t.alvhtest")
    assert parsed.diagnostics == [] and all(not t.diagnostics for t in parsed.tests)
    state, history = parsed.tests
    assert state.name == 'a "quoted" name' and state.params["roll_dte"][0] == "5 days"
    assert [(s.name.text, s.value, s.reason) for s in state.settings[:3]] == [
        ("condor.DTE", 6.0, None),
        ("VIX.term_slope", -0.02, None),
        ("VVIX", None, "gone"),
    ]
    assert state.settings[3].rule is not None and str(state.settings[3].last) == "2024-03-01"
    kinds = [(e.kind, e.status, e.reason, e.action) for e in state.expectations]
    assert kinds == [
        ("status", "unknown", "gone", None),
        ("superseded", None, None, None),
        ("action", None, None, 'alert "x"'),
        ("no_actions", None, None, None),
    ]
    assert history.history is not None and history.history.gaps == "ffill"
    assert history.history.if_present and str(history.history.end) == "2008-12-31"
    assert [(e.at_least, e.at_most) for e in history.expectations] == [(3, 3), (None, 1)]


# ------------------------------------------------------------------ reports


def test_json_report(tmp_path: Path) -> None:
    test_file = write(
        tmp_path,
        HEAD + 'test "ok"\n  expect roll_forward fires\ntest "bad"\n  expect migrate fires\n',
    )
    code, out, _ = alvh("test", str(test_file), "--format", "json", "--coverage")
    assert code == 1
    doc = json.loads(out)
    assert doc["version"] == 1 and doc["exit_code"] == 1
    assert doc["summary"] == {"pass": 1, "fail": 1, "error": 0, "skip": 0, "tests": 2}
    bad = doc["tests"][1]
    assert (bad["name"], bad["status"], bad["kind"], bad["line"]) == ("bad", "fail", "state", 5)
    (failure,) = bad["failures"]
    assert failure["expectation"] == "expect migrate fires" and failure["line"] == 6
    assert failure["decision"]["rule"] == "migrate" and failure["decision"]["trace"]
    cov = doc["coverage"]
    assert cov["outcomes"] == 16 and 0 < cov["percent"] < 100
    (book,) = cov["books"]
    migrate = next(r for r in book["rules"] if r["rule"] == "migrate")
    assert migrate["statuses"]["not_met"] == 2
    assert migrate["conditions"] == [
        {"clause": "when", "expr": "hedge.DTE < 2", "true": 0, "false": 2, "unknown": 0}
    ]


def test_junit_report_and_output_file(tmp_path: Path) -> None:
    test_file = write(
        tmp_path,
        HEAD + 'test "ok"\n  expect roll_forward fires\ntest "bad"\n  expect migrate fires\n',
    )
    out_file = tmp_path / "junit.xml"
    code, out, err = alvh("test", str(test_file), "--format", "junit", "-o", str(out_file))
    assert code == 1 and out == "" and "2 tests: 1 passed, 1 failed" in err
    root = ET.fromstring(out_file.read_text(encoding="utf-8"))
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "1"
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["ok", "bad"]
    failure = cases[1].find("failure")
    assert failure is not None and "expected `migrate` fires" in (failure.get("message") or "")


def test_fail_under(tmp_path: Path) -> None:
    test_file = write(tmp_path, HEAD + 'test "t"\n  expect roll_forward fires\n')
    code, out, err = alvh("test", str(test_file), "--fail-under", "90")
    assert code == 1 and "is under --fail-under 90%" in err
    assert "coverage of" in out and "never true" in out
    code, _, _ = alvh("test", str(test_file), "--fail-under", "30")
    assert code == 0


def test_coverage_counts_unless(tmp_path: Path) -> None:
    book = tmp_path / "u.alvh"
    book.write_text(
        "rule r\n  when VIX > 20 and condor.DTE < 5 days\n  unless VIX > 40\n  then close condor\n",
        encoding="utf-8",
    )
    text = f'book "u.alvh"\nstate "{STATE}"\n' + (
        'test "fires"\n  expect r fires\ntest "blocked"\n  set VIX = 45\n  expect r is blocked\n'
    )
    report = run_tests([str(write(tmp_path, text))], coverage=True)
    assert report.exit_code == 0 and report.coverage is not None
    (rule,) = report.coverage.books[str(book)]
    assert rule.statuses == {"fired": 1, "blocked": 1}
    assert rule.unless is not None and dict(rule.unless[1]) == {"false": 1, "true": 1}
    assert [dict(c) for _, c in rule.conjuncts] == [{"true": 2}, {"true": 2}]
    assert report.coverage.covered() == (4, 6)  # both conjuncts never false


# --------------------------------------------------------------------- docs


def doc_examples() -> list[str]:
    text = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    return re.findall(r"```alvhtest\n(.*?)```", text, flags=re.S)


def test_the_docs_have_examples() -> None:
    assert len(doc_examples()) >= 3


@pytest.mark.parametrize("index", range(len(doc_examples())))
def test_every_example_in_the_docs_passes(tmp_path: Path, index: int) -> None:
    # The examples are written as files of rulebooks/ (paths relative to it).
    shutil.copytree(ROOT / "rulebooks", tmp_path / "rulebooks")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    example = write(tmp_path / "rulebooks", doc_examples()[index], "doc_example.alvhtest")
    code, out, err = alvh("test", str(example))
    assert code == 0, out + err
    assert "PASS" in out


# --------------------------------------------------------------- robustness

WORDS = [
    "test", '"t"', "book", "state", "param", "set", "history", "expect", "fires", "is",
    "not", "met", "unknown", "because", "superseded", "by", "action", "no", "actions",
    "at", "least", "most", "once", "times", "3", "never", "does", "fire", "=", "6 days",
    "condor.DTE", "roll_forward", "synthetic", "from", "to", "2008-01-01", "gaps", "ffill",
    "if", "present", "#", '"', "\\", "\t", "last_fired.x", "-$5", "2%", "cooling", "down",
]  # fmt: skip


@given(
    st.lists(
        st.lists(st.sampled_from(WORDS) | st.text(max_size=4), max_size=8).map(" ".join),
        max_size=12,
    ).map("\n".join)
)
def test_the_parser_never_raises(text: str) -> None:
    parsed = parse_test_file(text, "t.alvhtest")
    lines = text.split("\n")
    for d in [*parsed.diagnostics, *(d for t in parsed.tests for d in t.diagnostics)]:
        assert d.code.startswith("E70")
        assert isinstance(d.span, Span) and 1 <= d.span.line <= len(lines)


def test_a_history_test_without_the_dryrun_stack_is_skipped_with_its_reason(
    tmp_path: Path,
) -> None:
    from alvh_dsl.api import load
    from alvh_dsl.lang import testing

    def no_stack(*args: object, **kwargs: object) -> None:
        raise ImportError("install alvh-dsl[dryrun]")

    text = HEAD + 'test "s"\n  expect roll_forward fires\n'
    text += 'test "h"\n  history synthetic\n  expect migrate never fires\n'
    stages = testing.Stages(load=load, history=no_stack, dryrun=no_stack)
    report = testing.run_tests([str(write(tmp_path, text))], stages)
    # a light install (pre-commit's hook environment) runs the state tests and skips the
    # history test, saying why, rather than failing every commit
    assert [r.status for r in report.results] == ["pass", "skip"]
    assert "install alvh-dsl[dryrun]" in (report.results[1].reason or "")
    assert report.exit_code == 0


def test_a_broken_book_named_by_two_tests_is_shown_once(tmp_path: Path) -> None:
    (tmp_path / "b.alvh").write_text("rule r\n  when VIX > 1 $\n  then close condor\n")
    text = f'book "b.alvh"\nstate "{STATE}"\n'
    text += 'test "one"\n  expect r fires\ntest "two"\n  expect r fires\n'
    code, out, err = alvh("test", str(write(tmp_path, text)))
    assert code == 2 and out.count("ERROR") == 2
    assert err.count("b.alvh:2:") == 1, err


def test_the_lines_under_a_broken_test_line_stay_with_it(tmp_path: Path) -> None:
    text = HEAD + 'test "ok"\n  expect roll_forward fires\ntest broken\n  expect migrate fires\n'
    report = run_tests([str(write(tmp_path, text))])
    assert [(r.case.name, r.status) for r in report.results] == [
        ("ok", "pass"),
        ("line 5", "error"),
    ]
    assert [e.text for e in report.results[0].case.expectations] == ["expect roll_forward fires"]
