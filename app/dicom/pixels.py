"""Read stored pixel values: straight from the file for uncompressed little-endian data,
through pydicom's pixel handlers otherwise. Every failure becomes a typed DicomLoadError."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import numpy as np

from app.dicom.errors import DicomLoadError, NoPixelData, TruncatedFile, UnsupportedTransferSyntax
from app.dicom.fastheader import FastHeader, Wanted, read_fast_header
from app.dicom.headers import HEADER_KEYWORDS, describe_read_error, safe_header, transfer_syntax_of
from app.dicom.transfer import RAW_LITTLE_ENDIAN, decoder_hint, transfer_syntax_name

PIXEL_DATA_TAG = 0x7FE00010
LOAD_KEYWORDS = HEADER_KEYWORDS + [
    "RescaleSlope", "RescaleIntercept", "RescaleType", "WindowCenter", "WindowWidth",
    "VOILUTFunction", "VOILUTSequence", "ModalityLUTSequence", "BitsStored", "HighBit",
    "PlanarConfiguration", "PixelSpacingCalibrationType", "ImageComments", "PixelData",
    "FloatPixelData", "DoubleFloatPixelData", "BodyPartExamined", "SpacingBetweenSlices",
    "GantryDetectorTilt",
]
_DEFER_BYTES = 4096


_WANTED = None


def _wanted() -> Wanted:
    global _WANTED
    if _WANTED is None:
        _WANTED = Wanted(LOAD_KEYWORDS)
    return _WANTED


def read_load_header(path: Path) -> Any:
    """The header needed to load pixels, with the pixel data element deferred (not read)."""
    fast = read_fast_header(path, _wanted())
    if fast is not None:
        return fast
    from pydicom import dcmread

    try:
        return safe_header(dcmread(path, force=True, defer_size=_DEFER_BYTES, specific_tags=LOAD_KEYWORDS),
                           LOAD_KEYWORDS)
    except Exception as exc:  # noqa: BLE001
        msg = describe_read_error(exc)
        if msg.startswith("truncated"):
            raise TruncatedFile(path, msg) from exc
        raise DicomLoadError(path, msg) from exc


def stored_dtype(ds: Any) -> Optional[np.dtype]:
    try:
        bits = int(ds.get("BitsAllocated", 0) or 0)
        signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    except (TypeError, ValueError):
        return None
    table = {8: (np.uint8, np.int8), 16: (np.uint16, np.int16), 32: (np.uint32, np.int32)}
    if bits not in table:
        return None
    return np.dtype(table[bits][1 if signed else 0])


def _raw_element(ds: Any) -> Any:
    fast = getattr(ds, "pixel_raw", None) if isinstance(ds, FastHeader) else None
    if fast is not None:
        return fast
    if isinstance(ds, FastHeader):
        return None
    try:
        return ds.get_item(PIXEL_DATA_TAG) if PIXEL_DATA_TAG in ds else None
    except Exception:  # noqa: BLE001
        return None


def fast_path_ok(ds: Any) -> bool:
    """True when the pixel bytes can be read straight from the file into an array."""
    if transfer_syntax_of(ds) not in RAW_LITTLE_ENDIAN:
        return False
    if int(ds.get("SamplesPerPixel", 1) or 1) != 1:
        return False
    dtype = stored_dtype(ds)
    if dtype is None:
        return False
    try:
        if dtype.kind == "i" and int(ds.get("BitsStored", dtype.itemsize * 8)) != dtype.itemsize * 8:
            return False
    except (TypeError, ValueError):
        return False
    raw = _raw_element(ds)
    if raw is None or getattr(raw, "value_tell", None) is None:
        return False
    length = int(getattr(raw, "length", 0))
    if length == 0xFFFFFFFF:
        return False
    return True


def frame_shape(ds: Any) -> tuple[int, int, int]:
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return (max(1, frames), int(ds.Rows), int(ds.Columns))


def read_raw_into(path: Path, ds: Any, out: np.ndarray, frame: Optional[int] = None) -> None:
    """Fast path: read the stored values of all frames (or one ``frame``) into ``out``."""
    raw = _raw_element(ds)
    n_frames, rows, cols = frame_shape(ds)
    dtype = stored_dtype(ds)
    frame_bytes = rows * cols * dtype.itemsize
    needed = frame_bytes * (n_frames if frame is None else 1)
    offset = int(raw.value_tell) + (0 if frame is None else frame * frame_bytes)
    if out.dtype.itemsize != dtype.itemsize or out.nbytes != needed:
        raise DicomLoadError(path, f"internal: buffer of {out.nbytes} bytes for {needed} bytes of pixels")
    if raw.value is not None:  # small pixel data already read with the header
        data = bytes(raw.value)
        if len(data) < frame_bytes * n_frames:
            raise TruncatedFile(path, f"file ends inside the pixel data ({len(data)} of "
                                      f"{frame_bytes * n_frames} bytes present)")
        start = 0 if frame is None else frame * frame_bytes
        out.reshape(-1).view(np.uint8)[:] = np.frombuffer(data, dtype=np.uint8, count=needed, offset=start)
        return
    if int(raw.length) < frame_bytes * n_frames:
        raise TruncatedFile(path, f"pixel data holds {raw.length} bytes but {n_frames} frame(s) of "
                                  f"{rows}x{cols} need {frame_bytes * n_frames}")
    with open(path, "rb", buffering=0) as f:
        f.seek(offset)
        view = memoryview(out.reshape(-1).view(np.uint8))
        got = 0
        while got < needed:
            n = f.readinto(view[got:])
            if not n:
                break
            got += n
    if got < needed:
        raise TruncatedFile(path, f"file ends inside the pixel data ({got} of {needed} bytes present)")


def _ensure_transfer_syntax(ds: Any) -> None:
    from pydicom.dataset import FileMetaDataset

    meta = getattr(ds, "file_meta", None)
    if meta is None:
        ds.file_meta = meta = FileMetaDataset()
    if not meta.get("TransferSyntaxUID"):
        ts = transfer_syntax_of(ds) or "1.2.840.10008.1.2"
        meta.TransferSyntaxUID = ts


def read_full(path: Path) -> Any:
    from pydicom import dcmread

    try:
        ds = dcmread(path, force=True)
    except Exception as exc:  # noqa: BLE001
        msg = describe_read_error(exc)
        if msg.startswith("truncated"):
            raise TruncatedFile(path, msg) from exc
        raise DicomLoadError(path, msg) from exc
    _ensure_transfer_syntax(ds)
    return ds


def decode_pixels(path: Path, ds: Any) -> np.ndarray:
    """Stored values through pydicom: (frames, rows, cols[, samples]) for multi-frame, else
    (rows, cols[, samples]). Raises NoPixelData / UnsupportedTransferSyntax / TruncatedFile."""
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        raise NoPixelData(path, "the file has no pixel data (no image in it)")
    ts = transfer_syntax_of(ds)
    try:
        arr = ds.pixel_array
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - decoders in Rust/C may raise non-Exception panics
        if not isinstance(exc, Exception):
            raise DicomLoadError(path, f"the decoder failed on damaged pixel data ({type(exc).__name__}: "
                                       f"{exc})") from exc
        text = f"{type(exc).__name__}: {exc}"
        low = text.lower()
        compressed = ts not in RAW_LITTLE_ENDIAN and ts not in ("1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99")
        if compressed and "all available plugins" in low:
            detail = "; ".join(line.strip() for line in str(exc).splitlines()[1:4])
            raise UnsupportedTransferSyntax(
                path, f"pixel data compressed as {transfer_syntax_name(ts)} could not be decoded by any "
                      f"installed decoder; the data may be damaged or use an unusual variant ({detail})") from exc
        if compressed and any(w in low for w in ("plugin", "decoder", "missing", "not available",
                                                  "no available", "unable to decode", "not supported",
                                                  "unsupported", "install")):
            raise UnsupportedTransferSyntax(
                path, f"pixel data is compressed as {transfer_syntax_name(ts)}, which cannot be decoded "
                      f"here: {decoder_hint(ts)} ({text})") from exc
        if any(w in low for w in ("length", "truncat", "too short", "not enough", "expected", "buffer",
                                  "insufficient", "end of")):
            raise TruncatedFile(path, f"pixel data is shorter than the image size says ({text})") from exc
        if compressed:
            raise UnsupportedTransferSyntax(
                path, f"pixel data compressed as {transfer_syntax_name(ts)} could not be decoded "
                      f"({text}); {decoder_hint(ts)}") from exc
        raise DicomLoadError(path, f"pixel data cannot be decoded ({text})") from exc
    return np.asarray(arr)


def file_size(path: Path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def to_gray(arr: np.ndarray, photometric: str) -> np.ndarray:
    """Colour images become luminance (uint8/uint16 kept); grey images pass through."""
    if arr.ndim >= 3 and arr.shape[-1] in (3, 4) and photometric not in ("MONOCHROME1", "MONOCHROME2"):
        gray = arr[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        if arr.dtype.kind in "ui":
            info = np.iinfo(arr.dtype)
            return np.clip(np.rint(gray), info.min, info.max).astype(arr.dtype)
        return gray.astype(np.float32)
    return arr
