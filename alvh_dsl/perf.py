"""Keeping large, acyclic workloads off the cyclic garbage collector."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc(*, promote: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector for the duration of the block.

    Parsing a large book, checking it, and a dry-run's day loop each create
    hundreds of thousands of small objects that live until the end (AST nodes,
    trace records) and form no cycles. Every full collection rescans all of
    them, which made those stages grow faster than their input (see
    ``benchmarks/bench_language.py`` (b) and ``bench_dryrun.py``). Reference counting still frees
    everything; anything cyclic is collected once the block ends. Nests safely.

    ``promote=True``: what the block made and left alive joins the oldest generation
    when it ends (``gc.freeze()`` then ``gc.unfreeze()``: two list moves), instead of
    waiting in the youngest for the first collection after the block, which would scan
    every one of those objects (and the next would scan the survivors again): for a
    dry-run of the core book whose result is kept, some 150 ms spent finding nothing
    (``python benchmarks/bench_pieces.py OLD_TREE``, its (1)). Cyclic garbage the block
    made is then found by the next full collection rather than the next young one; the
    blocks that pass it make none (the market a run builds holds no cycle:
    tests/test_market_rows.py).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if promote:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
