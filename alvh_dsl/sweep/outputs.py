"""The sweep directory: sweep.parquet, sweep.csv and sweep.html, each written atomically.

``cache/`` beside them holds each task's figures (:class:`~alvh_dsl.sweep.tasks.ResultCache`),
so the same command run again (or after an interrupt) reuses them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..fileio import atomic_path, atomic_write_text

if TYPE_CHECKING:  # pragma: no cover
    from .run import SweepResult

__all__ = ["write_sweep"]


def write_sweep(result: SweepResult, directory: str | os.PathLike[str]) -> Path:
    """Write the table as Parquet and CSV, and the self-contained page; returns the
    directory."""
    from .html import sweep_html

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    frame = result.frame
    with atomic_path(out / "sweep.parquet") as tmp:
        frame.to_parquet(tmp, index=False)
    # repr-exact floats: the CSV is the same bytes whatever the number of workers.
    atomic_write_text(out / "sweep.csv", frame.to_csv(index=False, lineterminator="\n"))
    atomic_write_text(out / "sweep.html", sweep_html(result))
    return out
