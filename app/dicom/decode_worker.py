"""Isolated decoder process: decoders that can abort (python-gdcm, SimpleITK's GDCM) run here.

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


def _decode_simpleitk(path: str) -> Any:
    import numpy as np
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetImageIO("GDCMImageIO")
    reader.SetFileName(path)
    image = reader.Execute()
    arr = sitk.GetArrayFromImage(image)
    if image.GetDimension() == 3 and arr.shape[0] == 1:
        arr = arr[0]
    return np.ascontiguousarray(arr)


METHODS = {"gdcm": _decode_gdcm, "simpleitk": _decode_simpleitk}


def serve() -> None:
    import numpy as np

    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol
    for line in sys.stdin:
        try:
            req = json.loads(line)
            arr = METHODS[req["method"]](req["path"])
            np.save(req["out"], np.asarray(arr), allow_pickle=False)
            answer = {"ok": True}
        except BaseException as exc:  # noqa: BLE001 - every failure is reported, the worker lives on
            if isinstance(exc, KeyboardInterrupt):
                raise
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
        proto.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    serve()
