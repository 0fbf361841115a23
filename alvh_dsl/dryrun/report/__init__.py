"""Turning a dry-run result into outputs a risk desk signs off.

- :mod:`.files`: the run directory (``write_run``), each file's exact bytes, and the
  check that an output path may be replaced;
- :mod:`.document`: ``summary.json``'s contents, provenance, rule counts;
- :mod:`.text`: the summary in words (terminal table, the near-expiry finding);
- :mod:`.chart`: the figure (matplotlib) and its PNG;
- :mod:`.html`: ``report.html``.

pandas, pyarrow, matplotlib and rich are imported inside functions: importing this
package costs nothing until a report is written.
"""

from __future__ import annotations

from .chart import figure
from .document import rule_counts, summary_document
from .files import (
    BASELINE_FILES,
    RUN_FILES,
    TRADE_COLUMNS,
    RunDirectoryError,
    check_run_directory,
    dumps,
    write_run,
)
from .text import summary_rich, summary_table

__all__ = [
    "BASELINE_FILES",
    "RUN_FILES",
    "TRADE_COLUMNS",
    "RunDirectoryError",
    "check_run_directory",
    "dumps",
    "figure",
    "rule_counts",
    "summary_document",
    "summary_rich",
    "summary_table",
    "write_run",
]
