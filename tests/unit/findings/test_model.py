"""Findings model: derived grades, boundaries and validation on construction."""

from __future__ import annotations

import pytest

from app.findings import model as m

G = m.MeyerdingGrade


@pytest.mark.parametrize(
    "percent, grade",
    [(0, None), (0.1, G.I), (24.9, G.I), (25, G.I), (25.1, G.II), (50, G.II), (50.01, G.III), (75, G.III),
     (75.5, G.IV), (100, G.IV), (100.1, G.V), (150, G.V)],
)
def test_meyerding_grade_upper_inclusive(percent, grade):
    assert m.meyerding_grade(percent) is grade
    if percent >= 0:
        assert m.Slip(percent).grade is grade


def test_meyerding_negative_is_no_listhesis():
    assert m.meyerding_grade(-3.0) is None


@pytest.mark.parametrize(
    "percent, near",
    [(0, False), (21.9, False), (22, True), (24.9, True), (25, True), (25.1, True), (28, True), (28.1, False),
     (37.5, False), (50, True), (75, True), (97, True), (100.1, True), (103.5, False)],
)
def test_near_boundary_flag(percent, near):
    assert m.near_meyerding_boundary(percent) is near
    assert m.Slip(percent).near_boundary is near


def test_high_grade():
    assert not G.II.is_high_grade and G.III.is_high_grade and G.V.is_high_grade


S = m.ParsStatus
# status x edema (True / False / None = not assessed) -> (Hollenberg, CT stage without a gap)
DERIVATION = {
    (S.INTACT, True): (1, m.CTStage.PRE_LYSIS),
    (S.INTACT, False): (0, None),
    (S.INTACT, None): (0, None),
    (S.STRESS_REACTION, True): (1, m.CTStage.PRE_LYSIS),
    (S.STRESS_REACTION, None): (1, m.CTStage.PRE_LYSIS),
    (S.INCOMPLETE_FRACTURE, True): (2, m.CTStage.EARLY),
    (S.INCOMPLETE_FRACTURE, False): (None, m.CTStage.EARLY),  # Ang 2b: no Hollenberg grade
    (S.INCOMPLETE_FRACTURE, None): (None, m.CTStage.EARLY),
    (S.COMPLETE_FRACTURE, True): (3, m.CTStage.PROGRESSIVE),
    (S.COMPLETE_FRACTURE, False): (4, m.CTStage.PROGRESSIVE),
    (S.COMPLETE_FRACTURE, None): (None, m.CTStage.PROGRESSIVE),
    (S.CHRONIC_NONUNION, True): (3, m.CTStage.TERMINAL),
    (S.CHRONIC_NONUNION, False): (4, m.CTStage.TERMINAL),
    (S.CHRONIC_NONUNION, None): (4, m.CTStage.TERMINAL),
}


def test_derivation_table_covers_every_status_and_edema_state():
    combos = {(s, e) for s in S for e in (True, False, None)} - {(S.STRESS_REACTION, False)}
    assert set(DERIVATION) == combos


@pytest.mark.parametrize("status, edema", sorted(DERIVATION, key=str))
def test_hollenberg_and_ct_stage_derivation(status, edema):
    grade, stage = DERIVATION[(status, edema)]
    assert m.hollenberg_grade(status, edema) == grade
    assert m.ct_stage(status, edema) is stage
    f = m.ParsFinding(m.Level.L5, m.Side.LEFT, status, edema=m.Edema(edema))
    assert f.mri_grade_derived == grade and f.mri_grade == grade
    assert f.ct_stage_derived is stage and f.ct_stage is stage


def test_stress_reaction_cannot_have_absent_edema():
    with pytest.raises(ValueError, match="stress reaction"):
        m.ParsFinding(m.Level.L5, m.Side.LEFT, S.STRESS_REACTION, edema=m.Edema(False))


def test_ang_grade_splits_incomplete_by_activity():
    assert m.ang_grade(S.INCOMPLETE_FRACTURE, True) == "2a"
    assert m.ang_grade(S.INCOMPLETE_FRACTURE, False) == "2b"
    assert m.ang_grade(S.COMPLETE_FRACTURE, False) == "4"


def test_ct_stage_small_gap_complete_fracture_is_early():
    assert m.ct_stage(S.COMPLETE_FRACTURE, True, gap_mm=0.8) is m.CTStage.EARLY
    assert m.ct_stage(S.COMPLETE_FRACTURE, True, gap_mm=1.5) is m.CTStage.PROGRESSIVE


def test_overrides_win_over_derived_values():
    f = m.ParsFinding(m.Level.L5, m.Side.RIGHT, S.COMPLETE_FRACTURE, edema=m.Edema(True),
                      mri_grade_override=4, ct_stage_override="terminal")
    assert f.mri_grade_derived == 3 and f.mri_grade == 4
    assert f.ct_stage_derived is m.CTStage.PROGRESSIVE and f.ct_stage is m.CTStage.TERMINAL


@pytest.mark.parametrize("bad", [5, -1, True, 2.5])
def test_mri_override_range(bad):
    with pytest.raises(ValueError):
        m.ParsFinding(m.Level.L5, m.Side.RIGHT, S.COMPLETE_FRACTURE, mri_grade_override=bad)


@pytest.mark.parametrize("bad", [0, 6, True])
def test_pfirrmann_range(bad):
    with pytest.raises(ValueError):
        m.LevelFinding(m.Level.L5, disc_pfirrmann=bad)


@pytest.mark.parametrize(
    "kwargs",
    [dict(percent=-1), dict(percent=201), dict(percent=float("nan")), dict(percent=10, slip_angle_deg=95),
     dict(percent=10, landmarks_lps={"x": (1, 2, 3, 4)}), dict(percent=10, landmarks_lps={"": (1, 2, 3)}),
     dict(percent=10, direction="sideways")],
)
def test_invalid_slips_refused(kwargs):
    with pytest.raises((ValueError, TypeError)):
        m.Slip(**kwargs)


def test_slip_landmarks_normalised_and_hashable():
    s = m.Slip(30, landmarks_lps={"L5 postero-inferior corner": [1, 2, 3]})
    assert s.landmarks_lps == {"L5 postero-inferior corner": (1.0, 2.0, 3.0)}
    hash(s)  # a frozen finding must stay hashable although it holds a dict
    assert s == m.Slip(30.0, landmarks_lps={"L5 postero-inferior corner": (1.0, 2.0, 3.0)})


def test_annotation_ref_validation_and_normalisation():
    ref = m.AnnotationRef("a", "length", points_px=[[1, 2]], points_lps=[[1, 2, 3]], frame=2)
    assert ref.points_px == ((1.0, 2.0),) and ref.points_lps == ((1.0, 2.0, 3.0),)
    for bad in (dict(annotation_id=""), dict(kind=""), dict(frame=0), dict(points_px=[(1, 2, 3)]),
                dict(points_lps=[(1, 2)]), dict(points_px=[(1, float("inf"))])):
        with pytest.raises((ValueError, TypeError)):
            m.AnnotationRef(**{"annotation_id": "a", "kind": "length", **bad})


def test_edema_and_gap_consistency():
    with pytest.raises(ValueError):
        m.Edema(False, frozenset({m.EdemaSite.PARS}))
    with pytest.raises(ValueError):
        m.Edema(True, signal_ratio=-0.1)
    with pytest.raises(ValueError, match="gap"):
        m.ParsFinding(m.Level.L5, m.Side.LEFT, S.INTACT, gap_mm=2.0)
    with pytest.raises(ValueError):
        m.ParsFinding(m.Level.L5, m.Side.LEFT, S.COMPLETE_FRACTURE, gap_mm=60.0)


def test_context_ranges():
    for bad in (dict(age_years=130), dict(pain_vas=11), dict(odi=-1), dict(neuro_deficit="worse")):
        with pytest.raises(ValueError):
            m.ClinicalContext(**bad)


def test_study_refuses_duplicates_and_with_pars_sorts():
    a = m.ParsFinding("L5", "left", "intact")
    with pytest.raises(ValueError, match="two pars"):
        m.StudyFindings(pars=(a, a))
    with pytest.raises(ValueError, match="two level"):
        m.StudyFindings(levels=(m.LevelFinding("L5"), m.LevelFinding("L5")))
    f = m.StudyFindings().with_pars(m.ParsFinding("L5", "right", "intact")).with_pars(a)
    f = f.with_pars(m.ParsFinding("L4", "right", "complete_fracture"))
    assert [(p.level.value, p.side.value) for p in f.pars] == [("L4", "right"), ("L5", "left"), ("L5", "right")]
    assert f.pars_at("L5", "left") == a and f.pars_at("L3", "left") is None
    f = f.with_level(m.LevelFinding("L5", disc_pfirrmann=3)).with_level(m.LevelFinding("L4"))
    assert [lv.level for lv in f.levels] == [m.Level.L4, m.Level.L5]
    assert f.level("L5").disc_degenerated is True


def test_study_findings_hashable_with_slip_landmarks():
    from findings_factories import rich_findings

    f = rich_findings()
    assert hash(f) == hash(rich_findings())  # usable as a dict key / in sets (undo stacks, caches)
    assert len({f, rich_findings()}) == 1


# ------------------------------------------------------------------ read_on and the CT stage basis

@pytest.mark.parametrize("read_on, confirmed, stage, basis", [
    ({"radiograph"}, False, None, None),  # a defect seen on an oblique radiograph only: suspected, no CT stage
    ({"NM"}, False, None, None),
    ({"radiograph", "NM"}, False, None, None),
    ({"CT"}, True, m.CTStage.PROGRESSIVE, m.CTStageBasis.CT),
    ({"radiograph", "CT", "MR"}, True, m.CTStage.PROGRESSIVE, m.CTStageBasis.CT),
    ({"MR"}, True, m.CTStage.PROGRESSIVE, m.CTStageBasis.MRI_CROSSWALK),
    (set(), None, m.CTStage.PROGRESSIVE, m.CTStageBasis.UNRECORDED),
])
def test_ct_stage_only_from_cross_sectional_reads(read_on, confirmed, stage, basis):
    p = m.ParsFinding("L5", "left", "complete_fracture", gap_mm=3.0, read_on=frozenset(read_on))
    assert p.cross_sectional_confirmation is confirmed
    assert (p.ct_stage_derived, p.ct_stage, p.ct_stage_basis) == (stage, stage, basis)


def test_reader_stage_on_a_radiograph_only_entry_is_kept_as_the_readers():
    p = m.ParsFinding("L5", "left", "complete_fracture", read_on=frozenset({"radiograph"}),
                      ct_stage_override="terminal")
    assert p.ct_stage_derived is None
    assert (p.ct_stage, p.ct_stage_basis) == (m.CTStage.TERMINAL, m.CTStageBasis.READER)
