"""The tools a radiologist reaches for (issue 9): tilt about the crosshair with its angle in
the overlay, zoom about the cursor, unique shortcuts (menu mnemonics included), every dock
re-openable from the View menu, every toolbar action reachable at 1280x800, files dropped on
the images open."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDropEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QToolBar
from viewer_study import study_loaded

pytestmark = pytest.mark.gui


def _views(win):
    return {v.cell.role: v for v in win.grid.views() if v.cell is not None}


def test_no_two_actions_share_a_shortcut_and_no_tool_takes_a_menu_mnemonic(window):
    seen: dict[str, str] = {}
    for a in window.findChildren(QAction):
        for k in a.shortcuts():
            text = k.toString()
            if text:
                assert text not in seen or seen[text] == a.objectName(), (text, seen.get(text), a.objectName())
                seen[text] = a.objectName()
    mnemonics = {f"Alt+{t[t.index('&') + 1].upper()}" for t in (m.text() for m in window.menuBar().actions())
                 if "&" in t[:-1]}
    clash = {k: seen[k] for k in mnemonics if k in seen}
    assert not clash, f"shortcuts that open a menu instead: {clash}"
    meyerding = window.annotations.tool_actions["meyerding"].shortcut().toString()
    assert meyerding and meyerding != "Alt+M"


def test_every_dock_can_be_reopened_from_the_view_menu(opened, qtbot):
    win = opened
    qtbot.waitUntil(lambda: win.annotations.session is not None, timeout=10_000)
    win.annotations.ensure_dock()
    view_menu = next(a.menu() for a in win.menuBar().actions() if a.text().replace("&", "") == "View")
    docks = [d for d in win.findChildren(QDockWidget) if d.parent() is win]
    assert {d.objectName() for d in docks} >= {"StudyBrowserDock", "ReviewDock"}
    for dock in docks:
        dock.close()
        QApplication.processEvents()
        assert not dock.isVisible()
        action = next((a for a in view_menu.actions() if a.isCheckable() and not a.isChecked()
                       and dock.windowTitle().split()[0].lower() in a.text().lower()), None)
        assert action is not None, f"no View menu entry re-opens {dock.objectName()}"
        action.trigger()
        QApplication.processEvents()
        assert dock.isVisible(), dock.objectName()


def test_every_toolbar_action_is_reachable_at_1280x800(window, qtbot):
    window.resize(1280, 800)
    QApplication.processEvents()
    for tb in window.findChildren(QToolBar):
        if not tb.isVisible():
            continue
        for a in tb.actions():
            if a.isSeparator():
                continue
            w = tb.widgetForAction(a)
            assert w is not None and w.isVisible(), f"{a.text()} hidden in the overflow of {tb.objectName()}"
            assert tb.rect().contains(w.geometry()), a.text()


def test_files_dropped_on_an_image_open(synthetic_study, window, qtbot):
    view = window.grid.views()[0]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(synthetic_study))])
    ev = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    view.dropEvent(ev)
    assert ev.isAccepted()
    assert window.controller.paths == [str(synthetic_study)]
    qtbot.waitUntil(lambda: study_loaded(window), timeout=30_000)


def test_zoom_keeps_the_point_under_the_cursor(opened):
    v = _views(opened)["ct_axial"]
    cursor = QPointF(v.viewport().width() * 0.8, v.viewport().height() * 0.3)
    before = v.pixel_at(cursor)
    v.zoom_by(2.0, anchor=cursor)
    after = v.pixel_at(cursor)
    assert after == pytest.approx(before, abs=0.6)
    assert v.zoom == pytest.approx(2.0)


def test_tilt_turns_about_the_crosshair_and_shows_the_angle(opened, qtbot):
    from app.ui.viewer.overlay import corner_lines

    win = opened
    v = _views(win)["ct_sag_left_pars"]
    d = v.display
    rows, cols = d.plane.shape
    point = d.plane.pixel_to_lps(cols * 0.25, rows * 0.3)  # off the image centre
    win.grid.jump_to(point, d.frame_of_reference_uid)
    win.state.set_mode("oblique")
    start = v.viewport_point_of_pixel(cols * 0.7, rows * 0.7)

    def send(kind, pos, button):
        from PySide6.QtCore import QEvent
        from PySide6.QtGui import QMouseEvent

        et = {"press": QEvent.Type.MouseButtonPress, "move": QEvent.Type.MouseMove,
              "release": QEvent.Type.MouseButtonRelease}[kind]
        ev = QMouseEvent(et, pos, v.viewport().mapToGlobal(pos), button, Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier)
        getattr(v, {"press": "mousePressEvent", "move": "mouseMoveEvent", "release": "mouseReleaseEvent"}[kind])(ev)

    send("press", start, Qt.MouseButton.LeftButton)
    for i in range(1, 6):
        send("move", QPointF(start.x() + 10 * i, start.y()), Qt.MouseButton.NoButton)
    send("release", QPointF(start.x() + 50, start.y()), Qt.MouseButton.LeftButton)
    assert d.tilt_deg == pytest.approx(20.0, abs=1.0)
    assert abs(d.plane.lps_to_pixel(np.asarray(point))[2]) <= d.stack.step_mm  # the crosshair stays on it
    top_right = " ".join(t for t, _c in corner_lines(v)["top-right"])
    assert "Tilt 20°" in top_right


# ------------------------------------------------------------------ ROIs (issue 9)

def _roi(view, series_uid, role="edema", stats=True):
    from app.annotations.model import EllipseROI
    from app.geometry.measure import RoiStats

    d = view.display
    rows, cols = d.plane.shape
    pts = ((cols * 0.4, rows * 0.4), (cols * 0.5, rows * 0.5))
    lps = tuple(tuple(float(x) for x in d.plane.pixel_to_lps(*p)) for p in pts)
    st = RoiStats(mean=321.0, sd=4.0, n=25, area_mm2=25.0) if stats else None
    return EllipseROI(points_px=pts, points_lps=lps, role=role, stats=st, series_instance_uid=series_uid,
                      sop_instance_uid="")


def test_roi_statistics_only_on_the_series_they_were_measured_on(opened, qtbot):
    from app.ui.annotations.items import make_item
    from app.viewer.annotation_view import ViewMapper

    win = opened
    ct = _views(win)["ct_axial"]
    for_uid = ct.display.frame_of_reference_uid
    own = _roi(ct, ct.display.volume.series_instance_uid)
    other = _roi(ct, "1.2.826.0.1.3680043.8.498.4242")  # e.g. an MR series sharing the frame of reference
    mapper = ViewMapper(ct, lambda uid: for_uid)
    own_item = make_item(own, mapper, ct.annotation_layer)
    other_item = make_item(other, mapper, ct.annotation_layer)
    assert "mean 321.0" in own_item.label_text() and "oedema ROI" in own_item.label_text()
    text = other_item.label_text()
    assert "mean" not in text and "measured on another series" in text and "oedema ROI" in text
    for it in (own_item, other_item):
        it.scene().removeItem(it)


def test_roi_role_is_switchable_after_drawing(opened, qtbot):
    from app.annotations.model import EllipseROI

    win = opened
    qtbot.waitUntil(lambda: win.annotations.store is not None, timeout=10_000)
    ws = win.annotations
    mr = _views(win)["mr_sag_stir"]
    roi = ws.store.add(_roi(mr, mr.display.volume.series_instance_uid, role="generic"))
    ws.store.select([roi.id])
    ws.set_roi_role("reference")
    assert ws.store.get(roi.id).role == "reference"
    assert ws.role_combo.currentData() == "reference"
    ws.undo()
    assert ws.store.get(roi.id).role == "generic"
    assert isinstance(ws.store.get(roi.id), EllipseROI)


def test_annotation_labels_do_not_pile_up(qtbot):
    from PySide6.QtCore import QPointF, QRectF
    from PySide6.QtGui import QColor, QImage, QPainter

    from app.ui.annotations import style

    img = QImage(400, 300, QImage.Format.Format_ARGB32)
    p = QPainter(img)
    style.BOUNDS[0] = QRectF(0, 0, 400, 300)
    style.reset_labels()
    rects = [style.text(p, QPointF(100, 100), f"label {i}\nsecond line", QColor("white")) for i in range(4)]
    p.end()
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert not a.intersects(b), (a, b)


def test_pars_layout_overlay_is_readable_at_1600x1000_beside_the_review_dock(synthetic_study, window, qtbot):
    from app.ui.viewer.overlay import overlay_layout

    win = window
    win.resize(1600, 1000)
    win.open_paths([str(synthetic_study)])
    qtbot.waitUntil(lambda: study_loaded(win) and win.annotations.session is not None, timeout=30_000)
    win.annotations.ensure_dock()
    qtbot.wait(50)
    # the images keep priority: the review dock does not halve them
    assert win.grid.width() >= 0.5 * win.width(), (win.grid.width(), win.width())
    for v in win.grid.views():
        placed = [item for block in overlay_layout(v).values() for item in block]
        elided = [t for t, _r, el, _c in placed if el]
        assert not elided, (v.cell.role, v.viewport().width(), elided)
        rects = [r for _t, r, _e, _c in placed]
        for i, a in enumerate(rects):
            assert v.viewport().rect().contains(a.toRect()), (v.cell.role, placed[i][0])
            for b in rects[i + 1:]:
                assert not a.intersects(b), (v.cell.role, a, b)


def test_a_label_never_covers_the_drawing_it_labels(qtbot):
    from PySide6.QtCore import QPointF, QRectF
    from PySide6.QtGui import QColor, QImage, QPainter

    from app.ui.annotations import style

    img = QImage(600, 400, QImage.Format.Format_ARGB32)
    p = QPainter(img)
    style.BOUNDS[0] = QRectF(0, 0, 600, 400)
    style.reset_labels()
    landmarks = QRectF(200, 150, 120, 90)  # e.g. the slip's landmarks
    rect = style.text(p, QPointF(230, 190), "L5 slip 24 %\nMeyerding I", QColor("white"), bold=True, avoid=landmarks)
    p.end()
    assert not rect.intersects(landmarks)
