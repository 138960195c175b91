"""Spino-pelvic and flexion/extension segment tools drawn with mouse events on the workstation
(synthetic study of tests/ui/conftest.py; drawn on a radiograph cell of the pars layout)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from test_annotation_tools import at, click, double_click, item_of, mouse, opened, views_by_role  # noqa: F401 - fixture

pytestmark = pytest.mark.gui

# pixel points (column, row); rows grow caudally. S1 endplate slopes 45 deg down anteriorly,
# hip axis 45 deg anterior of the vertical through its midpoint: SS 45, PT 45, PI 90
HIPS = ((140.0, 170.0), (160.0, 170.0))
S1 = ((40.0, 60.0), (60.0, 80.0))
L1 = ((40.0, 20.0), (60.0, 0.0))  # rises 45 deg anteriorly: LL 90


def test_spinopelvic_tool_with_the_mouse_live_values_finding_and_item(opened, qtbot):
    from app.annotations.spine import SpinoPelvicLines
    from app.ui.annotations.items_spine import SpinoPelvicItem

    win = opened
    ws = win.annotations
    xr = views_by_role(win)["xr_left_oblique"]
    ws.tool_actions["spinopelvic"].trigger()
    tool = ws.tool_driver.tool
    for p in HIPS + S1[:1]:
        click(xr, *p)
    mouse(xr, "move", at(xr, *S1[1]), Qt.MouseButton.NoButton)  # live values follow the pointer
    live = tool.preview.angles
    assert (live.pelvic_incidence_deg, live.pelvic_tilt_deg, live.sacral_slope_deg) == pytest.approx(
        (90.0, 45.0, 45.0), abs=0.2)
    click(xr, *S1[1])
    assert ws.store.of_kind(SpinoPelvicLines) == []  # waiting for the optional L1 endplate
    for p in L1:
        click(xr, *p)
    (ann,) = ws.store.of_kind(SpinoPelvicLines)
    assert ann.angles.lumbar_lordosis_deg == pytest.approx(90.0, abs=0.3)
    sp = ws.session.findings.spinopelvic
    assert sp is not None and sp.provenance[0].annotation_id == ann.id
    assert sp.pelvic_incidence_deg == pytest.approx(sp.pelvic_tilt_deg + sp.sacral_slope_deg, abs=0.11)
    item = item_of(ws, xr, ann.id)
    assert isinstance(item, SpinoPelvicItem) and item.last_points is not None
    assert item.label_text().startswith("PI 90.0°")
    # Ctrl+Z removes the drawing and the finding with it
    xr.setFocus()
    QTest.keyClick(xr, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert ws.store.of_kind(SpinoPelvicLines) == [] and ws.session.findings.spinopelvic is None


def test_enter_finishes_the_spinopelvic_tool_without_lordosis(opened, qtbot):
    from app.annotations.spine import SpinoPelvicLines

    win = opened
    ws = win.annotations
    xr = views_by_role(win)["xr_left_oblique"]
    ws.tool_actions["spinopelvic"].trigger()
    for p in HIPS + S1:
        click(xr, *p)
    xr.setFocus()
    QTest.keyClick(xr, Qt.Key.Key_Return)
    (ann,) = ws.store.of_kind(SpinoPelvicLines)
    assert len(ann.points_px) == 4
    assert ws.session.findings.spinopelvic.lumbar_lordosis_deg is None


def test_segment_tools_on_two_views_give_measured_instability(opened, qtbot):
    from PySide6.QtWidgets import QLabel

    from app.annotations.spine import SegmentMotionLines
    from app.findings.model import Level
    from app.ui.annotations.popups import LevelLabelPopup

    win = opened
    ws = win.annotations
    views = views_by_role(win)
    for view, role, upper in (("flexion", "xr_left_oblique", ((48.0, 40.0), (88.0, 40.0))),
                              ("extension", "xr_right_oblique", ((38.0, 40.0), (78.0, 40.0)))):
        ws.tool_actions[f"motion-{view}"].trigger()
        for p in (*upper, (40.0, 60.0), (80.0, 60.0)):
            click(views[role], *p)
        popup = ws.tool_driver.popup  # the reader confirms the segment (no level labels here: L4 offered)
        assert isinstance(popup, LevelLabelPopup) and popup.level == "L4" and view in popup.findChild(QLabel).text()
        QTest.keyClick(popup, Qt.Key.Key_Return)
    flexion, extension = ws.store.of_kind(SegmentMotionLines)
    assert (flexion.view, extension.view) == ("flexion", "extension")
    measured = ws.session.findings.level(Level.L4).instability_measured
    assert measured.translation_pct == pytest.approx(25.0, abs=0.2)  # 8 px forward vs 2 px back on a 40 px endplate
    assert measured.angulation_deg == pytest.approx(0.0, abs=0.2)
    assert {r.annotation_id for r in measured.provenance} == {flexion.id, extension.id}


SEGMENT_CLICKS = ((48.0, 40.0), (88.0, 40.0), (40.0, 60.0), (80.0, 60.0))


def _draw_flexion_segment(ws, view) -> None:
    ws.tool_actions["motion-flexion"].trigger()
    for p in SEGMENT_CLICKS:
        click(view, *p)


def test_a_segment_is_recorded_at_the_level_the_reader_picks_and_esc_drops_it(opened, qtbot):
    from app.annotations.spine import SegmentMotionLines
    from app.findings.model import Level

    ws = opened.annotations
    xr = views_by_role(opened)["xr_left_oblique"]
    _draw_flexion_segment(ws, xr)
    QTest.keyClick(ws.tool_driver.popup, Qt.Key.Key_5)  # L1 L2 L3 L4 [L5]: the L5-S1 segment
    QTest.keyClick(ws.tool_driver.popup, Qt.Key.Key_Return)
    (segment,) = ws.store.of_kind(SegmentMotionLines)
    assert segment.level is Level.L5 and segment.segment_name == "L5-S1"
    ws.undo_action.trigger()  # the segment and its level are one step
    assert ws.store.of_kind(SegmentMotionLines) == []
    _draw_flexion_segment(ws, xr)
    QTest.keyClick(ws.tool_driver.popup, Qt.Key.Key_Escape)  # no level confirmed: no segment
    assert ws.store.of_kind(SegmentMotionLines) == []
    assert ws.session.findings.level(Level.L4) is None or ws.session.findings.level(Level.L4).instability_measured is None


def test_double_click_on_a_segment_changes_its_level(opened, qtbot):
    from app.annotations.spine import SegmentMotionLines
    from app.findings.model import Level
    from app.ui.annotations.popups import LevelLabelPopup

    ws = opened.annotations
    xr = views_by_role(opened)["xr_left_oblique"]
    _draw_flexion_segment(ws, xr)
    QTest.keyClick(ws.tool_driver.popup, Qt.Key.Key_Return)  # L4 offered, kept
    ws.tool_actions["select"].trigger()
    double_click(xr, *SEGMENT_CLICKS[0])
    popup = ws.tool_driver.popup
    assert isinstance(popup, LevelLabelPopup) and popup.level == "L4"
    QTest.keyClick(popup, Qt.Key.Key_Left)  # L3
    QTest.keyClick(popup, Qt.Key.Key_Return)
    (segment,) = ws.store.of_kind(SegmentMotionLines)
    assert segment.level is Level.L3
