"""The sweep directory: sweep.parquet, sweep.csv and sweep.html, each written atomically.

``cache/`` beside them holds each task's figures (:class:`~alvh_dsl.sweep.tasks.ResultCache`),
so the same command run again (or after an interrupt) reuses them.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from ..fileio import atomic_path
from .tasks import unwritable

if TYPE_CHECKING:  # pragma: no cover
    from .run import SweepResult

__all__ = ["write_sweep"]


def write_sweep(result: SweepResult, directory: str | os.PathLike[str]) -> Path:
    """Write the table as Parquet and CSV, and the self-contained page; returns the
    directory."""
    from .html import sweep_html

    out = Path(directory)
    frame = result.frame
    # repr-exact floats: the CSV is the same bytes whatever the number of workers.
    csv = frame.to_csv(index=False, lineterminator="\n")
    page = sweep_html(result)
    names = ("sweep.parquet", "sweep.csv", "sweep.html")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in names:  # what a rename cannot replace, found before anything is
            if (out / name).exists() and not (out / name).is_file():
                raise IsADirectoryError(21, "not a file", str(out / name))
        # All three written to temporary files first and renamed at the end (the last
        # first): a failure while writing leaves every old file as it was.
        with ExitStack() as stack:
            parquet, csv_tmp, html_tmp = (stack.enter_context(atomic_path(out / n)) for n in names)
            frame.to_parquet(parquet, index=False)
            Path(csv_tmp).write_text(csv, encoding="utf-8", newline="")
            Path(html_tmp).write_text(page, encoding="utf-8", newline="")
    except OSError as exc:
        raise unwritable(exc.filename or out, exc) from None
    return out
