"""``alvh why RUN_DIR DATE [RULE]``: why each rule did or did not fire on a day of a
dry-run, in words, from the run directory alone (no re-run; see
:mod:`alvh_dsl.dryrun.why`)."""

from __future__ import annotations

import json
import sys

import click

from .common import CONTEXT, color_option, fail, format_option, print_diagnostics, use_color


@click.command(name="why", context_settings=CONTEXT)
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(file_okay=False))
@click.argument("date", metavar="DATE")
@click.argument("rule", metavar="[RULE]", required=False)
@click.option("--baseline", is_flag=True, help="Answer for the baseline run.")
@format_option
@color_option
def why(run_dir: str, date: str, rule: str | None, baseline: bool, fmt: str, color: str) -> None:
    """Say why each rule (or RULE) did or did not fire on DATE of a dry-run.

    \b
    Fired (and what it did), or why not: the failing comparisons with the values
    they compared, unknown and why, cooling down until a date, blocked by its
    `unless`, superseded by a rule. Reads RUN_DIR/rule_status.parquet.
    Exit 0; 2 when RUN_DIR is not a dry-run directory (E603), DATE is not a day
    of the run, or the run has no RULE.
    """
    from ..dryrun.why import WhyError, render_why, why_json
    from ..dryrun.why import why as answer_why
    from ..errors import RunDirectoryError

    try:
        answer = answer_why(run_dir, date, rule, baseline=baseline)
    except RunDirectoryError as exc:
        print_diagnostics(exc.diagnostics, exc.sources, use_color(color, sys.stderr))
        fail(f"{run_dir} is not a dry-run directory with rule statuses", 2)
    except WhyError as exc:
        fail(str(exc), 2)
    if fmt == "json":
        click.echo(json.dumps(why_json(answer), indent=2, sort_keys=True))
    else:
        click.echo(render_why(answer), nl=False)
