"""Running rulebook tests (``alvh test``, :func:`alvh_dsl.api.run_tests`; docs/testing.md).

A *state test* loads a book (with its params), a state file, applies the
test's ``set`` lines as overrides of the names' values, evaluates once with
the trace on, and checks each ``expect`` line against the decisions. A
*history test* replays the book over a history window (the dry-run, reached
through :class:`Stages` so that this module imports no later stage and no
NumPy) and counts the days each rule fired.

Every expectation is checked (a test reports all its failures, not the
first); a file, book or state that does not load makes its tests ``error``
with diagnostics (E701–E709), which the CLI exits 2 on. Coverage
(:class:`Coverage`) is gathered from state tests: for each rule, the
statuses it took, and for each conjunct of its ``when`` (each top-level
``and`` operand) and its ``unless``, how often it was true, false and unknown.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AlvhError
from ..fileio import find_files
from .diagnostics import Diagnostic, error
from .explain import render_evaluation
from .loader import read_source
from .names import suggest
from .printer import format_expr
from .runtime import Evaluation
from .state import State, Unknown, Value, load_state
from .testfile import TEST_SUFFIX, Expectation, TestCase, TestFile, parse_test_file

if TYPE_CHECKING:  # pragma: no cover
    from .evaluate import Book
    from .runtime import Decision, TraceNode

__all__ = [
    "Coverage",
    "Failure",
    "RuleCoverage",
    "Stages",
    "TestReport",
    "TestResult",
    "find_tests",
    "run_tests",
]


@dataclass(frozen=True)
class Stages:
    """The later stages a test run needs, handed in by :mod:`alvh_dsl.api` (the one
    module that chains them): ``load(path, params)`` a checked, compiled book;
    ``history(source, gaps=, start=, end=)`` a history window (``source`` a path, a
    loaded history or ``None`` for the synthetic one); ``dryrun(book, history,
    baseline=None)`` a replay whose ``run.decisions`` are dicts with ``rule``,
    ``date`` and ``status``."""

    load: Callable[..., Book]
    history: Callable[..., Any] | None = None
    dryrun: Callable[..., Any] | None = None


@dataclass(frozen=True)
class Failure:
    """An expectation that did not hold: what it said, what happened, and the decision
    (rendered with its trace) that shows why."""

    expectation: Expectation
    expected: str
    actual: str
    detail: list[str] = field(default_factory=list)
    decision: dict[str, Any] | None = None


@dataclass
class TestResult:
    """One test's outcome: ``pass``, ``fail``, ``error`` (it did not load) or ``skip``."""

    __test__ = False  # not a pytest test class

    case: TestCase
    status: str = "pass"
    failures: list[Failure] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    reason: str | None = None  # why it was skipped
    seconds: float = 0.0
    book: str | None = None


@dataclass
class RuleCoverage:
    """How one rule's conditions were exercised across the state tests."""

    rule: str
    statuses: Counter[str] = field(default_factory=Counter)
    conjuncts: list[tuple[str, Counter[str]]] = field(default_factory=list)
    unless: tuple[str, Counter[str]] | None = None

    def slots(self) -> list[tuple[str, str, bool]]:
        """(condition, outcome, seen) for every outcome counted: each conjunct and the
        ``unless`` both true and false (unknown is reported, not required)."""
        out: list[tuple[str, str, bool]] = []
        parts = list(self.conjuncts) + ([self.unless] if self.unless is not None else [])
        for text, seen in parts:
            out.extend((text, o, seen[o] > 0) for o in ("true", "false"))
        return out


@dataclass
class Coverage:
    """Per book, per rule: see :class:`RuleCoverage`. ``percent`` is the share of
    conjunct outcomes (true and false of each conjunct and ``unless``) seen."""

    books: dict[str, list[RuleCoverage]] = field(default_factory=dict)
    tests: Counter[str] = field(default_factory=Counter)

    def covered(self) -> tuple[int, int]:
        slots = [s for rules in self.books.values() for r in rules for s in r.slots()]
        return sum(seen for *_, seen in slots), len(slots)

    @property
    def percent(self) -> float:
        seen, total = self.covered()
        return 100.0 * seen / total if total else 0.0  # no state test covers nothing

    def record(self, book_path: str, book: Book, evaluation: Evaluation) -> None:
        rules = self.books.get(book_path)
        if rules is None:
            rules = self.books[book_path] = [
                RuleCoverage(
                    cr.id,
                    conjuncts=[(c, Counter()) for c in cr.conjuncts],
                    unless=(format_expr(cr.rule.unless), Counter())
                    if cr.rule.unless is not None
                    else None,
                )
                for cr in sorted(book.rules, key=lambda r: r.order)
            ]
        self.tests[book_path] += 1
        by_id = {r.rule: r for r in rules}
        for d in evaluation.decisions:
            cov = by_id.get(d.rule)
            if cov is None:
                continue
            cov.statuses[d.status] += 1
            if d.trace is not None:
                nodes = d.trace.children if len(cov.conjuncts) > 1 else [d.trace]
                for (_, seen), node in zip(cov.conjuncts, nodes, strict=False):
                    seen[_outcome(node)] += 1
            if cov.unless is not None and d.unless_trace is not None:
                cov.unless[1][_outcome(d.unless_trace)] += 1


def _outcome(node: TraceNode) -> str:
    if node.unknown is not None or node.value is None:
        return "unknown"
    return "true" if node.value is True else "false"


@dataclass
class TestReport:
    """Every test's result, the problems of files that did not parse, the sources to
    show diagnostics with, and coverage when asked."""

    __test__ = False  # not a pytest test class

    files: list[str]
    results: list[TestResult]
    diagnostics: list[Diagnostic]
    sources: dict[str, str]
    coverage: Coverage | None = None

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def exit_code(self) -> int:
        """2 when a file, book or state did not load; 1 when a test failed; else 0."""
        if self.diagnostics or self.count("error"):
            return 2
        return 1 if self.count("fail") else 0


def find_tests(paths: Iterable[str]) -> list[str]:
    """Files named directly, plus every ``*.alvhtest`` under directories (sorted, recursive)."""
    return find_files(paths, TEST_SUFFIX)


def run_tests(paths: Iterable[str], stages: Stages, *, coverage: bool = False) -> TestReport:
    """Run every test of the files and directories ``paths``."""
    runner = _Runner(stages, Coverage() if coverage else None)
    files = find_tests(paths)
    for path in files:
        text, problem = read_source(Path(path), path, None)
        if problem is not None or text is None:
            runner.diagnostics.append(problem or error("E702", f"cannot read {path}", None))
            continue
        runner.sources[path] = text
        runner.run_file(parse_test_file(text, path))
    return TestReport(files, runner.results, runner.diagnostics, runner.sources, runner.coverage)


class _Runner:
    def __init__(self, stages: Stages, coverage: Coverage | None) -> None:
        self.stages = stages
        self.coverage = coverage
        self.results: list[TestResult] = []
        self.diagnostics: list[Diagnostic] = []
        self.sources: dict[str, str] = {}
        self.books: dict[tuple[str, tuple[tuple[str, str], ...]], Book | list[Diagnostic]] = {}
        self.states: dict[str, State | list[Diagnostic]] = {}
        self.histories: dict[tuple[str | None, str | None], Any] = {}

    def run_file(self, parsed: TestFile) -> None:
        self.diagnostics.extend(parsed.diagnostics)
        for case in parsed.tests:
            start = time.perf_counter()
            result = TestResult(case)
            if parsed.diagnostics or case.diagnostics:
                result.status, result.diagnostics = "error", list(case.diagnostics)
            else:
                self.run_case(case, result)
            result.seconds = time.perf_counter() - start
            self.results.append(result)

    def run_case(self, case: TestCase, result: TestResult) -> None:
        try:
            book = self.book(case, result)
            if book is not None and case.history is not None:
                self.run_history(case, book, result)
            elif book is not None:
                self.run_state(case, book, result)
        except AlvhError as exc:
            # A file the test names (a history, a state) is not valid.
            self.sources.update(exc.sources)
            result.diagnostics.append(
                error("E709", f"test “{case.name}”: {exc.summary}", case.span)
            )
            result.diagnostics.extend(exc.diagnostics)
        except ImportError as exc:
            # A light install (the pre-commit hook's environment is one) has no dry-run
            # stack: the history test cannot run there, which is not the test's fault. It is
            # skipped, visibly (SKIP and its reason; JUnit <skipped>), and the state tests
            # still gate; CI with the dryrun extra runs it (docs/decisions.md 71).
            result.status, result.reason = "skip", f"needs the dry-run stack ({exc})"
            return
        if result.diagnostics:
            result.status = "error"
        elif result.status == "pass" and result.failures:
            result.status = "fail"

    # -------------------------------------------------------------- loading

    def resolve(self, case: TestCase, path: str) -> str:
        """A path named by a test, relative to its file (as written when absolute)."""
        if os.path.isabs(path):
            return path
        return os.path.normpath(os.path.join(os.path.dirname(case.file), path))

    def exists(self, case: TestCase, located: Any, what: str, result: TestResult) -> str | None:
        path = self.resolve(case, located.text)
        if os.path.isfile(path):
            return path
        result.diagnostics.append(
            error(
                "E702",
                f"the {what} `{located.text}` is not found (looked for {path})",
                located.span,
                help="paths in a test file are relative to the test file",
            )
        )
        return None

    def book(self, case: TestCase, result: TestResult) -> Book | None:
        assert case.book is not None
        path = self.exists(case, case.book, "book", result)
        if path is None:
            return None
        params = tuple(sorted((n, v) for n, (v, _) in case.params.items()))
        key = (os.path.realpath(path), params)
        if key not in self.books:
            try:
                self.books[key] = self.stages.load(path, dict(params))
            except AlvhError as exc:
                self.sources.update(exc.sources)
                self.books[key] = list(exc.diagnostics)
        loaded = self.books[key]
        result.book = path
        if isinstance(loaded, list):
            result.diagnostics.append(self.book_error(case, path, loaded))
            result.diagnostics.extend(d for d in loaded if d.span is not None)
            return None
        refs = [(e.rule, e.other) for e in case.expectations]
        refs.extend((s.rule, None) for s in case.settings)
        for pair in refs:
            for ref in pair:
                if ref is not None and ref.text not in loaded.rule_ids:
                    guess = suggest(ref.text, loaded.rule_ids)
                    result.diagnostics.append(
                        error(
                            "E703",
                            f"the book has no rule `{ref.text}`",
                            ref.span,
                            help=f"did you mean `{guess}`?"
                            if guess
                            else f"its rules: {', '.join(loaded.rule_ids)}",
                        )
                    )
        return None if result.diagnostics else loaded

    def book_error(self, case: TestCase, path: str, problems: list[Diagnostic]) -> Diagnostic:
        # A param override's problem has no place in the book: it is the test's `param` line.
        unplaced = [d for d in problems if d.span is None]
        assert case.book is not None
        span = case.book.span
        for name, (_, where) in case.params.items():
            if any(f"--param {name}" in d.message for d in unplaced):
                span = where
                break
        message = "; ".join(d.message.replace("--param ", "param ") for d in unplaced)
        return error("E709", f"the book does not load: {message or f'{path} has errors'}", span)

    def state(self, case: TestCase, result: TestResult) -> State | None:
        assert case.state is not None
        path = self.exists(case, case.state, "state", result)
        if path is None:
            return None
        if path not in self.states:
            try:
                self.states[path] = load_state(path)
            except AlvhError as exc:
                self.states[path] = list(exc.diagnostics)
        loaded = self.states[path]
        if isinstance(loaded, list):
            result.diagnostics.append(
                error("E709", f"the state `{case.state.text}` is not valid", case.state.span)
            )
            result.diagnostics.extend(loaded)
            return None
        return loaded

    # -------------------------------------------------------------- state tests

    def run_state(self, case: TestCase, book: Book, result: TestResult) -> None:
        state = self.state(case, result)
        if state is None:
            return
        last_fired = {s.rule.text: s.last for s in case.settings if s.rule is not None}
        if last_fired:  # a cooldown's start is state, not a value the rules read
            fired = {**state.last_fired, **last_fired}
            state = state.model_copy(
                update={"last_fired": {r: d for r, d in fired.items() if d is not None}}
            )
        overrides: dict[str, Value] = {}
        for s in (s for s in case.settings if s.rule is None):
            value: Value = s.value if s.value is not None else Unknown(s.reason or "unknown")
            overrides[s.name.text] = value
            if s.name.text in ("DTE", "condor.DTE"):  # one value, two names
                overrides["condor.DTE" if s.name.text == "DTE" else "DTE"] = value
        evaluation = book.evaluate(state, trace=True, overrides=overrides)
        if self.coverage is not None and result.book is not None:
            self.coverage.record(result.book, book, evaluation)
        for e in case.expectations:
            failure = check_state(e, evaluation, book.name)
            if failure is not None:
                result.failures.append(failure)

    # ------------------------------------------------------------ history tests

    def run_history(self, case: TestCase, book: Book, result: TestResult) -> None:
        spec = case.history
        assert spec is not None and self.stages.history is not None
        assert self.stages.dryrun is not None
        source: str | None = None
        if spec.source is not None:
            source = self.resolve(case, spec.source.text)
            if not os.path.isfile(source):
                if spec.if_present:
                    result.status, result.reason = "skip", f"{spec.source.text} is not present"
                    return
                self.exists(case, spec.source, "history", result)
                return
        key = (source, spec.gaps)
        try:
            if key not in self.histories:
                self.histories[key] = self.stages.history(source, gaps=spec.gaps)
            window = self.stages.history(self.histories[key], start=spec.start, end=spec.end)
        except ValueError as exc:  # no trading days in the window; gaps without a file
            result.diagnostics.append(error("E709", f"the history: {exc}", spec.span))
            return
        run = self.stages.dryrun(book, window, baseline=None)
        fired: dict[str, list[str]] = {}
        for d in run.run.decisions:
            if d.get("status") == "fired":
                fired.setdefault(d["rule"], []).append(str(d["date"]))
        for e in case.expectations:
            failure = check_count(e, fired)
            if failure is not None:
                result.failures.append(failure)


# ------------------------------------------------------------------ checking


def _decision_lines(evaluation: Evaluation, decisions: list[Decision], book_name: str) -> list[str]:
    """The decisions as ``alvh eval --explain`` shows them (its header left out)."""
    text = render_evaluation(Evaluation(evaluation.date, decisions), book_name, explain=True)
    return [line for line in text.splitlines()[1:] if line.strip()]


_SAID = {
    "fires": "fires",
    "not_fired": "does not fire",
    "not_met": "is not met (its condition is false)",
    "unknown": "is unknown",
    "blocked": "is blocked by its `unless`",
    "cooling_down": "is cooling down",
}
_WAS = {
    "fired": "fired",
    "not_met": "was not met (its condition is false)",
    "unknown": "was unknown",
    "blocked": "was blocked by its `unless`",
    "cooling_down": "was cooling down",
}


def check_state(e: Expectation, evaluation: Evaluation, book_name: str) -> Failure | None:
    """``None`` when the expectation holds of one evaluation, else the failure."""
    decisions = {d.rule: d for d in evaluation.decisions}
    if e.kind in ("action", "no_action", "no_actions"):
        return _check_actions(e, evaluation, book_name)
    assert e.rule is not None
    d = decisions[e.rule.text]
    said = d.reason if d.reason and d.status != "not_met" else None  # _WAS says "false"
    actual = f"`{d.rule}` {_WAS[d.status]}" + (f": {said}" if said else "")
    if e.kind == "superseded":
        assert e.other is not None
        by = [a.superseded_by for a in d.actions if a.status == "superseded"]
        if e.other.text in by:
            return None
        expected = f"`{d.rule}` is superseded by `{e.other.text}`"
        if d.fired:
            applied = [a.text for a in d.applied]
            actual = f"`{d.rule}` fired and " + (
                f"was superseded by `{by[0]}`"
                if by
                else f"applied {', '.join(applied) or 'nothing'}"
            )
    else:
        status = e.status
        ok = {"fires": d.fired, "not_fired": not d.fired}.get(status or "", d.status == status)
        if ok and e.reason is not None and e.reason.lower() not in (d.reason or "").lower():
            ok = False
            actual = f"`{d.rule}` was unknown because {d.reason}"
        if ok:
            return None
        expected = f"`{d.rule}` {_SAID[status or '']}" + (
            f" because “{e.reason}”" if e.reason is not None else ""
        )
    return Failure(e, expected, actual, _decision_lines(evaluation, [d], book_name), d.to_dict())


def _check_actions(e: Expectation, evaluation: Evaluation, book_name: str) -> Failure | None:
    applied = [(d.rule, a) for d in evaluation.decisions for a in d.applied]
    want = " ".join((e.action or "").split())
    by = e.other.text if e.other is not None else None
    texts = [(rule, " ".join(a.text.split()), a) for rule, a in applied]
    if e.kind == "no_actions":
        ok, expected = not applied, "no action is applied"
    elif e.kind == "no_action":
        ok = all(text != want for _, text, _ in texts)
        expected = f"no rule applies “{want}”"
    else:
        ok = any(
            text == want and by in (None, rule) and _args_match(e.args, a.args)
            for rule, text, a in texts
        )
        expected = f"“{want}” is applied" + (f" by `{by}`" if by else "")
        if e.args:
            expected += " with " + ", ".join(f"{k} = {_arg(v)}" for k, v in e.args)
    if ok:
        return None
    actual = (
        "applied: "
        + "; ".join(
            f"“{text}” (`{rule}`; {', '.join(f'{k} = {_arg(v)}' for k, v in a.args.items())})"
            for rule, text, a in texts
        )
        if applied
        else "no action was applied"
    )
    fired = [d for d in evaluation.decisions if d.fired]
    return Failure(e, expected, actual, _decision_lines(evaluation, fired, book_name))


def _args_match(want: tuple[tuple[str, float | str], ...], got: Mapping[str, Any]) -> bool:
    """Each expected argument equals the resolved one (numbers to 1e-9, relative)."""
    for key, value in want:
        if key not in got:
            return False
        actual = got[key]
        if isinstance(value, float) and isinstance(actual, int | float):
            if abs(actual - value) > 1e-9 * max(1.0, abs(value)):
                return False
        elif str(actual) != str(value):
            return False
    return True


def _arg(value: object) -> str:
    return f"{value:.10g}" if isinstance(value, float) else str(value)


def check_count(e: Expectation, fired: dict[str, list[str]]) -> Failure | None:
    """``None`` when a rule fired as often as the expectation says over a history."""
    assert e.rule is not None
    days = fired.get(e.rule.text, [])
    n = len(days)
    low, high = e.at_least, e.at_most
    if (low is None or n >= low) and (high is None or n <= high):
        return None
    if low is not None and high is not None:
        expected = f"fires on exactly {low} day(s)" if low == high else f"fires {low}..{high} times"
    elif low is not None:
        expected = f"fires on at least {low} day(s)"
    else:
        expected = "never fires" if high == 0 else f"fires on at most {high} day(s)"
    actual = f"fired on {n} day(s)"
    if days:
        shown = ", ".join(days[:5]) + (f" … {days[-1]}" if n > 5 else "")
        actual += f": {shown}"
    return Failure(e, f"`{e.rule.text}` {expected}", actual)
