"""Pause Python's cyclic garbage collector while a scan builds many small objects.

Measured reason (bench/load_bench.py header scan, 3,000 files, CPU time best of 9): with the
collector running the scan spends about a fifth of its time in collections (0.331 s vs 0.265 s
with it paused): every few hundred new containers (header dicts, records, tuples) start a
collection that also walks the records already built. The scan makes no reference cycles of its
own, so nothing is left for the collector afterwards. Paused at most for one scan; nested and
concurrent scans (worker threads) share one pause, and the collector is switched back on only if
it was on before the first of them.
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
