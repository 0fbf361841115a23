"""The console script asks OpenBLAS for one thread (decision 101): the variable set before
NumPy loads, a user's own setting kept, nothing done once NumPy is loaded."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_MAIN = (
    "import os, sys\n"
    "sys.argv = ['alvh', '--version']\n"
    "from alvh_dsl.cli.main import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(os.environ.get('OPENBLAS_NUM_THREADS', 'unset'))\n"
)


def _run(code: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**base, **env},
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def test_the_console_script_sets_one_thread() -> None:
    assert _run(_MAIN) == "1"


def test_a_users_setting_is_kept() -> None:
    assert _run(_MAIN, OPENBLAS_NUM_THREADS="3") == "3"


@pytest.mark.parametrize("numpy_first", [False, True])
def test_nothing_is_set_once_numpy_is_loaded(numpy_first: bool) -> None:
    pytest.importorskip("numpy")
    code = (
        ("import numpy\n" if numpy_first else "")
        + "import os\nfrom alvh_dsl.cli.main import single_threaded_blas\n"
        "single_threaded_blas()\nprint(os.environ.get('OPENBLAS_NUM_THREADS', 'unset'))\n"
    )
    assert _run(code) == ("unset" if numpy_first else "1")
