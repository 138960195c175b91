"""StudySession safety (issue 9): one undo history in order, autosave keyed by the study and
checked against the patient, unreadable autosaves set aside, autosave status, SR export
refused across patients, age/sex/imaging from DICOM. No Qt."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.annotations import model as am
from app.dicom.model import Modality, PatientEntry, SeriesEntry, StudyEntry
from app.findings import autosave as fa, model as m
from app.session import SessionError, StudySession
from app.viewer.study_info import StudyInfo


def _info(pid: str, name: str, series_uid: str, modality: str = "CT", study_uid: str = "(no study UID)",
          birth: str = "20000101", sex: str = "F", study_date: str = "20260115", desc: str = "") -> StudyInfo:
    se = SeriesEntry(key=series_uid, series_instance_uid=series_uid, modality=Modality(modality) if modality in
                     Modality.__members__ else Modality.OTHER, modality_code=modality, description=desc,
                     series_number=1, kind="volume", instances=[])
    st = StudyEntry(study_instance_uid=study_uid, study_date=study_date, series=[se])
    pat = PatientEntry(patient_id=pid, patient_name=name, birth_date=birth, sex=sex, studies=[st])
    return StudyInfo.of(None, pat, st)


def _marker(series="1.2.1", level="L5", side="left", status="complete_fracture"):
    return am.ParsMarker(points_px=((5.0, 5.0),), level=level, side=side, status=status,
                         series_instance_uid=series, sop_instance_uid=series + ".1")


def test_one_history_walks_drawings_table_context_and_impression_in_order():
    s = StudySession("1.2.3", autosave=False)
    store = s.annotation_store
    mk = store.add(_marker())  # 1 drawing
    s.edit_level("L5", slip_percent=20.0)  # 2 table edit
    s.edit_context(age_years=15.0)  # 3 context
    length = store.add(am.Length(points_px=((1.0, 1.0), (9.0, 1.0)), series_instance_uid="1.2.1",
                                 sop_instance_uid="1.2.1.1"))  # 4 drawing
    s.set_impression("L5 spondylolysis")  # 5 impression
    assert len(s.history) == 5
    s.undo()
    assert s.findings.impression == "" and length.id in store
    s.undo()
    assert length.id not in store and s.context.age_years == 15.0
    s.undo()
    assert s.context.age_years is None and s.findings.level("L5").slip is not None
    s.undo()
    assert s.findings.level("L5") is None or s.findings.level("L5").slip is None
    assert mk.id in store and s.findings.pars_at("L5", "left") is not None
    s.undo()
    assert mk.id not in store and s.findings.pars_at("L5", "left") is None
    assert not s.history.can_undo
    for _ in range(5):
        assert s.redo()
    assert s.findings.impression == "L5 spondylolysis" and length.id in store and s.context.age_years == 15.0
    s.close()


def test_table_status_edit_and_its_marker_are_one_step():
    s = StudySession("1.2.3", autosave=False)
    mk = s.annotation_store.add(_marker(status="incomplete_fracture"))
    s.edit_pars("L5", "left", status="complete_fracture")
    assert len(s.history) == 2  # the marker and ONE edit (findings + marker together)
    s.annotation_store.undo()  # the store's undo is the same history
    assert s.annotation_store.get(mk.id).status is m.ParsStatus.INCOMPLETE_FRACTURE
    assert s.findings.pars_at("L5", "left").status is m.ParsStatus.INCOMPLETE_FRACTURE
    s.close()


def test_studies_without_uid_of_two_patients_never_share_an_autosave(tmp_path):
    a = _info("PAT-A", "ALPHA^ANN", "1.2.1")
    b = _info("PAT-B", "BRAVO^BEN", "1.2.2")
    assert a.identity.autosave_key != b.identity.autosave_key
    sa = StudySession("", study=a, data_dir=tmp_path)
    sa.annotation_store.add(_marker("1.2.1"))
    sa.edit_context(symptom_duration_months=6.0)
    sa.close()
    sb = StudySession("", study=b, data_dir=tmp_path)
    assert sb.restore() is False  # nothing of patient A
    assert sb.findings.pars == () and len(sb.annotation_store) == 0
    sb.close()
    again = StudySession("", study=a, data_dir=tmp_path)
    assert again.restore() and again.findings.pars_at("L5", "left") is not None
    again.close()


def test_autosave_of_another_patient_is_refused_and_set_aside(tmp_path):
    a = _info("PAT-A", "ALPHA^ANN", "1.2.1", study_uid="1.2.840.99.1")
    sa = StudySession("1.2.840.99.1", study=a, data_dir=tmp_path)
    sa.edit_context(symptom_duration_months=6.0)
    sa.close()
    # the same study UID but the images now say patient B (e.g. a re-used UID)
    b = _info("PAT-B", "BRAVO^BEN", "1.2.1", study_uid="1.2.840.99.1")
    sb = StudySession("1.2.840.99.1", study=b, data_dir=tmp_path)
    assert sb.restore() is False
    assert sb.context.symptom_duration_months is None
    assert "another patient" in sb.autosave.notice
    assert list((tmp_path / "autosave").glob("*.unreadable-*.json"))
    sb.close()


def test_newer_autosave_is_set_aside_not_overwritten(tmp_path):
    p = fa.autosave_path("1.2.3", tmp_path)
    p.parent.mkdir(parents=True)
    doc = {"format": fa.AUTOSAVE_FORMAT, "version": fa.AUTOSAVE_VERSION + 5, "findings": {}}
    p.write_text(json.dumps(doc))
    s = StudySession("1.2.3", data_dir=tmp_path)
    assert s.restore() is False and "newer Isthmus" in s.autosave.notice
    s.edit_context(age_years=30.0)
    s.close()
    kept = list(p.parent.glob("*.unreadable-*.json"))
    assert len(kept) == 1 and json.loads(kept[0].read_text())["version"] == fa.AUTOSAVE_VERSION + 5


def test_autosave_status_saved_time_and_failure(tmp_path):
    s = StudySession("1.2.3", data_dir=tmp_path)
    assert s.autosave.status()[0] == "idle"  # nothing to save yet
    s.edit_context(age_years=30.0)
    s.autosave.flush()
    state, when = s.autosave.status()
    assert state == "saved" and len(when) == 8 and when.count(":") == 2
    # the folder becomes unwritable (or the disk full): the next write fails and says so
    (tmp_path / "no-such-dir").write_text("a file, not a folder")
    s.autosave.writer.path = tmp_path / "no-such-dir" / "x.json"
    s.edit_context(age_years=31.0)
    s.autosave.flush()
    state, why = s.autosave.status()
    assert state == "failed" and "no-such-dir" in why
    s.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_unwritable_autosave_folder_says_autosave_is_off(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        s = StudySession("1.2.3", data_dir=ro)
        state, why = s.autosave.status()
        assert state == "off" and "autosave is OFF" in why
    finally:
        ro.chmod(0o700)


def test_unwritable_autosave_file_location_says_autosave_is_off(tmp_path):
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the autosave folder should be")
    s = StudySession("1.2.3", data_dir=blocker)
    state, why = s.autosave.status()
    assert state == "off" and "autosave is OFF" in why
    s.edit_context(age_years=20.0)  # the review goes on
    assert s.context.age_years == 20.0


def test_age_sex_and_imaging_come_from_dicom_when_not_entered():
    info = _info("P1", "A^B", "1.2.1", modality="CR", birth="20100301", sex="M", study_date="20260115")
    s = StudySession("1.2.3", study=info, autosave=False)
    assert s.context.age_years == 15.0 and s.context.sex is m.Sex.MALE
    assert s.context.from_dicom == {"age_years", "sex"}
    assert s.findings.imaging.radiographs is True and s.findings.imaging.ct is None  # unknown, not "no"
    s.edit_context(age_years=16.0)  # the reader's value replaces the DICOM one
    assert s.context.age_years == 16.0 and s.context.from_dicom == {"sex"}
    s.close()


def test_patient_age_attribute_is_used_when_there_is_no_birth_date():
    from app.viewer.identity import age_years

    se = SeriesEntry(key="1.2.1", series_instance_uid="1.2.1", modality=Modality.MR, modality_code="MR",
                     description="", series_number=1, kind="volume")
    st = StudyEntry(study_instance_uid="1.2.3", study_date="20260115", series=[se])
    pat = PatientEntry(patient_id="P1", patient_name="A^B", birth_date="", sex="", studies=[st])
    assert StudyInfo.of(None, pat, st, {"PatientAge": "034Y"}).age_years == 34
    assert StudyInfo.of(None, pat, st).age_years is None  # unknown stays unknown
    assert age_years("006M") == 0 and age_years("", "20100301", "20260228") == 15


def test_entered_age_is_not_overwritten_by_dicom():
    info = _info("P1", "A^B", "1.2.1", birth="20100301")
    f = m.StudyFindings(study_instance_uid="1.2.3", context=m.ClinicalContext(age_years=40.0))
    s = StudySession("1.2.3", f, study=info, autosave=False)
    assert s.context.age_years == 40.0 and "age_years" not in s.context.from_dicom
    s.close()


def _write_image(path: Path, pid: str, name: str, study_uid: str, series_uid: str) -> None:
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = name, pid, "20000101", "F"
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Modality = study_uid, series_uid, "CT"
    ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber = "20260115", 1, 1
    ds.Rows = ds.Columns = 4
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit, ds.PixelRepresentation = 15, 0
    ds.PixelData = np.zeros((4, 4), np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


def test_sr_export_refused_when_the_images_are_another_patients(tmp_path):
    study_uid = "1.2.826.0.1.3680043.8.498.77"
    _write_image(tmp_path / "b.dcm", "PAT-B", "BRAVO^BEN", study_uid, "1.2.826.0.1.3680043.8.498.77.1")
    a = _info("PAT-A", "ALPHA^ANN", "1.2.826.0.1.3680043.8.498.77.1", study_uid=study_uid)
    s = StudySession(study_uid, study=a, study_source=str(tmp_path), autosave=False)
    s.edit_pars("L5", "left", status="complete_fracture")
    with pytest.raises(SessionError, match=r"PAT-B.*PAT-A"):
        s.export_sr(tmp_path / "out.dcm")
    assert not (tmp_path / "out.dcm").exists()
    s.close()


def test_sr_export_refused_when_findings_cite_images_of_another_patient(tmp_path):
    study_uid = "1.2.826.0.1.3680043.8.498.78"
    _write_image(tmp_path / "a.dcm", "PAT-A", "ALPHA^ANN", study_uid, "1.2.826.0.1.3680043.8.498.78.1")
    a = _info("PAT-A", "ALPHA^ANN", "1.2.826.0.1.3680043.8.498.78.1", study_uid=study_uid)
    s = StudySession(study_uid, study=a, study_source=str(tmp_path), autosave=False)
    s.annotation_store.add(_marker(series="1.2.826.0.1.3680043.8.498.99.9"))  # a series of patient B
    with pytest.raises(SessionError, match="not images of patient ID PAT-A"):
        s.export_sr(tmp_path / "out.dcm")
    s.close()


def test_sr_export_of_own_patient_works_and_anonymised_export_hides_identity(tmp_path):
    import pydicom

    study_uid = "1.2.826.0.1.3680043.8.498.79"
    series = "1.2.826.0.1.3680043.8.498.79.1"
    _write_image(tmp_path / "a.dcm", "PAT-A", "ALPHA^ANN", study_uid, series)
    a = _info("PAT-A", "ALPHA^ANN", series, study_uid=study_uid)
    s = StudySession(study_uid, study=a, study_source=str(tmp_path / "a.dcm"), autosave=False)
    s.edit_pars("L5", "left", status="complete_fracture")
    out = s.export_sr(tmp_path / "sr.dcm")
    assert pydicom.dcmread(out).PatientID == "PAT-A"
    anon = pydicom.dcmread(s.export_sr(tmp_path / "sr_anon.dcm", anonymised=True))
    assert "ALPHA" not in str(anon.PatientName) and anon.PatientID != "PAT-A" and not anon.PatientBirthDate
    s.close()
