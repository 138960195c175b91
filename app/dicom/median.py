"""Median of a 1-D float array, as ``np.median`` gives it.

Measured reason: the first ``np.median`` call in a process imports ``numpy.ma`` (23 ms on the
dev machine, about a tenth of the header scan of 3,000 files in bench/load_bench.py, and paid
during the first scan of the session). A sort gives the same value without that import.
"""

from __future__ import annotations

import math

import numpy as np


def median(values: np.ndarray) -> float:
    """The median (mean of the middle two for an even count); NaN when empty or when any value is
    NaN, like ``np.median``."""
    s = np.sort(np.asarray(values, dtype=np.float64).ravel())  # NaN sorts last
    n = s.size
    if n == 0 or math.isnan(s[-1]):
        return math.nan
    mid = n // 2
    return float(s[mid]) if n % 2 else float((s[mid - 1] + s[mid]) / 2.0)
