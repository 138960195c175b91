"""SR export takes its evidence from the viewer's scan (issue 12 item 7), not from a second walk
of the study folder: the scanned instances are referenced even when the folder changed since."""

from __future__ import annotations

import pydicom
import pytest
from findings_factories import STUDY_UID, rich_findings
from synthetic_study import write_ct_study, write_dx_image

from app.dicom.scan import scan_paths
from app.findings.sr import SRExportError, export_sr, load_findings_from_sr, read_study_headers
from app.findings.sr_export import evidence_from_scan


def _referenced_sops(path) -> set[str]:
    ds = pydicom.dcmread(path)
    return {str(sop.ReferencedSOPInstanceUID) for st in ds.CurrentRequestedProcedureEvidenceSequence
            for se in st.ReferencedSeriesSequence for sop in se.ReferencedSOPSequence}


def test_export_from_the_scan_does_not_read_the_folder_again(tmp_path):
    ct = write_ct_study(tmp_path / "study" / "ct", n_slices=4)
    write_dx_image(tmp_path / "study" / "dx")
    scan = scan_paths(tmp_path / "study")
    scanned = {h.sop_instance_uid for s in scan.all_series() for h in s.instances}
    for p in ct[1:]:  # the folder changes after the scan: a rescan would miss these three
        p.unlink()
    out = export_sr(rich_findings(), tmp_path / "sr.dcm", study=scan)
    assert _referenced_sops(out) == scanned
    assert load_findings_from_sr(out) == rich_findings()
    sr = pydicom.dcmread(out)
    # what the scan does not keep comes from the first image's header (read once)
    assert (sr.PatientID, sr.StudyTime, sr.StudyID, sr.AccessionNumber) == ("SYN-0001", "101500", "1", "ACC1")


def test_export_from_the_scan_when_no_file_is_left(tmp_path):
    paths = write_ct_study(tmp_path / "ct", n_slices=2)
    scan = scan_paths(tmp_path / "ct")
    for p in paths:
        p.unlink()
    evidence = evidence_from_scan(scan, STUDY_UID)
    assert [str(ds.SOPInstanceUID) for ds in evidence] == [h.sop_instance_uid for s in scan.all_series()
                                                          for h in s.instances]
    out = export_sr(rich_findings(), tmp_path / "sr.dcm", study=scan)
    sr = pydicom.dcmread(out)
    assert sr.PatientName == "Synthetic^Patient" and sr.StudyTime == ""  # unknown stays empty, not invented


def test_scan_evidence_names_the_missing_or_ambiguous_study(tmp_path):
    write_ct_study(tmp_path / "a")
    write_ct_study(tmp_path / "b", study_uid="1.2.826.0.1.3680043.8.498.96", series_uid="1.2.826.0.1.3680043.8.498.95",
                   first_sop_uid="1.2.826.0.1.3680043.8.498.94")
    scan = scan_paths(tmp_path)
    with pytest.raises(SRExportError, match="2 studies"):
        read_study_headers(scan)
    with pytest.raises(SRExportError, match=r"no study 9\.9\.9"):
        read_study_headers(scan, "9.9.9")
    assert {str(ds.StudyInstanceUID) for ds in read_study_headers(scan, STUDY_UID)} == {STUDY_UID}
