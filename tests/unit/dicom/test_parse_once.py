"""Parse once (issue 16): the scan keeps what loading needs, so loading a scanned series parses
no header again; pixels read straight from the file equal pydicom's pixel_array; compressed and
big-endian data still go through the decoders."""

from __future__ import annotations

import os

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian, RLELossless

from app.dicom import fastheader, load_preview, load_series, scan_paths
from app.dicom.pixels import fast_path_ok

from .conftest import CT_STORAGE, base_dataset, save, set_pixels


class _Counter:
    """Counts header parses: the fast reader's parse and every pydicom.dcmread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.fast = 0
        self.pydicom = 0
        real_parse, real_dcmread = fastheader._parse, pydicom.dcmread

        def parse(*args, **kwargs):
            self.fast += 1
            return real_parse(*args, **kwargs)

        def dcmread(*args, **kwargs):
            self.pydicom += 1
            return real_dcmread(*args, **kwargs)

        monkeypatch.setattr(fastheader, "_parse", parse)
        monkeypatch.setattr(pydicom, "dcmread", dcmread)

    @property
    def total(self) -> int:
        return self.fast + self.pydicom


def _write_stack(folder, pixels: list[np.ndarray], *, slope=1.0, intercept: float | list[float] = 0.0,
                 ts=None, extra=b"") -> list:
    paths = []
    for k, arr in enumerate(pixels):
        attrs = {"TransferSyntaxUID": ts} if ts is not None else {}
        ds = base_dataset(CT_STORAGE, "CT", SeriesInstanceUID="1.2.826.0.1.3680043.8.498.77", **attrs)
        ds.FrameOfReferenceUID = "1.2.3"
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [0.0, 0.0, 1.5 * k]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [0.5, 0.5]
        ds.RescaleSlope = slope
        ds.RescaleIntercept = intercept[k] if isinstance(intercept, list) else intercept
        set_pixels(ds, arr)
        if extra:
            ds.PixelData = ds.PixelData + extra
        if ts == ExplicitVRBigEndian:
            ds.PixelData = arr.astype(arr.dtype.newbyteorder(">")).tobytes()
        if ts == RLELossless:
            ds.compress(RLELossless, arr, encoding_plugin="pydicom")
        paths.append(save(ds, folder / f"s{k:02d}.dcm"))
    return paths


def _reference(paths: list) -> np.ndarray:
    """The volume as pydicom reads it: pixel_array with the modality rescale, in slice order."""
    out = []
    for p in paths:
        ds = pydicom.dcmread(p)
        out.append(ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept))
    return np.stack(out)


def test_scan_record_carries_what_loading_needs(tmp_path):
    arr = np.arange(6 * 7, dtype=np.int16).reshape(6, 7) - 20
    paths = _write_stack(tmp_path, [arr, arr + 1], slope=2.0, intercept=-1024.0)
    inst = sorted(scan_paths([tmp_path]).all_series()[0].instances, key=lambda h: str(h.path))[0]
    header = inst.load_header
    assert header is not None
    ref = pydicom.dcmread(paths[0])
    data = paths[0].read_bytes()
    assert header.pixel_raw.value_tell == data.rindex(b"\xe0\x7f\x10\x00OW\x00\x00") + 12
    assert header.pixel_raw.length == arr.nbytes
    assert header.file_meta["TransferSyntaxUID"] == str(ref.file_meta.TransferSyntaxUID)
    assert header.get("RescaleSlope") == 2.0 and header.get("RescaleIntercept") == -1024.0
    assert (header.get("Rows"), header.get("Columns"), header.get("BitsAllocated")) == (6, 7, 16)
    assert (header.get("BitsStored"), header.get("PixelRepresentation")) == (16, 1)
    assert header.get("PhotometricInterpretation") == "MONOCHROME2"
    assert header.get("ImagePositionPatient") == [0.0, 0.0, 0.0]
    st = os.stat(paths[0])
    assert header.file_stat == (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    assert fast_path_ok(header)


def test_load_after_scan_parses_no_header_again(tmp_path, monkeypatch):
    pixels = [np.full((8, 9), 100 * k, dtype=np.int16) for k in range(7)]
    _write_stack(tmp_path, pixels, intercept=-1024.0)
    count = _Counter(monkeypatch)
    entry = scan_paths([tmp_path]).all_series()[0]
    assert (count.fast, count.pydicom) == (7, 0)
    vol = load_series(entry)
    preview = load_preview(entry)
    assert (count.fast, count.pydicom) == (7, 0)  # load and preview reused the scan's headers
    assert vol.array.shape == (7, 8, 9)
    assert [int(vol.array[k, 0, 0]) for k in range(7)] == [100 * k - 1024 for k in range(7)]
    assert int(preview[0, 0]) == 100 * 3 - 1024


def test_file_replaced_with_same_size_and_time_is_parsed_again(tmp_path, monkeypatch):
    """A copy renamed over the scanned file (same size, same modification time) is another file."""
    paths = _write_stack(tmp_path, [np.zeros((4, 4), np.int16), np.ones((4, 4), np.int16)])
    entry = scan_paths([tmp_path]).all_series()[0]
    ds = pydicom.dcmread(paths[1])
    ds.PixelData = np.full((4, 4), 5, np.int16).tobytes()
    replacement = save(ds, tmp_path / "replacement.tmp")
    st = os.stat(paths[1])
    os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.path.getsize(replacement) == st.st_size
    os.replace(replacement, paths[1])
    count = _Counter(monkeypatch)
    vol = load_series(entry)
    assert count.total == 1
    assert int(vol.array[1, 2, 2]) == 5


def test_file_changed_after_the_scan_is_parsed_again(tmp_path, monkeypatch):
    paths = _write_stack(tmp_path, [np.zeros((4, 4), np.int16), np.ones((4, 4), np.int16)])
    entry = scan_paths([tmp_path]).all_series()[0]
    ds = pydicom.dcmread(paths[1])
    ds.ImageComments = "rewritten after the scan, pixel data moved"
    set_pixels(ds, np.full((4, 4), 77, np.int16))
    save(ds, paths[1])
    count = _Counter(monkeypatch)
    vol = load_series(entry)
    assert count.total == 1  # only the changed file
    assert int(vol.array[1, 2, 2]) == 77


@pytest.mark.parametrize("case", ["int16", "uint16", "uint8-odd-length", "int8", "padded", "implicit-vr",
                                  "rescale-float", "rescale-int", "uint32"])
def test_direct_read_equals_pydicom_pixel_array(tmp_path, monkeypatch, case):
    rng = np.random.default_rng(16)
    shape = (5, 7)  # 35 pixels: an odd byte count for 8-bit data (padded to even in the file)
    dtype = {"uint16": np.uint16, "uint8-odd-length": np.uint8, "int8": np.int8, "uint32": np.uint32}.get(case, np.int16)
    info = np.iinfo(dtype)
    pixels = [rng.integers(max(info.min, -3000), min(info.max, 3000), shape, endpoint=True).astype(dtype)
              for _ in range(3)]
    slope, intercept = {"rescale-float": (0.5, -10.25), "rescale-int": (2.0, -1024.0)}.get(case, (1.0, 0.0))
    paths = _write_stack(tmp_path, pixels, slope=slope, intercept=intercept,
                         ts=ImplicitVRLittleEndian if case == "implicit-vr" else None,
                         extra=b"\x00\x00\x00\x00" if case == "padded" else b"")
    entry = scan_paths([tmp_path]).all_series()[0]
    assert all(h.load_header is not None for h in entry.instances)
    count = _Counter(monkeypatch)
    vol = load_series(entry)
    assert count.total == 0  # straight from the file: no decoder, no parse
    np.testing.assert_allclose(vol.array.astype(np.float64), _reference(paths), rtol=0, atol=1e-4)


@pytest.mark.parametrize("ts", [ExplicitVRBigEndian, RLELossless])
def test_big_endian_and_compressed_go_through_the_decoders(tmp_path, monkeypatch, ts):
    rng = np.random.default_rng(5)
    pixels = [rng.integers(-1000, 3000, (6, 5)).astype(np.int16) for _ in range(3)]
    paths = _write_stack(tmp_path, pixels, intercept=-1024.0, ts=ts)
    entry = scan_paths([tmp_path]).all_series()[0]
    count = _Counter(monkeypatch)
    vol = load_series(entry)
    assert count.pydicom >= 3  # each file read whole and decoded by pydicom's handlers
    np.testing.assert_array_equal(vol.array.astype(np.float64), _reference(paths))
    np.testing.assert_array_equal(vol.array[:, :, :] + 1024, np.stack(pixels))


def test_slices_that_would_overflow_int16_make_the_volume_int32(tmp_path):
    """The intercept is added while reading where int16 holds the result; one slice that does
    not fit turns the whole volume into int32 with every value exact."""
    low = np.full((4, 5), -1000, np.int16)
    high = np.full((4, 5), 32000, np.int16)
    paths = _write_stack(tmp_path, [low, high, low], intercept=[-1024.0, 1000.0, 3.0])
    vol = load_series(scan_paths([tmp_path]).all_series()[0])
    assert vol.array.dtype == np.int32
    np.testing.assert_array_equal(vol.array, _reference(paths))
    assert [int(vol.array[k, 0, 0]) for k in range(3)] == [-2024, 33000, -997]


def test_blank_slice_of_a_gap_holds_the_lowest_value_after_rescale(tmp_path):
    pixels = [np.full((4, 4), 50 + 10 * k, np.int16) for k in range(5)]
    paths = _write_stack(tmp_path, pixels, intercept=-1024.0)
    paths[2].unlink()  # a missing slice: the gap is filled with a blank slice
    vol = load_series(scan_paths([tmp_path]).all_series()[0])
    assert vol.array.shape == (5, 4, 4) and vol.array.dtype == np.int16
    assert [int(vol.array[k, 1, 1]) for k in range(5)] == [50 - 1024, 60 - 1024, 50 - 1024, 80 - 1024, 90 - 1024]


def test_unsigned_ct_with_intercept_becomes_int16(tmp_path):
    rng = np.random.default_rng(9)
    pixels = [rng.integers(0, 4096, (6, 6)).astype(np.uint16) for _ in range(4)]
    paths = _write_stack(tmp_path, pixels, intercept=-1024.0)
    vol = load_series(scan_paths([tmp_path]).all_series()[0])
    assert vol.array.dtype == np.int16
    np.testing.assert_array_equal(vol.array, _reference(paths))


def test_unsigned_slices_beyond_int16_are_put_back_and_rescaled_exactly(tmp_path):
    low = np.full((3, 4), 100, np.uint16)
    high = np.full((3, 4), 40000, np.uint16)
    paths = _write_stack(tmp_path, [low, high, low, low], intercept=-1024.0)
    vol = load_series(scan_paths([tmp_path]).all_series()[0])
    assert vol.array.dtype == np.int32
    np.testing.assert_array_equal(vol.array, _reference(paths))
    assert [int(vol.array[k, 0, 0]) for k in range(4)] == [-924, 38976, -924, -924]
