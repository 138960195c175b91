""""No dynamic instability" (a direct-repair criterion) needs flexion-extension views: a reader's
"no" while the imaging record says they were not done is unknown to the pathway, so it never
recommends direct repair on it and lists the question instead. A "yes", a measurement, or an
imaging record that does not say (None) keep their meaning."""

from __future__ import annotations

from pathway_builders import SURGICAL_CONTEXT, chronic_l5, ruleset

from app.pathway import evaluate

L5_NO_INSTABILITY = dict(level="L5", slip=10, pfirrmann=2, hypoplasia=False, instability=False, stenosis="none")


def _repair_candidate(level: dict, flexion_extension: bool | None):
    imaging = {} if flexion_extension is None else {"flexion_extension": flexion_extension}
    return chronic_l5(levels=[level], imaging=imaging, **{**SURGICAL_CONTEXT, "age_years": 22})


def test_a_no_without_dynamic_views_is_unknown_and_asked_for():
    result = evaluate(_repair_candidate(L5_NO_INSTABILITY, flexion_extension=False), ruleset())
    assert result.rule_outcome("SX-2-direct-repair") != "fired"
    asked = {m.fact: m for m in result.missing}
    assert "instability_lesion" in asked
    assert "flexion-extension views" in asked["instability_lesion"].question


def test_a_no_on_dynamic_views_or_with_no_imaging_record_stands():
    for views in (True, None):
        result = evaluate(_repair_candidate(L5_NO_INSTABILITY, flexion_extension=views), ruleset())
        assert result.rule_outcome("SX-2-direct-repair") == "fired", views
        assert "instability_lesion" not in {m.fact for m in result.missing}


def test_a_yes_or_a_measured_instability_stands_without_the_views_recorded():
    unstable = {**L5_NO_INSTABILITY, "instability": True}
    result = evaluate(_repair_candidate(unstable, flexion_extension=False), ruleset())
    assert result.rule_outcome("SX-2-direct-repair") == "not-fired"
    measured = {**L5_NO_INSTABILITY, "instability": None, "translation_mm": 6.0, "angulation_deg": 4.0}
    result = evaluate(_repair_candidate(measured, flexion_extension=False), ruleset())
    assert result.rule_outcome("SX-2-direct-repair") == "not-fired"


# ---- what to do about it: obtain the views, or measure on the views already done ----------------

SLIP_UNASSESSED = dict(level="L5", slip=20, pfirrmann=2, hypoplasia=False, instability=None, stenosis="none")


def _adult_slip(level: dict, flexion_extension: bool | None, age_years: float = 35):
    imaging = {} if flexion_extension is None else {"flexion_extension": flexion_extension}
    return chronic_l5(levels=[level], imaging=imaging, **{**SURGICAL_CONTEXT, "age_years": age_years})


def test_an_adult_slip_without_an_instability_answer_suggests_flexion_extension_views():
    for views in (None, False):
        result = evaluate(_adult_slip(SLIP_UNASSESSED, views), ruleset())
        assert result.rule_outcome("IM-2-dynamic-views") == "fired", views
        assert "flexion-extension-radiographs" in result.recommendation_ids
        assert "read-existing-dynamic-views" not in result.recommendation_ids
    # a reader's "no" while the views were not done is no answer either
    no_without_views = {**SLIP_UNASSESSED, "instability": False}
    result = evaluate(_adult_slip(no_without_views, False), ruleset())
    assert "flexion-extension-radiographs" in result.recommendation_ids


def test_views_on_record_are_measured_rather_than_repeated():
    result = evaluate(_adult_slip(SLIP_UNASSESSED, True), ruleset())
    assert result.rule_outcome("IM-2-read-dynamic-views") == "fired"
    assert "read-existing-dynamic-views" in result.recommendation_ids
    assert "flexion-extension-radiographs" not in result.recommendation_ids


def test_no_dynamic_views_suggested_once_instability_is_answered_or_without_a_slip_or_while_growing():
    answered = [{**SLIP_UNASSESSED, "instability": True}, {**SLIP_UNASSESSED, "instability": False},
                {**SLIP_UNASSESSED, "translation_mm": 2.0, "angulation_deg": 3.0}]
    for level in answered:
        result = evaluate(_adult_slip(level, None), ruleset())
        assert "flexion-extension-radiographs" not in result.recommendation_ids, level
        assert "read-existing-dynamic-views" not in result.recommendation_ids, level
    no_slip = {**SLIP_UNASSESSED, "slip": 0}
    assert "flexion-extension-radiographs" not in evaluate(_adult_slip(no_slip, None), ruleset()).recommendation_ids
    growing = evaluate(_adult_slip(SLIP_UNASSESSED, None, age_years=13), ruleset())
    assert "flexion-extension-radiographs" not in growing.recommendation_ids
