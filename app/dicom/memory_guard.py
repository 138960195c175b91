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


def release_free_heap() -> bool:
    """Hand heap memory that was freed back to the operating system (glibc keeps freed chunks
    of its per-thread arenas for reuse, so a closed study's leftovers would stay in the RSS).
    True when it ran; a no-op returning False where glibc's malloc_trim is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        if not _LIBC:
            _LIBC.append(ctypes.CDLL("libc.so.6"))
        _LIBC[0].malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return True
