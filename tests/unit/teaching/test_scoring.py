"""Scoring: a perfect read scores 100 %; each error class costs its documented penalty and is
named in the explanation. Reads are built from the sample generator's reference reads."""

from __future__ import annotations

import dataclasses

import pytest

from app.findings import model as fm
from app.pathway import evaluate, load_ruleset
from app.samples.cases import case_by_number
from app.samples.generate import reference_read
from app.teaching.scoring import Penalties, ScoringConfig, score_read

P = Penalties()
L3, L4, L5 = fm.Level.L3, fm.Level.L4, fm.Level.L5
LEFT, RIGHT = fm.Side.LEFT, fm.Side.RIGHT


def _ref(n: int) -> fm.StudyFindings:
    return reference_read(case_by_number(n))


def _with_pars(read: fm.StudyFindings, *entries: fm.ParsFinding) -> fm.StudyFindings:
    return dataclasses.replace(read, pars=tuple(entries))


def _replace_pars(read, level, side, **changes):
    return dataclasses.replace(read, pars=tuple(
        dataclasses.replace(p, **changes) if (p.level, p.side) == (level, side) else p for p in read.pars))


def _drop(read, level, side):
    return dataclasses.replace(read, pars=tuple(p for p in read.pars if (p.level, p.side) != (level, side)))


def _charged(result):
    return {(i.outcome, i.key): i.penalty for i in result.errors()}


def _drop_equals_penalties(result):
    """The score is 100 minus exactly the penalties of the items that went wrong."""
    assert result.score_pct == pytest.approx(max(0.0, 100 - sum(i.penalty for i in result.errors())))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_the_reference_read_scores_100(n):
    ref = _ref(n)
    res = score_read(ref, ref)
    assert res.score_pct == 100.0
    assert res.errors() == ()
    assert res.reference_tier == res.trainee_tier


def test_missed_defect_costs_its_penalty_and_is_named():
    ref = _ref(5)  # L4 left incomplete + edema, L4 right chronic non-union
    res = score_read(_drop(ref, L4, RIGHT), ref, with_pathway=False)
    assert _charged(res) == {("missed", "pars L4 right"): P.missed_lesion}
    assert res.score_pct == 100 - P.missed_lesion
    assert "Missed defect at L4 right" in res.errors()[0].explanation


def test_false_positive_costs_its_penalty():
    ref = _ref(1)  # normal
    trainee = _replace_pars(ref, L5, LEFT, status=fm.ParsStatus.CHRONIC_NONUNION, gap_mm=3.0)
    res = score_read(trainee, ref, with_pathway=False)
    assert _charged(res) == {("false_positive", "pars L5 left"): P.false_positive}
    assert res.score_pct == 100 - P.false_positive
    assert "False positive at L5 left" in res.errors()[0].explanation


def test_adjacent_stage_is_partial_credit():
    ref = _ref(3)  # bilateral L5 complete fracture with edema
    trainee = _replace_pars(ref, L5, LEFT, status=fm.ParsStatus.INCOMPLETE_FRACTURE, gap_mm=1.2)
    res = score_read(trainee, ref, with_pathway=False)
    assert _charged(res) == {("partial", "pars L5 left"): P.adjacent_stage}
    assert res.score_pct == 100 - P.adjacent_stage
    assert "Adjacent stage at L5 left" in res.errors()[0].explanation
    assert res.skill_pct()["pars"] == 75.0  # one correct side, one half credit
    # the Hollenberg grade follows from the stage error and is shown, not charged twice
    follows = [i for i in res.items if i.outcome == "follows" and i.key == "MRI grade L5 left"]
    assert follows and follows[0].penalty == 0


def test_stage_two_apart_is_a_wrong_stage():
    ref = _ref(3)
    trainee = _replace_pars(ref, L5, RIGHT, status=fm.ParsStatus.STRESS_REACTION, gap_mm=None)
    res = score_read(trainee, ref, with_pathway=False)
    assert _charged(res) == {("wrong_stage", "pars L5 right"): P.wrong_stage}


def test_wrong_level_is_named_once_not_as_a_miss_plus_a_false_positive():
    ref = _ref(3)  # bilateral L5
    moved = tuple(dataclasses.replace(p, level=L4) for p in ref.pars)
    res = score_read(dataclasses.replace(ref, pars=moved), ref, with_pathway=False)
    outcomes = {i.outcome for i in res.errors()}
    assert outcomes == {"wrong_level"}
    assert len(res.errors()) == 2  # left and right
    assert res.score_pct == 100 - 2 * P.wrong_level
    assert all("Wrong level" in i.explanation and "L4" in i.explanation and "L5" in i.explanation for i in res.errors())
    assert res.skill_pct()["levels"] == 0.0
    # oedema is compared on the moved entries: detected, not missed
    assert res.edema_sensitivity == 1.0


def test_missed_edema_lowers_sensitivity_and_costs_its_penalty():
    ref = _ref(3)
    trainee = _replace_pars(ref, L5, LEFT, edema=fm.Edema(present=False))
    res = score_read(trainee, ref, with_pathway=False)
    charged = _charged(res)
    assert charged[("missed", "edema L5 left")] == P.missed_edema
    assert len(charged) == 1  # the Hollenberg grade change (3 -> 4) follows and is not charged again
    assert res.edema_sensitivity == 0.5
    assert "Missed marrow oedema at L5 left" in res.errors()[0].explanation


def test_false_edema_lowers_specificity():
    ref = _ref(4)  # chronic, no oedema
    trainee = _replace_pars(ref, L5, RIGHT, edema=fm.Edema(present=True, sites=frozenset({fm.EdemaSite.PARS})))
    res = score_read(trainee, ref, with_pathway=False)
    assert _charged(res) == {("false_positive", "edema L5 right"): P.false_edema}
    assert res.edema_specificity == 0.5


def test_grade_override_disagreement_is_charged_when_nothing_else_explains_it():
    ref = _ref(3)
    trainee = _replace_pars(ref, L5, LEFT, mri_grade_override=4)
    res = score_read(trainee, ref, with_pathway=False)
    assert _charged(res) == {("disagree", "MRI grade L5 left"): P.mri_grade}


def _with_slip(read, level, percent):
    levels = (
        *tuple(lv for lv in read.levels if lv.level is not level),
        fm.LevelFinding(level=level, slip=fm.Slip(percent=percent)),
    )
    return dataclasses.replace(read, levels=levels)


def test_slip_within_tolerance_agrees_and_beyond_tolerance_costs():
    ref = _ref(6)  # 35 % slip (Meyerding II)
    pct = ref.levels[-1].slip.percent
    tol = ScoringConfig().slip_tolerance_pct
    ok = score_read(_with_slip(ref, L5, pct + tol - 0.5), ref, with_pathway=False)
    assert ok.score_pct == 100.0
    off = score_read(_with_slip(ref, L5, pct + tol + 3.0), ref, with_pathway=False)
    charged = _charged(off)
    assert charged[("out_of_tolerance", "slip L5")] == P.slip_error
    assert "off by" in next(i for i in off.errors() if i.key == "slip L5").explanation
    _drop_equals_penalties(off)


def test_slip_grade_disagreement_is_charged_beyond_the_boundary():
    ref = _ref(6)
    res = score_read(_with_slip(ref, L5, 60.0), ref, with_pathway=False)  # Meyerding III against II
    assert _charged(res) == {("out_of_tolerance", "slip L5"): P.slip_error,
                             ("disagree", "Meyerding L5"): P.slip_grade}


def test_tolerance_is_configurable():
    ref = _ref(6)
    pct = ref.levels[-1].slip.percent
    strict = ScoringConfig.with_overrides({"slip_tolerance_pct": 1.0, "slip_error": 12})
    res = score_read(_with_slip(ref, L5, pct + 3.0), ref, strict, with_pathway=False)
    assert _charged(res) == {("out_of_tolerance", "slip L5"): 12.0}
    with pytest.raises(ValueError, match="unknown scoring setting"):
        ScoringConfig.with_overrides({"nonsense": 1})


def test_missed_and_false_slip():
    ref = _ref(6)
    no_slip = dataclasses.replace(ref, levels=tuple(dataclasses.replace(lv, slip=None) for lv in ref.levels))
    assert _charged(score_read(no_slip, ref, with_pathway=False)) == {("missed", "slip L5"): P.missed_slip}
    assert _charged(score_read(ref, no_slip, with_pathway=False)) == {("false_positive", "slip L5"): P.false_slip}


def test_pathway_tier_change_is_named_in_words():
    ref = _ref(6)  # grade II slip, failed conservative care, radicular pain
    normal = dataclasses.replace(ref, pars=tuple(dataclasses.replace(p, status=fm.ParsStatus.INTACT, gap_mm=None,
                                                                    sclerotic_margins=None) for p in ref.pars),
                                 levels=tuple(dataclasses.replace(lv, slip=None) for lv in ref.levels))
    ruleset = load_ruleset()
    ref_tier = evaluate(ref, ruleset).tier
    trn_tier = evaluate(dataclasses.replace(normal, context=ref.context, imaging=ref.imaging), ruleset).tier
    assert ref_tier != trn_tier  # precondition from the rules, not from the scorer
    res = score_read(normal, ref)
    tier_items = [i for i in res.items if i.skill == "pathway"]
    assert tier_items[0].outcome == "tier_change" and tier_items[0].penalty == P.tier_change
    assert "Your read would have led to" in tier_items[0].explanation
    assert (res.reference_tier, res.trainee_tier) == (ref_tier, trn_tier)
    _drop_equals_penalties(res)


def test_score_never_goes_below_zero():
    ref = _ref(6)
    worst = dataclasses.replace(ref, pars=(), levels=())
    res = score_read(worst, ref, ScoringConfig(Penalties(missed_lesion=60)), with_pathway=False)
    assert res.score_pct == 0.0


def test_a_radiograph_only_read_is_not_charged_for_a_missing_ct_stage():
    from app.findings import model as fm
    from app.teaching.scoring import score_read

    ref = fm.StudyFindings(pars=(fm.ParsFinding(fm.Level.L5, fm.Side.LEFT, fm.ParsStatus.COMPLETE_FRACTURE,
                                                read_on=frozenset({fm.ImagingModality.CT})),))
    trainee = fm.StudyFindings(pars=(fm.ParsFinding(fm.Level.L5, fm.Side.LEFT, fm.ParsStatus.COMPLETE_FRACTURE,
                                                    read_on=frozenset({fm.ImagingModality.RADIOGRAPH})),))
    result = score_read(trainee, ref, with_pathway=False)
    assert result.score_pct == 100.0
    (item,) = [i for i in result.items if i.key.startswith("CT stage")]
    assert item.outcome == "not_staged" and "radiographs only" in item.explanation
