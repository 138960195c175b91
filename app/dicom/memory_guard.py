"""Memory safety of loading: refuse allocations that declared (possibly damaged) header values ask
for before making them, and hand freed heap memory back to the system when a study closes."""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

from app.dicom.errors import ImageTooLarge

# Never allocate more than this fraction of the memory available now for one series or file.
AVAILABLE_FRACTION = 0.5
_FALLBACK_AVAILABLE_BYTES = 4 << 30


def available_memory_bytes() -> int:
    """Memory available to this process now (MemAvailable on Linux), or a conservative guess."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return _FALLBACK_AVAILABLE_BYTES


def _gib(n: float) -> str:
    return f"{n / (1 << 30):.1f} GiB" if n >= (1 << 30) else f"{n / (1 << 20):.1f} MiB"


def ensure_allocatable(path: Path | None, n_bytes: int, what: str) -> None:
    """Raise ImageTooLarge when ``n_bytes`` (for ``what``, e.g. "4000 frames of 512x512") cannot
    be allocated safely now."""
    limit = int(available_memory_bytes() * AVAILABLE_FRACTION)
    if n_bytes > limit:
        raise ImageTooLarge(path, f"{what} would need {_gib(n_bytes)} of memory, more than the "
                                  f"{_gib(limit)} that can safely be used now; refused before allocating")


_LIBC: list = []


def _glibc():
    """glibc, loaded once; None off Linux or where it cannot be loaded."""
    if not sys.platform.startswith("linux"):
        return None
    if not _LIBC:
        try:
            _LIBC.append(ctypes.CDLL("libc.so.6"))
        except OSError:
            return None
    return _LIBC[0]


# glibc serves a block of at least this many bytes with its own mmap, handed back when freed.
# glibc's default starts at 128 KiB and raises itself (up to 32 MiB) each time such a block is
# freed, after which decoded slices, radiographs and display buffers of a few MiB came from the
# per-thread arenas and their freed space stayed in the RSS, fragmented (malloc_trim handed back
# none of it). The window's RSS after each round of the six sample cases (bench/bigct_bench.py,
# issue 16; five rounds): 335 / 358 / 360 / 359 / 379 MB with the default; 260-265 MB, flat, at a
# fixed 16 MiB (4 MiB: the same; 1 MiB: the same, but blocks of 1-16 MiB then each pay fresh page
# faults: the radiograph fitted in a maximised cell 3.5 -> 6.8 ms, bench/render_bench.py).
LARGE_BLOCK_MMAP_BYTES = 16 << 20
_M_MMAP_THRESHOLD = -3  # mallopt parameter (malloc.h)


def use_mmap_for_large_blocks(threshold_bytes: int = LARGE_BLOCK_MMAP_BYTES) -> bool:
    """Fix glibc's mmap threshold at ``threshold_bytes`` (no longer raised on its own), so large
    blocks go back to the system when freed. True when set; False where glibc is not there."""
    libc = _glibc()
    try:
        return libc is not None and bool(libc.mallopt(_M_MMAP_THRESHOLD, int(threshold_bytes)))
    except AttributeError:
        return False


def release_free_heap() -> bool:
    """Hand heap memory that was freed back to the operating system (glibc keeps freed chunks
    of its per-thread arenas for reuse, so a closed study's leftovers would stay in the RSS).
    True when it ran; a no-op returning False where glibc's malloc_trim is not available."""
    libc = _glibc()
    try:
        if libc is None:
            return False
        libc.malloc_trim(0)
    except AttributeError:
        return False
    return True
