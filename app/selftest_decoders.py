"""Self-test of the pixel-data decoders (app/selftest.py): each compressed transfer syntax is
decoded from one of pydicom's bundled test files by every plugin a build must carry (pylibjpeg
with libjpeg/openjpeg/rle, python-gdcm, pydicom's own RLE), lossless ones compared pixel for pixel
with the same image stored uncompressed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.selftest import CheckResult, SelfTestError, timed


@dataclass(frozen=True)
class DecodeCase:
    syntax: str
    file: str  # a test file bundled with pydicom
    reference: str | None  # the same image uncompressed (or lossless); None: shape check only
    max_abs_diff: int
    plugins: tuple[str, ...]  # pydicom decoding plugins that must work; () = default path


DECODE_CASES: tuple[DecodeCase, ...] = (
    DecodeCase("RLE Lossless", "MR_small_RLE.dcm", "MR_small.dcm", 0, ("pydicom", "pylibjpeg")),
    DecodeCase("JPEG 2000 lossless", "MR_small_jp2klossless.dcm", "MR_small.dcm", 0, ("pylibjpeg", "gdcm")),
    DecodeCase("JPEG-LS lossless", "MR_small_jpeg_ls_lossless.dcm", "MR_small.dcm", 0, ("pylibjpeg", "gdcm")),
    DecodeCase("JPEG Lossless SV1", "SC_rgb_jpeg_gdcm.dcm", "SC_rgb_rle.dcm", 0, ("pylibjpeg", "gdcm")),
    DecodeCase("JPEG Baseline", "SC_rgb_jpeg_dcmtk.dcm", "SC_rgb_rle.dcm", 8, ("pylibjpeg", "gdcm")),
    DecodeCase("JPEG Extended 12-bit", "JPGExtended.dcm", None, 0, ("pylibjpeg",)),
    DecodeCase("JPEG 2000", "JPEG2000.dcm", None, 0, ("pylibjpeg", "gdcm")),
    DecodeCase("JPEG-LS near-lossless", "JPEGLSNearLossless_16.dcm", None, 0, ("pylibjpeg", "gdcm")),
    DecodeCase("Explicit VR Big Endian", "MR_small_bigendian.dcm", "MR_small.dcm", 0, ()),
    DecodeCase("Deflated Explicit VR Little Endian", "image_dfl.dcm", None, 0, ()),
)


def decoder_test_file(name: str) -> Path:
    """A pydicom bundled test file (never downloaded: a missing file is a failure)."""
    import pydicom.data

    path = Path(pydicom.data.__file__).parent / "test_files" / name
    if not path.is_file():
        raise SelfTestError(f"decoder test file {name} is not bundled (looked in {path.parent})")
    return path


def check_decoder(case: DecodeCase) -> Iterator[CheckResult]:
    """One row per plugin that must decode ``case.file`` (one row for the default path)."""
    for plugin in case.plugins or ("",):
        subject = f"{case.syntax} ({plugin or 'default'})"
        yield timed("decode", subject, lambda plugin=plugin: _decode(case, plugin))


def _pixels(path: Path, plugin: str):
    """Pixel array of a file, decoded by ``plugin`` ("" = pydicom's default choice)."""
    import pydicom

    ds = pydicom.dcmread(path)
    if plugin:
        ds.pixel_array_options(decoding_plugin=plugin)
    return ds.pixel_array


def _decode(case: DecodeCase, plugin: str) -> str:
    import numpy as np
    import pydicom

    path = decoder_test_file(case.file)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    a = _pixels(path, plugin)
    expected_rc = (int(ds.Rows), int(ds.Columns))
    rows_cols = a.shape[-3:-1] if int(ds.get("SamplesPerPixel", 1)) > 1 else a.shape[-2:]
    if tuple(rows_cols) != expected_rc:
        raise SelfTestError(f"{case.file}: decoded shape {a.shape}, expected rows x columns {expected_rc}")
    if a.min() == a.max():
        raise SelfTestError(f"{case.file}: decoded to a blank image")
    if case.reference is None:
        return f"{case.file} {'x'.join(map(str, a.shape))}"
    ref = _pixels(decoder_test_file(case.reference), "")
    if ref.shape != a.shape:
        raise SelfTestError(f"{case.file}: shape {a.shape} differs from {case.reference} {ref.shape}")
    diff = int(np.abs(a.astype(np.int64) - ref.astype(np.int64)).max())
    if diff > case.max_abs_diff:
        raise SelfTestError(f"{case.file}: differs from {case.reference} by up to {diff} (allowed {case.max_abs_diff})")
    return f"{case.file} = {case.reference}" + (f" within {diff}" if diff else "")
