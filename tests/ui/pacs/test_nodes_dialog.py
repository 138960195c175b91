"""File > PACS nodes: add, edit, remove DIMSE and DICOMweb nodes, secrets never in the JSON file,
and a Test button that echoes the real Orthanc in a worker (plain-words errors)."""

from __future__ import annotations

import json

import pytest
from orthanc_server import ISTHMUS_AET, ORTHANC_AET

from app.net import credentials
from app.net.nodes import DimseNode, NodeStore, WebNode
from app.ui.pacs.nodes_dialog import PacsNodesDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def store(tmp_path):
    return NodeStore(tmp_path / "pacs_nodes.json")


def _dialog(qtbot, store):
    d = PacsNodesDialog(store)
    qtbot.addWidget(d)
    d.show()
    return d


def _fill_dimse(d, name, port, aet=ORTHANC_AET):
    d.add_dimse_button.click()
    f = d.dimse_form
    f.name.setText(name)
    f.called_aet.setText(aet)
    f.host.setText("127.0.0.1")
    f.port.setValue(port)
    f.calling_aet.setText(ISTHMUS_AET)
    f.timeout.setValue(10)


def test_add_edit_remove_and_no_secret_in_the_file(qtbot, store, no_keyring):
    d = _dialog(qtbot, store)
    _fill_dimse(d, "PACS1", 11112)
    assert d.save_current(), d.status.text()
    d.add_web_button.click()
    w = d.web_form
    w.name.setText("WEB1")
    w.url.setText("https://pacs.example.org/dicom-web/")
    w.auth.setCurrentText("basic")
    w.username.setText("reader")
    w.secret.setText("s3cret-pw")
    assert d.save_current(), d.status.text()
    assert store.load() == [DimseNode("PACS1", ORTHANC_AET, "127.0.0.1", 11112, ISTHMUS_AET, 10.0),
                            WebNode("WEB1", "https://pacs.example.org/dicom-web", "basic", "reader")]
    assert "s3cret-pw" not in store.path.read_text() and "password" not in json.loads(store.path.read_text())["nodes"][1]
    assert credentials.secret_for_run("WEB1") == "s3cret-pw"
    assert "kept for this run only" in d.status.text()  # says where the secret went (no keyring here)
    d.node_list.setCurrentRow(0)  # edit PACS1: rename and change the port
    d.dimse_form.name.setText("PACS-MAIN")
    d.dimse_form.port.setValue(4242)
    assert d.save_current()
    assert [n.name for n in store.load()] == ["WEB1", "PACS-MAIN"] or [n.name for n in store.load()] == ["PACS-MAIN", "WEB1"]
    assert store.get("PACS-MAIN").port == 4242
    d.node_list.setCurrentRow([n.name for n in d.nodes].index("WEB1"))
    d.remove_current()
    assert [n.name for n in store.load()] == ["PACS-MAIN"] and credentials.secret_for_run("WEB1") is None


def test_a_wrong_field_is_named_and_nothing_is_saved(qtbot, store):
    d = _dialog(qtbot, store)
    _fill_dimse(d, "BAD", 104, aet="THIS-AE-TITLE-IS-FAR-TOO-LONG")
    assert not d.save_current()
    assert "called AE title" in d.status.text() and not store.path.exists()
    _fill_dimse(d, "ONE", 104)
    assert d.save_current()
    _fill_dimse(d, "ONE", 105)
    assert not d.save_current() and "already named 'ONE'" in d.status.text()


def test_test_button_echoes_orthanc_and_names_a_wrong_ae_title(qtbot, store, orthanc):
    d = _dialog(qtbot, store)
    _fill_dimse(d, "ORTHANC", orthanc.dicom_port)
    d.test_button.click()
    qtbot.waitUntil(lambda: d.test_button.isEnabled(), timeout=20_000)
    assert "ORTHANC answered in" in d.status.text()
    d.dimse_form.called_aet.setText("NOT-ORTHANC")
    d.test_button.click()
    qtbot.waitUntil(lambda: d.test_button.isEnabled(), timeout=20_000)
    assert "Test failed: association rejected by ORTHANC" in d.status.text()


def test_test_button_for_dicomweb_with_basic_auth(qtbot, store, orthanc, no_keyring):
    from conftest import USERS

    user, password = next(iter(USERS.items()))
    d = _dialog(qtbot, store)
    d.add_web_button.click()
    w = d.web_form
    w.name.setText("OW")
    w.url.setText(orthanc.dicomweb_url)
    w.auth.setCurrentText("basic")
    w.username.setText(user)
    w.secret.setText("wrong-password")
    d.test_button.click()
    qtbot.waitUntil(lambda: d.test_button.isEnabled(), timeout=20_000)
    assert "HTTP 401" in d.status.text()
    w.secret.setText(password)
    d.test_button.click()
    qtbot.waitUntil(lambda: d.test_button.isEnabled(), timeout=20_000)
    assert "OW answered in" in d.status.text()
