"""``alvh check``: every error and warning of the books named, in the format CI wants.

A thin layer over :func:`alvh_dsl.api.check_paths`; it never imports numpy.
"""

from __future__ import annotations

import sys

import click

from .common import (
    CONTEXT,
    color_option,
    fail,
    format_option,
    param_option,
    parse_params,
    print_diagnostics,
    use_color,
)


@click.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@format_option
@param_option
@color_option
def check(
    paths: tuple[str, ...], strict: bool, fmt: str, params: tuple[str, ...], color: str
) -> None:
    """Check rulebooks (files, or directories searched for *.alvh).

    Prints every error and warning with its location, a caret under the source
    and a hint. Exit 0 when clean, 1 on errors (or warnings with --strict).
    """
    from ..api import check_paths
    from ..lang.diagnostics import summary, to_json

    report = check_paths(paths, parse_params(params))
    if not report.books:
        fail("no rulebooks (*.alvh) found", 1)
    if fmt == "json":
        click.echo(to_json(report.diagnostics, books=report.books))
    else:
        print_diagnostics(report.diagnostics, report.sources, use_color(color, sys.stderr))
        n = len(report.books)
        click.echo(
            f"checked {n} book{'s' if n != 1 else ''} ({report.files} file"
            f"{'s' if report.files != 1 else ''}): {summary(report.diagnostics)}",
            err=True,
        )
    if report.errors or ((strict or report.strict) and report.warnings):
        sys.exit(1)
