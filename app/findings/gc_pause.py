"""Pause Python's cyclic garbage collector while a big findings file is read in a worker.

Parsing a 10 MB findings file makes about half a million small lists (the outlines' points),
all alive until the findings are built. Their allocation triggers full (generation 2)
collections that find nothing to free but walk every object of the process while holding the
GIL: measured 165-520 ms each, three or four per open, in which the GUI thread could not run
(bench/panel_bench.py, issue 16). Reference counting still frees everything meanwhile; only
cycles wait until the collector is back on, a second or so later.

Nested and concurrent pauses are counted: the collector comes back when the last one ends, and
only if it was on before the first.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
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
