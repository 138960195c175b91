"""Codes used in the Isthmus DICOM SR (TID 1500 Measurement Report). Documented in docs/sr-coding.md.

Standard codes (SNOMED CT "SCT", DICOM "DCM", UCUM) come from clinical-reference section 6 and
pydicom's PS3.16 dictionaries. Where DICOM has no concept (pars status, Hollenberg grade,
CT stage, Meyerding grade, percent slip, slip angle, Pfirrmann grade, clinical context ...)
the private coding scheme ``99ISTHMUS`` is used; it is declared in the SR's
CodingSchemeIdentificationSequence. Code values are at most 16 characters, meanings at most 64.
"""

from __future__ import annotations

from pydicom.sr.coding import Code

from app.findings.model import (
    CTStage,
    EdemaSite,
    ImagingModality,
    Level,
    MeyerdingGrade,
    NeuroDeficit,
    ParsBlock,
    ParsStatus,
    Severity,
    Sex,
    Side,
    SlipAngleEndplate,
    SlipDirection,
    SlipTechnique,
    SportLevel,
)

PRIVATE_SCHEME = "99ISTHMUS"
PRIVATE_SCHEME_NAME = "Isthmus lumbar spine findings codes"
PRIVATE_SCHEME_VERSION = "2"
PRIVATE_SCHEME_ORGANIZATION = "Isthmus project"


def P(value: str, meaning: str) -> Code:
    assert len(value) <= 16 and len(meaning) <= 64, (value, meaning)
    return Code(value, PRIVATE_SCHEME, meaning)


def SCT(value: str, meaning: str) -> Code:
    return Code(value, "SCT", meaning)


def DCM(value: str, meaning: str) -> Code:
    return Code(value, "DCM", meaning)


def UCUM(value: str, meaning: str) -> Code:
    return Code(value, "UCUM", meaning)


# ------------------------------------------------------------------ standard codes
IMAGING_MEASUREMENT_REPORT = DCM("126000", "Imaging Measurement Report")
IMAGING_MEASUREMENTS = DCM("126010", "Imaging Measurements")
MEASUREMENT_GROUP = DCM("125007", "Measurement Group")
FINDING = DCM("121071", "Finding")
TRACKING_IDENTIFIER = DCM("112039", "Tracking Identifier")
COMMENT = DCM("121106", "Comment")
IMPRESSION = DCM("121073", "Impression")
STUDY_INSTANCE_UID = DCM("110180", "Study Instance UID")
SERIES_INSTANCE_UID = DCM("112002", "Series Instance UID")
SOURCE_OF_MEASUREMENT = DCM("121112", "Source of Measurement")
FINDING_SITE = SCT("363698007", "Finding Site")
LATERALITY = SCT("272741003", "Laterality")
TOPOGRAPHICAL_MODIFIER = SCT("106233006", "Topographical modifier")
MEASUREMENT_METHOD = SCT("370129005", "Measurement Method")

PRESENT = SCT("52101004", "Present")
ABSENT = SCT("272519000", "Absent")
YES = SCT("373066001", "Yes")
NO = SCT("373067005", "No")

EDEMA = SCT("79654002", "Edema")
BONE_MARROW = SCT("14016003", "Bone marrow")
PEDICLE = SCT("78972004", "Pedicle of vertebra")
SACRUM = SCT("54735007", "Sacrum")

LEVEL_CODES: dict[Level, Code] = {
    Level.L1: SCT("66794005", "L1 vertebra"),
    Level.L2: SCT("14293000", "L2 vertebra"),
    Level.L3: SCT("36470004", "L3 vertebra"),
    Level.L4: SCT("11994002", "L4 vertebra"),
    Level.L5: SCT("49668003", "L5 vertebra"),
    Level.S1: SACRUM,  # S1 is not in CID 7602/7603: Sacrum + topographical modifier "First sacral segment"
}
FIRST_SACRAL_SEGMENT = P("S1-SEGMENT", "First sacral segment (S1)")

# DICOM "Modality" (CID 29 values) for the imaging a pars entry was read on; a radiograph is
# SNOMED "Plain radiography" (it covers CR, DX and film, which CID 29 splits).
MODALITY = DCM("121139", "Modality")
MODALITY_CODES: dict[ImagingModality, Code] = {
    ImagingModality.RADIOGRAPH: SCT("168537006", "Plain radiography"),
    ImagingModality.CT: DCM("CT", "Computed Tomography"),
    ImagingModality.MR: DCM("MR", "Magnetic Resonance"),
    ImagingModality.NM: DCM("NM", "Nuclear Medicine"),
}
SUSPECTED = SCT("415684004", "Suspected")
SUBJECT_SEX = DCM("121032", "Subject Sex")
SEX_CODES: dict[Sex, Code] = {
    Sex.FEMALE: DCM("F", "Female"),
    Sex.MALE: DCM("M", "Male"),
    Sex.OTHER: DCM("121102", "Other sex"),
}

SIDE_CODES: dict[Side, Code] = {Side.RIGHT: SCT("24028007", "Right"), Side.LEFT: SCT("7771000", "Left")}

SEVERITY_CODES: dict[Severity, Code] = {
    Severity.NONE: ABSENT,
    Severity.MILD: SCT("255604002", "Mild"),
    Severity.MODERATE: SCT("6736007", "Moderate"),
    Severity.SEVERE: SCT("24484000", "Severe"),
}

# ------------------------------------------------------------------ units (UCUM)
UNIT_PERCENT = UCUM("%", "percent")
UNIT_DEGREE = UCUM("deg", "degree")
UNIT_MM = UCUM("mm", "millimeter")
UNIT_RATIO = UCUM("{ratio}", "ratio")
UNIT_NONE = UCUM("1", "no units")
UNIT_YEAR = UCUM("a", "year")
UNIT_MONTH = UCUM("mo", "month")
UNIT_SCORE = UCUM("{score}", "score")

# ------------------------------------------------------------------ private: report structure
PROCEDURE_REVIEW = P("ISTH-REVIEW", "Lumbar spine pars and spondylolisthesis imaging review")
PARS_INTERARTICULARIS = P("PARS", "Pars interarticularis")
VERTEBRAL_BODY = P("VERT-BODY", "Vertebral body")

FINDING_PARS = P("PARS-FINDING", "Pars interarticularis finding")
FINDING_LEVEL = P("LEVEL-FINDING", "Vertebral level findings")
FINDING_SLIP = P("SLIP-FINDING", "Spondylolisthesis of a vertebra on the one below")

STUDY_INFO = P("STUDY-INFO", "Isthmus study information")
CLINICAL_CONTEXT = P("CLIN-CONTEXT", "Clinical context")
READER = P("READER", "Reader")
CREATED = P("CREATED", "Findings created (ISO 8601)")
MODIFIED = P("MODIFIED", "Findings modified (ISO 8601)")
SCHEMA_VERSION = P("SCHEMA-VERSION", "Isthmus findings schema version")

# ------------------------------------------------------------------ private: pars
PARS_STATUS = P("PARS-STATUS", "Pars interarticularis status")
PARS_STATUS_CODES: dict[ParsStatus, Code] = {
    ParsStatus.INTACT: P("PARS-INTACT", "Intact pars interarticularis"),
    ParsStatus.STRESS_REACTION: P("PARS-STRESS", "Stress reaction (edema, intact cortex)"),
    ParsStatus.INCOMPLETE_FRACTURE: P("PARS-INCOMPLETE", "Incomplete pars fracture"),
    ParsStatus.COMPLETE_FRACTURE: P("PARS-COMPLETE", "Complete pars fracture"),
    ParsStatus.CHRONIC_NONUNION: P("PARS-NONUNION", "Chronic pars non-union"),
}
EDEMA_LOCATION = P("EDEMA-LOC", "Bone marrow edema location")
EDEMA_SITE_CODES: dict[EdemaSite, Code] = {
    EdemaSite.PARS: PARS_INTERARTICULARIS,
    EdemaSite.PEDICLE: PEDICLE,
    EdemaSite.BODY: VERTEBRAL_BODY,
}
EDEMA_SIR = P("EDEMA-SIR", "Bone marrow edema signal intensity ratio")
PARS_GAP = P("PARS-GAP", "Pars defect gap width")
SCLEROTIC_MARGINS = P("SCLEROTIC", "Sclerotic defect margins")

PARS_CONFIRMATION = P("PARS-CONFIRM", "Basis of the pars finding")
CONFIRMED_CROSS_SECTIONAL = P("CONFIRMED-CT-MR", "Read on CT or MRI (cross-sectional confirmation)")
HOLLENBERG = P("HOLLENBERG", "Hollenberg MRI grade")
HOLLENBERG_CODES: dict[int, Code] = {g: P(f"HOLLENBERG-{g}", f"Hollenberg grade {g}") for g in range(5)}
CT_STAGE = P("CT-STAGE", "CT stage of pars defect")
CT_STAGE_CODES: dict[CTStage, Code] = {
    CTStage.PRE_LYSIS: P("CT-PRELYSIS", "Pre-lysis (very early, MRI-only) stage"),
    CTStage.EARLY: P("CT-EARLY", "Early stage"),
    CTStage.PROGRESSIVE: P("CT-PROGRESSIVE", "Progressive stage"),
    CTStage.TERMINAL: P("CT-TERMINAL", "Terminal stage"),
}
GRADE_SOURCE_MRI_CROSSWALK = P("DERIVED-MRI", "Derived from MRI findings by the approximate crosswalk")
GRADE_SOURCE_DERIVED = P("DERIVED", "Derived from the recorded findings")
GRADE_SOURCE_OVERRIDE = P("READER-OVERRIDE", "Set by the reader (overrides the derived value)")
HOLLENBERG_SOURCE = P("HOLLENBERG-SRC", "Source of the Hollenberg grade")
CT_STAGE_SOURCE = P("CT-STAGE-SRC", "Source of the CT stage")

# ------------------------------------------------------------------ private: slip
PERCENT_SLIP = P("PERCENT-SLIP", "Percent slip")
SLIP_ANGLE = P("SLIP-ANGLE", "Slip angle")
SLIP_DIRECTION = P("SLIP-DIR", "Slip direction")
SLIP_DIRECTION_CODES: dict[SlipDirection, Code] = {
    SlipDirection.ANTERIOR: P("ANTEROLISTHESIS", "Anterolisthesis"),
    SlipDirection.POSTERIOR: P("RETROLISTHESIS", "Retrolisthesis"),
}
SLIP_TECHNIQUE_CODES: dict[SlipTechnique, Code] = {
    SlipTechnique.POSTERIOR_CORNER_PERPENDICULAR: P("SLIP-TECH-1", "Perpendicular from the postero-inferior corner"),
    SlipTechnique.POSTERIOR_WALL_TANGENT: P("SLIP-TECH-2", "Tangent to the posterior wall"),
    SlipTechnique.ENTERED: P("SLIP-ENTERED", "Entered by the reader without landmarks"),
}
SLIP_ANGLE_ENDPLATE_CODES: dict[SlipAngleEndplate, Code] = {
    SlipAngleEndplate.L5_INFERIOR: P("SA-L5-INFERIOR", "Slip angle from the L5 inferior endplate (Boxall)"),
    SlipAngleEndplate.L5_SUPERIOR: P("SA-L5-SUPERIOR", "Slip angle from the L5 superior endplate"),
}
SLIP_ANGLE_ENDPLATE = P("SA-ENDPLATE", "Slip angle reference endplate")
MEYERDING = P("MEYERDING", "Meyerding grade")
MEYERDING_CODES: dict[MeyerdingGrade, Code] = {g: P(f"MEYERDING-{g.value}", f"Meyerding grade {g.value}")
                                                 for g in MeyerdingGrade}
NO_LISTHESIS = P("NO-LISTHESIS", "No listhesis (0 percent slip)")
NEAR_BOUNDARY = P("NEAR-BOUNDARY", "Percent slip near a Meyerding grade boundary")
SLIP_LANDMARK = P("SLIP-LANDMARK", "Slip landmark")
POINT_LPS = P("POINT-LPS", "Point coordinates (patient LPS mm, JSON)")

# ------------------------------------------------------------------ private: level
PFIRRMANN = P("PFIRRMANN", "Pfirrmann grade of the disc below")
PFIRRMANN_CODES: dict[int, Code] = {g: P(f"PFIRRMANN-{g}", f"Pfirrmann grade {g}") for g in range(1, 6)}
NEURAL_ARCH_HYPOPLASIA = P("ARCH-HYPOPLASIA", "Neural arch hypoplasia")
FORAMINAL_STENOSIS = P("FORAMINAL-STEN", "Foraminal stenosis")
INSTABILITY = P("INSTABILITY", "Segmental instability")
SPINA_BIFIDA_OCCULTA = P("SBO", "Spina bifida occulta")

# measured instability (a group of its own per level)
FINDING_INSTABILITY = P("INSTAB-FINDING", "Segmental motion between flexion and extension")
TRANSLATION_MM = P("TRANSLATION", "Sagittal translation difference")
TRANSLATION_PCT = P("TRANSLATION-PCT", "Sagittal translation difference, % of endplate depth")
ANGULATION = P("ANGULATION", "Sagittal angulation difference")

# spino-pelvic parameters: no DICOM, SNOMED (in pydicom's tables) or LOINC code found -> private
FINDING_SPINOPELVIC = P("SPINOPELVIC", "Spino-pelvic parameters (standing lateral radiograph)")
SPINOPELVIC_ITEMS: dict[str, Code] = {
    "pelvic_incidence_deg": P("PELVIC-INCIDENCE", "Pelvic incidence"),
    "pelvic_tilt_deg": P("PELVIC-TILT", "Pelvic tilt"),
    "sacral_slope_deg": P("SACRAL-SLOPE", "Sacral slope"),
    "lumbar_lordosis_deg": P("LUMBAR-LORDOSIS", "Lumbar lordosis (L1 to S1 superior endplates)"),
}
LUMBOSACRAL_SPINE = SCT("297173004", "Lumbosacral region of spine")

# imaging performed (Yes/No per kind; missing = not known)
FINDING_IMAGING = P("IMAGING-DONE", "Imaging performed for this patient")
IMAGING_ITEMS: dict[str, Code] = {
    "radiographs": P("DONE-RADIOGRAPH", "Radiographs performed"),
    "flexion_extension": P("DONE-FLEX-EXT", "Flexion-extension radiographs performed"),
    "ct": P("DONE-CT", "CT performed"),
    "mri": P("DONE-MRI", "MRI performed"),
    "spect": P("DONE-SPECT", "SPECT or bone scintigraphy performed"),
}

# ------------------------------------------------------------------ private: provenance
ANNOTATION = P("ANNOTATION", "Supporting annotation")
ANNOTATION_KIND = P("ANNOTATION-KIND", "Annotation kind")
SOP_INSTANCE_UID = P("SOP-INSTANCE-UID", "SOP Instance UID")
FRAME_NUMBER = P("FRAME-NUMBER", "Frame number")
POINTS_PX = P("POINTS-PX", "Points (image pixels column, row; JSON)")
POINTS_LPS = P("POINTS-LPS", "Points (patient LPS mm; JSON)")
SOURCE_IMAGE = SOURCE_OF_MEASUREMENT
TRAILING_TEXT = P("TRAILING-TEXT", "Trailing spaces of the parent text (JSON string)")

# ------------------------------------------------------------------ private: key images (schema 3)
FINDING_KEY_IMAGE = P("KEY-IMAGE", "Key image (a view marked by the reader)")
KEY_IMAGE_ID = P("KEY-IMAGE-ID", "Key image identifier")
KEY_IMAGE_CAPTION = P("KEY-CAPTION", "Key image caption")
KEY_IMAGE_ANNOTATION = P("KEY-ANNOTATION", "Annotation shown on the key image")
SLICE_INDEX = P("SLICE-INDEX", "Slice index of the series volume (0-based)")
VIEW_PLANE = P("VIEW-PLANE", "Display plane (axial, sagittal, coronal)")
WINDOW_CENTER = P("WINDOW-CENTER", "Window center")
WINDOW_WIDTH = P("WINDOW-WIDTH", "Window width")
DISPLAY_ZOOM = P("DISPLAY-ZOOM", "Display zoom factor")

# ------------------------------------------------------------------ private: amendments (schema 4)
FINDING_AMENDMENT = P("AMENDMENT", "Amendment of a reviewed read")
AMENDED_BY = P("AMENDED-BY", "Amended by (reader)")
AMENDED_AT = P("AMENDED-AT", "Amended at (ISO 8601)")
AMENDED_ITEM = P("AMENDED-ITEM", "Item changed by the amendment")

# ------------------------------------------------------------------ private: clinical context
# field -> (concept, kind) with kind "bool" (Yes/No), "text", ("num", unit) or an enum class
CONTEXT_ITEMS: dict[str, tuple[Code, object]] = {
    "age_years": (P("AGE", "Age"), ("num", UNIT_YEAR)),
    "skeletally_mature": (P("SKEL-MATURE", "Skeletally mature"), "bool"),
    "athlete": (P("ATHLETE", "Athlete"), "bool"),
    "sport": (P("SPORT", "Sport"), "text"),
    "symptomatic": (P("SYMPTOMATIC", "Symptomatic back pain"), "bool"),
    "symptom_duration_months": (P("SYMPTOM-DUR", "Symptom duration"), ("num", UNIT_MONTH)),
    "conservative_care_months": (P("CONSERV-CARE", "Duration of conservative care"), ("num", UNIT_MONTH)),
    "pain_vas": (P("PAIN-VAS", "Pain visual analogue scale (0-10)"), ("num", UNIT_SCORE)),
    "odi": (P("ODI", "Oswestry Disability Index (0-100)"), ("num", UNIT_SCORE)),
    "disabling_pain": (P("DISABLING-PAIN", "Disabling pain"), "bool"),
    "radicular_symptoms": (P("RADICULAR", "Radicular symptoms"), "bool"),
    "neuro_deficit": (P("NEURO-DEFICIT", "Neurological deficit"), NeuroDeficit),
    "cauda_equina_symptoms": (P("CAUDA-EQUINA", "Cauda equina symptoms"), "bool"),
    "slip_progression": (P("SLIP-PROGRESS", "Slip progression on serial films"), "bool"),
    "pars_block": (P("PARS-BLOCK", "Diagnostic pars block"), ParsBlock),
    "pain_concordant_with_imaging": (P("PAIN-CONCORDANT", "Pain concordant with imaging"), "bool"),
    "smoking": (P("SMOKING", "Smoker"), "bool"),
    "depression_or_chronic_pain": (P("DEPRESSION-CP", "Depression or chronic pain syndrome"), "bool"),
    "realistic_expectations": (P("REALISTIC-EXP", "Realistic expectations"), "bool"),
    "wishes_surgery": (P("WISHES-SURGERY", "Patient wishes surgery"), "bool"),
    "sex": (SUBJECT_SEX, Sex),
    "sport_level": (P("SPORT-LEVEL", "Level of sport"), SportLevel),
}
FROM_DICOM = P("FROM-DICOM", "Context item taken from the DICOM header (field name)")
NEURO_DEFICIT_CODES: dict[NeuroDeficit, Code] = {
    NeuroDeficit.NONE: P("NEURO-NONE", "No neurological deficit"),
    NeuroDeficit.STABLE: P("NEURO-STABLE", "Stable neurological deficit"),
    NeuroDeficit.PROGRESSIVE: P("NEURO-PROGRESS", "Progressive neurological deficit"),
    NeuroDeficit.SEVERE: P("NEURO-SEVERE", "Severe neurological deficit"),
}
SPORT_LEVEL_CODES: dict[SportLevel, Code] = {
    SportLevel.RECREATIONAL: P("SPORT-RECREATION", "Recreational sport"),
    SportLevel.COMPETITIVE: P("SPORT-COMPETE", "Competitive sport"),
    SportLevel.PROFESSIONAL: P("SPORT-PRO", "Professional sport"),
}
PARS_BLOCK_CODES: dict[ParsBlock, Code] = {
    ParsBlock.NOT_DONE: P("BLOCK-NOT-DONE", "Pars block not done"),
    ParsBlock.POSITIVE: P("BLOCK-POSITIVE", "Pars block positive (pain relief)"),
    ParsBlock.NEGATIVE: P("BLOCK-NEGATIVE", "Pars block negative"),
}
ENUM_CODES: dict[type, dict] = {NeuroDeficit: NEURO_DEFICIT_CODES, ParsBlock: PARS_BLOCK_CODES,
                                 Sex: SEX_CODES, SportLevel: SPORT_LEVEL_CODES}


def key(code) -> tuple[str, str]:
    """(scheme designator, code value) of a Code, CodedConcept or code-sequence item."""
    if hasattr(code, "scheme_designator"):
        return (str(code.scheme_designator), str(code.value))
    return (str(code.CodingSchemeDesignator), str(code.CodeValue))


def reverse(mapping: dict) -> dict[tuple[str, str], object]:
    return {key(code): k for k, code in mapping.items()}


def all_private_codes() -> list[Code]:
    """Every 99ISTHMUS code defined here (for docs and the uniqueness test)."""
    out: list[Code] = []
    for value in globals().values():
        if isinstance(value, Code):
            out.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                if isinstance(v, Code):
                    out.append(v)
                elif isinstance(v, tuple) and v and isinstance(v[0], Code):
                    out.append(v[0])
    seen: dict[tuple[str, str], Code] = {}
    for c in out:
        if c.scheme_designator == PRIVATE_SCHEME:
            seen.setdefault(key(c), c)
    return list(seen.values())
