"""Refuse allocations that declared (possibly damaged) header values ask for before making them."""

from __future__ import annotations

import os
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
