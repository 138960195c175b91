"""Property tests over random StudyFindings (every field may be None)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from app.findings.model import (
    ClinicalContext,
    CTStage,
    Edema,
    Level,
    LevelFinding,
    NeuroDeficit,
    ParsBlock,
    ParsFinding,
    ParsStatus,
    Severity,
    Side,
    Slip,
    StudyFindings,
)
from app.pathway import TIERS, evaluate
from app.pathway.facts import compute_facts
from pathway_builders import ruleset

SURGERY_IDS = {"surgical-evaluation", "direct-pars-repair", "fusion", "decompression-and-fusion"}

opt_bool = st.one_of(st.none(), st.booleans())


def _opt(strategy):
    return st.one_of(st.none(), strategy)


@st.composite
def pars_findings(draw):
    keys = draw(st.sets(st.tuples(st.sampled_from(list(Level)), st.sampled_from(list(Side))), max_size=6))
    out = []
    for level, side in sorted(keys, key=lambda k: (list(Level).index(k[0]), k[1].value)):
        status = draw(st.sampled_from(list(ParsStatus)))
        edema = draw(opt_bool)
        if status is ParsStatus.STRESS_REACTION and edema is False:
            edema = True
        out.append(ParsFinding(level=level, side=side, status=status, edema=Edema(present=edema),
                               ct_stage_override=draw(_opt(st.sampled_from(list(CTStage))))))
    return tuple(out)


@st.composite
def level_findings(draw):
    levels = draw(st.sets(st.sampled_from(list(Level)), max_size=4))
    out = []
    for lv in sorted(levels, key=list(Level).index):
        slip = None
        if draw(st.booleans()):
            slip = Slip(percent=draw(st.floats(0, 120, allow_nan=False)),
                        slip_angle_deg=draw(_opt(st.floats(-30, 60, allow_nan=False))))
        out.append(LevelFinding(level=lv, slip=slip, disc_pfirrmann=draw(_opt(st.integers(1, 5))),
                                neural_arch_hypoplasia=draw(opt_bool), instability=draw(opt_bool),
                                foraminal_stenosis=draw(_opt(st.sampled_from(list(Severity))))))
    return tuple(out)


@st.composite
def contexts(draw):
    return ClinicalContext(
        age_years=draw(_opt(st.floats(5, 90, allow_nan=False))),
        skeletally_mature=draw(opt_bool),
        athlete=draw(opt_bool),
        symptomatic=draw(opt_bool),
        symptom_duration_months=draw(_opt(st.floats(0, 120, allow_nan=False))),
        conservative_care_months=draw(_opt(st.sampled_from([0.0, 2.9, 3.0, 3.9, 4.0, 5.9, 6.0, 12.0])
                                           | st.floats(0, 48, allow_nan=False))),
        pain_vas=draw(_opt(st.floats(0, 10, allow_nan=False))),
        odi=draw(_opt(st.floats(0, 100, allow_nan=False))),
        disabling_pain=draw(opt_bool),
        radicular_symptoms=draw(opt_bool),
        neuro_deficit=draw(_opt(st.sampled_from(list(NeuroDeficit)))),
        cauda_equina_symptoms=draw(opt_bool),
        slip_progression=draw(opt_bool),
        pars_block=draw(_opt(st.sampled_from(list(ParsBlock)))),
        pain_concordant_with_imaging=draw(opt_bool),
        smoking=draw(opt_bool),
        depression_or_chronic_pain=draw(opt_bool),
        realistic_expectations=draw(opt_bool),
        wishes_surgery=draw(opt_bool),
    )


studies = st.builds(StudyFindings, pars=pars_findings(), levels=level_findings(), context=contexts())
threshold_settings = st.one_of(st.none(), st.fixed_dictionaries({"conservative_care_min_months": st.sampled_from([3, 4, 6])}))

PROFILE = hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _red_flag(f: StudyFindings) -> bool:
    return f.context.cauda_equina_symptoms is True or f.context.neuro_deficit is NeuroDeficit.PROGRESSIVE


@PROFILE
@given(studies, threshold_settings)
def test_never_crashes_and_serialises(findings, overrides):
    result = evaluate(findings, ruleset(), overrides)
    assert result.tier in TIERS
    doc = json.loads(json.dumps(result.to_dict()))
    assert doc["disclaimer"].startswith("DECISION SUPPORT")
    assert len(result.trace) == len(ruleset().rules)


@PROFILE
@given(studies)
def test_red_flag_always_urgent(findings):
    result = evaluate(findings, ruleset())
    if _red_flag(findings):
        assert result.tier == "urgent"
        assert "urgent-surgical-referral" in result.recommendation_ids
    else:
        assert result.tier != "urgent"


@PROFILE
@given(studies, threshold_settings)
def test_no_surgery_before_conservative_threshold_without_red_flag(findings, overrides):
    result = evaluate(findings, ruleset(), overrides)
    threshold = (overrides or {}).get("conservative_care_min_months", 6)
    months = findings.context.conservative_care_months
    before = months is None or months < threshold
    if before and not _red_flag(findings):
        assert result.tier != "surgical"
        assert not SURGERY_IDS & set(result.recommendation_ids)
    if before:  # even with a red flag the elective surgical items wait for the threshold
        assert not SURGERY_IDS & set(result.recommendation_ids)


@PROFILE
@given(studies)
def test_flexion_never_extension_for_symptomatic_lesions(findings):
    result = evaluate(findings, ruleset())
    facts = compute_facts(findings)
    if facts["symptomatic"] and facts["any_lesion"]:
        assert "flexion-core-stabilisation" in result.recommendation_ids
        assert result.tier != "no-treatment"
    for rec in result.recommendations:
        assert "extension" not in rec.id.replace("avoid-hyperextension", "")
        text = rec.text.lower()
        if "extension-based" in text or "extension exercise" in text or "extension programme" in text:
            assert "do not use extension" in text, rec.id


@PROFILE
@given(studies)
def test_every_suggestion_is_cited(findings):
    result = evaluate(findings, ruleset())
    for rec in result.recommendations:
        assert rec.citations, rec.id
        assert rec.rules and rec.why
    for note in result.red_flags + result.cautions:
        assert note.citations, note.id


@hsettings(max_examples=50, deadline=None)
@given(studies)
def test_deterministic(findings):
    rs = ruleset()
    assert evaluate(findings, rs).to_dict() == evaluate(findings, rs).to_dict()
