"""Scanning folders and splitting mixed series UIDs into separately loadable stacks."""

import numpy as np
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import generate_uid

from app.dicom import load_series, scan_paths
from app.dicom.model import Plane, Volume

from .conftest import AXIAL, BASIC_TEXT_SR, SAGITTAL, base_dataset, save


def test_mixed_orientations_split_with_note(writer, tmp_path):
    uid = generate_uid()
    writer.stack(4, iop=AXIAL, series_uid=uid, folder="s")
    writer.stack(3, iop=SAGITTAL, series_uid=uid, folder="s2")
    entries = scan_paths([tmp_path]).all_series()
    assert len(entries) == 2
    assert sorted(e.key for e in entries) == [f"{uid}#1", f"{uid}#2"]
    assert all(e.series_instance_uid == uid for e in entries)
    assert all("orientation" in e.split_note for e in entries)
    assert all(any("split" in w for w in e.warnings) for e in entries)
    planes = sorted(e.plane.value for e in entries)
    assert planes == ["axial", "sagittal"]
    for e in entries:
        vol = load_series(e)
        assert isinstance(vol, Volume) and vol.array.shape[0] == len(e.instances)


def test_mixed_matrix_sizes_split(writer, tmp_path):
    uid = generate_uid()
    writer.stack(3, rows=8, cols=10, series_uid=uid)
    writer.stack(3, rows=12, cols=12, series_uid=uid, origin=(0, 0, 100))
    entries = scan_paths([tmp_path]).all_series()
    assert sorted(e.matrix for e in entries) == [(8, 10), (12, 12)]
    assert all("matrix" in e.split_note for e in entries)


def test_two_echoes_at_same_positions_split_by_echo(writer, tmp_path):
    uid = generate_uid()
    writer.stack(4, modality="MR", series_uid=uid, EchoNumbers=1, EchoTime=10, RepetitionTime=500)
    writer.stack(4, modality="MR", series_uid=uid, EchoNumbers=2, EchoTime=90, RepetitionTime=500)
    entries = scan_paths([tmp_path]).all_series()
    assert len(entries) == 2
    assert all("echo" in e.split_note for e in entries)
    for e in entries:
        vol = load_series(e)
        assert vol.array.shape[0] == 4 and not any("duplicated" in w for w in vol.warnings)


def test_mixed_modalities_split(writer, tmp_path):
    uid = generate_uid()
    writer.stack(3, modality="CT", series_uid=uid)
    writer.stack(3, modality="MR", series_uid=uid, origin=(0, 0, 50))
    entries = scan_paths([tmp_path]).all_series()
    assert sorted(e.modality.value for e in entries) == ["CT", "MR"]
    assert all("modality" in e.split_note for e in entries)


def test_plain_series_is_not_split(writer, tmp_path):
    uid = generate_uid()
    writer.stack(5, series_uid=uid, AcquisitionNumber=1)
    entries = scan_paths([tmp_path]).all_series()
    assert len(entries) == 1 and entries[0].key == uid and entries[0].split_note == ""


def test_files_without_extension_preamble_or_meta_and_junk(writer, tmp_path):
    writer.stack(2, folder="plain", names="sequential")  # no extension
    # no preamble and no file meta (raw dataset, implicit VR)
    ds = base_dataset("1.2.840.10008.5.1.4.1.1.2", "CT", SeriesInstanceUID="1.2.3.9")
    ds.Rows = ds.Columns = 4
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.ImagePositionPatient = [0, 0, 0]
    ds.ImageOrientationPatient = list(AXIAL)
    ds.PixelSpacing = [1, 1]
    ds.PixelData = np.arange(16, dtype="<i2").tobytes()
    raw = tmp_path / "nometa" / "raw.bin"
    raw.parent.mkdir()
    del ds.file_meta
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, True
    write_dataset(fp, ds)
    raw.write_bytes(fp.getvalue())
    assert raw.read_bytes()[:2] == b"\x08\x00"
    (tmp_path / "notes.txt").write_text("hello, not an image")
    (tmp_path / "blob.dat").write_bytes(b"\x08\x00" + bytes(range(200)))
    sr = base_dataset(BASIC_TEXT_SR, "SR", SeriesInstanceUID="1.2.3.10")
    save(sr, tmp_path / "report.dcm")

    res = scan_paths([tmp_path])
    by_cat = {}
    for s in res.skipped:
        by_cat.setdefault(s.category, []).append(s.path.name)
    assert "notes.txt" in by_cat["not-dicom"]
    assert "report.dcm" in by_cat["non-image"]
    assert "blob.dat" in by_cat.get("not-dicom", []) + by_cat.get("error", [])
    assert res.files_seen == 6
    entries = {e.series_instance_uid: e for e in res.all_series()}
    assert "1.2.3.9" in entries
    vol = load_series(entries["1.2.3.9"])
    np.testing.assert_array_equal(vol.array[0], np.arange(16).reshape(4, 4))


def test_dicomdir_is_followed(writer, tmp_path):
    from pydicom.fileset import FileSet

    paths, _, _ = writer.stack(3, folder="src", StudyTime="120000", StudyID="1", SeriesNumber=1)
    fs = FileSet()
    for p in paths:
        fs.add(p)
    out = tmp_path / "media"
    fs.write(out)
    res = scan_paths([out / "DICOMDIR"])
    assert len(res.all_series()) == 1 and len(res.all_series()[0].instances) == 3
    assert any("DICOMDIR" in s.reason for s in res.skipped)
    assert load_series(res.all_series()[0]).array.shape[0] == 3


def test_patient_study_series_hierarchy(writer, tmp_path):
    writer.stack(2, PatientID="A", StudyInstanceUID="1.1", SeriesNumber=2)
    writer.stack(2, PatientID="A", StudyInstanceUID="1.1", SeriesNumber=1)
    writer.stack(2, PatientID="B", StudyInstanceUID="1.2")
    res = scan_paths([tmp_path])
    assert sorted(p.patient_id for p in res.patients) == ["A", "B"]
    pa = next(p for p in res.patients if p.patient_id == "A")
    assert len(pa.studies) == 1 and [s.series_number for s in pa.studies[0].series] == [1, 2]
    assert pa.studies[0].series[0].plane is Plane.AXIAL
    assert pa.studies[0].series[0].spacing_mm == (0.6, 0.8, 2.5)


def test_single_path_string_is_accepted(writer, tmp_path):
    writer.stack(2)
    assert len(scan_paths(str(tmp_path)).all_series()) == 1
    assert len(scan_paths(tmp_path).all_series()) == 1
