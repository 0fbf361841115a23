"""What every ``alvh`` command shares: options, colour, reading books, printing problems.

Public names, so that :mod:`.main`, :mod:`.dryrun` and :mod:`.data` use one
implementation and no module reaches into another's private helpers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:  # pragma: no cover
    import datetime as dt

import click

if TYPE_CHECKING:  # pragma: no cover
    from ..errors import AlvhError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


COLOR_KEY = "alvh.color"


def _remember_color(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    # The error handler (report_error) runs outside the command: it finds the choice here.
    ctx.meta[COLOR_KEY] = value
    return value


color_option = click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    callback=_remember_color,
    help="Colour the output (auto: only on a terminal, and not when NO_COLOR is set).",
)
param_option = click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a param, e.g. --param roll_dte=5d (units are checked). Repeatable.",
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)


def use_color(choice: str, stream: Any = None) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def parse_params(items: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise click.UsageError(f"--param takes NAME=VALUE (e.g. roll_dte=5d), got {item!r}")
        out[name.strip()] = value.strip()
    return out


def date_option(value: str | None, option: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` option's date (``None`` when not given); a usage error (exit 2)
    naming the option otherwise."""
    import datetime

    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"alvh: {message}", err=True)
    sys.exit(code)


def print_diagnostics(diags: Sequence[Any], sources: dict[str, str], color: bool) -> None:
    from ..lang.diagnostics import render

    if diags:
        _echo_err(render(diags, sources, color=color), color)


def _echo_err(text: str, color: bool) -> None:
    # color= stops click from stripping the escapes when stderr is not a
    # terminal (`--color always` piped into a pager or a CI log).
    click.echo(text, err=True, nl=False, color=color)


def read_source(path: str, color: str) -> str | None:
    """A rulebook's text; on a file that cannot be read or is not UTF-8, print E408 and
    return ``None`` (the same diagnostic `alvh check` gives, not a traceback)."""
    from pathlib import Path

    from ..lang.loader import read_source

    text, problem = read_source(Path(path), path, None)
    if problem is not None:
        print_diagnostics([problem], {}, use_color(color, sys.stderr))
        return None
    return text


def load_book(path: str, params: Sequence[str], param_hint: str = "BOOK") -> Any:
    """Load a book for explain/eval/dryrun; a book with errors raises
    :class:`~alvh_dsl.errors.RulebookError`, which :func:`report_error` prints."""
    from ..api import load

    if not os.path.exists(path):
        raise click.BadParameter(f"no such file: {path}", param_hint=param_hint)
    return load(path, parse_params(params))


def report_error(exc: AlvhError, ctx: click.Context | None) -> NoReturn:
    """The one place the CLI turns an :class:`~alvh_dsl.errors.AlvhError` into output and
    an exit code: its diagnostics (coloured as the command's ``--color`` says), then a
    closing ``alvh: …`` line; exit 1 for bad input, 2 for a usage error."""
    choice = ctx.meta.get(COLOR_KEY, "auto") if ctx is not None else "auto"
    color = use_color(choice, sys.stderr)
    _echo_err(exc.render(color=color), color)
    fail(exc.summary, exc.exit_code)


class AlvhGroup(click.Group):
    """A click group whose commands' :class:`~alvh_dsl.errors.AlvhError` go to
    :func:`report_error`: the one mapping from errors to output and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        from ..errors import AlvhError

        try:
            return super().invoke(ctx)
        except AlvhError as exc:
            report_error(exc, ctx)  # ctx.meta is shared with the command's context
