"""Read stored pixel values: straight from the file for uncompressed little-endian data,
through pydicom's pixel handlers otherwise. Every failure becomes a typed DicomLoadError."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from app.core.progress import CancelToken
from app.dicom.bounded_io import dcmread_bounded, stat_key
from app.dicom.errors import DicomLoadError, MosaicNotSupported, NoPixelData, TruncatedFile, UnsupportedTransferSyntax
from app.dicom.fastheader import FastHeader, Wanted, read_fast_header
from app.dicom.headers import LOAD_KEYWORDS, describe_read_error, safe_header, transfer_syntax_of
from app.dicom.memory_guard import ensure_allocatable
from app.dicom.model import InstanceHeader
from app.dicom.mosaic import MOSAIC_MESSAGE, is_mosaic
from app.dicom.transfer import RAW_LITTLE_ENDIAN

PIXEL_DATA_TAG = 0x7FE00010
_DEFER_BYTES = 4096


_WANTED = None


def _wanted() -> Wanted:
    global _WANTED
    if _WANTED is None:
        _WANTED = Wanted(LOAD_KEYWORDS)
    return _WANTED


def read_load_header(path: Path) -> Any:
    """The header needed to load pixels, with the pixel data element deferred (not read)."""
    try:
        fast = read_fast_header(path, _wanted())
    except Exception as exc:
        raise DicomLoadError(path, describe_read_error(exc)) from exc
    if fast is not None:
        return fast
    try:
        return safe_header(dcmread_bounded(path, force=True, defer_size=_DEFER_BYTES, specific_tags=LOAD_KEYWORDS),
                           LOAD_KEYWORDS)
    except Exception as exc:
        msg = describe_read_error(exc)
        if msg.startswith("truncated"):
            raise TruncatedFile(path, msg) from exc
        raise DicomLoadError(path, msg) from exc


def load_header_of(instance: InstanceHeader) -> Any:
    """The load header of a scanned file: the scan's own parse while the file is unchanged (same
    size and modification time), else the file parsed again by :func:`read_load_header`."""
    header = instance.load_header
    if header is not None and getattr(header, "file_stat", None) == stat_key(instance.path):
        return header
    return read_load_header(instance.path)


def int_value(ds: Any, keyword: str, default: int) -> int:
    """One whole number from a header attribute (``default`` when absent or empty). Raises
    ValueError naming the attribute for several values, text or other surprises."""
    value = ds.get(keyword, None)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, str, bytes, np.integer, np.floating)):
        raise ValueError(f"{keyword} is {value!r}, not one whole number")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{keyword} is {value!r}, not one whole number") from None
    if not np.isfinite(number) or number != int(number):
        raise ValueError(f"{keyword} is {value!r}, not one whole number")
    return int(number)


_F = TypeVar("_F", bound=Callable[[Any], Any])


def _per_header(fn: _F) -> _F:
    """Keep the result of ``fn(header)`` on a FastHeader (its values never change after the
    parse), so checks asked once per slice in several places cost one evaluation."""
    name = fn.__name__

    @functools.wraps(fn)
    def once(ds: Any) -> Any:
        if not isinstance(ds, FastHeader):
            return fn(ds)
        memo = ds.__dict__.setdefault("_memo", {})
        if name not in memo:
            memo[name] = fn(ds)  # an exception is raised each time, not kept
        return memo[name]

    return once  # type: ignore[return-value]


@_per_header
def stored_dtype(ds: Any) -> np.dtype | None:
    try:
        bits = int_value(ds, "BitsAllocated", 0)
        signed = int_value(ds, "PixelRepresentation", 0) == 1
    except ValueError:
        return None
    table = {8: (np.uint8, np.int8), 16: (np.uint16, np.int16), 32: (np.uint32, np.int32)}
    if bits not in table:
        return None
    return np.dtype(table[bits][1 if signed else 0])


def raw_dtype(path: Path, ds: Any) -> np.dtype:
    """The stored dtype of a header that passed :func:`fast_path_ok`; DicomLoadError otherwise."""
    dtype = stored_dtype(ds)
    if dtype is None:
        raise DicomLoadError(path, f"internal: no 8, 16 or 32 bit stored values (BitsAllocated "
                                   f"{ds.get('BitsAllocated')!r}) for a raw pixel read")
    return dtype


def stored_bits_layout(ds: Any, dtype: np.dtype) -> tuple[int, int] | None:
    """(BitsStored, HighBit) when the stored values occupy fewer bits than allocated, else None.
    Raises ValueError for impossible values (more bits stored than allocated, HighBit outside)."""
    allocated = dtype.itemsize * 8
    bits_stored = int_value(ds, "BitsStored", allocated)
    high_bit = int_value(ds, "HighBit", bits_stored - 1)
    if not 1 <= bits_stored <= allocated:
        raise ValueError(f"BitsStored {bits_stored} does not fit BitsAllocated {allocated}")
    if not bits_stored - 1 <= high_bit < allocated:
        raise ValueError(f"HighBit {high_bit} does not fit BitsStored {bits_stored} / BitsAllocated {allocated}")
    if bits_stored == allocated:
        return None
    return bits_stored, high_bit


def bit_layout_note(ds: Any) -> str | None:
    """A warning when HighBit is not BitsStored-1 (a retired layout: values are shifted down)."""
    dtype = stored_dtype(ds)
    try:
        layout = stored_bits_layout(ds, dtype) if dtype is not None else None
    except ValueError:
        return None
    if layout is None or layout[1] == layout[0] - 1:
        return None
    return (f"HighBit {layout[1]} with BitsStored {layout[0]} (a retired layout): stored values were taken "
            f"from bits {layout[1] - layout[0] + 1}-{layout[1]}")


def correct_stored_bits(arr: np.ndarray, ds: Any) -> np.ndarray:
    """Keep only the BitsStored bits ending at HighBit (in place when possible): overlay or
    garbage bits above HighBit are dropped, values below a retired HighBit position are shifted
    down, signed values are sign-extended from their top stored bit. With HighBit = BitsStored-1
    this is exactly pydicom's unused-bits correction."""
    if arr.dtype.kind not in "ui" or arr.dtype.itemsize not in (1, 2, 4):
        return arr
    layout = stored_bits_layout(ds, arr.dtype)
    if layout is None:
        return arr
    bits_stored, high_bit = layout
    allocated = arr.dtype.itemsize * 8
    if not arr.flags.writeable:
        arr = arr.copy()
    if arr.dtype.kind == "u":
        low = high_bit + 1 - bits_stored
        if low:
            np.right_shift(arr, low, out=arr)
        np.bitwise_and(arr, arr.dtype.type((1 << bits_stored) - 1), out=arr)
        return arr
    up = allocated - 1 - high_bit
    if up:
        np.left_shift(arr, up, out=arr)
    np.right_shift(arr, allocated - bits_stored, out=arr)  # arithmetic: sign-extends
    return arr


def _raw_element(ds: Any) -> Any:
    fast = getattr(ds, "pixel_raw", None) if isinstance(ds, FastHeader) else None
    if fast is not None:
        return fast
    if isinstance(ds, FastHeader):
        return None
    try:
        return ds.get_item(PIXEL_DATA_TAG) if PIXEL_DATA_TAG in ds else None
    except Exception:
        return None


@_per_header
def fast_path_ok(ds: Any) -> bool:
    """True when the pixel bytes can be read straight from the file into an array."""
    if transfer_syntax_of(ds) not in RAW_LITTLE_ENDIAN:
        return False
    try:
        if int_value(ds, "SamplesPerPixel", 1) != 1:
            return False
        dtype = stored_dtype(ds)
        if dtype is None:
            return False
        stored_bits_layout(ds, dtype)  # impossible bit layouts go through pydicom's checks
        frame_shape(ds)
    except (TypeError, ValueError):
        return False
    raw = _raw_element(ds)
    if raw is None or getattr(raw, "value_tell", None) is None:
        return False
    length = int(getattr(raw, "length", 0))
    return length != 4294967295


@_per_header
def frame_shape(ds: Any) -> tuple[int, int, int]:
    """(frames, rows, columns); ValueError for missing, multi-valued or non-positive values."""
    frames = int_value(ds, "NumberOfFrames", 1)
    rows, cols = int_value(ds, "Rows", 0), int_value(ds, "Columns", 0)
    if rows <= 0 or cols <= 0 or frames < 0:
        raise ValueError(f"image size {rows}x{cols} with {frames} frame(s) is not a valid image size")
    return (max(1, frames), rows, cols)


def read_raw_into(path: Path, ds: Any, out: np.ndarray, frame: int | None = None) -> None:
    """Fast path: read the stored values of all frames (or one ``frame``) into ``out``."""
    raw = _raw_element(ds)
    n_frames, rows, cols = frame_shape(ds)
    dtype = raw_dtype(path, ds)
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
        _correct_in_place(path, out, ds)
        return
    if int(raw.length) < frame_bytes * n_frames:
        raise TruncatedFile(path, f"pixel data holds {raw.length} bytes but {n_frames} frame(s) of "
                                  f"{rows}x{cols} need {frame_bytes * n_frames}")
    with open(path, "rb", buffering=0) as f:
        f.seek(offset)
        view = out.reshape(-1).view(np.uint8).data  # a writable memoryview of out's bytes
        got = 0
        while got < needed:
            n = f.readinto(view[got:])
            if not n:
                break
            got += n
    if got < needed:
        raise TruncatedFile(path, f"file ends inside the pixel data ({got} of {needed} bytes present)")
    _correct_in_place(path, out, ds)


def _correct_in_place(path: Path, out: np.ndarray, ds: Any) -> None:
    try:
        fixed = correct_stored_bits(out, ds)
    except ValueError as exc:
        raise DicomLoadError(path, f"pixel bit layout cannot be used: {exc}") from exc
    if fixed is not out:
        out[...] = fixed


def _ensure_transfer_syntax(ds: Any) -> None:
    from pydicom.dataset import FileMetaDataset

    meta = getattr(ds, "file_meta", None)
    if meta is None:
        ds.file_meta = meta = FileMetaDataset()
    if not meta.get("TransferSyntaxUID"):
        ts = transfer_syntax_of(ds) or "1.2.840.10008.1.2"
        meta.TransferSyntaxUID = ts


def read_full(path: Path) -> Any:
    """The whole dataset (pixel data included). A missing PhotometricInterpretation of
    one-sample data is set to MONOCHROME2 (the only grey meaning it can have)."""
    try:
        ds = dcmread_bounded(path, force=True)
    except Exception as exc:
        msg = describe_read_error(exc)
        if msg.startswith("truncated"):
            raise TruncatedFile(path, msg) from exc
        raise DicomLoadError(path, msg) from exc
    _ensure_transfer_syntax(ds)
    try:
        if "PhotometricInterpretation" not in ds and int_value(ds, "SamplesPerPixel", 1) == 1:
            ds.PhotometricInterpretation = "MONOCHROME2"
    except ValueError:
        pass  # reported when the pixels are decoded
    return ds


_PIXEL_TAG_BYTES = (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10")


def _ends_inside_pixel_data(path: Path) -> bool:
    """True when the file holds a pixel data tag that the parser could not read to its end."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return any(tag in data[132:] for tag in _PIXEL_TAG_BYTES)


def is_encapsulated(ds: Any) -> bool:
    """True when the transfer syntax stores pixel data as compressed fragments."""
    from pydicom.uid import UID

    return UID(transfer_syntax_of(ds) or "1.2.840.10008.1.2").is_encapsulated


def pixel_shape(path: Path, ds: Any) -> tuple[int, int, int, int, int]:
    """(frames, rows, cols, samples, bytes per sample) from the header, validated. Raises
    DicomLoadError for values that cannot describe an image."""
    try:
        frames, rows, cols = frame_shape(ds)
        samples = int_value(ds, "SamplesPerPixel", 1)
        bits = int_value(ds, "BitsAllocated", 16)
    except ValueError as exc:
        raise DicomLoadError(path, f"header values cannot be used: {exc}") from exc
    if samples not in (1, 3, 4):
        raise DicomLoadError(path, f"header values cannot be used: SamplesPerPixel is {samples}")
    if bits not in (1, 8, 16, 32, 64):
        raise DicomLoadError(path, f"header values cannot be used: BitsAllocated is {bits}")
    if bits in (8, 16, 32):
        try:
            stored_bits_layout(ds, np.dtype(f"u{bits // 8}"))
        except ValueError as exc:
            raise DicomLoadError(path, f"header values cannot be used: {exc}") from exc
    return frames, rows, cols, samples, max(1, bits // 8)


def decode_pixels(path: Path, ds: Any, cancel: CancelToken | None = None) -> np.ndarray:
    """Stored values: (frames, rows, cols[, samples]) for multi-frame, else (rows, cols[, samples]).
    Raises NoPixelData / TruncatedFile / UnsupportedTransferSyntax / other DicomLoadError
    subclasses; refuses impossible sizes before allocating."""
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        if _ends_inside_pixel_data(path):
            raise TruncatedFile(path, "the file is truncated: it ends inside its pixel data")
        raise NoPixelData(path, "the file has no pixel data (no image in it)")
    if is_mosaic(ds):
        raise MosaicNotSupported(path, MOSAIC_MESSAGE)
    ts = transfer_syntax_of(ds)
    shape = pixel_shape(path, ds)
    from pydicom.uid import UID

    uid = UID(ts)
    if not uid.is_transfer_syntax:
        kind = "a private (vendor-specific)" if not ts.startswith("1.2.840.10008.") else "an unknown"
        raise UnsupportedTransferSyntax(path, f"pixel data uses {kind} transfer syntax {ts}, which no "
                                              f"installed decoder reads")
    if uid.is_encapsulated:
        from app.dicom.decode import decode_compressed

        if "PixelData" not in ds:
            raise NoPixelData(path, "compressed object without PixelData (no image in it)")
        return decode_compressed(path, ds, ts, shape, cancel)
    return _decode_native(path, ds, ts, shape)


def _decode_native(path: Path, ds: Any, ts: str, shape: tuple[int, int, int, int, int]) -> np.ndarray:
    frames, rows, cols, samples, nbytes = shape
    ensure_allocatable(path, frames * rows * cols * samples * nbytes,
                       f"{frames} frame(s) of {rows}x{cols}x{samples}")
    from pydicom.pixels.decoders.base import get_decoder

    try:
        # pydicom annotates **kwargs as DecodeOptions (the TypedDict) instead of Unpack[DecodeOptions]
        arr, _ = get_decoder(ts).as_array(ds, correct_unused_bits=False)  # type: ignore[arg-type]
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        low = text.lower()
        if any(w in low for w in ("length", "truncat", "too short", "not enough", "expected", "buffer",
                                  "insufficient", "end of")):
            raise TruncatedFile(path, f"pixel data is shorter than the image size says ({text})") from exc
        raise DicomLoadError(path, f"pixel data cannot be decoded ({text})") from exc
    arr = np.asarray(arr)
    try:
        return correct_stored_bits(arr, ds)
    except ValueError as exc:
        raise DicomLoadError(path, f"pixel bit layout cannot be used: {exc}") from exc


def file_size(path: Path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def to_gray(arr: np.ndarray, photometric: str) -> np.ndarray:
    """Colour images become luminance (uint8/uint16 kept); grey images pass through. Computed
    one frame at a time in float32 so a multi-frame colour object needs little extra memory."""
    if not (arr.ndim >= 3 and arr.shape[-1] in (3, 4) and photometric not in ("MONOCHROME1", "MONOCHROME2")):
        return arr
    integer = arr.dtype.kind in "ui"
    out = np.empty(arr.shape[:-1], dtype=arr.dtype if integer else np.float32)
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    frames = arr.reshape((-1, *arr.shape[-3:])) if arr.ndim > 3 else arr[np.newaxis]
    target = out.reshape((-1, *out.shape[-2:])) if out.ndim > 2 else out[np.newaxis]
    for f in range(frames.shape[0]):
        gray = frames[f, ..., :3].astype(np.float32) @ weights
        if integer:
            info = np.iinfo(arr.dtype)
            np.clip(np.rint(gray), info.min, info.max, out=gray)
        target[f] = gray
    return out
