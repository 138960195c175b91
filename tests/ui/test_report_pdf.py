"""The clinic report as PDF and as DICOM Encapsulated PDF, through `isthmus report` (offscreen)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pydicom
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "report"))

from report_data import case04_findings, case04_result, with_impression, write_study

from app.cli import main
from app.findings.io import save_findings

needs_pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")


def _case04(tmp_path, findings=None, patient_name="TRAINING^CASE04"):
    findings = findings or case04_findings()
    save_findings(findings, tmp_path / "read.json")
    write_study(tmp_path / "study", findings.study_instance_uid, patient_name=patient_name)
    return findings, tmp_path / "read.json", tmp_path / "study"


def _text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True).stdout
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", out))  # NFKC: the font's "fi" ligature -> "fi"


@needs_pdftotext
def test_case04_pdf_holds_patient_findings_plan_with_citations_and_disclaimer(tmp_path):
    findings, read, study = _case04(tmp_path)
    assert main(["report", str(read), "--study", str(study), "--out", str(tmp_path / "r.pdf")]) == 0
    text = _text(tmp_path / "r.pdf")
    assert "TRAINING, CASE04" in text
    for p in findings.pars:
        assert re.search(rf"{p.level.value} {p.side.value} {p.status.value.replace('_', ' ')}", text), p
    slip = findings.level(findings.pars[0].level).slip
    assert f"{slip.percent:.1f} % anterolisthesis, Meyerding I" in text
    assert f"Disc below (Pfirrmann) {findings.level(findings.pars[0].level).disc_pfirrmann}" in text
    result = case04_result(findings)
    assert result.recommendations
    for r in result.recommendations:
        assert r.title in text
        for c in r.citations:
            assert c.id in text, (r.id, c.id)
    assert result.disclaimer in text
    assert "Reviewed by:" in text


@needs_pdftotext
def test_pdf_shows_markup_in_name_and_impression_as_text(tmp_path):
    findings = with_impression(case04_findings(), "L5 <script>alert(2)</script> & slip")
    _, read, study = _case04(tmp_path, findings, patient_name="<b>Bold</b>&Co^Eve")
    assert main(["report", str(read), "--study", str(study), "--out", str(tmp_path / "r.pdf")]) == 0
    text = _text(tmp_path / "r.pdf")
    assert "<b>Bold</b>&Co, Eve" in text
    assert "L5 <script>alert(2)</script> & slip" in text


def test_html_out_and_anonymised_dcm_refused(tmp_path, capsys):
    _, read, study = _case04(tmp_path)
    assert main(["report", str(read), "--study", str(study), "--out", str(tmp_path / "r.html"), "--anonymise"]) == 0
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "CASE04" not in page and "(anonymised)" in page
    assert main(["report", str(read), "--study", str(study), "--out", str(tmp_path / "r.dcm"), "--anonymise"]) == 2
    assert "anonymised report cannot go into the patient's study" in capsys.readouterr().err


def test_encapsulated_pdf_is_in_the_same_study_and_valid(tmp_path):
    findings, read, study = _case04(tmp_path)
    out = tmp_path / "report.dcm"
    assert main(["report", str(read), "--study", str(study), "--out", str(out)]) == 0
    ds = pydicom.dcmread(out)
    src = pydicom.dcmread(study / "dx.dcm", stop_before_pixels=True)
    assert ds.SOPClassUID == pydicom.uid.EncapsulatedPDFStorage
    assert ds.StudyInstanceUID == findings.study_instance_uid == src.StudyInstanceUID
    assert ds.SeriesInstanceUID != src.SeriesInstanceUID
    assert (ds.PatientName, ds.PatientID) == (src.PatientName, src.PatientID)
    assert bytes(ds.EncapsulatedDocument)[: ds.EncapsulatedDocumentLength].startswith(b"%PDF")
    if shutil.which("dciodvfy"):
        res = subprocess.run(["dciodvfy", str(out)], capture_output=True, text=True, timeout=120)
        errors = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.startswith("Error")]
        assert errors == []
