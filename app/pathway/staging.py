"""Stage per level and side, Meyerding and Wiltse type, one-line summaries, and the cohort
union rates for each lesion (display only: never a prediction, never used to decide)."""

from __future__ import annotations

from typing import Optional

from app.findings.model import CTStage, Level, LevelFinding, ParsFinding, ParsStatus, SlipDirection, ang_grade
from app.pathway.facts import CT_STAGE_ORDER, Facts, is_lesion
from app.pathway.result import LevelStage, ParsStage, UnionEstimate
from app.pathway.rules import Cohort, Ruleset

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


def _stage_rank(stage: Optional[CTStage]) -> int:
    return -1 if stage is None else CT_STAGE_ORDER.index(stage)


def _lookup(cohort: Cohort, stage: CTStage, contra: Optional[CTStage], contra_is_lesion: bool,
            contra_known: bool) -> tuple[Optional[str], Optional[object], str]:
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


def union_estimates(pars: ParsFinding, contra: Optional[ParsFinding], ruleset: Ruleset,
                    primary_cohort: str, adult: Optional[bool]) -> tuple[tuple[UnionEstimate, ...], tuple[str, ...]]:
    stage = pars.ct_stage
    if stage is None or not is_lesion(pars):
        return (), ()
    contra_is_lesion = contra is not None and is_lesion(contra)
    contra_stage = contra.ct_stage if contra_is_lesion else None
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
    if contra_stage is CTStage.TERMINAL and stage is not CTStage.TERMINAL:
        modifiers.append("contralateral terminal pseudarthrosis: union unlikely (Eto 2021 26.1 %; Tatsumura 2021 OR 78.8)")
    if contra_is_lesion:
        modifiers.append("bilateral lesion: lower union than unilateral (PMID 33597077: 76 % vs 96 %)")
    if pars.level is Level.L5:
        modifiers.append("L5 level: adverse in Tatsumura 2021 (OR 175), not significant in JOSR 2023 — sources disagree")
    if pars.edema_present is False and stage is not CTStage.TERMINAL:
        modifiers.append("no marrow edema: edema-negative lesions heal less often (Sakai 2010)")
    if adult:
        modifiers.append("union cohorts are children/adolescents; applicability to adults is unknown")
    return tuple(estimates), tuple(modifiers)


def _wiltse(lf: Optional[LevelFinding], lesions: list[ParsFinding], level_pars: list[ParsFinding]) -> tuple[Optional[str], str]:
    if lf is None or lf.slip is None or lf.slip.percent <= 0 or lf.slip.direction is not SlipDirection.ANTERIOR:
        return None, ""
    if any(p.status.is_defect for p in lesions):
        return "II", ("isthmic (II); subtype IIA (lytic, fatigue fracture) is the usual form — IIB (elongated) "
                      "and IIC (acute fracture) cannot be told from these findings")
    if not level_pars:
        return None, "pars not recorded at this level: isthmic (II) vs degenerative (III) vs dysplastic (I) undetermined"
    if lf.neural_arch_hypoplasia:
        return "I?", "no pars defect with a dysplastic neural arch: dysplastic (I) possible — confirm"
    if lf.disc_degenerated:
        return "III", "no pars defect with a degenerated disc: degenerative (III) — the isthmic pathway does not apply"
    return None, "slip without a pars defect: dysplastic (I) or degenerative (III) — undetermined"


def _describe_side(p: ParsFinding) -> str:
    act = {"active": "active ", "chronic": "chronic ", "unknown": ""}[_activity(p)]
    stage = p.ct_stage
    text = f"{act}{_STATUS_TEXT[p.status]}"
    if p.status is ParsStatus.INTACT and p.edema_present:
        text = "active marrow edema, intact cortex"
    if stage is not None:
        text += f", {stage.value}" + ("" if p.ct_stage_override is not None else " (derived)")
    if p.edema_present is None and p.status not in (ParsStatus.STRESS_REACTION,):
        text += ", edema not assessed"
    return text


def stage_levels(facts: Facts, ruleset: Ruleset, primary_cohort: str, adult: Optional[bool]) -> tuple[LevelStage, ...]:
    f = facts.findings
    levels = sorted({p.level for p in f.pars} | {lv.level for lv in f.levels if lv.slip is not None},
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
                ct_stage=None if p.ct_stage is None else p.ct_stage.value,
                ct_stage_source="reader" if p.ct_stage_override is not None else ("derived" if p.ct_stage else "none"),
                contralateral_status=None if contra is None else contra.status.value,
                contralateral_ct_stage=None if contra is None or contra.ct_stage is None else contra.ct_stage.value,
                union=union, union_modifiers=mods))
        # summary line
        if not lesions:
            summary = f"{lvl.value}: no pars lesion" if level_pars else f"{lvl.value}: pars not recorded"
        elif len(lesions) == 2 and _describe_side(lesions[0]) == _describe_side(lesions[1]):
            summary = f"{lvl.value} bilateral {_describe_side(lesions[0])}"
        else:
            parts = [f"{p.side.value} {_describe_side(p)}" for p in sorted(lesions, key=lambda p: -_stage_rank(p.ct_stage))]
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
                summary += f"; Meyerding grade {grade} {kind} {slip_pct:g} %"
                if near:
                    summary += " (near a grade boundary)"
        wiltse, wnote = _wiltse(lf, lesions, level_pars)
        if wiltse:
            summary += f"; Wiltse type {wiltse}"
        out.append(LevelStage(level=lvl.value, laterality=laterality, summary=summary, slip_pct=slip_pct,
                              meyerding=grade, near_meyerding_boundary=near, slip_angle_deg=angle,
                              wiltse_type=wiltse, wiltse_note=wnote, pars=tuple(pars_stages)))
    return tuple(out)
