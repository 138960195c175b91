"""Stage per level and side, summaries, Meyerding/Wiltse, cohort union rates."""

from __future__ import annotations

from pathway_builders import chronic_l5, ruleset

from app.pathway import evaluate
from app.pathway.examples import build, story_2_bilateral_l5_stress_reaction, story_5_unilateral_l4_contralateral_terminal


def _level(result, name):
    return next(lv for lv in result.levels if lv.level == name)


def test_bilateral_stress_reaction_summary_and_union():
    r = evaluate(story_2_bilateral_l5_stress_reaction(), ruleset())
    assert r.summary[0] == "L5 bilateral active stress reaction, pre-lysis"
    lv = _level(r, "L5")
    assert lv.laterality == "bilateral"
    left = next(p for p in lv.pars if p.side == "left")
    assert (left.activity, left.mri_grade, left.ct_stage, left.ct_stage_source) == ("active", 1, "pre-lysis", "reader")
    primary = [u for u in left.union if u.primary]
    assert len(primary) == 1 and primary[0].cohort_id == "kuroshima-2024"
    assert primary[0].key == "bilateral pre-lysis/pre-lysis" and primary[0].rate_pct == 100.0
    others = {u.cohort_id: u.rate_pct for u in left.union if not u.primary}
    assert others["pmid-33597077"] == 92.3 and others["gamada-2023"] == 86.0
    assert any("bilateral" in m for m in left.union_modifiers)


def test_unilateral_lookup_uses_unilateral_row():
    f = build([("L4", "right", "complete_fracture", True, "progressive"), ("L4", "left", "intact", False, None)],
              age_years=15)
    r = evaluate(f, ruleset())
    right = next(p for p in _level(r, "L4").pars if p.side == "right")
    kuro = next(u for u in right.union if u.cohort_id == "kuroshima-2024")
    assert (kuro.key, kuro.rate_pct) == ("unilateral progressive", 64.3)
    morita = next(u for u in right.union if u.cohort_id == "morita-1995")
    assert morita.rate_pct == 38.5
    assert r.summary[0] == "L4 right active complete fracture, progressive; contralateral intact"


def test_contralateral_terminal_pair_and_terminal_side():
    r = evaluate(story_5_unilateral_l4_contralateral_terminal(), ruleset())
    lv = _level(r, "L4")
    right = next(p for p in lv.pars if p.side == "right")
    left = next(p for p in lv.pars if p.side == "left")
    kuro = next(u for u in right.union if u.cohort_id == "kuroshima-2024")
    assert (kuro.key, kuro.rate_pct) == ("bilateral early/terminal", 50.0)
    assert any("contralateral terminal" in m for m in right.union_modifiers)
    # the terminal side gets only pooled per-stage rows (Morita terminal 0 %), no pair rate
    assert [(u.cohort_id, u.rate_pct) for u in left.union] == [("morita-1995", 0.0)]


def test_adult_modifier_and_meyerding_wiltse():
    r = evaluate(chronic_l5(age_years=42, levels=[dict(level="L5", slip=18.0, pfirrmann=4)]), ruleset())
    lv = _level(r, "L5")
    assert lv.meyerding == "I" and lv.slip_pct == 18.0 and lv.wiltse_type == "II"
    assert "Meyerding grade I anterolisthesis (Taillard index 18 %)" in lv.summary and lv.taillard_pct == 18.0
    assert lv.marchetti_bartolozzi == "acquired (stress fracture)"
    assert "chronic non-union" in lv.summary and "terminal" in lv.summary
    assert all("no bony union expected" in " ".join(p.union_modifiers) for p in lv.pars)


def test_slip_without_defect_is_not_isthmic():
    f = build([("L4", "left", "intact", False, None), ("L4", "right", "intact", False, None)],
              [dict(level="L4", slip=15, pfirrmann=4)], age_years=62)
    lv = _level(evaluate(f, ruleset()), "L4")
    assert lv.wiltse_type == "III" and lv.marchetti_bartolozzi == "acquired (degenerative)"


def test_dysplastic_slip_in_a_child_is_never_degenerative():
    """Issue 10 point 4: a slip without a pars defect in a child is dysplastic (Wiltse I), even
    with a degenerated-looking disc; the degenerative-guideline caution is not shown."""
    f = build([("L5", "left", "intact", False, None), ("L5", "right", "intact", False, None)],
              [dict(level="L5", slip=30, pfirrmann=3)], age_years=12, symptomatic=True)
    r = evaluate(f, ruleset())
    lv = _level(r, "L5")
    assert lv.wiltse_type == "I" and lv.marchetti_bartolozzi == "developmental (dysplastic)"
    cautions = {c.id for c in r.cautions}
    assert "dysplastic-slip-growing" in cautions and "non-isthmic-slip" not in cautions
    assert {"specialist-spine-review", "slip-surveillance-growing"} <= set(r.recommendation_ids)


def _l5_slip(pct, sp, angle=None):
    return build([("L5", s, "chronic_nonunion", False, None, ("CT",)) for s in ("left", "right")],
                 [dict(level="L5", slip=pct, slip_angle=angle)], spinopelvic=sp, age_years=30)


def test_sdsg_low_grade_types_and_boundaries():
    def sdsg(pi, **over):
        return _level(evaluate(_l5_slip(20, dict(pelvic_incidence_deg=pi)), ruleset(), over or None), "L5")
    assert sdsg(44.9).sdsg_type == "1" and sdsg(45.0).sdsg_type == "2"
    assert sdsg(60.0).sdsg_type == "2" and sdsg(60.1).sdsg_type == "3"
    assert "uncertain" in sdsg(58).sdsg_note and "uncertain" not in sdsg(52).sdsg_note
    assert sdsg(62, sdsg_pi_high_deg=65).sdsg_type == "2"  # Epomedicine cut-off
    assert _level(evaluate(_l5_slip(20, None), ruleset()), "L5").sdsg_type is None


def test_sdsg_high_grade_balance_is_a_labelled_candidate():
    lv = _level(evaluate(_l5_slip(60, dict(pelvic_incidence_deg=75, sacral_slope_deg=50, pelvic_tilt_deg=25)), ruleset()), "L5")
    assert lv.sdsg_type == "4" and "SS > PT shortcut" in lv.sdsg_note and "reader decides" in lv.sdsg_note
    lv = _level(evaluate(_l5_slip(60, dict(pelvic_incidence_deg=80, sacral_slope_deg=30, pelvic_tilt_deg=50)), ruleset()), "L5")
    assert lv.sdsg_type == "5-6" and "C7 plumb line" in lv.sdsg_note
    lv = _level(evaluate(_l5_slip(60, dict(pelvic_incidence_deg=90, sacral_slope_deg=30, pelvic_tilt_deg=50)), ruleset()), "L5")
    assert "re-measure" in lv.sdsg_note  # PI != PT + SS by more than 5 degrees
    lv = _level(evaluate(_l5_slip(60, dict(pelvic_incidence_deg=75)), ruleset()), "L5")
    assert lv.sdsg_type == "4-6"


def test_instability_measurement_in_words_with_the_thresholds():
    f = build([("L5", s, "chronic_nonunion", False, None, ("CT",)) for s in ("left", "right")],
              [dict(level="L5", slip=12, translation_mm=3.2, translation_pct=9.0, angulation_deg=6.0)], age_years=40)
    lv = _level(evaluate(f, ruleset()), "L5")
    assert "unstable" in lv.instability and "translation 3.2 mm" in lv.instability
    lv = _level(evaluate(f, ruleset(), {"instability_translation_pct": 15}), "L5")
    assert "— stable" in lv.instability


def test_radiograph_only_defect_is_suspected_and_not_staged():
    f = build([("L5", "left", "complete_fracture", None, None, ("radiograph",)),
               ("L5", "right", "intact", None, None, ("radiograph",))], age_years=30, symptomatic=True)
    r = evaluate(f, ruleset())
    left = next(p for p in _level(r, "L5").pars if p.side == "left")
    assert left.ct_stage is None and left.ct_stage_source == "radiograph only" and not left.union
    assert "suspected complete fracture (radiographs only)" in r.summary[0]
    crit = {c.id: c.status for c in r.checklist("surgery").criteria}
    assert crit["defect-confirmed"] == "unmet"
    assert "defect-radiograph-only" in {c.id for c in r.cautions} and "confirm-defect-ct" in r.recommendation_ids
    unknown = evaluate(build([("L5", "left", "complete_fracture", None, None)], age_years=30), ruleset())
    assert {c.id: c.status for c in unknown.checklist("surgery").criteria}["defect-confirmed"] == "unknown"


def test_near_boundary_flag_in_summary():
    r = evaluate(chronic_l5(levels=[dict(level="L5", slip=25.1)]), ruleset())
    lv = _level(r, "L5")
    assert lv.meyerding == "II" and lv.near_meyerding_boundary and "near a grade boundary" in lv.summary


def test_no_lesion_summary():
    r = evaluate(build([("L5", "left", "intact", False, None)]), ruleset())
    assert r.summary == ("No pars lesion recorded",)
    r = evaluate(build(), ruleset())
    assert r.summary == ("Pars not assessed",)


def test_adult_active_lesion_gets_adult_modifier():
    f = build([("L5", "left", "incomplete_fracture", True, "early"), ("L5", "right", "intact", False, None)],
              age_years=35, skeletally_mature=True)
    r = evaluate(f, ruleset())
    left = next(p for p in _level(r, "L5").pars if p.side == "left")
    assert any("adults" in m for m in left.union_modifiers)
    assert any(u.cohort_id == "kuroshima-2024" and u.key == "unilateral early" and u.rate_pct == 96.0 for u in left.union)


def test_level_specific_cohort_only_at_its_level():
    l4 = build([("L4", "left", "complete_fracture", True, "early"), ("L4", "right", "chronic_nonunion", False, "terminal")])
    l5 = build([("L5", "left", "complete_fracture", True, "early"), ("L5", "right", "chronic_nonunion", False, "terminal")])
    ids4 = {u.cohort_id for lv in evaluate(l4, ruleset()).levels for p in lv.pars for u in p.union}
    ids5 = {u.cohort_id for lv in evaluate(l5, ruleset()).levels for p in lv.pars for u in p.union}
    assert "eto-2021" not in ids4 and "eto-2021" in ids5
