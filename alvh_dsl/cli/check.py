"""``alvh check``: every error and warning of the books named, in the format CI wants.

A thin layer over :func:`alvh_dsl.api.check_paths`; the formats are
:mod:`alvh_dsl.lang.formats` (github, sarif, junit) and
:func:`alvh_dsl.lang.diagnostics.to_json`; ``--fix`` is :mod:`alvh_dsl.lang.fixes`.
It never imports numpy.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from .common import (
    CONTEXT,
    color_option,
    fail,
    param_option,
    parse_params,
    print_diagnostics,
    use_color,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..api import CheckReport

STDIN_NAME = "<stdin>"
#: passes of fix, re-check: a fix that overlapped another waits for the next pass
MAX_FIX_PASSES = 10

# The last report, held after the command returns: the console script then leaves with
# os._exit (cli/main.py, QUICK_EXIT), and freeing the nodes of a 100,000-rule book one by
# one when the report went out of scope cost ~1.5 s of CPU for nothing. One report at
# most, so an in-process caller (the tests) keeps no more than the last book's memory.
_LAST: list[CheckReport] = []


@click.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True))
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github", "sarif", "junit"]),
    default="text",
    show_default=True,
    help="Output format: text for people; json, github (workflow annotations), sarif "
    "(code scanning), junit for CI.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the report to FILE (atomically) instead of stdout.",
)
@click.option(
    "--stdin-filename",
    metavar="PATH",
    help="The name of the book read from `-` (its includes resolve relative to it).",
)
@click.option("--fix", "apply_fix", is_flag=True, help="Apply every available fix, then re-check.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Use this project configuration (alvh.toml, or a pyproject.toml's [tool.alvh]) "
    "for every file, instead of the nearest one.",
)
@click.option("--isolated", is_flag=True, help="Ignore project configuration files.")
@param_option
@color_option
def check(
    paths: tuple[str, ...],
    strict: bool,
    fmt: str,
    output: str | None,
    stdin_filename: str | None,
    apply_fix: bool,
    config_file: str | None,
    isolated: bool,
    params: tuple[str, ...],
    color: str,
) -> None:
    """Check rulebooks (files, or directories searched for *.alvh). `-` reads stdin.

    Prints every error and warning with its location, a caret under the source
    and a hint. Paths are shown relative to the working directory when under it.
    Exit 0 when clean, 1 on errors (or warnings with --strict).
    """
    from ..perf import paused_gc

    # The collector stays off until the report is out, not only while loading: once a
    # large book's millions of nodes exist, each collection the report's allocations set
    # off rescans them all (at 100,000 rules, more than the checks cost). They are acyclic;
    # reference counting frees them.
    gc.unfreeze()  # what the last call froze (below) is the collector's again
    with paused_gc():
        try:
            _check(
                paths, strict, fmt, output, stdin_filename, apply_fix, config_file, isolated,
                params, color,
            )  # fmt: skip
        finally:
            # The last report's nodes outlive the pause (_LAST): frozen, or the first
            # collection after it rescans them all (~3 s of CPU at 100,000 rules).
            gc.freeze()


def _check(
    paths: tuple[str, ...],
    strict: bool,
    fmt: str,
    output: str | None,
    stdin_filename: str | None,
    apply_fix: bool,
    config_file: str | None,
    isolated: bool,
    params: tuple[str, ...],
    color: str,
) -> None:
    from ..api import check_paths
    from ..lang.formats import display_path

    if paths.count("-") > 1:
        raise click.UsageError("`-` (stdin) can be given once")
    if stdin_filename is not None and "-" not in paths:
        raise click.UsageError("--stdin-filename names the book read from `-`: give `-` too")
    stdin_name = display_path(stdin_filename) if stdin_filename else STDIN_NAME
    names = [stdin_name if p == "-" else display_path(p) for p in paths]
    texts = {stdin_name: sys.stdin.read()} if "-" in paths else {}
    values = parse_params(params)
    if config_file is not None and isolated:
        raise click.UsageError("--config and --isolated exclude each other")
    project: dict[str, Any] = {"config": config_file, "isolated": isolated}
    report = check_paths(names, values, texts=texts, **project)
    _LAST[:] = [report]
    if not report.books and not report.excluded:
        fail("no rulebooks (*.alvh) found", 1)
    fixed = 0
    if apply_fix:
        report, fixed = _fix(report, names, values, texts, stdin_name, project)
        _LAST[:] = [report]
    if apply_fix and texts:
        click.echo(texts[stdin_name], nl=False)  # the fixed book; the report goes to stderr
    failing = strict or report.strict
    _write(
        report,
        fmt,
        output,
        color,
        strict=failing,
        fixed=fixed if apply_fix else None,
        stdout=not (apply_fix and texts),
    )
    if report.errors or (failing and report.warnings):
        sys.exit(1)


def _fix(
    report: CheckReport,
    names: list[str],
    params: dict[str, str],
    texts: dict[str, str],
    stdin_name: str,
    project: dict[str, Any],
) -> tuple[CheckReport, int]:
    """Apply fixes and re-check until none applies: the last report and the fixes applied.

    A file is written (atomically) only when it still holds the text that was
    checked; the book read from stdin is fixed in ``texts`` (never on disk).
    """
    from pathlib import Path

    from ..api import check_paths
    from ..fileio import atomic_write_text
    from ..lang.fixes import fix_sources
    from ..lang.loader import read_source

    total = 0
    for _ in range(MAX_FIX_PASSES):
        applied = 0
        for file, (new, n) in fix_sources(report.diagnostics, report.sources).items():
            if file in texts:
                if file != stdin_name:
                    continue
                texts[file] = new
            else:
                current, problem = read_source(Path(file), file, None)
                if problem is not None or current != report.sources[file]:
                    continue  # changed since it was checked: leave it to the user
                # through a symbolic link to its target: a rename would replace the link
                atomic_write_text(os.path.realpath(file), new)
            applied += n
        if not applied:
            break
        total += applied
        report = check_paths(names, params, texts=texts, **project)
    return report, total


def _write(
    report: CheckReport,
    fmt: str,
    output: str | None,
    color: str,
    *,
    strict: bool,
    fixed: int | None,
    stdout: bool,
) -> None:
    """Print the report in ``fmt``: to ``output``, else stdout (stderr when stdout holds
    the fixed book, and for text, which has always gone to stderr)."""
    from .. import __version__
    from ..fileio import atomic_write_text
    from ..lang.diagnostics import render, summary, to_json
    from ..lang.formats import docs_base, github, junit, sarif

    n = len(report.books)
    closing = (
        f"checked {n} book{'s' if n != 1 else ''} ({report.files} file"
        f"{'s' if report.files != 1 else ''}): {summary(report.diagnostics)}"
    )
    if fixed is not None:
        closing = f"fixed {fixed} problem{'s' if fixed != 1 else ''}; {closing}"
    to_file = output is not None and output != "-"
    if fmt == "text" and output is None:  # for people: stderr, in colour on a terminal
        print_diagnostics(report.diagnostics, report.sources, use_color(color, sys.stderr))
        click.echo(closing, err=True)
        return
    if fmt == "text":
        text = render(report.diagnostics, report.sources) + closing + "\n"
    elif fmt == "json":
        text = to_json(report.diagnostics, books=report.books) + "\n"
    elif fmt == "github":
        text = github(report.diagnostics)
    elif fmt == "sarif":
        text = sarif(report.diagnostics, report.sources, version=__version__, base=docs_base())
    else:
        text = junit(report.diagnostics, report.members, report.sources, strict=strict)
    if to_file:
        assert output is not None
        try:
            atomic_write_text(output, text)
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}", 2)
        click.echo(closing, err=True)
    else:
        click.echo(text, nl=False, err=not stdout)
