"""Decode compressed (encapsulated) pixel data safely.

Order: the frame check (frame_check.check_compressed), then pydicom's in-process plugins except
python-gdcm (pylibjpeg, pyjpegls, pillow, pydicom's RLE), then the abort-capable decoders in the
isolated worker: python-gdcm, then SimpleITK (GDCM), which also reads 12-bit lossy JPEG
(process 2/4) that the others refuse. Every failure message names what was tried and why it
failed; the install advice appears only when no decoder for the syntax is installed."""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from app.core.progress import Cancelled, CancelToken, check
from app.dicom.errors import TruncatedFile, UnsupportedTransferSyntax
from app.dicom.frame_check import J2K_UIDS, JPEG_UIDS, RLE_UID, check_compressed, check_photometric
from app.dicom.isolated import IsolatedFailure, decode_isolated
from app.dicom.transfer import decoder_hint, transfer_syntax_name

ISOLATED_ONLY = {"gdcm"}  # pydicom plugins that may abort the process: never run in-process
# Measured reason (issue 16): pylibjpeg, Pillow and GDCM all hold the GIL for a whole JPEG 2000
# decode: 90-120 ms for one 1840 x 1472 radiograph on the 2-core machine, during which the GUI
# thread cannot run (gaps of 100-350 ms while sample case 4 loaded). Single-frame JPEG 2000
# images of at least this many pixels are therefore decoded in the persistent decoder process
# (app.dicom.isolated) first, by the same plugins; any failure there falls back to the order
# above, whose messages are unchanged.
ISOLATED_FIRST_MIN_PIXELS = 1_000_000
ISOLATED_FIRST_SYNTAXES = J2K_UIDS
log = logging.getLogger(__name__)
GDCM_SYNTAXES = JPEG_UIDS | (J2K_UIDS - {"1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
                                          "1.2.840.10008.1.2.4.203"}) | {RLE_UID}


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    # pydicom's "raised by all available plugins" text: keep the per-plugin line
    body = [t.strip() for t in text if t.strip() and "all available plugins" not in t]
    return (" ".join(body) or type(exc).__name__)[:240]


def _module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _frame_by_frame(decoder: Any, ds: Any, name: str, frames: int, cancel: CancelToken | None) -> np.ndarray:
    """All frames, decoded one at a time so Cancel is honoured between frames."""
    out: np.ndarray | None = None
    for f, (frame, _) in enumerate(decoder.iter_array(ds, decoding_plugin=name)):
        check(cancel)
        if out is None:
            out = np.empty((frames, *frame.shape), dtype=frame.dtype)
        if f >= frames or frame.shape != out.shape[1:]:
            raise ValueError(f"frame {f + 1} is {frame.shape}, expected {out.shape[1:]} ({frames} frames)")
        out[f] = frame
    if out is None or f + 1 != frames:
        raise ValueError(f"{0 if out is None else f + 1} of {frames} frames decoded")
    return out


def _in_process(decoder: Any, ds: Any, plugins: list[str], frames: int, cancel: CancelToken | None,
                tried: list[str]) -> np.ndarray | None:
    for name in plugins:
        try:
            if frames > 1:
                return _frame_by_frame(decoder, ds, name, frames, cancel)
            arr, _ = decoder.as_array(ds, decoding_plugin=name)
            return np.asarray(arr)
        except Cancelled:
            raise
        except (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError):
            raise
        except BaseException as exc:
            tried.append(f"{name} ({_short(exc)})")
    return None


def _isolated(path: Path, ts: str, gdcm: bool, cancel: CancelToken | None, tried: list[str]) -> np.ndarray | None:
    methods = ["gdcm"] if gdcm else []
    if ts in GDCM_SYNTAXES:
        methods += (["gdcm-reader"] if _module_available("gdcm") else []) + \
                   (["simpleitk"] if _module_available("SimpleITK") else [])
    labels = {"gdcm": "python-gdcm", "gdcm-reader": "GDCM's image reader", "simpleitk": "SimpleITK (GDCM)"}
    for method in methods:
        check(cancel)
        label = labels[method]
        try:
            return decode_isolated(path, method, cancel)
        except IsolatedFailure as exc:
            tried.append(f"{label} in a separate process ({exc})")
    return None


def _isolated_first(path: Path, cancel: CancelToken | None) -> np.ndarray | None:
    """The in-process plugins, run in the decoder process (ISOLATED_FIRST_MIN_PIXELS); None on any
    failure there (the caller then decodes as usual and names the problems)."""
    if os.environ.get("ISTHMUS_DECODE_IN_PROCESS") == "1":
        return None
    try:
        return decode_isolated(path, "plugins", cancel)
    except IsolatedFailure as exc:
        log.info("decoding %s in the decoder process failed (%s); decoding here", path, exc)
        return None


def decode_compressed(path: Path, ds: Any, ts: str, shape: tuple[int, int, int, int, int],
                      cancel: CancelToken | None = None) -> np.ndarray:
    """Stored values of encapsulated pixel data. ``shape`` = (frames, rows, cols, samples,
    bytes per sample) from the validated header. Raises typed DicomLoadError subclasses."""
    frames, rows, cols, samples, nbytes = shape
    name = transfer_syntax_name(ts)
    from pydicom.pixels.decoders.base import get_decoder

    try:
        decoder = get_decoder(ts)
    except (NotImplementedError, ValueError):
        decoder = None
    if decoder is None:
        raise UnsupportedTransferSyntax(path, f"pixel data is compressed as {name}, which no installed decoder "
                                              f"reads; {decoder_hint(ts)}")
    check_photometric(path, str(ds.get("PhotometricInterpretation", "") or "").strip(), samples)
    check_compressed(path, ds, ts, frames, rows, cols, samples, nbytes)
    plugins = list(decoder.available_plugins)
    in_process = [p for p in plugins if p not in ISOLATED_ONLY]
    if frames == 1 and ts in ISOLATED_FIRST_SYNTAXES and rows * cols >= ISOLATED_FIRST_MIN_PIXELS and in_process:
        arr_first = _isolated_first(path, cancel)
        if arr_first is not None and arr_first.shape[:2] == (rows, cols):
            return arr_first
    tried: list[str] = []
    arr = _in_process(decoder, ds, in_process, frames, cancel, tried)
    if arr is None:
        arr = _isolated(path, ts, "gdcm" in plugins, cancel, tried)
    if arr is not None:
        return arr
    if not tried:
        raise UnsupportedTransferSyntax(path, f"pixel data is compressed as {name} and no decoder for it is "
                                              f"installed: {decoder_hint(ts)}")
    text = "; ".join(tried)
    if any(w in text.lower() for w in ("truncat", "premature end", "end of data", "unexpected end")):
        raise TruncatedFile(path, f"compressed pixel data ({name}) is truncated; tried: {text}")
    raise UnsupportedTransferSyntax(path, f"pixel data compressed as {name} could not be decoded; the data may "
                                          f"be damaged or use an unusual variant. Tried: {text}")
