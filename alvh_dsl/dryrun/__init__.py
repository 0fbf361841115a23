"""Replaying a book over market history: valuation, simulation, the day loop, reports.

``alvh_dsl.dryrun(book, ...)`` is the API's function (:func:`alvh_dsl.api.dryrun`),
and ``alvh_dsl.dryrun`` is also this package. Python makes a sub-package an
attribute of its parent once it is imported, which would replace the function;
so the package itself is callable and calls the function, and
``alvh_dsl.dryrun(...)`` means the same thing whatever was imported before.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .engine import DryRunResult


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> DryRunResult:
        from ..api import dryrun

        return dryrun(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
