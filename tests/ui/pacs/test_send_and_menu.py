"""File > Send findings to PACS (SR + report as Encapsulated PDF, sent in a worker to the real
Orthanc, read back equal) and the File-menu wiring of the PACS dialogs (no shortcut clash)."""

from __future__ import annotations

import io

import pydicom
import pytest
import requests
from orthanc_server import ISTHMUS_AET, ORTHANC_AET
from PySide6.QtGui import QAction
from viewer_study import study_loaded

from app.findings import model as m
from app.findings.sr_import import findings_from_sr
from app.net.models import SendResult
from app.net.nodes import DimseNode, NodeStore
from app.ui.pacs.send_dialog import describe_send

pytestmark = pytest.mark.gui


def test_file_menu_has_the_pacs_actions_and_no_shortcut_clashes(window):
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File")
    texts = [a.text() for a in file_menu.actions()]
    for text in ("Query PACS...", "Send findings to PACS...", "PACS nodes..."):
        assert text in texts
    assert texts.index("Query PACS...") < texts.index("Quit")
    assert window.pacs.query_action.shortcut().toString() == "Ctrl+Shift+F"
    shortcuts = [s.toString() for a in window.findChildren(QAction) for s in a.shortcuts() if not s.isEmpty()]
    assert sorted({s for s in shortcuts if shortcuts.count(s) > 1}) == []


def test_send_without_a_study_says_so(window):
    assert window.pacs.show_send() is None
    assert "open a study first" in window.statusBar().currentMessage()


def test_describe_send_in_plain_words(tmp_path):
    sr, pdf = tmp_path / "a.dcm", tmp_path / "b.dcm"
    names = {sr: "the findings (SR)", pdf: "the report (PDF)"}
    assert describe_send("PACS1", SendResult(2, 0), names) == ("Sent the findings (SR) and the report (PDF) to PACS1.",
                                                             False)
    text, failed = describe_send("PACS1", SendResult(1, 1, [(pdf, "storage refused (0xA700 out of resources)")]), names)
    assert failed and text == ("1 of 2 object(s) not stored by PACS1 (the report (PDF): storage refused "
                               "(0xA700 out of resources)).")


@pytest.mark.slow
def test_send_findings_stores_the_sr_and_the_report_in_orthanc(window, qtbot, synthetic_study, fresh_orthanc,
                                                                tmp_path):
    window.open_paths([str(synthetic_study)])
    qtbot.waitUntil(lambda: study_loaded(window) and window.annotations.session is not None, timeout=30_000)
    session = window.annotations.session
    session.edit_pars("L5", "left", status=m.ParsStatus.COMPLETE_FRACTURE)
    session.set_impression("bilateral L5 spondylolysis")
    store = NodeStore(tmp_path / "nodes.json")
    store.save([DimseNode("ORTHANC", ORTHANC_AET, "127.0.0.1", fresh_orthanc.dicom_port, ISTHMUS_AET, 20.0)])
    window.pacs.store = store
    dialog = window.pacs.show_send()
    ident = session.study.identity
    assert f"Patient {ident.patient.display_name}" in dialog.identity.text()  # whose findings are sent, from the headers
    assert f"ID {ident.patient.patient_id}" in dialog.identity.text()
    assert dialog.with_report.isChecked()  # the report module is installed in the window
    dialog.send_button.click()
    qtbot.waitUntil(lambda: not dialog.busy and dialog.last_result is not None, timeout=60_000)
    assert dialog.status.text() == "Sent the findings (SR) and the report (PDF) to ORTHANC.", dialog.status.text()
    assert dialog.outbox is None  # the temporary files are gone
    ids = fresh_orthanc.rest("/instances")
    files = [requests.get(f"{fresh_orthanc.http_url}/instances/{i}/file", auth=fresh_orthanc.auth, timeout=30).content
             for i in ids]
    by_modality = {str(ds.Modality): ds for ds in (pydicom.dcmread(io.BytesIO(b)) for b in files)}
    assert sorted(by_modality) == ["DOC", "SR"]
    assert findings_from_sr(by_modality["SR"]) == session.findings
    assert by_modality["DOC"].MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert by_modality["SR"].StudyInstanceUID == by_modality["DOC"].StudyInstanceUID == session.study_uid


def test_a_retrieved_study_opens_in_the_window(window, qtbot, synthetic_study):
    from app.net.models import RetrieveResult

    files = sorted(synthetic_study.rglob("*.dcm"))
    result = RetrieveResult("1.2.826.0.1.3680043.8.498.1", synthetic_study, files, True, 0, f"{len(files)} retrieved")
    node = DimseNode("ORTHANC", ORTHANC_AET, "127.0.0.1", 104, ISTHMUS_AET)
    with qtbot.waitSignal(window.pacs.retrieved_opened, timeout=30_000):
        window.pacs.open_retrieved(node, result)
    qtbot.waitUntil(lambda: study_loaded(window), timeout=30_000)
    assert window.controller.paths == [str(synthetic_study)]


@pytest.mark.slow
def test_a_retrieved_study_opens_and_goes_into_the_study_database(window, qtbot, orthanc, case04, tmp_path):
    database = pytest.importorskip("app.studydb.database", reason="app.studydb is built in its own branch")
    from app.net.client import retrieve_study

    node = DimseNode("ORTHANC", ORTHANC_AET, "127.0.0.1", orthanc.dicom_port, ISTHMUS_AET, 20.0)
    study_uid = str(pydicom.dcmread(case04[0], stop_before_pixels=True).StudyInstanceUID)
    result = retrieve_study(node, study_uid, tmp_path / "retrieved")
    assert result.complete
    with qtbot.waitSignal(window.pacs.db_imported, timeout=60_000):
        window.pacs.open_retrieved(node, result)
    assert window.controller.paths == [str(result.folder)]
    rows = [r for r in database.open_default().search() if r.study_uid == study_uid]
    assert len(rows) == 1 and rows[0].source == "pacs:ORTHANC" and rows[0].n_instances == len(case04)
