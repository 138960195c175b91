"""Scan a large file list with two processes: this one and one forked helper (opt-in).

Header parsing is CPU-bound Python, so a second core helps only through a second process. The
helper is forked (no interpreter start, no imports: measured 5-16 ms), scans the second half of
the list with the same per-file function and sends the results back pickled (measured: 17 ms to
pickle and 27 ms to unpickle 1,500 records). Below MIN_FILES files the fork and the transfer
cost more than the half scan saves.

Off unless ``ISTHMUS_SCAN_PROCESSES=2`` is set. Measured on the shared 2-core dev machine
(load average 5-6, bench/load_bench.py rows scan-isthmus and scan-isthmus-2proc, best of 10):
3,000 files took 0.581 s with the helper against 0.338 s without, and 0.08 s more CPU in all
(copy-on-write faults after the fork, pickling). A second process only pays on an idle second
core; the lead's quiet-machine run of the bench decides whether it becomes the default.

Safety: the helper never returns into the caller (it always ends with ``os._exit``), ignores
warnings (nothing is written to this process's streams), and anything that goes wrong on its
side (a crash, a signal, a timeout, unreadable results) makes this process scan that half
itself, so the result never depends on the helper. Only on systems with ``os.fork``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

MIN_FILES = 1000  # below this the scan stays in one process (fork + transfer outweigh the gain)
HELPER_WAIT_FACTOR = 4.0  # the helper may take this many times this process's own half ...
HELPER_WAIT_MIN_S = 5.0  # ... and at least this long, before its half is scanned here instead

ScanOne = Callable[[Path], Any]


def available() -> bool:
    """True when asked for (ISTHMUS_SCAN_PROCESSES=2), a helper can be forked and a second core exists."""
    return os.environ.get("ISTHMUS_SCAN_PROCESSES") == "2" and hasattr(os, "fork") and (os.cpu_count() or 1) >= 2


def _child(write_fd: int, files: Sequence[Path], scan_one: ScanOne) -> None:
    """In the forked helper: scan ``files``, send the pickled results, exit. Never returns."""
    code = 1
    try:
        import warnings

        warnings.simplefilter("ignore")
        out = [scan_one(p) for p in files]
        data = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            n = os.write(write_fd, view[:1 << 20])
            view = view[n:]
        code = 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _read_all(fd: int, deadline: float) -> bytes | None:
    """Everything the helper writes until it closes the pipe, or None past ``deadline``."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _reap(pid: int, kill: bool) -> int | None:
    if kill:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    try:
        return os.waitpid(pid, 0)[1]
    except OSError:
        return None


def scan_split(files: Sequence[Path], scan_one: ScanOne,
               scan_here: Callable[[Sequence[Path]], list[Any]]) -> list[Any]:
    """``[scan_one(p) for p in files]``, the second half done by a forked helper. ``scan_here``
    scans a list in this process (with progress and cancel checks); it also scans the helper's
    half when the helper fails. A Cancelled raised by ``scan_here`` stops the helper too."""
    half = len(files) // 2
    mine, theirs = files[:half], files[half:]
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return scan_here(files)
    if pid == 0:  # the helper
        os.close(read_fd)
        _child(write_fd, theirs, scan_one)
    os.close(write_fd)
    helper_done = False
    try:
        t0 = time.monotonic()
        out = scan_here(mine)
        own_s = time.monotonic() - t0
        data = _read_all(read_fd, time.monotonic() + max(HELPER_WAIT_MIN_S, HELPER_WAIT_FACTOR * own_s))
        status = _reap(pid, kill=data is None)
        helper_done = True
        rest = None
        if data is not None and status == 0:
            try:
                rest = pickle.loads(data)
            except Exception:
                rest = None
        if not isinstance(rest, list) or len(rest) != len(theirs):
            rest = scan_here(theirs)  # the helper failed: its half is scanned here
        return out + rest
    finally:
        os.close(read_fd)
        if not helper_done:  # cancelled or failed here: stop the helper
            _reap(pid, kill=True)
