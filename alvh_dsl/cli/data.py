"""`alvh data …` commands: merge history files, generate synthetic history, check a file.

pandas and the pricing stack are imported inside the commands so that ``alvh --help`` and
the language commands start fast.

Exit codes: 0 ok, 1 invalid data (every issue printed as ``file:row:column: E601 message``),
2 usage error (unknown option, missing input file, unknown output format).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import AlvhGroup, date_option

if TYPE_CHECKING:  # pragma: no cover
    from ..market.history import History

_GAPS = click.Choice(["error", "ffill", "keep"])
_GAPS_HELP = (
    "Empty cells inside a series: 'error' (default) reports them, 'ffill' carries the "
    "previous value forward, 'keep' leaves optional columns missing. Every fill is noted."
)
_OUTPUT_SUFFIXES = (".parquet", ".pq", ".csv")


def _output_path(value: str) -> Path:
    path = Path(value)
    if path.suffix.lower() not in _OUTPUT_SUFFIXES:
        raise click.BadParameter(
            f"unknown format {path.suffix or '(none)'!r}: use .parquet or .csv", param_hint="-o"
        )
    if not path.parent.is_dir():
        raise click.BadParameter(f"directory {str(path.parent)!r} does not exist", param_hint="-o")
    return path


def _write(history: History, output: Path) -> None:
    from ..market.history import write_history

    write_history(history, output)
    click.echo(
        f"wrote {output}: {len(history)} rows, {history.start.date()} .. {history.end.date()}"
    )
    for note in history.provenance.notes:
        click.echo(f"note: {note}")


@click.group(cls=AlvhGroup)
def data() -> None:
    """Market history: merge files into one validated table, synthesize one, or check one.

    \b
    Exit codes: 0 ok, 1 invalid data (file:row:column: E601 message), 2 usage error.
    """


_INPUT = click.Path(exists=True, dir_okay=False, path_type=Path)


@data.command()
@click.option(
    "--spx", type=_INPUT, required=True, help="SPX closes: Yahoo ^GSPC.csv, Cboe or our format."
)
@click.option(
    "--vix",
    type=_INPUT,
    required=True,
    help="VIX closes, and opens as vix_open: Cboe VIX_History.csv, Yahoo or ours.",
)
@click.option(
    "--vvix", type=_INPUT, help="VVIX closes: Cboe VVIX_History.csv (DATE,VVIX) or similar."
)
@click.option("--futures", type=_INPUT, help="VIX futures settlements: date + vx1..vx9 or M1..M9.")
@click.option("--start", help="First date to keep (YYYY-MM-DD).")
@click.option("--end", help="Last date to keep (YYYY-MM-DD).")
@click.option("--gaps", type=_GAPS, default="error", show_default=True, help=_GAPS_HELP)
@click.option(
    "--zero-futures-missing",
    is_flag=True,
    help="Read futures settlements of exactly 0 as 'no settlement' (as in 8_m_settle.csv).",
)
@click.option("-o", "--output", required=True, help="Output file (.parquet or .csv).")
def merge(
    spx: Path,
    vix: Path,
    vvix: Path | None,
    futures: Path | None,
    start: str | None,
    end: str | None,
    gaps: str,
    zero_futures_missing: bool,
    output: str,
) -> None:
    """Merge SPX, VIX and optional VVIX / futures files into one validated history."""
    out = _output_path(output)
    from ..market.sources import merge as merge_files

    history = merge_files(
        spx=spx,
        vix=vix,
        vvix=vvix,
        futures=futures,
        start=date_option(start, "--start"),
        end=date_option(end, "--end"),
        gaps=gaps,  # type: ignore[arg-type]
        futures_zero="missing" if zero_futures_missing else "error",
    )
    _write(history, out)


def _synth_years(ctx: click.Context, param: click.Parameter, value: float) -> float:
    from ..market.limits import SYNTH_MAX_YEARS, SYNTH_MIN_YEARS

    # Spelled out rather than a FloatRange: `nan` compares false with both bounds.
    if not SYNTH_MIN_YEARS <= value <= SYNTH_MAX_YEARS:
        raise click.BadParameter(
            f"{value:g} is not between 1/12 (a month) and {SYNTH_MAX_YEARS:g} years",
            param_hint="--years",
        )
    return value


@data.command()
@click.option(
    "--years",
    type=float,
    default=20.0,
    show_default=True,
    callback=_synth_years,
    help="Length in years, 1/12 .. 100.",
)
@click.option("--seed", type=click.IntRange(min=0), default=7, show_default=True)
@click.option(
    "--start",
    default="2005-01-03",
    show_default=True,
    help="First day (YYYY-MM-DD), from 1985-01-01; the history must end by 2098-12-31.",
)
@click.option("-o", "--output", required=True, help="Output file (.parquet or .csv).")
def synth(years: float, seed: int, start: str, output: str) -> None:
    """Generate a synthetic, seeded daily history (SPX, VIX, VVIX, VIX futures)."""
    out = _output_path(output)
    import pandas as pd

    from ..market.limits import synth_start_window
    from ..market.synth import synthesize

    first = date_option(start, "--start")
    lo, hi = synth_start_window(years)
    if not lo <= pd.Timestamp(first) <= hi:
        raise click.BadParameter(
            f"{first} is not between {lo.date()} and {hi.date()} "
            f"(a {years:g}-year history must end by 2098-12-31)",
            param_hint="--start",
        )
    history = synthesize(years=years, seed=seed, start=first)
    _write(history, out)


@data.command()
@click.argument("path", type=_INPUT)
@click.option("--gaps", type=_GAPS, default="error", show_default=True, help=_GAPS_HELP)
@click.option(
    "--zero-futures-missing", is_flag=True, help="Read futures settlements of 0 as missing."
)
def check(path: Path, gaps: str, zero_futures_missing: bool) -> None:
    """Validate a history file (CSV or Parquet) and print a summary of its contents."""
    from ..market.history import load_history
    from ..market.termstructure import term_structure

    history = load_history(
        path,
        gaps=gaps,  # type: ignore[arg-type]
        futures_zero="missing" if zero_futures_missing else "error",
    )
    click.echo(f"{path}: ok")
    click.echo(history.summary())
    from ..market.calendars import trading_days

    days = trading_days(history.start, history.end)
    absent = len(days) - int(history.dates.isin(days.astype("datetime64[ns]")).sum())
    if absent:
        click.echo(f"note: {absent} NYSE trading day(s) in the span have no row")
    for note in term_structure(history).notes():
        click.echo(f"note: {note}")


data.add_command(check, name="info")
