""""Add to clinic list..." from the study browser (study and series rows) and from the start
page's study list: the study goes, with its autosaved findings, onto the chosen date's list."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QDate, QTimer
from PySide6.QtWidgets import QApplication, QDateEdit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "report"))

import report_data

from app.dicom.scan import scan_paths
from app.findings.autosave import AUTOSAVE_FORMAT, AUTOSAVE_VERSION, autosave_path
from app.findings.io import findings_to_dict
from app.pathway import evaluate, load_ruleset
from app.studydb.database import StudyDatabase
from app.ui.start_page import StartPage

CLINIC_DATE = "2031-05-06"


def _study_with_autosave(tmp_path: Path, patient: str = "Alpha^Ann"):
    findings = report_data.case04_findings()
    folder = report_data.write_study(tmp_path / "study", findings.study_instance_uid, patient_name=patient).parent
    doc = {"format": AUTOSAVE_FORMAT, "version": AUTOSAVE_VERSION, "findings": findings_to_dict(findings)}
    path = autosave_path(findings.study_instance_uid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return findings, folder


def _pick_date_soon(date: str) -> None:
    """Answer the clinic-date question (a modal dialog) with ``date``."""
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, answer)
            return
        dialog.findChild(QDateEdit).setDate(QDate.fromString(date, "yyyy-MM-dd"))
        dialog.accept()
    QTimer.singleShot(0, answer)


def _row_texts(dialog) -> list[list[str]]:
    t = dialog.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def test_browser_series_row_adds_its_study_with_findings_to_the_chosen_date(window, tmp_path, qtbot):
    findings, folder = _study_with_autosave(tmp_path)
    window.browser.populate(scan_paths([folder]))
    series_item = window.browser.item_for(window.browser.series_keys()[0])
    menu = window.browser.context_menu(series_item)
    (action,) = [a for a in menu.actions() if a.text() == "Add to clinic list..."]
    _pick_date_soon(CLINIC_DATE)
    action.trigger()
    dialog = window.report.clinic_dialog
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=10_000)
    assert dialog.clinic.date == CLINIC_DATE
    assert dialog.clinic.entries[0].study == folder
    (row,) = _row_texts(dialog)
    tier = evaluate(findings, load_ruleset()).tier
    assert row[0] == "Alpha, Ann" and row[2] == tier and tier != "unknown"
    dialog.close()


def test_browser_patient_row_has_no_clinic_action(window, tmp_path):
    _, folder = _study_with_autosave(tmp_path)
    window.browser.populate(scan_paths([folder]))
    assert window.browser.context_menu(window.browser.topLevelItem(0)) is None


def test_study_without_findings_is_added_as_unknown(window, tmp_path):
    findings = report_data.case04_findings()
    folder = report_data.write_study(tmp_path / "study", findings.study_instance_uid, patient_name="Beta^Bob").parent
    dialog = window.report.add_study_to_clinic([str(folder)], date=CLINIC_DATE)
    (row,) = _row_texts(dialog)
    assert row[0] == "Beta, Bob" and row[2] == "unknown"
    assert "file not found" in dialog.rows[0].problem
    dialog.close()


def test_dates_keep_their_own_lists(window, tmp_path):
    _, a = _study_with_autosave(tmp_path / "a", "Alpha^Ann")
    dialog = window.report.add_study_to_clinic([str(a)], date=CLINIC_DATE)
    b = report_data.write_study(tmp_path / "b" / "study", "2.25.1234", patient_name="Beta^Bob").parent
    window.report.add_study_to_clinic([str(b)], date="2031-05-07")
    assert dialog.clinic.date == "2031-05-07" and [e.study for e in dialog.clinic.entries] == [b]
    window.report.add_study_to_clinic([str(a)], date=CLINIC_DATE)
    assert dialog.clinic.date == CLINIC_DATE and [e.study for e in dialog.clinic.entries] == [a]
    dialog.close()


def test_start_page_study_adds_to_clinic_list(window, tmp_path, qtbot):
    _, folder = _study_with_autosave(tmp_path)
    db = StudyDatabase(tmp_path / "studies.sqlite")
    db.import_paths([folder])
    page = StartPage(db)
    qtbot.addWidget(page)
    page.sig_add_to_clinic.connect(lambda paths, uid: window.report.add_study_to_clinic(paths, uid, date=CLINIC_DATE))
    assert page.studies.study_menu(-1) is None
    menu = page.studies.study_menu(0)
    (action,) = [a for a in menu.actions() if a.text() == "Add to clinic list..."]
    action.trigger()
    dialog = window.report.clinic_dialog
    assert [e.study for e in dialog.clinic.entries] == [folder]
    assert _row_texts(dialog)[0][0] == "Alpha, Ann"
    dialog.close()


def test_window_start_page_is_wired_to_the_clinic_list(window, tmp_path):
    _, folder = _study_with_autosave(tmp_path)
    _pick_date_soon(CLINIC_DATE)
    window.start_page.sig_add_to_clinic.emit([str(folder)], "")
    dialog = window.report.clinic_dialog
    assert dialog.clinic.date == CLINIC_DATE and [e.study for e in dialog.clinic.entries] == [folder]
    dialog.close()
