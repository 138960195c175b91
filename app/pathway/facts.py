"""Facts: the named values the predicates read, computed once per evaluation from StudyFindings.

Facts do not depend on settings (thresholds are predicate parameters), so one ``Facts`` can be
re-used when the engine re-evaluates a ruleset under alternative settings. A fact is ``None``
when the findings do not say; predicates then answer "unknown".

Conventions (documented in docs/pathway.md):
- A *lesion* is a pars entry that is not intact, or is intact with marrow edema (pre-lysis).
- A *defect* is an incomplete or complete fracture or a chronic non-union.
- Slip at a lesion level: a LevelFinding at that level with ``slip=None`` means "no listhesis";
  no LevelFinding at all means "not assessed" (unknown).
- ``symptomatic`` is the reader's entry; when absent it is inferred True from a recorded symptom
  duration (> 0 months), VAS >= 1, ODI > 0, disabling pain or radicular symptoms, False from VAS 0
  with none of those, otherwise unknown.
- The CT stage of a lesion is the reader's entry, else the crosswalk from the pars entry — except
  for an entry read on radiographs only, which has no CT stage (a radiograph cannot stage it).
- A defect is *confirmed* only when read on CT or MRI (``ParsFinding.read_on``); radiograph-only
  is a suspicion; an entry without a recorded modality is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.findings.model import (
    CTStage,
    ImagingModality,
    Level,
    LevelFinding,
    ParsFinding,
    ParsStatus,
    Severity,
    SlipDirection,
    StudyFindings,
)

CT_STAGE_ORDER = (CTStage.PRE_LYSIS, CTStage.EARLY, CTStage.PROGRESSIVE, CTStage.TERMINAL)
SEVERITY_ORDER = (Severity.NONE, Severity.MILD, Severity.MODERATE, Severity.SEVERE)

# fact name -> the question a clinician would answer to supply it (used in "missing data")
FACT_QUESTIONS: dict[str, str] = {
    "age_years": "Patient age (years)",
    "skeletally_mature": "Skeletal maturity (growth plates closed?)",
    "athlete": "Is the patient an athlete (which sport)?",
    "symptomatic": "Does the patient have back pain attributed to the spine (symptomatic)?",
    "symptom_duration_months": "Symptom duration (months)",
    "conservative_care_months": "Months of conservative care completed",
    "pain_vas": "Pain score (VAS 0-10)",
    "odi": "Oswestry Disability Index (0-100)",
    "disabling_pain": "Is the pain disabling / functionally limiting?",
    "radicular_symptoms": "Radicular symptoms (leg pain, paraesthesia in a root distribution)?",
    "neuro_deficit": "Neurological deficit (none / stable / progressive / severe)?",
    "cauda_equina_symptoms": "Cauda equina symptoms (saddle anaesthesia, sphincter disturbance)?",
    "slip_progression": "Slip progression on serial standing films?",
    "pars_block": "Diagnostic pars block (not done / positive / negative)",
    "pain_concordant_with_imaging": "Is the pain concordant with the imaging findings (level, side)?",
    "smoking": "Smoking?",
    "depression_or_chronic_pain": "Depression or a chronic pain syndrome?",
    "realistic_expectations": "Realistic expectations after counselling?",
    "wishes_surgery": "Does the patient wish surgery after counselling?",
    "any_active_lesion": "Marrow edema (STIR / T2 fat-saturated MRI) at the lesion(s): active or chronic?",
    "lesion_edema_unknown": "Marrow edema at the lesion(s) (MRI STIR)",
    "ct_stage_confirmed": "CT stage of each lesion (pre-lysis / early / progressive / terminal)",
    "slip_pct_lesion_levels": "Percent slip at the lesion level(s) on a standing lateral radiograph",
    "slip_angle_max_deg": "Slip angle (degrees)",
    "disc_degenerated_lesion": "Disc degeneration (Pfirrmann grade) at and above the lesion level",
    "instability_lesion": ("Instability on flexion-extension views at the lesion level (a 'no' needs the "
                           "flexion-extension views)"),
    "hypoplasia_lesion": "Neural-arch hypoplasia at the lesion level",
    "foraminal_stenosis_max": "Foraminal stenosis (grade)",
    "pars_assessed": "Pars assessment on imaging",
    "edema_assessed": "Marrow edema assessment (MRI STIR) of the pars",
    "any_lesion": "Pars findings (lesion or intact) per level and side",
    "any_defect": "Pars findings (defect or not) per level and side",
    "any_terminal": "CT stage of each lesion",
    "bilateral_lesion": "Pars findings on both sides of the lesion level",
    "active_non_terminal": "Marrow edema and CT stage of each lesion",
    "fresh_with_contralateral_terminal": "CT stage and edema of both pars at the lesion level",
    "unilateral_progressive_l5": "CT stage and edema of both L5 pars",
    "slip_pct_max": "Percent slip at each level (standing lateral radiograph)",
    "defect_cross_sectional": "Was the pars defect read on CT or MRI (confirmed) or on radiographs only (suspected)?",
    "defect_radiograph_only": "Was the pars defect read on CT or MRI, or on radiographs only?",
    "instability_measured_lesion": ("Translation (mm, % of endplate) and angulation (degrees) between flexion and "
                                    "extension views at the lesion level"),
    "pelvic_incidence_deg": "Pelvic incidence (degrees) on a standing lateral radiograph",
    "sport_level": "Level of sport (recreational / competitive / professional)",
    "sex": "Sex",
    "imaging_ct": "Is a CT of the lumbar spine available?",
    "imaging_mri": "Is an MRI of the lumbar spine available?",
    "imaging_radiographs": "Are standing radiographs available?",
    "imaging_flexion_extension": "Were flexion-extension radiographs done?",
}

# What to assess first when the read is (nearly) empty, most important first: the fact that must
# be unknown for the item to be listed, and the text shown.
ASSESS_FIRST: tuple[tuple[str, str], ...] = (
    ("cauda_equina_symptoms", "Red flags: cauda equina symptoms (saddle anaesthesia, sphincter disturbance)"),
    ("neuro_deficit", "Neurological status (no deficit / stable / progressive / severe)"),
    ("symptomatic", "Symptoms: back pain attributed to the spine? (duration, pain score)"),
    ("pars_assessed", "Pars interarticularis at each lumbar level, left and right "
                      "(intact / stress reaction / fracture / non-union)"),
    ("edema_assessed", "Marrow edema in the pars and pedicles on STIR / T2 fat-saturated MRI"),
    ("slip_pct_max", "Percent slip on a standing lateral radiograph"),
    ("age_years", "Age and skeletal maturity"),
    ("defect_cross_sectional", "Modality each pars defect was read on (CT/MRI confirms; radiographs only suggest)"),
    ("conservative_care_months", "Months of conservative care completed"),
)


@dataclass(frozen=True)
class Lesion:
    pars: ParsFinding
    contralateral: ParsFinding | None

    @property
    def level(self) -> Level:
        return self.pars.level

    @property
    def edema(self) -> bool | None:
        return self.pars.edema_present

    @property
    def stage(self) -> CTStage | None:
        return effective_stage(self.pars)

    @property
    def contralateral_lesion(self) -> bool:
        return self.contralateral is not None and is_lesion(self.contralateral)

    @property
    def contralateral_stage(self) -> CTStage | None:
        contra = self.contralateral
        return effective_stage(contra) if contra is not None and is_lesion(contra) else None


def is_lesion(p: ParsFinding) -> bool:
    return p.status is not ParsStatus.INTACT or p.edema_present is True


def _tri_any(values) -> bool | None:
    """Kleene OR over an iterable of Optional[bool]; empty -> False."""
    unknown = False
    for v in values:
        if v is True:
            return True
        if v is None:
            unknown = True
    return None if unknown else False


@dataclass
class Facts:
    """Named facts (``values``) plus the lesion list the staging code also uses."""

    findings: StudyFindings
    lesions: tuple[Lesion, ...]
    values: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


def _symptomatic(findings: StudyFindings) -> bool | None:
    c = findings.context
    if c.symptomatic is not None:
        return c.symptomatic
    if ((c.pain_vas is not None and c.pain_vas >= 1) or (c.symptom_duration_months or 0) > 0
            or (c.odi or 0) > 0 or c.disabling_pain or c.radicular_symptoms):
        return True
    if c.pain_vas == 0:
        return False
    return None


_CROSS_SECTIONAL = frozenset({ImagingModality.CT, ImagingModality.MR})


def effective_stage(p: ParsFinding) -> CTStage | None:
    """The reader's CT stage, else the crosswalk — never a stage for a radiograph-only entry."""
    if p.ct_stage_override is not None:
        return p.ct_stage_override
    if p.read_on and not (p.read_on & _CROSS_SECTIONAL):
        return None
    return p.ct_stage_derived


def stage_source(p: ParsFinding) -> str:
    """reader | CT read | derived from MRI | derived | radiograph only | none."""
    if p.ct_stage_override is not None:
        return "reader"
    if effective_stage(p) is None:
        return "radiograph only" if p.read_on and not (p.read_on & _CROSS_SECTIONAL) else "none"
    if ImagingModality.CT in p.read_on:
        return "CT read"
    if ImagingModality.MR in p.read_on:
        return "derived from MRI"
    return "derived"


def _tri_all_known(values) -> bool | None:
    """True if any True; False if at least one False and no True; None if all None (or empty)."""
    vals = [v for v in values if v is not None]
    if True in vals:
        return True
    return False if vals else None


def _level_of(findings: StudyFindings, level: Level) -> LevelFinding | None:
    return findings.level(level)


def _anterior_slip_pct(lv: LevelFinding | None) -> float | None:
    if lv is None:
        return None
    if lv.slip is None or lv.slip.direction is not SlipDirection.ANTERIOR:
        return 0.0
    return float(lv.slip.percent)


def compute_facts(findings: StudyFindings) -> Facts:
    ctx = findings.context
    pars_by_key = {(p.level, p.side): p for p in findings.pars}
    lesions = tuple(
        Lesion(p, pars_by_key.get((p.level, p.side.other)))
        for p in findings.pars
        if is_lesion(p)
    )
    lesion_levels = tuple(sorted({les.level for les in lesions}, key=lambda lv: list(Level).index(lv)))
    defects = [les for les in lesions if les.pars.status.is_defect]

    v: dict[str, Any] = {
        "age_years": ctx.age_years,
        "skeletally_mature": ctx.skeletally_mature,
        "athlete": True if ctx.sport_level is not None else ctx.athlete,
        "sport_level": None if ctx.sport_level is None else ctx.sport_level.value,
        "sex": None if ctx.sex is None else ctx.sex.value,
        "symptomatic": _symptomatic(findings),
        "symptom_duration_months": ctx.symptom_duration_months,
        "conservative_care_months": ctx.conservative_care_months,
        "pain_vas": ctx.pain_vas,
        "odi": ctx.odi,
        "disabling_pain": ctx.disabling_pain,
        "radicular_symptoms": ctx.radicular_symptoms,
        "neuro_deficit": None if ctx.neuro_deficit is None else ctx.neuro_deficit.value,
        "cauda_equina_symptoms": ctx.cauda_equina_symptoms,
        "slip_progression": ctx.slip_progression,
        "pars_block": None if ctx.pars_block is None else ctx.pars_block.value,
        "pain_concordant_with_imaging": ctx.pain_concordant_with_imaging,
        "smoking": ctx.smoking,
        "depression_or_chronic_pain": ctx.depression_or_chronic_pain,
        "realistic_expectations": ctx.realistic_expectations,
        "wishes_surgery": ctx.wishes_surgery,
    }

    v["pars_assessed"] = bool(findings.pars)
    v["edema_assessed"] = any(p.edema_present is not None for p in findings.pars)
    v["any_lesion"] = bool(lesions)
    v["any_defect"] = bool(defects)
    v["lesion_levels"] = tuple(lv.value for lv in lesion_levels)
    v["any_active_lesion"] = _tri_any(les.edema for les in lesions)
    v["lesion_edema_unknown"] = any(les.edema is None for les in lesions)
    v["ct_stage_confirmed"] = bool(lesions) and all(
        les.pars.ct_stage_override is not None or ImagingModality.CT in les.pars.read_on for les in lesions)
    confirmations = [les.pars.cross_sectional_confirmation for les in defects]
    v["defect_cross_sectional"] = (True if True in confirmations else None if None in confirmations else False)
    v["defect_radiograph_only"] = any(c is False for c in confirmations)
    v["any_terminal"] = any(les.stage is CTStage.TERMINAL for les in lesions)
    v["bilateral_lesion"] = any(les.contralateral_lesion for les in lesions)
    v["fresh_with_contralateral_terminal"] = any(
        les.edema is True and les.stage not in (None, CTStage.TERMINAL) and les.contralateral_stage is CTStage.TERMINAL
        for les in lesions
    )
    v["unilateral_progressive_l5"] = any(
        les.level is Level.L5 and les.stage is CTStage.PROGRESSIVE and les.edema is not False and not les.contralateral_lesion
        for les in lesions
    )
    v["active_non_terminal"] = _tri_any(
        (les.edema if les.stage is not CTStage.TERMINAL else False) for les in lesions
    )

    # per-level facts at the lesion levels
    slips: list[float | None] = [_anterior_slip_pct(_level_of(findings, lv)) for lv in lesion_levels]
    known_slips = [s for s in slips if s is not None]
    v["slip_pct_lesion_levels"] = max(known_slips) if known_slips else (0.0 if not lesion_levels else None)
    v["slip_lesion_unknown"] = any(s is None for s in slips)

    all_slips = [float(lv.slip.percent) for lv in findings.levels
                 if lv.slip is not None and lv.slip.direction is SlipDirection.ANTERIOR]
    v["slip_pct_max"] = max(all_slips) if all_slips else (0.0 if findings.levels else None)
    angles = [lv.slip.slip_angle_deg for lv in findings.levels if lv.slip is not None and lv.slip.slip_angle_deg is not None]
    v["slip_angle_max_deg"] = max(angles) if angles else None
    v["near_boundary_slip"] = any(lv.slip.near_boundary for lv in findings.levels if lv.slip is not None and lv.slip.percent > 0)

    lesion_level_set = set(lesion_levels)
    v["slip_without_defect"] = bool(findings.pars) and any(
        lv.slip is not None and lv.slip.direction is SlipDirection.ANTERIOR and lv.slip.percent > 0
        and lv.level not in lesion_level_set
        for lv in findings.levels
    )

    # disc: the disc below each lesion level (index) and the one above (adjacent), when recorded
    disc_vals: list[bool | None] = []
    order = list(Level)
    for lvl in lesion_levels:
        index = _level_of(findings, lvl)
        disc_vals.append(None if index is None else index.disc_degenerated)
        i = order.index(lvl)
        if i > 0:
            above = _level_of(findings, order[i - 1])
            if above is not None and above.disc_degenerated:
                disc_vals.append(True)
    v["disc_degenerated_lesion"] = _tri_any(disc_vals) if lesion_levels else None

    def per_lesion_level(attr: str) -> bool | None:
        if not lesion_levels:
            return None
        vals = []
        for lvl in lesion_levels:
            lf = _level_of(findings, lvl)
            vals.append(None if lf is None else getattr(lf, attr))
        return _tri_any(vals)

    # "No dynamic instability" needs dynamic views: a reader's "no" while the imaging record says
    # flexion-extension views were not done stays unknown (a "yes" stands: it may come from
    # another comparison, e.g. standing against supine). Not recorded (None) keeps the reader's word.
    instability = per_lesion_level("instability")
    no_dynamic_views = findings.imaging.flexion_extension is False
    v["instability_lesion"] = None if instability is False and no_dynamic_views else instability
    v["hypoplasia_lesion"] = per_lesion_level("neural_arch_hypoplasia")
    measured = []
    for lvl in lesion_levels:
        lf = _level_of(findings, lvl)
        m = None if lf is None else lf.instability_measured
        if m is not None:
            measured.append((m.translation_mm, m.translation_pct, m.angulation_deg))
    v["instability_measured_lesion"] = tuple(measured)

    sp = findings.spinopelvic
    v["pelvic_incidence_deg"] = None if sp is None else sp.pelvic_incidence_deg
    im = findings.imaging
    v["imaging_ct"] = im.ct
    v["imaging_mri"] = im.mri
    v["imaging_radiographs"] = im.radiographs
    v["imaging_flexion_extension"] = im.flexion_extension

    sev = [lv.foraminal_stenosis for lv in findings.levels if lv.foraminal_stenosis is not None]
    v["foraminal_stenosis_max"] = max(sev, key=SEVERITY_ORDER.index).value if sev else None

    return Facts(findings=findings, lesions=lesions, values=v)


def assess_first(facts: Facts) -> tuple[str, ...]:
    """The key findings still unknown, most important first (``ASSESS_FIRST``)."""
    out = []
    for fact, text in ASSESS_FIRST:
        value = facts.get(fact)
        if fact in ("pars_assessed", "edema_assessed"):
            unknown = not value
        elif fact == "defect_cross_sectional":
            unknown = facts["any_defect"] and value is None
        else:
            unknown = value is None
        if unknown:
            out.append(text)
    return tuple(out)
