"""`alvh data …` commands: merge history files, generate synthetic history."""

from __future__ import annotations

import click


@click.group()
def data() -> None:
    """Market history: merge files into one validated table, or synthesize one."""
