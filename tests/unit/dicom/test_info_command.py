"""`isthmus info`: table and JSON, exit status, no traceback on pydicom's test files."""

import json
import os
import subprocess
import sys

import pydicom.data

from app.cli import main

from .conftest import radiograph_dataset, save


def test_info_json_lists_series_and_skipped(writer, tmp_path, capsys):
    writer.stack(3, modality="MR", iop=(0, 1, 0, 0, 0, -1), SeriesDescription="SAG T1", folder="mr")
    save(radiograph_dataset(description="L-SPINE RT OBL", imager_spacing=(0.15, 0.15), ermf=1.2,
                            SeriesInstanceUID="1.2.3.77"), tmp_path / "dx.dcm")
    (tmp_path / "readme.txt").write_text("not an image")
    rc = main(["info", str(tmp_path), "--json"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == "isthmus-info/1" and data["loadable_series"] == 2
    series = {s["modality"]: s for p in data["patients"] for st in p["studies"] for s in st["series"]}
    assert series["MR"]["sequence"] == "T1" and series["MR"]["plane"] == "sagittal"
    assert series["MR"]["n_images"] == 3 and series["MR"]["matrix"] == [8, 10]
    assert series["DX"]["view"] == "right oblique"
    assert series["DX"]["calibration_basis"] == "ImagerPixelSpacing / magnification"
    assert series["DX"]["spacing_mm"] == [0.125, 0.125]
    assert data["skipped"]["by_category"] == {"not-dicom": 1}


def test_info_table_and_exit_status(writer, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "x.txt").write_text("nothing")
    assert main(["info", str(empty)]) == 1
    out = capsys.readouterr().out
    assert "No loadable DICOM images" in out and "x.txt" in out
    writer.stack(2, SeriesDescription="AX BONE 1.0", folder="ct")
    assert main(["info", str(tmp_path / "ct")]) == 0
    out = capsys.readouterr().out
    assert "AX BONE 1.0" in out and "axial" in out and "Explicit VR Little Endian" in out


def test_info_on_pydicom_test_files_has_no_traceback():
    folder = os.path.dirname(pydicom.data.get_testdata_file("CT_small.dcm"))
    out = subprocess.run([sys.executable, "-m", "app", "info", folder], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout
    assert "Patient" in out.stdout and "skipped" in out.stdout
