"""Annotation tools on the workstation's images (synthetic study from tests/ui/conftest.py):
pars marker + popup -> findings table, marker shown in the other views of the frame of
reference, length with the radiograph calibration basis, select + Delete + undo, ellipse ROI
statistics on MR with an oedema/reference ratio."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from viewer_study import study_loaded

pytestmark = pytest.mark.gui


_loaded = study_loaded


def _open_window(qtbot, study, width: int = 1400):
    """A main window on ``study``, its series loaded and its findings session open."""
    from app.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(width, 900)
    win.show()
    win.open_paths([str(study)])
    qtbot.waitUntil(lambda: _loaded(win) and win.annotations.session is not None, timeout=30_000)
    return win


@pytest.fixture
def opened(qtbot, synthetic_study):
    win = _open_window(qtbot, synthetic_study, width=1500)
    qtbot.waitUntil(lambda: win.annotations.dock is not None, timeout=15_000)
    QApplication.processEvents()
    yield win
    win.close()


def mouse(view, kind, pos, button=Qt.MouseButton.LeftButton, mods=Qt.KeyboardModifier.NoModifier):
    et = {"press": QEvent.Type.MouseButtonPress, "move": QEvent.Type.MouseMove,
          "release": QEvent.Type.MouseButtonRelease}[kind]
    held = button if kind in ("press", "move") else Qt.MouseButton.NoButton
    ev = QMouseEvent(et, QPointF(pos), view.viewport().mapToGlobal(QPointF(pos)),
                     Qt.MouseButton.NoButton if kind == "move" else button, held, mods)
    QApplication.sendEvent(view.viewport(), ev)


def at(view, col, row) -> QPointF:
    return view.viewport_point_of_pixel(col, row)


def click(view, col, row):
    p = at(view, col, row)
    mouse(view, "move", p, Qt.MouseButton.NoButton)
    mouse(view, "press", p)
    mouse(view, "release", p)


def double_click(view, col, row):
    """Press, release, double click, release: what a reader's double click sends."""
    p = at(view, col, row)
    mouse(view, "press", p)
    mouse(view, "release", p)
    ev = QMouseEvent(QEvent.Type.MouseButtonDblClick, QPointF(p), view.viewport().mapToGlobal(QPointF(p)),
                     Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), ev)
    mouse(view, "release", p)


def drag(view, a, b, steps=6):
    pa, pb = at(view, *a), at(view, *b)
    mouse(view, "press", pa)
    for i in range(1, steps + 1):
        t = i / steps
        mouse(view, "move", QPointF(pa.x() + t * (pb.x() - pa.x()), pa.y() + t * (pb.y() - pa.y())))
    mouse(view, "release", pb)


def views_by_role(win):
    return {v.cell.role: v for v in win.grid.views() if v.cell is not None}


def item_of(ws, view, ann_id):
    view.viewport().repaint()
    found = [it for it in ws.items_for(view) if it.annotation.id == ann_id]
    assert len(found) == 1
    return found[0]


def test_pars_marker_popup_creates_finding_and_shows_in_linked_views(opened, qtbot):
    from app.annotations.model import ParsMarker
    from app.findings.model import Level, ParsStatus, Side
    from app.ui.annotations.popups import ParsMarkerPopup

    win = opened
    ws = win.annotations
    views = views_by_role(win)
    sag = views["ct_sag_left_pars"]
    ws.tool_actions["pars"].trigger()
    rows, cols = sag.rendered_pixels().shape
    click(sag, cols / 2, rows / 2)
    popup = ws.tool_driver.popup
    assert isinstance(popup, ParsMarkerPopup) and popup.isVisible()
    assert popup.side is Side.LEFT  # preset from the left-pars cell
    (marker,) = ws.store.of_kind(ParsMarker)
    assert marker.pending and marker.points_lps  # placed on CT: has LPS
    QTest.keyClick(popup, Qt.Key.Key_5)  # level row: L5, moves on to the side row
    QTest.keyClick(popup, Qt.Key.Key_Down)  # keep "left", go to the status row
    QTest.keyClick(popup, Qt.Key.Key_Return)  # no status yet: refused, the popup stays
    assert ws.tool_driver.popup is popup and popup.status is None
    QTest.keyClick(popup, Qt.Key.Key_Right)
    QTest.keyClick(popup, Qt.Key.Key_Right)
    assert popup.status is ParsStatus.STRESS_REACTION
    QTest.keyClick(popup, Qt.Key.Key_4)  # 4th status: complete fracture
    QTest.keyClick(popup, Qt.Key.Key_Return)
    assert ws.tool_driver.popup is None
    (marker,) = ws.store.of_kind(ParsMarker)
    assert (marker.level, marker.side, marker.status) == (Level.L5, Side.LEFT, ParsStatus.COMPLETE_FRACTURE)
    finding = ws.session.findings.pars_at(Level.L5, Side.LEFT)
    assert finding is not None and finding.status is ParsStatus.COMPLETE_FRACTURE
    # the findings table lists it
    model = ws.review_widget.findings_panel.pars_model
    row_texts = [" | ".join(str(model.index(r, c).data()) for c in range(model.columnCount()))
                 for r in range(model.rowCount())]
    l5_left = [t for t in row_texts if t.startswith("L5 L")]
    assert l5_left and "complete" in l5_left[0].lower(), row_texts
    # a status edited in the findings table goes back to the marker and its label
    ws.session.edit_pars(Level.L5, Side.LEFT, status=ParsStatus.INCOMPLETE_FRACTURE)
    (marker,) = ws.store.of_kind(ParsMarker)
    assert marker.status is ParsStatus.INCOMPLETE_FRACTURE
    sag.viewport().repaint()
    assert "incomplete fracture" in item_of(ws, sag, marker.id).label_text()
    # drawn on its image, and in the axial CT once the axial plane passes through it
    assert item_of(ws, sag, marker.id).last_points is not None
    axial = views["ct_axial"]
    win.grid.jump_to(np.asarray(marker.points_lps[0]), sag.display.frame_of_reference_uid, source=sag)
    ax_item = item_of(ws, axial, marker.id)
    assert ax_item.last_points is not None and not ax_item.native
    col, row, _dist = axial.display.plane.lps_to_pixel(np.asarray(marker.points_lps[0]))
    assert ax_item.last_points[0] == pytest.approx((col, row), abs=1e-6)
    axial.set_slice(axial.display.index + 5)  # 7.5 mm away: not on this slice
    assert item_of(ws, axial, marker.id).last_points is None
    # not on the MR (another frame of reference) nor on a radiograph
    assert item_of(ws, views["mr_sag_stir"], marker.id).last_points is None
    assert item_of(ws, views["xr_left_oblique"], marker.id).last_points is None
    # Esc on a new marker's popup takes the marker back
    click(sag, cols / 2 + 10, rows / 2)
    QTest.keyClick(ws.tool_driver.popup, Qt.Key.Key_Escape)
    assert len(ws.store.of_kind(ParsMarker)) == 1


def test_length_on_radiograph_shows_calibrated_mm_then_delete_and_undo(opened, qtbot):
    from app.annotations.model import Length

    win = opened
    ws = win.annotations
    xr = views_by_role(win)["xr_left_oblique"]
    cal = xr.display.radiograph.calibration
    assert cal.label == "ImagerPixelSpacing / magnification"
    ws.tool_actions["length"].trigger()
    drag(xr, (40.0, 100.0), (140.0, 100.0))
    (length,) = ws.store.of_kind(Length)
    expected_mm = 100.0 * cal.spacing_mm[1]
    assert length.length_mm == pytest.approx(expected_mm, rel=1e-6)
    text = item_of(ws, xr, length.id).label_text()
    assert text == f"{expected_mm:.1f} mm (ImagerPixelSpacing / magnification)"
    # select it by clicking on the line, Delete removes it, Ctrl+Z brings it back
    ws.tool_actions["select"].trigger()
    click(xr, 90.0, 100.0)
    assert ws.store.selection == {length.id}
    assert item_of(ws, xr, length.id).selected
    xr.setFocus()
    QTest.keyClick(xr, Qt.Key.Key_Delete)
    assert ws.store.of_kind(Length) == []
    QTest.keyClick(xr, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [a.id for a in ws.store.of_kind(Length)] == [length.id]
    # a handle drag moves one end (one undo step)
    drag(xr, (140.0, 100.0), (140.0, 160.0))
    (moved,) = ws.store.of_kind(Length)
    assert moved.points_px[1] == pytest.approx((140.0, 160.0), abs=0.05)
    ws.undo_action.trigger()
    assert ws.store.of_kind(Length)[0].points_px[1] == pytest.approx((140.0, 100.0), abs=1e-6)


def test_ellipse_roi_on_mr_shows_stats_and_oedema_ratio(opened, qtbot):
    from app.annotations.model import EllipseROI
    from app.findings.model import Level, Side
    from app.ui.annotations.popups import ParsMarkerPopup

    win = opened
    ws = win.annotations
    mr = views_by_role(win)["mr_sag_stir"]
    img = mr.display.raw()
    bright = img > img.min() + 150  # the phantom's bright ellipse
    rows_b, cols_b = np.nonzero(bright)
    rc, cc = rows_b.mean(), cols_b.mean()
    inside_value = float(img[int(round(rc)), int(round(cc))])
    ws.tool_actions["ellipse"].trigger()
    ws.set_roi_role("reference")
    drag(mr, (cc - 3, rc - 6), (cc + 3, rc + 6))  # well inside the bright region
    (ref,) = ws.store.of_kind(EllipseROI)
    assert ref.role == "reference" and ref.stats is not None
    assert ref.stats.mean == pytest.approx(inside_value, rel=1e-6) and ref.stats.sd == pytest.approx(0.0, abs=1e-6)
    label = item_of(ws, mr, ref.id).label_text()
    assert f"mean {inside_value:.1f}" in label and "SD 0.0" in label and "mm²" in label
    # an oedema ROI outside the bright region, with its pars, shows the ratio to the reference
    dark_value = float(img[2, 2])
    ws.set_roi_role("edema")
    drag(mr, (1.0, 1.0), (5.0, 5.0))
    popup = ws.tool_driver.popup
    assert isinstance(popup, ParsMarkerPopup)
    QTest.keyClick(popup, Qt.Key.Key_5)
    QTest.keyClick(popup, Qt.Key.Key_2)  # right
    QTest.keyClick(popup, Qt.Key.Key_Return)
    edema = next(a for a in ws.store.of_kind(EllipseROI) if a.role == "edema")
    assert (edema.level, edema.side) == (Level.L5, Side.RIGHT)
    assert edema.stats.mean == pytest.approx(dark_value, rel=1e-6)
    ratio = dark_value / inside_value
    assert f"ratio {ratio:.2f} to reference" in item_of(ws, mr, edema.id).label_text()


def test_every_tool_draws_its_item_with_mouse_events(opened, qtbot):
    from app.annotations.model import ANNOTATION_TYPES, Angle, ArrowText, CobbAngle, FreehandROI, LevelLabel
    from app.ui.annotations import ITEM_CLASSES
    from app.ui.annotations.popups import LevelLabelPopup, TextPopup

    win = opened
    ws = win.annotations
    assert set(ITEM_CLASSES) == set(ANNOTATION_TYPES)
    xr = views_by_role(win)["xr_right_oblique"]
    ws.tool_actions["angle"].trigger()
    for p in ((40, 40), (80, 80), (120, 40)):
        click(xr, *p)
    (angle,) = ws.store.of_kind(Angle)
    assert angle.angle_deg == pytest.approx(90.0, abs=1e-6)
    assert item_of(ws, xr, angle.id).label_text() == "90.0°"
    ws.tool_actions["cobb"].trigger()
    drag(xr, (20, 150), (120, 150))
    drag(xr, (20, 200), (120, 180))
    (cobb,) = ws.store.of_kind(CobbAngle)
    assert cobb.angle_deg == pytest.approx(np.degrees(np.arctan2(20, 100)), abs=1e-6)
    assert item_of(ws, xr, cobb.id).label_text().startswith("Cobb ")
    ws.tool_actions["freehand"].trigger()
    pts = [(30 + 20 * np.cos(t), 100 + 20 * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 24, endpoint=False)]
    mouse(xr, "press", at(xr, *pts[0]))
    for p in pts[1:]:
        mouse(xr, "move", at(xr, *p))
    mouse(xr, "release", at(xr, *pts[-1]))
    (roi,) = ws.store.of_kind(FreehandROI)
    assert (
        roi.stats is not None
        and roi.stats.n == pytest.approx(np.pi * 20**2, rel=0.1)
        and "mm²" in item_of(ws, xr, roi.id).label_text()
    )
    ws.tool_actions["arrow-text"].trigger()
    click(xr, 150, 60)
    click(xr, 180, 30)
    popup = ws.tool_driver.popup
    assert isinstance(popup, TextPopup)
    QTest.keyClicks(popup.edit, "defect")
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)
    (arrow,) = ws.store.of_kind(ArrowText)
    assert arrow.label == "defect" and arrow.points_px[0] == pytest.approx((150, 60), abs=0.05)
    ws.undo_action.trigger()  # arrow and its text are one step
    assert ws.store.of_kind(ArrowText) == []
    # level labels: name one, the next one follows (on the image: up = cranial)
    ws.tool_actions["level-label"].trigger()
    click(xr, 100, 120)
    popup = ws.tool_driver.popup
    assert isinstance(popup, LevelLabelPopup)
    QTest.keyClick(popup, Qt.Key.Key_7)  # T11 T12 L1 L2 L3 L4 [L5]
    QTest.keyClick(popup, Qt.Key.Key_Return)
    click(xr, 100, 80)  # above it: L4, inferred, no popup
    assert ws.tool_driver.popup is None
    labels = sorted(ws.store.of_kind(LevelLabel), key=lambda a: a.points_px[0][1])
    assert [(a.level, a.inferred) for a in labels] == [("L4", True), ("L5", False)]
    assert item_of(ws, xr, labels[0].id).last_points is not None
    # select tool: double click the anchor to rename it; the inferred one follows (one undo step)
    ws.tool_actions["select"].trigger()
    double_click(xr, 100, 120)
    popup = ws.tool_driver.popup
    assert isinstance(popup, LevelLabelPopup) and popup.level == "L5"
    QTest.keyClick(popup, Qt.Key.Key_Left)  # L4
    QTest.keyClick(popup, Qt.Key.Key_Return)
    labels = sorted(ws.store.of_kind(LevelLabel), key=lambda a: a.points_px[0][1])
    assert [(a.level, a.inferred) for a in labels] == [("L3", True), ("L4", False)]
    ws.undo_action.trigger()
    labels = sorted(ws.store.of_kind(LevelLabel), key=lambda a: a.points_px[0][1])
    assert [a.level for a in labels] == ["L4", "L5"]


def test_annotations_come_back_from_the_autosave(qtbot, synthetic_study):
    from app.annotations.model import Length

    win = _open_window(qtbot, synthetic_study)
    xr = views_by_role(win)["xr_left_oblique"]
    win.annotations.tool_actions["length"].trigger()
    drag(xr, (30.0, 50.0), (90.0, 50.0))
    (drawn,) = win.annotations.store.of_kind(Length)
    win.close()
    win2 = _open_window(qtbot, synthetic_study)
    try:
        restored = win2.annotations.store.of_kind(Length)
        assert [a.id for a in restored] == [drawn.id] and restored[0].points_px == drawn.points_px
        xr2 = views_by_role(win2)["xr_left_oblique"]
        assert item_of(win2.annotations, xr2, drawn.id).last_points is not None
    finally:
        win2.close()


def test_a_marker_left_undescribed_by_a_crash_comes_back_with_a_notice(qtbot, synthetic_study):
    """The reader placed a pars marker and Isthmus stopped before its popup was answered: the
    autosave holds it undescribed ("pars ?"); reopening says so instead of showing it silently."""
    from app.annotations.model import ParsMarker

    win = _open_window(qtbot, synthetic_study)
    win.annotations.tool_actions["pars"].trigger()
    click(views_by_role(win)["xr_left_oblique"], 60.0, 60.0)
    (marker,) = win.annotations.store.of_kind(ParsMarker)
    assert marker.pending
    autosave = win.annotations.session.autosave
    autosave.flush()
    path = autosave.path
    crashed = path.read_bytes()  # what was on disk when it stopped
    win.close()  # a normal close answers the popup (the marker is dropped) ...
    path.write_bytes(crashed)  # ... a crash does not
    win2 = _open_window(qtbot, synthetic_study)
    try:
        (restored,) = win2.annotations.store.of_kind(ParsMarker)
        assert restored.pending and restored.id == marker.id
        box = win2.annotations.notice_box
        assert box is not None and box.windowTitle() == "Unfinished pars markers restored"
        assert "1 pars marker was placed" in box.text() and "double-click it" in box.text()
    finally:
        win2.close()
