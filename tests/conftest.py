"""Shared fixtures: where ../shared is, and hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ALVH_SHARED", ROOT.parent / "shared"))

# CI (CI=true) draws the same examples on every run, so a landing never hangs on
# a lucky draw; local runs explore new ones (and find bugs such as issue 10's).
settings.register_profile(
    "default",
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=os.environ.get("CI", "").lower() in ("1", "true", "yes"),
)
settings.register_profile("ci", deadline=None, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ../shared directory; tests that need it skip cleanly when it is absent."""
    if not (SHARED / "spec").is_dir():
        pytest.skip("../shared is not present beside the project")
    return SHARED


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT
