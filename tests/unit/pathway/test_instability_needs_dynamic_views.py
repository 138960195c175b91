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
