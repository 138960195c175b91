"""The workstation window on a synthetic study: pars protocol, scrolling, window/level drag,
orientation labels, crosshair linking, progress/cancel, settings, shortcuts."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from viewer_study import CT_FOR, CT_MIDLINE_X, study_loaded, write_ct

pytestmark = pytest.mark.gui

ROLES_TO_DESC = {
    "xr_right_oblique": "L-SPINE RT OBL",
    "xr_left_oblique": "L-SPINE LT OBL",
    "ct_sag_right_pars": "AX BONE 1.0",
    "ct_sag_left_pars": "AX BONE 1.0",
    "ct_axial": "AX BONE 1.0",
    "mr_sag_stir": "SAG STIR",
}


_loaded = study_loaded


def _mouse(view, kind, pos, button=Qt.MouseButton.LeftButton, buttons=None):
    et = {"press": QEvent.Type.MouseButtonPress, "move": QEvent.Type.MouseMove,
          "release": QEvent.Type.MouseButtonRelease}[kind]
    p = QPointF(pos)
    ev = QMouseEvent(et, p, view.viewport().mapToGlobal(p), Qt.MouseButton.NoButton if kind == "move" else button,
                     buttons if buttons is not None else button, Qt.KeyboardModifier.NoModifier)
    view.viewportEvent(ev) if False else None
    getattr(view, {"press": "mousePressEvent", "move": "mouseMoveEvent", "release": "mouseReleaseEvent"}[kind])(ev)


def test_pars_protocol_fills_the_right_series(opened):
    win = opened
    assert win.state.layout == "pars"
    views = {v.cell.role: v for v in win.grid.views()}
    assert set(views) == set(ROLES_TO_DESC)
    for role, desc in ROLES_TO_DESC.items():
        assert views[role].series_description == desc, role
    assert views["xr_left_oblique"].display.radiograph.view.value == "left oblique"
    assert views["xr_right_oblique"].display.radiograph.view.value == "right oblique"
    assert views["mr_sag_stir"].display.volume.sequence.value == "STIR"
    # CT sagittals sit on each pars: midline +/- 14 mm (LPS +x = patient left)
    for role, expected_x in (("ct_sag_left_pars", CT_MIDLINE_X + 14), ("ct_sag_right_pars", CT_MIDLINE_X - 14)):
        d = views[role].display
        assert d.orientation == "sagittal"
        assert d.plane.origin_lps[0] == pytest.approx(expected_x, abs=1.5)
    assert views["ct_axial"].display.orientation == "axial"
    # the browser lists every series with its image count
    assert len(win.browser.series_keys()) == 6
    ct_item = win.browser.item_for(views["ct_axial"].cell.series_key)
    assert ct_item.text(1) == "60"


def test_empty_cell_says_what_is_missing(window, qtbot, study_without_right_oblique):
    window.open_paths([str(study_without_right_oblique)])
    qtbot.waitUntil(lambda: _loaded(window), timeout=30_000)
    v = window.grid.view_for_role("xr_right_oblique")
    assert v.display is None
    assert v.cell.empty_message == "No right oblique radiograph in this study"
    assert window.grid.view_for_role("xr_left_oblique").display is not None


def test_scrolling_changes_the_slice(opened, qtbot):
    v = opened.grid.view_for_role("ct_axial")
    before_idx = v.display.index
    before = v.rendered_pixels().copy()
    ev = QWheelEvent(QPointF(50, 50), QPointF(50, 50), QPoint(0, 0), QPoint(0, -120), Qt.MouseButton.NoButton,
                     Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    v.wheelEvent(ev)
    assert v.display.index == before_idx + 1
    assert not np.array_equal(before, v.rendered_pixels())
    v.setFocus()
    qtbot.keyClick(v, Qt.Key.Key_End)
    assert v.display.index == v.display.n_slices - 1
    qtbot.keyClick(v, Qt.Key.Key_Home)
    assert v.display.index == 0
    qtbot.keyClick(v, Qt.Key.Key_PageDown)
    assert v.display.index == 10


def test_window_level_drag_changes_contrast(opened):
    v = opened.grid.view_for_role("ct_axial")
    wl0 = v.display.options.wl
    px0 = v.rendered_pixels().astype(float)
    raw0 = v.display.raw()
    soft, bone = raw0 == 40, (raw0 > 450) & (raw0 < 750)
    assert soft.sum() > 100 and bone.sum() > 100
    c = QPointF(v.viewport().width() / 2, v.viewport().height() / 2)
    _mouse(v, "press", c, Qt.MouseButton.RightButton)
    _mouse(v, "move", c + QPointF(-200, 0), buttons=Qt.MouseButton.RightButton)
    _mouse(v, "release", c + QPointF(-200, 0), Qt.MouseButton.RightButton)
    wl1 = v.display.options.wl
    assert wl1.width < wl0.width and wl1.center == pytest.approx(wl0.center)
    px1 = v.rendered_pixels().astype(float)
    # narrower window -> more contrast between soft tissue and bone on the rendered buffer
    c0 = px0[bone].mean() - px0[soft].mean()
    c1 = px1[bone].mean() - px1[soft].mean()
    assert c0 > 20 and c1 > 1.5 * c0
    # and the rendered values follow the DICOM linear function for the new window
    raw = v.display.raw()
    expected = np.clip(((raw - (wl1.center - 0.5)) / (wl1.width - 1) + 0.5) * 255, 0, 255)
    assert np.abs(px1 - np.rint(expected)).max() <= 1


def test_orientation_labels_on_views(opened):
    sag = opened.grid.view_for_role("ct_sag_left_pars").display.edge_labels()
    assert (sag.left, sag.right, sag.top, sag.bottom) == ("A", "P", "S", "I")
    ax = opened.grid.view_for_role("ct_axial").display.edge_labels()
    assert (ax.left, ax.right, ax.top, ax.bottom) == ("R", "L", "A", "P")
    mr = opened.grid.view_for_role("mr_sag_stir").display.edge_labels()
    assert (mr.left, mr.right, mr.top, mr.bottom) == ("A", "P", "S", "I")


def test_orientation_labels_of_an_oblique_acquisition(qtbot):
    from app.dicom.model import Geometry, Modality, Plane, Volume
    from app.ui.viewer.slice_view import SliceView
    from app.viewer.display import VolumeDisplay
    from app.viewer.mpr import rotation_matrix
    from app.viewer.state import ViewerState

    rot = rotation_matrix((0, 0, 1), 30)  # axial acquisition rotated 30 degrees about S-I
    g = Geometry(np.zeros(3), np.ones(3), rot, (40, 40, 10))
    vol = Volume(np.zeros((10, 40, 40), np.int16), g, Modality.CT, "s", "for", plane=Plane.OBLIQUE, units="HU")
    view = SliceView(ViewerState())
    qtbot.addWidget(view)
    view.resize(300, 300)
    view.show()
    view.set_display(VolumeDisplay(vol, "native"))
    e = view.display.edge_labels()
    assert (e.left, e.right, e.top, e.bottom) == ("RA", "LP", "AL", "PR")
    view.set_display(VolumeDisplay(vol, "axial"))
    e = view.display.edge_labels()
    assert (e.left, e.right) == ("R", "L")
    assert not view.grab().isNull()


def test_crosshair_click_moves_other_views_to_the_point(opened):
    win = opened
    win.state.set_mode("crosshair")
    ax = win.grid.view_for_role("ct_axial")
    mr = win.grid.view_for_role("mr_sag_stir")
    mr_index = mr.display.index
    pos = ax.viewport_point_of_pixel(40, 70)
    _mouse(ax, "press", pos)
    _mouse(ax, "release", pos)
    point = ax.display.pixel_to_lps(*ax.pixel_at(pos))
    assert win.state.crosshair_lps is not None and np.allclose(win.state.crosshair_lps, point)
    assert win.state.crosshair_for_uid == CT_FOR
    for role in ("ct_sag_left_pars", "ct_sag_right_pars"):
        d = win.grid.view_for_role(role).display
        dist_mm = d.plane.lps_to_pixel(point)[2]
        assert abs(dist_mm) <= d.stack.step_mm / 2 + 1e-6, role
        assert d.plane.origin_lps[0] == pytest.approx(point[0], abs=0.51)
    assert mr.display.index == mr_index  # another frame of reference does not move
    # clicking on a sagittal moves the axial to that height
    sag = win.grid.view_for_role("ct_sag_left_pars")
    p2 = sag.viewport_point_of_pixel(30, 20)
    _mouse(sag, "press", p2)
    _mouse(sag, "release", p2)
    point2 = sag.display.pixel_to_lps(*sag.pixel_at(p2))
    assert abs(ax.display.plane.lps_to_pixel(point2)[2]) <= ax.display.stack.step_mm / 2 + 1e-6


def test_reference_lines_are_set_between_linked_views(opened):
    ax = opened.grid.view_for_role("ct_axial")
    assert len(ax.reference_planes) == 2  # the two CT sagittals
    mr = opened.grid.view_for_role("mr_sag_stir")
    assert mr.reference_planes == []


def test_preview_comes_before_the_series(window, qtbot, synthetic_study):
    events = []
    window.controller.sig_preview.connect(lambda k, px: events.append(("preview", k)))
    window.controller.sig_loaded.connect(lambda k, o, p: events.append(("loaded", k)))
    window.open_paths([str(synthetic_study)])
    qtbot.waitUntil(lambda: _loaded(window), timeout=30_000)
    ct_key = window.grid.view_for_role("ct_axial").cell.series_key
    kinds = [k for k, key in events if key == ct_key]
    assert "loaded" in kinds
    if "preview" in kinds:  # the preview is dropped only if the whole series won the race
        assert kinds.index("preview") < kinds.index("loaded")


def test_progress_is_reported_and_cancel_works(qtbot, tmp_path):
    from app.ui.study_controller import StudyController

    write_ct(tmp_path / "big", n_slices=120)
    c = StudyController()
    progress, loaded, cancelled = [], [], []
    c.sig_progress.connect(lambda label, d, t: progress.append((label, d, t)))
    c.sig_loaded.connect(lambda k, o, p: loaded.append(k))
    c.sig_cancelled.connect(lambda: cancelled.append(True))
    with qtbot.waitSignal(c.sig_scanned, timeout=30_000):
        c.open_paths([str(tmp_path / "big")])
    assert any(label == "Scanning" and d == t for label, d, t in progress)
    key = c.result.all_series()[0].key
    progress.clear()
    c.request(key)
    qtbot.waitUntil(lambda: any(lab.startswith("Loading") for lab, _, _ in progress), timeout=30_000)
    c.cancel()
    qtbot.waitUntil(lambda: bool(cancelled) or bool(loaded), timeout=30_000)
    qtbot.waitUntil(lambda: not c.busy, timeout=30_000)
    assert cancelled and not loaded
    assert key not in c.loaded
    # a fresh request after cancelling loads it completely
    with qtbot.waitSignal(c.sig_loaded, timeout=30_000):
        c.request(key)
    assert c.loaded[key][0].array.shape[0] == 120
    c.shutdown()


def test_settings_are_remembered(qtbot, tmp_path):
    from app.ui.main_window import MainWindow

    w1 = MainWindow()
    qtbot.addWidget(w1)
    w1.state.set_layout("2x2")
    w1.state.set("anonymise", True)
    w1.settings.add_recent([str(tmp_path)])
    w1.close()
    w2 = MainWindow()
    qtbot.addWidget(w2)
    assert w2.state.layout == "2x2" and w2.state.anonymise is True
    assert w2.settings.recent()[0] == [str(tmp_path.resolve())]
    assert w2.actions["layout.2x2"].isChecked()
    w2.close()


def test_shortcuts_dialog_lists_the_registry(qtbot):
    from app.ui.dialogs.shortcuts import ShortcutsDialog
    from app.viewer.actions import ACTIONS

    d = ShortcutsDialog()
    qtbot.addWidget(d)
    listed = {d.table.item(r, 1).text() for r in range(d.table.rowCount())}
    assert {a.title for a in ACTIONS if a.shortcut} <= listed


def test_start_page_lists_sample_cases_with_readme(qtbot, tmp_path):
    from app.ui.start_page import StartPage

    case = tmp_path / "case01_lysis"
    case.mkdir()
    (case / "README.md").write_text("# Bilateral L5 pars defects\nmore text\n")
    (tmp_path / "notacase").mkdir()
    page = StartPage(None, samples_root=tmp_path)
    qtbot.addWidget(page)
    assert page.samples.count() == 1
    assert "Bilateral L5 pars defects" in page.samples.item(0).text()
    with qtbot.waitSignal(page.sig_open_requested) as blocker:
        page._activated(page.samples.item(0))
    assert blocker.args[0] == [str(case)]
    assert page.studies.table.rowCount() == 0 and not page.studies.import_button.isEnabled()


def test_layout_switch_and_browser_double_click(opened, qtbot):
    win = opened
    win.state.set_layout("1x1")
    assert len(win.grid.views()) == 1
    key = next(k for k in win.browser.series_keys() if win.controller.entry(k).description == "SAG STIR")
    win.grid.set_active(win.grid.views()[0])
    win.presenter.show_in_active(key)
    qtbot.waitUntil(lambda: win.grid.views()[0].display is not None and win.grid.views()[0].display.kind == "volume",
                    timeout=10_000)
    assert win.grid.views()[0].display.volume.description == "SAG STIR"


def test_open_command_does_not_import_heavy_modules_at_startup():
    import subprocess
    import sys

    code = ("import sys; import app.cli; app.cli.build_parser(); import app.ui.main_window; "
            "print(sorted(m for m in ('SimpleITK', 'pydicom') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def _sample_case():
    from app.core.paths import sample_dicom_dir

    root = sample_dicom_dir()
    cases = sorted(p for p in root.glob("case04*") if p.is_dir()) if root.is_dir() else []
    return cases[0] if cases else None


@pytest.mark.skipif(_sample_case() is None, reason="sample_dicom/case04 not generated")
def test_sample_case_fills_the_pars_protocol(window, qtbot):
    window.open_paths([str(_sample_case())])
    qtbot.waitUntil(lambda: _loaded(window), timeout=60_000)
    views = {v.cell.role: v for v in window.grid.views()}
    assert views["xr_left_oblique"].display.radiograph.view.value == "left oblique"
    assert views["xr_right_oblique"].display.radiograph.view.value == "right oblique"
    assert views["mr_sag_stir"].display.volume.sequence.value == "STIR"
    left, right = views["ct_sag_left_pars"].display, views["ct_sag_right_pars"].display
    assert left.volume.modality.value == "CT" and left.orientation == "sagittal"
    # the two pars sagittals are 2 x 14 mm apart, left (+x in LPS) of right
    assert left.plane.origin_lps[0] - right.plane.origin_lps[0] == pytest.approx(28.0, abs=1.5)
    assert views["ct_axial"].display.orientation == "axial"
