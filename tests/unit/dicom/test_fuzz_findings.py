"""Synthetic reproductions of classes the fuzzer found (bench/fuzz_bench.py), kept as regression
tests: each allocated hundreds of MiB or raised an untyped exception before it was fixed."""

import contextlib
import struct
from pathlib import Path

import pydicom.data

from app.dicom import load_preview, load_series, scan_paths
from app.dicom.errors import DicomLoadError

from .conftest import CT_STORAGE, base_dataset, peak_alloc_bytes, save, set_pixels


def _exercise(folder: Path) -> None:
    for entry in scan_paths([folder]).all_series():
        for fn in (load_series, load_preview):
            with contextlib.suppress(DicomLoadError):
                fn(entry)


def test_wrong_vr_with_a_huge_length_allocates_nothing(tmp_path):
    import numpy as np

    ds = base_dataset(CT_STORAGE, "CT", ImageType=["ORIGINAL", "PRIMARY", "AXIAL"])
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, 0.0], [1.0, 0, 0, 0, 1.0, 0]
    set_pixels(ds, np.zeros((8, 8), np.int16))
    p = save(ds, tmp_path / "s" / "x.dcm")
    data = bytearray(p.read_bytes())
    at = data.find(b"\x08\x00\x08\x00CS")  # ImageType: CS becomes UT, whose length is 4 bytes
    assert at > 0
    data[at + 4:at + 12] = b"UT\x00\x00" + struct.pack("<I", 0x30000000)  # 805 MB declared in a small file
    p.write_bytes(bytes(data))
    assert peak_alloc_bytes(lambda: _exercise(p.parent)) < 32 << 20


def test_null_byte_in_a_dicomdir_file_id_is_a_listed_skip(tmp_path):
    src = Path(pydicom.data.get_testdata_file("DICOMDIR")).read_bytes()
    at = src.find(b"77654033\\CR1\\6154")
    assert at > 0
    damaged = src[:at + 3] + b"\x00" + src[at + 4:]
    (tmp_path / "cd").mkdir()
    (tmp_path / "cd" / "DICOMDIR").write_bytes(damaged)
    res = scan_paths([tmp_path / "cd"])  # must not raise
    assert any("null" in s.reason for s in res.skipped)
