"""Scale bar length: a round number of mm that fits a fraction of the view width."""

from __future__ import annotations

NICE_MM = (1, 2, 5, 10, 20, 25, 50, 100, 200, 500)


def scale_bar_mm(view_width_px: float, mm_per_screen_px: float, max_fraction: float = 0.25) -> float:
    """Largest nice length (mm) whose bar is at most ``max_fraction`` of the view width."""
    if mm_per_screen_px <= 0 or view_width_px <= 0:
        return 0.0
    limit_mm = view_width_px * max_fraction * mm_per_screen_px
    best = NICE_MM[0]
    for v in NICE_MM:
        if v <= limit_mm:
            best = v
    return float(best)
