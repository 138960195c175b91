"""Annotation data: frozen dataclasses, no Qt, no display properties.

Every annotation references the image it was drawn on (series / SOP instance UID, 1-based frame
or None), keeps its control points in image pixels ``points_px`` = ((column, row), ...) (pixel
centres at integer coordinates) and, on a CT/MR slice, the same points in LPS mm
``points_lps``; on a radiograph ``points_lps`` is empty. It also records the pixel spacing and
calibration label of that image at drawing time, so every measurement can be recomputed from
the annotation alone:

* points in LPS -> 3D mm (true patient mm, no calibration label);
* else pixel spacing known -> 2D mm (projection image: the value carries the calibration label,
  e.g. "23.4 mm (ImagerPixelSpacing / magnification)");
* else -> pixels ("123.4 px").

Measurements are properties computed from the points (never stale). The only stored
measurement is the ROI pixel statistics (``stats``), which need the image; tools refresh it.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

import numpy as np

from app.annotations.space import PixelSpace, format_area, format_length
from app.geometry import measure
from app.vocabulary import (
    AnnotationRef,
    Level,
    MeyerdingGrade,
    ParsStatus,
    Side,
    SlipTechnique,
    meyerding_grade,
)

__all__ = [
    "ANNOTATION_TYPES",
    "ROI_ROLES",
    "VERTEBRA_ORDER",
    "Angle",
    "Annotation",
    "AnnotationDataError",
    "ArrowText",
    "CobbAngle",
    "EllipseROI",
    "FreehandROI",
    "Length",
    "LevelLabel",
    "LevelLabelConflict",
    "MeyerdingSlip",
    "ParsMarker",
    "annotation_from_dict",
    "new_id",
    "now_iso",
    "propagate_level_labels",
]


class AnnotationDataError(ValueError):
    """An annotation (or a document entry) that cannot be built: says which and why."""


def new_id() -> str:
    return uuid.uuid4().hex


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _point_tuple(points: Sequence, dim: int, name: str) -> tuple:
    out = []
    for p in points:
        vals = tuple(float(v) for v in p)
        if len(vals) != dim or not all(math.isfinite(v) for v in vals):
            raise AnnotationDataError(f"{name}: expected finite {dim}D points, got {p!r}")
        out.append(vals)
    return tuple(out)


def _enum_or_none(cls: type, value: Any) -> Any:
    if value is None or value == "":
        return None
    return cls(value)


# =========================================================================== base

@dataclass(frozen=True, kw_only=True)
class Annotation:
    kind: ClassVar[str] = "annotation"
    title: ClassVar[str] = "Annotation"
    n_points: ClassVar[int | None] = None  # fixed number of control points, None = variable

    id: str = field(default_factory=new_id)
    series_instance_uid: str = ""
    sop_instance_uid: str = ""
    frame: int | None = None  # 1-based frame of a multi-frame object, else None
    points_px: tuple[tuple[float, float], ...] = ()
    points_lps: tuple[tuple[float, float, float], ...] = ()
    label: str = ""
    created: str = field(default_factory=now_iso)
    modified: str = ""
    creator: str = ""
    pixel_spacing_mm: tuple[float, float] | None = None  # (row, column) spacing of the image
    calibration: str = ""  # basis label for mm on a projection image, "" on CT/MR

    def __post_init__(self) -> None:
        object.__setattr__(self, "points_px", _point_tuple(self.points_px, 2, f"{self.kind} points_px"))
        object.__setattr__(self, "points_lps", _point_tuple(self.points_lps, 3, f"{self.kind} points_lps"))
        if self.points_lps and len(self.points_lps) != len(self.points_px):
            raise AnnotationDataError(
                f"{self.kind}: {len(self.points_lps)} LPS points for {len(self.points_px)} pixel points")
        if self.pixel_spacing_mm is not None:
            sp = tuple(float(v) for v in self.pixel_spacing_mm)
            if len(sp) != 2 or sp[0] <= 0 or sp[1] <= 0:
                raise AnnotationDataError(f"{self.kind}: bad pixel spacing {self.pixel_spacing_mm!r}")
            object.__setattr__(self, "pixel_spacing_mm", sp)
        if self.frame is not None:
            if int(self.frame) < 1:
                raise AnnotationDataError(f"{self.kind}: frame numbers are 1-based, got {self.frame}")
            object.__setattr__(self, "frame", int(self.frame))
        if not self.modified:
            object.__setattr__(self, "modified", self.created)
        if self.n_points is not None and len(self.points_px) > self.n_points:
            raise AnnotationDataError(f"{self.kind}: at most {self.n_points} points, got {len(self.points_px)}")

    # ------------------------------------------------------------------ image and frames
    @property
    def image_key(self) -> tuple[str, str, int | None]:
        return (self.series_instance_uid, self.sop_instance_uid, self.frame)

    @property
    def in_mm(self) -> bool:
        """True when measurements are in mm (LPS points or a pixel spacing)."""
        return bool(self.points_lps) or self.pixel_spacing_mm is not None

    @property
    def display_calibration(self) -> str:
        """Label printed beside mm values: the radiograph calibration basis, "" on CT/MR."""
        return "" if self.points_lps else self.calibration

    def points_mm(self) -> np.ndarray:
        """Measurement coordinates: LPS (N, 3) when known, else (column*col_sp, row*row_sp)
        mm, else pixels. See ``in_mm``."""
        if self.points_lps:
            return np.asarray(self.points_lps, dtype=np.float64).reshape(-1, 3)
        p = np.asarray(self.points_px, dtype=np.float64).reshape(-1, 2)
        if self.pixel_spacing_mm is not None:
            return p * np.array([self.pixel_spacing_mm[1], self.pixel_spacing_mm[0]])
        return p

    def with_points(self, points_px: Sequence[Sequence[float]], space: PixelSpace | None = None,
                    touch: bool = True) -> Self:
        """A copy with new pixel points; LPS points recomputed with ``space`` (or dropped when
        it has no patient frame and the old LPS cannot be kept)."""
        pts = tuple(tuple(float(v) for v in p) for p in points_px)
        if space is not None:
            lps = space.points_lps(pts)
        elif self.points_lps:
            raise AnnotationDataError(f"{self.kind}: moving points of a CT/MR annotation needs its PixelSpace")
        else:
            lps = ()
        changes: dict[str, Any] = {"points_px": pts, "points_lps": lps}
        if touch:
            changes["modified"] = now_iso()
        return replace(self, **changes)

    def touched(self, **changes: Any) -> Self:
        """``dataclasses.replace`` that also updates ``modified``."""
        changes.setdefault("modified", now_iso())
        return replace(self, **changes)

    # ------------------------------------------------------------------ display and provenance
    @property
    def is_complete(self) -> bool:
        return self.n_points is None or len(self.points_px) == self.n_points

    @property
    def display_text(self) -> str:
        return self.label

    def ref(self) -> AnnotationRef:
        return AnnotationRef(
            annotation_id=self.id, kind=self.kind, series_instance_uid=self.series_instance_uid,
            sop_instance_uid=self.sop_instance_uid, frame=self.frame, points_px=self.points_px,
            points_lps=self.points_lps)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out


def _plain(v: Any) -> Any:
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, measure.RoiStats):
        return {"mean": v.mean, "sd": v.sd, "n": v.n, "area_mm2": v.area_mm2}
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


# =========================================================================== pars marker

@dataclass(frozen=True, kw_only=True)
class ParsMarker(Annotation):
    """A point on a pars interarticularis, completed with level, side and status (a popup in
    the UI: ``complete_pars_marker``). Pending while any of the three is missing."""

    kind: ClassVar[str] = "pars-marker"
    title: ClassVar[str] = "Pars marker"
    n_points: ClassVar[int | None] = 1

    level: Level | None = None
    side: Side | None = None
    status: ParsStatus | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "level", _enum_or_none(Level, self.level))
        object.__setattr__(self, "side", _enum_or_none(Side, self.side))
        object.__setattr__(self, "status", _enum_or_none(ParsStatus, self.status))

    @property
    def pending(self) -> bool:
        return self.level is None or self.side is None or self.status is None

    @property
    def is_complete(self) -> bool:
        return len(self.points_px) == 1 and not self.pending

    @property
    def display_text(self) -> str:
        level, side, status = self.level, self.side, self.status
        if level is None or side is None or status is None:  # pending
            return "pars ?"
        return f"{level.value} {side.value} pars: {status.value.replace('_', ' ')}"


# =========================================================================== Meyerding slip

S1_PS = "s1_ps"  # caudal vertebra postero-superior corner
S1_AS = "s1_as"  # caudal vertebra antero-superior corner
L5_PI = "l5_pi"  # slipping vertebra postero-inferior corner
L5_WALL_TOP = "l5_wall_top"  # a higher point on the slipping vertebra's posterior wall (technique 2)
L5_EP_1 = "l5_ep_1"  # slipping vertebra inferior endplate, first point
L5_EP_2 = "l5_ep_2"  # second point
S1_WALL = "s1_wall"  # a lower point on the caudal vertebra's posterior border (slip angle)

_ROLE_NAMES = {
    S1_PS: "{lower} postero-superior corner",
    S1_AS: "{lower} antero-superior corner",
    L5_PI: "{upper} postero-inferior corner",
    L5_WALL_TOP: "{upper} posterior wall upper point",
    L5_EP_1: "{upper} inferior endplate point 1",
    L5_EP_2: "{upper} inferior endplate point 2",
    S1_WALL: "{lower} posterior wall lower point",
}
MEYERDING_ROLES = tuple(_ROLE_NAMES)


@dataclass(frozen=True, kw_only=True)
class MeyerdingSlip(Annotation):
    """Slip of ``level`` (L5 by default) on the level below. ``roles`` names each point
    (parallel to ``points_px``): S1 postero-superior and antero-superior corners (the S1
    superior endplate), L5 postero-inferior corner; optionally the L5 posterior wall upper
    point (technique 2), two points on the L5 inferior endplate and a lower point on the S1
    posterior border (Boxall slip angle)."""

    kind: ClassVar[str] = "meyerding"
    title: ClassVar[str] = "Meyerding slip"

    roles: tuple[str, ...] = ()
    level: Level = Level.L5
    technique: SlipTechnique = SlipTechnique.POSTERIOR_CORNER_PERPENDICULAR

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "roles", tuple(str(r) for r in self.roles))
        object.__setattr__(self, "level", Level(self.level))
        object.__setattr__(self, "technique", SlipTechnique(self.technique))
        if self.level is Level.S1:
            raise AnnotationDataError("a Meyerding slip needs a level above S1")
        if len(self.roles) != len(self.points_px):
            raise AnnotationDataError(f"meyerding: {len(self.roles)} roles for {len(self.points_px)} points")
        bad = [r for r in self.roles if r not in _ROLE_NAMES]
        if bad or len(set(self.roles)) != len(self.roles):
            raise AnnotationDataError(f"meyerding: unknown or repeated landmark roles {self.roles}")

    # ------------------------------------------------------------------ landmarks
    def landmark_name(self, role: str) -> str:
        below = self.level.below
        return _ROLE_NAMES[role].format(upper=self.level.value, lower=below.value if below else "?")

    def _mm(self, role: str) -> np.ndarray | None:
        if role not in self.roles:
            return None
        return self.points_mm()[self.roles.index(role)]

    def _required_mm(self, role: str) -> np.ndarray:
        """A landmark the caller checked with ``has`` (KeyError naming it otherwise)."""
        point = self._mm(role)
        if point is None:
            raise KeyError(f"meyerding: no {role} landmark")
        return point

    def has(self, *roles: str) -> bool:
        return all(r in self.roles for r in roles)

    @property
    def slip(self) -> measure.SlipMeasurement | None:
        """Percent slip (``measure.percent_slip``) or None while the landmarks are incomplete."""
        if not self.has(S1_PS, S1_AS, L5_PI):
            return None
        technique = self.technique
        if technique is SlipTechnique.POSTERIOR_WALL_TANGENT and not self.has(L5_WALL_TOP):
            return None
        if technique is SlipTechnique.ENTERED:
            technique = SlipTechnique.POSTERIOR_CORNER_PERPENDICULAR
        try:
            return measure.percent_slip(self._required_mm(S1_PS), self._required_mm(S1_AS), self._required_mm(L5_PI),
                                        technique=technique.value,
                                        l5_posterior_wall_top=self._mm(L5_WALL_TOP))
        except measure.GeometryError:
            return None

    @property
    def percent_slip(self) -> float | None:
        s = self.slip
        return None if s is None else s.percent

    @property
    def direction(self) -> str | None:
        s = self.slip
        return None if s is None else s.direction

    @property
    def grade(self) -> MeyerdingGrade | None:
        s = self.slip
        if s is None or s.direction != measure.ANTEROLISTHESIS:
            return None
        return meyerding_grade(s.percent)

    @property
    def slip_angle_deg(self) -> float | None:
        """Boxall slip angle (L5 inferior endplate vs the perpendicular to the S1 posterior
        border), kyphotic positive; None unless both endplate points and the S1 wall point exist."""
        if not self.has(S1_PS, S1_AS, L5_EP_1, L5_EP_2, S1_WALL):
            return None
        try:
            return measure.slip_angle_deg((self._required_mm(L5_EP_1), self._required_mm(L5_EP_2)),
                                          (self._required_mm(S1_PS), self._required_mm(S1_WALL)),
                                          anterior_direction=self._required_mm(S1_AS) - self._required_mm(S1_PS))
        except measure.GeometryError:
            return None

    @property
    def is_complete(self) -> bool:
        return self.slip is not None

    @property
    def display_text(self) -> str:
        s = self.slip
        below = self.level.below.value if self.level.below else "?"
        if s is None:
            return f"{self.level.value}-{below} slip ?"
        if s.direction == measure.RETROLISTHESIS:
            text = f"{self.level.value}-{below} retrolisthesis {s.percent:.1f} %"
        else:
            g = meyerding_grade(s.percent)
            text = f"{self.level.value}-{below} {s.percent:.1f} %" + (f" (grade {g.value})" if g else " (no listhesis)")
        angle = self.slip_angle_deg
        if angle is not None:
            text += f", slip angle {angle:.1f}°"
        return text


# =========================================================================== ROIs

ROI_ROLES = ("edema", "reference", "generic")


@dataclass(frozen=True, kw_only=True)
class _RoiBase(Annotation):
    role: str = "generic"  # "edema" | "reference" | "generic"
    level: Level | None = None  # for an edema ROI: the pars finding it belongs to
    side: Side | None = None
    stats: measure.RoiStats | None = None  # pixel statistics on the drawn image

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.role not in ROI_ROLES:
            raise AnnotationDataError(f"{self.kind}: role must be one of {ROI_ROLES}, got {self.role!r}")
        object.__setattr__(self, "level", _enum_or_none(Level, self.level))
        object.__setattr__(self, "side", _enum_or_none(Side, self.side))
        st = self.stats
        if st is not None and not isinstance(st, measure.RoiStats):
            if isinstance(st, dict):
                st = measure.RoiStats(_num(st.get("mean")), _num(st.get("sd")), int(st.get("n", 0)), st.get("area_mm2"))
            else:
                st = measure.RoiStats(*st)
            object.__setattr__(self, "stats", st)

    def mask(self, shape_rc: tuple[int, int]) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def with_stats(self, image: np.ndarray | None) -> _RoiBase:
        """A copy with ``stats`` measured on ``image`` [row, column] (None clears them)."""
        if image is None or not self.is_complete:
            return replace(self, stats=None)
        img = np.asarray(image)
        st = measure.roi_stats(img, self.mask(img.shape[:2]), self.pixel_spacing_mm)
        return replace(self, stats=st)

    @property
    def area(self) -> float | None:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def display_text(self) -> str:
        parts = []
        if self.role != "generic":
            where = " ".join(v.value for v in (self.level, self.side) if v is not None)
            parts.append(f"{self.role}{' ' + where if where else ''}")
        if self.stats is not None and self.stats.n:
            parts.append(f"mean {self.stats.mean:.1f} ± {self.stats.sd:.1f} (n={self.stats.n})")
        a = self.area
        if a is not None:
            parts.append(format_area(a, self.in_mm, self.display_calibration))
        if self.label:
            parts.insert(0, self.label)
        return "; ".join(parts)


def _num(v: Any) -> float:
    return float("nan") if v is None else float(v)


@dataclass(frozen=True, kw_only=True)
class EllipseROI(_RoiBase):
    """Axis-aligned ellipse inscribed in the box of its two points (opposite corners)."""

    kind: ClassVar[str] = "ellipse-roi"
    title: ClassVar[str] = "Ellipse ROI"
    n_points: ClassVar[int | None] = 2

    @property
    def center_px(self) -> tuple[float, float]:
        (c0, r0), (c1, r1) = self.points_px
        return ((c0 + c1) / 2.0, (r0 + r1) / 2.0)

    @property
    def radii_px(self) -> tuple[float, float]:
        (c0, r0), (c1, r1) = self.points_px
        return (abs(c1 - c0) / 2.0, abs(r1 - r0) / 2.0)

    def mask(self, shape_rc: tuple[int, int]) -> np.ndarray:
        return measure.ellipse_mask(shape_rc, self.center_px, self.radii_px)

    @property
    def area(self) -> float | None:
        if len(self.points_px) != 2:
            return None
        rx, ry = self.radii_px
        if self.pixel_spacing_mm is not None:
            return measure.ellipse_area(rx * self.pixel_spacing_mm[1], ry * self.pixel_spacing_mm[0])
        return measure.ellipse_area(rx, ry)


@dataclass(frozen=True, kw_only=True)
class FreehandROI(_RoiBase):
    """Closed polygon through its points."""

    kind: ClassVar[str] = "freehand-roi"
    title: ClassVar[str] = "Freehand ROI"

    @property
    def is_complete(self) -> bool:
        return len(self.points_px) >= 3

    def mask(self, shape_rc: tuple[int, int]) -> np.ndarray:
        return measure.polygon_mask(shape_rc, self.points_px)

    @property
    def area(self) -> float | None:
        if len(self.points_px) < 3:
            return None
        return measure.polygon_area(self.points_mm())


# =========================================================================== simple measurements

@dataclass(frozen=True, kw_only=True)
class Length(Annotation):
    kind: ClassVar[str] = "length"
    title: ClassVar[str] = "Length"
    n_points: ClassVar[int | None] = 2

    @property
    def length(self) -> float | None:
        """mm when ``in_mm`` else px."""
        if len(self.points_px) != 2:
            return None
        p = self.points_mm()
        return measure.distance(p[0], p[1])

    @property
    def length_mm(self) -> float | None:
        return self.length if self.in_mm else None

    @property
    def display_text(self) -> str:
        t = format_length(self.length, self.in_mm, self.display_calibration)
        return f"{self.label}: {t}" if self.label and t else (t or self.label)


@dataclass(frozen=True, kw_only=True)
class Angle(Annotation):
    """Angle at the middle point (vertex) of three."""

    kind: ClassVar[str] = "angle"
    title: ClassVar[str] = "Angle"
    n_points: ClassVar[int | None] = 3

    @property
    def angle_deg(self) -> float | None:
        if len(self.points_px) != 3:
            return None
        p = self.points_mm()
        try:
            return measure.angle_deg(p[0], p[1], p[2])
        except measure.GeometryError:
            return None

    @property
    def display_text(self) -> str:
        a = self.angle_deg
        return "" if a is None else f"{a:.1f}°"


@dataclass(frozen=True, kw_only=True)
class CobbAngle(Annotation):
    """Two lines (points 1-2 and 3-4), angle between them."""

    kind: ClassVar[str] = "cobb"
    title: ClassVar[str] = "Cobb angle"
    n_points: ClassVar[int | None] = 4

    @property
    def angle_deg(self) -> float | None:
        if len(self.points_px) != 4:
            return None
        p = self.points_mm()
        try:
            return measure.cobb_angle_deg((p[0], p[1]), (p[2], p[3]))
        except measure.GeometryError:
            return None

    @property
    def display_text(self) -> str:
        a = self.angle_deg
        return "" if a is None else f"Cobb {a:.1f}°"


@dataclass(frozen=True, kw_only=True)
class ArrowText(Annotation):
    """Arrow from the text anchor (point 2) to the tip (point 1); the text is ``label``."""

    kind: ClassVar[str] = "arrow-text"
    title: ClassVar[str] = "Arrow with text"
    n_points: ClassVar[int | None] = 2


# =========================================================================== level labels

VERTEBRA_ORDER = tuple([f"C{i}" for i in range(1, 8)] + [f"T{i}" for i in range(1, 13)]
                       + [f"L{i}" for i in range(1, 6)] + [f"S{i}" for i in range(1, 6)])


@dataclass(frozen=True, kw_only=True)
class LevelLabel(Annotation):
    """A vertebra label at one point (the vertebral body). ``level`` is a name from
    ``VERTEBRA_ORDER`` ("L5") or None when not yet known (``propagate_level_labels`` fills it)."""

    kind: ClassVar[str] = "level-label"
    title: ClassVar[str] = "Level label"
    n_points: ClassVar[int | None] = 1

    level: str | None = None
    inferred: bool = False  # True when the name came from propagate_level_labels

    def __post_init__(self) -> None:
        super().__post_init__()
        lv = self.level
        if isinstance(lv, enum.Enum):
            lv = lv.value
        if lv is not None and lv != "":
            lv = str(lv).upper()
            if lv not in VERTEBRA_ORDER:
                raise AnnotationDataError(f"unknown vertebra {self.level!r}")
        else:
            lv = None
        object.__setattr__(self, "level", lv)

    @property
    def display_text(self) -> str:
        return (self.level + ("?" if self.inferred else "")) if self.level else "?"


class LevelLabelConflict(ValueError):
    """Labelled vertebrae whose names contradict their order along the spine."""


def propagate_level_labels(labels: Sequence[LevelLabel], cranial_direction: Sequence[float] | None = None
                           ) -> list[LevelLabel]:
    """Name unlabelled vertebrae from the labelled ones by their order along the spine.

    The labels are sorted along the cranio-caudal axis: ``cranial_direction`` if given (a vector
    in LPS when every label has LPS points, else in pixels), else LPS +z (superior) when every
    label has LPS points, else pixel -row (up on the screen). Consecutive points are taken as
    adjacent vertebrae. Anchors are the labels named by the reader (``level`` set and not
    ``inferred``); every other label (unnamed, or named by an earlier propagation) is renamed
    from the anchors, one level per position, with ``inferred=True``, so relabelling one anchor
    moves all the inferred names. Anchors whose names disagree with their order raise
    ``LevelLabelConflict``. Names that would run off ``VERTEBRA_ORDER`` become None. Returns
    copies in the input order (unchanged ones are the same objects).
    """
    labels = list(labels)
    if not labels:
        return []
    use_lps = all(lb.points_lps for lb in labels)
    if cranial_direction is None:
        axis = np.array([0.0, 0.0, 1.0]) if use_lps else np.array([0.0, -1.0])
    else:
        axis = np.asarray(cranial_direction, dtype=np.float64).reshape(-1)
        if axis.shape[0] == 2 and use_lps:
            use_lps = False
    pos = []
    for lb in labels:
        if not lb.points_px:
            raise AnnotationDataError("a level label without a point cannot be placed along the spine")
        p = np.asarray(lb.points_lps[0] if use_lps else lb.points_px[0], dtype=np.float64)
        pos.append(float(p @ axis))
    order = sorted(range(len(labels)), key=lambda i: -pos[i])  # cranial first
    def is_anchor(lb: LevelLabel) -> bool:
        return bool(lb.level) and not lb.inferred

    anchors = [(rank, VERTEBRA_ORDER.index(labels[i].level)) for rank, i in enumerate(order) if is_anchor(labels[i])]
    if not anchors:
        return labels
    # consistency: anchor names must increase with rank by exactly the rank difference
    base = anchors[0][1] - anchors[0][0]
    for rank, idx in anchors[1:]:
        if idx - rank != base:
            names = ", ".join(str(labels[order[r]].level) for r, _ in anchors)
            raise LevelLabelConflict(f"labelled vertebrae {names} do not match their order along the spine")
    out = list(labels)
    for rank, i in enumerate(order):
        if is_anchor(labels[i]):
            continue
        idx = base + rank
        name = VERTEBRA_ORDER[idx] if 0 <= idx < len(VERTEBRA_ORDER) else None
        if (name, name is not None) != (labels[i].level, labels[i].inferred):
            out[i] = labels[i].touched(level=name, inferred=name is not None)
    return out


# =========================================================================== registry / serialisation

ANNOTATION_TYPES: dict[str, type[Annotation]] = {
    cls.kind: cls for cls in (ParsMarker, MeyerdingSlip, EllipseROI, FreehandROI, Length, Angle, CobbAngle,
                              ArrowText, LevelLabel)
}


def annotation_from_dict(d: dict) -> Annotation:
    """Build an annotation from ``Annotation.to_dict`` output; ``AnnotationDataError`` on bad input."""
    if not isinstance(d, dict):
        raise AnnotationDataError(f"annotation entry must be an object, got {type(d).__name__}")
    kind = d.get("kind")
    cls = ANNOTATION_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise AnnotationDataError(f"unknown annotation kind {kind!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in d.items() if k in names}
    for key in ("points_px", "points_lps"):
        if key in kwargs and kwargs[key] is None:
            kwargs[key] = ()
    for key in ("roles",):
        if key in kwargs and kwargs[key] is not None:
            kwargs[key] = tuple(kwargs[key])
    if kwargs.get("pixel_spacing_mm") is not None:
        kwargs["pixel_spacing_mm"] = tuple(kwargs["pixel_spacing_mm"])
    try:
        return cls(**kwargs)
    except AnnotationDataError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise AnnotationDataError(f"{kind} {d.get('id', '?')}: {exc}") from exc
