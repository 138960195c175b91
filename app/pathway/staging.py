"""Stage per level and side, Meyerding grade with the Taillard index, Wiltse, Marchetti-Bartolozzi
and SDSG classifications, measured instability, one-line summaries, and the cohort union rates for
each lesion (display only: never a prediction, never used to decide)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.findings.model import (
    CTStage,
    Level,
    LevelFinding,
    ParsFinding,
    ParsStatus,
    SlipDirection,
    SpinoPelvic,
    ang_grade,
)
from app.pathway.facts import CT_STAGE_ORDER, Facts, effective_stage, is_lesion, stage_source
from app.pathway.predicates import measured_unstable
from app.pathway.result import LevelStage, ParsStage, UnionEstimate
from app.pathway.rules import Cohort, Ruleset, UnionRow

SDSG_PI_LOW_DEG = 45.0  # SDSG type 1 / 2 boundary (both sources agree)
SDSG_UNCERTAIN_DEG = 5.0  # PI within this of a cut-off is flagged (clinical-reference 1.5)
PI_IDENTITY_TOLERANCE_DEG = 5.0  # PI = PT + SS; a larger mismatch is flagged (clinical-reference 1.4)

_STATUS_TEXT = {
    ParsStatus.INTACT: "intact pars",
    ParsStatus.STRESS_REACTION: "stress reaction",
    ParsStatus.INCOMPLETE_FRACTURE: "incomplete fracture",
    ParsStatus.COMPLETE_FRACTURE: "complete fracture",
    ParsStatus.CHRONIC_NONUNION: "non-union (pseudarthrosis)",
}


def _activity(p: ParsFinding) -> str:
    e = p.edema_present
    return "unknown" if e is None else ("active" if e else "chronic")


def _stage_rank(stage: CTStage | None) -> int:
    return -1 if stage is None else CT_STAGE_ORDER.index(stage)


def _lookup(cohort: Cohort, stage: CTStage, contra: CTStage | None, contra_is_lesion: bool,
            contra_known: bool) -> tuple[str | None, UnionRow | None, str]:
    """(key, row, note) for one lesion in one cohort, or (None, None, why) when no row fits."""
    s = stage.value
    if stage is CTStage.TERMINAL:  # pseudarthrosis: only pooled per-stage rows apply
        contra_is_lesion, contra_known = False, False
    elif contra_is_lesion and contra is not None:
        c = contra.value
        for row in cohort.rows:
            if row.laterality == "bilateral" and row.stage == s and row.contralateral == c:
                return f"bilateral {s}/{c}", row, ""
        for row in cohort.rows:
            if row.laterality == "bilateral" and row.stage == c and row.contralateral == s:
                return (f"bilateral {c}/{s}", row,
                        "pair listed with the more advanced side as the main side")
        for row in cohort.rows:
            if row.laterality == "bilateral" and row.stage == s and row.contralateral is None:
                return f"bilateral {s}", row, ""
    elif not contra_is_lesion and contra_known:
        for row in cohort.rows:
            if row.laterality == "unilateral" and row.stage == s:
                return f"unilateral {s}", row, ""
    for row in cohort.rows:
        if row.laterality == "any" and row.stage == s:
            note = "" if contra_known or stage is CTStage.TERMINAL else "contralateral pars not recorded"
            return f"{s} (all lesions)", row, note
    return None, None, "no row for this stage in this cohort"


def union_estimates(pars: ParsFinding, contra: ParsFinding | None, ruleset: Ruleset,
                    primary_cohort: str, adult: bool | None) -> tuple[tuple[UnionEstimate, ...], tuple[str, ...]]:
    stage = effective_stage(pars)
    if stage is None or not is_lesion(pars):
        return (), ()
    contra_is_lesion = contra is not None and is_lesion(contra)
    contra_stage = effective_stage(contra) if contra is not None and contra_is_lesion else None
    contra_known = contra is not None
    estimates = []
    cohorts = sorted(ruleset.cohorts, key=lambda c: (c.id != primary_cohort, c.id))
    for cohort in cohorts:
        if cohort.levels and pars.level.value not in cohort.levels:
            continue
        key, row, note = _lookup(cohort, stage, contra_stage, contra_is_lesion, contra_known)
        if row is None:
            continue
        notes = [n for n in (row.note, note) if n]
        estimates.append(UnionEstimate(
            cohort_id=cohort.id, cohort=f"{cohort.label} — {cohort.population}", key=str(key),
            rate_pct=row.rate_pct, counts=row.counts, primary=cohort.id == primary_cohort,
            note="; ".join(notes), citations=cohort.sources))
    modifiers = []
    if stage is CTStage.TERMINAL:
        modifiers.append("terminal stage: no bony union expected with conservative care (Morita 1995: 0 %)")
        return tuple(estimates), tuple(modifiers)
    if stage is CTStage.PROGRESSIVE:
        modifiers.append("progressive stage lowers union (JOSR 2023 OR 5.86 vs pre-lysis; Tatsumura 2021 OR 20.0)")
    if contra_stage is CTStage.TERMINAL:  # (this lesion is not terminal: returned above)
        modifiers.append("contralateral terminal pseudarthrosis: union unlikely (Eto 2021 26.1 %; Tatsumura 2021 OR 78.8)")
    if contra_is_lesion:
        modifiers.append("bilateral lesion: lower union than unilateral (PMID 33597077: 76 % vs 96 %)")
    if pars.level is Level.L5:
        modifiers.append("L5 level: adverse in Tatsumura 2021 (OR 175), not significant in JOSR 2023 — sources disagree")
    if pars.edema_present is False:
        modifiers.append("no marrow edema: edema-negative lesions heal less often (Sakai 2010)")
    if adult:
        modifiers.append("union cohorts are children/adolescents; applicability to adults is unknown")
    return tuple(estimates), tuple(modifiers)


def _value(stage: CTStage | None) -> str | None:
    return None if stage is None else stage.value


def _anterior_slip(lf: LevelFinding | None) -> bool:
    return lf is not None and lf.slip is not None and lf.slip.percent > 0 and lf.slip.direction is SlipDirection.ANTERIOR


def _wiltse(lf: LevelFinding | None, lesions: list[ParsFinding], level_pars: list[ParsFinding],
            adult: bool | None) -> tuple[str | None, str]:
    if lf is None or not _anterior_slip(lf):
        return None, ""
    if any(p.status.is_defect for p in lesions):
        return "II", ("isthmic (II); subtype IIA (lytic, fatigue fracture) is the usual form — IIB (elongated) "
                      "and IIC (acute fracture) cannot be told from these findings")
    if not level_pars:
        return None, "pars not recorded at this level: isthmic (II) vs degenerative (III) vs dysplastic (I) undetermined"
    if adult is False:
        return "I", ("slip without a pars defect in a child or adolescent: dysplastic (I) — not degenerative; "
                     "the degenerative-spondylolisthesis guideline does not apply")
    if lf.neural_arch_hypoplasia:
        return "I?", "no pars defect with a dysplastic neural arch: dysplastic (I) possible — confirm"
    if lf.disc_degenerated and adult:
        return "III", ("no pars defect with a degenerated disc in an adult: degenerative (III) — "
                       "the isthmic pathway does not apply")
    return None, "slip without a pars defect: dysplastic (I) or degenerative (III) — undetermined"


def _marchetti(lf: LevelFinding | None, lesions: list[ParsFinding], wiltse: str | None) -> tuple[str | None, str]:
    """Marchetti-Bartolozzi of a slip: developmental (dysplastic) vs acquired (clinical-reference 1.6)."""
    if lf is None or not _anterior_slip(lf):
        return None, ""
    if wiltse in ("I", "I?") or lf.neural_arch_hypoplasia or lf.spina_bifida_occulta:
        return "developmental (dysplastic)", ("high- vs low-dysplastic needs the L5 shape, sacral doming and "
                                              "lumbosacral kyphosis, which are not recorded")
    if any(p.status.is_defect for p in lesions):
        note = "isthmic defect without recorded dysplastic features"
        if lf.neural_arch_hypoplasia is None:
            note += " (neural arch not assessed: developmental not excluded)"
        return "acquired (stress fracture)", note
    if wiltse == "III":
        return "acquired (degenerative)", ""
    return None, ""


def _sdsg(lvl: Level, lf: LevelFinding | None, sp: SpinoPelvic | None, pi_high_deg: float) -> tuple[str | None, str]:
    """SDSG type of an L5-S1 slip (clinical-reference 1.5); PI cut-offs 45 / ``pi_high_deg``."""
    if lvl is not Level.L5 or lf is None or lf.slip is None or not _anterior_slip(lf):
        return None, ""
    pi = None if sp is None else sp.pelvic_incidence_deg
    ss = None if sp is None else sp.sacral_slope_deg
    pt = None if sp is None else sp.pelvic_tilt_deg
    notes = []
    if pi is not None and ss is not None and pt is not None and abs(pi - (pt + ss)) > PI_IDENTITY_TOLERANCE_DEG:
        notes.append(f"PI {pi:.0f} differs from PT + SS {pt + ss:.0f} by more than "
                     f"{PI_IDENTITY_TOLERANCE_DEG:g} degrees: re-measure")
    if lf.slip.percent <= 50.0:
        if pi is None:
            return None, "low-grade slip: SDSG type 1-3 needs the pelvic incidence"
        t = "1" if pi < SDSG_PI_LOW_DEG else ("2" if pi <= pi_high_deg else "3")
        name = {"1": "nutcracker", "2": "normal PI", "3": "shearing"}[t]
        near = [c for c in (SDSG_PI_LOW_DEG, pi_high_deg) if abs(pi - c) <= SDSG_UNCERTAIN_DEG]
        notes.insert(0, f"low grade, PI {pi:.0f} degrees: type {t} ({name})")
        if near:
            notes.append(f"PI within {SDSG_UNCERTAIN_DEG:g} degrees of the {near[0]:g}-degree cut-off: type uncertain")
        return t, "; ".join(notes)
    if ss is None or pt is None:
        return "4-6", "; ".join(["high grade: type 4 (balanced) vs 5-6 (retroverted) needs sacral slope and pelvic tilt", *notes])
    balanced = ss > pt
    notes.insert(0, f"high grade, SS {ss:.0f} / PT {pt:.0f} degrees: "
                 + ("type 4 (balanced sacro-pelvis) suggested" if balanced else "type 5-6 (retroverted sacro-pelvis) suggested")
                 + " by the SS > PT shortcut — the Hresko discriminant is not encoded; the reader decides"
                 + ("" if balanced else "; 5 vs 6 needs the C7 plumb line"))
    return ("4" if balanced else "5-6"), "; ".join(notes)


def _instability_text(lf: LevelFinding | None, s: Mapping[str, Any]) -> str:
    m = None if lf is None else lf.instability_measured
    if m is None:
        return ""
    parts = []
    if m.translation_mm is not None:
        parts.append(f"translation {m.translation_mm:.1f} mm")
    if m.translation_pct is not None:
        parts.append(f"{m.translation_pct:.0f} % of the endplate")
    if m.angulation_deg is not None:
        parts.append(f"angulation {m.angulation_deg:.0f} degrees")
    verdict = measured_unstable((m.translation_mm, m.translation_pct, m.angulation_deg),
                                s["instability_translation_mm"], s["instability_translation_pct"],
                                s["instability_angulation_deg"])
    word = {True: "unstable", False: "stable", None: "incomplete measurement"}[verdict]
    limits = (f"limits {s['instability_translation_mm']:g} mm / {s['instability_translation_pct']:g} % / "
              f"{s['instability_angulation_deg']:g} degrees")
    return f"flexion-extension: {', '.join(parts) or 'no value'} — {word} ({limits})"


_SOURCE_TEXT = {"reader": "", "CT read": "", "derived from MRI": " (from MRI, approximate)", "derived": " (derived)"}


def _describe_side(p: ParsFinding) -> str:
    act = {"active": "active ", "chronic": "chronic ", "unknown": ""}[_activity(p)]
    stage = effective_stage(p)
    text = f"{act}{_STATUS_TEXT[p.status]}"
    if p.status is ParsStatus.INTACT and p.edema_present:
        text = "active marrow edema, intact cortex"
    if p.status.is_defect and p.cross_sectional_confirmation is False:
        text = f"suspected {text} (radiographs only)"
    if stage is not None:
        text += f", {stage.value}" + _SOURCE_TEXT[stage_source(p)]
    if p.edema_present is None and p.status not in (ParsStatus.STRESS_REACTION,):
        text += ", edema not assessed"
    return text


def stage_levels(facts: Facts, ruleset: Ruleset, settings: Mapping[str, Any], adult: bool | None) -> tuple[LevelStage, ...]:
    f = facts.findings
    primary_cohort = str(settings.get("union_primary_cohort", ""))
    levels = sorted({p.level for p in f.pars}
                    | {lv.level for lv in f.levels if lv.slip is not None or lv.instability_measured is not None},
                    key=lambda lv: list(Level).index(lv))
    out = []
    for lvl in levels:
        level_pars = [p for p in f.pars if p.level is lvl]
        lesions = [p for p in level_pars if is_lesion(p)]
        lf = f.level(lvl)
        sides = sorted({p.side.value for p in lesions})
        laterality = "bilateral" if len(sides) == 2 else (sides[0] if sides else "none")
        pars_stages = []
        for p in sorted(level_pars, key=lambda p: p.side.value):
            contra = f.pars_at(lvl, p.side.other)
            union, mods = union_estimates(p, contra, ruleset, primary_cohort, adult)
            pars_stages.append(ParsStage(
                level=lvl.value, side=p.side.value, status=p.status.value, activity=_activity(p),
                mri_grade=p.mri_grade, ang_grade=ang_grade(p.status, p.edema_present),
                ct_stage=_value(effective_stage(p)),
                ct_stage_source=stage_source(p),
                contralateral_status=None if contra is None else contra.status.value,
                contralateral_ct_stage=None if contra is None else _value(effective_stage(contra)),
                union=union, union_modifiers=mods))
        # summary line
        if not lesions:
            summary = f"{lvl.value}: no pars lesion" if level_pars else f"{lvl.value}: pars not recorded"
        elif len(lesions) == 2 and _describe_side(lesions[0]) == _describe_side(lesions[1]):
            summary = f"{lvl.value} bilateral {_describe_side(lesions[0])}"
        else:
            by_stage = sorted(lesions, key=lambda p: -_stage_rank(effective_stage(p)))
            parts = [f"{p.side.value} {_describe_side(p)}" for p in by_stage]
            summary = f"{lvl.value} " + "; ".join(parts)
            if len(lesions) == 1:
                contra = f.pars_at(lvl, lesions[0].side.other)
                summary += "; contralateral intact" if contra is not None else "; contralateral not recorded"
        slip_pct = grade = angle = None
        near = False
        if lf is not None and lf.slip is not None:
            slip_pct = lf.slip.percent
            g = lf.slip.grade
            grade = None if g is None else g.value
            near = lf.slip.near_boundary and slip_pct > 0
            angle = lf.slip.slip_angle_deg
            if grade is not None:
                kind = "anterolisthesis" if lf.slip.direction is SlipDirection.ANTERIOR else "retrolisthesis"
                summary += f"; Meyerding grade {grade} {kind} (Taillard index {slip_pct:.0f} %)"
                if near:
                    summary += " (near a grade boundary)"
                if angle is not None:
                    summary += f", slip angle {angle:.0f} degrees"
        wiltse, wnote = _wiltse(lf, lesions, level_pars, adult)
        if wiltse:
            summary += f"; Wiltse type {wiltse}"
        marchetti, mnote = _marchetti(lf, lesions, wiltse)
        if marchetti:
            summary += f"; Marchetti-Bartolozzi {marchetti}"
        sdsg, snote = _sdsg(lvl, lf, f.spinopelvic, float(settings["sdsg_pi_high_deg"]))
        if sdsg:
            summary += f"; SDSG type {sdsg}"
        instability = _instability_text(lf, settings)
        out.append(LevelStage(level=lvl.value, laterality=laterality, summary=summary, slip_pct=slip_pct,
                              meyerding=grade, near_meyerding_boundary=near, slip_angle_deg=angle,
                              wiltse_type=wiltse, wiltse_note=wnote, pars=tuple(pars_stages),
                              taillard_pct=None if slip_pct is None else round(slip_pct, 1),
                              marchetti_bartolozzi=marchetti, marchetti_note=mnote, sdsg_type=sdsg, sdsg_note=snote,
                              instability=instability))
    return tuple(out)
