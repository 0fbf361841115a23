"""alvh-dsl: a rulebook language for mechanical options position management.

The public API lives in :mod:`alvh_dsl.api` and is re-exported here, lazily,
so that ``import alvh_dsl`` stays cheap:

- :func:`load` a rulebook (includes, param overrides, every check) ready to
  :meth:`~alvh_dsl.lang.evaluate.Book.evaluate` a :class:`~alvh_dsl.lang.state.State`;
- :func:`check_paths` books and directories into diagnostics;
- :func:`format_source` a rulebook canonically;
- :func:`dryrun` a book over market history;
- :func:`diff` two versions of a book over history (``book.alvh@HEAD~1``);
- :func:`run_tests` the rulebook tests (``*.alvhtest``, docs/testing.md);
- :func:`sweep` a grid of param variants of a book, on Dask (docs/sweep.md).

The stages are sub-packages: :mod:`alvh_dsl.lang` (the language: parse, check,
format, compile, evaluate, explain), :mod:`alvh_dsl.market` (history,
calendars, pricing), :mod:`alvh_dsl.dryrun` (valuation, simulation, reports)
and :mod:`alvh_dsl.cli`. Every failure a user can cause is an
:class:`~alvh_dsl.errors.AlvhError`.

``alvh_dsl.dryrun`` is both the function and the sub-package: importing
``alvh_dsl.dryrun.engine`` makes the package the attribute, so the package is
callable and calls the same function (see ``alvh_dsl/dryrun/__init__.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "AlvhError",
    "__version__",
    "check_paths",
    "diff",
    "dryrun",
    "format_source",
    "load",
    "run_tests",
    "sweep",
]

if TYPE_CHECKING:  # pragma: no cover
    from .api import check_paths, diff, dryrun, format_source, load, run_tests, sweep
    from .errors import AlvhError

_LAZY = {
    "check_paths": "alvh_dsl.api",
    "load": "alvh_dsl.api",
    "format_source": "alvh_dsl.api",
    "dryrun": "alvh_dsl.api",
    "run_tests": "alvh_dsl.api",
    "diff": "alvh_dsl.api",
    "sweep": "alvh_dsl.api",
    "AlvhError": "alvh_dsl.errors",
}


def __getattr__(name: str) -> Any:
    # Lazy attribute access keeps `alvh check` from importing numpy/pandas.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'alvh_dsl' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
