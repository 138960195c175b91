"""Pause Python's cyclic garbage collector while a burst of small objects is built (no Qt).

Measured reasons:
- the header scan (bench/load_bench.py, 3,000 files, CPU best of 9): with the collector running
  the scan spent about a fifth of its time in collections (0.331 s vs 0.265 s paused): every few
  hundred new containers start a collection that also walks the records already built;
- reading a 10 MB findings file in a worker (bench/panel_bench.py): about half a million small
  lists (outline points) made full collections of 165-520 ms each, three or four per open, that
  freed nothing but held the GIL, so the GUI thread could not run.
Neither makes reference cycles of its own; reference counting still frees everything meanwhile.

One counter for every caller: nested and concurrent pauses (worker threads, a scan during a
findings read) share one pause, and the collector comes back when the last ends, and only if it
was on before the first.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Within the block the cyclic collector does not run (reference counting still frees)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
