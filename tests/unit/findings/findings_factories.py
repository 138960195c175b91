"""Findings objects for the findings tests: one hand-made rich study and a hypothesis strategy."""

from __future__ import annotations

from hypothesis import strategies as st

from app.findings import model as m

STUDY_UID = "1.2.826.0.1.3680043.8.498.10000000000000000000000000000000001"
SERIES_UID = "1.2.826.0.1.3680043.8.498.20000000000000000000000000000000002"
SOP_UID = "1.2.826.0.1.3680043.8.498.30000000000000000000000000000000003"


def rich_findings(study_uid: str = STUDY_UID, series_uid: str = SERIES_UID, sop_uid: str = SOP_UID) -> m.StudyFindings:
    ref_left = m.AnnotationRef(
        annotation_id="a-1", kind="pars-marker", series_instance_uid=series_uid, sop_instance_uid=sop_uid,
        frame=None, points_px=((101.5, 200.25), (110.0, 204.0)), points_lps=((-12.5, 30.0, -101.2), (-11.0, 31.5, -101.2)),
    )
    ref_roi = m.AnnotationRef(
        annotation_id="a-2", kind="edema-roi", series_instance_uid=series_uid, sop_instance_uid=sop_uid, frame=3,
        points_px=((10.0, 10.0), (20.0, 10.0), (20.0, 20.0)),
    )
    ref_slip = m.AnnotationRef(annotation_id="a-3", kind="meyerding", series_instance_uid=series_uid,
                               sop_instance_uid=sop_uid, points_px=((1.0, 2.0), (3.0, 4.0), (5.0, 6.0), (7.0, 8.0)))
    pars = (
        m.ParsFinding(m.Level.L4, m.Side.LEFT, m.ParsStatus.STRESS_REACTION,
                      edema=m.Edema(None, frozenset({m.EdemaSite.PEDICLE}), 2.35), provenance=(ref_roi,)),
        m.ParsFinding(m.Level.L5, m.Side.LEFT, m.ParsStatus.COMPLETE_FRACTURE,
                      edema=m.Edema(True, frozenset({m.EdemaSite.PARS, m.EdemaSite.PEDICLE}), 1.8),
                      gap_mm=2.4, sclerotic_margins=False, provenance=(ref_left, ref_roi), note="axial STIR 7/20",
                      read_on=frozenset({m.ImagingModality.MR, m.ImagingModality.CT})),
        m.ParsFinding(m.Level.L5, m.Side.RIGHT, m.ParsStatus.CHRONIC_NONUNION, edema=m.Edema(False),
                      gap_mm=4.0, mri_grade_override=3, ct_stage_override=m.CTStage.PROGRESSIVE, sclerotic_margins=True,
                      read_on=frozenset({m.ImagingModality.RADIOGRAPH})),
        m.ParsFinding(m.Level.S1, m.Side.RIGHT, m.ParsStatus.INTACT),
    )
    levels = (
        m.LevelFinding(m.Level.L4, disc_pfirrmann=2, foraminal_stenosis=m.Severity.NONE, instability=False),
        m.LevelFinding(
            m.Level.L5,
            slip=m.Slip(27.5, m.SlipDirection.ANTERIOR, m.SlipTechnique.POSTERIOR_CORNER_PERPENDICULAR,
                        landmarks_lps={"L5 postero-inferior corner": (1.0, 2.0, 3.0),
                                       "S1 postero-superior corner": (1.5, 2.5, 3.5)},
                        slip_angle_deg=-4.5, slip_angle_endplate=m.SlipAngleEndplate.L5_INFERIOR, provenance=(ref_slip,)),
            disc_pfirrmann=4, neural_arch_hypoplasia=True, foraminal_stenosis=m.Severity.MODERATE,
            instability=True, spina_bifida_occulta=False, note="dysplastic arch?", provenance=(ref_left,),
            instability_measured=m.InstabilityMeasurement(4.5, 12.25, 11.0, provenance=(ref_slip,)),
        ),
        m.LevelFinding(m.Level.S1, spina_bifida_occulta=True),
    )
    ctx = m.ClinicalContext(
        age_years=15.5, skeletally_mature=False, athlete=True, sport="cricket (fast bowler)", symptomatic=True,
        symptom_duration_months=2.0, conservative_care_months=0.0, pain_vas=6.5, odi=28.0, disabling_pain=False,
        radicular_symptoms=False, neuro_deficit=m.NeuroDeficit.NONE, cauda_equina_symptoms=False,
        slip_progression=False, pars_block=m.ParsBlock.NOT_DONE, pain_concordant_with_imaging=True, smoking=False,
        depression_or_chronic_pain=False, realistic_expectations=True, wishes_surgery=False,
        sex=m.Sex.FEMALE, sport_level=m.SportLevel.COMPETITIVE, from_dicom=frozenset({"sex"}),
    )
    return m.StudyFindings(
        study_instance_uid=study_uid,
        reader="Dr Test Reader",
        created="2026-11-21T10:00:00+00:00",
        modified="2026-11-21T10:30:12+00:00",
        impression="Active L5 spondylolysis on the left; chronic on the right.\nGrade I slip.",
        pars=pars,
        levels=levels,
        context=ctx,
        imaging=m.ImagingPerformed(radiographs=True, flexion_extension=False, ct=True, mri=True),
        spinopelvic=m.SpinoPelvic(52.5, 14.0, 38.5, -48.0, provenance=(ref_slip,)),
    )


# ------------------------------------------------------------------ hypothesis strategies

_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
_uid = st.from_regex(r"1\.2\.[1-9][0-9]{0,5}(\.[1-9][0-9]{0,5}){1,5}", fullmatch=True)


def _num(lo: float, hi: float):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False, width=32).map(lambda v: round(v, 3))


def _opt(strategy):
    return st.none() | strategy


_coord = _num(-500, 500)
annotation_refs = st.builds(
    m.AnnotationRef,
    annotation_id=st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True),
    kind=st.sampled_from(["pars-marker", "meyerding", "edema-roi", "length", "angle"]),
    series_instance_uid=st.just("") | _uid,
    sop_instance_uid=st.just("") | _uid,
    frame=_opt(st.integers(1, 400)),
    points_px=st.lists(st.tuples(_coord, _coord), max_size=4).map(tuple),
    points_lps=st.lists(st.tuples(_coord, _coord, _coord), max_size=3).map(tuple),
)
_prov = st.lists(annotation_refs, max_size=2).map(tuple)


@st.composite
def pars_findings(draw, level, side):
    status = draw(st.sampled_from(list(m.ParsStatus)))
    present = draw(st.sampled_from([None, True, False]))
    if status is m.ParsStatus.STRESS_REACTION and present is False:
        present = True
    sites = frozenset() if present is False else draw(st.frozensets(st.sampled_from(list(m.EdemaSite))))
    gap = None if status.fracture_extent == "none" else draw(_opt(_num(0, 50)))
    return m.ParsFinding(
        level, side, status, edema=m.Edema(present, sites, draw(_opt(_num(0, 100)))), gap_mm=gap,
        mri_grade_override=draw(_opt(st.integers(0, 4))), ct_stage_override=draw(_opt(st.sampled_from(list(m.CTStage)))),
        sclerotic_margins=draw(_opt(st.booleans())), provenance=draw(_prov), note=draw(_text),
        read_on=draw(st.frozensets(st.sampled_from(list(m.ImagingModality)))),
    )


slips = st.builds(
    m.Slip, percent=_num(0, 200), direction=st.sampled_from(list(m.SlipDirection)),
    technique=st.sampled_from(list(m.SlipTechnique)),
    landmarks_lps=st.dictionaries(st.sampled_from(["L5 postero-inferior corner", "S1 postero-superior corner",
                                                   "S1 antero-superior corner"]),
                                  st.tuples(_coord, _coord, _coord) | st.tuples(_coord, _coord), max_size=3),
    slip_angle_deg=_opt(_num(-90, 90)), slip_angle_endplate=_opt(st.sampled_from(list(m.SlipAngleEndplate))),
    provenance=_prov,
)


instability_measurements = st.builds(
    m.InstabilityMeasurement, translation_mm=_opt(_num(0, 50)), translation_pct=_opt(_num(0, 100)),
    angulation_deg=_opt(_num(0, 90)), provenance=_prov,
)
spinopelvics = st.builds(
    m.SpinoPelvic, pelvic_incidence_deg=_opt(_num(0, 130)), pelvic_tilt_deg=_opt(_num(-40, 90)),
    sacral_slope_deg=_opt(_num(-30, 110)), lumbar_lordosis_deg=_opt(_num(-60, 130)), provenance=_prov,
)
imaging_performed = st.builds(m.ImagingPerformed, **{k: _opt(st.booleans()) for k in
                                                     ("radiographs", "flexion_extension", "ct", "mri", "spect")})


@st.composite
def level_findings(draw, level):
    return m.LevelFinding(
        level, slip=draw(_opt(slips)), disc_pfirrmann=draw(_opt(st.integers(1, 5))),
        neural_arch_hypoplasia=draw(_opt(st.booleans())), foraminal_stenosis=draw(_opt(st.sampled_from(list(m.Severity)))),
        instability=draw(_opt(st.booleans())), spina_bifida_occulta=draw(_opt(st.booleans())), note=draw(_text),
        provenance=draw(_prov), instability_measured=draw(_opt(instability_measurements)),
    )


contexts = st.builds(
    m.ClinicalContext, age_years=_opt(_num(0, 120)), skeletally_mature=_opt(st.booleans()), athlete=_opt(st.booleans()),
    sport=_text, symptomatic=_opt(st.booleans()), symptom_duration_months=_opt(_num(0, 1200)),
    conservative_care_months=_opt(_num(0, 1200)), pain_vas=_opt(_num(0, 10)), odi=_opt(_num(0, 100)),
    disabling_pain=_opt(st.booleans()), radicular_symptoms=_opt(st.booleans()),
    neuro_deficit=_opt(st.sampled_from(list(m.NeuroDeficit))), cauda_equina_symptoms=_opt(st.booleans()),
    slip_progression=_opt(st.booleans()), pars_block=_opt(st.sampled_from(list(m.ParsBlock))),
    pain_concordant_with_imaging=_opt(st.booleans()), smoking=_opt(st.booleans()),
    depression_or_chronic_pain=_opt(st.booleans()), realistic_expectations=_opt(st.booleans()),
    wishes_surgery=_opt(st.booleans()), sex=_opt(st.sampled_from(list(m.Sex))),
    sport_level=_opt(st.sampled_from(list(m.SportLevel))),
    from_dicom=st.frozensets(st.sampled_from(sorted(m.CONTEXT_FIELDS_FROM_DICOM))),
)


_filled = _text.filter(str.strip)
amendments = st.builds(m.Amendment, reader=_filled, at=st.just("2026-12-01T09:40:00+00:00") | _filled,
                       changes=st.lists(_filled, min_size=1, max_size=3).map(tuple))


@st.composite
def study_findings(draw, study_uid=None):
    keys = draw(st.lists(st.tuples(st.sampled_from(list(m.Level)), st.sampled_from(list(m.Side))), unique=True, max_size=5))
    keys.sort(key=lambda k: (list(m.Level).index(k[0]), list(m.Side).index(k[1])))
    pars = tuple(draw(pars_findings(lv, sd)) for lv, sd in keys)
    lvls = sorted(draw(st.lists(st.sampled_from(list(m.Level)), unique=True, max_size=3)), key=list(m.Level).index)
    levels = tuple(draw(level_findings(lv)) for lv in lvls)
    return m.StudyFindings(
        study_instance_uid=study_uid if study_uid is not None else draw(st.just("") | _uid),
        reader=draw(_text), created=draw(st.just("") | st.just("2026-01-02T03:04:05+00:00")), modified=draw(_text),
        impression=draw(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126) | st.just("\n"), max_size=60)),
        pars=pars, levels=levels, context=draw(contexts), imaging=draw(imaging_performed),
        spinopelvic=draw(_opt(spinopelvics)), amendments=tuple(draw(st.lists(amendments, max_size=2))),
    )
