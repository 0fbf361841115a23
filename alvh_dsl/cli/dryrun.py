"""`alvh dryrun`: replay a rulebook over market history and write the run directory.

A thin layer: it parses options, loads the book, the config and (through
:func:`alvh_dsl.api.dryrun_history`) the history with the same error reporting as the
other commands, calls :func:`alvh_dsl.api.dryrun` and
:func:`alvh_dsl.dryrun.report.files.write_run`, and prints the summary. Registered lazily by
:mod:`alvh_dsl.cli.main`, so nothing here is imported by ``alvh check``.

Exit codes: 0 ok; 1 a book with errors, an invalid history or config file, an output
that cannot be written; 2 usage (unknown option, malformed date or ``--param``, an
output path that is not a dry-run directory, a ``--dump-state`` day that is not in the
history).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .common import (
    CONTEXT,
    color_option,
    date_option,
    fail,
    format_option,
    load_book,
    param_option,
    use_color,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..dryrun.engine import Baseline
    from ..dryrun.result import DryRunResult
    from ..market.history import History

_GAPS_HELP = (
    "Empty cells inside a --history series: 'error' (default) reports them, 'ffill' "
    "carries the previous value forward, 'keep' leaves optional columns missing. Every "
    "fill is noted in the report."
)


def _load_history(path: str | None, gaps: str | None) -> History:
    """The history to replay: a file, or the built-in synthetic one; bad data exits 1 with
    every ``file:row:column`` problem."""
    from ..api import dryrun_history
    from ..errors import DataError

    if path is None and gaps is not None:
        raise click.UsageError("--gaps applies to a --history file")
    try:
        return dryrun_history(path, gaps=gaps)  # type: ignore[arg-type]
    except DataError as exc:
        if any("gap" in d.message for d in exc.diagnostics):
            exc.hint = (
                "--gaps ffill carries the previous value forward, --gaps keep leaves "
                "optional columns missing (either is noted in the report)"
            )
        raise


def _restrict(history: History, start: dt.date | None, end: dt.date | None) -> History:
    from ..api import dryrun_history

    if start is not None and end is not None and start > end:
        raise click.BadParameter(f"--from {start} is after --to {end}", param_hint="--from")
    try:
        return dryrun_history(history, start=start, end=end)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--from/--to") from None


def _capture_dates(history: History, values: Sequence[str]) -> list[dt.date]:
    """The ``--dump-state`` days, each a trading day of the (restricted) history."""
    import numpy as np

    days = history.dates.to_numpy().astype("datetime64[D]")
    out = []
    for value in values:
        day = date_option(value, "--dump-state")
        assert day is not None
        if np.datetime64(day, "D") not in days:
            i = int(np.searchsorted(days, np.datetime64(day, "D")))
            near = [str(days[j]) for j in (i - 1, i) if 0 <= j < len(days)]
            hint = f"; nearest: {' or '.join(near)}" if near else ""
            raise click.BadParameter(
                f"{day} is not a trading day of the history replayed{hint}",
                param_hint="--dump-state",
            )
        out.append(day)
    return out


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress bar on stderr, one task per run (book, baseline); nothing when
    stderr is not a terminal."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[str, Any] = {}
    columns = (
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:

        def tick(label: str, day: int, days: int) -> None:
            task = tasks.get(label)
            if task is None:
                task = tasks[label] = bar.add_task(label, total=days)
            # Every day would redraw 5,000 times per run for nothing: every 1%.
            if day + 1 == days or day % max(1, days // 100) == 0:
                bar.update(task, completed=day + 1)

        yield tick


@click.command(context_settings=CONTEXT)
@click.argument("book", type=click.Path(dir_okay=False))
@click.option(
    "--history",
    "history_path",
    type=click.Path(exists=True, dir_okay=False),
    help="History file (CSV or Parquet, see docs/data.md). Default: the built-in synthetic "
    "history (20 years, seeded).",
)
@click.option("--gaps", type=click.Choice(["error", "ffill", "keep"]), help=_GAPS_HELP)
@click.option("--from", "start", metavar="DATE", help="First day to replay (YYYY-MM-DD).")
@click.option("--to", "end", metavar="DATE", help="Last day to replay (YYYY-MM-DD).")
@param_option
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="TOML file of model choices: costs, pricing, term structure, effective-gamma grid "
    "(see docs/dryrun.md, examples/dryrun.toml).",
)
@click.option(
    "--baseline",
    default="no-hedge",
    show_default=True,
    metavar="no-hedge|none|BOOK",
    help="What to compare with: the same book with its hedge actions disabled, nothing, or "
    "another rulebook (run on the same data and config, without --param).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Run directory, replaced as a whole (default: runs/<book file stem>).",
)
@click.option(
    "--dump-state",
    "dump_state",
    multiple=True,
    metavar="DATE",
    help="Also write state-DATE.json, the state the rules saw that day (replay it with "
    "`alvh eval BOOK --state FILE`). Repeatable.",
)
@click.option(
    "--figure",
    type=click.Choice(["svg", "png"]),
    default="svg",
    show_default=True,
    help="report.html's figure: inline SVG, drawn without matplotlib, or matplotlib's PNG.",
)
@format_option
@color_option
def dryrun(
    book: str,
    history_path: str | None,
    gaps: str | None,
    start: str | None,
    end: str | None,
    params: tuple[str, ...],
    config_path: str | None,
    baseline: str,
    out: str | None,
    dump_state: tuple[str, ...],
    figure: str,
    fmt: str,
    color: str,
) -> None:
    """Replay a rulebook over market history, with a baseline, and write a run directory.

    Writes report.html (one self-contained page), summary.json, daily.parquet,
    trades.csv, decisions.jsonl and baseline/ into --out, then prints the summary and
    the report's path. Prices are model prices: every model choice and modelled input
    is listed in the report.

    \b
    Exit codes: 0 ok, 1 invalid book, history or config, 2 usage error.
    """
    from ..api import dryrun as run_dryrun
    from ..dryrun.config import DryRunConfig, load_config
    from ..dryrun.report.files import check_run_directory, dumps, write_run

    first, last = date_option(start, "--from"), date_option(end, "--to")
    out_dir = Path(out) if out is not None else Path("runs") / Path(book).stem
    check_run_directory(out_dir)
    config = DryRunConfig() if config_path is None else load_config(config_path)
    loaded = load_book(book, params)
    base = _baseline(baseline)
    history = _restrict(_load_history(history_path, gaps), first, last)
    capture = _capture_dates(history, dump_state)
    with progress_bar(sys.stderr.isatty()) as tick:
        result = run_dryrun(loaded, history, config, baseline=base, progress=tick, capture=capture)
    try:
        written = write_run(result, out_dir, baseline_book=result.baseline_book, figure=figure)
    except OSError as exc:
        fail(f"cannot write {out_dir}: {exc}")
    report = written / "report.html"
    states = [written / f"state-{d.isoformat()}.json" for d in sorted(set(capture))]
    if fmt == "json":
        doc = {
            "out": str(written),
            "report": str(report),
            "states": [str(s) for s in states],
            **result.summary,
        }
        click.echo(dumps(doc, indent=2))
        return
    _print_summary(result, color)
    for state in states:
        click.echo(f"state: {state}")
    click.echo(f"report: {report}")


def _baseline(option: str) -> Baseline | None:
    """``--baseline``: no-hedge, none, or a rulebook loaded here (its errors reported like
    BOOK's) and labelled by its file name."""
    from ..dryrun.engine import NO_HEDGE, Baseline

    if option == "no-hedge":
        return NO_HEDGE
    if option == "none":
        return None
    if not Path(option).is_file():
        raise click.BadParameter(
            f"expected no-hedge, none or a rulebook file; no such file: {option}",
            param_hint="--baseline",
        )
    return Baseline(load_book(option, (), "--baseline"), Path(option).name)


def _print_summary(result: DryRunResult, color: str) -> None:
    from ..dryrun.report.text import summary_rich, summary_table

    if use_color(color, sys.stdout):
        from rich.console import Console

        console = Console(force_terminal=True, highlight=False, soft_wrap=False)
        console.print(summary_rich(result))
    else:
        click.echo(summary_table(result), nl=False)
