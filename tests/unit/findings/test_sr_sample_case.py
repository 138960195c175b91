"""SR export of a rendered sample case's reference read (runs only when sample_dicom/ is generated)."""

from __future__ import annotations

import shutil
import subprocess

import pydicom
import pytest

from app.core.paths import sample_dicom_dir
from app.findings.io import load_findings
from app.findings.sr import export_sr, load_findings_from_sr

READS = sorted(sample_dicom_dir().glob("case*/reference_read.json")) if sample_dicom_dir().is_dir() else []


@pytest.mark.slow
@pytest.mark.external
@pytest.mark.skipif(not READS, reason="sample_dicom/ not generated (isthmus samples)")
def test_sample_case_reference_read_exports_and_imports(tmp_path):
    read = next((r for r in READS if r.parent.name.startswith("case04")), READS[0])
    findings = load_findings(read)
    out = export_sr(findings, tmp_path / "sample-sr.dcm", study=read.parent)
    ds = pydicom.dcmread(out)
    assert ds.StudyInstanceUID == findings.study_instance_uid
    assert load_findings_from_sr(out) == findings
    if shutil.which("dciodvfy"):
        res = subprocess.run(["dciodvfy", str(out)], capture_output=True, text=True, timeout=120)
        assert not [line for line in (res.stdout + res.stderr).splitlines() if line.startswith("Error")]
    if shutil.which("dsrdump"):
        assert subprocess.run(["dsrdump", str(out)], capture_output=True, timeout=120).returncode == 0
