"""Failures in plain words against a real Orthanc: wrong AE title, port closed, timeout, server stopped mid-retrieve."""

from __future__ import annotations

import socket
from io import BytesIO

import numpy as np
import pydicom
import pytest
from conftest import case04_files, dimse_node, study_uid_of
from orthanc_server import ORTHANC_AET, free_port
from pydicom.dataset import Dataset

from app.core.progress import CancelToken
from app.net.client import echo, find_studies, retrieve_study, send_files
from app.net.dimse_assoc import status_text
from app.net.errors import AssociationRejected, ConnectionRefused, NetError, NetTimeout, RemoteError
from app.net.models import RetrieveProgress, StudyQuery
from app.net.nodes import DimseNode, WebNode


def test_wrong_called_ae_title_is_an_association_rejection_naming_it(orthanc):
    node = DimseNode(name="PACS1", called_aet="NOT_ORTHANC", host="127.0.0.1", port=orthanc.dicom_port)
    with pytest.raises(AssociationRejected) as err:
        echo(node)
    assert str(err.value) == "association rejected by PACS1: called AE title 'NOT_ORTHANC' not recognised"
    with pytest.raises(AssociationRejected):
        find_studies(node, StudyQuery())


def test_closed_port_is_connection_refused():
    port = free_port()  # nothing listens there
    node = DimseNode(name="PACS1", called_aet=ORTHANC_AET, host="127.0.0.1", port=port, timeout_s=5)
    with pytest.raises(ConnectionRefused) as err:
        echo(node)
    assert f"connection refused by PACS1 at 127.0.0.1:{port}" in str(err.value)


def test_a_server_that_never_answers_is_a_timeout():
    with socket.socket() as silent:  # accepts TCP connections (backlog) but never speaks DICOM
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        node = DimseNode(name="PACS1", called_aet=ORTHANC_AET, host="127.0.0.1", port=silent.getsockname()[1],
                         timeout_s=1.0)
        with pytest.raises(NetTimeout) as err:
            echo(node)
    assert "PACS1 did not answer" in str(err.value) and "1 s" in str(err.value)


@pytest.mark.slow
def test_server_stopped_mid_retrieve_keeps_the_partial_study_and_says_so(fresh_orthanc, tmp_path):
    files = case04_files()
    fresh_orthanc.upload(files)
    uid, node = study_uid_of(files), dimse_node(fresh_orthanc, timeout_s=5.0)

    def crash_after_20(p: RetrieveProgress) -> None:
        if p.instances_done == 20:
            fresh_orthanc.kill()

    result = retrieve_study(node, uid, tmp_path, via="get", progress=crash_after_20)
    assert result.complete is False
    assert 20 <= len(result.files) < len(files)
    assert "incomplete" in result.message and f"of {len(files)} instance(s) kept" in result.message
    for path in result.files:  # what arrived is whole and readable
        assert pydicom.dcmread(path).SOPInstanceUID == path.stem
    assert sorted(p for p in (tmp_path / uid).rglob("*") if p.is_file()) == sorted(result.files)


@pytest.mark.slow
def test_cancel_stops_a_retrieve_and_keeps_what_arrived(fresh_orthanc, tmp_path):
    files = case04_files()
    fresh_orthanc.upload(files)
    uid, node = study_uid_of(files), dimse_node(fresh_orthanc, timeout_s=10.0)
    token = CancelToken()

    def cancel_after_10(p: RetrieveProgress) -> None:
        if p.instances_done >= 10:
            token.cancel()

    result = retrieve_study(node, uid, tmp_path, via="get", progress=cancel_after_10, cancel=token)
    assert result.complete is False and "cancelled by the user" in result.message
    assert 10 <= len(result.files) < len(files)
    assert echo(node) > 0  # the PACS is still fine


def test_an_unknown_calling_ae_title_is_told_to_get_configured(orthanc):
    node = DimseNode(name="PACS1", called_aet=ORTHANC_AET, host="127.0.0.1", port=orthanc.dicom_port,
                     calling_aet="STRANGER", timeout_s=10)
    with pytest.raises(RemoteError) as err:
        find_studies(node, StudyQuery())
    assert "PACS1 broke off the association during C-FIND" in str(err.value)
    assert "AE title 'STRANGER'" in str(err.value)


def test_c_move_to_a_destination_the_pacs_does_not_know_says_what_to_configure(make_orthanc, tmp_path):
    server = make_orthanc(DicomAlwaysAllowFind=True, DicomAlwaysAllowMove=True)
    files = case04_files()[:2]
    server.upload(files)
    uid = study_uid_of(files)
    node = DimseNode(name="PACS1", called_aet=ORTHANC_AET, host="127.0.0.1", port=server.dicom_port,
                     calling_aet="STRANGER", timeout_s=10)
    result = retrieve_study(node, uid, tmp_path, via="move")
    assert result.complete is False and result.files == []
    # Orthanc answers 0xC000 (not the standard 0xA801) for an unknown move destination
    assert "answered C-MOVE with status 0xC000: unable to process" in result.message
    assert "C-MOVE needs PACS1 to know AE title 'STRANGER'" in result.message


def test_c_move_port_already_taken_is_a_plain_error(orthanc, case04, tmp_path):
    uid = study_uid_of(case04)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        port = squatter.getsockname()[1]
        node = DimseNode(name="PACS1", called_aet=ORTHANC_AET, host="127.0.0.1", port=orthanc.dicom_port,
                         retrieve_port=port)
        with pytest.raises(NetError, match=f"cannot listen on 127.0.0.1:{port} for the C-MOVE of PACS1"):
            retrieve_study(node, uid, tmp_path, via="move")


def test_a_silent_http_server_is_a_timeout():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        node = WebNode(name="WEB1", url=f"http://127.0.0.1:{silent.getsockname()[1]}/dicom-web", timeout_s=1.0)
        with pytest.raises(NetTimeout, match="WEB1 did not answer"):
            find_studies(node, StudyQuery())


@pytest.mark.slow
def test_compressed_files_are_sent_decompressed_to_a_pacs_that_refuses_jpeg2000(make_orthanc):
    server = make_orthanc(Jpeg2000TransferSyntaxAccepted=False)
    files = case04_files()[:2]
    result = send_files(DimseNode(name="PACS1", called_aet=ORTHANC_AET, host="127.0.0.1", port=server.dicom_port),
                        files)
    assert (result.sent, result.failed) == (2, 0), result.failures
    for path in files:
        original = pydicom.dcmread(path)
        [stored_id] = [i for i in server.rest("/instances")
                       if server.rest(f"/instances/{i}/simplified-tags")["SOPInstanceUID"] == original.SOPInstanceUID]
        assert server.rest(f"/instances/{stored_id}/metadata?expand")["TransferSyntax"] in (
            "1.2.840.10008.1.2.1", "1.2.840.10008.1.2")
        stored = pydicom.dcmread(BytesIO(server.raw(f"/instances/{stored_id}/file")))
        assert np.array_equal(stored.pixel_array, original.pixel_array)  # lossless


@pytest.mark.parametrize(("code", "words"), [(0xA801, "move destination unknown"), (0xA700, "out of resources"),
                                              (0xC123, "unable to process"), (0x0122, "SOP class not supported")])
def test_dimse_statuses_in_words(code, words):
    status = Dataset()
    status.Status = code
    status.ErrorComment = "from the PACS"
    assert status_text(status) == f"status 0x{code:04X}: {words} (from the PACS)"
