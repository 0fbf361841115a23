"""A test run (:class:`~alvh_dsl.lang.testing.TestReport`) as text, JSON or JUnit XML.

- :func:`render_text`: one line per test, and for each failure the expectation,
  the expected and the actual decision, and that decision with its trace as
  ``alvh eval --explain`` shows it; then a summary, and the coverage table;
- :func:`to_json`: the same as one document (``"version": 1``; fields in
  docs/testing.md);
- :func:`to_junit`: JUnit XML (one ``testsuite`` per test file) for CI systems
  that show test results.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from .diagnostics import Diagnostic
from .testing import Coverage, Failure, TestReport, TestResult

JSON_VERSION = 1
STATUSES = ("fired", "not_met", "unknown", "blocked", "cooling_down")

_LABEL = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "skip": "SKIP"}


def summary_line(report: TestReport) -> str:
    """``7 tests: 6 passed, 1 failed in 0.4 s`` (the counts that are not zero)."""
    n = len(report.results)
    parts = [f"{report.count(s)} {w}" for s, w in _WORDS if report.count(s) or s == "pass"]
    seconds = sum(r.seconds for r in report.results)
    return f"{n} test{'s' if n != 1 else ''}: {', '.join(parts)} in {seconds:.1f} s"


_WORDS = (("pass", "passed"), ("fail", "failed"), ("error", "did not load"), ("skip", "skipped"))


def _failure_lines(result: TestResult, failure: Failure) -> list[str]:
    e = failure.expectation
    out = [
        f"      {e.span}: {e.text}",
        f"        expected: {failure.expected}",
        f"        actual:   {failure.actual}",
    ]
    out.extend(f"        {line}" for line in failure.detail)
    return out


def render_text(report: TestReport, *, verbose: bool = False) -> str:
    """The report for people: failures in full, passes one line each (``verbose``: also
    the settings each test made)."""
    out: list[str] = []
    current = None
    for r in report.results:
        if r.case.file != current:
            current = r.case.file
            out.append(current)
        line = f"  {_LABEL[r.status]:<5} {r.case.name}"
        if r.status == "skip" and r.reason:
            line += f"  ({r.reason})"
        if r.status == "error":
            line += "  (it does not load: see the problems above)"
        out.append(line)
        if r.status == "fail" or verbose:
            for s in r.case.settings:
                out.append(f"      given {s.text}  ({s.span})")
        for f in r.failures:
            out.extend(_failure_lines(r, f))
    if report.coverage is not None:
        out.append("")
        out.extend(coverage_lines(report.coverage))
    out.append("")
    out.append(summary_line(report))
    return "\n".join(out) + "\n"


def coverage_lines(coverage: Coverage) -> list[str]:
    """The coverage table: per book, per rule, its statuses and each condition's outcomes."""
    out: list[str] = []
    for book, rules in coverage.books.items():
        n = coverage.tests[book]
        out.append(f"coverage of {book} ({n} state test{'s' if n != 1 else ''})")
        width = max(
            (len(t) for r in rules for t, _ in [*r.conjuncts, *([r.unless] if r.unless else [])]),
            default=10,
        )
        width = min(width + 7, 60)
        for r in rules:
            statuses = ", ".join(
                f"{s.replace('_', ' ')} {r.statuses[s]}" for s in STATUSES if r.statuses[s]
            )
            out.append(f"  {r.rule}: {statuses or 'never evaluated'}")
            parts = [("when", t, c) for t, c in r.conjuncts]
            if r.unless is not None:
                parts.append(("unless", *r.unless))
            for i, (label, text, seen) in enumerate(parts):
                head = label if label == "unless" or i == 0 else "and"
                cell = f"{head} {text}"
                if len(cell) > width:
                    cell = cell[: width - 1] + "…"
                missing = [o for o in ("true", "false") if not seen[o]]
                flag = f"  never {' or '.join(missing)}" if missing else ""
                out.append(
                    f"    {cell:<{width}} true {seen['true']:>3}  false {seen['false']:>3}  "
                    f"unknown {seen['unknown']:>3}{flag}"
                )
    covered, total = coverage.covered()
    out.append(
        f"condition coverage: {covered} of {total} outcomes ({coverage.percent:.1f}%): each "
        "conjunct and `unless` both true and false"
    )
    return out


# ------------------------------------------------------------------ machines


def _diagnostic(d: Diagnostic) -> dict[str, Any]:
    return d.model_dump(mode="json", exclude_none=True)


def _result_doc(r: TestResult) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "file": r.case.file,
        "line": r.case.span.line,
        "name": r.case.name,
        "kind": "history" if r.case.history is not None else "state",
        "book": r.book,
        "status": r.status,
        "seconds": round(r.seconds, 4),
        "failures": [
            {
                "line": f.expectation.span.line,
                "expectation": f.expectation.text,
                "expected": f.expected,
                "actual": f.actual,
                **({"decision": f.decision} if f.decision is not None else {}),
            }
            for f in r.failures
        ],
    }
    if r.reason is not None:
        doc["reason"] = r.reason
    if r.diagnostics:
        doc["diagnostics"] = [_diagnostic(d) for d in r.diagnostics]
    return doc


def coverage_doc(coverage: Coverage) -> dict[str, Any]:
    """The coverage section of the JSON report."""
    seen, total = coverage.covered()
    books = []
    for book, rules in coverage.books.items():
        books.append(
            {
                "book": book,
                "tests": coverage.tests[book],
                "rules": [
                    {
                        "rule": r.rule,
                        "statuses": {s: r.statuses[s] for s in STATUSES},
                        "conditions": [
                            {"clause": "when" if i < len(r.conjuncts) else "unless", "expr": t}
                            | {o: c[o] for o in ("true", "false", "unknown")}
                            for i, (t, c) in enumerate(
                                [*r.conjuncts, *([r.unless] if r.unless else [])]
                            )
                        ],
                    }
                    for r in rules
                ],
            }
        )
    return {
        "covered": seen,
        "outcomes": total,
        "percent": round(coverage.percent, 2),
        "books": books,
    }


def to_json(report: TestReport) -> str:
    """The report as one JSON document (docs/testing.md, "JSON")."""
    doc: dict[str, Any] = {
        "version": JSON_VERSION,
        "files": report.files,
        "summary": {s: report.count(s) for s, _ in _WORDS} | {"tests": len(report.results)},
        "exit_code": report.exit_code,
        "tests": [_result_doc(r) for r in report.results],
        "diagnostics": [_diagnostic(d) for d in report.diagnostics],
    }
    if report.coverage is not None:
        doc["coverage"] = coverage_doc(report.coverage)
    return json.dumps(doc, indent=2) + "\n"


def to_junit(report: TestReport) -> str:
    """JUnit XML: ``testsuites`` → one ``testsuite`` per file → ``testcase`` per test."""
    root = ET.Element("testsuites", name="alvh test")
    suites: dict[str, ET.Element] = {}
    for r in report.results:
        suite = suites.get(r.case.file)
        if suite is None:
            suite = suites[r.case.file] = ET.SubElement(root, "testsuite", name=r.case.file)
        case = ET.SubElement(
            suite,
            "testcase",
            classname=r.case.file,
            name=r.case.name,
            file=r.case.file,
            line=str(r.case.span.line),
            time=f"{r.seconds:.4f}",
        )
        if r.status == "fail":
            first = r.failures[0]
            node = ET.SubElement(case, "failure", message=f"expected {first.expected}")
            node.text = "\n".join(line for f in r.failures for line in _failure_lines(r, f))
        elif r.status == "error":
            node = ET.SubElement(case, "error", message="the test does not load")
            node.text = "\n".join(f"{d.span}: {d.code} {d.message}" for d in r.diagnostics)
        elif r.status == "skip":
            ET.SubElement(case, "skipped", message=r.reason or "skipped")
    for file, suite in suites.items():
        mine = [r for r in report.results if r.case.file == file]
        suite.set("tests", str(len(mine)))
        for status, attr in (("fail", "failures"), ("error", "errors"), ("skip", "skipped")):
            suite.set(attr, str(sum(r.status == status for r in mine)))
        suite.set("time", f"{sum(r.seconds for r in mine):.4f}")
    root.set("tests", str(len(report.results)))
    root.set("failures", str(report.count("fail")))
    root.set("errors", str(report.count("error") + len(report.diagnostics)))
    root.set("skipped", str(report.count("skip")))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"
