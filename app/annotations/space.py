"""``PixelSpace``: what a tool needs to know about the pixels of the image it draws on.

* ``spacing_mm`` - (row spacing, column spacing) in mm, or None when uncalibrated (values in px);
* ``calibration`` - the basis label shown beside every mm value of a *projection* image,
  e.g. "ImagerPixelSpacing / magnification"; "" for CT/MR slices (true patient mm);
* ``to_lps`` - optional callable (N, 2) pixel (column, row) -> (N, 3) LPS mm, for slices of a
  volume; None on a radiograph.

Build one with ``PixelSpace.for_plane(PlaneSpec)`` (CT/MR slice or MPR plane), ``PixelSpace.for_radiograph(
Calibration)`` (CR/DX) or ``PixelSpace()`` (uncalibrated).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from app.geometry.frames import PlaneSpec

__all__ = ["PixelSpace", "format_area", "format_length"]


def _fmt_label(text: str, calibration: str) -> str:
    return f"{text} ({calibration})" if calibration else text


def format_length(value: float | None, in_mm: bool, calibration: str = "") -> str:
    """'23.4 mm (basis)' on a projection image, '23.4 mm' on CT/MR, '123.4 px' uncalibrated."""
    if value is None:
        return ""
    if in_mm:
        return _fmt_label(f"{value:.1f} mm", calibration)
    return f"{value:.1f} px"


def format_area(value: float | None, in_mm: bool, calibration: str = "") -> str:
    if value is None:
        return ""
    if in_mm:
        return _fmt_label(f"{value:.1f} mm²", calibration)
    return f"{value:.0f} px²"


@dataclass(frozen=True)
class PixelSpace:
    spacing_mm: tuple[float, float] | None = None
    calibration: str = ""
    to_lps: Callable[[np.ndarray], np.ndarray] | None = None

    def __post_init__(self) -> None:
        if self.spacing_mm is not None:
            sp = (float(self.spacing_mm[0]), float(self.spacing_mm[1]))
            if sp[0] <= 0 or sp[1] <= 0:
                raise ValueError(f"pixel spacing must be positive, got {sp}")
            object.__setattr__(self, "spacing_mm", sp)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def for_plane(cls, plane: PlaneSpec) -> PixelSpace:
        """A CT/MR slice or MPR plane (``app.geometry.frames.PlaneSpec``): mm and LPS."""
        return cls(spacing_mm=plane.spacing_mm, calibration="", to_lps=plane.to_lps)

    @classmethod
    def for_radiograph(cls, calibration) -> PixelSpace:
        """A CR/DX image: ``calibration`` is an ``app.dicom.model.Calibration``."""
        sp = calibration.spacing_mm
        label = calibration.label if sp is not None else ""
        return cls(spacing_mm=None if sp is None else tuple(sp), calibration=label, to_lps=None)

    # ------------------------------------------------------------------ conversions
    @property
    def calibrated(self) -> bool:
        return self.spacing_mm is not None

    def points_lps(self, points_px: Sequence[Sequence[float]]) -> tuple[tuple[float, float, float], ...]:
        """LPS of the pixel points, or () when this image has no patient frame."""
        if self.to_lps is None or len(points_px) == 0:
            return ()
        out = np.asarray(self.to_lps(np.asarray(points_px, dtype=np.float64).reshape(-1, 2)), dtype=np.float64)
        return tuple((float(p[0]), float(p[1]), float(p[2])) for p in out.reshape(-1, 3))

    def display_label(self) -> str:
        """The calibration label to print beside mm values ("" on CT/MR)."""
        return self.calibration if self.to_lps is None else ""
