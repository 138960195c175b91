"""Acceptance: on sample case 4 (chronic bilateral L5 spondylolysis, ~18 % isthmic slip) the
reader draws the Meyerding tool on the lateral radiograph with real mouse events; the slip in
the session findings matches the case's reference read; undo removes it and redo restores it.

The landmark pixels come from the phantom's truth (LPS landmarks projected with the lateral
view's projection), not from hard-coded numbers. The case is taken from sample_dicom/ when it
has been generated there, else rendered into a temporary folder.
"""

from __future__ import annotations

import glob
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from viewer_study import study_loaded

pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def case4_folder(tmp_path_factory) -> Path:
    found = [Path(p) for p in glob.glob(str(REPO / "sample_dicom" / "case04*")) if (Path(p) / "DX_LAT").is_dir()
             and (Path(p) / "reference_read.json").is_file()]
    if found:
        return found[0]
    from app.samples.cases import case_by_number
    from app.samples.generate import generate_case

    return generate_case(case_by_number(4), tmp_path_factory.mktemp("samples"), log=None)


_loaded = study_loaded


def mouse(view, kind: str, pos: QPointF, button=Qt.MouseButton.LeftButton) -> None:
    """A real QMouseEvent sent to the view's viewport (QTest drags on QGraphicsView are flaky)."""
    et = {"press": QEvent.Type.MouseButtonPress, "move": QEvent.Type.MouseMove,
          "release": QEvent.Type.MouseButtonRelease}[kind]
    held = button if kind in ("press", "move") else Qt.MouseButton.NoButton
    ev = QMouseEvent(et, QPointF(pos), view.viewport().mapToGlobal(QPointF(pos)),
                     Qt.MouseButton.NoButton if kind == "move" else button, held, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), ev)


def click(view, pos: QPointF) -> None:
    mouse(view, "move", pos, Qt.MouseButton.NoButton)
    mouse(view, "press", pos)
    mouse(view, "release", pos)


def show_series(win, qtbot, description: str):
    """Put the series with this description into the active view and wait for it."""
    key = next(s.key for s in win.presenter.study.series if s.description == description)
    view = win.grid.active or win.grid.views()[0]
    win.presenter.show_in_active(key)
    qtbot.waitUntil(lambda: getattr(view.display, "kind", "") in ("radiograph", "volume")
                    and view.cell is not None and view.cell.series_key == key, timeout=30_000)
    QApplication.processEvents()
    return view


def lateral_landmarks_px(view) -> dict[str, tuple[float, float]]:
    """Phantom truth: slip landmarks projected on the lateral radiograph, as (column, row)."""
    from app.samples.cases import case_by_number
    from app.samples.phantom import model_for
    from app.samples.render_dx import dx_projection

    case = case_by_number(4)
    proj = dx_projection(case, "LAT")
    out = {}
    for name, p in model_for(case).geometry.landmarks().items():
        row, col = proj.project(p)
        out[name] = (col, row)
    rows, cols = view.display.radiograph.array.shape
    assert (rows, cols) == (proj.rows, proj.cols)
    return out


def test_meyerding_on_case4_lateral_matches_reference_and_undoes(case4_folder, window, qtbot):
    from app.annotations.model import MeyerdingSlip
    from app.findings.io import load_findings
    from app.findings.model import Level

    reference = load_findings(case4_folder / "reference_read.json").level(Level.L5).slip.percent
    win = window
    win.open_paths([str(case4_folder)])
    qtbot.waitUntil(lambda: _loaded(win), timeout=60_000)
    ws = win.annotations
    assert ws.session is not None and ws.session.study_uid == win.presenter.study.study_instance_uid
    qtbot.waitUntil(lambda: ws.dock is not None and ws.dock.isVisible(), timeout=15_000)  # once loading is idle
    assert ws.review_widget.session is ws.session
    view = show_series(win, qtbot, "L-SPINE LAT")
    assert view.display.radiograph.calibration.label  # the PixelSpace below carries it

    ws.tool_actions["meyerding"].trigger()
    assert win.state.mode == "tool" and ws.tool_driver.tool_id == "meyerding"
    lm = lateral_landmarks_px(view)
    vp = {k: view.viewport_point_of_pixel(*v) for k, v in lm.items()}
    for name in ("S1 postero-superior corner", "S1 antero-superior corner"):
        click(view, vp[name])
    # live measurement while moving to the L5 corner: preview item shows percent and grade
    mouse(view, "move", vp["L5 postero-inferior corner"], Qt.MouseButton.NoButton)
    live = ws.tool_driver.tool.preview
    assert live is not None and live.percent_slip == pytest.approx(reference, abs=3.0)
    assert ws.tool_driver.preview_item is not None and "%" in ws.tool_driver.preview_item.label_text()
    mouse(view, "press", vp["L5 postero-inferior corner"])
    mouse(view, "release", vp["L5 postero-inferior corner"])
    QTest.keyClick(view, Qt.Key.Key_Return)  # no slip angle this time: finish

    slips = ws.store.of_kind(MeyerdingSlip)
    assert len(slips) == 1
    ann = slips[0]
    assert ann.calibration == view.display.radiograph.calibration.label
    slip = ws.session.findings.level(Level.L5).slip
    assert slip is not None
    assert slip.percent == pytest.approx(reference, abs=3.0)
    assert abs(slip.percent - 18.0) < 3.0
    # the drawing on the image shows the same numbers
    items = [it for it in ws.items_for(view) if it.annotation.id == ann.id]
    assert len(items) == 1
    view.viewport().repaint()
    assert items[0].last_points is not None
    assert f"{slip.percent:.1f} %" in items[0].label_text() and "grade I" in items[0].label_text()
    # the findings panel's level table shows it
    model = ws.review_widget.findings_panel.level_model
    texts = [str(model.index(r, c).data()) for r in range(model.rowCount()) for c in range(model.columnCount())]
    assert any(f"{slip.percent:.1f}" in t for t in texts), texts

    # undo with Ctrl+Z removes the measurement and the slip; redo restores both
    win.activateWindow()
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert ws.store.of_kind(type(ann)) == []
    lf = ws.session.findings.level(Level.L5)
    assert lf is None or lf.slip is None
    assert ws.redo_action.isEnabled()
    QTest.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert [a.id for a in ws.store.of_kind(type(ann))] == [ann.id]
    assert ws.session.findings.level(Level.L5).slip.percent == pytest.approx(slip.percent, abs=1e-6)


def test_meyerding_on_case4_ct_midsagittal_shows_on_mr_of_the_same_frame(case4_folder, window, qtbot):
    import numpy as np

    from app.annotations.model import MeyerdingSlip
    from app.findings.io import load_findings
    from app.findings.model import Level
    from app.samples.cases import case_by_number
    from app.samples.phantom import model_for

    reference = load_findings(case4_folder / "reference_read.json").level(Level.L5).slip.percent
    win = window
    win.open_paths([str(case4_folder)])
    qtbot.waitUntil(lambda: _loaded(win), timeout=60_000)
    ws = win.annotations
    views = {v.cell.role: v for v in win.grid.views() if v.cell is not None}
    ct, mr = views["ct_sag_left_pars"], views["mr_sag_stir"]
    assert ct.display.orientation == "sagittal" and mr.display.kind == "volume"
    lm = model_for(case_by_number(4)).geometry.landmarks()
    mid = np.mean([lm[k] for k in ("S1 postero-superior corner", "L5 postero-inferior corner")], axis=0)
    ct.display.move_to_point(mid)  # the mid-sagittal CT plane through the landmarks
    ct.refresh()
    mr.display.move_to_point(mid)
    mr.refresh()
    ws.tool_actions["meyerding"].trigger()
    for name in ("S1 postero-superior corner", "S1 antero-superior corner", "L5 postero-inferior corner"):
        col, row, dist = ct.display.plane.lps_to_pixel(lm[name])
        assert abs(dist) <= ct.display.stack.step_mm  # the landmark lies on the displayed plane
        click(ct, ct.viewport_point_of_pixel(col, row))
    QTest.keyClick(ct, Qt.Key.Key_Escape)  # ends the optional slip-angle phase, keeps the slip
    (ann,) = ws.store.of_kind(MeyerdingSlip)
    assert ann.points_lps and not ann.calibration  # true patient mm on CT
    slip = ws.session.findings.level(Level.L5).slip
    assert slip.percent == pytest.approx(reference, abs=3.0)
    assert set(slip.landmarks_lps) >= {"S1 postero-superior corner", "L5 postero-inferior corner"}
    # the same measurement is drawn on the MR sagittal (shared FrameOfReferenceUID) ...
    assert mr.display.frame_of_reference_uid == ct.display.frame_of_reference_uid
    mr.viewport().repaint()
    (mr_item,) = [it for it in ws.items_for(mr) if it.annotation.id == ann.id]
    assert mr_item.last_points is not None and not mr_item.native
    # ... but not on an MR slice 2 slices away, nor on a radiograph
    mr.set_slice(mr.display.index + 2)
    mr.viewport().repaint()
    assert mr_item.last_points is None
    xr = views["xr_left_oblique"]
    xr.viewport().repaint()
    assert [it.last_points for it in ws.items_for(xr) if it.annotation.id == ann.id] == [None]
