"""``alvh test``: run rulebook tests (``*.alvhtest``) and report rule coverage (docs/testing.md).

A thin layer over :func:`alvh_dsl.api.run_tests`: it prints the report as
text, JSON or JUnit XML and exits 0 (all passed), 1 (a test failed, no tests
found, or coverage under ``--fail-under``) or 2 (usage, or a test file, book,
state or history that does not load). NumPy loads only for history tests.
"""

from __future__ import annotations

import sys

import click

from .common import CONTEXT, color_option, fail, print_diagnostics, use_color


@click.command(name="test", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report to a file.")
@click.option(
    "--coverage",
    is_flag=True,
    help="Report, per rule and per conjunct, how often each was true, false and unknown.",
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    help="Exit 1 if condition coverage is below PCT percent (implies --coverage).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show each test's `set` lines too.")
@color_option
def test(
    paths: tuple[str, ...],
    fmt: str,
    output: str | None,
    coverage: bool,
    fail_under: float | None,
    verbose: bool,
    color: str,
) -> None:
    """Run rulebook tests: *.alvhtest files, or directories searched for them (default: .).

    Each test names a book, a state (with `set` overrides) or a history window, and
    what must happen. Exit 0 all passed, 1 a test failed (or coverage is under
    --fail-under), 2 a test file, book or state does not load. The format and
    coverage: docs/testing.md.
    """
    from ..api import run_tests
    from ..fileio import atomic_write_text
    from ..lang.testreport import render_text, summary_line, to_json, to_junit

    report = run_tests(paths or (".",), coverage=coverage or fail_under is not None)
    if not report.files:
        fail("no rulebook tests (*.alvhtest) found", 1)
    problems = report.diagnostics + [d for r in report.results for d in r.diagnostics]
    # a book that does not load is reported by every test that names it: show it once
    problems = list({(d.code, str(d.span), d.message): d for d in problems}.values())
    print_diagnostics(problems, report.sources, use_color(color, sys.stderr))
    if fmt == "json":
        text = to_json(report)
    elif fmt == "junit":
        text = to_junit(report)
    else:
        text = render_text(report, verbose=verbose)
    if output:
        atomic_write_text(output, text)
        click.echo(summary_line(report), err=True)
    else:
        click.echo(text, nl=False)
    code = report.exit_code
    cov = report.coverage
    if code == 0 and fail_under is not None and cov is not None and cov.percent < fail_under:
        click.echo(
            f"alvh: condition coverage {cov.percent:.1f}% is under --fail-under {fail_under:g}%",
            err=True,
        )
        code = 1
    sys.exit(code)
