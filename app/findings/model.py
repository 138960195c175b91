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

from app.vocabulary import (  # re-exported: the vocabulary moved below annotations and findings
    MEYERDING_UPPER_BOUNDS_PCT as MEYERDING_UPPER_BOUNDS_PCT,
    NEAR_BOUNDARY_PCT as NEAR_BOUNDARY_PCT,
    AnnotationRef as AnnotationRef,
    CTStage as CTStage,
    CTStageBasis as CTStageBasis,
    EdemaSite as EdemaSite,
    ImagingModality as ImagingModality,
    Level as Level,
    MeyerdingGrade as MeyerdingGrade,
    ParsStatus as ParsStatus,
    Severity as Severity,
    Sex as Sex,
    Side as Side,
    SlipAngleEndplate as SlipAngleEndplate,
    SlipDirection as SlipDirection,
    SlipTechnique as SlipTechnique,
    SportLevel as SportLevel,
    ang_grade as ang_grade,
    as_point,
    check_range,
    ct_stage as ct_stage,
    hollenberg_grade as hollenberg_grade,
    imaging_modality_from_dicom as imaging_modality_from_dicom,
    meyerding_grade as meyerding_grade,
    near_meyerding_boundary as near_meyerding_boundary,
)

# 2: read_on, imaging, spinopelvic, instability_measured, sex, sport_level, from_dicom, severe deficit
# 3: key_images
# 4: amendments (who amended a reviewed read, when, what)
SCHEMA_VERSION = 4


# --------------------------------------------------------------------------- findings

@dataclass(frozen=True)
class Edema:
    present: bool | None = None  # None = not assessed
    sites: frozenset[EdemaSite] = frozenset()
    signal_ratio: float | None = None  # mean ROI / mean reference ROI, when measured

    def __post_init__(self) -> None:
        object.__setattr__(self, "sites", frozenset(EdemaSite(s) for s in self.sites))
        if self.sites and self.present is False:
            raise ValueError("edema sites given but edema marked absent")
        check_range("edema signal ratio", self.signal_ratio, 0.0, 100.0)


@dataclass(frozen=True)
class ParsFinding:
    level: Level
    side: Side
    status: ParsStatus
    edema: Edema = Edema()
    gap_mm: float | None = None
    mri_grade_override: int | None = None
    ct_stage_override: CTStage | None = None
    sclerotic_margins: bool | None = None
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
        check_range("pars gap", self.gap_mm, 0.0, 50.0)
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
    def edema_present(self) -> bool | None:
        if self.edema.present is None and self.status is ParsStatus.STRESS_REACTION:
            return True
        return self.edema.present

    @property
    def mri_grade_derived(self) -> int | None:
        return hollenberg_grade(self.status, self.edema_present)

    @property
    def mri_grade(self) -> int | None:
        return self.mri_grade_override if self.mri_grade_override is not None else self.mri_grade_derived

    @property
    def ct_stage_derived(self) -> CTStage | None:
        """The crosswalk stage, only when the entry was read on CT or MRI (or the modality was not
        recorded): a defect seen on radiographs or scintigraphy only never gets a CT stage."""
        if self.read_on and not self.read_on & {ImagingModality.CT, ImagingModality.MR}:
            return None
        return ct_stage(self.status, self.edema_present, self.gap_mm)

    @property
    def ct_stage(self) -> CTStage | None:
        return self.ct_stage_override if self.ct_stage_override is not None else self.ct_stage_derived

    @property
    def ct_stage_basis(self) -> CTStageBasis | None:
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
    def cross_sectional_confirmation(self) -> bool | None:
        """True when read on CT or MRI; False when read on radiographs (or scintigraphy) only
        (a suspicion, not a confirmation); None when the modality was not recorded."""
        if not self.read_on:
            return None
        return bool(self.read_on & {ImagingModality.CT, ImagingModality.MR})

    @property
    def active(self) -> bool | None:
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
    slip_angle_deg: float | None = None
    slip_angle_endplate: SlipAngleEndplate | None = None
    provenance: tuple[AnnotationRef, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", SlipDirection(self.direction))
        object.__setattr__(self, "technique", SlipTechnique(self.technique))
        if self.slip_angle_endplate is not None:
            object.__setattr__(self, "slip_angle_endplate", SlipAngleEndplate(self.slip_angle_endplate))
        if self.percent is None:
            raise ValueError("a slip needs its percent (0 for none)")
        check_range("percent slip", self.percent, 0.0, 200.0)
        check_range("slip angle", self.slip_angle_deg, -90.0, 90.0)
        if not isinstance(self.landmarks_lps, dict):
            raise TypeError(f"slip landmarks must be a mapping name -> point, got {type(self.landmarks_lps).__name__}")
        landmarks = {}
        for name, pt in self.landmarks_lps.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"slip landmark names must be non-empty text, got {name!r}")
            landmarks[name] = as_point(pt, (2, 3), f"slip landmark {name!r}")
        object.__setattr__(self, "landmarks_lps", landmarks)
        object.__setattr__(self, "provenance", tuple(self.provenance))

    @property
    def grade(self) -> MeyerdingGrade | None:
        return meyerding_grade(self.percent)

    @property
    def near_boundary(self) -> bool:
        return near_meyerding_boundary(self.percent)


@dataclass(frozen=True)
class InstabilityMeasurement:
    """Segmental motion of ``level`` on the level below between flexion and extension views."""

    translation_mm: float | None = None  # sagittal translation difference, flexion vs extension
    translation_pct: float | None = None  # the same as % of the lower endplate's depth
    angulation_deg: float | None = None  # sagittal angulation difference
    provenance: tuple[AnnotationRef, ...] = ()

    def __post_init__(self) -> None:
        check_range("translation", self.translation_mm, 0.0, 50.0)
        check_range("translation (% of endplate)", self.translation_pct, 0.0, 100.0)
        check_range("angulation", self.angulation_deg, 0.0, 90.0)
        object.__setattr__(self, "provenance", tuple(self.provenance))


@dataclass(frozen=True)
class SpinoPelvic:
    """Spino-pelvic parameters on a standing lateral radiograph (degrees)."""

    pelvic_incidence_deg: float | None = None
    pelvic_tilt_deg: float | None = None
    sacral_slope_deg: float | None = None
    lumbar_lordosis_deg: float | None = None  # L1 superior to S1 superior endplate
    provenance: tuple[AnnotationRef, ...] = ()

    def __post_init__(self) -> None:
        check_range("pelvic incidence", self.pelvic_incidence_deg, 0.0, 130.0)
        check_range("pelvic tilt", self.pelvic_tilt_deg, -40.0, 90.0)
        check_range("sacral slope", self.sacral_slope_deg, -30.0, 110.0)
        check_range("lumbar lordosis", self.lumbar_lordosis_deg, -60.0, 130.0)
        object.__setattr__(self, "provenance", tuple(self.provenance))


@dataclass(frozen=True)
class ImagingPerformed:
    """Which imaging exists for this patient (None = not known). The session fills it from the
    loaded study; the reader may add imaging done elsewhere."""

    radiographs: bool | None = None
    flexion_extension: bool | None = None
    ct: bool | None = None
    mri: bool | None = None
    spect: bool | None = None


@dataclass(frozen=True)
class LevelFinding:
    level: Level
    slip: Slip | None = None
    disc_pfirrmann: int | None = None  # disc below this level (L5 -> L5-S1), 1..5
    neural_arch_hypoplasia: bool | None = None
    foraminal_stenosis: Severity | None = None
    instability: bool | None = None  # on flexion-extension views (reader's yes/no)
    instability_measured: InstabilityMeasurement | None = None
    spina_bifida_occulta: bool | None = None
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
    def disc_degenerated(self) -> bool | None:
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

    age_years: float | None = None
    skeletally_mature: bool | None = None
    athlete: bool | None = None
    sport: str = ""
    symptomatic: bool | None = None  # back pain attributed to the spine at all
    symptom_duration_months: float | None = None
    conservative_care_months: float | None = None
    pain_vas: float | None = None  # 0-10
    odi: float | None = None  # 0-100
    disabling_pain: bool | None = None
    radicular_symptoms: bool | None = None
    neuro_deficit: NeuroDeficit | None = None
    cauda_equina_symptoms: bool | None = None
    slip_progression: bool | None = None  # on serial standing films
    pars_block: ParsBlock | None = None
    pain_concordant_with_imaging: bool | None = None
    smoking: bool | None = None
    depression_or_chronic_pain: bool | None = None
    realistic_expectations: bool | None = None
    wishes_surgery: bool | None = None
    sex: Sex | None = None
    sport_level: SportLevel | None = None
    # names of the fields above taken from the images' DICOM header (PatientAge/BirthDate,
    # PatientSex), not entered by the reader; shown as "from DICOM"
    from_dicom: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        check_range("age", self.age_years, 0.0, 120.0)
        check_range("symptom duration (months)", self.symptom_duration_months, 0.0, 1200.0)
        check_range("conservative care (months)", self.conservative_care_months, 0.0, 1200.0)
        check_range("VAS", self.pain_vas, 0.0, 10.0)
        check_range("ODI", self.odi, 0.0, 100.0)
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
    frame: int | None = None  # 1-based frame of a multi-frame object
    slice_index: int | None = None  # 0-based slice of the series volume as shown
    plane: str = ""  # "axial" / "sagittal" / "coronal" for a volume; "" on a radiograph
    window_center: float | None = None
    window_width: float | None = None
    zoom: float | None = None  # the cell's zoom factor (1 = fit)
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
        check_range("key image window width", self.window_width, 1e-6, 1e9)
        check_range("key image window center", self.window_center, -1e9, 1e9)
        check_range("key image zoom", self.zoom, 1e-3, 1e3)
        object.__setattr__(self, "annotation_ids", tuple(str(a) for a in self.annotation_ids))


@dataclass(frozen=True)
class Amendment:
    """One amendment of a reviewed read: who amended it, when (ISO 8601), what changed (in words,
    e.g. "pars L5 left", "impression")."""

    reader: str
    at: str  # ISO 8601
    changes: tuple[str, ...]

    def __post_init__(self) -> None:
        for name in ("reader", "at"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise ValueError(f"an amendment needs a non-empty {name}")
        object.__setattr__(self, "changes", tuple(self.changes))
        if not self.changes or not all(isinstance(ch, str) and ch.strip() for ch in self.changes):
            raise ValueError("an amendment needs at least one changed item, each non-empty text")

    @property
    def line(self) -> str:
        """'2026-12-01 09:40 Dr B: pars L5 left, impression'"""
        return f"{self.at[:16].replace('T', ' ')} {self.reader}: {', '.join(self.changes)}"


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
    spinopelvic: SpinoPelvic | None = None
    key_images: tuple[KeyImage, ...] = ()
    amendments: tuple[Amendment, ...] = ()  # oldest first
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "pars", tuple(self.pars))
        object.__setattr__(self, "levels", tuple(self.levels))
        object.__setattr__(self, "key_images", tuple(self.key_images))
        object.__setattr__(self, "amendments", tuple(self.amendments))
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

    def pars_at(self, level: Level, side: Side) -> ParsFinding | None:
        for p in self.pars:
            if p.level is Level(level) and p.side is Side(side):
                return p
        return None

    def level(self, level: Level) -> LevelFinding | None:
        for lv in self.levels:
            if lv.level is Level(level):
                return lv
        return None

    def with_pars(self, finding: ParsFinding) -> StudyFindings:
        """A copy with ``finding`` replacing any entry for its level and side."""
        rest = tuple(p for p in self.pars if (p.level, p.side) != (finding.level, finding.side))
        return replace(self, pars=tuple(sorted((*rest, finding), key=_pars_key)))

    def with_level(self, finding: LevelFinding) -> StudyFindings:
        rest = tuple(lv for lv in self.levels if lv.level is not finding.level)
        return replace(self, levels=tuple(sorted((*rest, finding), key=lambda lv: list(Level).index(lv.level))))

    def with_context(self, context: ClinicalContext) -> StudyFindings:
        return replace(self, context=context)

    def with_key_image(self, key_image: KeyImage) -> StudyFindings:
        """A copy with ``key_image`` added (or replacing the one with its id), in marking order."""
        rest = tuple(k for k in self.key_images if k.key_image_id != key_image.key_image_id)
        return replace(self, key_images=(*rest, key_image))

    def with_amendment(self, amendment: Amendment) -> StudyFindings:
        """A copy with ``amendment`` added at the end of the history."""
        return replace(self, amendments=(*self.amendments, amendment))

    def without_key_image(self, key_image_id: str) -> StudyFindings:
        return replace(self, key_images=tuple(k for k in self.key_images if k.key_image_id != key_image_id))


def _pars_key(p: ParsFinding) -> tuple[int, int]:
    return (list(Level).index(p.level), list(Side).index(p.side))
