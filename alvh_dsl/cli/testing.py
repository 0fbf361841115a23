"""``alvh test``: run a rulebook's tests (*.alvhtest) and report coverage (issue 9)."""

from __future__ import annotations

import click

from .common import CONTEXT, fail


@click.command(name="test", context_settings=CONTEXT, hidden=True)
def test() -> None:
    """Run a rulebook's tests (*.alvhtest) and report coverage."""
    fail("`alvh test` is not built yet", 2)
