"""What every ``alvh`` command shares: options, colour, reading books, printing problems.

Public names, so that :mod:`.main`, :mod:`.dryrun` and :mod:`.data` use one
implementation and no module reaches into another's private helpers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


color_option = click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
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


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"alvh: {message}", err=True)
    sys.exit(code)


def print_diagnostics(diags: Sequence[Any], sources: dict[str, str], color: bool) -> None:
    from ..lang.diagnostics import render

    if diags:
        # color= stops click from stripping the escapes when stderr is not a
        # terminal (`--color always` piped into a pager or a CI log).
        click.echo(render(diags, sources, color=color), err=True, nl=False, color=color)


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


def load_book(path: str, params: Sequence[str], color: str) -> Any:
    """Load a book for explain/eval; on errors print them and exit 1."""
    from ..api import load
    from ..lang.diagnostics import RulebookError

    if not os.path.exists(path):
        raise click.BadParameter(f"no such file: {path}", param_hint="BOOK")
    try:
        return load(path, parse_params(params))
    except RulebookError as exc:
        print_diagnostics(exc.diagnostics, exc.sources, use_color(color, sys.stderr))
        fail(f"{path} has errors; fix them first (see `alvh check {path}`)")
