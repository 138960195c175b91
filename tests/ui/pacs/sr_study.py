"""Synthetic Isthmus SRs (and a foreign TID 1500 report) beside the GUI tests' synthetic study."""

from __future__ import annotations

from pathlib import Path

import pydicom

from app.findings import model as m
from app.findings.sr import export_sr

STUDY_UID = "1.2.826.0.1.3680043.8.498.1"  # viewer_study.py's study


def sr_findings(reader: str, modified: str, impression: str) -> m.StudyFindings:
    return m.StudyFindings(
        study_instance_uid=STUDY_UID, reader=reader, created="2026-01-02T08:00:00+00:00", modified=modified,
        impression=impression,
        pars=(m.ParsFinding(m.Level.L5, m.Side.LEFT, m.ParsStatus.COMPLETE_FRACTURE),
              m.ParsFinding(m.Level.L5, m.Side.RIGHT, m.ParsStatus.INTACT)),
        levels=(m.LevelFinding(m.Level.L5, note="from the SR"),))


def write_versions(study: Path, sr_dir: Path) -> list[Path]:
    """Two Isthmus versions (older, newer) and a vendor's TID 1500 report of ``study``."""
    old = export_sr(sr_findings("Dr Old", "2026-01-02T09:00:00+00:00", "first read"), sr_dir / "old.dcm", study=study)
    new = export_sr(sr_findings("Dr New", "2026-01-03T10:30:00+00:00", "second read"), sr_dir / "new.dcm", study=study)
    ds = pydicom.dcmread(old)
    ds.ContentSequence[-1].ContentSequence = ds.ContentSequence[-1].ContentSequence[1:]  # no Isthmus group
    ds.Manufacturer = "Other Vendor"
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    vendor = sr_dir / "vendor.dcm"
    ds.save_as(vendor)
    return [old, new, vendor]

