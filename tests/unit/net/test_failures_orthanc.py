"""Failures in plain words against a real Orthanc: wrong AE title, port closed, timeout, server stopped mid-retrieve."""

from __future__ import annotations

import socket

import pydicom
import pytest
from conftest import case04_files
from orthanc_server import ISTHMUS_AET, ORTHANC_AET, free_port

from app.core.progress import CancelToken
from app.net.client import echo, find_studies, retrieve_study
from app.net.errors import AssociationRejected, ConnectionRefused, NetTimeout
from app.net.models import RetrieveProgress, StudyQuery
from app.net.nodes import DimseNode


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
    uid = str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    node = DimseNode(name="PACS1", called_aet=ORTHANC_AET, host="127.0.0.1", port=fresh_orthanc.dicom_port,
                     calling_aet=ISTHMUS_AET, timeout_s=5)

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
    uid = str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    node = DimseNode(name="PACS1", called_aet=ORTHANC_AET, host="127.0.0.1", port=fresh_orthanc.dicom_port,
                     calling_aet=ISTHMUS_AET, timeout_s=10)
    token = CancelToken()

    def cancel_after_10(p: RetrieveProgress) -> None:
        if p.instances_done >= 10:
            token.cancel()

    result = retrieve_study(node, uid, tmp_path, via="get", progress=cancel_after_10, cancel=token)
    assert result.complete is False and "cancelled by the user" in result.message
    assert 10 <= len(result.files) < len(files)
    assert echo(node) > 0  # the PACS is still fine
