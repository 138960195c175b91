"""Reading safety on the workstation (issue 9): the right patient in every cell, one patient at
a time with a red banner for a mixed layout, the review dock emptied in the same event-loop
turn when another study loads, identity header and anonymised display everywhere, one undo
history under Edit > Undo, autosave status in the status bar."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from PySide6.QtCore import Qt
from viewer_study import study_loaded, write_ct, write_dx, write_mr

pytestmark = pytest.mark.gui

PATIENT_B = {"PatientName": "BRAVO^BEATRICE", "PatientID": "PAT-B-22", "PatientBirthDate": "19900505",
             "PatientSex": "F", "StudyInstanceUID": "1.2.826.0.1.3680043.8.498.900",
             "StudyDate": "20251212", "StudyDescription": "MRI L-SPINE"}


def _as_patient_b(paths: list[Path]) -> None:
    for p in paths:
        ds = pydicom.dcmread(p)
        for k, v in PATIENT_B.items():
            setattr(ds, k, v)
        ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.901"
        ds.save_as(p, enforce_file_format=True)


@pytest.fixture(scope="module")
def two_patients(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("two_patients")
    write_ct(root / "a" / "ct", n_slices=12)
    write_dx(root / "a" / "dx", "L-SPINE LT OBL", 3)
    _as_patient_b(write_mr(root / "b" / "mr", n=6))
    return root / "a", root / "b"


def _header_of(view) -> pydicom.Dataset:
    entry = view.window().controller.entry(view.cell.series_key)
    return pydicom.dcmread(entry.instances[0].path, stop_before_pixels=True)


def _overlay_identity(view) -> str:
    from app.ui.viewer.overlay import corner_lines

    return " ".join(text for text, _c in corner_lines(view)["top-left"])


def _shown(win) -> list:
    return [v for v in win.grid.views() if v.cell is not None and v.cell.series_key]


def _check_every_cell_shows_its_own_patient(win) -> None:
    views = _shown(win)
    assert views
    for v in views:
        ds = _header_of(v)
        text = _overlay_identity(v)
        assert " ".join(str(ds.PatientName).split("^")) in text and str(ds.PatientID) in text, text


def test_two_patients_every_cell_shows_its_own_series_identity(two_patients, window, qtbot):
    win = window
    win.open_paths([str(p) for p in two_patients])
    qtbot.waitUntil(lambda: study_loaded(win), timeout=30_000)
    assert len(win.controller.result.patients) == 2
    # one patient at a time: the layout shows patient A only, the browser marks it
    _check_every_cell_shows_its_own_patient(win)
    assert {str(_header_of(v).PatientID) for v in _shown(win)} == {"SYN001"}
    assert not win.grid.patient_banner.isVisible()
    assert sum(row.startswith("\u25b6") for row in win.browser.patient_rows()) == 1
    # a series of patient B from the browser switches the workstation to patient B
    mr_key = next(k for k in win.browser.series_keys() if win.controller.entry(k).modality_code == "MR")
    win.browser.sig_series_activated.emit(mr_key)
    qtbot.waitUntil(lambda: win.presenter.patient.patient_id == "PAT-B-22" and study_loaded(win), timeout=30_000)
    _check_every_cell_shows_its_own_patient(win)
    assert "BRAVO" in win.windowTitle()
    qtbot.waitUntil(lambda: win.annotations.session is not None
                    and win.annotations.session.patient.patient_id == "PAT-B-22", timeout=10_000)


def test_a_layout_that_mixes_patients_shows_a_red_banner(two_patients, window, qtbot):
    win = window
    win.open_paths([str(p) for p in two_patients])
    qtbot.waitUntil(lambda: study_loaded(win), timeout=30_000)
    p = win.presenter
    p.series = win.controller.result.all_series()  # a protocol that draws on every series
    win.state.set_layout("2x2")
    qtbot.waitUntil(lambda: study_loaded(win), timeout=30_000)
    assert win.grid.patient_banner.isVisible()
    assert "MIXES 2 PATIENTS" in win.grid.patient_banner.text()
    _check_every_cell_shows_its_own_patient(win)  # each cell still names its own patient
    win.state.set("anonymise", True)
    assert "BRAVO" not in win.grid.patient_banner.text() and "Anonymised" in win.grid.patient_banner.text()


def test_anonymised_display_hides_identity_everywhere(two_patients, window, qtbot):
    win = window
    win.open_paths([str(two_patients[0])])
    qtbot.waitUntil(lambda: study_loaded(win), timeout=30_000)
    win.annotations.ensure_dock()
    win.state.set("anonymise", True)
    texts = [win.windowTitle(), *win.browser.patient_rows(), win.annotations.review_widget.header.text(),
             win.annotations.review_widget.header.toolTip()]
    rows = [win.browser.topLevelItem(i) for i in range(win.browser.topLevelItemCount())]
    texts += [r.toolTip(0) for r in rows] + [r.child(j).toolTip(0) for r in rows for j in range(r.childCount())]
    texts += [_overlay_identity(v) for v in _shown(win)]
    for t in texts:
        assert "PHANTOM" not in t and "SYN001" not in t and "2005-01-01" not in t and "Accession A1" not in t, t
    win.state.set("anonymise", False)
    assert "PHANTOM" in win.windowTitle() and "PHANTOM" in win.annotations.review_widget.header.text()


def test_identity_header_on_the_review_dock(two_patients, window, qtbot):
    win = window
    win.open_paths([str(two_patients[1])])
    qtbot.waitUntil(lambda: study_loaded(win) and win.annotations.session is not None, timeout=30_000)
    header = win.annotations.ensure_dock().widget().header.text()
    for part in ("BRAVO BEATRICE", "PAT-B-22", "1990-05-05", "35 y", "F", "2025-12-12", "MRI L-SPINE"):
        assert part in header, header


def test_opening_another_study_empties_the_dock_in_the_same_turn(two_patients, window, qtbot):
    win = window
    win.open_paths([str(two_patients[0])])
    qtbot.waitUntil(lambda: study_loaded(win) and win.annotations.session is not None, timeout=30_000)
    dock = win.annotations.ensure_dock().widget()
    win.annotations.session.edit_pars("L5", "left", status="complete_fracture")
    assert dock.findings_panel is not None and not dock.tabs.isHidden()
    win.open_paths([str(two_patients[1])])
    # no event processed in between: nothing of the first study may still be shown
    assert dock.loading and dock.findings_panel is None and dock.pathway_panel is None
    assert dock.tabs.isHidden() and "Loading" in dock.loading_label.text()
    assert win.annotations.session is None and "Loading" in dock.header.text()
    qtbot.waitUntil(lambda: win.annotations.session is not None and not dock.loading, timeout=30_000)
    assert win.annotations.session.findings.pars == ()  # patient A's marker never reaches patient B
    assert "BRAVO" in dock.header.text()


def test_edit_undo_walks_drawings_and_table_edits_in_order(two_patients, window, qtbot):
    from app.annotations.model import Length, ParsMarker

    win = window
    win.open_paths([str(two_patients[0])])
    qtbot.waitUntil(lambda: study_loaded(win) and win.annotations.session is not None, timeout=30_000)
    ws = win.annotations
    ws.ensure_dock()
    store, session = ws.store, ws.session
    sag = next(v for v in _shown(win) if v.cell.role == "ct_sag_left_pars")
    uid = sag.display.volume.series_instance_uid
    sop = sag.display.volume.sop_instance_uids[0]
    marker = store.add(ParsMarker(points_px=((5.0, 5.0),), level="L5", side="left", status="complete_fracture",
                                  series_instance_uid=uid, sop_instance_uid=sop))
    model = ws.review_widget.findings_panel.level_model
    row = next(r for r in range(model.rowCount()) if str(model.index(r, 0).data()).startswith("L5"))
    col = next(c for c in range(model.columnCount())
               if "slip" in str(model.headerData(c, Qt.Orientation.Horizontal)).lower())
    assert model.setData(model.index(row, col), "20")  # a table edit
    length = store.add(Length(points_px=((1.0, 1.0), (9.0, 1.0)), series_instance_uid=uid, sop_instance_uid=sop))
    undo = ws.undo_action
    assert undo.isEnabled() and "length" in undo.text().lower()
    undo.trigger()
    assert length.id not in store and session.findings.level("L5").slip is not None
    undo.trigger()
    assert session.findings.level("L5") is None or session.findings.level("L5").slip is None
    assert marker.id in store
    undo.trigger()
    assert marker.id not in store and session.findings.pars_at("L5", "left") is None
    assert not undo.isEnabled()
    ws.redo_action.trigger()
    assert marker.id in store


def test_autosave_status_in_the_status_bar(two_patients, window, qtbot):
    win = window
    win.open_paths([str(two_patients[0])])
    qtbot.waitUntil(lambda: study_loaded(win) and win.annotations.session is not None, timeout=30_000)
    ws = win.annotations
    ws.session.edit_context(age_years=17.0)
    ws.session.autosave.flush()
    ws.update_autosave_status()
    assert ws.autosave_label.text().startswith("Autosave: saved ")
    blocker = Path(ws.session.autosave.path).parent / "blocker"
    blocker.write_text("not a folder")
    writes_to = ws.session.autosave.writer.path
    ws.session.autosave.writer.path = blocker / "x.json"  # the disk/folder stops accepting writes
    ws.session.edit_context(age_years=18.0)
    ws.session.autosave.flush()
    ws.update_autosave_status()
    assert "AUTOSAVE FAILED" in ws.autosave_label.text() and "blocker" in ws.autosave_label.toolTip()
    assert ws.notice_box is not None and ws.notice_box.isVisible()
    ws.notice_box.close()
    # the disk comes back: the next write succeeds and the status says so (and the window closes
    # without asking: quitting with a failed autosave asks, tests/ui/test_close_study.py)
    ws.session.autosave.writer.path = writes_to
    ws.session.edit_context(age_years=19.0)
    ws.session.autosave.flush()
    ws.update_autosave_status()
    assert ws.autosave_label.text().startswith("Autosave: saved ")


# ------------------------------------------------------------------ never lose the reader's work

def test_pars_popup_has_ok_cancel_and_a_click_elsewhere_never_discards(qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QWidget

    from app.findings.model import Level, ParsStatus, Side
    from app.ui.annotations.popups import ParsMarkerPopup

    host = QWidget()
    qtbot.addWidget(host)
    host.show()
    popup = ParsMarkerPopup(host, level=Level.L5, side=Side.LEFT)
    got, dropped = [], []
    popup.accepted.connect(lambda *a: got.append(a))
    popup.cancelled.connect(lambda: dropped.append(1))
    popup.show_at(QPoint(50, 50))
    assert popup.ok_button.text() == "OK" and popup.cancel_button.text() == "Cancel"
    popup.close()  # what a click outside a Qt popup does: incomplete -> stays open and asks
    assert popup.isVisible() and not got and not dropped
    assert "Not saved yet" in popup.hint.text()
    popup.rows[2].set_value(ParsStatus.COMPLETE_FRACTURE)
    popup.close()  # complete -> a click elsewhere commits what was entered
    assert got == [(Level.L5, Side.LEFT, ParsStatus.COMPLETE_FRACTURE)] and not dropped


def test_popup_cancel_button_discards_explicitly(qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QWidget

    from app.ui.annotations.popups import TextPopup

    host = QWidget()
    qtbot.addWidget(host)
    host.show()
    popup = TextPopup(host)
    got, dropped = [], []
    popup.accepted.connect(got.append)
    popup.cancelled.connect(lambda: dropped.append(1))
    popup.show_at(QPoint(50, 50))
    popup.ok_button.click()  # empty text: asks, nothing accepted
    assert popup.isVisible() and not got
    popup.cancel_button.click()
    assert dropped == [1] and not got
