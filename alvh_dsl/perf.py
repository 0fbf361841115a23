"""Keeping large, acyclic workloads off the cyclic garbage collector."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for the duration of the block.

    Parsing a large book, checking it, and a dry-run's day loop each create
    hundreds of thousands of small objects that live until the end (AST nodes,
    trace records) and form no cycles. Every full collection rescans all of
    them, which made those stages grow faster than their input (see
    ``benchmarks/bench_language.py`` (b) and ``bench_dryrun.py``). Reference counting still frees
    everything; anything cyclic is collected once the block ends. Nests safely.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
