"""Replaying a book over market history: valuation, simulation, the day loop, reports.

Modules, in the order a run uses them:

- :mod:`.config`: :class:`DryRunConfig`, every model choice, read from TOML by
  :func:`load_config`;
- :mod:`.market_data`: the history as arrays (closes, rates, vols, the futures curve),
  and the same under the language's series names;
- :mod:`.valuation`: a position's marks, greeks and effective gamma over its life;
- :mod:`.simulate`: the simulated book: positions, fills, settlement, the trade log;
- :mod:`.actions`: what each action of a fired rule does to the book;
- :mod:`.book_state`: the book's risk on a day, and the state the rules see;
- :mod:`.loop`: one book replayed day by day; :mod:`.summary`: its figures;
- :mod:`.engine`: :func:`run_dryrun`, the book and its :class:`Baseline` on one history;
- :mod:`.result`: :class:`DryRunResult`; :mod:`.report`: the run directory and report.

Loading books and histories is the API's job (:func:`alvh_dsl.api.dryrun`); the
names below are re-exported here, lazily.

``alvh_dsl.dryrun(book, ...)`` is the API's function (:func:`alvh_dsl.api.dryrun`),
and ``alvh_dsl.dryrun`` is also this package. Python makes a sub-package an
attribute of its parent once it is imported, which would replace the function;
so the package itself is callable and calls the function, and
``alvh_dsl.dryrun(...)`` means the same thing whatever was imported before.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .config import DryRunConfig, load_config
    from .engine import Baseline, run_dryrun
    from .report.files import write_run
    from .result import DryRunResult, RunResult

__all__ = [
    "Baseline",
    "DryRunConfig",
    "DryRunResult",
    "RunResult",
    "load_config",
    "run_dryrun",
    "write_run",
]

_LAZY = {
    "Baseline": "engine",
    "DryRunConfig": "config",
    "DryRunResult": "result",
    "RunResult": "result",
    "load_config": "config",
    "run_dryrun": "engine",
    "write_run": "report.files",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> DryRunResult:
        from ..api import dryrun

        return dryrun(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
