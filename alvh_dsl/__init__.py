"""alvh-dsl: a rulebook language for mechanical options position management.

The public API is small and lazy, so that ``import alvh_dsl`` stays cheap:

- :func:`parse` text into an AST, :func:`check` books into diagnostics,
- :func:`load` a rulebook (with includes and param overrides) ready to
  :meth:`~alvh_dsl.evaluate.Book.evaluate` a :class:`~alvh_dsl.state.State`,
- :func:`format_source` a rulebook canonically,
- :func:`dryrun` a book over market history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "check",
    "dryrun",
    "format_source",
    "load",
    "parse",
]

if TYPE_CHECKING:  # pragma: no cover
    from .check import check
    from .engine import dryrun
    from .fmt import format_source
    from .load import load
    from .parse import parse

_LAZY = {
    "parse": "alvh_dsl.parse",
    "check": "alvh_dsl.check",
    "load": "alvh_dsl.load",
    "format_source": "alvh_dsl.fmt",
    "dryrun": "alvh_dsl.engine",
}


def __getattr__(name: str) -> Any:
    # Lazy attribute access keeps `alvh check` from importing numpy/pandas.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'alvh_dsl' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
