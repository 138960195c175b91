"""Result content: checklists, missing data, disagreements with alternative-setting effects,
trace, JSON shape, and that contradicted/unconfirmed seed numbers are never shown as fact."""

from __future__ import annotations

import json
import re

from pathway_builders import SURGICAL_CONTEXT, chronic_l5, ruleset

from app.pathway import DISCLAIMER, evaluate, render_text
from app.pathway.examples import STORIES, build

# seed numbers that clinical-reference section 9 marks contradicted or unconfirmed
UNCONFIRMED_PATTERNS = [r"\b82 ?%", r"94\.3 ?% at 24", r"\b31-40", r"\b31–40", r"95 ?% fusion", r"fusion rates up to 95",
                        r"\b80 ?%", r"approach(es)? 100", r"~ ?100 ?%", r"79\.8", r"\b64 ?% at 2"]


NO_SLIP_L5 = [dict(level="L5", pfirrmann=2, hypoplasia=False, instability=False, stenosis="none")]


def _surgical(**over):
    """Spondylolysis without listhesis or root involvement: the defect is the only plausible pain
    generator, so the pars block is needed before surgery whatever the setting."""
    ctx = {**SURGICAL_CONTEXT, "age_years": 40, "levels": NO_SLIP_L5, **over}
    return chronic_l5(**ctx)


def test_checklists_met_unmet_unknown():
    r = evaluate(_surgical(pars_block=None), ruleset())
    surgery = r.checklist("surgery")
    status = {c.id: c.status for c in surgery.criteria}
    assert status == {"conservative-care-failed": "met", "disabling-pain": "met", "defect-confirmed": "met",
                      "positive-pars-block": "unknown", "pain-concordant": "met", "patient-wishes-surgery": "unknown"}
    assert surgery.status == "unknown"
    assert "6 months" in surgery.criteria[0].label
    repair = r.checklist("repair")
    assert {c.id: c.status for c in repair.criteria}["age"] == "unmet" and repair.status == "unmet"
    exempt = r.checklist("pars-block-not-needed")
    assert {c.id: c.status for c in exempt.criteria} == {"setting": "met", "adult": "met", "segment-or-root": "unmet"}


def test_empty_read_is_insufficient_and_never_ticks_a_criterion():
    """Issue 9: nothing assessed -> 'findings insufficient' with what to assess first, and no
    criterion shown as met (no 'no listhesis' tick)."""
    r = evaluate(build(), ruleset())
    assert r.tier == "insufficient"
    assert r.headline.startswith("Findings insufficient")
    assert r.assess_first[0].startswith("Red flags") and any("Pars interarticularis" in a for a in r.assess_first)
    assert "Pars interarticularis" in r.headline
    statuses = {(cl.id, c.id): c.status for cl in r.checklists for c in cl.criteria}
    met = [k for k, v in statuses.items() if v == "met" and k[1] != "setting"]
    assert not met, met
    assert statuses[("repair", "slip-grade")] == "unknown"


def test_no_suggestion_to_obtain_imaging_the_study_has():
    lesion = [("L5", "left", "complete_fracture", True, None, ("MR",)),
              ("L5", "right", "complete_fracture", None, None, ("MR",))]
    without = evaluate(build(lesion, [dict(level="L5")], age_years=15, symptomatic=True), ruleset())
    assert "ct-staging" in without.recommendation_ids and "read-existing-ct" not in without.recommendation_ids
    with_ct = evaluate(build(lesion, [dict(level="L5")], imaging=dict(ct=True, mri=True), age_years=15,
                             symptomatic=True), ruleset())
    ids = set(with_ct.recommendation_ids)
    assert "read-existing-ct" in ids and "read-existing-mri" in ids
    assert not {"ct-staging", "mri-stir", "confirm-defect-ct"} & ids
    empty = evaluate(build(imaging=dict(ct=True, mri=True, radiographs=True), symptomatic=True), ruleset())
    ids = set(empty.recommendation_ids)
    assert "read-existing-imaging" in ids and not {"mri-stir", "standing-lateral-radiographs", "oblique-radiographs"} & ids


def test_user_facing_text_has_no_ids_or_variable_names_and_rounded_numbers():
    from app.pathway.examples import level as lv
    rs = ruleset()
    f = build([("L5", s, "chronic_nonunion", False, None, ("CT",)) for s in ("left", "right")],
              [lv("L5", slip=19.5652, pfirrmann=4)], **{**SURGICAL_CONTEXT, "age_years": 40, "conservative_care_months": 4})
    r = evaluate(f, rs)
    texts = [r.headline, *r.summary, *(x.text for x in r.recommendations), *(x.title for x in r.recommendations),
             *(n.text for n in r.red_flags + r.cautions), *(c.label for cl in r.checklists for c in cl.criteria),
             *(m.question for m in r.missing), *(t for m in r.missing for t in m.could_add_titles),
             *(e for d in r.disagreements for e in d.effects)]
    names = set(rs.settings) | {x.id for x in rs.rules} | set(rs.recommendations) | {"_"}
    for t in texts:
        for name in names:
            if name == "_":
                assert "_" not in t.replace("x_", ""), t
            elif "-" in name or "_" in name:
                assert name not in t, (name, t)
    assert any("20 %" in t for t in r.summary) and not any("19.5652" in t for t in texts)


def test_missing_data_says_what_would_change_the_tier():
    r = evaluate(_surgical(pars_block=None), ruleset())
    by_fact = {m.fact: m for m in r.missing}
    assert "pars_block" in by_fact
    assert by_fact["pars_block"].could_change_tier_to == "surgical"
    assert "surgical-evaluation" in by_fact["pars_block"].could_add
    assert "SX-1-surgical-evaluation" in by_fact["pars_block"].rules


def test_disagreement_effects_of_seed_thresholds():
    r = evaluate(_surgical(conservative_care_months=4), ruleset())
    assert r.tier == "interventional"
    d = next(d for d in r.disagreements if d.id == "conservative-care-duration")
    assert d.value_used == 6
    effects = " | ".join(d.effects)
    assert "with 3 months: the tier would be 'Refer for spine surgical evaluation'" in effects
    assert "with 4 months: the tier would be 'Refer for spine surgical evaluation'" in effects
    r30 = evaluate(_surgical(age_years=28), ruleset())
    d = next(d for d in r30.disagreements if d.id == "repair-age")
    assert any("with 30 years" in e and "adds Discuss direct pars repair" in e for e in d.effects)
    assert any("with 35 years" in e for e in d.effects)


def test_recommendation_carries_rule_facts_citations_and_disputes():
    r = evaluate(STORIES["case02_bilateral_l5_stress_reaction"](), ruleset())
    brace = r.recommendation("antilordotic-brace")
    assert brace.rules == ("MG-1-active-lesion-growing",)
    assert brace.facts["active_non_terminal"] is True and brace.facts["age_years"] == 14
    assert any(c.id == "steiner-micheli-1985" and c.evidence == "V" for c in brace.citations)
    assert any(d.disagreement_id == "bracing-success" for d in brace.disputed)
    assert "78 %" in brace.text and any("contradicted" in d.text for d in brace.disputed)
    assert any(s.file.startswith("000_") for s in brace.seeds)


def test_trace_lists_every_rule_with_predicate_values():
    rs = ruleset()
    r = evaluate(build(cauda_equina_symptoms=True), rs)
    assert [t.rule_id for t in r.trace] == [x.id for x in rs.rules]
    t = next(t for t in r.trace if t.rule_id == "RF-1-cauda-equina")
    assert t.outcome == "fired" and t.predicates[0].name == "cauda_equina_symptoms" and t.predicates[0].value is True
    t = next(t for t in r.trace if t.rule_id == "MG-5-pars-injection")
    assert t.outcome in ("not-fired", "undetermined")
    assert {p.value for p in t.predicates} <= {True, False, None}


def test_json_shape_documented_keys():
    r = evaluate(STORIES["case06_adult_grade2"](), ruleset())
    doc = json.loads(json.dumps(r.to_dict()))
    assert set(doc) >= {"disclaimer", "ruleset", "settings", "stage", "tier", "tier_rules", "recommendations", "criteria",
                        "red_flags", "cautions", "missing", "disagreements", "sources", "trace"}
    assert doc["disclaimer"] == DISCLAIMER
    assert doc["ruleset"]["hash"] == ruleset().hash
    assert doc["recommendations"][0]["id"] == "surgical-evaluation"
    assert doc["tier"] == "surgical" and doc["headline"] == "Refer for spine surgical evaluation"
    assert doc["settings"]["conservative_care_min_months"] == 6


def test_settings_override_changes_the_result():
    f = _surgical(conservative_care_months=3)
    assert evaluate(f, ruleset()).tier == "interventional"
    assert evaluate(f, ruleset(), {"conservative_care_min_months": "3"}).tier == "surgical"


def test_unconfirmed_seed_numbers_never_appear_as_fact():
    """Outside the disagreement notes (which label them), no contradicted/unconfirmed number appears."""
    for name, story in STORIES.items():
        for overrides in (None, {"conservative_care_min_months": 3}):
            r = evaluate(story(), ruleset(), overrides)
            texts = [x.text for x in r.recommendations] + [x.text for x in r.cautions + r.red_flags]
            texts += [w for x in r.recommendations for w in x.why]
            texts += [c.label for cl in r.checklists for c in cl.criteria]
            for t in texts:
                for pat in UNCONFIRMED_PATTERNS:
                    assert not re.search(pat, t), f"{name}: {pat!r} in {t!r}"
            for d in r.disagreements:
                for p in d.positions:
                    if p.evidence == "U":
                        assert d.status in ("contradicted", "unconfirmed", "disputed")


def test_text_output_sections_and_disclaimer_first():
    r = evaluate(STORIES["case04_adult_chronic_grade1"](), ruleset())
    text = render_text(r)
    assert text.splitlines()[0] == DISCLAIMER
    for heading in ("STAGE", "TIER: INTERVENTIONAL", "PLAN", "CRITERIA", "CAUTIONS", "WHERE SOURCES DISAGREE", "SOURCES"):
        assert heading in text
    assert "pars-injection" in text
    # terminal defects: only the pooled terminal row (Morita 0 %), labelled as a cohort rate
    union_lines = [ln for ln in text.splitlines() if "expected union" in ln]
    assert union_lines and all("Morita 1995" in ln and ": 0 %" in ln and "not a certainty" in ln for ln in union_lines)


def test_every_fact_a_predicate_reads_has_a_question():
    from app.pathway.facts import FACT_QUESTIONS
    from app.pathway.predicates import REGISTRY

    assert {f for p in REGISTRY.values() for f in p.facts} <= set(FACT_QUESTIONS)


def test_union_rates_come_with_the_era_disagreement():
    r = evaluate(STORIES["case03_bilateral_l5_active_fractures"](), ruleset())
    ids = {d.id for d in r.disagreements}
    assert {"union-rates-by-era", "union-level-l5"} <= ids
    r = evaluate(STORIES["case01_normal_adolescent_athlete"](), ruleset())
    assert "union-rates-by-era" not in {d.id for d in r.disagreements}


def test_missing_lists_the_other_unknowns_a_rule_waits_for():
    r = evaluate(_surgical(pars_block=None, disabling_pain=None), ruleset())
    by_fact = {m.fact: m for m in r.missing}
    assert "disabling_pain" in by_fact["pars_block"].together_with
    assert "pars_block" in by_fact["disabling_pain"].together_with
