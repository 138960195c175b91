"""A reduced-resolution first look at a large JPEG 2000 radiograph (issue 16: first image).

JPEG 2000 stores an image as resolution levels: 1/2, 1/4 ... of it decode without the finer
levels (about 6x faster for a 900 x 700 radiograph at 1/2). pylibjpeg-openjpeg decodes full
resolution only, so this uses Pillow's OpenJPEG decoder (``Image.reduce``), which returns the
samples scaled to 16 bits: they are shifted back to the codestream's precision and checked
(the low bits must be zero) so a decoder that scales otherwise is never used silently.

``reduced_preview(path)`` returns the image after the modality LUT (as ``load_preview``), or
None whenever this path does not apply (not JPEG 2000, several frames or components, signed
samples, precision other than Bits Stored, small image, no Pillow) or fails: the caller then
decodes at full resolution. The full series replaces the preview once it is loaded.
"""

from __future__ import annotations

import io
import logging
import struct
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

J2K_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
                          "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203"})
MAX_SIDE_PX = 512  # reduce until the longer side is at most this (a viewport cell at first sight)
MAX_REDUCE = 4


def reduction_for(rows: int, cols: int, max_side_px: int = MAX_SIDE_PX) -> int:
    """How many halvings bring the longer side to ``max_side_px`` or less (0: none needed)."""
    n = 0
    while max(rows, cols) >> n > max_side_px and n < MAX_REDUCE:
        n += 1
    return n


def codestream_precision(codestream: bytes) -> tuple[int, bool, int] | None:
    """(bits, signed, components) of a JPEG 2000 codestream's first component, from its SIZ
    marker; None when the bytes do not start with SOC + SIZ."""
    if len(codestream) < 43 or codestream[:4] != b"\xff\x4f\xff\x51":
        return None
    n_components = struct.unpack(">H", codestream[40:42])[0]
    ssiz = codestream[42]
    return (ssiz & 0x7F) + 1, bool(ssiz & 0x80), n_components


def reduced_preview(path: str | Path, max_side_px: int = MAX_SIDE_PX) -> np.ndarray | None:
    """The image at 1/2^n resolution after the modality LUT, or None (see the module docstring)."""
    try:
        return _reduced(Path(path), max_side_px)
    except Exception as exc:  # any problem: the full decode path names it properly
        log.debug("reduced preview of %s not used: %s", path, exc)
        return None


def _reduced(path: Path, max_side_px: int) -> np.ndarray | None:
    from pydicom.encaps import generate_frames

    from app.dicom.pixels import read_full
    from app.dicom.radiograph import modality_lut

    ds = read_full(path)  # the bounded reader of the full decode (damaged lengths, huge values)
    syntax = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", ""))
    if syntax not in J2K_SYNTAXES or int(ds.get("NumberOfFrames", 1) or 1) != 1:
        return None
    if int(ds.get("SamplesPerPixel", 1)) != 1 or int(ds.get("PixelRepresentation", 0)) != 0:
        return None
    n = reduction_for(int(ds.Rows), int(ds.Columns), max_side_px)
    if n == 0:
        return None
    codestream = next(generate_frames(ds.PixelData, number_of_frames=1))
    if codestream[:4] != b"\xff\x4f\xff\x51":  # a JP2 wrapper: find the codestream box
        at = codestream.find(b"\xff\x4f\xff\x51")
        codestream = codestream[at:] if at >= 0 else b""
    info = codestream_precision(codestream)
    bits_stored = int(ds.get("BitsStored", 0) or 0)
    if info is None or info[1] or info[2] != 1 or info[0] != bits_stored or not 1 <= info[0] <= 16:
        return None
    # The JPEG 2000 plugin's image class directly, not Image.open: open() first imports every
    # Pillow format plugin (Image.init: 53 ms of the first preview's 142 ms, cProfile, issue 16
    # first image); the class checks the codestream's SOC marker itself.
    from PIL.Jpeg2KImagePlugin import Jpeg2KImageFile

    with Jpeg2KImageFile(io.BytesIO(codestream)) as im:
        im.reduce = n  # Jpeg2KImageFile: resolution levels to drop
        im.load()
        arr = np.asarray(im)
    if arr.ndim != 2 or arr.dtype.kind != "u":
        return None
    shift = arr.dtype.itemsize * 8 - info[0]
    if shift:
        if np.any(arr & np.asarray((1 << shift) - 1, dtype=arr.dtype)):
            return None  # not a plain scaling to the container: not understood, not used
        arr = arr >> shift
    return modality_lut(arr, ds)
