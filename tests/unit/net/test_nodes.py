"""Node addresses, the nodes file (no secrets in it) and the keyring credentials (no server needed)."""

from __future__ import annotations

import json

import keyring
import pytest
from keyring.backend import KeyringBackend

from app.net import credentials
from app.net.errors import NodeConfigError
from app.net.nodes import DimseNode, NodeStore, WebNode, parse_node_address, resolve_node


def test_parse_dimse_address():
    node = parse_node_address("dicom://PACS_AE@pacs.example.org:11112", own_aet="WS1")
    assert isinstance(node, DimseNode)
    assert (node.called_aet, node.host, node.port, node.calling_aet) == ("PACS_AE", "pacs.example.org", 11112, "WS1")


@pytest.mark.parametrize(("text", "url"), [
    ("dicomweb+http://127.0.0.1:8042/dicom-web", "http://127.0.0.1:8042/dicom-web"),
    ("dicomweb+https://pacs.example.org/dicom-web/", "https://pacs.example.org/dicom-web"),
])
def test_parse_dicomweb_address(text, url):
    node = parse_node_address(text)
    assert isinstance(node, WebNode) and node.url == url and node.verify_tls is True and node.auth == "none"


@pytest.mark.parametrize("text", [
    "pacs.example.org:104", "dicom://pacs.example.org:104", "dicom://AE@host", "dicom://AE@host:notaport",
    "dicom://THIS_AE_TITLE_IS_TOO_LONG@host:104", "ftp://host/x", "dicomweb+http://",
])
def test_bad_addresses_are_typed_errors_quoting_the_text(text):
    with pytest.raises(NodeConfigError) as err:
        parse_node_address(text)
    assert text in str(err.value) or "AE title" in str(err.value)


def test_node_store_round_trip_and_no_secret_in_the_file(tmp_path):
    store = NodeStore(tmp_path / "pacs_nodes.json")
    dimse = DimseNode(name="PACS1", called_aet="ORTHANC", host="10.0.0.5", port=4242, retrieve_port=11113)
    web = WebNode(name="WEB1", url="https://pacs.example.org/dicom-web", auth="basic", username="dr")
    store.save([dimse, web])
    credentials.set_secret("WEB1", "s3cret-password")
    assert store.load() == [dimse, web]
    assert store.get("WEB1") == web
    assert "s3cret-password" not in store.path.read_text()
    store.remove("PACS1")
    assert store.load() == [web]
    with pytest.raises(NodeConfigError, match="no PACS node named 'PACS1'"):
        store.get("PACS1")


def test_default_store_lives_in_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ISTHMUS_DATA_DIR", str(tmp_path))
    NodeStore().put(DimseNode(name="A", called_aet="X", host="h", port=104))
    assert json.loads((tmp_path / "pacs_nodes.json").read_text())["nodes"][0]["name"] == "A"
    assert resolve_node("A").host == "h"
    assert isinstance(resolve_node("dicom://B@h2:105"), DimseNode)


@pytest.mark.parametrize("content", ["{not json", '{"nodes": 3}', '{"nodes": [{"kind": "telnet"}]}',
                                     '{"nodes": [{"kind": "dimse", "name": "x", "called_aet": "A", "host": "h"}]}'])
def test_broken_nodes_file_is_a_typed_error_naming_it(tmp_path, content):
    path = tmp_path / "pacs_nodes.json"
    path.write_text(content)
    with pytest.raises(NodeConfigError) as err:
        NodeStore(path).load()
    assert str(path) in str(err.value)


def test_two_nodes_of_the_same_name_are_refused(tmp_path):
    a = DimseNode(name="A", called_aet="X", host="h", port=104)
    with pytest.raises(NodeConfigError, match="two nodes are named 'A'"):
        NodeStore(tmp_path / "n.json").save([a, a])


class _MemoryKeyring(KeyringBackend):
    """A working keyring backend for the test (keyring's plug-in interface), like a desktop's secret service."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def working_keyring():
    before = keyring.get_keyring()
    backend = _MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


def test_secrets_go_to_the_keyring_when_one_works(working_keyring):
    assert credentials.set_secret("WEBK", "tok") is True
    assert working_keyring.store[(credentials.SERVICE, "WEBK")] == "tok"
    assert credentials.get_secret("WEBK") == "tok"
    credentials.delete_secret("WEBK")
    assert credentials.get_secret("WEBK") is None and credentials.secret_for_run("WEBK") is None


def test_without_a_keyring_the_secret_lasts_this_run_and_the_ui_is_told_to_ask(no_keyring):
    assert credentials.set_secret("WEBM", "pw") is False
    assert credentials.get_secret("WEBM") is None  # the UI asks (once per run)
    assert credentials.secret_for_run("WEBM") == "pw"  # this run's operations still work
