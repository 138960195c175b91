"""Clinic list > Save all as PDF / Print all draws each report's key images, with the annotations
of the study's autosave burned in, as the single-study export does (it used to draw none)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest

from app.annotations.model import Length
from app.annotations.store import AnnotationStore
from app.core.paths import sample_dicom_dir
from app.findings import model as fm
from app.findings.autosave import autosave_path
from app.findings.io import load_findings, save_findings

pytestmark = [pytest.mark.gui,
              pytest.mark.skipif(not shutil.which("pdfimages"), reason="poppler-utils not installed")]
CASE04 = sample_dicom_dir() / "case04_chronic_l5_grade1"


def _image_count(pdf: Path) -> int:
    out = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    return len([line for line in out.splitlines()[2:] if line.strip()])


def _entry(tmp_path: Path, with_key_image: bool, with_autosave: bool) -> tuple[Path, Path]:
    study = tmp_path / "study"
    shutil.copytree(CASE04 / "DX_LAT", study)
    ds = pydicom.dcmread(sorted(study.glob("*.dcm"))[0], stop_before_pixels=True)
    findings = load_findings(CASE04 / "reference_read.json")
    length = Length(series_instance_uid=ds.SeriesInstanceUID, sop_instance_uid=ds.SOPInstanceUID,
                    points_px=((40.0, 40.0), (float(ds.Columns) - 40, float(ds.Rows) - 40)))
    keys = (fm.KeyImage(key_image_id="k1", series_instance_uid=ds.SeriesInstanceUID,
                        sop_instance_uid=ds.SOPInstanceUID, window_center=2000.0, window_width=3000.0,
                        caption="L5 slip on the lateral", annotation_ids=(length.id,)),) if with_key_image else ()
    findings = replace(findings, key_images=keys)
    save_findings(findings, tmp_path / "read.json")
    if with_autosave:
        autosave = autosave_path(findings.study_instance_uid)
        autosave.parent.mkdir(parents=True, exist_ok=True)
        autosave.write_text(json.dumps({"annotations": AnnotationStore([length]).to_doc()}), encoding="utf-8")
    return study, tmp_path / "read.json"


@pytest.mark.parametrize("with_autosave", [True, False])
def test_save_all_pdf_draws_the_key_images(window, tmp_path, with_autosave):
    from app.ui.report.clinic_dialog import ClinicListDialog

    dialog = ClinicListDialog(window)
    dialog.add(*_entry(tmp_path, with_key_image=True, with_autosave=with_autosave))
    out = dialog.save_all_pdf(tmp_path / "all.pdf")
    assert _image_count(out) >= 1
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "L5 slip on the lateral" in text
    if not with_autosave:  # drawn without its annotation, and the dialog says so
        assert "not available" in dialog.status.text()


def test_save_all_pdf_without_key_images_has_no_image(window, tmp_path):
    from app.ui.report.clinic_dialog import ClinicListDialog

    dialog = ClinicListDialog(window)
    dialog.add(*_entry(tmp_path, with_key_image=False, with_autosave=False))
    assert _image_count(dialog.save_all_pdf(tmp_path / "all.pdf")) == 0
