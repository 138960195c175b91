"""FindingsPanel / FindingsTableModel: in step with the StudySession both ways."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.findings import model as m
from app.session import StudySession
from app.ui.findings import FindingsPanel, FindingsTableModel
from app.ui.findings.table_model import FLAG_ROLE

pytestmark = pytest.mark.gui

UID = "1.2.826.0.1.3680043.8.498.77"
EDIT = Qt.ItemDataRole.EditRole
DISPLAY = Qt.ItemDataRole.DisplayRole


@pytest.fixture
def session(tmp_path):
    s = StudySession(UID, data_dir=tmp_path / "autosave")
    yield s
    s.close()


@pytest.fixture
def panel(qtbot, session):
    w = FindingsPanel(session)
    qtbot.addWidget(w)
    yield w
    w.cleanup()


def _pars_row(model, level, side):
    for r in range(model.rowCount()):
        if model.row_key(r) == (m.Level(level), m.Side(side)):
            return r
    raise AssertionError("row not found")


def _level_row(model, level):
    for r in range(model.rowCount()):
        if model.row_key(r) == m.Level(level):
            return r
    raise AssertionError("row not found")


def test_session_change_updates_table(panel, session, qtbot):
    model = panel.pars_model
    r = _pars_row(model, "L5", "left")
    status = model.index(r, model.column_of("status"))
    assert model.data(status, DISPLAY) == "—"
    with qtbot.waitSignal(model.dataChanged, timeout=1000):
        session.edit_pars("L5", "left", status="complete_fracture", edema_present=True, gap_mm=2.5)
    assert model.data(status, DISPLAY) == "complete fracture"
    assert model.data(model.index(r, model.column_of("mri")), DISPLAY) == "3"
    assert model.data(model.index(r, model.column_of("ct")), DISPLAY) == "progressive"
    assert model.data(model.index(r, model.column_of("gap")), DISPLAY) == "2.5"
    assert model.data(model.index(r, model.column_of("edema")), DISPLAY) == "yes"


def test_setdata_updates_session(panel, session):
    model = panel.pars_model
    r = _pars_row(model, "L4", "right")
    assert model.setData(model.index(r, model.column_of("status")), "incomplete_fracture", EDIT)
    assert session.findings.pars_at("L4", "right").status is m.ParsStatus.INCOMPLETE_FRACTURE
    assert model.setData(model.index(r, model.column_of("edema")), "no", EDIT)
    p = session.findings.pars_at("L4", "right")
    assert p.edema.present is False and p.mri_grade is None  # Ang 2b: no Hollenberg grade
    assert model.data(model.index(r, model.column_of("mri")), DISPLAY).startswith("—")
    assert model.setData(model.index(r, model.column_of("mri")), "2", EDIT)  # reader override
    assert session.findings.pars_at("L4", "right").mri_grade_override == 2
    assert "override" in model.data(model.index(r, model.column_of("mri")), DISPLAY)
    edema = model.index(r, model.column_of("edema"))
    assert model.setData(edema, "yes:pars,pedicle", EDIT)
    p = session.findings.pars_at("L4", "right")
    assert p.edema.present is True and p.edema.sites == {m.EdemaSite.PARS, m.EdemaSite.PEDICLE}
    assert model.data(edema, DISPLAY) == "yes: pars, pedicle"
    assert model.data(edema, EDIT) == "yes:pars,pedicle"
    assert model.setData(edema, "no", EDIT)
    assert session.findings.pars_at("L4", "right").edema.sites == frozenset()
    assert not model.setData(edema, "no:pars", EDIT)  # sites without edema are refused
    assert model.setData(edema, "", EDIT)
    assert session.findings.pars_at("L4", "right").edema.present is None


def test_refused_edit_reports_and_keeps_findings(panel, session, qtbot):
    model = panel.pars_model
    r = _pars_row(model, "L3", "left")
    model.setData(model.index(r, model.column_of("status")), "complete_fracture", EDIT)
    before = session.findings
    with qtbot.waitSignal(model.sig_edit_failed, timeout=1000):
        ok = model.setData(model.index(r, model.column_of("gap")), "99", EDIT)  # > 50 mm
    assert not ok and session.findings is before
    assert "gap" in panel.message_label.text()


def test_gap_not_editable_without_fracture(panel, session):
    model = panel.pars_model
    r = _pars_row(model, "L3", "left")
    gap = model.index(r, model.column_of("gap"))
    assert not (model.flags(gap) & Qt.ItemFlag.ItemIsEditable)  # not assessed yet
    session.edit_pars("L3", "left", status="intact")
    assert not (model.flags(gap) & Qt.ItemFlag.ItemIsEditable)
    session.edit_pars("L3", "left", status="complete_fracture")
    assert model.flags(gap) & Qt.ItemFlag.ItemIsEditable


def test_level_list_short_by_default_and_complete_on_request(panel, session):
    pm, lm = panel.pars_model, panel.level_model
    assert [pm.row_key(r)[0].value for r in range(0, pm.rowCount(), 2)] == ["L3", "L4", "L5"]
    session.edit_pars("L1", "right", status="stress_reaction")  # an entry is always listed
    assert (m.Level.L1, m.Side.RIGHT) in [pm.row_key(r) for r in range(pm.rowCount())]
    assert pm.data(pm.index(0, 0), DISPLAY) == "L1 L"
    panel.all_levels_box.setChecked(True)
    assert pm.rowCount() == 10 and lm.rowCount() == 5
    panel.all_levels_box.setChecked(False)
    assert pm.rowCount() == 8 and lm.rowCount() == 3


def test_meyerding_grade_and_near_boundary_flag(panel, session):
    model = panel.level_model
    r = _level_row(model, "L5")
    assert model.data(model.index(r, 0), DISPLAY) == "L5–S1"
    grade = model.index(r, model.column_of("meyerding"))
    assert model.setData(model.index(r, model.column_of("slip")), "48", EDIT)
    assert session.findings.level("L5").slip.percent == 48.0
    assert model.data(grade, DISPLAY) == "II ⚠ near 50 %"
    assert model.data(grade, FLAG_ROLE) is True
    assert model.data(grade, Qt.ItemDataRole.BackgroundRole) is not None
    session.edit_level("L5", slip_percent=37.0)
    assert model.data(grade, DISPLAY) == "II"
    assert model.data(grade, FLAG_ROLE) is False
    session.edit_level("L5", slip_percent=60.0)
    assert model.data(grade, DISPLAY) == "III"
    assert not (model.flags(grade) & Qt.ItemFlag.ItemIsEditable)  # derived, read-only


def test_level_tri_state_and_pfirrmann(panel, session):
    model = panel.level_model
    r = _level_row(model, "L4")
    hyp = model.index(r, model.column_of("hypoplasia"))
    assert model.data(hyp, DISPLAY) == "?"
    assert model.setData(hyp, "yes", EDIT)
    assert session.findings.level("L4").neural_arch_hypoplasia is True
    assert model.setData(hyp, "", EDIT)
    assert session.findings.level("L4").neural_arch_hypoplasia is None
    assert model.setData(model.index(r, model.column_of("pfirrmann")), "3", EDIT)
    assert model.data(model.index(r, model.column_of("pfirrmann")), DISPLAY) == "III"
    assert model.setData(model.index(r, model.column_of("stenosis")), "moderate", EDIT)
    assert session.findings.level("L4").foraminal_stenosis is m.Severity.MODERATE


def test_impression_and_reader_reach_session(panel, session, qtbot):
    panel.impression_edit.setPlainText("Bilateral L5 spondylolysis, grade I slip.")
    qtbot.keyClicks(panel.reader_edit, "Dr Example")  # typed, not yet committed
    panel.commit_pending()
    assert session.findings.impression.startswith("Bilateral L5")
    assert session.findings.reader == "Dr Example"
    session.set_impression("changed elsewhere")
    assert panel.impression_edit.toPlainText() == "changed elsewhere"


def test_save_and_open_through_panel(panel, session, tmp_path):
    session.edit_pars("L5", "right", status="chronic_nonunion")
    path = tmp_path / "out.json"
    assert panel.save_to(path) and path.exists()
    session.edit_pars("L5", "right", status=None)
    assert panel.open_from(path)
    assert session.findings.pars_at("L5", "right").status is m.ParsStatus.CHRONIC_NONUNION
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    assert not panel.open_from(bad)
    assert "bad.json" in panel.message_label.text()


def test_the_panel_has_no_private_undo(panel, session):
    """Undo is Edit > Undo over the study's one history (issue 9/12), not a panel button."""
    from PySide6.QtWidgets import QPushButton

    assert not [b for b in panel.findChildren(QPushButton) if b.text().replace("&", "") in ("Undo", "Redo")]
    session.edit_level("L5", slip_percent=20.0)
    assert session.history.undo_text == "edit L5"


@pytest.mark.parametrize("section", ["pars", "levels"])
def test_qtmodeltester(qtmodeltester, session, section):
    session.edit_pars("L5", "left", status="complete_fracture", edema_present=False, gap_mm=3.0)
    session.edit_level("L5", slip_percent=26.0, slip_angle_deg=8.0, disc_pfirrmann=4)
    model = FindingsTableModel(session, section)
    qtmodeltester.check(model, force_py=True)
    session.edit_pars("S1", "left", status="intact")  # adds rows (reset)
    qtmodeltester.check(model, force_py=True)
    model.detach()


def test_combo_delegate_edits_through_the_view(panel, session, qtbot):
    from PySide6.QtWidgets import QComboBox

    view, model = panel.pars_view, panel.pars_model
    idx = model.index(_pars_row(model, "L5", "right"), model.column_of("status"))
    view.setCurrentIndex(idx)
    view.edit(idx)
    editor = view.findChild(QComboBox)
    assert editor is not None
    i = editor.findData("chronic_nonunion")
    editor.setCurrentIndex(i)
    editor.activated.emit(i)  # what a click on the entry sends
    assert session.findings.pars_at("L5", "right").status is m.ParsStatus.CHRONIC_NONUNION


def test_edema_delegate_sites_imply_yes(panel, session):
    from app.ui.findings.delegates import _EdemaEditor

    session.edit_pars("L5", "left", status="complete_fracture")
    view, model = panel.pars_view, panel.pars_model
    idx = model.index(_pars_row(model, "L5", "left"), model.column_of("edema"))
    view.edit(idx)
    editor = view.findChild(_EdemaEditor)
    assert editor.combo.currentText() == "?"
    editor.boxes["pedicle"].setChecked(True)
    assert editor.combo.currentData() == "yes"
    view.itemDelegate().setModelData(editor, model, idx)
    p = session.findings.pars_at("L5", "left")
    assert p.edema.present is True and p.edema.sites == {m.EdemaSite.PEDICLE} and p.mri_grade == 3


def test_float_delegate_empty_means_unknown(panel, session):
    from PySide6.QtWidgets import QLineEdit

    session.edit_level("L5", slip_percent=30.0)
    view, model = panel.level_view, panel.level_model
    idx = model.index(_level_row(model, "L5"), model.column_of("slip"))
    view.edit(idx)
    editor = view.findChild(QLineEdit)
    assert editor.text() == "30"
    editor.setText("")
    view.itemDelegate().setModelData(editor, model, idx)
    assert session.findings.level("L5").slip is None


def test_review_dock_has_three_tabs(qtbot, session):
    from PySide6.QtWidgets import QMainWindow

    from app.ui.findings import make_review_dock

    win = QMainWindow()
    qtbot.addWidget(win)
    dock = make_review_dock(session, win)
    win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    rw = dock.widget()
    assert [rw.tabs.tabText(i).split()[0] for i in range(3)] == ["Findings", "Clinical", "Pathway"]
    session.edit_context(age_years=40)  # every panel follows the same session
    assert rw.context_form.widgets["age_years"].text() == "40"
    other = StudySession("9.8.7", autosave=False)
    assert len(session.findings_changed) > 0
    rw.set_session(other)
    assert rw.findings_panel.session is other
    # the old study's panels let go of it
    assert len(session.findings_changed) == 0 and len(session.pathway_changed) == 0
    rw.cleanup()
    assert len(other.findings_changed) == 0 and len(other.pathway_changed) == 0
    other.close()


def _write_ct(folder, study_uid):
    import numpy as np
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = "CT", "Synthetic^Patient", "SYN-1"
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber, ds.ReferringPhysicianName = "20261121", "101500", "1", "A1", ""
    ds.PatientBirthDate, ds.PatientSex, ds.SeriesNumber, ds.InstanceNumber = "20100101", "M", 2, 1
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing, ds.SliceThickness, ds.FrameOfReferenceUID = [0.5, 0.5], 1.0, generate_uid()
    ds.PixelData = np.zeros((8, 8), dtype=np.uint16).tobytes()
    ds.save_as(folder / "ct1.dcm", enforce_file_format=True)


def test_export_sr_button_writes_an_sr(panel, session, tmp_path):
    import pydicom

    assert not panel.sr_button.isHidden()
    session.edit_pars("L5", "left", status="complete_fracture", edema_present=True)
    out = tmp_path / "sr.dcm"
    assert not panel.export_sr_to(out)  # no study images known yet: a plain message, no crash
    assert "SR export failed" in panel.message_label.text() and not out.exists()
    session.study_source = tmp_path / "study"
    _write_ct(session.study_source, UID)
    assert panel.export_sr_to(out), panel.message_label.text()
    ds = pydicom.dcmread(out)
    assert ds.Modality == "SR" and ds.StudyInstanceUID == UID


def test_open_in_background_reads_the_file_off_the_gui_thread_then_shows_it(panel, session, tmp_path, qtbot):
    session.edit_pars("L4", "left", status="complete_fracture")
    path = tmp_path / "read.json"
    assert panel.save_to(path)
    session.edit_pars("L4", "left", status=None)
    panel.open_in_background(path)
    assert panel.opening and not panel.open_button.isEnabled()
    assert session.findings.pars_at("L4", "left") is None or session.findings.pars_at("L4", "left").status is None
    qtbot.waitUntil(lambda: not panel.opening, timeout=10_000)
    assert session.findings.pars_at("L4", "left").status is m.ParsStatus.COMPLETE_FRACTURE
    assert session.path == path and "Opened findings" in panel.message_label.text()


def test_open_in_background_names_the_file_and_json_path_of_a_bad_file(panel, session, tmp_path, qtbot):
    from app.findings import io as fio

    doc = fio.findings_to_dict(session.findings)
    doc["pars"] = [{"level": "L5", "side": "left", "provenance": [
        {"annotation_id": "roi-1", "kind": "freehand-roi", "points_px": [[1.0, 2.0]] * 50 + [[1.0, True]]}]}]
    bad = tmp_path / "bad-points.json"
    bad.write_text(__import__("json").dumps(doc))
    before = session.findings
    panel.open_in_background(bad)
    qtbot.waitUntil(lambda: not panel.opening, timeout=10_000)
    text = panel.message_label.text()
    assert str(bad) in text and "pars/0/provenance/0/points_px/50" in text
    assert session.findings == before


def test_one_finding_change_updates_its_row_in_place(panel, session, qtbot):
    model = panel.pars_model
    session.edit_pars("L4", "right", status="intact")  # rows now fixed: L3-L5, both sides
    changes, resets = [], []
    model.dataChanged.connect(lambda a, b, *_: changes.append((a.row(), b.row(), a.column(), b.column())))
    model.modelReset.connect(lambda: resets.append(1))
    r = _pars_row(model, "L5", "left")
    session.edit_pars("L5", "left", status="complete_fracture")
    assert resets == [] and changes == [(r, r, 0, model.columnCount() - 1)]
    assert model.data(model.index(r, model.column_of("status")), DISPLAY) == "complete fracture"
    changes.clear()
    session.set_impression("no table row shows the impression")
    assert changes == [] and resets == []
    session.edit_level("L5", slip_percent=12.0)  # the level table changes, the pars table does not
    assert changes == []
    row = _level_row(panel.level_model, "L5")
    assert panel.level_model.data(panel.level_model.index(row, panel.level_model.column_of("slip")), DISPLAY) == "12.0"


def test_another_study_is_built_in_steps_and_the_old_one_is_gone_at_once(qtbot, session):
    from app.ui.findings import ReviewWidget

    rw = ReviewWidget(session)
    qtbot.addWidget(rw)
    rw.show()
    assert rw.tabs.count() == 4 and not rw.building
    other = StudySession("9.8.7", autosave=False)
    rw.set_session(other, in_steps=True)
    # the same turn: nothing of the old study is left, the new tabs are not there yet
    assert rw.session is other and rw.building and rw.tabs.isHidden() and rw.tabs.count() == 0
    assert rw.findings_panel is None and rw.pathway_panel is None and "Preparing" in rw.loading_label.text()
    assert len(session.findings_changed) == 0 and len(session.pathway_changed) == 0
    with qtbot.waitSignal(rw.sig_panels_ready, timeout=10_000):
        pass
    assert not rw.building and not rw.tabs.isHidden() and rw.loading_label.isHidden()
    assert [rw.tabs.tabText(i).split()[0] for i in range(rw.tabs.count())] == ["Findings", "Clinical", "Pathway", "Key"]
    assert all(p.session is other for p in (rw.findings_panel, rw.context_form, rw.pathway_panel, rw.key_images_panel))
    rw.cleanup()


def test_a_study_parked_while_its_tabs_are_built_gets_none_of_them(qtbot, session):
    from app.ui.findings import ReviewWidget

    rw = ReviewWidget(None)
    qtbot.addWidget(rw)
    rw.show()
    rw.set_session(session, in_steps=True)
    qtbot.waitUntil(lambda: rw.findings_panel is not None, timeout=10_000)
    assert rw.building
    rw.show_loading("the next study")  # another study starts loading half way
    assert not rw.building and rw.session is None and rw.findings_panel is None
    qtbot.wait(300)
    assert rw.tabs.count() == 0 and rw.tabs.isHidden() and rw.findings_panel is None and rw.context_form is None
    assert len(session.findings_changed) == 0 and len(session.pathway_changed) == 0  # nothing still listens
    rw.set_session(session, in_steps=True)
    rw.finish_building()  # a caller that needs the panels now
    assert not rw.building and rw.tabs.count() == 4 and rw.findings_panel.session is session
    rw.cleanup()
