"""alvh-dsl: a rulebook language for mechanical options position management.

The public API is small and lazy, so that ``import alvh_dsl`` stays cheap:

- :func:`load` a rulebook (includes, param overrides, every check) ready to
  :meth:`~alvh_dsl.evaluate.Book.evaluate` a :class:`~alvh_dsl.state.State`;
- :func:`check_paths` books and directories into diagnostics;
- :func:`format_source` a rulebook canonically;
- :func:`dryrun` a book over market history.

Lower-level stages are modules: :mod:`alvh_dsl.parse` (``parse(text, file)``),
:mod:`alvh_dsl.check`, :mod:`alvh_dsl.evaluate`, :mod:`alvh_dsl.engine`, …
No public function shares its name with a module: importing a submodule sets
an attribute of the package, which would otherwise replace the function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "check_paths",
    "dryrun",
    "format_source",
    "load",
]

if TYPE_CHECKING:  # pragma: no cover
    from .check import check_paths
    from .engine import dryrun
    from .fmt import format_source
    from .loader import load

_LAZY = {
    "check_paths": "alvh_dsl.check",
    "load": "alvh_dsl.loader",
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
