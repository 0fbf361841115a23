"""Shared fixtures: where ../shared is, and hypothesis profiles."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

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


HANG_SECONDS = 20  # far above any catalogue row's run time; a hang fails the row


class Hung(Exception):
    """A row that did not answer in time (not an OSError: readers catch those)."""


def _timeout(signum: int, frame: FrameType | None) -> None:
    raise Hung(f"no answer in {HANG_SECONDS} s")


@pytest.fixture
def alarm() -> Iterator[None]:
    """Fail (:class:`Hung`) instead of hanging the suite on a read that never ends."""
    previous = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
