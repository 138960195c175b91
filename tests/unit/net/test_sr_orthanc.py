"""Findings travel through a real PACS: case 04's reference read as TID 1500 SR, sent by C-STORE and by
STOW-RS, found again by C-FIND/QIDO, retrieved, imported, and equal to what was sent."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from conftest import USERS, dimse_node

from app.core.paths import sample_dicom_dir
from app.findings.io import load_findings
from app.findings.sr_export import export_sr
from app.findings.sr_import import load_findings_from_sr
from app.net import credentials
from app.net.client import find_series, find_studies, retrieve_study, send_files
from app.net.models import StudyQuery
from app.net.nodes import Node, WebNode


@pytest.fixture(scope="module")
def case04_sr(tmp_path_factory) -> tuple[Path, object]:
    read = next(iter(sorted(sample_dicom_dir().glob("case04_*/reference_read.json"))), None)
    if read is None:
        pytest.skip("sample_dicom/case04_* not generated (isthmus samples)")
    findings = load_findings(read)
    return export_sr(findings, tmp_path_factory.mktemp("sr") / "case04-sr.dcm", study=read.parent), findings


def _web(server) -> WebNode:
    user, password = next(iter(USERS.items()))
    credentials.set_secret("WEB-SR", password)
    return WebNode(name="WEB-SR", url=server.dicomweb_url, auth="basic", username=user, timeout_s=20)


@pytest.mark.slow
@pytest.mark.parametrize(("send_by", "retrieve_by"), [("dimse", "get"), ("dimse", "move"), ("web", "wado")])
def test_findings_sent_as_sr_come_back_equal(fresh_orthanc, case04_sr, tmp_path, send_by, retrieve_by):
    sr_path, findings = case04_sr
    sr = pydicom.dcmread(sr_path, stop_before_pixels=True)
    node: Node = dimse_node(fresh_orthanc) if send_by == "dimse" else _web(fresh_orthanc)
    sent = send_files(node, [sr_path])
    assert (sent.sent, sent.failed) == (1, 0), sent.failures

    reader: Node = _web(fresh_orthanc) if retrieve_by == "wado" else dimse_node(fresh_orthanc)
    studies = find_studies(reader, StudyQuery(patient_id=str(sr.PatientID)))
    assert [s.study_uid for s in studies] == [sr.StudyInstanceUID]
    assert studies[0].modalities == ("SR",)
    series = find_series(reader, sr.StudyInstanceUID)
    assert [(s.series_uid, s.modality, s.n_instances) for s in series] == [(sr.SeriesInstanceUID, "SR", 1)]

    result = retrieve_study(reader, sr.StudyInstanceUID, tmp_path, via=retrieve_by)
    assert result.complete, result.message
    assert [p.stem for p in result.files] == [sr.SOPInstanceUID]
    assert load_findings_from_sr(result.files[0]) == findings
