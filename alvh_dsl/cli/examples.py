"""``alvh examples``: copy the example rulebooks, states and config into a folder (issue 9)."""

from __future__ import annotations

import click

from .common import CONTEXT, fail


@click.command(name="examples", context_settings=CONTEXT, hidden=True)
def examples() -> None:
    """Copy the example rulebooks, states and config into a folder."""
    fail("`alvh examples` is not built yet", 2)
