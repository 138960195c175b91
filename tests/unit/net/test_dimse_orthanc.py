"""DIMSE against a real Orthanc: C-ECHO, C-STORE, C-FIND with filters, C-GET and C-MOVE of case 04."""

from __future__ import annotations

import socket
from datetime import date

import pydicom
import pytest
from conftest import case04_files, dimse_node, study_uid_of
from dicom_compare import dataset_bytes, meta_keys, originals_by_sop_uid

from app.net.client import echo, find_series, find_studies, retrieve_study, send_files
from app.net.models import RetrieveProgress, StudyQuery

_node = dimse_node
_study_uid = study_uid_of


def test_echo_answers_with_a_round_trip_time(orthanc):
    seconds = echo(_node(orthanc))
    assert 0 < seconds < 20


@pytest.mark.slow
def test_c_store_sends_every_case04_instance(fresh_orthanc):
    files = case04_files()
    done: list[tuple[int, int]] = []
    result = send_files(_node(fresh_orthanc), files, progress=lambda d, t: done.append((d, t)))
    assert (result.sent, result.failed, result.failures) == (len(files), 0, [])
    assert done[-1] == (len(files), len(files))
    stats = fresh_orthanc.rest("/statistics")
    assert stats["CountInstances"] == len(files) and stats["CountStudies"] == 1


def test_c_store_reports_unreadable_files_and_sends_the_rest(fresh_orthanc, tmp_path):
    junk = tmp_path / "notes.dcm"
    junk.write_text("not dicom")
    good = case04_files()[:2]
    result = send_files(_node(fresh_orthanc), [junk, *good])
    assert result.sent == 2 and result.failed == 1
    assert result.failures[0][0] == junk and "not a readable DICOM file" in result.failures[0][1]


def test_c_find_finds_case04_with_its_study_attributes(orthanc, case04):
    truth = pydicom.dcmread(case04[0], stop_before_pixels=True)
    studies = [s for s in find_studies(_node(orthanc), StudyQuery()) if s.study_uid == truth.StudyInstanceUID]
    assert len(studies) == 1
    s = studies[0]
    assert (s.patient_id, s.patient_name, s.accession, s.study_date) == (
        truth.PatientID, str(truth.PatientName), truth.AccessionNumber, truth.StudyDate)
    assert set(s.modalities) == {str(pydicom.dcmread(p, stop_before_pixels=True).Modality) for p in case04}
    assert s.n_instances == len(case04)
    assert s.n_series == len({p.parent for p in case04})


@pytest.mark.parametrize(("query", "found"), [
    (StudyQuery(patient_id="ISTHMUS-SAMPLE-04"), True),
    (StudyQuery(patient_id="NOBODY"), False),
    (StudyQuery(patient_name="TRAINING^CASE0*"), True),
    (StudyQuery(patient_name="SMITH*"), False),
    (StudyQuery(modality="CT"), True),
    (StudyQuery(modality="US"), False),
    (StudyQuery(date_from=date(2024, 3, 1), date_to=date(2024, 3, 31)), True),
    (StudyQuery(date_from=date(2025, 1, 1)), False),
    (StudyQuery(accession="ISTH04"), True),
    (StudyQuery(accession="OTHER"), False),
    (StudyQuery(description="LUMBAR*"), True),
    (StudyQuery(description="CHEST*"), False),
])
def test_c_find_filters(orthanc, case04, query, found):
    uid = _study_uid(case04)
    assert any(s.study_uid == uid for s in find_studies(_node(orthanc), query)) is found


def test_c_find_series_level_lists_every_series_with_counts(orthanc, case04):
    series = find_series(_node(orthanc), _study_uid(case04))
    by_uid = {s.series_uid: s for s in series}
    truth: dict[str, int] = {}
    for p in case04:
        uid = str(pydicom.dcmread(p, stop_before_pixels=True).SeriesInstanceUID)
        truth[uid] = truth.get(uid, 0) + 1
    assert {uid: s.n_instances for uid, s in by_uid.items()} == truth
    assert {s.modality for s in series} == {"CT", "MR", "DX"}


@pytest.mark.slow
@pytest.mark.parametrize("via", ["get", "move"])
def test_retrieve_brings_every_instance_back_byte_identical(orthanc, case04, tmp_path, via):
    """Compared: transfer syntax, SOP class and instance of the meta, and every data set byte after it."""
    uid = _study_uid(case04)
    assert not _listening(orthanc.move_scp_port)  # nothing listens for C-MOVE before the retrieve
    seen: list[RetrieveProgress] = []
    result = retrieve_study(_node(orthanc), uid, tmp_path, via=via, progress=seen.append)
    assert result.complete, result.message
    assert result.failed == 0
    assert result.folder == tmp_path / uid
    originals = originals_by_sop_uid(case04)
    assert sorted(p.stem for p in result.files) == sorted(originals)
    for path in result.files:
        original = originals[path.stem]
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        assert path == tmp_path / uid / ds.SeriesInstanceUID / f"{ds.SOPInstanceUID}.dcm"
        assert meta_keys(path) == meta_keys(original)
        assert dataset_bytes(path) == dataset_bytes(original), path.name
    last = seen[-1]
    assert (last.instances_done, last.instances_total) == (len(case04), len(case04))
    assert last.series_done == last.series_total == len({p.parent for p in case04})
    assert last.bytes_done == sum(p.stat().st_size for p in result.files)
    assert not list(tmp_path.rglob("*.tmp")), "temporary files left behind"
    assert not _listening(orthanc.move_scp_port), "the C-MOVE storage SCP must stop after the retrieve"


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0
