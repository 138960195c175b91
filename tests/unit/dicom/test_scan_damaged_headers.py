"""Issue 11 items 1, 2 and 10 (scan side): one damaged file never aborts or hides a folder scan.

Deeply nested sequences, headers cut short and malformed layout values each become a listed
skip that names the file and the problem; the other files of the folder are still listed."""

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread

from app.dicom import scan_paths
from app.dicom.headers import read_header

from .conftest import CT_STORAGE, base_dataset, save, set_pixels

_OPEN_LEVEL = (struct.pack("<HH", 0x0009, 0x1010) + b"SQ\0\0" + struct.pack("<I", 0xFFFFFFFF)
               + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF))
_CLOSE_LEVEL = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)


def _ct(path: Path, k: int, **attrs) -> Path:
    ds = base_dataset(CT_STORAGE, "CT", SeriesInstanceUID="1.2.826.0.1.3680043.8.498.77", **attrs)
    ds.InstanceNumber = k + 1
    ds.ImagePositionPatient = [0.0, 0.0, 2.0 * k]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [0.5, 0.5]
    set_pixels(ds, np.full((4, 5), k, dtype=np.int16))
    return save(ds, path)


def write_deeply_nested(path: Path, depth: int) -> Path:
    """A CT file whose private sequence (0009,1010) nests ``depth`` undefined-length levels. pydicom's
    writer recurses per level, so the nesting is spliced in place of a private marker element."""
    ds = base_dataset(CT_STORAGE, "CT", SeriesInstanceUID="1.2.826.0.1.3680043.8.498.77")
    ds.add_new(0x00091010, "LO", "marker")
    set_pixels(ds, np.zeros((4, 5), dtype=np.int16))
    save(ds, path)
    data = path.read_bytes()
    at = data.index(struct.pack("<HH", 0x0009, 0x1010) + b"LO")
    length = struct.unpack_from("<H", data, at + 6)[0]
    path.write_bytes(data[:at] + _OPEN_LEVEL * depth + _CLOSE_LEVEL * depth + data[at + 8 + length:])
    return path


@pytest.fixture
def folder_with_deep_file(tmp_path: Path) -> Path:
    for k in range(4):
        _ct(tmp_path / f"ok{k}.dcm", k)
    write_deeply_nested(tmp_path / "deep.dcm", 20000)
    return tmp_path


def test_deeply_nested_file_is_skipped_and_the_rest_listed(folder_with_deep_file):
    res = scan_paths([folder_with_deep_file])
    assert res.files_seen == 5
    [entry] = res.all_series()
    assert sorted(h.path.name for h in entry.instances) == ["ok0.dcm", "ok1.dcm", "ok2.dcm", "ok3.dcm"]
    [skip] = res.skipped
    assert skip.path.name == "deep.dcm" and skip.category == "error"
    assert "nested" in skip.reason


def test_moderate_nesting_is_still_read(tmp_path):
    """The depth bound refuses only absurd nesting: 30 levels of a private sequence read normally."""
    write_deeply_nested(tmp_path / "nested30.dcm", 30)
    ds, skip = read_header(tmp_path / "nested30.dcm")
    assert skip is None and int(ds.get("Rows")) == 4


def test_info_names_the_nested_file_without_traceback(folder_with_deep_file):
    out = subprocess.run([sys.executable, "-m", "app", "info", str(folder_with_deep_file)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert "5 file(s) seen, 1 loadable series, 1 skipped" in out.stdout
    assert "deep.dcm" in out.stdout and "nested" in out.stdout


@pytest.mark.parametrize("keep_bytes", [200, 420, 560])
def test_file_cut_inside_its_header_is_an_error_not_a_non_image(tmp_path, keep_bytes):
    full = _ct(tmp_path / "full.dcm", 0, SeriesDescription="AXIAL BONE " * 4)
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(full.read_bytes()[:keep_bytes])
    _ds, skip = read_header(cut)
    assert skip is not None and skip.category == "error"
    assert "file ends inside its header" in skip.reason


def test_file_cut_inside_the_pixel_element_header_is_an_error(tmp_path):
    full = _ct(tmp_path / "full.dcm", 0)
    data = full.read_bytes()
    at = data.rindex(struct.pack("<HH", 0x7FE0, 0x0010))
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[:at + 6])
    _ds, skip = read_header(cut)
    assert skip is not None and skip.category == "error" and "ends inside its header" in skip.reason


def test_complete_header_only_object_is_not_called_truncated(tmp_path):
    ds = base_dataset("1.2.840.10008.5.1.4.1.1.88.11", "SR")  # Basic Text SR: no image by design
    save(ds, tmp_path / "sr.dcm")
    _ds, skip = read_header(tmp_path / "sr.dcm")
    assert skip is not None and skip.category == "non-image"


@pytest.mark.parametrize("keyword,value,vr,expected", [
    ("Rows", [4, 4], "US", "Rows has 2 values"),
    ("Columns", [5, 5], "US", "Columns has 2 values"),
    ("BitsAllocated", [16, 16], "US", "BitsAllocated has 2 values"),
    ("SamplesPerPixel", [1, 1], "US", "SamplesPerPixel has 2 values"),
    ("Rows", "four", "LO", "Rows is not a number"),
    ("Rows", "4.5", "DS", "Rows is not a whole number"),
    ("NumberOfFrames", "2\\3", "IS", "NumberOfFrames has 2 values"),
    ("BitsAllocated", 12, "US", "BitsAllocated is 12"),
])
def test_malformed_layout_values_are_listed_skips(tmp_path, keyword, value, vr, expected):
    for k in (0, 2):
        _ct(tmp_path / f"ok{k}.dcm", k)
    ds = base_dataset(CT_STORAGE, "CT", SeriesInstanceUID="1.2.826.0.1.3680043.8.498.77")
    ds.ImagePositionPatient = [0.0, 0.0, 2.0]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    set_pixels(ds, np.zeros((4, 5), dtype=np.int16))
    ds["PixelData"].VR = "OW"
    tag = {"Rows": 0x00280010, "Columns": 0x00280011, "BitsAllocated": 0x00280100,
           "SamplesPerPixel": 0x00280002, "NumberOfFrames": 0x00280008}[keyword]
    if tag in ds:
        del ds[tag]
    ds.add_new(tag, vr, value)
    save(ds, tmp_path / "bad.dcm")
    res = scan_paths([tmp_path])
    [entry] = res.all_series()
    assert sorted(h.path.name for h in entry.instances) == ["ok0.dcm", "ok2.dcm"]
    [skip] = res.skipped
    assert skip.path.name == "bad.dcm" and skip.category == "error"
    assert skip.reason.startswith("damaged header") and expected in skip.reason


def _peak_bytes_of(fn) -> int:
    import tracemalloc

    import pydicom  # noqa: F401 - imported before tracing: only the read itself is measured

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_huge_declared_length_is_refused_without_allocating_it(tmp_path):
    path = _ct(tmp_path / "huge.dcm", 0, SeriesDescription="AXIAL")
    data = bytearray(path.read_bytes())
    at = data.index(struct.pack("<HH", 0x0008, 0x103E) + b"LO")
    data[at:at + 8] = struct.pack("<HH", 0x0008, 0x103E) + b"UT" + b"\0\0"  # long form: 4-byte length follows
    data[at + 8:at + 8] = struct.pack("<I", 0x7FFFFFF0)
    path.write_bytes(bytes(data))
    result = {}
    peak = _peak_bytes_of(lambda: result.update(skip=read_header(path)[1]))
    assert result["skip"] is not None and "file ends inside its header" in result["skip"].reason
    assert peak < 50 * len(data) + 5_000_000


def test_huge_declared_length_in_a_pydicom_read_file_is_bounded(tmp_path):
    """Big endian goes to pydicom; a damaged 4-byte length must not make it allocate 2 GiB."""
    from pydicom import dcmwrite
    from pydicom.uid import ExplicitVRBigEndian

    ds = base_dataset(CT_STORAGE, "CT", TransferSyntaxUID=ExplicitVRBigEndian)
    ds.SeriesDescription = "AXIAL BONE"
    ds.Rows, ds.Columns = 4, 4
    ds.preamble = b"\0" * 128
    path = tmp_path / "be.dcm"
    dcmwrite(path, ds, implicit_vr=False, little_endian=False)
    data = bytearray(path.read_bytes())
    at = data.index(struct.pack(">HH", 0x0008, 0x103E) + b"LO")
    # the kept attribute re-encoded as UN (4-byte length) declaring 2 GiB
    data[at:at + 8] = struct.pack(">HH", 0x0008, 0x103E) + b"UN\0\0" + struct.pack(">I", 0x7FFFFFF0)
    path.write_bytes(bytes(data))
    result = {}
    peak = _peak_bytes_of(lambda: result.update(out=read_header(path)))
    assert peak < 50 * len(data) + 20_000_000


def test_pixel_data_without_rows_is_damaged_not_non_image(tmp_path):
    path = _ct(tmp_path / "norows.dcm", 0)
    ds = dcmread(path)
    del ds.Rows
    ds.save_as(path)
    _ds, skip = read_header(path)
    assert skip is not None and skip.category == "error"
    assert skip.reason == "damaged header: Rows missing although the file has pixel data"
