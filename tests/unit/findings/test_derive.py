"""Annotations -> findings (derive_findings) and table edits -> annotations."""

import pytest

from app.annotations import model as am
from app.annotations.store import AnnotationStore
from app.findings.derive import apply_finding_edit_to_annotations, derive_findings, edema_signal_ratio
from app.findings.model import (
    AnnotationRef,
    Edema,
    Level,
    LevelFinding,
    MeyerdingGrade,
    ParsFinding,
    ParsStatus,
    Side,
    Slip,
    SlipAngleEndplate,
    SlipDirection,
    SlipTechnique,
    StudyFindings,
)

UID = dict(series_instance_uid="1.2", sop_instance_uid="1.2.3")


def marker(level, side, status, point=(5, 5), **kw):
    return am.ParsMarker(points_px=(point,), level=level, side=side, status=status, **UID, **kw)


def slip_annotation(pct=18.0, level="L5", lps=False, with_angle=False, **kw):
    pts = [(300.0, 400.0), (200.0, 400.0), (300.0 - pct, 380.0)]
    roles = [am.S1_PS, am.S1_AS, am.L5_PI]
    if with_angle:
        pts += [(280.0, 378.0), (190.0, 370.0), (300.0, 480.0)]
        roles += [am.L5_EP_1, am.L5_EP_2, am.S1_WALL]
    extra = {}
    if lps:
        extra["points_lps"] = tuple((0.0, -c * 0.5, -r * 0.5) for c, r in pts)
    return am.MeyerdingSlip(points_px=tuple(pts), roles=tuple(roles), level=level, pixel_spacing_mm=(0.5, 0.5),
                            **UID, **extra, **kw)


def roi(role, mean, level=None, side=None, sop="1.2.3", modified=""):
    kw = {"modified": modified} if modified else {}
    return am.EllipseROI(points_px=((0, 0), (10, 10)), role=role, level=level, side=side,
                         series_instance_uid="1.2", sop_instance_uid=sop, stats=(mean, 1.0, 50, 10.0), **kw)


def test_pars_markers_create_findings_with_provenance():
    m1 = marker("L5", "left", "complete_fracture")
    m2 = marker("L5", "right", "stress_reaction", point=(9, 9))
    pending = am.ParsMarker(points_px=((1, 1),), **UID)
    out = derive_findings([m1, m2, pending], StudyFindings(study_instance_uid="S"))
    assert out.study_instance_uid == "S"
    left = out.pars_at(Level.L5, Side.LEFT)
    assert left.status is ParsStatus.COMPLETE_FRACTURE
    assert left.provenance == (m1.ref(),)
    assert left.provenance[0].points_px == ((5.0, 5.0),) and left.provenance[0].sop_instance_uid == "1.2.3"
    right = out.pars_at(Level.L5, Side.RIGHT)
    assert right.status is ParsStatus.STRESS_REACTION and right.mri_grade == 1
    assert len(out.pars) == 2


def test_marker_updates_existing_finding_keeping_table_fields():
    base = StudyFindings().with_pars(ParsFinding(Level.L5, Side.LEFT, ParsStatus.INCOMPLETE_FRACTURE,
                                                 edema=Edema(present=True), gap_mm=0.5, note="from table"))
    m = marker("L5", "left", "complete_fracture")
    out = derive_findings([m], base)
    f = out.pars_at(Level.L5, Side.LEFT)
    assert f.status is ParsStatus.COMPLETE_FRACTURE and f.gap_mm == 0.5 and f.note == "from table"
    assert f.edema.present is True and f.mri_grade == 3
    assert f.provenance == (m.ref(),)


def test_latest_marker_wins_and_all_are_cited():
    old = marker("L4", "right", "intact", created="2026-01-01T00:00:00+00:00")
    new = marker("L4", "right", "incomplete_fracture", point=(7, 7), created="2026-01-02T00:00:00+00:00")
    out = derive_findings([new, old], StudyFindings())
    f = out.pars_at(Level.L4, Side.RIGHT)
    assert f.status is ParsStatus.INCOMPLETE_FRACTURE
    assert [r.annotation_id for r in f.provenance] == [old.id, new.id]


def test_hand_entered_findings_preserved_and_stale_derived_withdrawn():
    hand = ParsFinding(Level.L3, Side.LEFT, ParsStatus.INTACT)
    hand_slip = LevelFinding(Level.L4, slip=Slip(
        percent=12.0, technique=SlipTechnique.ENTERED))
    m = marker("L5", "left", "complete_fracture")
    s = slip_annotation()
    base = StudyFindings(pars=(hand,), levels=(hand_slip,))
    derived = derive_findings([m, s], base)
    assert derived.pars_at(Level.L3, Side.LEFT) == hand
    assert derived.level(Level.L4) == hand_slip
    assert derived.pars_at(Level.L5, Side.LEFT) is not None and derived.level(Level.L5).slip is not None
    # annotations deleted: their findings go, hand-entered ones stay
    gone = derive_findings([], derived)
    assert gone.pars_at(Level.L5, Side.LEFT) is None
    assert gone.level(Level.L5).slip is None
    assert gone.pars_at(Level.L3, Side.LEFT) == hand and gone.level(Level.L4) == hand_slip


def test_meyerding_slip_on_radiograph_uses_px_landmarks():
    s = slip_annotation(pct=18.0, with_angle=True, calibration="ImagerPixelSpacing / magnification")
    out = derive_findings([s], StudyFindings())
    slip = out.level(Level.L5).slip
    assert slip.percent == pytest.approx(18.0) and slip.grade is MeyerdingGrade.I
    assert slip.direction is SlipDirection.ANTERIOR
    assert slip.technique is SlipTechnique.POSTERIOR_CORNER_PERPENDICULAR
    assert slip.landmarks_lps["L5 postero-inferior corner"] == (282.0, 380.0)
    assert slip.landmarks_lps["S1 postero-superior corner"] == (300.0, 400.0)
    assert slip.slip_angle_deg == pytest.approx(s.slip_angle_deg, abs=1e-3) and slip.slip_angle_deg < 0
    assert slip.slip_angle_endplate is SlipAngleEndplate.L5_INFERIOR
    assert slip.provenance[0].annotation_id == s.id and slip.provenance[0].kind == "meyerding"


def test_meyerding_slip_on_ct_uses_lps_and_keeps_level_fields():
    s = slip_annotation(pct=30.0, level="L4", lps=True)
    base = StudyFindings().with_level(LevelFinding(Level.L4, disc_pfirrmann=4, note="keep"))
    out = derive_findings([s], base)
    lv = out.level(Level.L4)
    assert lv.disc_pfirrmann == 4 and lv.note == "keep"
    assert lv.slip.percent == pytest.approx(30.0) and lv.slip.grade is MeyerdingGrade.II
    assert lv.slip.landmarks_lps["L4 postero-inferior corner"] == pytest.approx((0.0, -135.0, -190.0))
    assert "L5 antero-superior corner" in lv.slip.landmarks_lps
    assert lv.slip.slip_angle_deg is None


def test_retrolisthesis_and_cap():
    retro = slip_annotation(pct=-10.0)
    out = derive_findings([retro], StudyFindings())
    assert out.level(Level.L5).slip.direction is SlipDirection.POSTERIOR
    assert out.level(Level.L5).slip.percent == pytest.approx(10.0)
    notes = []
    huge = slip_annotation(pct=250.0)
    out = derive_findings([huge], StudyFindings(), notes=notes)
    assert out.level(Level.L5).slip.percent == 200.0 and notes


def test_incomplete_meyerding_ignored():
    partial = am.MeyerdingSlip(points_px=((0, 0), (10, 0)), roles=(am.S1_PS, am.S1_AS), **UID)
    assert derive_findings([partial], StudyFindings()) == StudyFindings()


def test_edema_roi_signal_ratio_with_reference():
    m = marker("L5", "left", "stress_reaction")
    e = roi("edema", 300.0, "L5", "left")
    r_other_image = roi("reference", 50.0, sop="other", modified="2026-12-01T00:00:00+00:00")
    r_same = roi("reference", 100.0)
    notes = []
    out = derive_findings([m, e, r_other_image, r_same], StudyFindings(), notes=notes)
    f = out.pars_at(Level.L5, Side.LEFT)
    assert f.edema.signal_ratio == pytest.approx(3.0)  # same-image reference preferred
    ids = [r.annotation_id for r in f.provenance]
    assert ids == [m.id, e.id, r_same.id]
    # ROI removed -> ratio withdrawn, marker provenance kept
    out2 = derive_findings([m, r_same], out)
    f2 = out2.pars_at(Level.L5, Side.LEFT)
    assert f2.edema.signal_ratio is None and [r.annotation_id for r in f2.provenance] == [m.id]


def test_edema_roi_without_finding_or_reference_gives_notes():
    notes = []
    out = derive_findings([roi("edema", 300.0, "L4", "right")], StudyFindings(), notes=notes)
    # an edema ROI alone creates the pars entry with oedema present (issue 9), and says so
    p = out.pars_at(Level.L4, Side.RIGHT)
    assert p is not None and p.edema.present is True and p.edema.signal_ratio is None
    assert any("pars entry created" in n for n in notes) and any("no reference" in n for n in notes)
    assert derive_findings([], out).pars == ()  # the ROI deleted: the entry it created goes too
    notes = []
    out = derive_findings([marker("L4", "right", "intact"), roi("edema", 300.0, "L4", "right")],
                          StudyFindings(), notes=notes)
    assert out.pars_at(Level.L4, Side.RIGHT).edema.signal_ratio is None
    assert any("no reference" in n for n in notes)


@pytest.mark.parametrize(("ref_mean", "expected"), [(100.0, 3.0), (-50.0, None), (0.0, None), (1.0, None)])
def test_ratio_beside_the_roi_is_the_ratio_in_the_findings(ref_mean, expected):
    """One rule: the text beside an edema ROI and Edema.signal_ratio agree, also for a CT
    reference with a negative mean (no ratio, not a negative one) and an out-of-range ratio."""
    edema, reference = roi("edema", 300.0, "L5", "left"), roi("reference", ref_mean)
    ratio, problem = edema_signal_ratio(edema, [edema, reference])
    stored = derive_findings([edema, reference], StudyFindings()).pars_at(Level.L5, Side.LEFT).edema.signal_ratio
    assert ratio == stored == (pytest.approx(expected) if expected is not None else None)
    assert (problem == "") == (expected is not None)


def test_derive_from_store_and_idempotent():
    s = AnnotationStore()
    s.add(marker("L5", "left", "complete_fracture"))
    s.add(slip_annotation())
    once = derive_findings(s, StudyFindings())
    twice = derive_findings(s, once)
    assert once == twice


def test_conflicting_status_with_table_edema_is_resolved_with_note():
    base = StudyFindings().with_pars(ParsFinding(Level.L5, Side.LEFT, ParsStatus.COMPLETE_FRACTURE,
                                                 edema=Edema(present=False)))
    notes = []
    out = derive_findings([marker("L5", "left", "stress_reaction")], base, notes=notes)
    f = out.pars_at(Level.L5, Side.LEFT)
    assert f.status is ParsStatus.STRESS_REACTION and f.edema.present is None and notes


# --------------------------------------------------------------------------- reverse direction

def test_table_status_edit_updates_marker_undoably():
    s = AnnotationStore()
    m = s.add(marker("L5", "left", "complete_fracture"))
    findings = derive_findings(s, StudyFindings())
    edited = findings.pars_at(Level.L5, Side.LEFT)
    from dataclasses import replace
    changed = apply_finding_edit_to_annotations(s, replace(edited, status=ParsStatus.CHRONIC_NONUNION))
    assert changed == 1 and s[m.id].status is ParsStatus.CHRONIC_NONUNION
    # same edit again: nothing to do (no loop)
    assert apply_finding_edit_to_annotations(s, replace(edited, status=ParsStatus.CHRONIC_NONUNION)) == 0
    s.undo()
    assert s[m.id].status is ParsStatus.COMPLETE_FRACTURE


def test_study_findings_edit_syncs_markers_without_provenance_by_level_side():
    s = AnnotationStore()
    a = s.add(marker("L4", "right", "intact"))
    b = s.add(marker("L5", "left", "intact"))
    f = StudyFindings(pars=(ParsFinding(Level.L4, Side.RIGHT, ParsStatus.INCOMPLETE_FRACTURE),
                            ParsFinding(Level.L5, Side.LEFT, ParsStatus.COMPLETE_FRACTURE)))
    assert apply_finding_edit_to_annotations(s, f) == 2
    assert s[a.id].status is ParsStatus.INCOMPLETE_FRACTURE and s[b.id].status is ParsStatus.COMPLETE_FRACTURE
    assert len(s.history) == 3  # two adds + one edit step
    assert apply_finding_edit_to_annotations(s, LevelFinding(Level.L5)) == 0


def test_edit_moving_level_follows_provenance():
    s = AnnotationStore()
    m = s.add(marker("L5", "left", "intact"))
    ref = AnnotationRef(annotation_id=m.id, kind="pars-marker")
    apply_finding_edit_to_annotations(s, ParsFinding(Level.L4, Side.LEFT, ParsStatus.INTACT, provenance=(ref,)))
    assert s[m.id].level is Level.L4


def test_derived_findings_survive_the_findings_json_round_trip():
    from app.findings.io import dumps_findings, loads_findings
    anns = [marker("L5", "left", "stress_reaction"), marker("L5", "right", "complete_fracture", point=(8, 8)),
            slip_annotation(pct=22.0, with_angle=True), slip_annotation(pct=12.0, level="L4", lps=True),
            roi("edema", 240.0, "L5", "left"), roi("reference", 120.0)]
    out = derive_findings(anns, StudyFindings(study_instance_uid="1.2.3"))
    back = loads_findings(dumps_findings(out))
    assert back == out
    assert back.pars_at(Level.L5, Side.LEFT).edema.signal_ratio == pytest.approx(2.0)
