"""``alvh diff``: compare two versions of a rulebook over history (issue 9)."""

from __future__ import annotations

import click

from .common import CONTEXT, fail


@click.command(name="diff", context_settings=CONTEXT, hidden=True)
def diff() -> None:
    """Compare two versions of a rulebook over history."""
    fail("`alvh diff` is not built yet", 2)
