"""The package's lazy re-exports resolve, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import alvh_dsl.market as market


@pytest.mark.parametrize("name", market.__all__)
def test_every_export_resolves(name: str) -> None:
    assert getattr(market, name) is not None


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        market.nope  # noqa: B018


def test_import_does_not_load_pandas() -> None:
    code = "import sys, alvh_dsl.market; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_merge_is_the_function_even_after_the_module_is_imported() -> None:
    import alvh_dsl.market.sources  # noqa: F401

    assert callable(market.merge) and market.merge.__name__ == "merge"
