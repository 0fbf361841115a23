"""`alvh sweep`: dry-run every variant of a param grid of a book, on Dask (docs/sweep.md).

A thin layer over :func:`alvh_dsl.api.sweep`: it parses options, which loads the book,
config, baseline and history as ``alvh dryrun`` does (the same API functions, the same
errors), runs the sweep with a progress bar on a terminal, writes sweep.parquet,
sweep.csv and sweep.html into ``--out`` and prints what it found.
Registered lazily by :mod:`alvh_dsl.cli.main`.

Exit codes: 0 ok; 1 a book with errors, an invalid history or config; 2 usage (a
malformed ``--grid``, a value in the wrong unit, an unknown param, Dask not installed).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from .common import CONTEXT, date_option, fail, format_option, param_option, parse_params

_GAPS = "Empty cells inside a --history series: error (default), ffill or keep (as alvh dryrun)."


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar of variants on stderr; nothing when stderr is not a terminal."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("runs"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task: list[Any] = []

        def tick(done: int, total: int) -> None:
            if not task:
                task.append(bar.add_task("runs", total=total))
            bar.update(task[0], completed=done)

        yield tick


@click.command(context_settings=CONTEXT)
@click.argument("book", type=click.Path(dir_okay=False))
@click.option(
    "--grid",
    "grids",
    multiple=True,
    metavar="NAME=VALUES",
    help="A param and its values: roll_dte=5d,7d,10d or hedge_budget=0.25%..1%/0.25% "
    "(LOW..HIGH/STEP, inclusive). Repeatable: the variants are every combination.",
)
@click.option(
    "--sweep-file",
    "sweep_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A TOML file with a [grid] table (and an optional [sample]): see docs/sweep.md.",
)
@click.option("--sample", type=int, metavar="N", help="Run N variants drawn at random.")
@click.option("--seed", type=int, default=None, help="Seed of --sample (default 0).")
@param_option
@click.option(
    "--history",
    "history_path",
    type=click.Path(exists=True, dir_okay=False),
    help="History file (CSV or Parquet). Default: the built-in synthetic history.",
)
@click.option("--gaps", type=click.Choice(["error", "ffill", "keep"]), help=_GAPS)
@click.option("--from", "start", metavar="DATE", help="First day (YYYY-MM-DD).")
@click.option("--to", "end", metavar="DATE", help="Last day (YYYY-MM-DD).")
@click.option(
    "--split",
    metavar="DATE",
    help="Rank the variants on the days before DATE (in sample) and show every figure "
    "for DATE onwards (out of sample) too.",
)
@click.option(
    "--folds",
    type=click.IntRange(min=2),
    metavar="K",
    help="Walk-forward instead: cut the window into K parts; each part's best is ranked on "
    "the next.",
)
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), help="Dry-run config (TOML)."
)
@click.option(
    "--baseline",
    default="no-hedge",
    show_default=True,
    metavar="no-hedge|none|BOOK",
    help="What each variant is compared with, as alvh dryrun takes it.",
)
@click.option(
    "--rank",
    default="pnl",
    show_default=True,
    metavar="FIGURE",
    help="The figure that ranks the variants: pnl, cagr_pct, max_drawdown, "
    "crash_loss_reduction, ... (docs/sweep.md).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Sweep directory: sweep.parquet, sweep.csv, sweep.html and cache/ "
    "(default: sweeps/<book file stem>). A rerun reuses the cache.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="A running Dask scheduler (tcp://HOST:PORT); default DASK_SCHEDULER_ADDRESS, else "
    "a local cluster.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    help="Worker processes of the local cluster (default: one per core; 0: in this process).",
)
@format_option
def sweep(
    book: str,
    grids: tuple[str, ...],
    sweep_file: str | None,
    sample: int | None,
    seed: int | None,
    params: tuple[str, ...],
    history_path: str | None,
    gaps: str | None,
    start: str | None,
    end: str | None,
    split: str | None,
    folds: int | None,
    config_path: str | None,
    baseline: str,
    rank: str,
    out: str | None,
    scheduler: str | None,
    workers: int | None,
    fmt: str,
) -> None:
    """Dry-run every variant of a param grid of BOOK and tabulate their headline figures.

    One row per variant: P&L, CAGR, max drawdown, worst day, rolls, migrations, hedge cost
    per year, the near-expiry crash-loss reduction against the paired baseline (with its
    interval and the days it rests on) and rule coverage; each with the `alvh dryrun`
    command that reproduces it. Runs on Dask: a local cluster by default.

    \b
    Exit codes: 0 ok, 1 invalid book, history or config, 2 usage error.
    """
    # Long: eighteen options to check and pass on; the work is alvh_dsl.api.sweep's.
    from ..errors import DataError
    from ..sweep.grid import load_sweep_file
    from ..sweep.run import INSTALL_SWEEP, SchedulerUnreachable, WindowError
    from ..sweep.tasks import SweepDirectoryError, VariantError

    if rank not in _figures():
        raise click.BadParameter(f"one of: {', '.join(_figures())}", param_hint="--rank")
    grid: Any = list(grids)
    if sweep_file is not None:
        if grids:
            raise click.UsageError("give either --grid or --sweep-file, not both")
        grid, file_n, file_seed = load_sweep_file(sweep_file)
        sample = sample if sample is not None else file_n
        seed = seed if seed is not None else file_seed
    if gaps is not None and history_path is None:
        raise click.UsageError("--gaps applies to a --history file")
    if baseline not in ("no-hedge", "none") and not Path(baseline).is_file():
        raise click.BadParameter(
            f"expected no-hedge, none or a rulebook file; no such file: {baseline}",
            param_hint="--baseline",
        )
    first, last, cut = (
        date_option(start, "--from"),
        date_option(end, "--to"),
        date_option(split, "--split"),
    )
    if not Path(book).is_file():
        raise click.BadParameter(f"no such file: {book}", param_hint="BOOK")
    if first is not None and last is not None and first > last:
        raise click.BadParameter(f"--from {first} is after --to {last}", param_hint="--from")
    out_dir = Path(out) if out is not None else Path("sweeps") / Path(book).stem
    from ..api import sweep as run

    policy: Any = gaps  # checked by click.Choice

    try:
        with _progress(sys.stderr.isatty()) as tick:
            frame = run(
                book, grid, history_path, config_path, baseline=None if baseline == "none"
                else baseline, params=parse_params(params), gaps=policy, start=first, end=last,
                split=cut, folds=folds, sample=sample, seed=seed or 0, rank=rank, out=out_dir,
                scheduler=scheduler, workers=workers, progress=tick,
            )  # fmt: skip
    except VariantError as exc:
        fail(f"a variant is not a valid book: {exc}")
    except ImportError as exc:
        if exc.name != "distributed":
            raise
        fail(f"{INSTALL_SWEEP}; or --workers 0 to run in this process", 2)
    except WindowError as exc:
        raise click.UsageError(str(exc)) from None
    except (SchedulerUnreachable, SweepDirectoryError) as exc:
        fail(str(exc), 2)
    except DataError as exc:
        if any("gap" in d.message for d in exc.diagnostics):
            exc.hint = "--gaps ffill carries the previous value forward, --gaps keep leaves "
            exc.hint += "optional columns missing (as in alvh dryrun)"
        raise
    report = frame.attrs["sweep"]
    if fmt == "json":
        from ..dryrun.report.files import dumps

        click.echo(dumps({"out": str(out_dir), **report}, indent=2))
        return
    click.echo(report["text"])
    click.echo(
        f"{len(frame)} variant(s): {report['computed']} run(s) computed, "
        f"{report['cached']} from the cache"
    )
    for name in ("sweep.html", "sweep.parquet", "sweep.csv"):
        click.echo(f"{name.split('.')[1]}: {out_dir / name}")


def _figures() -> list[str]:
    from ..sweep.table import FIGURES

    return list(FIGURES)
