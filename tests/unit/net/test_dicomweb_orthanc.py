"""DICOMweb against a real Orthanc (DICOMweb plugin, HTTP basic auth): QIDO-RS, WADO-RS, STOW-RS, 401; bearer tokens."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from conftest import USERS, case04_files, study_uid_of
from dicom_compare import dataset_bytes, meta_keys, originals_by_sop_uid
from orthanc_server import free_port

from app.net import credentials
from app.net.client import echo, find_series, find_studies, retrieve_study, send_files
from app.net.errors import ConnectionRefused, HttpAuthError
from app.net.models import StudyQuery
from app.net.nodes import WebNode

USER, PASSWORD = next(iter(USERS.items()))


def _web(server, name: str = "WEB1", password: str = PASSWORD) -> WebNode:
    credentials.set_secret(name, password)
    return WebNode(name=name, url=server.dicomweb_url, auth="basic", username=USER, timeout_s=20)


def test_qido_finds_case04_and_filters(orthanc, case04):
    node = _web(orthanc)
    uid = study_uid_of(case04)
    hit = [s for s in find_studies(node, StudyQuery(patient_id="ISTHMUS-SAMPLE-04")) if s.study_uid == uid]
    assert len(hit) == 1 and hit[0].n_instances == len(case04) and set(hit[0].modalities) == {"CT", "MR", "DX"}
    assert not any(s.study_uid == uid for s in find_studies(node, StudyQuery(patient_id="NOBODY")))
    assert any(s.study_uid == uid for s in find_studies(node, StudyQuery(modality="MR")))
    assert not any(s.study_uid == uid for s in find_studies(node, StudyQuery(modality="US")))
    assert sum(s.n_instances or 0 for s in find_series(node, uid)) == len(case04)


@pytest.mark.slow
def test_wado_retrieves_every_instance_byte_identical(orthanc, case04, tmp_path):
    """Compared: transfer syntax, SOP class and instance of the meta, and every data set byte after it.

    Asked for as stored (transfer-syntax=*); dicomweb-client parses each part and Isthmus writes it
    again, and the data set still comes out byte for byte the same."""
    uid = study_uid_of(case04)
    result = retrieve_study(_web(orthanc), uid, tmp_path)
    assert result.complete, result.message
    originals = originals_by_sop_uid(case04)
    assert sorted(p.stem for p in result.files) == sorted(originals)
    for path in result.files:
        assert meta_keys(path) == meta_keys(originals[path.stem])
        assert dataset_bytes(path) == dataset_bytes(originals[path.stem]), path.name


def test_stow_stores_files_that_qido_then_finds(fresh_orthanc):
    files = case04_files()[:5]
    node = _web(fresh_orthanc, "WEB2")
    result = send_files(node, files)
    assert (result.sent, result.failed) == (5, 0)
    assert fresh_orthanc.rest("/statistics")["CountInstances"] == 5


def test_wrong_password_is_http_401_in_plain_words(orthanc):
    node = _web(orthanc, "WEB3", password="wrong")
    with pytest.raises(HttpAuthError) as err:
        echo(node)
    assert err.value.status == 401
    assert str(err.value).startswith("WEB3: authentication failed (HTTP 401)")
    result = send_files(node, case04_files()[:3])
    assert result.sent == 0 and result.failed == 3 and "HTTP 401" in result.failures[0][1]


def test_no_auth_on_a_protected_server_is_http_401(orthanc):
    with pytest.raises(HttpAuthError):
        find_studies(WebNode(name="WEB4", url=orthanc.dicomweb_url), StudyQuery())


def test_closed_http_port_is_connection_refused():
    node = WebNode(name="WEB5", url=f"http://127.0.0.1:{free_port()}/dicom-web", timeout_s=5)
    with pytest.raises(ConnectionRefused):
        echo(node)


class _BearerOnly(BaseHTTPRequestHandler):
    token = "t0k3n"
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization", ""))
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps([]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/dicom+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def bearer_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _BearerOnly)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/dicom-web"
    httpd.shutdown()
    httpd.server_close()


def test_bearer_token_goes_in_the_authorization_header(bearer_server):
    credentials.set_secret("TOKENED", _BearerOnly.token)
    assert find_studies(WebNode(name="TOKENED", url=bearer_server, auth="bearer"), StudyQuery()) == []
    assert _BearerOnly.seen[-1] == "Bearer t0k3n"
    credentials.set_secret("BADTOKEN", "nope")
    with pytest.raises(HttpAuthError):
        find_studies(WebNode(name="BADTOKEN", url=bearer_server, auth="bearer"), StudyQuery())
