"""Open findings from the study (issue 15): the Isthmus SRs of a scanned study are found with
their author and date, newest first; foreign TID 1500 reports are listed with the reason, never
dropped; loading goes through the session as one undoable step and never mixes patients."""

from __future__ import annotations

import dataclasses

import pydicom
import pytest
from findings_factories import STUDY_UID, rich_findings
from synthetic_study import write_ct_study

from app.dicom.scan import scan_paths
from app.findings import autosave as fa, model as m
from app.findings.sr import export_sr
from app.findings.sr_discovery import discover_in_scan, discover_srs, sr_candidates, summary
from app.session import SessionError, StudySession
from app.viewer.study_info import StudyInfo

OTHER_STUDY = "1.2.826.0.1.3680043.8.498.700"


def _version(reader: str, modified: str, impression: str) -> m.StudyFindings:
    return dataclasses.replace(rich_findings(), reader=reader, modified=modified, impression=impression)


def _foreign(path_in, path_out, maker="Other Vendor"):
    """An Isthmus SR turned into another program's TID 1500 report: no Isthmus study group."""
    ds = pydicom.dcmread(path_in)
    ds.ContentSequence[-1].ContentSequence = ds.ContentSequence[-1].ContentSequence[1:]
    ds.Manufacturer = maker
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(path_out)
    return path_out


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    d = tmp_path_factory.mktemp("study")
    write_ct_study(d / "ct")
    old = export_sr(_version("Dr Old", "2026-11-20T09:00:00+00:00", "first read"), d / "sr" / "old.dcm", study=d / "ct")
    export_sr(_version("Dr New", "2026-11-22T17:30:00+00:00", "second read"), d / "sr" / "new.dcm", study=d / "ct")
    _foreign(old, d / "sr" / "vendor.dcm")
    other = d / "other"
    write_ct_study(other / "ct", study_uid=OTHER_STUDY, series_uid=OTHER_STUDY + ".1", first_sop_uid=OTHER_STUDY + ".2")
    export_sr(rich_findings(study_uid=OTHER_STUDY, series_uid=OTHER_STUDY + ".1", sop_uid=OTHER_STUDY + ".2"),
              other / "sr.dcm", study=other / "ct")
    return d


def test_isthmus_versions_newest_first_and_foreign_listed(study):
    scan = scan_paths(study)
    assert len(sr_candidates(scan)) == 4  # the scanner lists SRs as non-image files
    found = discover_in_scan(scan, STUDY_UID)
    assert [(f.author, f.date_time, f.findings.impression) for f in found.isthmus] == [
        ("Dr New", "2026-11-22 17:30:00", "second read"), ("Dr Old", "2026-11-20 09:00:00", "first read")]
    assert [f.path.name for f in found.foreign] == ["vendor.dcm"]
    vendor = found.foreign[0]
    assert vendor.findings is None and "Other Vendor" in vendor.problem and "cannot map" in vendor.problem
    assert vendor.title == "Imaging Measurement Report" and vendor.date_time  # listed with title and date
    assert found.other_studies == 1
    assert summary(found.isthmus[0].findings).startswith(f"{len(rich_findings().pars)} pars finding(s)")


def test_damaged_isthmus_sr_is_listed_with_the_problem(study, tmp_path):
    ds = pydicom.dcmread(study / "sr" / "new.dcm")
    for g in ds.ContentSequence[-1].ContentSequence:
        for it in g.ContentSequence:
            if it.get("ConceptNameCodeSequence") and it.ConceptNameCodeSequence[0].CodeValue == "PARS-STATUS":
                it.ConceptCodeSequence[0].CodeValue = "PARS-BROKEN"
    ds.save_as(tmp_path / "broken.dcm")
    ct = next((study / "ct").glob("*.dcm"))
    (tmp_path / "notes.txt").write_text("not DICOM")
    found = discover_srs([tmp_path / "broken.dcm", ct, tmp_path / "notes.txt", tmp_path / "missing.dcm"])
    assert found.isthmus == ()
    assert len(found.foreign) == 1 and "unknown pars status code PARS-BROKEN" in found.foreign[0].problem


def _session(study_dir, tmp_path, **kw):
    scan = scan_paths(study_dir / "ct")
    patient = scan.patients[0]
    info = StudyInfo.of(scan, patient, patient.studies[0])
    return StudySession(STUDY_UID, study=info, study_source=scan, data_dir=tmp_path, **kw)


def test_open_sr_replaces_findings_in_one_undoable_step(study, tmp_path):
    s = _session(study, tmp_path, autosave=False)
    newest = discover_in_scan(scan_paths(study), STUDY_UID).isthmus[0]
    s.open_sr(newest)
    assert s.findings.impression == "second read" and s.findings.pars == rich_findings().pars
    assert s.undo() and s.findings.impression == "" and s.findings.pars == ()


def test_open_sr_of_another_patient_is_refused_naming_both_ids(study, tmp_path):
    s = _session(study, tmp_path, autosave=False)
    theirs = dataclasses.replace(discover_in_scan(scan_paths(study), STUDY_UID).isthmus[0], patient_id="OTHER-77")
    with pytest.raises(SessionError, match=r"patient ID OTHER-77.*patient ID SYN-0001"):
        s.open_sr(theirs)
    assert s.findings.pars == ()
    foreign = discover_in_scan(scan_paths(study), STUDY_UID).foreign[0]
    with pytest.raises(SessionError, match="cannot map"):
        s.open_sr(foreign)


def test_open_sr_keeps_a_copy_of_the_autosave(study, tmp_path):
    s = _session(study, tmp_path)
    s.set_impression("unsaved work")
    s.autosave.flush()
    saved = fa.autosave_path(s.autosave.key, tmp_path)
    before = saved.read_bytes()
    s.open_sr(discover_in_scan(scan_paths(study), STUDY_UID).isthmus[1])
    s.autosave.flush()
    kept = [p for p in saved.parent.glob(f"{saved.stem}.before-sr-*")]
    assert len(kept) == 1 and kept[0].read_bytes() == before and str(kept[0]) in s.autosave.notice
    assert s.findings.impression == "first read"
    s.close()


def test_restore_never_writes_the_empty_state_over_the_autosave(study, tmp_path):
    first = _session(study, tmp_path)
    first.set_impression("precious work")
    first.close()
    saved = fa.autosave_path(first.autosave.key, tmp_path)
    second = _session(study, tmp_path)
    assert second.restore()
    # at once, not after the autosave interval: a crash right after opening keeps the work
    assert "precious work" in saved.read_text()
    second.close()
