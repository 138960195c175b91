"""Bad input: typed errors naming the file; one bad file never stops the rest; progress/cancel."""

from pathlib import Path

import numpy as np
import pydicom
import pydicom.data
import pytest

from app.core.progress import Cancelled, CancelToken
from app.dicom import load_preview, load_series, scan_paths
from app.dicom.errors import DicomLoadError, NoPixelData, TruncatedFile, UnsupportedTransferSyntax
from app.dicom.transfer import decoder_hint

from .conftest import CT_STORAGE, base_dataset, save


def _entry(root):
    entries = scan_paths([root]).all_series()
    assert len(entries) == 1
    return entries[0]


def _truncate(path, keep_bytes_less=50):
    data = path.read_bytes()
    path.write_bytes(data[:-keep_bytes_less])


def test_truncated_slice_is_skipped_and_listed(writer, tmp_path):
    paths, pixels, _ = writer.stack(5)
    _truncate(paths[2])
    vol = load_series(_entry(tmp_path))
    assert any(paths[2].name in w and "truncated" in w for w in vol.warnings)
    # four real slices remain; the missing position is reported as a gap, geometry stays right
    assert sum(1 for s in vol.sop_instance_uids if s) == 4
    np.testing.assert_array_equal(vol.array[3], pixels[3])


def test_all_truncated_raises_typed_error_naming_file(writer, tmp_path):
    paths, _, _ = writer.stack(1)
    _truncate(paths[0])
    with pytest.raises(TruncatedFile) as info:
        load_series(_entry(tmp_path))
    assert info.value.path == paths[0]
    assert str(paths[0]) in str(info.value)
    with pytest.raises(DicomLoadError):
        load_preview(_entry(tmp_path))


def test_header_truncated_file_is_skipped_in_scan(writer, tmp_path):
    paths, _, _ = writer.stack(3)
    paths[1].write_bytes(paths[1].read_bytes()[:200])
    res = scan_paths([tmp_path])
    assert len(res.all_series()[0].instances) in (2, 3)
    vol = load_series(res.all_series()[0])
    assert vol.array.shape[0] >= 2


def test_no_pixel_data(tmp_path):
    ds = base_dataset(CT_STORAGE, "CT")
    ds.Rows = ds.Columns = 4
    ds.BitsAllocated = 16
    ds.PixelRepresentation = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    p = save(ds, tmp_path / "nopix.dcm")
    entry = _entry(tmp_path)
    with pytest.raises(NoPixelData) as info:
        load_series(entry)
    assert info.value.path == p and "no pixel data" in info.value.message
    with pytest.raises(NoPixelData):
        load_preview(entry)


def test_not_dicom_is_listed_not_raised(tmp_path):
    (tmp_path / "a.txt").write_text("x" * 500)
    (tmp_path / "empty").write_bytes(b"")
    res = scan_paths([tmp_path])
    assert res.all_series() == []
    assert {s.path.name for s in res.skipped} == {"a.txt", "empty"}
    assert all(s.reason for s in res.skipped)


def test_unknown_compressed_syntax_is_explained(tmp_path):
    ds = pydicom.dcmread(pydicom.data.get_testdata_file("CT_small.dcm"))
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2: no decoder installed
    ds.PixelData = pydicom.encaps.encapsulate([b"\x00" * 64])
    p = tmp_path / "mpeg.dcm"
    ds.save_as(p)
    with pytest.raises(UnsupportedTransferSyntax) as info:
        load_series(_entry(tmp_path))
    assert "MPEG2" in info.value.message and info.value.path == p


def test_missing_decoder_message_names_the_package(tmp_path, monkeypatch):
    import sys

    from pydicom.pixels.decoders.base import get_decoder

    src = pydicom.data.get_testdata_file("MR_small_jp2klossless.dcm")
    p = tmp_path / "j2k.dcm"
    p.write_bytes(Path(src).read_bytes())
    # no decoder package installed for JPEG 2000: neither pydicom's plugins nor GDCM nor SimpleITK
    monkeypatch.setattr(get_decoder("1.2.840.10008.1.2.4.90"), "_available", {})
    monkeypatch.setitem(sys.modules, "SimpleITK", None)
    monkeypatch.setitem(sys.modules, "gdcm", None)
    with pytest.raises(UnsupportedTransferSyntax) as info:
        load_series(_entry(tmp_path))
    assert "pylibjpeg-openjpeg" in info.value.message and "JPEG 2000" in info.value.message
    assert "pylibjpeg-libjpeg" in decoder_hint("1.2.840.10008.1.2.4.50")
    assert "pylibjpeg-rle" in decoder_hint("1.2.840.10008.1.2.5")
    assert "python-gdcm" in decoder_hint("1.2.840.10008.1.2.4.80")


def test_progress_reports_done_and_total(writer, tmp_path):
    writer.stack(6)
    scan_calls, load_calls = [], []
    entry = scan_paths([tmp_path], progress=lambda d, t: scan_calls.append((d, t))).all_series()[0]
    assert scan_calls[-1] == (6, 6)
    load_series(entry, progress=lambda d, t: load_calls.append((d, t)))
    assert load_calls[-1][0] == load_calls[-1][1] > 0
    assert [d for d, _ in load_calls] == sorted(d for d, _ in load_calls)


def test_cancel_stops_scan_and_load(writer, tmp_path):
    writer.stack(6)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        scan_paths([tmp_path], cancel=token)
    entry = scan_paths([tmp_path]).all_series()[0]
    token2 = CancelToken()

    def cancel_midway(done, total):
        if done >= 2:
            token2.cancel()

    with pytest.raises(Cancelled):
        load_series(entry, progress=cancel_midway, cancel=token2)
