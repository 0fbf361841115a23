"""Command-line interface: a thin layer over the Python API.

Sub-commands are imported lazily (see :class:`LazyGroup`) so that ``alvh check``
never pays for numpy, pandas or the pricing stack.

Exit codes: 0 success, 1 errors found (or warnings with ``--strict``), 2 usage.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

# name -> "module:attribute" of a click command; imported only when invoked.
_COMMANDS: dict[str, str] = {
    "data": "alvh_dsl.market.cli:data",
}


class LazyGroup(click.Group):
    """A click group whose sub-commands live in other modules, imported on use."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self._lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, attr = target.split(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, lazy=_COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="alvh-dsl", prog_name="alvh")
def cli() -> None:
    """alvh: check, format, explain, evaluate and dry-run ALVH rulebooks.

    \b
    Exit codes: 0 ok, 1 errors (or warnings with --strict), 2 usage error.
    """


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="alvh")


if __name__ == "__main__":  # pragma: no cover
    main()
