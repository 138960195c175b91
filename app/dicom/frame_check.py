"""Check compressed pixel data against the DICOM header before any decoder sees it.

A decoder given a frame whose own header (JPEG SOF, JPEG-LS SOF55, JPEG 2000 SIZ, RLE header)
disagrees with Rows/Columns/SamplesPerPixel can abort the process (python-gdcm throws C++
exceptions through its Python wrapper), and a huge NumberOfFrames makes decoders loop and
allocate per frame. Both are refused here with typed errors, before allocating."""

from __future__ import annotations

import struct
from io import BytesIO
from pathlib import Path
from typing import Any

from app.dicom.errors import DicomLoadError, ImageTooLarge, PixelHeaderMismatch, TruncatedFile
from app.dicom.memory_guard import ensure_allocatable

JPEG_UIDS = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
             "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"}
J2K_UIDS = {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.201",
            "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203"}
RLE_UID = "1.2.840.10008.1.2.5"
# Decoded size may exceed this multiple of the compressed bytes only below RATIO_FREE_BYTES: no real
# image compresses 1000:1 at hundreds of MB, a damaged Rows/Columns/NumberOfFrames easily "does".
MAX_COMPRESSION_RATIO = 1000
RATIO_FREE_BYTES = 256 << 20
_COLOUR = {"RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT", "YBR_PARTIAL_420", "YBR_PARTIAL_422"}
_GREY = {"MONOCHROME1", "MONOCHROME2", "PALETTE COLOR"}


def _j2k_size(frame: bytes) -> dict[str, int] | None:
    """Width, height and components from the SIZ marker of a JPEG 2000 codestream (JP2 boxes
    are skipped by looking for SOC+SIZ in the first bytes)."""
    at = frame.find(b"\xff\x4f\xff\x51", 0, 4096)
    if at < 0 or len(frame) < at + 42:
        return None
    xsiz, ysiz, xo, yo = struct.unpack(">IIII", frame[at + 8:at + 24])
    csiz = struct.unpack(">H", frame[at + 40:at + 42])[0]
    return {"width": xsiz - xo, "height": ysiz - yo, "components": csiz}


def _jpeg_size(frame: bytes) -> dict[str, int] | None:
    from pydicom.pixels.utils import _get_jpg_parameters  # JPEG and JPEG-LS SOF parser

    info = _get_jpg_parameters(frame[:65536])
    if not info or "width" not in info:
        return None
    return {"width": int(info["width"]), "height": int(info["height"]), "components": int(info["components"])}


def _rle_segments(frame: bytes) -> int | None:
    if len(frame) < 64:
        return None
    return struct.unpack("<I", frame[:4])[0]


def _fragments(path: Path, data: bytes) -> tuple[int, bytes]:
    """(number of fragments, first fragment) of encapsulated pixel data."""
    from pydicom.encaps import generate_fragments, parse_basic_offsets, parse_fragments

    buf = BytesIO(data)
    try:
        parse_basic_offsets(buf)
        start = buf.tell()
        n, _ = parse_fragments(buf)
        buf.seek(start)
        first = next(generate_fragments(buf), b"") if n else b""
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        if any(w in text.lower() for w in ("end of", "truncat", "insufficient", "not enough")):
            raise TruncatedFile(path, f"compressed pixel data is truncated ({text})") from exc
        raise DicomLoadError(path, f"compressed pixel data is damaged: its item structure cannot be read "
                                   f"({text})") from exc
    return n, first


def check_photometric(path: Path, photometric: str, samples: int) -> None:
    """Colour photometric interpretations need 3 samples, grey ones 1."""
    if (photometric in _COLOUR and samples != 3) or (photometric in _GREY and samples != 1):
        raise PixelHeaderMismatch(path, f"PhotometricInterpretation {photometric} does not fit "
                                        f"SamplesPerPixel {samples}: the header is damaged")


def check_compressed(path: Path, ds: Any, ts: str, frames: int, rows: int, cols: int, samples: int,
                     bytes_per_sample: int) -> None:
    """Raise a typed error when the encapsulated pixel data cannot hold what the header declares,
    when the first frame's own header disagrees with it, or when decoding would need more memory
    than is available."""
    data = ds.get("PixelData")
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise TruncatedFile(path, "compressed pixel data is empty or truncated")
    n_fragments, first = _fragments(path, bytes(data))
    if frames > n_fragments:
        raise TruncatedFile(path, f"NumberOfFrames is {frames} but the compressed pixel data holds only "
                                  f"{n_fragments} fragment(s): the file is truncated or the header is wrong")
    decoded = frames * rows * cols * samples * bytes_per_sample
    what = f"{frames} frame(s) of {rows}x{cols}x{samples}"
    if decoded > RATIO_FREE_BYTES and decoded > MAX_COMPRESSION_RATIO * len(data):
        raise ImageTooLarge(path, f"{what} would be {decoded / len(data):.0f} times the {len(data)} bytes of "
                                  f"compressed data: the declared size is impossible; refused before allocating")
    ensure_allocatable(path, decoded, what)
    if ts in JPEG_UIDS:
        info = _jpeg_size(first)
    elif ts in J2K_UIDS:
        info = _j2k_size(first)
    elif ts == RLE_UID:
        # one RLE run of at most 128 equal bytes takes 2 bytes: nothing decodes past 64:1
        if decoded > 64 * len(data) + 4096:
            raise ImageTooLarge(path, f"{what} would be {decoded / len(data):.0f} times the {len(data)} bytes of "
                                      f"RLE data, which cannot compress more than 64:1: the declared size is "
                                      f"impossible; refused before allocating")
        segments = _rle_segments(first)
        if segments is not None and segments != samples * bytes_per_sample:
            raise PixelHeaderMismatch(path, f"RLE frame has {segments} segment(s) but SamplesPerPixel "
                                            f"{samples} with {8 * bytes_per_sample} bits allocated needs "
                                            f"{samples * bytes_per_sample}: the header is damaged")
        return
    else:
        return
    if info is None:
        raise PixelHeaderMismatch(path, "the first compressed frame has no readable frame header (SOF/SIZ); "
                                        "the pixel data is damaged or not in the declared compression")
    if info["height"] not in (0, rows) or info["width"] != cols:  # JPEG height 0 = set later by DNL
        raise PixelHeaderMismatch(path, f"the compressed frame is {info['height']}x{info['width']} but the "
                                        f"header says Rows {rows}, Columns {cols}: the header is damaged")
    if info["components"] != samples:
        raise PixelHeaderMismatch(path, f"the compressed frame has {info['components']} component(s) but the "
                                        f"header says SamplesPerPixel {samples}: the header is damaged")
