"""Spino-pelvic and flexion/extension segment tools (headless) and their findings."""

import json

import pytest

from app.annotations import model as am
from app.annotations.events import KeyEvent, PointerEvent
from app.annotations.space import PixelSpace
from app.annotations.spine import SegmentMotionLines, SpinoPelvicLines
from app.annotations.store import AnnotationStore
from app.annotations.tools import SpinoPelvicTool, ToolContext, ToolRegistry
from app.findings.derive import derive_findings
from app.findings.model import InstabilityMeasurement, Level, LevelFinding, SpinoPelvic, StudyFindings

LABEL = "ImagerPixelSpacing / magnification"
# pixel points on a 0.5 mm radiograph, patient facing +column (image mm = px * 0.5)
HIPS = ((190.0, 210.0), (230.0, 210.0))  # H = (210, 210) px
S1 = ((0.0, 0.0), (20.0, 20.0))  # SS 45, M = (10, 10) px: M->H = (200, 200) px -> PT 45, PI 90
L1 = ((0.0, -400.0), (40.0, -440.0))  # anterior end higher by 45 deg: LL = 90


def ctx(series="1.2.3", sop="1.2.3.4"):
    return ToolContext(series, sop, None, PixelSpace((0.5, 0.5), LABEL))


def click(tool, p):
    tool.on_pointer(PointerEvent("press", p))
    tool.on_pointer(PointerEvent("release", p))


def test_spinopelvic_tool_measures_live_and_commits_after_six_points():
    store = AnnotationStore()
    tool = ToolRegistry.default().create("spinopelvic", store, ctx())
    assert isinstance(tool, SpinoPelvicTool) and "femoral head centre 1" in tool.prompt
    for p in HIPS + S1[:1]:
        click(tool, p)
    tool.on_pointer(PointerEvent("move", S1[1]))  # live: the preview follows the pointer
    live = tool.preview.angles
    assert (live.pelvic_incidence_deg, live.pelvic_tilt_deg, live.sacral_slope_deg) == pytest.approx((90, 45, 45))
    assert "PI 90.0°" in tool.preview.display_text
    click(tool, S1[1])
    assert len(store) == 0 and "L1" in tool.prompt and "Enter" in tool.prompt
    click(tool, L1[0])
    click(tool, L1[1])
    (ann,) = store.annotations
    assert isinstance(ann, SpinoPelvicLines) and ann.angles.lumbar_lordosis_deg == pytest.approx(90.0)
    assert "LL 90.0°" in ann.display_text


def test_enter_after_the_s1_endplate_finishes_without_lordosis():
    store = AnnotationStore()
    tool = SpinoPelvicTool(store, ctx())
    for p in HIPS + S1:
        click(tool, p)
    click(tool, L1[0])  # an unfinished L1 endplate is dropped
    assert tool.on_key(KeyEvent("return"))
    (ann,) = store.annotations
    assert len(ann.points_px) == 4 and ann.angles.lumbar_lordosis_deg is None and "LL ?" in ann.display_text
    assert not tool.busy


def test_enter_before_the_s1_endplate_does_not_finish():
    store = AnnotationStore()
    tool = SpinoPelvicTool(store, ctx())
    for p in HIPS + S1[:1]:
        click(tool, p)
    assert not tool.on_key(KeyEvent("return")) and len(store) == 0 and tool.busy


def test_spinopelvic_finding_with_provenance_and_withdrawal():
    ann = ctx().make(SpinoPelvicLines, HIPS + S1 + L1)
    found = derive_findings([ann], StudyFindings())
    assert found.spinopelvic == SpinoPelvic(90.0, 45.0, 45.0, 90.0, provenance=(ann.ref(),))
    sp = found.spinopelvic
    assert sp.pelvic_incidence_deg == pytest.approx(sp.pelvic_tilt_deg + sp.sacral_slope_deg)
    assert derive_findings([], found).spinopelvic is None  # annotation deleted: finding withdrawn
    hand = StudyFindings(spinopelvic=SpinoPelvic(pelvic_incidence_deg=50.0))
    assert derive_findings([], hand) == hand  # entered by hand: kept


def test_out_of_range_value_is_left_unknown_with_a_note():
    # hip axis far posterior: PT -60 is outside the model's -40..90
    ann = ctx().make(SpinoPelvicLines, ((-42.0, 30.0), (-42.0, 30.0), (0.0, 0.0), (20.0, 0.0)))
    notes = []
    sp = derive_findings([ann], StudyFindings(), notes=notes).spinopelvic
    assert sp.pelvic_tilt_deg is None and sp.sacral_slope_deg == 0.0 and any("pelvic tilt" in n for n in notes)


def test_annotations_round_trip_through_the_document():
    sp = ctx().make(SpinoPelvicLines, HIPS + S1)
    seg = ctx().make(SegmentMotionLines, ((0, -20), (80, -20), (0, 0), (80, 0)), level="L5", view="extension")
    for a in (sp, seg):
        assert am.annotation_from_dict(json.loads(json.dumps(a.to_dict()))) == a
    with pytest.raises(am.AnnotationDataError, match="flexion or extension"):
        ctx().make(SegmentMotionLines, (), view="lateral")
    with pytest.raises(am.AnnotationDataError, match="L1-L5"):
        ctx().make(SegmentMotionLines, (), level="S1")


# ------------------------------------------------------------------ segments on flexion / extension

LOWER = ((0.0, 0.0), (80.0, 0.0))  # 40 mm deep at 0.5 mm/px


def segment_tool(view, store, **kw):
    return ToolRegistry.default().create(f"motion-{view}", store, ctx(series=view), **kw)


def test_segment_tools_and_instability_from_both_views():
    store = AnnotationStore()
    flex = segment_tool("flexion", store, level=Level.L4)
    for p in ((8.0, -20.0), (88.0, -20.0), *LOWER):  # 4 mm forward, parallel endplates
        click(flex, p)
    ext = segment_tool("extension", store, level=Level.L4)
    assert "extension" in ext.prompt and "L4 inferior endplate" in ext.prompt
    for p in ((-2.0, -20.0), (78.0, -100.0), *LOWER):  # 1 mm back, 45 deg lordotic
        click(ext, p)
    f_ann, e_ann = store.annotations
    assert (f_ann.view, e_ann.view, f_ann.level) == ("flexion", "extension", Level.L4)
    assert f_ann.position.translation == pytest.approx(4.0) and "4.0 mm (" + LABEL in f_ann.display_text
    lv = derive_findings(store, StudyFindings()).level(Level.L4)
    assert lv.instability_measured == InstabilityMeasurement(5.0, 12.5, 45.0, provenance=(f_ann.ref(), e_ann.ref()))
    assert lv.instability is None  # the reader's yes/no is not set by a measurement


def test_one_view_only_gives_a_note_and_no_measurement():
    store = AnnotationStore()
    tool = segment_tool("flexion", store)
    for p in ((8.0, -20.0), (88.0, -20.0), *LOWER):
        click(tool, p)
    notes = []
    out = derive_findings(store, StudyFindings(), notes=notes)
    assert out.level(Level.L4) is None and any("flexion view only" in n for n in notes)


def test_measurement_withdrawn_when_a_view_is_deleted_and_hand_entry_kept():
    store = AnnotationStore()
    for view, pts in (("flexion", ((8.0, -20.0), (88.0, -20.0))), ("extension", ((-2.0, -20.0), (78.0, -20.0)))):
        tool = segment_tool(view, store, level=Level.L5)
        for p in pts + LOWER:
            click(tool, p)
    both = derive_findings(store, StudyFindings())
    assert both.level(Level.L5).instability_measured.translation_mm == pytest.approx(5.0)
    store.remove(store.annotations[0].id)
    assert derive_findings(store, both).level(Level.L5).instability_measured is None
    hand = StudyFindings(levels=(LevelFinding("L5", instability_measured=InstabilityMeasurement(angulation_deg=12.0)),))
    assert derive_findings([], hand) == hand


def test_uncalibrated_views_give_percent_and_angle_but_no_mm():
    px = ToolContext("1", "1.1", None, PixelSpace())
    f = px.make(SegmentMotionLines, ((8.0, -20.0), (88.0, -20.0), *LOWER), view="flexion")
    e = px.make(SegmentMotionLines, ((-2.0, -20.0), (78.0, -20.0), *LOWER), view="extension")
    m = derive_findings([f, e], StudyFindings()).level(Level.L4).instability_measured
    assert m.translation_mm is None and m.translation_pct == pytest.approx(12.5) and m.angulation_deg == 0.0


def test_segment_level_from_the_nearest_level_label():
    store = AnnotationStore()
    c = ctx(series="flexion")
    store.add(c.make(am.LevelLabel, ((40.0, -60.0),), level="L4"))
    store.add(c.make(am.LevelLabel, ((40.0, 60.0),), level="L5"))
    tool = segment_tool("flexion", store)
    for p in ((8.0, 40.0), (88.0, 40.0), (0.0, 80.0), (80.0, 80.0)):  # upper endplate nearest the L5 label
        click(tool, p)
    assert store.annotations[-1].level is Level.L5
