"""Isolated decoder process: decoders that can abort (python-gdcm, GDCM's reader, SimpleITK) run here,
and large single-frame JPEG 2000 images are decoded here first (``plugins``: the GIL stays with the GUI).

Protocol (one JSON object per line): the parent writes ``{"path", "method", "out"}`` on stdin;
the worker decodes, saves the array with ``numpy.save`` to ``out`` and answers ``{"ok": true}``
or ``{"ok": false, "error": "..."}`` on its protocol pipe (the original stdout; library chatter
on stdout is sent to stderr). A C++ abort kills only this process; the parent reports it as a
typed error for that file and starts a new worker for the next request.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def _decode_gdcm(path: str) -> Any:
    from pydicom.pixels.decoders.base import get_decoder

    from app.dicom.bounded_io import dcmread_bounded

    ds = dcmread_bounded(path, force=True)
    if "PhotometricInterpretation" not in ds and int(ds.get("SamplesPerPixel", 1) or 1) == 1:
        ds.PhotometricInterpretation = "MONOCHROME2"
    arr, _ = get_decoder(ds.file_meta.TransferSyntaxUID).as_array(ds, decoding_plugin="gdcm")
    return arr


def _decode_gdcm_reader(path: str) -> Any:
    """GDCM's own ImageReader (the library SimpleITK's DICOM reader wraps; python-gdcm ships it,
    so the bundle needs no SimpleITK): reads 12-bit lossy JPEG that pydicom's gdcm plugin refuses.
    Returns stored values (GDCM's reader applies no rescale); decoded greyscale only."""
    import gdcm
    import numpy as np

    reader = gdcm.ImageReader()
    reader.SetFileName(path)
    if not reader.Read():
        raise ValueError("GDCM's image reader could not read the file")
    image = reader.GetImage()
    pixel_format = image.GetPixelFormat()
    dtypes = {gdcm.PixelFormat.UINT8: np.uint8, gdcm.PixelFormat.INT8: np.int8,
              gdcm.PixelFormat.UINT12: np.uint16, gdcm.PixelFormat.INT12: np.int16,
              gdcm.PixelFormat.UINT16: np.uint16, gdcm.PixelFormat.INT16: np.int16,
              gdcm.PixelFormat.UINT32: np.uint32, gdcm.PixelFormat.INT32: np.int32}
    dtype = dtypes.get(pixel_format.GetScalarType())
    if dtype is None or pixel_format.GetSamplesPerPixel() != 1:
        raise ValueError(f"GDCM's image reader gave {pixel_format.GetScalarTypeAsString()} with "
                         f"{pixel_format.GetSamplesPerPixel()} samples; only greyscale is taken from it")
    dims = [image.GetDimension(i) for i in range(image.GetNumberOfDimensions())]
    frames = dims[2] if len(dims) > 2 else 1
    arr = np.frombuffer(image.GetBuffer().encode("utf-8", "surrogateescape"), dtype=dtype)
    if arr.size != frames * dims[1] * dims[0]:
        raise ValueError(f"GDCM decoded {arr.size} values for {frames} x {dims[1]} x {dims[0]}")
    arr = arr.reshape((frames, dims[1], dims[0]))
    return np.ascontiguousarray(arr[0] if frames == 1 else arr)


def _decode_simpleitk(path: str) -> Any:
    """SimpleITK's GDCM reader applies RescaleSlope/Intercept itself; that is undone here so the
    caller gets stored values like every other decoder (and applies the modality LUT once)."""
    import numpy as np
    import SimpleITK as sitk

    from app.dicom.bounded_io import dcmread_bounded

    reader = sitk.ImageFileReader()
    reader.SetImageIO("GDCMImageIO")
    reader.SetFileName(path)
    image = reader.Execute()
    arr = sitk.GetArrayFromImage(image)
    if image.GetDimension() == 3 and arr.shape[0] == 1:
        arr = arr[0]
    ds = dcmread_bounded(path, force=True, stop_before_pixels=True,
                         specific_tags=["RescaleSlope", "RescaleIntercept", "BitsAllocated", "PixelRepresentation"])
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    bits = int(ds.get("BitsAllocated", 16) or 16)
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    stored = np.dtype({8: "int8", 16: "int16", 32: "int32"}.get(bits, "int16") if signed else
                      {8: "uint8", 16: "uint16", 32: "uint32"}.get(bits, "uint16"))
    if slope != 1 or intercept != 0:
        arr = np.rint((arr.astype(np.float64) - intercept) / slope)
    if arr.dtype != stored and arr.ndim in (2, 3) and arr.dtype.kind in "uif":
        info = np.iinfo(stored)
        arr = np.clip(arr, info.min, info.max).astype(stored)
    return np.ascontiguousarray(arr)


def _decode_in_process_plugins(path: str) -> Any:
    """pydicom's non-aborting plugins (pylibjpeg, pyjpegls, pillow, RLE), as the parent would run
    them, here only so that the parent's GUI thread keeps the GIL (see decode.ISOLATED_FIRST_MIN_PIXELS)."""
    import numpy as np
    from pydicom.pixels.decoders.base import get_decoder

    from app.dicom.bounded_io import dcmread_bounded

    ds = dcmread_bounded(path, force=True)
    decoder = get_decoder(ds.file_meta.TransferSyntaxUID)
    problems = []
    for name in decoder.available_plugins:
        if name == "gdcm":
            continue
        try:
            arr, _ = decoder.as_array(ds, decoding_plugin=name)
            return np.asarray(arr)
        except Exception as exc:
            problems.append(f"{name}: {exc}")
    raise ValueError("; ".join(problems) or "no decoder")


METHODS = {"gdcm": _decode_gdcm, "gdcm-reader": _decode_gdcm_reader, "simpleitk": _decode_simpleitk,
           "plugins": _decode_in_process_plugins}


def serve() -> None:
    import numpy as np

    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol
    for line in sys.stdin:
        try:
            req = json.loads(line)
            arr = METHODS[req["method"]](req["path"])
            np.save(req["out"], np.asarray(arr), allow_pickle=False)
            answer: dict[str, object] = {"ok": True}
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
        proto.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    serve()
