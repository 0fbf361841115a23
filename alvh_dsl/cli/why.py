"""``alvh why``: say why a rule did or did not fire on a day of a dry-run (issue 9)."""

from __future__ import annotations

import click

from .common import CONTEXT, fail


@click.command(name="why", context_settings=CONTEXT, hidden=True)
def why() -> None:
    """Say why a rule did or did not fire on a day of a dry-run."""
    fail("`alvh why` is not built yet", 2)
