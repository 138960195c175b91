"""Reduced-resolution first look at a JPEG 2000 radiograph: the right size, the right values
(after the modality LUT, within what a wavelet low-pass gives), and None - never a wrong
image - whenever the shortcut does not apply, so the full decode takes over."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.uid import JPEG2000Lossless

from app.dicom.reduced_preview import codestream_precision, reduced_preview, reduction_for

from .conftest import DX_STORAGE, base_dataset, set_pixels

pytest.importorskip("openjpeg")
pytest.importorskip("PIL.Image")


def _radiograph(rows: int = 1024, cols: int = 800, bits: int = 12, signed: bool = False) -> np.ndarray:
    y, x = np.mgrid[0:rows, 0:cols]
    img = 200 + (x * 3 + y * 2) % (1 << bits - 2) + ((y // 64 + x // 64) % 2) * 700
    img = np.clip(img, 0, (1 << bits) - 1 if not signed else (1 << (bits - 1)) - 1)
    return img.astype(np.int16 if signed else np.uint16)


def _write(tmp_path, arr: np.ndarray, bits: int = 12, compress: bool = True, **attrs) -> object:
    ds = base_dataset(DX_STORAGE, "DX", **attrs)
    set_pixels(ds, arr)
    ds.BitsStored, ds.HighBit = bits, bits - 1
    if compress:
        ds.compress(JPEG2000Lossless, arr, encoding_plugin="pylibjpeg")
    path = tmp_path / f"dx-{arr.shape[0]}-{bits}-{compress}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_large_radiograph_is_decoded_at_half_resolution_with_its_values(tmp_path):
    arr = _radiograph()
    path = _write(tmp_path, arr, RescaleSlope=2, RescaleIntercept=-100)
    out = reduced_preview(path)
    assert out is not None and out.shape == (512, 400)
    block_means = arr.reshape(512, 2, 400, 2).mean(axis=(1, 3)) * 2 - 100  # modality LUT applied
    assert np.median(np.abs(out - block_means)) < 0.02 * (block_means.max() - block_means.min())


def test_reduction_brings_the_longer_side_to_the_limit():
    assert reduction_for(400, 300) == 0 and reduction_for(896, 704) == 1 and reduction_for(3000, 2500) == 3
    assert reduction_for(100_000, 100_000) == 4  # at most 1/16


@pytest.mark.parametrize("case", ["small", "uncompressed", "signed", "not dicom", "truncated"])
def test_none_whenever_the_shortcut_does_not_apply(tmp_path, case):
    if case == "small":
        path = _write(tmp_path, _radiograph(300, 200))
    elif case == "uncompressed":
        path = _write(tmp_path, _radiograph(), compress=False)
    elif case == "signed":
        path = _write(tmp_path, _radiograph(signed=True))
    elif case == "not dicom":
        path = tmp_path / "x.dcm"
        path.write_bytes(b"not a dicom file at all" * 20)
    else:
        good = _write(tmp_path, _radiograph())
        path = tmp_path / "cut.dcm"
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert reduced_preview(path) is None


def test_codestream_precision_reads_the_siz_marker(tmp_path):
    from pydicom import dcmread
    from pydicom.encaps import generate_frames

    path = _write(tmp_path, _radiograph(600, 600, bits=10), bits=10)
    ds = dcmread(path)
    assert codestream_precision(next(generate_frames(ds.PixelData, number_of_frames=1))) == (10, False, 1)
    assert codestream_precision(b"\x00" * 60) is None


def test_the_viewer_preview_of_a_radiograph_series_uses_it(tmp_path):
    from app.dicom import load_preview, scan_paths
    from app.viewer.loading import preview

    arr = _radiograph()
    _write(tmp_path, arr)
    entry = next(s for s in scan_paths([str(tmp_path)]).all_series())
    assert entry.kind == "radiograph"
    assert preview(entry).shape == (512, 400)
    assert load_preview(entry).shape == arr.shape  # the series itself stays full resolution
