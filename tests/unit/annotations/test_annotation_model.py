"""Annotation data model: measurements, units/calibration labels, serialisation, level labels."""

import json
import math

import numpy as np
import pytest

from app.annotations import model as am
from app.annotations.space import PixelSpace
from app.findings.model import Level, MeyerdingGrade, ParsStatus, Side, SlipTechnique
from app.geometry.frames import image_plane

RADIOGRAPH_LABEL = "ImagerPixelSpacing / magnification"


def test_length_units_and_calibration_label():
    px = am.Length(points_px=((0, 0), (30, 40)))
    assert px.length == pytest.approx(50.0) and px.length_mm is None
    assert px.display_text == "50.0 px"
    rg = am.Length(points_px=((0, 0), (30, 40)), pixel_spacing_mm=(0.2, 0.1), calibration=RADIOGRAPH_LABEL)
    # x = 30 * 0.1 = 3, y = 40 * 0.2 = 8
    assert rg.length_mm == pytest.approx(math.hypot(3, 8))
    assert rg.display_text == f"{math.hypot(3, 8):.1f} mm ({RADIOGRAPH_LABEL})"
    ct = am.Length(points_px=((0, 0), (1, 0)), points_lps=((0, 0, 0), (0, 0, 23.4)), pixel_spacing_mm=(1, 1))
    assert ct.display_text == "23.4 mm"  # LPS: patient mm, no calibration label


def test_angle_and_cobb_properties():
    a = am.Angle(points_px=((10, 0), (0, 0), (0, 10)))
    assert a.angle_deg == pytest.approx(90.0) and a.display_text == "90.0°"
    c = am.CobbAngle(points_px=((0, 0), (10, 0), (0, 5), (10, 15)))
    assert c.angle_deg == pytest.approx(45.0)
    # anisotropic pixels: angles are computed in mm
    c2 = am.CobbAngle(points_px=((0, 0), (10, 0), (0, 5), (10, 15)), pixel_spacing_mm=(0.5, 1.0))
    assert c2.angle_deg == pytest.approx(math.degrees(math.atan2(5, 10)))


def test_meyerding_properties_and_roles():
    m = am.MeyerdingSlip(points_px=((100, 200), (20, 200), (85, 180)), roles=(am.S1_PS, am.S1_AS, am.L5_PI))
    assert m.percent_slip == pytest.approx(18.75)
    assert m.grade is MeyerdingGrade.I
    assert m.direction == "anterolisthesis"
    assert m.slip_angle_deg is None
    assert m.landmark_name(am.L5_PI) == "L5 postero-inferior corner"
    assert m.landmark_name(am.S1_AS) == "S1 antero-superior corner"
    l4 = am.MeyerdingSlip(points_px=m.points_px, roles=m.roles, level="L4")
    assert l4.landmark_name(am.S1_PS) == "L5 postero-superior corner"
    assert l4.display_text.startswith("L4-L5 18.8 %")
    retro = am.MeyerdingSlip(points_px=((100, 200), (20, 200), (110, 180)), roles=m.roles)
    assert retro.direction == "retrolisthesis" and retro.grade is None
    assert "retrolisthesis 12.5 %" in retro.display_text
    with pytest.raises(am.AnnotationDataError):
        am.MeyerdingSlip(points_px=((1, 2),), roles=(am.S1_PS, am.S1_AS))
    with pytest.raises(am.AnnotationDataError):
        am.MeyerdingSlip(points_px=((1, 2), (3, 4)), roles=(am.S1_PS, am.S1_PS))


def test_meyerding_technique_2_needs_wall_point():
    roles = (am.S1_PS, am.S1_AS, am.L5_PI)
    m = am.MeyerdingSlip(points_px=((0, 0), (40, 0), (10, -5)), roles=roles, technique=SlipTechnique.POSTERIOR_WALL_TANGENT)
    assert m.slip is None and not m.is_complete
    m2 = am.MeyerdingSlip(points_px=((0, 0), (40, 0), (10, -5), (16, -35)), roles=(*roles, am.L5_WALL_TOP),
                          technique="posterior-wall-tangent")
    assert m2.percent_slip == pytest.approx(100 * 9 / 40)


def test_meyerding_on_sagittal_ct_uses_lps():
    plane = image_plane((0.0, 60.0, 40.0), (0, -1, 0), (0, 0, -1), (0.5, 0.8))  # rows 0.5 mm, columns 0.8 mm
    space = PixelSpace.for_plane(plane)
    pts = ((100.0, 200.0), (50.0, 200.0), (90.0, 190.0))
    m = am.MeyerdingSlip(points_px=pts, points_lps=space.points_lps(pts), roles=(am.S1_PS, am.S1_AS, am.L5_PI),
                         pixel_spacing_mm=space.spacing_mm)
    assert m.percent_slip == pytest.approx(20.0)
    assert m.points_mm().shape == (3, 3)


def test_roi_stats_and_area_text():
    img = np.full((40, 40), 10.0)
    img[10:30, 10:30] = 50.0
    e = am.EllipseROI(points_px=((15, 15), (25, 25)), pixel_spacing_mm=(0.5, 0.5), calibration="")
    e = e.with_stats(img)
    assert e.stats.mean == pytest.approx(50.0) and e.stats.n > 60
    assert e.area == pytest.approx(math.pi * 2.5 * 2.5)
    assert "mean 50.0" in e.display_text and "mm²" in e.display_text
    f = am.FreehandROI(points_px=((5, 5), (35, 5), (35, 35), (5, 35)), role="reference").with_stats(img)
    # pixel centres 5..34 on both axes are inside (half-open even-odd rule): 30 x 30
    assert f.stats.n == 900
    assert f.stats.mean == pytest.approx((400 * 50 + 500 * 10) / 900)
    assert f.area == pytest.approx(900.0) and "px²" in f.display_text
    with pytest.raises(am.AnnotationDataError):
        am.EllipseROI(points_px=((1, 1), (2, 2)), role="tumour")


def test_pars_marker_pending_and_enums():
    p = am.ParsMarker(points_px=((5, 5),))
    assert p.pending and not p.is_complete and p.display_text == "pars ?"
    q = p.touched(level="L5", side="left", status="complete_fracture")
    assert q.level is Level.L5 and q.side is Side.LEFT and q.status is ParsStatus.COMPLETE_FRACTURE
    assert not q.pending and q.is_complete
    assert q.modified >= p.modified
    with pytest.raises(ValueError):
        am.ParsMarker(points_px=((5, 5),), level="L9")


def test_validation_errors():
    with pytest.raises(am.AnnotationDataError):
        am.Length(points_px=((0, 0), (1, 1), (2, 2)))
    with pytest.raises(am.AnnotationDataError):
        am.Length(points_px=((0, 0), (1, float("nan"))))
    with pytest.raises(am.AnnotationDataError):
        am.Length(points_px=((0, 0), (1, 1)), points_lps=((0, 0, 0),))
    with pytest.raises(am.AnnotationDataError):
        am.Length(points_px=((0, 0), (1, 1)), frame=0)


@pytest.mark.parametrize("ann", [
    am.ParsMarker(points_px=((5, 6),), level="L5", side="right", status="stress_reaction", frame=3),
    am.MeyerdingSlip(points_px=((100, 200), (20, 200), (85, 180)), roles=(am.S1_PS, am.S1_AS, am.L5_PI),
                     pixel_spacing_mm=(0.14, 0.14), calibration=RADIOGRAPH_LABEL, creator="dr a"),
    am.EllipseROI(points_px=((1, 1), (9, 5)), role="edema", level="L4", side="left",
                  stats=(12.5, 1.5, 30, 4.2)),
    am.FreehandROI(points_px=((0, 0), (5, 0), (5, 5)), points_lps=((0, 0, 1), (5, 0, 1), (5, 5, 1))),
    am.Length(points_px=((0, 0), (3, 4)), label="gap"),
    am.Angle(points_px=((1, 0), (0, 0), (0, 1))),
    am.CobbAngle(points_px=((0, 0), (1, 0), (0, 1), (1, 2))),
    am.ArrowText(points_px=((0, 0), (3, 4)), label="defect"),
    am.LevelLabel(points_px=((3, 4),), level="T12", inferred=True),
])
def test_dict_round_trip_through_json(ann):
    d = json.loads(json.dumps(ann.to_dict()))
    back = am.annotation_from_dict(d)
    assert back == ann
    assert type(back) is type(ann)


def test_from_dict_errors():
    with pytest.raises(am.AnnotationDataError, match="unknown annotation kind"):
        am.annotation_from_dict({"kind": "laser"})
    with pytest.raises(am.AnnotationDataError):
        am.annotation_from_dict({"kind": "length", "points_px": [[0, 0], [1]]})
    with pytest.raises(am.AnnotationDataError):
        am.annotation_from_dict(["length"])


# --------------------------------------------------------------------------- level labels

def _labels_px(rows, names):
    return [am.LevelLabel(points_px=((100.0, r),), level=n) for r, n in zip(rows, names, strict=True)]


def test_propagate_from_one_label_px():
    labels = _labels_px([400, 100, 250, 175, 325], [None, None, None, None, "L5"])
    out = propagate_names(labels)
    # rows increase caudally: 100 L1? order cranial->caudal: 100,175,250,325,400 -> L2,L3,L4,L5,S1
    assert out == ["S1", "L2", "L4", "L3", "L5"]


def propagate_names(labels, **kw):
    return [lb.level for lb in am.propagate_level_labels(labels, **kw)]


def test_propagate_lps_uses_superior_axis_and_marks_inferred():
    labels = [am.LevelLabel(points_px=((0, 0),), points_lps=((0, 0, z),), level=n)
              for z, n in [(-40, None), (0, "L3"), (-80, None), (35, None)]]
    out = am.propagate_level_labels(labels)
    assert [lb.level for lb in out] == ["L4", "L3", "L5", "L2"]
    assert [lb.inferred for lb in out] == [True, False, True, True]
    assert out[1] is labels[1]
    # relabelling the anchor moves the inferred ones
    relabelled = [out[0], out[1].touched(level="L2"), out[2], out[3]]
    assert propagate_names(relabelled) == ["L3", "L2", "L4", "L1"]


def test_propagate_conflict_and_edges():
    labels = _labels_px([100, 200, 300], ["L1", None, "L2"])  # L2 should be two below L1
    with pytest.raises(am.LevelLabelConflict):
        am.propagate_level_labels(labels)
    assert propagate_names(_labels_px([100, 200], [None, None])) == [None, None]
    # running off the end of the vertebra list: None
    top = _labels_px([100, 200], [None, "C1"])
    assert propagate_names(top) == [None, "C1"]
    # custom cranial direction (image rotated: cranial = +column)
    side = [am.LevelLabel(points_px=((c, 50.0),), level=n) for c, n in [(10, None), (90, "L1"), (50, None)]]
    assert propagate_names(side, cranial_direction=(1.0, 0.0)) == ["L3", "L1", "L2"]
