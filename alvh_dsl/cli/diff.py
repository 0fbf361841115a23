"""``alvh diff OLD NEW``: what a change to a rulebook does over history (docs/diff.md).

A thin layer over :func:`alvh_dsl.api.diff`: OLD and NEW are rulebook paths or
``PATH@REV`` (a git revision, includes resolved at that revision); both replay the same
history and config. Registered lazily by :mod:`alvh_dsl.cli.main`.

Exit codes: 0 the report was made (whatever it found; with ``--fail-on-change``, 1 when
the books differ), 1 problems (a book with errors, a revision git cannot resolve (E605),
an invalid history or config, an output that cannot be written), 2 usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import CONTEXT, date_option, fail
from .dryrun import progress_bar


@click.command(name="diff", context_settings=CONTEXT)
@click.argument("old")
@click.argument("new")
@click.option(
    "--history",
    "history_path",
    type=click.Path(exists=True, dir_okay=False),
    help="History file (CSV or Parquet, see docs/data.md). Default: the built-in synthetic "
    "history (20 years, seeded).",
)
@click.option(
    "--gaps",
    type=click.Choice(["error", "ffill", "keep"]),
    help="Empty cells inside a --history series: error (default), ffill or keep.",
)
@click.option("--from", "start", metavar="DATE", help="First day to replay (YYYY-MM-DD).")
@click.option("--to", "end", metavar="DATE", help="Last day to replay (YYYY-MM-DD).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="TOML file of model choices, used by both books (see docs/dryrun.md).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
    help="text for the terminal, json (alvh-diff/1, docs/diff.md), or one html page.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE, not stdout.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Differing days shown in the text report (0: all); json and html list every one.",
)
@click.option(
    "--fail-on-change",
    is_flag=True,
    help="Exit 1 when a decision or a figure differs (a CI gate); the report is made anyway.",
)
def diff(
    old: str,
    new: str,
    history_path: str | None,
    gaps: str | None,
    start: str | None,
    end: str | None,
    config_path: str | None,
    fmt: str,
    output: str | None,
    limit: int,
    fail_on_change: bool,
) -> None:
    """What a change to a rulebook does over history.

    OLD and NEW are rulebook files, or PATH@REV for a book at a git revision
    (book.alvh@HEAD~1, rulebooks/core.alvh@main), its includes read at that revision.
    Both replay the same history and config. The report lists the days on which their
    decisions differ (rule, action and trace on each side), and the P&L and risk
    difference, NEW against OLD paired by date.

    \b
    Exit codes: 0 report made (--fail-on-change: 1 if the books differ),
    1 a book with errors, a bad revision (E605), history or config; 2 usage error.
    """
    from ..api import diff as run_diff
    from ..dryrun.config import DryRunConfig, load_config

    for arg, hint in ((old, "OLD"), (new, "NEW")):
        _check_exists(arg, hint)
    first, last = _day(start, "--from"), _day(end, "--to")
    if history_path is None and gaps is not None:
        raise click.UsageError("--gaps applies to a --history file")
    if first is not None and last is not None and first > last:
        raise click.BadParameter(f"--from {first} is after --to {last}", param_hint="--from")
    config = DryRunConfig() if config_path is None else load_config(config_path)
    with progress_bar(sys.stderr.isatty()) as tick:
        try:
            result = run_diff(
                old, new, history_path, config, gaps=gaps, start=first, end=last,  # type: ignore[arg-type]
                progress=tick,
            )  # fmt: skip
        except ValueError as exc:
            from ..errors import AlvhError

            if isinstance(exc, AlvhError):
                raise
            raise click.BadParameter(str(exc), param_hint="--from/--to") from None
    if fmt == "json":
        body = result.to_json() + "\n"
    elif fmt == "html":
        body = result.to_html()
    else:
        body = result.to_text(limit=limit or None)
    if output is None:
        click.echo(body, nl=False)
    else:
        try:
            Path(output).write_text(body, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}")
        click.echo(f"{'changed' if result.changed else 'no difference'}: {output}", err=True)
    if fail_on_change and result.changed:
        sys.exit(1)


def _check_exists(argument: str, hint: str) -> None:
    """A plain path must exist (usage error otherwise); ``PATH@REV`` is git's to check."""
    from ..revisions import parse_book_ref

    ref = parse_book_ref(argument)
    if ref.revision is None and not Path(ref.path).is_file():
        raise click.BadParameter(f"no such file: {argument}", param_hint=hint)


def _day(value: str | None, option: str) -> str | None:
    day = date_option(value, option)
    return None if day is None else day.isoformat()
