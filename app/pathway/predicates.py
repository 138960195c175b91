"""Named predicates: the only code rules can call (no eval).

Each predicate reads named facts (``Facts``) and optional parameters (literal numbers/strings or
``"$setting_name"`` references resolved by the engine) and answers True, False or None
(unknown: the findings do not say). Register new ones with ``@predicate``; the rule loader
rejects names that are not registered and parameters a predicate does not take.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.findings.model import MEYERDING_UPPER_BOUNDS_PCT, Severity
from app.pathway.facts import SEVERITY_ORDER, Facts


@dataclass(frozen=True)
class PredicateSpec:
    name: str
    func: Callable[..., bool | None]
    facts: tuple[str, ...]  # facts it reads (reported in the trace and "missing data")
    params: tuple[str, ...]  # parameter names, all required
    doc: str


REGISTRY: dict[str, PredicateSpec] = {}


def predicate(name: str, facts: tuple[str, ...] = ()):
    def deco(fn: Callable[..., bool | None]):
        if name in REGISTRY:
            raise ValueError(f"predicate {name!r} registered twice")
        params = tuple(p for p in inspect.signature(fn).parameters if p != "f")
        REGISTRY[name] = PredicateSpec(name, fn, tuple(facts), params, (fn.__doc__ or "").strip())
        return fn

    return deco


def _not(v: bool | None) -> bool | None:
    return None if v is None else not v


def _is(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _ge(value: float | None, threshold: float) -> bool | None:
    return None if value is None else value >= float(threshold)


def _gt(value: float | None, threshold: float) -> bool | None:
    return None if value is None else value > float(threshold)


# --------------------------------------------------------------------------- symptoms & red flags

@predicate("symptomatic", facts=("symptomatic",))
def _symptomatic(f: Facts):
    """Back pain attributed to the spine (entered, or inferred from VAS/disabling/radicular)."""
    return _is(f["symptomatic"])


@predicate("asymptomatic", facts=("symptomatic",))
def _asymptomatic(f: Facts):
    """No spinal symptoms (symptomatic is recorded False or VAS 0)."""
    return _not(_is(f["symptomatic"]))


@predicate("symptoms_unknown", facts=("symptomatic",))
def _symptoms_unknown(f: Facts):
    """Neither symptomatic nor asymptomatic is recorded (always known: True or False)."""
    return f["symptomatic"] is None


@predicate("cauda_equina_symptoms", facts=("cauda_equina_symptoms",))
def _cauda(f: Facts):
    """Cauda equina symptoms recorded."""
    return _is(f["cauda_equina_symptoms"])


@predicate("progressive_neuro_deficit", facts=("neuro_deficit",))
def _progressive_deficit(f: Facts):
    """Neurological deficit recorded as progressive or severe (clinical-reference RF-1)."""
    v = f["neuro_deficit"]
    return None if v is None else v in ("progressive", "severe")


@predicate("stable_neuro_deficit", facts=("neuro_deficit",))
def _stable_deficit(f: Facts):
    """Neurological deficit recorded as stable."""
    v = f["neuro_deficit"]
    return None if v is None else v == "stable"


@predicate("radicular_symptoms", facts=("radicular_symptoms",))
def _radicular(f: Facts):
    """Radicular symptoms recorded."""
    return _is(f["radicular_symptoms"])


@predicate("slip_progression", facts=("slip_progression",))
def _slip_progression(f: Facts):
    """Slip progression documented on serial standing films."""
    return _is(f["slip_progression"])


# --------------------------------------------------------------------------- patient

@predicate("growing", facts=("skeletally_mature", "age_years"))
def _growing(f: Facts, age_max_years):
    """Child/adolescent: skeletally immature when known, else age <= age_max_years."""
    mature = f["skeletally_mature"]
    if mature is not None:
        return not mature
    age = f["age_years"]
    return None if age is None else age <= float(age_max_years)


@predicate("age_at_most", facts=("age_years",))
def _age_at_most(f: Facts, years):
    """Age in years <= ``years`` (inclusive)."""
    age = f["age_years"]
    return None if age is None else age <= float(years)


@predicate("athlete", facts=("athlete",))
def _athlete(f: Facts):
    """Patient recorded as an athlete (or with a level of sport)."""
    return _is(f["athlete"])


@predicate("female", facts=("sex",))
def _female(f: Facts):
    """Sex recorded as female."""
    v = f["sex"]
    return None if v is None else v == "F"


_SPORT_LEVELS = ("recreational", "competitive", "professional")


@predicate("sport_level_at_least", facts=("sport_level", "athlete"))
def _sport_level(f: Facts, level):
    """Level of sport at least ``level`` (recreational < competitive < professional); not an athlete = False."""
    if level not in _SPORT_LEVELS:
        raise ValueError(f"level must be one of {', '.join(_SPORT_LEVELS)}, got {level!r}")
    v = f["sport_level"]
    if v is None:
        return False if f["athlete"] is False else None
    return _SPORT_LEVELS.index(v) >= _SPORT_LEVELS.index(level)


@predicate("setting_is")
def _setting_is(f: Facts, value, expected):
    """A (string) setting has the value ``expected``: lets a rule follow one side of a disagreement."""
    return str(value) == str(expected)

@predicate("conservative_care_at_least", facts=("conservative_care_months",))
def _cc_at_least(f: Facts, months):
    """Months of conservative care completed >= ``months``."""
    return _ge(f["conservative_care_months"], months)


@predicate("conservative_care_below", facts=("conservative_care_months",))
def _cc_below(f: Facts, months):
    """Months of conservative care completed < ``months``."""
    return _not(_ge(f["conservative_care_months"], months))


@predicate("disabling_pain", facts=("disabling_pain", "odi"))
def _disabling(f: Facts, odi_min):
    """Disabling / functionally limiting pain: the entry, else ODI >= ``odi_min``."""
    v = f["disabling_pain"]
    if v is not None:
        return bool(v)
    return _ge(f["odi"], odi_min)


@predicate("pars_block_positive", facts=("pars_block",))
def _block_pos(f: Facts):
    """Diagnostic pars block recorded positive."""
    v = f["pars_block"]
    return None if v is None else v == "positive"


@predicate("pars_block_negative", facts=("pars_block",))
def _block_neg(f: Facts):
    """Diagnostic pars block recorded negative."""
    v = f["pars_block"]
    return None if v is None else v == "negative"


@predicate("pars_block_pending", facts=("pars_block",))
def _block_pending(f: Facts):
    """No pars block result yet (not done, or not recorded)."""
    return f["pars_block"] in (None, "not_done")


@predicate("pain_concordant", facts=("pain_concordant_with_imaging",))
def _concordant(f: Facts):
    """Pain concordant with the imaging findings."""
    return _is(f["pain_concordant_with_imaging"])


@predicate("pain_discordant", facts=("pain_concordant_with_imaging",))
def _discordant(f: Facts):
    """Pain recorded as not concordant with the imaging findings."""
    return _not(_is(f["pain_concordant_with_imaging"]))


@predicate("pain_recorded_discordant", facts=("pain_concordant_with_imaging",))
def _recorded_discordant(f: Facts):
    """The reader recorded the pain as NOT concordant (False when concordant or not recorded:
    a statement about the record, used so that an unrecorded concordance does not block a referral
    in which it is assessed)."""
    return f["pain_concordant_with_imaging"] is False


@predicate("smoking", facts=("smoking",))
def _smoking(f: Facts):
    """Current smoker."""
    return _is(f["smoking"])


@predicate("depression_or_chronic_pain", facts=("depression_or_chronic_pain",))
def _depression(f: Facts):
    """Depression or a chronic pain syndrome."""
    return _is(f["depression_or_chronic_pain"])


@predicate("unrealistic_expectations", facts=("realistic_expectations",))
def _unrealistic(f: Facts):
    """Expectations recorded as unrealistic."""
    return _not(_is(f["realistic_expectations"]))


@predicate("declines_surgery", facts=("wishes_surgery",))
def _declines(f: Facts):
    """Patient does not wish surgery after counselling."""
    return _not(_is(f["wishes_surgery"]))


@predicate("wishes_surgery", facts=("wishes_surgery",))
def _wishes(f: Facts):
    """Patient wishes surgery after counselling."""
    return _is(f["wishes_surgery"])


# --------------------------------------------------------------------------- pars lesions

@predicate("pars_assessed", facts=("pars_assessed",))
def _pars_assessed(f: Facts):
    """At least one pars entry recorded (the pars were looked at)."""
    return bool(f["pars_assessed"])


@predicate("edema_assessed", facts=("edema_assessed",))
def _edema_assessed(f: Facts):
    """Marrow edema recorded (present or absent) for at least one pars."""
    return bool(f["edema_assessed"])


@predicate("any_lesion", facts=("any_lesion",))
def _any_lesion(f: Facts):
    """A pars lesion: stress reaction, fracture, non-union, or intact pars with edema."""
    return bool(f["any_lesion"])


@predicate("any_defect", facts=("any_defect",))
def _any_defect(f: Facts):
    """A pars defect: incomplete/complete fracture or chronic non-union."""
    return bool(f["any_defect"])


@predicate("defect_confirmed", facts=("pars_assessed", "any_defect", "defect_cross_sectional"))
def _defect_confirmed(f: Facts):
    """A pars defect read on CT or MRI. False: no defect, or radiograph-only (suspected); unknown
    when no pars was assessed or the modality of the defect was not recorded."""
    if not f["pars_assessed"]:
        return None
    if not f["any_defect"]:
        return False
    return f["defect_cross_sectional"]


@predicate("defect_radiograph_only", facts=("defect_radiograph_only",))
def _defect_radiograph_only(f: Facts):
    """A pars defect read on radiographs only (suspected, not confirmed)."""
    return bool(f["defect_radiograph_only"])


_IMAGING_FACTS = {"ct": "imaging_ct", "mri": "imaging_mri", "radiographs": "imaging_radiographs",
                  "flexion_extension": "imaging_flexion_extension"}


@predicate("imaging_available", facts=("imaging_ct", "imaging_mri", "imaging_radiographs",
                                        "imaging_flexion_extension"))
def _imaging_available(f: Facts, modality):
    """Imaging of ``modality`` (ct / mri / radiographs / flexion_extension views) is known to
    exist. Not recorded = False: a suggestion to obtain it is then still made."""
    if modality not in _IMAGING_FACTS:
        raise ValueError(f"modality must be one of {', '.join(_IMAGING_FACTS)}, got {modality!r}")
    return f[_IMAGING_FACTS[modality]] is True


@predicate("active_lesion", facts=("any_active_lesion",))
def _active(f: Facts):
    """At least one lesion with marrow edema (active)."""
    return f["any_active_lesion"]


@predicate("active_non_terminal_lesion", facts=("active_non_terminal",))
def _active_nt(f: Facts):
    """At least one active (edema) lesion that is not at the terminal CT stage."""
    return f["active_non_terminal"]


@predicate("lesion_edema_unknown", facts=("lesion_edema_unknown",))
def _edema_unknown(f: Facts):
    """At least one lesion whose marrow edema was not assessed."""
    return bool(f["lesion_edema_unknown"])


@predicate("ct_stage_confirmed", facts=("ct_stage_confirmed",))
def _ct_confirmed(f: Facts):
    """Every lesion has a reader-entered (CT) stage, not only the derived crosswalk."""
    return bool(f["ct_stage_confirmed"])


@predicate("any_terminal", facts=("any_terminal",))
def _terminal(f: Facts):
    """At least one lesion at the terminal (pseudarthrosis) stage."""
    return bool(f["any_terminal"])


@predicate("bilateral_lesion", facts=("bilateral_lesion",))
def _bilateral(f: Facts):
    """Lesions on both sides of one level."""
    return bool(f["bilateral_lesion"])


@predicate("fresh_with_contralateral_terminal", facts=("fresh_with_contralateral_terminal",))
def _fresh_contra_terminal(f: Facts):
    """An active non-terminal lesion whose contralateral pars is terminal (pseudarthrosis)."""
    return bool(f["fresh_with_contralateral_terminal"])


@predicate("unilateral_progressive_l5", facts=("unilateral_progressive_l5",))
def _uni_prog_l5(f: Facts):
    """A unilateral progressive-stage (not chronic) lesion at L5."""
    return bool(f["unilateral_progressive_l5"])


# --------------------------------------------------------------------------- slip & level

def _slip_above(f: Facts, pct: float) -> bool | None:
    if not f["lesion_levels"]:
        return None  # no lesion level: not applicable, shown as unknown (never as "no listhesis")
    known = f["slip_pct_lesion_levels"]
    if known is not None and known > float(pct):
        return True
    if f["slip_lesion_unknown"]:
        return None
    return False


@predicate("slip_above", facts=("slip_pct_lesion_levels",))
def _slip_above_p(f: Facts, pct):
    """Percent slip at a lesion level > ``pct``."""
    return _slip_above(f, pct)


@predicate("slip_present", facts=("slip_pct_lesion_levels",))
def _slip_present(f: Facts):
    """Any anterolisthesis at a lesion level."""
    return _slip_above(f, 0.0)


_GRADE_UPPER = dict(zip(("I", "II", "III", "IV"), MEYERDING_UPPER_BOUNDS_PCT, strict=True))


@predicate("slip_grade_at_most", facts=("slip_pct_lesion_levels",))
def _slip_grade_at_most(f: Facts, grade):
    """Meyerding grade at every lesion level <= ``grade`` (no listhesis counts as within)."""
    if grade not in _GRADE_UPPER:
        raise ValueError(f"grade must be one of {', '.join(_GRADE_UPPER)}, got {grade!r}")
    return _not(_slip_above(f, _GRADE_UPPER[grade]))


@predicate("any_slip_above", facts=("slip_pct_max",))
def _any_slip_above(f: Facts, pct):
    """Percent slip at any level > ``pct``."""
    v = f["slip_pct_max"]
    return None if v is None else v > float(pct)


@predicate("slip_angle_above", facts=("slip_angle_max_deg", "slip_pct_max"))
def _slip_angle_above(f: Facts, deg):
    """Slip angle > ``deg`` degrees at any level (False when no level has a slip)."""
    v = f["slip_angle_max_deg"]
    if v is None:
        return False if f["slip_pct_max"] == 0.0 else None
    return v > float(deg)


@predicate("slip_near_boundary", facts=("slip_pct_max",))
def _near_boundary(f: Facts):
    """A slip within the near-boundary margin of a Meyerding boundary."""
    return bool(f["near_boundary_slip"])


@predicate("slip_without_defect", facts=("slip_pct_max", "any_lesion"))
def _slip_without_defect(f: Facts):
    """Anterolisthesis at a level whose pars are not recorded as a lesion (non-isthmic?)."""
    return bool(f["slip_without_defect"])


@predicate("slip_unmeasured_at_lesion", facts=("slip_pct_lesion_levels",))
def _slip_unmeasured(f: Facts):
    """A lesion level has no level entry, so listhesis was not assessed."""
    return bool(f["slip_lesion_unknown"])


@predicate("disc_degenerated", facts=("disc_degenerated_lesion",))
def _disc(f: Facts):
    """Pfirrmann >= III at the index disc below a lesion level or the disc above it."""
    return f["disc_degenerated_lesion"]


def measured_unstable(m: tuple, translation_mm: float, translation_pct: float,
                      angulation_deg: float) -> bool | None:
    """One flexion-extension measurement (mm, %, degrees; each may be None) against the thresholds
    (strictly above = unstable). False only when translation (mm or %) and angulation are known."""
    mm, pct, deg = m
    over = [mm is not None and mm > float(translation_mm), pct is not None and pct > float(translation_pct),
            deg is not None and deg > float(angulation_deg)]
    if any(over):
        return True
    return False if (mm is not None or pct is not None) and deg is not None else None


@predicate("instability", facts=("instability_lesion", "instability_measured_lesion"))
def _instability(f: Facts, translation_mm, translation_pct, angulation_deg):
    """Instability at a lesion level: a measurement above a threshold, or the reader's yes;
    no when the measurement is below every threshold or the reader says no."""
    measured = [measured_unstable(m, translation_mm, translation_pct, angulation_deg)
                for m in f["instability_measured_lesion"]]
    known = [v for v in [*measured, f["instability_lesion"]] if v is not None]
    if True in known:
        return True
    return False if known else None


@predicate("instability_unknown", facts=("any_lesion", "instability_lesion", "instability_measured_lesion"))
def _instability_unknown(f: Facts):
    """A lesion level has neither a flexion-extension measurement nor the reader's answer on
    dynamic instability (a "no" without flexion-extension views counts as unknown: facts.py)."""
    if not f["any_lesion"] or f["instability_measured_lesion"]:
        return False
    return f["instability_lesion"] is None


@predicate("pelvic_incidence_above", facts=("pelvic_incidence_deg",))
def _pi_above(f: Facts, deg):
    """Pelvic incidence > ``deg`` degrees."""
    return _gt(f["pelvic_incidence_deg"], deg)


@predicate("neural_arch_hypoplasia", facts=("hypoplasia_lesion",))
def _hypoplasia(f: Facts):
    """Neural-arch hypoplasia at a lesion level."""
    return f["hypoplasia_lesion"]


@predicate("foraminal_stenosis_at_least", facts=("foraminal_stenosis_max",))
def _stenosis(f: Facts, severity):
    """Foraminal stenosis at any level at least ``severity`` (none/mild/moderate/severe)."""
    want = SEVERITY_ORDER.index(Severity(severity))
    v = f["foraminal_stenosis_max"]
    return None if v is None else SEVERITY_ORDER.index(Severity(v)) >= want
