"""Annotation kinds for the spino-pelvic and the segmental-motion (instability) tools.

* ``SpinoPelvicLines`` ("spinopelvic"): up to six points on a standing lateral image, in order
  femoral head centre 1, femoral head centre 2, S1 superior endplate posterior and anterior
  corner, then optionally L1 superior endplate posterior and anterior corner. With the first four
  it measures PI, PT, SS; with all six also LL (app.geometry.spinopelvic).
* ``SegmentMotionLines`` ("segment-motion"): four points on a flexion or extension view, in order
  upper vertebra inferior endplate posterior and anterior corner, lower vertebra superior endplate
  posterior and anterior corner; ``level`` is the upper vertebra (L4 for L4-L5) and ``view``
  "flexion" or "extension" (app.geometry.instability).

Both register themselves in ``app.annotations.model.ANNOTATION_TYPES`` (documents round-trip).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from app.annotations.model import ANNOTATION_TYPES, Annotation, AnnotationDataError, _enum_or_none
from app.annotations.space import format_length
from app.geometry.instability import SegmentPosition, optional_position
from app.geometry.spinopelvic import SpinoPelvicAngles, SpinoPelvicGeometryError, spinopelvic_angles
from app.vocabulary import Level

__all__ = ["SEGMENT_POINT_NAMES", "SPINOPELVIC_POINT_NAMES", "VIEWS", "SegmentMotionLines", "SpinoPelvicLines"]

SPINOPELVIC_POINT_NAMES = ("femoral head centre 1", "femoral head centre 2", "S1 endplate posterior corner",
                           "S1 endplate anterior corner", "L1 endplate posterior corner", "L1 endplate anterior corner")
SPINOPELVIC_MIN_POINTS = 4
SEGMENT_POINT_NAMES = ("{upper} inferior endplate posterior corner", "{upper} inferior endplate anterior corner",
                       "{lower} superior endplate posterior corner", "{lower} superior endplate anterior corner")
VIEWS = ("flexion", "extension")


def _deg(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}°"


@dataclass(frozen=True, kw_only=True)
class SpinoPelvicLines(Annotation):
    kind: ClassVar[str] = "spinopelvic"
    title: ClassVar[str] = "Spino-pelvic parameters"
    n_points: ClassVar[int | None] = 6

    @property
    def angles(self) -> SpinoPelvicAngles | None:
        """PI, PT, SS (LL with six points), or None with fewer than four points or degenerate ones."""
        if len(self.points_px) < SPINOPELVIC_MIN_POINTS:
            return None
        p = list(self.points_mm())
        try:
            return spinopelvic_angles(*p[:4], *(p[4:6] if len(p) == 6 else ()))
        except SpinoPelvicGeometryError:
            return None

    @property
    def is_complete(self) -> bool:
        return self.angles is not None

    @property
    def hip_axis_px(self) -> tuple[float, float] | None:
        if len(self.points_px) < 2:
            return None
        (c1, r1), (c2, r2) = self.points_px[:2]
        return ((c1 + c2) / 2.0, (r1 + r2) / 2.0)

    @property
    def display_text(self) -> str:
        a = self.angles
        if a is None:
            return "PI ?  PT ?  SS ?"
        text = f"PI {_deg(a.pelvic_incidence_deg)}  PT {_deg(a.pelvic_tilt_deg)}  SS {_deg(a.sacral_slope_deg)}"
        return text + f"  LL {_deg(a.lumbar_lordosis_deg)}"


@dataclass(frozen=True, kw_only=True)
class SegmentMotionLines(Annotation):
    kind: ClassVar[str] = "segment-motion"
    title: ClassVar[str] = "Segment on flexion / extension"
    n_points: ClassVar[int | None] = 4

    level: Level = Level.L4  # the upper vertebra of the segment
    view: str = "flexion"

    def __post_init__(self) -> None:
        super().__post_init__()
        level = _enum_or_none(Level, self.level)
        if level is None or level is Level.S1:
            raise AnnotationDataError(f"segment-motion: the upper vertebra must be L1-L5, got {self.level!r}")
        object.__setattr__(self, "level", level)
        if self.view not in VIEWS:
            raise AnnotationDataError(f"segment-motion: view must be flexion or extension, got {self.view!r}")

    @property
    def segment_name(self) -> str:
        below = self.level.below  # never None: the level is L1-L5 (checked on construction)
        return f"{self.level.value}-{below.value if below is not None else '?'}"

    @property
    def position(self) -> SegmentPosition | None:
        """Translation (mm when calibrated, else px) and angle on this view."""
        return optional_position(list(self.points_mm()))

    @property
    def is_complete(self) -> bool:
        return self.position is not None

    @property
    def display_text(self) -> str:
        pos = self.position
        if pos is None:
            return f"{self.segment_name} {self.view}"
        shift = format_length(pos.translation, self.in_mm, self.display_calibration)
        return (f"{self.segment_name} {self.view}: translation {shift} ({pos.translation_pct:.1f} %), "
                f"angle {pos.angle_deg:.1f}°")


for _cls in (SpinoPelvicLines, SegmentMotionLines):
    ANNOTATION_TYPES.setdefault(_cls.kind, _cls)
