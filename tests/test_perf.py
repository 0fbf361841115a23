"""alvh_dsl.perf.paused_gc: the collector paused in the block and as before after it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from alvh_dsl.perf import paused_gc


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    gc.collect()
    try:
        yield
    finally:
        if not was:
            gc.disable()


@pytest.mark.parametrize("promote", [False, True])
def test_paused_in_the_block_and_restored(collector_on: None, promote: bool) -> None:
    with paused_gc(promote=promote):
        assert not gc.isenabled()
        with paused_gc(promote=promote):  # nests
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_left_disabled_when_it_was(collector_on: None) -> None:
    gc.disable()
    with paused_gc(promote=True):
        pass
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


def _generation(obj: object) -> int:
    for g in range(3):
        if any(o is obj for o in gc.get_objects(generation=g)):
            return g
    raise AssertionError("not tracked")


def test_promote_moves_what_the_block_kept_to_the_oldest_generation(collector_on: None) -> None:
    # Kept past the block and left young, the first collection after it scans every one
    # of them (and moves them one generation up); promoted, they are in the oldest at once.
    with paused_gc():
        young = [[k] for k in range(1_000)]
    assert _generation(young[-1]) < 2
    with paused_gc(promote=True):
        promoted = [[k] for k in range(1_000)]
    assert _generation(promoted[-1]) == 2
    assert gc.get_freeze_count() == 0  # nothing left frozen: a full collection sees them


def test_promoted_cycles_are_still_collected(collector_on: None) -> None:
    with paused_gc(promote=True):
        a: list[object] = []
        a.append(a)
        del a
    assert gc.collect() >= 1
