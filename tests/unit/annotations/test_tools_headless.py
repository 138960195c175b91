"""Every tool driven by PointerEvent/KeyEvent sequences (napari style, no Qt)."""

import math

import numpy as np
import pytest

from app.annotations import model as am
from app.annotations.events import KeyEvent, PointerEvent
from app.annotations.space import PixelSpace
from app.annotations.store import AnnotationStore
from app.annotations.tools import (
    AngleTool,
    ArrowTextTool,
    CobbTool,
    EllipseRoiTool,
    FreehandRoiTool,
    LengthTool,
    LevelLabelTool,
    MeyerdingTool,
    ParsMarkerTool,
    SelectTool,
    ToolContext,
    ToolRegistry,
    cancel_pending_marker,
    complete_pars_marker,
    set_annotation_text,
    set_level_label,
)
from app.findings.model import Level, MeyerdingGrade, ParsStatus, Side, SlipTechnique
from app.geometry.frames import image_plane

LABEL = "ImagerPixelSpacing / magnification"


def radiograph_ctx(**kw):
    return ToolContext("1.2.3", "1.2.3.4", None, PixelSpace((0.2, 0.2), LABEL), **kw)


def ct_ctx(**kw):
    plane = image_plane((0.0, 60.0, 40.0), (0, -1, 0), (0, 0, -1), (0.5, 0.5))  # sagittal slice x = 0
    return ToolContext("9.8", "9.8.7", None, PixelSpace.for_plane(plane), **kw)


def click(tool, p, button="left", modifiers=()):
    a = tool.on_pointer(PointerEvent("press", p, button=button, modifiers=frozenset(modifiers)))
    b = tool.on_pointer(PointerEvent("release", p, button=button, modifiers=frozenset(modifiers)))
    return a or b


def drag(tool, p0, p1, steps=5, modifiers=()):
    mods = frozenset(modifiers)
    tool.on_pointer(PointerEvent("press", p0, modifiers=mods))
    for t in np.linspace(0, 1, steps)[1:]:
        tool.on_pointer(PointerEvent("move", (p0[0] + t * (p1[0] - p0[0]), p0[1] + t * (p1[1] - p0[1])), modifiers=mods))
    tool.on_pointer(PointerEvent("release", p1, modifiers=mods))


def key(tool, k):
    return tool.on_key(KeyEvent(k))


# --------------------------------------------------------------------------- registry

def test_registry_ids_titles_shortcuts():
    r = ToolRegistry.default()
    shortcuts = {s.id: s.shortcut for s in r}
    assert shortcuts == {"select": "S", "pars": "P", "meyerding": "M", "ellipse": "E", "freehand": "F", "length": "L",
                         "angle": "A", "cobb": "C", "arrow-text": "T", "level-label": "V", "spinopelvic": "I",
                         "motion-flexion": "D", "motion-extension": "X"}
    assert r.by_shortcut("m").id == "meyerding"
    assert all(s.title for s in r)
    tool = r.create("length", AnnotationStore(), radiograph_ctx())
    assert isinstance(tool, LengthTool)
    with pytest.raises(ValueError):
        r.register(r["length"])


# --------------------------------------------------------------------------- Meyerding

S1_PS, S1_AS = (300.0, 400.0), (200.0, 400.0)  # anterior = smaller column


def l5_corner(pct, rise=20.0):
    return (S1_PS[0] - pct / 100.0 * 100.0, S1_PS[1] - rise)


def test_meyerding_three_clicks_live_preview_and_grade():
    s = AnnotationStore()
    t = MeyerdingTool(s, radiograph_ctx())
    assert "S1 postero-superior" in t.prompt
    click(t, S1_PS)
    click(t, S1_AS)
    assert "L5 postero-inferior" in t.prompt
    # live measurement while moving
    t.on_pointer(PointerEvent("move", l5_corner(10)))
    assert t.preview.percent_slip == pytest.approx(10.0) and t.preview.grade is MeyerdingGrade.I
    t.on_pointer(PointerEvent("move", l5_corner(30)))
    assert t.preview.percent_slip == pytest.approx(30.0) and t.preview.grade is MeyerdingGrade.II
    assert len(s) == 0
    created = []
    t.created.connect(created.append)
    click(t, l5_corner(18))
    assert len(s) == 1 and len(created) == 1
    ann = s.annotations[0]
    assert isinstance(ann, am.MeyerdingSlip)
    assert ann.percent_slip == pytest.approx(18.0) and ann.grade is MeyerdingGrade.I
    assert ann.series_instance_uid == "1.2.3" and ann.calibration == LABEL and ann.points_lps == ()
    # undo removes it, redo restores it
    s.undo()
    assert len(s) == 0
    s.redo()
    assert s.annotations[0] == ann
    # the tool started over after the undo: three new clicks make a second slip
    click(t, S1_PS)
    click(t, S1_AS)
    click(t, l5_corner(40))
    assert len(s) == 2


def test_meyerding_optional_slip_angle_is_one_undo_step():
    s = AnnotationStore()
    t = MeyerdingTool(s, radiograph_ctx())
    for p in (S1_PS, S1_AS, l5_corner(18)):
        click(t, p)
    # L5 inferior endplate: posterior (280, 378) -> anterior (190, 370): anterior end up = lordotic
    click(t, (280.0, 378.0))
    t.on_pointer(PointerEvent("move", (190.0, 370.0)))
    assert t.preview is not None and t.preview.has(am.L5_EP_1, am.L5_EP_2)
    click(t, (190.0, 370.0))
    click(t, (300.0, 480.0))  # S1 posterior wall, lower point (vertical wall)
    ann = s.annotations[0]
    assert ann.slip_angle_deg == pytest.approx(-math.degrees(math.atan2(8, 90)))
    assert not t.busy
    assert len(s.history) == 1
    s.undo()
    assert len(s) == 0


def test_meyerding_enter_finishes_and_drops_partial_angle_points():
    s = AnnotationStore()
    t = MeyerdingTool(s, radiograph_ctx())
    for p in (S1_PS, S1_AS, l5_corner(18)):
        click(t, p)
    click(t, (280.0, 378.0))  # only one endplate point
    assert s.annotations[0].has(am.L5_EP_1)
    assert key(t, "Return")
    ann = s.annotations[0]
    assert ann.roles == (am.S1_PS, am.S1_AS, am.L5_PI)
    assert len(s.history) == 1 and not t.busy


def test_meyerding_escape_and_right_click_before_commit_cancel():
    s = AnnotationStore()
    t = MeyerdingTool(s, radiograph_ctx())
    click(t, S1_PS)
    click(t, S1_AS)
    assert key(t, "Escape")
    assert t.preview is None and not t.busy and len(s) == 0
    click(t, S1_PS)
    assert t.on_pointer(PointerEvent("press", (1, 1), button="right"))
    assert not t.busy and "S1 postero-superior" in t.prompt


def test_meyerding_double_click_ends_optional_phase_without_extra_point():
    s = AnnotationStore()
    t = MeyerdingTool(s, radiograph_ctx())
    for p in (S1_PS, S1_AS, l5_corner(18)):
        click(t, p)
    # Qt double click: press, release, double_click, release
    p = (250.0, 300.0)
    t.on_pointer(PointerEvent("press", p))
    t.on_pointer(PointerEvent("release", p))
    t.on_pointer(PointerEvent("double_click", p))
    t.on_pointer(PointerEvent("release", p))
    assert s.annotations[0].roles == (am.S1_PS, am.S1_AS, am.L5_PI)
    assert not t.busy


def test_meyerding_without_slip_angle_and_retrolisthesis():
    s = AnnotationStore()
    t = MeyerdingTool(s, radiograph_ctx(), measure_slip_angle=False)
    for p in (S1_PS, S1_AS, l5_corner(-8)):
        click(t, p)
    ann = s.annotations[0]
    assert ann.direction == "retrolisthesis" and ann.percent_slip == pytest.approx(8.0)
    assert not t.busy


def test_meyerding_technique_2_and_level():
    s = AnnotationStore()
    t = MeyerdingTool(s, radiograph_ctx(), level=Level.L4, technique=SlipTechnique.POSTERIOR_WALL_TANGENT,
                      measure_slip_angle=False)
    click(t, (0.0, 0.0))
    click(t, (-40.0, 0.0))
    click(t, (-10.0, -5.0))
    assert len(s) == 0 and "posterior wall" in t.prompt
    click(t, (-16.0, -35.0))
    ann = s.annotations[0]
    assert ann.level is Level.L4 and ann.technique is SlipTechnique.POSTERIOR_WALL_TANGENT
    assert ann.percent_slip == pytest.approx(100 * 9 / 40)


def test_meyerding_on_ct_slice_records_lps():
    s = AnnotationStore()
    t = MeyerdingTool(s, ct_ctx(), measure_slip_angle=False)
    for p in ((100.0, 200.0), (20.0, 200.0), (85.0, 180.0)):
        click(t, p)
    ann = s.annotations[0]
    assert len(ann.points_lps) == 3 and all(v[0] == 0.0 for v in ann.points_lps)
    assert ann.percent_slip == pytest.approx(18.75)
    assert ann.calibration == ""


# --------------------------------------------------------------------------- pars marker

def test_pars_marker_click_pending_then_complete_one_undo_step():
    s = AnnotationStore()
    t = ParsMarkerTool(s, radiograph_ctx())
    created = []
    t.created.connect(created.append)
    click(t, (50, 60))
    m = created[0]
    assert isinstance(m, am.ParsMarker) and m.pending and m.points_px == ((50.0, 60.0),)
    done = complete_pars_marker(s, m.id, "L5", "left", "complete_fracture")
    assert s[m.id] == done and done.level is Level.L5 and done.status is ParsStatus.COMPLETE_FRACTURE
    assert len(s.history) == 1
    # a later completion edit is its own undo step
    s.add(am.Length(points_px=((0, 0), (1, 1))))
    complete_pars_marker(s, m.id, "L5", "left", "chronic_nonunion")
    assert s[m.id].status is ParsStatus.CHRONIC_NONUNION
    s.undo()
    assert s[m.id].status is ParsStatus.COMPLETE_FRACTURE


def test_pars_marker_popup_cancel_and_presets():
    s = AnnotationStore()
    t = ParsMarkerTool(s, radiograph_ctx())
    click(t, (5, 5))
    cancel_pending_marker(s, t.last_created.id)
    assert len(s) == 0 and not s.can_undo
    t.level, t.side, t.status = Level.L4, Side.RIGHT, ParsStatus.INTACT
    click(t, (6, 6))
    assert not s.annotations[0].pending


# --------------------------------------------------------------------------- ROIs

def synthetic_image():
    img = np.full((100, 100), 20.0)
    img[40:60, 40:60] = 80.0
    return img


def test_ellipse_roi_drag_with_stats_and_role():
    s = AnnotationStore()
    t = EllipseRoiTool(s, radiograph_ctx(image=synthetic_image))
    t.role, t.level, t.side = "edema", Level.L5, Side.LEFT
    drag(t, (44, 44), (56, 56))
    roi = s.annotations[0]
    assert isinstance(roi, am.EllipseROI) and roi.role == "edema" and roi.level is Level.L5
    assert roi.stats.mean == pytest.approx(80.0) and roi.stats.n > 80
    assert roi.area == pytest.approx(math.pi * 6 * 0.2 * 6 * 0.2)
    assert LABEL in roi.display_text
    # a click without drag makes nothing
    click(t, (10, 10))
    assert len(s) == 1


def test_ellipse_preview_during_drag():
    s = AnnotationStore()
    t = EllipseRoiTool(s, radiograph_ctx(image=synthetic_image()))
    seen = []
    t.preview_changed.connect(seen.append)
    t.on_pointer(PointerEvent("press", (10, 10)))
    t.on_pointer(PointerEvent("move", (30, 20), button="left"))
    assert t.preview.radii_px == (10.0, 5.0) and t.preview.stats.mean == pytest.approx(20.0)
    key(t, "Escape")
    assert t.preview is None and len(s) == 0 and seen[-1] is None


def test_freehand_roi_press_moves_release_closes():
    s = AnnotationStore()
    t = FreehandRoiTool(s, radiograph_ctx(image=synthetic_image()))
    t.role = "reference"
    square = [(30, 30), (70, 30), (70, 70), (30, 70)]
    t.on_pointer(PointerEvent("press", square[0]))
    for a, b in zip(square, square[1:] + square[:1], strict=True):
        for u in np.linspace(0, 1, 9)[1:]:
            t.on_pointer(PointerEvent("move", (a[0] + u * (b[0] - a[0]), a[1] + u * (b[1] - a[1]))))
    t.on_pointer(PointerEvent("release", square[0]))
    roi = s.annotations[0]
    assert isinstance(roi, am.FreehandROI) and roi.role == "reference"
    assert roi.area == pytest.approx(40 * 40 * 0.04, rel=0.01)
    assert roi.stats.n == 1600
    assert roi.stats.mean == pytest.approx((400 * 80 + 1200 * 20) / 1600)
    # a stroke without area is dropped
    t.on_pointer(PointerEvent("press", (1, 1)))
    t.on_pointer(PointerEvent("move", (5, 1)))
    t.on_pointer(PointerEvent("release", (9, 1)))
    assert len(s) == 1


# --------------------------------------------------------------------------- simple measurements

def test_length_by_clicks_and_by_drag():
    s = AnnotationStore()
    t = LengthTool(s, radiograph_ctx())
    click(t, (0, 0))
    t.on_pointer(PointerEvent("move", (30, 40)))
    assert t.preview.length_mm == pytest.approx(10.0)
    click(t, (30, 40))
    assert s.annotations[0].display_text == f"10.0 mm ({LABEL})"
    drag(t, (0, 0), (0, 100))
    assert s.annotations[1].length_mm == pytest.approx(20.0)
    assert len(s) == 2 and len(s.history) == 2


def test_length_on_uncalibrated_image_is_px():
    s = AnnotationStore()
    t = LengthTool(s, ToolContext("a", "b"))
    click(t, (0, 0))
    click(t, (3, 4))
    assert s.annotations[0].display_text == "5.0 px"


def test_angle_three_clicks():
    s = AnnotationStore()
    t = AngleTool(s, radiograph_ctx())
    for p in ((10, 0), (0, 0), (10, 10)):
        click(t, p)
    assert s.annotations[0].angle_deg == pytest.approx(45.0)


def test_cobb_four_clicks_and_two_drags():
    s = AnnotationStore()
    t = CobbTool(s, radiograph_ctx())
    for p in ((0, 0), (100, 0), (0, 50), (100, 50 + 100 * math.tan(math.radians(25)))):
        click(t, p)
    assert s.annotations[0].angle_deg == pytest.approx(25.0)
    drag(t, (0, 0), (100, 100))
    assert len(s) == 1
    drag(t, (0, 50), (100, 50))
    assert s.annotations[1].angle_deg == pytest.approx(45.0)


def test_arrow_text():
    s = AnnotationStore()
    t = ArrowTextTool(s, radiograph_ctx())
    click(t, (10, 10))
    click(t, (40, 30))
    a = s.annotations[0]
    set_annotation_text(s, a.id, "pars defect")
    assert s[a.id].label == "pars defect" and len(s.history) == 1


# --------------------------------------------------------------------------- level labels

def test_level_label_tool_labels_one_others_follow():
    s = AnnotationStore()
    t = LevelLabelTool(s, radiograph_ctx())
    for row in (100, 200, 300, 400):  # cranial to caudal on screen
        click(t, (50, row))
    assert [a.level for a in s] == [None, None, None, None]
    ids = [a.id for a in s]
    set_level_label(s, ids[2], "L5")
    assert [s[i].level for i in ids] == ["L3", "L4", "L5", "S1"]
    assert len(s.history) == 5
    s.undo()
    assert [s[i].level for i in ids] == [None, None, None, None]
    s.redo()
    # a new label below S1 is named on creation
    click(t, (50, 500))
    assert s.annotations[-1].level == "S2" and s.annotations[-1].inferred
    # relabel the anchor: inferred names move
    set_level_label(s, ids[2], "L4")
    assert [s[i].level for i in ids] == ["L2", "L3", "L4", "L5"]


# --------------------------------------------------------------------------- select / move / delete

def test_select_drag_handle_updates_measurement_and_undo():
    s = AnnotationStore()
    ctx = radiograph_ctx()
    m = MeyerdingTool(s, ctx, measure_slip_angle=False)
    for p in (S1_PS, S1_AS, l5_corner(18)):
        click(m, p)
    ann = s.annotations[0]
    t = SelectTool(s, ctx)
    changed = []
    s.events.changed.connect(lambda new, old: changed.append(new))
    # press within tolerance of the L5 corner handle and drag it to 30 %
    t.on_pointer(PointerEvent("press", (l5_corner(18)[0] + 2, l5_corner(18)[1] + 1)))
    assert s.selection == {ann.id}
    t.on_pointer(PointerEvent("move", l5_corner(25), button="left"))
    assert s[ann.id].percent_slip == pytest.approx(25.0)  # live
    t.on_pointer(PointerEvent("move", l5_corner(30), button="left"))
    t.on_pointer(PointerEvent("release", l5_corner(30)))
    assert s[ann.id].percent_slip == pytest.approx(30.0) and s[ann.id].grade is MeyerdingGrade.II
    assert len(changed) >= 3 and len(s.history) == 2
    s.undo()
    assert s[ann.id] == ann
    s.redo()
    assert s[ann.id].percent_slip == pytest.approx(30.0)


def test_select_drag_body_moves_all_points_and_updates_lps():
    s = AnnotationStore()
    ctx = ct_ctx()
    LengthTool(s, ctx)
    lt = LengthTool(s, ctx)
    click(lt, (10, 10))
    click(lt, (50, 10))
    a = s.annotations[0]
    t = SelectTool(s, ctx)
    drag(t, (30, 11), (30, 21))  # on the line body, not on a handle
    b = s[a.id]
    assert b.points_px == ((10.0, 20.0), (50.0, 20.0))
    assert b.points_lps == ctx.space.points_lps(b.points_px)
    assert b.length_mm == pytest.approx(a.length_mm)


def test_select_escape_during_drag_reverts():
    s = AnnotationStore()
    ctx = radiograph_ctx()
    a = s.add(ctx.make(am.Length, [(0, 0), (10, 0)]))
    t = SelectTool(s, ctx)
    t.on_pointer(PointerEvent("press", (10, 0)))
    t.on_pointer(PointerEvent("move", (20, 5), button="left"))
    assert s[a.id] != a
    key(t, "Escape")
    assert s[a.id] == a and len(s.history) == 1


def test_select_misses_clear_selection_and_other_images_ignored():
    s = AnnotationStore()
    ctx = radiograph_ctx()
    a = s.add(ctx.make(am.Length, [(0, 0), (10, 0)]))
    elsewhere = s.add(am.Length(points_px=((100, 100), (110, 100)), series_instance_uid="other"))
    t = SelectTool(s, ctx)
    click(t, (5, 0))
    assert s.selection == {a.id}
    click(t, (105, 100))  # annotation of another image: not hit
    assert s.selection == frozenset()
    assert elsewhere.id in s


def test_select_shift_adds_and_delete_removes_selection_one_step():
    s = AnnotationStore()
    ctx = radiograph_ctx(image=synthetic_image())
    a = s.add(ctx.make(am.Length, [(0, 0), (10, 0)]))
    roi = s.add(ctx.make(am.EllipseROI, [(40, 40), (60, 60)]).with_stats(synthetic_image()))
    t = SelectTool(s, ctx)
    click(t, (0, 0))
    click(t, (50, 50), modifiers=("shift",))  # inside the ellipse
    assert s.selection == {a.id, roi.id}
    assert key(t, "Delete")
    assert len(s) == 0
    s.undo()
    assert {x.id for x in s} == {a.id, roi.id}


def test_select_handle_move_on_roi_refreshes_stats():
    s = AnnotationStore()
    ctx = radiograph_ctx(image=synthetic_image())
    roi = s.add(ctx.make(am.EllipseROI, [(0, 0), (20, 20)]).with_stats(synthetic_image()))
    assert roi.stats.mean == pytest.approx(20.0)
    t = SelectTool(s, ctx)
    drag(t, (0, 0), (70, 70))  # move a corner handle: the ellipse now covers the bright square
    new = s[roi.id]
    assert new.points_px[0] == (70.0, 70.0)
    assert new.stats.n > 0 and new.stats.mean > 20.0


def test_tool_set_context_cancels_drawing():
    s = AnnotationStore()
    t = LengthTool(s, radiograph_ctx())
    click(t, (0, 0))
    assert t.busy
    t.set_context(ct_ctx())
    assert not t.busy and t.preview is None
