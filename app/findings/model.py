"""Structured findings of one study: valid on construction, no Qt.

Per level (L1-L5, S1) and side: the pars state, marrow edema, and the MRI grade (Hollenberg)
and CT stage derived from them (overridable by the reader). Per level: slip (Meyerding),
disc degeneration, neural-arch hypoplasia, foraminal stenosis, instability. Study level:
reader, times, impression and the clinical context the pathway module needs.

Every finding keeps its provenance: the annotations that support it (``AnnotationRef``).
Serialisation lives in ``app.findings.io`` (JSON, schema in resources/schemas/).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Optional

# 2: read_on, imaging, spinopelvic, instability_measured, sex, sport_level, from_dicom, severe deficit
# 3: key_images
SCHEMA_VERSION = 3

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
    def below(self) -> Optional["Level"]:
        order = list(Level)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None


class Side(str, enum.Enum):
    LEFT = "left"
    RIGHT = "right"

    @property
    def other(self) -> "Side":
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
    I = "I"
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


def imaging_modality_from_dicom(modality: Optional[str]) -> Optional[ImagingModality]:
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


def _check_range(name: str, value: Optional[float], lo: float, hi: float) -> None:
    if value is None:
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not (lo <= value <= hi):
        raise ValueError(f"{name} must be within {lo}..{hi}, got {value}")


def _point(value, n_allowed: tuple[int, ...], what: str) -> tuple[float, ...]:
    try:
        pt = tuple(float(c) for c in value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be a sequence of numbers, got {value!r}") from exc
    if len(pt) not in n_allowed:
        raise ValueError(f"{what} must have {' or '.join(map(str, n_allowed))} coordinates, got {len(pt)}")
    if any(c != c or c in (float("inf"), float("-inf")) for c in pt):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return pt


# --------------------------------------------------------------------------- derivations

def meyerding_grade(percent_slip: float) -> Optional[MeyerdingGrade]:
    """Upper-inclusive intervals: 0 < s <= 25 I, <= 50 II, <= 75 III, <= 100 IV, > 100 V.
    0 % (or a retrolisthesis given as a negative number) is "no listhesis": None."""
    if percent_slip <= 0:
        return None
    for bound, grade in zip(MEYERDING_UPPER_BOUNDS_PCT, (MeyerdingGrade.I, MeyerdingGrade.II, MeyerdingGrade.III, MeyerdingGrade.IV)):
        if percent_slip <= bound:
            return grade
    return MeyerdingGrade.V


def near_meyerding_boundary(percent_slip: float, margin_pct: float = NEAR_BOUNDARY_PCT) -> bool:
    return any(abs(percent_slip - b) <= margin_pct for b in MEYERDING_UPPER_BOUNDS_PCT)


def hollenberg_grade(status: ParsStatus, edema_present: Optional[bool]) -> Optional[int]:
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


def ang_grade(status: ParsStatus, edema_present: Optional[bool]) -> Optional[str]:
    """Ang et al. split of grade 2 by activity: 0, 1, 2a, 2b, 3, 4."""
    h = hollenberg_grade(status, edema_present)
    if status.fracture_extent == "incomplete":
        if edema_present is None:
            return None
        return "2a" if edema_present else "2b"
    return None if h is None else str(h)


def ct_stage(status: ParsStatus, edema_present: Optional[bool], gap_mm: Optional[float] = None,
             early_gap_max_mm: float = 1.0) -> Optional[CTStage]:
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
    frame: Optional[int] = None  # 1-based frame number for multi-frame objects
    points_px: tuple[tuple[float, float], ...] = ()  # (column, row) in image pixels
    points_lps: tuple[tuple[float, float, float], ...] = ()  # patient mm (empty on a radiograph)

    def __post_init__(self) -> None:
        if not isinstance(self.annotation_id, str) or not self.annotation_id:
            raise ValueError("an annotation reference needs a non-empty annotation_id")
        if not isinstance(self.kind, str) or not self.kind:
            raise ValueError("an annotation reference needs a non-empty kind")
        if self.frame is not None and (isinstance(self.frame, bool) or not isinstance(self.frame, int) or self.frame < 1):
            raise ValueError(f"frame must be a 1-based integer, got {self.frame!r}")
        object.__setattr__(self, "points_px", tuple(_point(p, (2,), "pixel point") for p in self.points_px))
        object.__setattr__(self, "points_lps", tuple(_point(p, (3,), "patient point (LPS mm)") for p in self.points_lps))


# --------------------------------------------------------------------------- findings

@dataclass(frozen=True)
class Edema:
    present: Optional[bool] = None  # None = not assessed
    sites: frozenset[EdemaSite] = frozenset()
    signal_ratio: Optional[float] = None  # mean ROI / mean reference ROI, when measured

    def __post_init__(self) -> None:
        object.__setattr__(self, "sites", frozenset(EdemaSite(s) for s in self.sites))
        if self.sites and self.present is False:
            raise ValueError("edema sites given but edema marked absent")
        _check_range("edema signal ratio", self.signal_ratio, 0.0, 100.0)


@dataclass(frozen=True)
class ParsFinding:
    level: Level
    side: Side
    status: ParsStatus
    edema: Edema = Edema()
    gap_mm: Optional[float] = None
    mri_grade_override: Optional[int] = None
    ct_stage_override: Optional[CTStage] = None
    sclerotic_margins: Optional[bool] = None
    provenance: tuple[AnnotationRef, ...] = ()
    note: str = ""
    # the imaging this entry was read on; empty = not recorded (files older than schema 2)
    read_on: frozenset[ImagingModality] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", Level(self.level))
        object.__setattr__(self, "side", Side(self.side))
        object.__setattr__(self, "status", ParsStatus(self.status))
        object.__setattr__(self, "read_on", frozenset(ImagingModality(m) for m in self.read_on))
        if self.ct_stage_override is not None:
            object.__setattr__(self, "ct_stage_override", CTStage(self.ct_stage_override))
        _check_range("pars gap", self.gap_mm, 0.0, 50.0)
        if self.mri_grade_override is not None and (isinstance(self.mri_grade_override, bool)
                                                    or self.mri_grade_override not in (0, 1, 2, 3, 4)):
            raise ValueError(f"Hollenberg grade must be 0-4, got {self.mri_grade_override}")
        object.__setattr__(self, "edema", self.edema if isinstance(self.edema, Edema) else Edema(**self.edema))
        object.__setattr__(self, "provenance", tuple(self.provenance))
        if self.status is ParsStatus.STRESS_REACTION and self.edema.present is False:
            raise ValueError("a stress reaction is marrow edema with an intact cortex: edema cannot be absent")
        if self.gap_mm is not None and self.status.fracture_extent == "none" and self.gap_mm > 0:
            raise ValueError(f"a gap of {self.gap_mm} mm needs a fracture, not '{self.status.value}'")

    @property
    def edema_present(self) -> Optional[bool]:
        if self.edema.present is None and self.status is ParsStatus.STRESS_REACTION:
            return True
        return self.edema.present

    @property
    def mri_grade_derived(self) -> Optional[int]:
        return hollenberg_grade(self.status, self.edema_present)

    @property
    def mri_grade(self) -> Optional[int]:
        return self.mri_grade_override if self.mri_grade_override is not None else self.mri_grade_derived

    @property
    def ct_stage_derived(self) -> Optional[CTStage]:
        """The crosswalk stage, only when the entry was read on CT or MRI (or the modality was not
        recorded): a defect seen on radiographs or scintigraphy only never gets a CT stage."""
        if self.read_on and not self.read_on & {ImagingModality.CT, ImagingModality.MR}:
            return None
        return ct_stage(self.status, self.edema_present, self.gap_mm)

    @property
    def ct_stage(self) -> Optional[CTStage]:
        return self.ct_stage_override if self.ct_stage_override is not None else self.ct_stage_derived

    @property
    def ct_stage_basis(self) -> Optional[CTStageBasis]:
        """What ``ct_stage`` rests on; None when there is no stage."""
        if self.ct_stage_override is not None:
            return CTStageBasis.READER
        if self.ct_stage_derived is None:
            return None
        if ImagingModality.CT in self.read_on:
            return CTStageBasis.CT
        if ImagingModality.MR in self.read_on:
            return CTStageBasis.MRI_CROSSWALK
        return CTStageBasis.UNRECORDED

    @property
    def cross_sectional_confirmation(self) -> Optional[bool]:
        """True when read on CT or MRI; False when read on radiographs (or scintigraphy) only
        (a suspicion, not a confirmation); None when the modality was not recorded."""
        if not self.read_on:
            return None
        return bool(self.read_on & {ImagingModality.CT, ImagingModality.MR})

    @property
    def active(self) -> Optional[bool]:
        """Active lesion = marrow edema in pars or pedicle (clinical-reference 2.2)."""
        return self.edema_present


@dataclass(frozen=True)
class Slip:
    """Listhesis of ``level`` on the level below (L5 on S1 for ``level=L5``)."""

    percent: float  # Taillard percent; negative is not used, direction says retro
    direction: SlipDirection = SlipDirection.ANTERIOR
    technique: SlipTechnique = SlipTechnique.POSTERIOR_CORNER_PERPENDICULAR
    # name -> (x, y, z) mm, e.g. "L5 postero-inferior corner" ((x, y) allowed for a 2-D radiograph frame).
    # Excluded from the hash (a dict is unhashable); still compared by ==.
    landmarks_lps: dict = field(default_factory=dict, hash=False)
    slip_angle_deg: Optional[float] = None
    slip_angle_endplate: Optional[SlipAngleEndplate] = None
    provenance: tuple[AnnotationRef, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", SlipDirection(self.direction))
        object.__setattr__(self, "technique", SlipTechnique(self.technique))
        if self.slip_angle_endplate is not None:
            object.__setattr__(self, "slip_angle_endplate", SlipAngleEndplate(self.slip_angle_endplate))
        if self.percent is None:
            raise ValueError("a slip needs its percent (0 for none)")
        _check_range("percent slip", self.percent, 0.0, 200.0)
        _check_range("slip angle", self.slip_angle_deg, -90.0, 90.0)
        if not isinstance(self.landmarks_lps, dict):
            raise TypeError(f"slip landmarks must be a mapping name -> point, got {type(self.landmarks_lps).__name__}")
        landmarks = {}
        for name, pt in self.landmarks_lps.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"slip landmark names must be non-empty text, got {name!r}")
            landmarks[name] = _point(pt, (2, 3), f"slip landmark {name!r}")
        object.__setattr__(self, "landmarks_lps", landmarks)
        object.__setattr__(self, "provenance", tuple(self.provenance))

    @property
    def grade(self) -> Optional[MeyerdingGrade]:
        return meyerding_grade(self.percent)

    @property
    def near_boundary(self) -> bool:
        return near_meyerding_boundary(self.percent)


@dataclass(frozen=True)
class InstabilityMeasurement:
    """Segmental motion of ``level`` on the level below between flexion and extension views."""

    translation_mm: Optional[float] = None  # sagittal translation difference, flexion vs extension
    translation_pct: Optional[float] = None  # the same as % of the lower endplate's depth
    angulation_deg: Optional[float] = None  # sagittal angulation difference
    provenance: tuple[AnnotationRef, ...] = ()

    def __post_init__(self) -> None:
        _check_range("translation", self.translation_mm, 0.0, 50.0)
        _check_range("translation (% of endplate)", self.translation_pct, 0.0, 100.0)
        _check_range("angulation", self.angulation_deg, 0.0, 90.0)
        object.__setattr__(self, "provenance", tuple(self.provenance))


@dataclass(frozen=True)
class SpinoPelvic:
    """Spino-pelvic parameters on a standing lateral radiograph (degrees)."""

    pelvic_incidence_deg: Optional[float] = None
    pelvic_tilt_deg: Optional[float] = None
    sacral_slope_deg: Optional[float] = None
    lumbar_lordosis_deg: Optional[float] = None  # L1 superior to S1 superior endplate
    provenance: tuple[AnnotationRef, ...] = ()

    def __post_init__(self) -> None:
        _check_range("pelvic incidence", self.pelvic_incidence_deg, 0.0, 130.0)
        _check_range("pelvic tilt", self.pelvic_tilt_deg, -40.0, 90.0)
        _check_range("sacral slope", self.sacral_slope_deg, -30.0, 110.0)
        _check_range("lumbar lordosis", self.lumbar_lordosis_deg, -60.0, 130.0)
        object.__setattr__(self, "provenance", tuple(self.provenance))


@dataclass(frozen=True)
class ImagingPerformed:
    """Which imaging exists for this patient (None = not known). The session fills it from the
    loaded study; the reader may add imaging done elsewhere."""

    radiographs: Optional[bool] = None
    flexion_extension: Optional[bool] = None
    ct: Optional[bool] = None
    mri: Optional[bool] = None
    spect: Optional[bool] = None


@dataclass(frozen=True)
class LevelFinding:
    level: Level
    slip: Optional[Slip] = None
    disc_pfirrmann: Optional[int] = None  # disc below this level (L5 -> L5-S1), 1..5
    neural_arch_hypoplasia: Optional[bool] = None
    foraminal_stenosis: Optional[Severity] = None
    instability: Optional[bool] = None  # on flexion-extension views (reader's yes/no)
    instability_measured: Optional[InstabilityMeasurement] = None
    spina_bifida_occulta: Optional[bool] = None
    note: str = ""
    provenance: tuple[AnnotationRef, ...] = ()  # annotations behind the disc / arch / foramen findings

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", Level(self.level))
        if self.foraminal_stenosis is not None:
            object.__setattr__(self, "foraminal_stenosis", Severity(self.foraminal_stenosis))
        if self.disc_pfirrmann is not None and (isinstance(self.disc_pfirrmann, bool)
                                                or self.disc_pfirrmann not in (1, 2, 3, 4, 5)):
            raise ValueError(f"Pfirrmann grade must be 1-5, got {self.disc_pfirrmann}")
        object.__setattr__(self, "provenance", tuple(self.provenance))

    @property
    def disc_degenerated(self) -> Optional[bool]:
        """Pfirrmann III or worse counts as degenerated (I-II normal)."""
        return None if self.disc_pfirrmann is None else self.disc_pfirrmann >= 3


class NeuroDeficit(str, enum.Enum):
    NONE = "none"
    STABLE = "stable"
    PROGRESSIVE = "progressive"
    SEVERE = "severe"  # clinical-reference RF-1: escalates like progressive


class ParsBlock(str, enum.Enum):
    NOT_DONE = "not_done"
    POSITIVE = "positive"
    NEGATIVE = "negative"


# context fields a DICOM header can fill (PatientAge / PatientBirthDate + StudyDate, PatientSex)
CONTEXT_FIELDS_FROM_DICOM = frozenset({"age_years", "sex"})


@dataclass(frozen=True)
class ClinicalContext:
    """Facts the pathway module needs. Every field may be unknown (None)."""

    age_years: Optional[float] = None
    skeletally_mature: Optional[bool] = None
    athlete: Optional[bool] = None
    sport: str = ""
    symptomatic: Optional[bool] = None  # back pain attributed to the spine at all
    symptom_duration_months: Optional[float] = None
    conservative_care_months: Optional[float] = None
    pain_vas: Optional[float] = None  # 0-10
    odi: Optional[float] = None  # 0-100
    disabling_pain: Optional[bool] = None
    radicular_symptoms: Optional[bool] = None
    neuro_deficit: Optional[NeuroDeficit] = None
    cauda_equina_symptoms: Optional[bool] = None
    slip_progression: Optional[bool] = None  # on serial standing films
    pars_block: Optional[ParsBlock] = None
    pain_concordant_with_imaging: Optional[bool] = None
    smoking: Optional[bool] = None
    depression_or_chronic_pain: Optional[bool] = None
    realistic_expectations: Optional[bool] = None
    wishes_surgery: Optional[bool] = None
    sex: Optional[Sex] = None
    sport_level: Optional[SportLevel] = None
    # names of the fields above taken from the images' DICOM header (PatientAge/BirthDate,
    # PatientSex), not entered by the reader; shown as "from DICOM"
    from_dicom: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _check_range("age", self.age_years, 0.0, 120.0)
        _check_range("symptom duration (months)", self.symptom_duration_months, 0.0, 1200.0)
        _check_range("conservative care (months)", self.conservative_care_months, 0.0, 1200.0)
        _check_range("VAS", self.pain_vas, 0.0, 10.0)
        _check_range("ODI", self.odi, 0.0, 100.0)
        if self.neuro_deficit is not None:
            object.__setattr__(self, "neuro_deficit", NeuroDeficit(self.neuro_deficit))
        if self.pars_block is not None:
            object.__setattr__(self, "pars_block", ParsBlock(self.pars_block))
        if self.sex is not None:
            object.__setattr__(self, "sex", Sex(self.sex))
        if self.sport_level is not None:
            object.__setattr__(self, "sport_level", SportLevel(self.sport_level))
        object.__setattr__(self, "from_dicom", frozenset(self.from_dicom))
        unknown = self.from_dicom - CONTEXT_FIELDS_FROM_DICOM
        if unknown:
            raise ValueError(f"from_dicom names fields that cannot come from a DICOM header: {', '.join(sorted(unknown))}")


@dataclass(frozen=True)
class KeyImage:
    """A view the reader marked as a key image: which image, how it was shown, which annotations."""

    key_image_id: str
    series_instance_uid: str
    sop_instance_uid: str
    frame: Optional[int] = None  # 1-based frame of a multi-frame object
    slice_index: Optional[int] = None  # 0-based slice of the series volume as shown
    plane: str = ""  # "axial" / "sagittal" / "coronal" for a volume; "" on a radiograph
    window_center: Optional[float] = None
    window_width: Optional[float] = None
    zoom: Optional[float] = None  # the cell's zoom factor (1 = fit)
    caption: str = ""
    annotation_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("key_image_id", "series_instance_uid", "sop_instance_uid"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"a key image needs a non-empty {name}")
        if self.frame is not None and (isinstance(self.frame, bool) or not isinstance(self.frame, int) or self.frame < 1):
            raise ValueError(f"key image frame must be a 1-based integer, got {self.frame!r}")
        if self.slice_index is not None and (isinstance(self.slice_index, bool) or not isinstance(self.slice_index, int)
                                             or self.slice_index < 0):
            raise ValueError(f"key image slice must be a 0-based integer, got {self.slice_index!r}")
        if self.plane not in ("", "axial", "sagittal", "coronal"):
            raise ValueError(f"key image plane must be axial, sagittal, coronal or empty, got {self.plane!r}")
        _check_range("key image window width", self.window_width, 1e-6, 1e9)
        _check_range("key image window center", self.window_center, -1e9, 1e9)
        _check_range("key image zoom", self.zoom, 1e-3, 1e3)
        object.__setattr__(self, "annotation_ids", tuple(str(a) for a in self.annotation_ids))


@dataclass(frozen=True)
class StudyFindings:
    study_instance_uid: str = ""
    reader: str = ""
    created: str = ""  # ISO 8601
    modified: str = ""  # ISO 8601
    impression: str = ""
    pars: tuple[ParsFinding, ...] = ()
    levels: tuple[LevelFinding, ...] = ()
    context: ClinicalContext = ClinicalContext()
    imaging: ImagingPerformed = ImagingPerformed()
    spinopelvic: Optional[SpinoPelvic] = None
    key_images: tuple[KeyImage, ...] = ()
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "pars", tuple(self.pars))
        object.__setattr__(self, "levels", tuple(self.levels))
        object.__setattr__(self, "key_images", tuple(self.key_images))
        ids = [k.key_image_id for k in self.key_images]
        if len(ids) != len(set(ids)):
            raise ValueError("two key images with the same key_image_id")
        seen = set()
        for p in self.pars:
            key = (p.level, p.side)
            if key in seen:
                raise ValueError(f"two pars findings for {p.level.value} {p.side.value}")
            seen.add(key)
        seen_levels = set()
        for lv in self.levels:
            if lv.level in seen_levels:
                raise ValueError(f"two level findings for {lv.level.value}")
            seen_levels.add(lv.level)

    def pars_at(self, level: Level, side: Side) -> Optional[ParsFinding]:
        for p in self.pars:
            if p.level is Level(level) and p.side is Side(side):
                return p
        return None

    def level(self, level: Level) -> Optional[LevelFinding]:
        for lv in self.levels:
            if lv.level is Level(level):
                return lv
        return None

    def with_pars(self, finding: ParsFinding) -> "StudyFindings":
        """A copy with ``finding`` replacing any entry for its level and side."""
        rest = tuple(p for p in self.pars if (p.level, p.side) != (finding.level, finding.side))
        return replace(self, pars=tuple(sorted(rest + (finding,), key=_pars_key)))

    def with_level(self, finding: LevelFinding) -> "StudyFindings":
        rest = tuple(lv for lv in self.levels if lv.level is not finding.level)
        return replace(self, levels=tuple(sorted(rest + (finding,), key=lambda lv: list(Level).index(lv.level))))

    def with_context(self, context: ClinicalContext) -> "StudyFindings":
        return replace(self, context=context)

    def with_key_image(self, key_image: KeyImage) -> "StudyFindings":
        """A copy with ``key_image`` added (or replacing the one with its id), in marking order."""
        rest = tuple(k for k in self.key_images if k.key_image_id != key_image.key_image_id)
        return replace(self, key_images=rest + (key_image,))

    def without_key_image(self, key_image_id: str) -> "StudyFindings":
        return replace(self, key_images=tuple(k for k in self.key_images if k.key_image_id != key_image_id))


def _pars_key(p: ParsFinding) -> tuple[int, int]:
    return (list(Level).index(p.level), list(Side).index(p.side))
