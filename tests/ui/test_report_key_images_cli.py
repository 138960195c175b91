"""`isthmus report` draws the findings' key images (offscreen, through the workstation's
SliceView renderer): the PDF holds an image, the HTML embeds it; without key images, none."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest

from app.annotations.model import Length
from app.annotations.store import AnnotationStore
from app.cli import main
from app.core.paths import sample_dicom_dir
from app.findings import model as fm
from app.findings.io import load_findings, save_findings

needs_pdfimages = pytest.mark.skipif(not shutil.which("pdfimages"), reason="poppler-utils not installed")
CASE04 = sample_dicom_dir() / "case04_chronic_l5_grade1"


def _case04(tmp_path: Path, with_key_image: bool) -> tuple[Path, Path, Path]:
    """(findings file, annotations document, study folder: case 04's lateral radiograph)."""
    study = CASE04 / "DX_LAT"
    ds = pydicom.dcmread(sorted(study.glob("*.dcm"))[0], stop_before_pixels=True)
    findings = load_findings(CASE04 / "reference_read.json")
    length = Length(series_instance_uid=ds.SeriesInstanceUID, sop_instance_uid=ds.SOPInstanceUID,
                    points_px=((40.0, 40.0), (float(ds.Columns) - 40, float(ds.Rows) - 40)))
    if with_key_image:
        key = fm.KeyImage(key_image_id="k1", series_instance_uid=ds.SeriesInstanceUID,
                          sop_instance_uid=ds.SOPInstanceUID, window_center=2000.0, window_width=3000.0,
                          caption="L5 slip on the lateral", annotation_ids=(length.id,))
        findings = replace(findings, key_images=(key,))
    else:
        findings = replace(findings, key_images=())
    save_findings(findings, tmp_path / "read.json")
    (tmp_path / "ann.json").write_text(json.dumps(AnnotationStore([length]).to_doc()), encoding="utf-8")
    return tmp_path / "read.json", tmp_path / "ann.json", study


def _image_count(pdf: Path) -> int:
    out = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    return len([line for line in out.splitlines()[2:] if line.strip()])


def _report(tmp_path: Path, with_key_image: bool, out: str) -> Path:
    read, ann, study = _case04(tmp_path, with_key_image)
    target = tmp_path / out
    assert main(["report", str(read), "--study", str(study), "--annotations", str(ann), "--out", str(target)]) == 0
    return target


@needs_pdfimages
def test_pdf_report_draws_the_key_image(tmp_path):
    assert _image_count(_report(tmp_path, True, "r.pdf")) >= 1


@needs_pdfimages
def test_pdf_report_without_key_images_has_no_image(tmp_path):
    assert _image_count(_report(tmp_path, False, "r.pdf")) == 0


def test_html_report_embeds_the_key_image_as_png(tmp_path):
    html = _report(tmp_path, True, "r.html").read_text(encoding="utf-8")
    uris = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(uris) == 1
    import base64

    assert base64.b64decode(uris[0]).startswith(b"\x89PNG")
    assert "L5 slip on the lateral" in html
    assert "image not available" not in html


def test_html_report_without_key_images_has_no_image(tmp_path):
    html = _report(tmp_path, False, "r.html").read_text(encoding="utf-8")
    assert "<img" not in html


def test_key_image_outside_the_study_folder_is_reported_not_dropped(tmp_path, capsys):
    read, _ann, _ = _case04(tmp_path, True)
    out = tmp_path / "r.html"
    assert main(["report", str(read), "--study", str(CASE04 / "DX_AP"), "--out", str(out)]) == 0
    assert "image not available" in out.read_text(encoding="utf-8")
    assert "is not in the study folder" in capsys.readouterr().err


def test_key_image_without_its_annotations_is_drawn_and_says_so(tmp_path, capsys):
    read, _ann, study = _case04(tmp_path, True)
    out = tmp_path / "r.html"
    assert main(["report", str(read), "--study", str(study), "--out", str(out)]) == 0
    assert "data:image/png;base64," in out.read_text(encoding="utf-8")
    assert "not available (pass the annotation document" in capsys.readouterr().err
