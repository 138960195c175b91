"""Every rule fires on a minimal input and does not fire on a near-miss (one fact changed)."""

from __future__ import annotations

import pytest
from pathway_builders import SURGICAL_CONTEXT, active_l5, chronic_l5, ruleset

from app.pathway import evaluate
from app.pathway.examples import build

L5_INTACT = [("L5", "left", "intact", False, None), ("L5", "right", "intact", False, None)]
L5_OK = dict(level="L5", slip=10, pfirrmann=2, hypoplasia=False, instability=False, stenosis="none")
L5_NO_SLIP = dict(level="L5", pfirrmann=2, hypoplasia=False, instability=False, stenosis="none")
MR_ONLY = ("MR",)
RADIOGRAPH = ("radiograph",)


def _surg(**over):
    ctx = {**SURGICAL_CONTEXT, "age_years": 22, **over}
    lv = ctx.pop("levels", [L5_OK])
    return chronic_l5(levels=lv, **ctx)


# rule id -> (fires on, does not fire on)
CASES = {
    "RF-1-cauda-equina": (lambda: build(cauda_equina_symptoms=True), lambda: build(cauda_equina_symptoms=False)),
    "RF-1-progressive-deficit": (lambda: build(neuro_deficit="progressive"), lambda: build(neuro_deficit="stable")),
    "RF-2-slip-progression": (lambda: chronic_l5(slip_progression=True, age_years=40),
                              lambda: chronic_l5(slip_progression=True, age_years=14)),
    "RF-2-progression-growing": (lambda: chronic_l5(slip_progression=True, age_years=14),
                                 lambda: chronic_l5(slip_progression=True, age_years=40)),
    "RF-2-high-grade-growing": (
        lambda: chronic_l5(levels=[dict(level="L5", slip=50.5)], age_years=13),
        lambda: chronic_l5(levels=[dict(level="L5", slip=50.0)], age_years=13)),
    "RF-2-spondyloptosis": (lambda: chronic_l5(levels=[dict(level="L5", slip=100.5)], age_years=40),
                            lambda: chronic_l5(levels=[dict(level="L5", slip=100.0)], age_years=40)),
    "RF-2-high-grade-slip": (
        lambda: chronic_l5(levels=[dict(level="L5", slip=50.5)], age_years=40, skeletally_mature=True),
        lambda: chronic_l5(levels=[dict(level="L5", slip=50.0)], age_years=40, skeletally_mature=True)),
    "RF-stable-deficit": (lambda: build(neuro_deficit="stable"), lambda: build(neuro_deficit="none")),
    "MG-0-symptomatic-lesion": (lambda: active_l5(symptomatic=True), lambda: active_l5(symptomatic=False)),
    "MG-active-lesion": (lambda: active_l5(), lambda: chronic_l5()),
    "MG-1-active-lesion-growing": (lambda: active_l5(age_years=14, symptomatic=True),
                                   lambda: active_l5(age_years=19, symptomatic=True)),
    "MG-1-active-lesion-adult": (lambda: active_l5(age_years=19, symptomatic=True),
                                 lambda: active_l5(age_years=18, symptomatic=True)),
    "MG-3-chronic-lesion": (lambda: chronic_l5(symptomatic=True), lambda: chronic_l5(symptomatic=False)),
    "MG-activity-unknown": (
        lambda: build([("L5", "left", "complete_fracture", None, None)], symptomatic=True),
        lambda: build([("L5", "left", "complete_fracture", False, None)], symptomatic=True)),
    "MG-4-flexion-not-extension": (lambda: chronic_l5(symptomatic=True), lambda: build(L5_INTACT, symptomatic=True)),
    "MG-2-contralateral-terminal": (
        lambda: build([("L4", "right", "complete_fracture", True, "early"), ("L4", "left", "chronic_nonunion", False, "terminal")]),
        lambda: build([("L4", "right", "complete_fracture", True, "early"), ("L4", "left", "complete_fracture", True, "early")])),
    "MG-2-unilateral-progressive-l5": (
        lambda: build([("L5", "right", "complete_fracture", True, "progressive"), ("L5", "left", "intact", False, None)]),
        lambda: build([("L4", "right", "complete_fracture", True, "progressive"), ("L4", "left", "intact", False, None)])),
    "PIT-athlete": (lambda: chronic_l5(athlete=True), lambda: chronic_l5(athlete=False)),
    "PIT-competitive-athlete": (lambda: chronic_l5(sport_level="competitive"), lambda: chronic_l5(sport_level="recreational")),
    "PIT-female-growing-slip": (lambda: chronic_l5(sex="F", age_years=13), lambda: chronic_l5(sex="M", age_years=13)),
    "SV-1-growing-slip-surveillance": (lambda: chronic_l5(age_years=14), lambda: chronic_l5(age_years=19)),
    "PIT-high-pi-growing": (
        lambda: build(levels=[dict(level="L5", slip=20)], spinopelvic=dict(pelvic_incidence_deg=60.5), age_years=12),
        lambda: build(levels=[dict(level="L5", slip=20)], spinopelvic=dict(pelvic_incidence_deg=60.0), age_years=12)),
    "PIT-1-incidental": (lambda: chronic_l5(symptomatic=False), lambda: active_l5(symptomatic=False)),
    "PIT-asymptomatic-active": (lambda: active_l5(symptomatic=False), lambda: chronic_l5(symptomatic=False)),
    "PIT-symptoms-unknown": (lambda: chronic_l5(), lambda: chronic_l5(pain_vas=3)),
    "NL-no-lesion": (lambda: build(L5_INTACT), lambda: active_l5()),
    "NL-no-lesion-asymptomatic": (lambda: build(L5_INTACT, symptomatic=False), lambda: build(L5_INTACT)),
    "NL-no-lesion-symptomatic": (lambda: build(L5_INTACT, symptomatic=True), lambda: build(L5_INTACT, symptomatic=False)),
    "MG-radicular-gabapentinoid": (lambda: chronic_l5(symptomatic=True, radicular_symptoms=True),
                                   lambda: chronic_l5(symptomatic=True, radicular_symptoms=False)),
    "MG-5-pars-injection": (
        lambda: chronic_l5(age_years=40, symptomatic=True, conservative_care_months=3, pars_block="not_done"),
        lambda: chronic_l5(age_years=40, symptomatic=True, conservative_care_months=2.9, pars_block="not_done")),
    "MG-radicular-esi": (
        lambda: chronic_l5(levels=[dict(level="L5", slip=10, stenosis="mild")], symptomatic=True,
                           radicular_symptoms=True, conservative_care_months=3),
        lambda: chronic_l5(levels=[dict(level="L5", slip=10, stenosis="none")], symptomatic=True,
                           radicular_symptoms=True, conservative_care_months=3)),
    "SX-diagnostic-block": (
        lambda: chronic_l5(levels=[L5_NO_SLIP], symptomatic=True, conservative_care_months=6, disabling_pain=True,
                           pars_block="not_done", radicular_symptoms=False, age_years=30),
        lambda: chronic_l5(levels=[L5_NO_SLIP], symptomatic=True, conservative_care_months=6, disabling_pain=True,
                           pars_block="positive", radicular_symptoms=False, age_years=30)),
    "SX-block-negative": (
        lambda: chronic_l5(levels=[L5_NO_SLIP], pars_block="negative", radicular_symptoms=False, age_years=30),
        lambda: chronic_l5(levels=[L5_OK], pars_block="negative", age_years=30)),
    "SX-block-negative-segment": (
        lambda: chronic_l5(levels=[L5_OK], pars_block="negative", age_years=30),
        lambda: chronic_l5(levels=[L5_NO_SLIP], pars_block="negative", radicular_symptoms=False, age_years=30)),
    "SX-1-surgical-evaluation": (lambda: _surg(), lambda: _surg(conservative_care_months=5.9)),
    "SX-2-direct-repair": (lambda: _surg(age_years=22), lambda: _surg(age_years=26)),
    "SX-3-fusion": (lambda: _surg(age_years=40), lambda: _surg(age_years=22)),
    "SX-3-decompression-and-fusion": (
        lambda: _surg(age_years=40, radicular_symptoms=True),
        lambda: _surg(age_years=40, radicular_symptoms=True, levels=[{**L5_OK, "slip": 0}])),
    "SX-before-threshold": (
        lambda: chronic_l5(symptomatic=True, disabling_pain=True, conservative_care_months=2),
        lambda: chronic_l5(symptomatic=True, disabling_pain=True, conservative_care_months=6)),
    "SX-declines-surgery": (lambda: chronic_l5(wishes_surgery=False), lambda: chronic_l5(wishes_surgery=True)),
    "IM-3-ct-staging": (lambda: active_l5(age_years=14, symptomatic=True, stage=None),
                        lambda: active_l5(age_years=14, symptomatic=True, stage="pre-lysis")),
    "IM-3-stage-on-existing-ct": (lambda: active_l5(stage=None, imaging=dict(ct=True)),
                                  lambda: active_l5(stage=None, imaging=dict(ct=False))),
    "IM-3-mri-edema-unknown": (lambda: build([("L5", "left", "complete_fracture", None, None)]),
                               lambda: build([("L5", "left", "complete_fracture", None, None)], imaging=dict(mri=True))),
    "IM-3-edema-on-existing-mri": (lambda: build([("L5", "left", "complete_fracture", None, None)], imaging=dict(mri=True)),
                                   lambda: build([("L5", "left", "complete_fracture", None, None)])),
    "IM-3-mri-no-edema-assessment": (
        lambda: build([("L5", "left", "intact", None, None), ("L5", "right", "intact", None, None)], symptomatic=True),
        lambda: build(L5_INTACT, symptomatic=True)),
    "IM-2-pars-not-assessed": (lambda: build(), lambda: build(L5_INTACT)),
    "IM-2-read-existing-imaging": (lambda: build(imaging=dict(radiographs=True)), lambda: build(imaging=dict(radiographs=False))),
    "IM-2-obtain-mri": (lambda: build(symptomatic=True), lambda: build(symptomatic=True, imaging=dict(mri=True))),
    "IM-2-obtain-radiographs": (lambda: build(symptomatic=True), lambda: build(symptomatic=True, imaging=dict(radiographs=True))),
    "IM-confirm-radiograph-only": (lambda: chronic_l5(read_on=RADIOGRAPH), lambda: chronic_l5(read_on=RADIOGRAPH, imaging=dict(ct=True))),
    "IM-confirm-on-existing-ct": (lambda: chronic_l5(read_on=RADIOGRAPH, imaging=dict(ct=True)),
                                  lambda: chronic_l5(read_on=MR_ONLY, imaging=dict(ct=True))),
    "PIT-defect-radiograph-only": (lambda: chronic_l5(read_on=RADIOGRAPH), lambda: chronic_l5(read_on=())),
    "IM-2-slip-unmeasured": (lambda: chronic_l5(levels=[]), lambda: chronic_l5(levels=[dict(level="L5")])),
    "IM-2-dynamic-views": (lambda: chronic_l5(levels=[dict(level="L5", slip=20)], age_years=35),
                           lambda: chronic_l5(levels=[dict(level="L5", slip=20, instability=False)], age_years=35)),
    "IM-2-read-dynamic-views": (lambda: chronic_l5(levels=[dict(level="L5", slip=20)], imaging=dict(flexion_extension=True)),
                                lambda: chronic_l5(levels=[dict(level="L5", slip=20, instability=True)],
                                                   imaging=dict(flexion_extension=True))),
    "PIT-2-hypoplasia": (lambda: chronic_l5(levels=[{**L5_OK, "hypoplasia": True}]),
                         lambda: chronic_l5(levels=[{**L5_OK, "hypoplasia": False}])),
    "PIT-2-smoking": (lambda: chronic_l5(smoking=True), lambda: chronic_l5(smoking=False)),
    "PIT-2-depression": (lambda: chronic_l5(depression_or_chronic_pain=True), lambda: chronic_l5(depression_or_chronic_pain=False)),
    "PIT-2-expectations": (lambda: chronic_l5(realistic_expectations=False), lambda: chronic_l5(realistic_expectations=True)),
    "PIT-mismatch": (lambda: chronic_l5(pain_concordant_with_imaging=False), lambda: chronic_l5(pain_concordant_with_imaging=True)),
    "PIT-non-isthmic-slip": (
        lambda: build([("L4", "left", "intact", False, None), ("L4", "right", "intact", False, None)], [dict(level="L4", slip=15)], age_years=60),
        lambda: build([("L4", "left", "intact", False, None), ("L4", "right", "intact", False, None)], [dict(level="L4", slip=15)], age_years=12)),
    "PIT-dysplastic-slip-growing": (
        lambda: build([("L4", "left", "intact", False, None), ("L4", "right", "intact", False, None)], [dict(level="L4", slip=15)], age_years=12),
        lambda: build([("L4", "left", "intact", False, None), ("L4", "right", "intact", False, None)], [dict(level="L4", slip=15)], age_years=60)),
    "PIT-near-boundary": (lambda: chronic_l5(levels=[dict(level="L5", slip=22.0)]),
                          lambda: chronic_l5(levels=[dict(level="L5", slip=21.9)])),
    "PIT-bilateral-slip-risk": (lambda: chronic_l5(),
                                lambda: build([("L5", "left", "chronic_nonunion", False, "terminal"), ("L5", "right", "intact", False, None)])),
    "PIT-ct-stage-derived": (lambda: build([("L5", "left", "complete_fracture", True, None)]),
                             lambda: build([("L5", "left", "complete_fracture", True, "early")])),
}


def test_every_rule_has_a_case():
    ids = {r.id for r in ruleset().rules}
    assert ids == set(CASES), f"rules without a test case: {sorted(ids - set(CASES))}; stale cases: {sorted(set(CASES) - ids)}"


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_minimal_input(rule_id):
    fires, _ = CASES[rule_id]
    result = evaluate(fires(), ruleset())
    assert result.rule_outcome(rule_id) == "fired", [t for t in result.trace if t.rule_id == rule_id]
    rule = ruleset().rule(rule_id)
    ids = set(result.recommendation_ids)
    assert set(rule.recommend) <= ids
    assert set(rule.cautions) <= {c.id for c in result.cautions}
    assert set(rule.red_flags) <= {c.id for c in result.red_flags}


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_does_not_fire_on_near_miss(rule_id):
    _, near = CASES[rule_id]
    result = evaluate(near(), ruleset())
    assert result.rule_outcome(rule_id) != "fired"


def test_high_slip_angle_branch_only_while_growing():
    def f(age, angle):
        return chronic_l5(levels=[dict(level="L5", slip=20, slip_angle=angle)], age_years=age)
    rs = ruleset()
    assert evaluate(f(14, 36), rs).rule_outcome("RF-2-high-grade-slip") == "fired"
    assert evaluate(f(14, 35), rs).rule_outcome("RF-2-high-grade-slip") == "not-fired"
    assert evaluate(f(30, 60), rs).rule_outcome("RF-2-high-grade-slip") == "not-fired"
    assert evaluate(f(14, 36), rs, {"high_slip_angle_deg": 40}).rule_outcome("RF-2-high-grade-slip") == "not-fired"
