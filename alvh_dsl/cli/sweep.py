"""`alvh sweep`: a grid of param variants of a book, run on Dask (being built, issue 11)."""

from __future__ import annotations

import click

from .common import CONTEXT, fail


@click.command(context_settings=CONTEXT, hidden=True)
@click.argument("book", type=click.Path(dir_okay=False))
def sweep(book: str) -> None:
    """Run a grid of param variants of a book (not ready yet)."""
    fail("alvh sweep is not available yet", 2)
