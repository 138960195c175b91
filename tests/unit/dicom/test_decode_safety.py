"""Compressed pixel data: decoders that can abort never run in the main process, damaged headers
are caught before decoding, declared sizes are checked before allocating, and every failure says
what was tried (issue 11, items 8 and 10 and the fuzz findings)."""

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pydicom
import pydicom.data
import pytest

from app.core.progress import Cancelled, CancelToken
from app.dicom import errors, load_preview, load_series, scan_paths
from app.dicom.errors import DicomLoadError, NoPixelData, TruncatedFile, UnsupportedTransferSyntax

from .conftest import MR_STORAGE, base_dataset, peak_alloc_bytes, save

ROOT = Path(__file__).resolve().parents[3]


def _testdata(tmp_path, name, folder="d"):
    dst = tmp_path / folder / name
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(Path(pydicom.data.get_testdata_file(name)).read_bytes())
    return dst


def _only_entry(folder):
    entries = scan_paths([folder]).all_series()
    assert len(entries) == 1
    return entries[0]


def _ybr_on_j2k(path):
    ds = pydicom.dcmread(path)
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.save_as(path)


def _rows_raised_on_jpeg_ls(path):
    ds = pydicom.dcmread(path)
    ds.Rows = ds.Rows + 7
    ds.save_as(path)


def test_12_bit_lossy_jpeg_falls_back_to_simpleitk(tmp_path):
    import SimpleITK as sitk

    p = _testdata(tmp_path, "JPEG-lossy.dcm")  # JPEG Extended (process 2/4), 12 bit
    stored = sitk.GetArrayFromImage(sitk.ReadImage(str(p)))[0].astype(np.int32)
    ds = pydicom.dcmread(p)
    ds.RescaleSlope, ds.RescaleIntercept = 2, -100  # SimpleITK applies these itself: never twice
    ds.save_as(p)
    entry = _only_entry(tmp_path / "d")
    out = load_series(entry)
    arr = out.array[0] if hasattr(out, "array") else out[0].array
    np.testing.assert_array_equal(arr, stored * 2 - 100)
    np.testing.assert_array_equal(load_preview(entry), stored * 2 - 100)


@pytest.mark.parametrize("source,damage", [("MR_small_jp2klossless.dcm", _ybr_on_j2k),
                                           ("MR_small_jpeg_ls_lossless.dcm", _rows_raised_on_jpeg_ls)],
                         ids=["ybr422-on-j2k", "rows-raised-on-jpegls"])
def test_header_damage_that_aborted_gdcm_is_a_typed_error(tmp_path, source, damage):
    p = _testdata(tmp_path, source)
    damage(p)
    # in a child process: on the old code python-gdcm aborted the whole interpreter here
    code = ("import sys\nfrom app.dicom import scan_paths, load_series, load_preview\n"
            "from app.dicom.errors import DicomLoadError\n"
            "e = scan_paths([sys.argv[1]]).all_series()[0]\n"
            "for fn in (load_series, load_preview):\n"
            "    try:\n        fn(e); print('loaded')\n"
            "    except DicomLoadError as exc:\n        print(type(exc).__name__, exc.message)\n")
    run = subprocess.run([sys.executable, "-c", code, str(p)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count("PixelHeaderMismatch") == 2, run.stdout
    with pytest.raises(errors.PixelHeaderMismatch) as info:  # and in this process, without decoding
        load_series(_only_entry(p.parent))
    assert info.value.path == p and "header is damaged" in info.value.message


def test_isolated_decoder_crash_is_typed_and_the_worker_recovers(tmp_path):
    from app.dicom.isolated import IsolatedFailure, decode_isolated

    bad = _testdata(tmp_path, "MR_small_jp2klossless.dcm", "bad")
    _ybr_on_j2k(bad)
    with pytest.raises(IsolatedFailure) as info:
        decode_isolated(bad, "gdcm")  # python-gdcm throws a C++ exception: the worker aborts
    assert "crashed" in str(info.value)
    good = _testdata(tmp_path, "MR_small_jp2klossless.dcm", "good")
    np.testing.assert_array_equal(decode_isolated(good, "gdcm"), pydicom.dcmread(good).pixel_array)


def test_cancel_stops_an_isolated_decode(tmp_path):
    from app.dicom.isolated import decode_isolated

    p = _testdata(tmp_path, "JPEG-lossy.dcm")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        decode_isolated(p, "simpleitk", token)


def test_failure_message_names_what_was_tried(tmp_path):
    p = _testdata(tmp_path, "MR_small_jp2klossless.dcm")
    ds = pydicom.dcmread(p)
    frame = next(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=1))
    siz_end = frame.find(b"\xff\x52")  # keep SOC+SIZ (the frame check passes), garble the rest
    damaged = frame[:siz_end] + bytes((b * 37 + 11) % 256 for b in frame[siz_end:])
    ds.PixelData = pydicom.encaps.encapsulate([damaged])
    ds.save_as(p)
    with pytest.raises(DicomLoadError) as info:
        load_series(_only_entry(p.parent))
    msg = info.value.message
    assert "JPEG 2000" in msg and "pylibjpeg (" in msg and "python-gdcm in a separate process" in msg
    assert "install" not in msg


def _j2k_claiming(tmp_path, rows, cols, frames=None, folder="big", name="x.dcm"):
    """The J2K test file with Rows/Columns (and the codestream's SIZ) raised consistently."""
    import struct

    p = _testdata(tmp_path, "MR_small_jp2klossless.dcm", folder)
    ds = pydicom.dcmread(p)
    frame = bytearray(next(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=1)))
    at = frame.find(b"\xff\x4f\xff\x51")
    frame[at + 8:at + 16] = struct.pack(">II", cols, rows)
    ds.PixelData = pydicom.encaps.encapsulate([bytes(frame)])
    ds.Rows, ds.Columns = rows, cols
    if frames is not None:
        ds.NumberOfFrames = frames
    out = p.parent / name
    ds.save_as(out)
    if out != p:
        p.unlink()
    return out


def test_giant_declared_image_is_refused_before_allocating(tmp_path):
    for i in range(3):  # a 65535 x 65535 series: 8 GiB per slice if decoded
        _j2k_claiming(tmp_path, 65535, 65535, name=f"x{i}.dcm")
    entry = _only_entry(tmp_path / "big")

    def load():
        with pytest.raises(errors.ImageTooLarge) as info:
            load_series(entry)
        assert "refused before allocating" in info.value.message
        with pytest.raises(errors.ImageTooLarge):
            load_preview(entry)

    assert peak_alloc_bytes(load) < 64 << 20


@pytest.mark.parametrize("frames", [500, 20000])
def test_huge_number_of_frames_on_compressed_data_is_refused_fast(tmp_path, frames):
    p = _testdata(tmp_path, "MR_small_jp2klossless.dcm")
    ds = pydicom.dcmread(p)
    ds.NumberOfFrames = frames
    ds.save_as(p)
    entry = _only_entry(p.parent)
    t0 = time.perf_counter()

    def load():
        for fn in (load_series, load_preview):
            with pytest.raises(TruncatedFile) as info:
                fn(entry)
            assert str(frames) in info.value.message and "truncated" in info.value.message

    assert peak_alloc_bytes(load) < 32 << 20
    assert time.perf_counter() - t0 < 20


def test_truncated_compressed_pixel_data_says_truncated(tmp_path):
    p = _testdata(tmp_path, "MR_small_jp2klossless.dcm")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) - 1500])  # cut inside the compressed frame
    entry = _only_entry(p.parent)
    for fn in (load_series, load_preview):
        with pytest.raises(TruncatedFile) as info:
            fn(entry)
        assert "truncated" in info.value.message and not isinstance(info.value, NoPixelData)


def test_private_compression_is_named(tmp_path):
    ds = pydicom.dcmread(pydicom.data.get_testdata_file("CT_small.dcm"))
    ds.file_meta.TransferSyntaxUID = "1.3.46.670589.33.1.4.1"  # a vendor's private compression
    ds.PixelData = pydicom.encaps.encapsulate([b"\x00" * 64])
    p = tmp_path / "p" / "private.dcm"
    p.parent.mkdir()
    ds.save_as(p)
    entry = _only_entry(p.parent)
    for fn in (load_series, load_preview):
        with pytest.raises(UnsupportedTransferSyntax) as info:
            fn(entry)
        assert "private" in info.value.message and "1.3.46.670589.33.1.4.1" in info.value.message


def test_preview_works_without_photometric_interpretation(writer, tmp_path):
    paths, _pixels, _ = writer.stack(3)
    for p in paths:
        ds = pydicom.dcmread(p)
        del ds.PhotometricInterpretation
        ds.save_as(p)
    entry = _only_entry(paths[0].parent)
    vol = load_series(entry)
    np.testing.assert_array_equal(load_preview(entry), vol.array[1])


def test_mosaic_is_refused_not_shown_as_a_slice(tmp_path):
    for k, flag in enumerate(["image-type", "private-tag"]):
        ds = base_dataset(MR_STORAGE, "MR", SeriesInstanceUID=f"1.2.3.{k}")
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"] if flag == "image-type" else ["ORIGINAL"]
        if flag == "private-tag":
            ds.add_new(0x00190010, "LO", "SIEMENS MR HEADER")
            ds.add_new(0x0019100A, "US", 16)
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, 0.0], [1.0, 0, 0, 0, 1.0, 0]
        ds.Rows = ds.Columns = 16
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated = ds.BitsStored = 16
        ds.HighBit, ds.PixelRepresentation = 15, 0
        ds.PixelData = np.arange(256, dtype=np.uint16).tobytes()
        save(ds, tmp_path / "m" / f"{flag}.dcm")
    entries = scan_paths([tmp_path / "m"]).all_series()
    assert len(entries) == 2
    for entry in entries:
        for fn in (load_series, load_preview):
            with pytest.raises(errors.MosaicNotSupported) as info:
                fn(entry)
            assert "mosaic" in info.value.message.lower()


def test_rle_declared_beyond_64_to_1_is_refused_before_allocating(tmp_path):
    p = _testdata(tmp_path, "SC_rgb_rle_32bit.dcm")
    ds = pydicom.dcmread(p)
    ds.Rows = 65535  # RLE cannot hold 65535 x 100 x 3 x 4 bytes in 2.5 KB
    ds.save_as(p)
    entry = _only_entry(p.parent)

    def load():
        for fn in (load_series, load_preview):
            with pytest.raises(errors.ImageTooLarge) as info:
                fn(entry)
            assert "64:1" in info.value.message

    assert peak_alloc_bytes(load) < 32 << 20


def test_cancel_is_honoured_while_decoding_compressed_frames(tmp_path):
    from app.dicom.pixels import decode_pixels, read_full

    p = _testdata(tmp_path, "examples_ybr_color.dcm")  # 30 JPEG frames
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        decode_pixels(p, read_full(p), token)
    np.testing.assert_array_equal(decode_pixels(p, read_full(p), CancelToken()), pydicom.dcmread(p).pixel_array)


def test_12_bit_lossy_jpeg_is_read_by_gdcm_alone_as_in_the_bundle(tmp_path):
    """The installer leaves SimpleITK out: GDCM's own reader (python-gdcm) must decode the same values."""
    import SimpleITK as sitk

    from app.dicom.isolated import decode_isolated

    p = _testdata(tmp_path, "JPEG-lossy.dcm")
    expected = sitk.GetArrayFromImage(sitk.ReadImage(str(p)))[0]
    np.testing.assert_array_equal(decode_isolated(p, "gdcm-reader", None), expected)
