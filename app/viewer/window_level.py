"""Window/level value object, presets and defaults (DICOM PS3.3 C.11.2.1.2 linear function).

Values are in the image's output units (HU on CT, modality-LUT output otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WindowLevel:
    center: float
    width: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "width", max(1.0, float(self.width)))
        object.__setattr__(self, "center", float(self.center))

    @property
    def low(self) -> float:
        return self.center - 0.5 - (self.width - 1.0) / 2.0

    @property
    def high(self) -> float:
        return self.center - 0.5 + (self.width - 1.0) / 2.0

    def dragged(self, dx_px: float, dy_px: float, sensitivity: float | None = None) -> WindowLevel:
        """Drag right widens the window, drag down raises the level (the common workstation
        convention). Sensitivity defaults to a step proportional to the current width."""
        step = sensitivity if sensitivity is not None else max(self.width / 256.0, 0.5)
        return WindowLevel(self.center + dy_px * step, self.width + dx_px * step)

    def label(self) -> str:
        return f"W {self.width:.0f}  L {self.center:.0f}"


# name -> (center, width); "auto" presets are computed from the image
PRESETS: dict[str, tuple[float, float]] = {
    "ct_bone": (500.0, 2000.0),
    "ct_soft_tissue": (40.0, 400.0),
}

PRESET_TITLES: dict[str, str] = {
    "ct_bone": "CT bone (W 2000 / L 500)",
    "ct_soft_tissue": "CT soft tissue (W 400 / L 40)",
    "auto": "Auto (1st-99th percentile)",
    "default": "DICOM default (VOI window / LUT)",
}


def preset(name: str) -> WindowLevel:
    c, w = PRESETS[name]
    return WindowLevel(c, w)


def _sample(array: np.ndarray, max_samples: int = 400_000) -> np.ndarray:
    a = np.asarray(array)
    step = max(1, int(np.ceil((a.size / max_samples) ** (1.0 / max(1, a.ndim)))))
    if a.ndim == 3:
        sub = a[::step, ::step, ::step]
    elif a.ndim == 2:
        sub = a[::step, ::step]
    else:
        sub = a.ravel()[::step]
    return sub.ravel()


def auto_window(array: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0,
                ignore_below: float | None = None) -> WindowLevel:
    """Window spanning the [low_pct, high_pct] intensity percentiles (MR auto window).

    Works on a strided subsample so it is cheap on a 300-slice volume. ``ignore_below``
    drops background (e.g. air at 0 on MR) before taking percentiles when enough remains.
    """
    s = _sample(array).astype(np.float32, copy=False)
    s = s[np.isfinite(s)]
    if ignore_below is not None:
        kept = s[s > ignore_below]
        if kept.size > s.size * 0.05:
            s = kept
    if s.size == 0:
        return WindowLevel(0.5, 1.0)
    lo, hi = np.percentile(s, [low_pct, high_pct])
    if hi <= lo:
        hi = lo + 1.0
    return WindowLevel((lo + hi) / 2.0, hi - lo)


def default_window(modality: str, array: np.ndarray,
                   dicom_center_width: tuple[float, float] | None = None) -> tuple[WindowLevel, str]:
    """The window a series opens with, and where it came from (shown in the overlay)."""
    if modality == "CT":
        return preset("ct_bone"), "CT bone"
    if dicom_center_width is not None and dicom_center_width[1] > 0 and modality in ("CR", "DX"):
        c, w = dicom_center_width
        return WindowLevel(c, w), "DICOM window"
    if modality == "MR":
        return auto_window(array, ignore_below=0.0), "auto 1-99%"
    if dicom_center_width is not None and dicom_center_width[1] > 0:
        c, w = dicom_center_width
        return WindowLevel(c, w), "DICOM window"
    return auto_window(array), "auto 1-99%"
