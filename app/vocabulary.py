"""The clinical vocabulary shared by annotations and findings (no Qt, no app imports).

Levels, sides, pars status, slip technique, Meyerding grade and the other small enums, the grade
functions (Meyerding, Hollenberg, Ang, the CT-stage crosswalk) and ``AnnotationRef``, the
provenance link from a finding to the annotation that supports it. It sits below both
``app.annotations`` and ``app.findings`` so the annotation model can name a level or a grade
without importing the findings model (``app.findings.model`` re-exports every name here).
"""

from __future__ import annotations

import enum
import itertools
import math
from dataclasses import dataclass
from typing import Any

# Meyerding boundaries (upper-inclusive, clinical-reference 1.1) and the "near boundary" margin.
MEYERDING_UPPER_BOUNDS_PCT = (25.0, 50.0, 75.0, 100.0)
NEAR_BOUNDARY_PCT = 3.0


class Level(str, enum.Enum):
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    L4 = "L4"
    L5 = "L5"
    S1 = "S1"

    @property
    def below(self) -> Level | None:
        order = list(Level)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None


class Side(str, enum.Enum):
    LEFT = "left"
    RIGHT = "right"

    @property
    def other(self) -> Side:
        return Side.RIGHT if self is Side.LEFT else Side.LEFT


class ParsStatus(str, enum.Enum):
    INTACT = "intact"
    STRESS_REACTION = "stress_reaction"  # marrow edema, intact cortex
    INCOMPLETE_FRACTURE = "incomplete_fracture"
    COMPLETE_FRACTURE = "complete_fracture"
    CHRONIC_NONUNION = "chronic_nonunion"  # sclerotic margins, wider gap

    @property
    def fracture_extent(self) -> str:
        return {
            ParsStatus.INTACT: "none",
            ParsStatus.STRESS_REACTION: "none",
            ParsStatus.INCOMPLETE_FRACTURE: "incomplete",
            ParsStatus.COMPLETE_FRACTURE: "complete",
            ParsStatus.CHRONIC_NONUNION: "complete",
        }[self]

    @property
    def is_defect(self) -> bool:
        return self in (ParsStatus.INCOMPLETE_FRACTURE, ParsStatus.COMPLETE_FRACTURE, ParsStatus.CHRONIC_NONUNION)


class EdemaSite(str, enum.Enum):
    PARS = "pars"
    PEDICLE = "pedicle"
    BODY = "body"


class CTStage(str, enum.Enum):
    PRE_LYSIS = "pre-lysis"  # MRI signal change only, no fracture line on CT ("very early")
    EARLY = "early"  # hairline fracture / focal absorption
    PROGRESSIVE = "progressive"  # clear gap, small fragments
    TERMINAL = "terminal"  # pseudarthrosis: wide gap with sclerotic margins


class CTStageBasis(str, enum.Enum):
    """What a pars entry's CT stage rests on (``ParsFinding.ct_stage_basis``)."""

    READER = "reader"  # the reader's override
    CT = "CT"  # derived from an entry read on CT
    MRI_CROSSWALK = "MRI crosswalk"  # derived from an MRI read by the approximate crosswalk (3.1)
    UNRECORDED = "modality not recorded"  # derived; the entry does not say what it was read on (schema 1)


class MeyerdingGrade(str, enum.Enum):
    I = "I"  # noqa: E741 - the grade's own name
    II = "II"
    III = "III"
    IV = "IV"
    V = "V"

    @property
    def is_high_grade(self) -> bool:
        return self in (MeyerdingGrade.III, MeyerdingGrade.IV, MeyerdingGrade.V)


class SlipDirection(str, enum.Enum):
    ANTERIOR = "anterolisthesis"
    POSTERIOR = "retrolisthesis"


class SlipTechnique(str, enum.Enum):
    # Bourassa-Moreau 2010 technique 1: perpendicular from the L5 postero-inferior corner
    POSTERIOR_CORNER_PERPENDICULAR = "posterior-corner-perpendicular"
    # technique 2: line tangent to the L5 posterior wall, intersected with the S1 endplate
    POSTERIOR_WALL_TANGENT = "posterior-wall-tangent"
    ENTERED = "entered"  # typed in by the reader, no landmarks


class SlipAngleEndplate(str, enum.Enum):
    L5_INFERIOR = "L5 inferior"  # Boxall 1979
    L5_SUPERIOR = "L5 superior"  # later SDSG work


class ImagingModality(str, enum.Enum):
    """The kind of imaging a finding was read on (DICOM Modality CR/DX -> radiograph)."""

    RADIOGRAPH = "radiograph"
    CT = "CT"
    MR = "MR"
    NM = "NM"  # bone scintigraphy / SPECT


# DICOM Modality (0008,0060) -> the kind of imaging; anything else (SR, PR, OT, US...) is not a read
_DICOM_MODALITY_KIND = {
    "CR": ImagingModality.RADIOGRAPH, "DX": ImagingModality.RADIOGRAPH, "RF": ImagingModality.RADIOGRAPH,
    "XA": ImagingModality.RADIOGRAPH, "RG": ImagingModality.RADIOGRAPH,
    "CT": ImagingModality.CT, "MR": ImagingModality.MR, "NM": ImagingModality.NM, "PT": ImagingModality.NM,
    "ST": ImagingModality.NM,
}


def imaging_modality_from_dicom(modality: str | None) -> ImagingModality | None:
    """The imaging kind of a DICOM Modality value (CR/DX/RF/XA -> radiograph, NM/PT -> NM);
    None for values that are not one of these (SR, OT, US, empty...)."""
    return _DICOM_MODALITY_KIND.get(str(modality or "").strip().upper())


class Sex(str, enum.Enum):
    FEMALE = "F"
    MALE = "M"
    OTHER = "O"


class SportLevel(str, enum.Enum):
    RECREATIONAL = "recreational"
    COMPETITIVE = "competitive"
    PROFESSIONAL = "professional"


class Severity(str, enum.Enum):
    NONE = "none"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


def check_range(name: str, value: float | None, lo: float, hi: float) -> None:
    if value is None:
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not (lo <= value <= hi):
        raise ValueError(f"{name} must be within {lo}..{hi}, got {value}")


def as_point(value: Any, n_allowed: tuple[int, ...], what: str) -> tuple[float, ...]:
    try:
        pt = tuple(float(c) for c in value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be a sequence of numbers, got {value!r}") from exc
    if len(pt) not in n_allowed:
        raise ValueError(f"{what} must have {' or '.join(map(str, n_allowed))} coordinates, got {len(pt)}")
    if any(c != c or c in (float("inf"), float("-inf")) for c in pt):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return pt


def as_points(values: Any, n: int, what: str) -> tuple[tuple[float, ...], ...]:
    """``as_point`` for each of many points, checked in one numpy pass (a freehand outline has
    thousands); the per-point path names the first bad point."""
    if len(values) > 8:
        import numpy as np  # local: this module is imported by light command-line paths

        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            arr = None
        if arr is not None and arr.ndim == 2 and arr.shape[1] == n:
            rows = arr.tolist()
            # finiteness checked in Python's C loop, not by numpy: numpy's ufuncs hand the GIL over
            # for a moment on arrays over 500 values, and a worker doing that for every outline
            # starved the GUI thread (CPython 3.11 GIL: gaps of 46-177 ms while a 10 MB findings
            # file was read, 11 ms for a pure-Python worker; issue 16)
            if all(map(math.isfinite, itertools.chain.from_iterable(rows))):
                return tuple(map(tuple, rows))
    return tuple(as_point(p, (n,), what) for p in values)


# --------------------------------------------------------------------------- derivations

def meyerding_grade(percent_slip: float) -> MeyerdingGrade | None:
    """Upper-inclusive intervals: 0 < s <= 25 I, <= 50 II, <= 75 III, <= 100 IV, > 100 V.
    0 % (or a retrolisthesis given as a negative number) is "no listhesis": None."""
    if percent_slip <= 0:
        return None
    for bound, grade in zip(
        MEYERDING_UPPER_BOUNDS_PCT, (MeyerdingGrade.I, MeyerdingGrade.II, MeyerdingGrade.III, MeyerdingGrade.IV), strict=True
    ):
        if percent_slip <= bound:
            return grade
    return MeyerdingGrade.V


def near_meyerding_boundary(percent_slip: float, margin_pct: float = NEAR_BOUNDARY_PCT) -> bool:
    return any(abs(percent_slip - b) <= margin_pct for b in MEYERDING_UPPER_BOUNDS_PCT)


def hollenberg_grade(status: ParsStatus, edema_present: bool | None) -> int | None:
    """Hollenberg 2002 MRI grade from (fracture extent x marrow edema).

    0 normal; 1 stress reaction (edema, intact cortex); 2 incomplete fracture with edema;
    3 complete fracture with edema; 4 complete fracture without edema. An incomplete fracture
    without edema (Ang 2b) has no Hollenberg grade: None. Unknown edema: None unless the status
    itself implies it (stress reaction = edema; chronic non-union = no edema).
    """
    extent = status.fracture_extent
    edema = edema_present
    if edema is None:
        if status is ParsStatus.STRESS_REACTION:
            edema = True
        elif status in (ParsStatus.CHRONIC_NONUNION, ParsStatus.INTACT):
            edema = False
        else:
            return None
    if extent == "none":
        return 1 if (edema or status is ParsStatus.STRESS_REACTION) else 0
    if extent == "incomplete":
        return 2 if edema else None
    return 3 if edema else 4


def ang_grade(status: ParsStatus, edema_present: bool | None) -> str | None:
    """Ang et al. split of grade 2 by activity: 0, 1, 2a, 2b, 3, 4."""
    h = hollenberg_grade(status, edema_present)
    if status.fracture_extent == "incomplete":
        if edema_present is None:
            return None
        return "2a" if edema_present else "2b"
    return None if h is None else str(h)


def ct_stage(status: ParsStatus, edema_present: bool | None, gap_mm: float | None = None,
             early_gap_max_mm: float = 1.0) -> CTStage | None:
    """Approximate crosswalk from the pars entry to the CT stage (no validated mapping exists:
    clinical-reference 3.1). Intact without edema has no stage (None)."""
    if status is ParsStatus.STRESS_REACTION or (status is ParsStatus.INTACT and edema_present):
        return CTStage.PRE_LYSIS
    if status is ParsStatus.INTACT:
        return None
    if status is ParsStatus.INCOMPLETE_FRACTURE:
        return CTStage.EARLY
    if status is ParsStatus.COMPLETE_FRACTURE:
        if gap_mm is not None and gap_mm <= early_gap_max_mm:
            return CTStage.EARLY
        return CTStage.PROGRESSIVE
    return CTStage.TERMINAL


# --------------------------------------------------------------------------- provenance

@dataclass(frozen=True)
class AnnotationRef:
    """An annotation that supports a finding: where it was drawn and its points."""

    annotation_id: str
    kind: str  # "pars-marker", "meyerding", "edema-roi", "length", ...
    series_instance_uid: str = ""
    sop_instance_uid: str = ""
    frame: int | None = None  # 1-based frame number for multi-frame objects
    points_px: tuple[tuple[float, float], ...] = ()  # (column, row) in image pixels
    points_lps: tuple[tuple[float, float, float], ...] = ()  # patient mm (empty on a radiograph)

    def __post_init__(self) -> None:
        if not isinstance(self.annotation_id, str) or not self.annotation_id:
            raise ValueError("an annotation reference needs a non-empty annotation_id")
        if not isinstance(self.kind, str) or not self.kind:
            raise ValueError("an annotation reference needs a non-empty kind")
        if self.frame is not None and (isinstance(self.frame, bool) or not isinstance(self.frame, int) or self.frame < 1):
            raise ValueError(f"frame must be a 1-based integer, got {self.frame!r}")
        object.__setattr__(self, "points_px", as_points(self.points_px, 2, "pixel point"))
        object.__setattr__(self, "points_lps", as_points(self.points_lps, 3, "patient point (LPS mm)"))
