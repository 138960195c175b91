"""Open findings from the study (issue 15): opening a study that holds Isthmus SRs offers them
with author, date and a version picker (newest first); foreign reports are listed; loading is one
undoable step; with an autosave too the reader chooses and neither is lost."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog

sys.path.insert(0, str(Path(__file__).parent))

from sr_study import write_versions
from viewer_study import study_loaded, write_study

from app.dicom.scan import scan_paths
from app.findings.sr_discovery import discover_in_scan
from app.ui.dialogs.study_findings import StudyFindingsDialog

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def study_with_srs(tmp_path_factory) -> Path:
    root = write_study(tmp_path_factory.mktemp("study_srs"))
    write_versions(root, root / "sr")
    return root


def _cells(table, col):
    return [table.item(r, col).text() for r in range(table.rowCount())]


def test_dialog_lists_versions_newest_first_and_the_foreign_report(qtbot, study_with_srs):
    discovery = discover_in_scan(scan_paths(study_with_srs), "1.2.826.0.1.3680043.8.498.1")
    dialog = StudyFindingsDialog(discovery)
    qtbot.addWidget(dialog)
    assert _cells(dialog.versions, 1) == ["Dr New", "Dr Old"]
    assert _cells(dialog.versions, 0) == ["2026-01-03 10:30:00", "2026-01-02 09:00:00"]
    assert _cells(dialog.foreign, 3) == ["vendor.dcm"] and "Other Vendor" in dialog.foreign.item(0, 4).text()
    assert dialog.use_autosave is None  # no autosave: no choice to make
    dialog.versions.selectRow(1)
    dialog.accept()
    assert dialog.chosen().findings.impression == "first read"


def test_with_an_autosave_the_default_keeps_it(qtbot, study_with_srs):
    discovery = discover_in_scan(scan_paths(study_with_srs), "1.2.826.0.1.3680043.8.498.1")
    dialog = StudyFindingsDialog(discovery, autosave_restored=True)
    qtbot.addWidget(dialog)
    dialog.accept()
    assert dialog.chosen() is None  # the autosaved work stays unless the reader picks the SR
    dialog.use_sr.setChecked(True)
    dialog.accept()
    assert dialog.chosen().findings.impression == "second read"
    rejected = StudyFindingsDialog(discovery)
    qtbot.addWidget(rejected)
    rejected.reject()
    assert rejected.result() == QDialog.DialogCode.Rejected and rejected.chosen() is None


@pytest.mark.slow
def test_opening_the_study_offers_and_loads_the_newest_findings(window, qtbot, study_with_srs, tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(study_with_srs, folder)
    window.open_paths([str(folder)])
    qtbot.waitUntil(lambda: study_loaded(window), timeout=30_000)
    ws = window.annotations
    qtbot.waitUntil(lambda: ws.session is not None and ws.study_findings_offer.dialog is not None, timeout=30_000)
    dialog = ws.study_findings_offer.dialog
    assert dialog.isVisible() and dialog.versions.rowCount() == 2
    with qtbot.waitSignal(ws.study_findings_offer.loaded, timeout=10_000):
        dialog.load_button.click()
    session = ws.session
    assert session.findings.impression == "second read" and session.findings.reader == "Dr New"
    assert session.undo() and session.findings.impression == ""


def _session_of(folder: Path, data_dir: Path):
    from app.session import StudySession
    from app.viewer.study_info import StudyInfo

    scan = scan_paths(folder)
    patient = scan.patients[0]
    info = StudyInfo.of(scan, patient, patient.studies[0])
    return StudySession(info.identity.study_instance_uid, study=info, study_source=scan, data_dir=data_dir), scan


def test_autosave_and_sr_the_reader_chooses_and_neither_is_lost(qtbot, study_with_srs, tmp_path):
    from PySide6.QtWidgets import QWidget

    from app.findings import autosave as fa
    from app.ui.dialogs.study_findings import StudyFindingsOffer

    first, scan = _session_of(study_with_srs, tmp_path)
    first.set_impression("my unsaved work")
    first.close()  # flushes the autosave
    session, _ = _session_of(study_with_srs, tmp_path)
    assert session.restore() and session.findings.impression == "my unsaved work"
    parent = QWidget()
    qtbot.addWidget(parent)
    offer = StudyFindingsOffer(parent, lambda: session)
    discovery = discover_in_scan(scan, session.study_uid)
    dialog = offer.show_dialog(session, discovery, autosave_restored=True)
    dialog.load_button.click()  # default: keep the autosave
    assert session.findings.impression == "my unsaved work"
    dialog = offer.show_dialog(session, discovery, autosave_restored=True)
    dialog.use_sr.setChecked(True)
    with qtbot.waitSignal(offer.loaded, timeout=5_000):
        dialog.load_button.click()
    assert session.findings.impression == "second read"
    saved = fa.autosave_path(session.autosave.key, tmp_path)
    kept = list(saved.parent.glob(f"{saved.stem}.before-sr-*"))
    assert len(kept) == 1 and "my unsaved work" in kept[0].read_text(), kept[0].read_text()[:3000]
    assert offer.message is not None and str(kept[0]) in offer.message.text()
    assert session.undo() and session.findings.impression == "my unsaved work"
    session.close()


def test_no_offer_during_a_teaching_attempt(window, qtbot, study_with_srs, tmp_path):
    ws = window.annotations
    ws.autosave_data_dir = tmp_path / "teaching-autosave"  # what a teaching attempt sets
    window.open_paths([str(study_with_srs)])
    qtbot.waitUntil(lambda: study_loaded(window) and ws.session is not None, timeout=30_000)
    qtbot.wait(200)
    assert ws.study_findings_offer.workers == [] and ws.study_findings_offer.dialog is None
    assert ws.session.findings.pars == ()
