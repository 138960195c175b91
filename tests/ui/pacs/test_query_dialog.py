"""File > Query PACS against the real Orthanc: search with filters, series on expand, retrieve
with progress (instances, MB) into the node's folder, cancel, and plain-words errors."""

from __future__ import annotations

import pydicom
import pytest
from orthanc_server import ISTHMUS_AET, ORTHANC_AET

from app.net.nodes import DimseNode, NodeStore
from app.ui.pacs.query_dialog import QueryRetrieveDialog, parse_date

pytestmark = pytest.mark.gui


def _dialog(qtbot, tmp_path, server, called_aet=ORTHANC_AET):
    store = NodeStore(tmp_path / "nodes.json")
    store.save([DimseNode("ORTHANC", called_aet, "127.0.0.1", server.dicom_port, ISTHMUS_AET, 20.0,
                          retrieve_port=server.move_scp_port)])
    d = QueryRetrieveDialog(store, dest_root=tmp_path / "retrieved")
    qtbot.addWidget(d)
    d.show()
    return d


def _idle(qtbot, d, timeout=60_000):
    qtbot.waitUntil(lambda: not d.busy, timeout=timeout)


def test_parse_date_accepts_iso_and_dicom_and_names_the_field():
    assert str(parse_date("2026-01-31", "x")) == "2026-01-31" and str(parse_date("20260131", "x")) == "2026-01-31"
    assert parse_date("  ", "x") is None
    with pytest.raises(ValueError, match="Study date from: '31/01/2026' is not a date"):
        parse_date("31/01/2026", "Study date from")


def test_search_lists_case04_and_its_series(qtbot, tmp_path, orthanc, case04):
    ds = pydicom.dcmread(case04[0], stop_before_pixels=True)
    d = _dialog(qtbot, tmp_path, orthanc)
    d.patient_id.setText(str(ds.PatientID))
    d.search_button.click()
    _idle(qtbot, d)
    assert d.results.topLevelItemCount() == 1, d.status.text()
    study = d.results.topLevelItem(0)
    assert study.text(1) == str(ds.PatientID) and "1 study found" in d.status.text()
    assert study.text(8) == str(len(case04))
    series_uids = {str(pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID) for f in case04}
    qtbot.waitUntil(lambda: study.childCount() == len(series_uids), timeout=20_000)
    d.patient_id.setText("NOBODY-HERE")
    d.search_button.click()
    _idle(qtbot, d)
    assert d.results.topLevelItemCount() == 0 and "0 studies found" in d.status.text()
    d.date_from.setText("yesterday")
    d.search_button.click()
    assert "Study date from: 'yesterday' is not a date" in d.status.text()


@pytest.mark.slow
def test_retrieve_shows_progress_and_emits_the_complete_study(qtbot, tmp_path, orthanc, case04):
    d = _dialog(qtbot, tmp_path, orthanc)
    d.patient_id.setText(str(pydicom.dcmread(case04[0], stop_before_pixels=True).PatientID))
    d.search_button.click()
    _idle(qtbot, d)
    seen = []
    with qtbot.waitSignal(d.retrieved, timeout=120_000) as got:
        d.retrieve_button.click()
        d.retrieve_task.progress.connect(lambda p: seen.append(p))
    node, result = got.args
    assert node.name == "ORTHANC" and result.complete and len(result.files) == len(case04)
    assert result.folder.is_relative_to(tmp_path / "retrieved" / "ORTHANC")
    assert seen and seen[-1].instances_done == len(case04) and seen[-1].bytes_done > 0
    assert "instances" in d.progress.format() and "MB" in d.progress.format()
    assert f"Retrieved {len(case04)} instance(s)" in d.status.text()


def test_cancel_stops_the_retrieve_and_keeps_the_dialog_usable(qtbot, tmp_path, orthanc, case04):
    d = _dialog(qtbot, tmp_path, orthanc)
    d.patient_id.setText(str(pydicom.dcmread(case04[0], stop_before_pixels=True).PatientID))
    d.search_button.click()
    _idle(qtbot, d)
    d.retrieve_button.click()
    assert d.cancel_button.isEnabled() and not d.retrieve_button.isEnabled()
    d.cancel_button.click()
    _idle(qtbot, d)
    text = d.status.text()
    assert "cancelled" in text.lower() or "incomplete" in text, text
    assert f"Retrieved {len(case04)}" not in text
    assert d.retrieve_button.isEnabled() and not d.cancel_button.isEnabled()


def test_wrong_ae_title_is_said_in_plain_words(qtbot, tmp_path, orthanc):
    d = _dialog(qtbot, tmp_path, orthanc, called_aet="WRONG-AE")
    d.search_button.click()
    _idle(qtbot, d)
    assert d.status.text().startswith("Search failed: association rejected by ORTHANC")
    assert d.search_button.isEnabled() and not d.cancel_button.isEnabled()


def test_no_node_configured_says_where_to_add_one(qtbot, tmp_path):
    d = QueryRetrieveDialog(NodeStore(tmp_path / "none.json"))
    qtbot.addWidget(d)
    assert "PACS nodes" in d.status.text() and not d.search_button.isEnabled()
