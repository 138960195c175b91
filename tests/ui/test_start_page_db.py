"""The start page's study list from the local study database: search, columns, anonymised
display, import in a worker with progress, open on double-click, remove, re-index, recovery
message, and the main window's File > Open landing in the list."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from studydb.studydb_factory import write_study

from app.findings import model as m
from app.findings.sr_export import export_sr
from app.studydb.database import StudyDatabase
from app.ui.start_page import StartPage
from app.ui.study_list import COLUMNS


@pytest.fixture
def db(tmp_path):
    database = StudyDatabase(tmp_path / "data" / "studies.sqlite")
    yield database
    database.close()


def _page(qtbot, db, **kw) -> StartPage:
    page = StartPage(db, samples_root=Path("/nonexistent"), **kw)
    qtbot.addWidget(page)
    return page


def _cells(page) -> list[list[str]]:
    t = page.studies.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def _wait_idle(qtbot, page) -> None:
    qtbot.waitUntil(lambda: not page.studies.busy, timeout=30_000)


def test_columns_and_search(qtbot, db, tmp_path):
    uid_a, _ = write_study(tmp_path / "a", n=2, series=2, PatientName="Alpha^Ann", PatientID="A-1")
    export_sr(m.StudyFindings(study_instance_uid=uid_a), tmp_path / "a" / "sr.dcm", study=tmp_path / "a")
    write_study(tmp_path / "b", n=1, modality="MR", PatientName="Beta^Bob", PatientID="B-2",
                StudyDescription="Pelvis", StudyDate="20250101")
    db.import_paths([tmp_path / "a", tmp_path / "b"])
    page = _page(qtbot, db)
    assert [page.studies.table.horizontalHeaderItem(c).text() for c in range(len(COLUMNS))] == [
        "Patient", "ID", "Date", "Modalities", "Description", "Series", "Source", "Findings SR"]
    assert _cells(page) == [["Alpha Ann", "A-1", "2026-01-05", "CT SR", "Lumbar spine", "3", "folder", "1"],
                            ["Beta Bob", "B-2", "2025-01-01", "MR", "Pelvis", "1", "folder", "-"]]
    page.studies.search_box.setText("bob")
    assert [r[0] for r in _cells(page)] == ["Beta Bob"]
    page.studies.search_box.setText("")
    page.studies.modality.setCurrentText("CT")
    assert [r[0] for r in _cells(page)] == ["Alpha Ann"]


def test_an_empty_list_says_how_to_add_studies_and_an_empty_search_says_so(qtbot, db, tmp_path):
    page = _page(qtbot, db)
    hint = page.studies.empty_hint
    assert not hint.isHidden() and "Import folder" in hint.text() and "Query PACS" in hint.text()
    write_study(tmp_path / "a", n=1, PatientName="Alpha^Ann", PatientID="A-1")
    db.import_paths([tmp_path / "a"])
    page.studies.refresh()
    assert hint.isHidden() and _cells(page)[0][0] == "Alpha Ann"
    page.studies.search_box.setText("nobody")
    assert not hint.isHidden() and hint.text() == "No study matches this search."


def test_anonymised_display_hides_names_and_ids(qtbot, db, tmp_path):
    write_study(tmp_path / "a", n=1, PatientName="Secret^Sam", PatientID="SSN-123")
    db.import_paths([tmp_path / "a"])
    page = _page(qtbot, db, anonymised=True)
    text = " ".join(_cells(page)[0])
    assert "Secret" not in text and "SSN-123" not in text and "Anonymised" in text
    page.set_anonymised(False)
    assert _cells(page)[0][:2] == ["Secret Sam", "SSN-123"]


def test_import_runs_in_a_worker_with_progress_then_double_click_opens(qtbot, db, tmp_path):
    _, files = write_study(tmp_path / "a", n=3)
    page = _page(qtbot, db)
    assert page.studies.table.rowCount() == 0
    page.studies.import_paths([str(tmp_path / "a")])
    assert page.studies.busy and page.studies.progress.isVisibleTo(page)
    assert not page.studies.import_button.isEnabled()
    _wait_idle(qtbot, page)
    assert not page.studies.progress.isVisibleTo(page) and page.studies.import_button.isEnabled()
    assert (page.studies.progress.value(), page.studies.progress.maximum()) == (3, 3)  # files scanned
    assert page.studies.table.rowCount() == 1 and "Imported 1 study" in page.studies.message.text()
    with qtbot.waitSignal(page.sig_open_requested) as blocker:
        page.studies.table.cellDoubleClicked.emit(0, 2)
    assert blocker.args[0] == [str(f) for f in files]


def test_remove_asks_then_removes_and_reindex_follows_the_files(qtbot, db, tmp_path, monkeypatch):
    _, files_a = write_study(tmp_path / "a", n=2, PatientName="Alpha^Ann")
    write_study(tmp_path / "b", n=1, PatientName="Beta^Bob", StudyDate="20250101")
    db.import_paths([tmp_path / "a", tmp_path / "b"])
    page = _page(qtbot, db)
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda _p, _t, text, *a: asked.append(text) or QMessageBox.StandardButton.Yes)
    page.studies.table.selectRow(1)
    page.studies.remove_button.click()
    assert "Beta Bob" in asked[0] and "not deleted" in asked[0]
    assert [r[0] for r in _cells(page)] == ["Alpha Ann"]
    files_a[0].unlink()
    page.studies.reindex_button.click()
    _wait_idle(qtbot, page)
    assert "1 vanished file dropped" in page.studies.message.text()
    assert [r.n_instances for r in page.studies.rows] == [1]


def test_damaged_database_is_rebuilt_in_a_worker_and_the_user_told(qtbot, tmp_path):
    path = tmp_path / "data" / "studies.sqlite"
    write_study(tmp_path / "a", n=1)
    with StudyDatabase(path) as first:
        first.import_paths([tmp_path / "a"])
    path.write_bytes(b"not a database" * 300)
    db = StudyDatabase(path, rebuild_now=False)
    page = _page(qtbot, db)
    _wait_idle(qtbot, page)
    text = page.studies.message.text()
    assert "could not be used" in text and "moved aside" in text and "Rebuilt: 1 study" in text
    assert page.studies.table.rowCount() == 1
    db.close()


def test_opening_a_folder_in_the_window_adds_it_to_the_study_list(window, synthetic_study, qtbot):
    window.open_paths([str(synthetic_study)])
    qtbot.waitUntil(lambda: window.start_page.studies.table.rowCount() == 1, timeout=30_000)
    [row] = window.study_db.search()
    assert row.source == "folder" and row.n_instances > 0
    window.state.set("anonymise", True)
    assert "Anonymised" in window.start_page.studies.table.item(0, 0).text()


def test_former_recent_studies_are_imported_once(qtbot, tmp_path):
    from app.ui.main_window import MainWindow
    from app.ui.settings import Settings

    write_study(tmp_path / "old", n=1, PatientName="Recent^Rita")
    settings = Settings()
    settings.add_recent([str(tmp_path / "old")])
    win = MainWindow(settings)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: not win.start_page.studies.busy, timeout=30_000)
    said = win.start_page.studies.message.text()
    assert [r.patient_name for r in win.study_db.search()] == ["Recent^Rita"], said
    assert "Imported 1 study" in said
    assert settings.get("recent/imported_into_study_list", False) is True
    win.close()
