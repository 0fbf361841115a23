"""alvh_dsl.market.special: SciPy's ndtr and ndtri without the rest of scipy.special."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("scipy")


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_pricing_does_not_import_the_scipy_special_package() -> None:
    out = _python(
        "import sys\n"
        "import alvh_dsl.market.pricing\n"
        "print('scipy.special' in sys.modules,"
        " 'scipy.special._support_alternative_backends' in sys.modules)"
    )
    assert out == "False False"


def test_a_later_import_of_scipy_special_is_the_whole_package_with_the_same_ufuncs() -> None:
    out = _python(
        "from alvh_dsl.market import special\n"
        "import scipy.special as s\n"
        "print(s.ndtr is special.ndtr, s.ndtri is special.ndtri,"
        " callable(s.erf), callable(s.gammaln), s.ndtr(0.0))"
    )
    assert out == "True True True True 0.5"


def test_scipy_special_imported_first_is_used_as_it_is() -> None:
    out = _python(
        "import scipy.special as s\n"
        "from alvh_dsl.market import special\n"
        "print(special.ndtr is s.ndtr, special.ndtri is s.ndtri)"
    )
    assert out == "True True"


def test_a_failed_load_falls_back_to_the_ordinary_import_and_leaves_nothing() -> None:
    # A SciPy whose _ufuncs cannot be imported alone: the stand-in and whatever the attempt
    # imported are gone, and the package's own import gives the ufuncs.
    out = _python(
        "import importlib, sys\n"
        "real = importlib.import_module\n"
        "def broken(name, package=None):\n"
        "    if name == 'scipy.special._ufuncs':\n"
        "        real('scipy.special._ufuncs_cxx')\n"
        "        raise ImportError(name)\n"
        "    return real(name, package)\n"
        "importlib.import_module = broken\n"
        "from alvh_dsl.market import special\n"
        "import scipy.special as s\n"
        "print(special.ndtr is s.ndtr,"
        " 'scipy.special._support_alternative_backends' in sys.modules, callable(s.erf))"
    )
    assert out == "True True True"
