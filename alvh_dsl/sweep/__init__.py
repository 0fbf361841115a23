"""Parameter sweeps: a grid of param variants of one book, run on Dask (docs/sweep.md).

- :mod:`.grid`: ``--grid`` axes, ranges and sweep files, checked against the book's params;
- :mod:`.tasks`: what travels to a worker, the worker's market-data cache, the result cache;
- :mod:`.run`: variants into tasks, tasks onto a Dask cluster, results into the table;
- :mod:`.table`: a run's headline figures, ranking, the frontier, the out-of-sample report;
- :mod:`.html`, :mod:`.outputs`: sweep.html, sweep.parquet, sweep.csv.

``alvh_dsl.sweep(book, grid, ...)`` is the API's function (:func:`alvh_dsl.api.sweep`)
and ``alvh_dsl.sweep`` is also this package; as with ``alvh_dsl.dryrun``, the package
is callable and calls the function, whatever was imported before.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> pd.DataFrame:
        from ..api import sweep

        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
