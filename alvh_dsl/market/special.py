"""SciPy's standard normal CDF and its inverse (``ndtr``, ``ndtri``), loaded without the
rest of :mod:`scipy.special`.

The pricing needs two of SciPy's ufuncs, and NumPy has neither to the bit (SciPy's own
``erfc`` branch). ``import scipy.special`` runs the package's ``__init__``, which wraps
every special function for array-API backends and so imports ``numpy.testing``,
``unittest``, ``concurrent.futures``, ``pydoc`` and the rest: about 0.26 s of the
0.29 s it takes, a fifteenth of the default ``alvh dryrun`` (decision 97). The two
ufuncs live in the compiled module ``scipy.special._ufuncs``, which needs none of it:
:func:`load` imports that module alone, under a bare stand-in for its package that is
taken out of ``sys.modules`` again at once, so a later ``import scipy.special``
anywhere runs the real package, which reuses the very module loaded here. These are the
same ufunc objects ``scipy.special`` hands out (``scipy.special.ndtr is ndtr``:
tests/test_special.py), so every price is the same to the bit. Should a SciPy release
lay its package out otherwise, or ``scipy.special`` be imported already, the ordinary
import is used.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

__all__ = ["load", "ndtr", "ndtri"]

_PACKAGE = "scipy.special"


def load() -> tuple[Any, Any]:
    """``(ndtr, ndtri)``: SciPy's ufuncs, from ``scipy.special._ufuncs`` alone when it can
    be imported so, else from ``scipy.special``."""
    if _PACKAGE not in sys.modules:
        try:
            return _from_ufuncs()
        except Exception:  # any failure: the ordinary import decides
            pass
    from scipy.special import ndtr, ndtri

    return ndtr, ndtri


def _from_ufuncs() -> tuple[Any, Any]:
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(_PACKAGE)
    before = set(sys.modules)
    stand_in = types.ModuleType(_PACKAGE)
    stand_in.__path__ = list(spec.submodule_search_locations)
    stand_in.__package__ = _PACKAGE
    sys.modules[_PACKAGE] = stand_in
    try:
        ufuncs = importlib.import_module(_PACKAGE + "._ufuncs")
        pair = (ufuncs.ndtr, ufuncs.ndtri)
    except BaseException:
        # Nothing of a failed attempt stays: the ordinary import starts clean.
        for name in set(sys.modules) - before:
            if name == _PACKAGE or name.startswith(_PACKAGE + "."):
                del sys.modules[name]
        raise
    finally:
        if sys.modules.get(_PACKAGE) is stand_in:
            del sys.modules[_PACKAGE]
    return pair


ndtr, ndtri = load()
