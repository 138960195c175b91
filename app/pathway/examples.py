"""Six synthetic example studies (the sample-case stories) for tests, the benchmark and demos.

``build(pars=..., levels=..., **context)`` is a compact way to write a StudyFindings:
pars entries are tuples (level, side, status, edema, ct_stage_override or None, read_on);
read_on (the modalities the entry was read on) defaults to none recorded — the stories below
say CT and MRI, as read on the sample cases' CT and MRI series;
levels are dicts with level, slip (percent), pfirrmann, hypoplasia, instability, stenosis,
slip_angle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.findings.model import (
    ClinicalContext,
    CTStage,
    Edema,
    ImagingModality,
    ImagingPerformed,
    InstabilityMeasurement,
    Level,
    LevelFinding,
    ParsFinding,
    ParsStatus,
    Severity,
    Side,
    Slip,
    SpinoPelvic,
    StudyFindings,
)


def pars(level: str, side: str, status: str, edema: bool | None = None,
         ct_stage: str | None = None, read_on: Iterable[str] = ()) -> ParsFinding:
    return ParsFinding(level=Level(level), side=Side(side), status=ParsStatus(status), edema=Edema(present=edema),
                       ct_stage_override=None if ct_stage is None else CTStage(ct_stage),
                       read_on=frozenset(ImagingModality(r) for r in read_on))


def level(level: str, slip: float | None = None, pfirrmann: int | None = None,
          hypoplasia: bool | None = None, instability: bool | None = None,
          stenosis: str | None = None, slip_angle: float | None = None,
          translation_mm: float | None = None, translation_pct: float | None = None,
          angulation_deg: float | None = None) -> LevelFinding:
    s = None
    if slip is not None and slip > 0:
        s = Slip(percent=float(slip), slip_angle_deg=slip_angle)
    measured = None
    if (translation_mm, translation_pct, angulation_deg) != (None, None, None):
        measured = InstabilityMeasurement(translation_mm=translation_mm, translation_pct=translation_pct,
                                          angulation_deg=angulation_deg)
    return LevelFinding(level=Level(level), slip=s, disc_pfirrmann=pfirrmann, neural_arch_hypoplasia=hypoplasia,
                        instability=instability, foraminal_stenosis=None if stenosis is None else Severity(stenosis),
                        instability_measured=measured)


def build(pars_entries: Iterable[Any] = (), levels: Iterable[Any] = (), *, imaging: dict | None = None,
          spinopelvic: dict | None = None, **context: Any) -> StudyFindings:
    """``imaging`` / ``spinopelvic``: keyword tables for ImagingPerformed / SpinoPelvic."""
    p = tuple(e if isinstance(e, ParsFinding) else pars(*e) for e in pars_entries)
    lv = tuple(e if isinstance(e, LevelFinding) else level(**e) for e in levels)
    return StudyFindings(pars=p, levels=lv, context=ClinicalContext(**context),
                         imaging=ImagingPerformed(**(imaging or {})),
                         spinopelvic=None if spinopelvic is None else SpinoPelvic(**spinopelvic))


CT_MR = ("CT", "MR")


def _both(lvl: str, status: str, edema: bool | None, stage: str | None) -> list:
    return [(lvl, "left", status, edema, stage, CT_MR), (lvl, "right", status, edema, stage, CT_MR)]


def _intact(*levels_: str) -> list:
    return [(lv, side, "intact", False, None, CT_MR) for lv in levels_ for side in ("left", "right")]


def story_1_normal_adolescent_athlete() -> StudyFindings:
    """15-year-old gymnast with extension back pain; MRI normal, no edema."""
    return build(_intact("L4", "L5"), [dict(level="L4", pfirrmann=1), dict(level="L5", pfirrmann=1)],
                 age_years=15, skeletally_mature=False, athlete=True, sport="gymnastics", symptomatic=True,
                 symptom_duration_months=1, conservative_care_months=0, pain_vas=4, neuro_deficit="none",
                 cauda_equina_symptoms=False)


def story_2_bilateral_l5_stress_reaction() -> StudyFindings:
    """14-year-old footballer: bilateral L5 STIR edema, no fracture line on CT (pre-lysis)."""
    return build(_both("L5", "stress_reaction", True, "pre-lysis") + _intact("L4"),
                 [dict(level="L5", pfirrmann=1), dict(level="L4", pfirrmann=1)],
                 age_years=14, skeletally_mature=False, athlete=True, sport="football", symptomatic=True,
                 symptom_duration_months=1.5, conservative_care_months=0, pain_vas=6,
                 neuro_deficit="none", cauda_equina_symptoms=False)


def story_3_bilateral_l5_active_fractures() -> StudyFindings:
    """16-year-old cricket fast bowler: bilateral complete L5 fractures with edema (progressive)."""
    return build(_both("L5", "complete_fracture", True, "progressive") + _intact("L4"),
                 [dict(level="L5", pfirrmann=2), dict(level="L4", pfirrmann=1)],
                 age_years=16, skeletally_mature=False, athlete=True, sport="cricket", symptomatic=True,
                 symptom_duration_months=2, conservative_care_months=1, pain_vas=6,
                 neuro_deficit="none", cauda_equina_symptoms=False)


def story_4_adult_chronic_grade1() -> StudyFindings:
    """42-year-old: chronic bilateral L5 defects, no edema, grade I slip 18 %, L5-S1 degeneration."""
    return build(_both("L5", "chronic_nonunion", False, "terminal") + _intact("L4"),
                 [dict(level="L5", slip=18.0, pfirrmann=4, hypoplasia=False, instability=False, stenosis="mild"),
                  dict(level="L4", pfirrmann=2)],
                 age_years=42, skeletally_mature=True, athlete=False, symptomatic=True,
                 symptom_duration_months=12, conservative_care_months=4, pain_vas=5, odi=32,
                 disabling_pain=False, radicular_symptoms=False, neuro_deficit="none",
                 cauda_equina_symptoms=False, pars_block="not_done")


def story_5_unilateral_l4_contralateral_terminal() -> StudyFindings:
    """15-year-old: right L4 active complete fracture (early), left L4 terminal defect."""
    return build([("L4", "right", "complete_fracture", True, "early", CT_MR),
                  ("L4", "left", "chronic_nonunion", False, "terminal", CT_MR), *_intact("L5")],
                 [dict(level="L4", pfirrmann=1), dict(level="L5", pfirrmann=1)],
                 age_years=15, skeletally_mature=False, athlete=True, sport="volleyball", symptomatic=True,
                 symptom_duration_months=1, conservative_care_months=0, pain_vas=5,
                 neuro_deficit="none", cauda_equina_symptoms=False)


def story_6_adult_grade2() -> StudyFindings:
    """38-year-old: chronic bilateral L5 defects, grade II slip 35 %, degenerated disc, 8 months
    of failed care, disabling pain, positive block, concordant, radicular symptoms."""
    return build(_both("L5", "chronic_nonunion", False, "terminal") + _intact("L4"),
                 [dict(level="L5", slip=35.0, pfirrmann=4, hypoplasia=False, instability=False, stenosis="moderate"),
                  dict(level="L4", pfirrmann=2)],
                 age_years=38, skeletally_mature=True, athlete=False, symptomatic=True,
                 symptom_duration_months=18, conservative_care_months=8, pain_vas=7, odi=48,
                 disabling_pain=True, radicular_symptoms=True, neuro_deficit="none",
                 cauda_equina_symptoms=False, pars_block="positive", pain_concordant_with_imaging=True,
                 smoking=False, depression_or_chronic_pain=False, realistic_expectations=True,
                 wishes_surgery=True)


STORIES = {
    "case01_normal_adolescent_athlete": story_1_normal_adolescent_athlete,
    "case02_bilateral_l5_stress_reaction": story_2_bilateral_l5_stress_reaction,
    "case03_bilateral_l5_active_fractures": story_3_bilateral_l5_active_fractures,
    "case04_adult_chronic_grade1": story_4_adult_chronic_grade1,
    "case05_unilateral_l4_contralateral_terminal": story_5_unilateral_l4_contralateral_terminal,
    "case06_adult_grade2": story_6_adult_grade2,
}
