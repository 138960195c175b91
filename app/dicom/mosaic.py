"""Recognise Siemens mosaic images (many slices tiled into one 2-D image).

Isthmus refuses them with MosaicNotSupported rather than unpacking: the per-slice positions
need the CSA header's slice normal and slice count, and a wrong unpacking would put slices at
wrong positions. A refused mosaic is never shown as one ordinary slice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MOSAIC_MESSAGE = ("Siemens mosaic image (several slices tiled into one image, NumberOfImagesInMosaic / "
                  "ImageType MOSAIC): Isthmus does not unpack mosaics and will not show one as a single "
                  "slice; convert the series to ordinary slices (e.g. with the scanner or dcm2niix)")

_NUMBER_OF_IMAGES_IN_MOSAIC = 0x0019100A


def is_mosaic(ds: Any) -> bool:
    """True for ImageType containing MOSAIC, or a Siemens NumberOfImagesInMosaic above 1."""
    image_type = ds.get("ImageType") if hasattr(ds, "get") else None
    if image_type is not None:
        values = [image_type] if isinstance(image_type, (str, bytes)) else image_type
        try:
            if any(str(v).strip().upper() == "MOSAIC" for v in values):
                return True
        except TypeError:
            pass
    try:
        if _NUMBER_OF_IMAGES_IN_MOSAIC in ds:
            elem = ds[_NUMBER_OF_IMAGES_IN_MOSAIC]
            value = elem.value
            if isinstance(value, (bytes, bytearray)):
                value = int.from_bytes(bytes(value[:4]).ljust(2, b"\0")[:4], "little")
            return int(value) > 1
    except Exception:
        return False
    return False


_TAG_BYTES = b"\x19\x00\x0a\x10"  # (0019,100A) little endian
_HEAD_BYTES = 1 << 16


def file_is_mosaic(path: Path, header: Any) -> bool:
    """Mosaic check for a header that holds no private tags (the fast header): ImageType, then,
    for MR files whose first bytes hold tag (0019,100A), Siemens NumberOfImagesInMosaic."""
    if is_mosaic(header):
        return True
    if str(header.get("Modality", "") or "").upper() != "MR":
        return False
    raw = getattr(header, "pixel_raw", None)  # the fast header knows where the pixel data starts
    value_tell = getattr(raw, "value_tell", None)
    head = min(_HEAD_BYTES, int(value_tell)) if value_tell else _HEAD_BYTES
    try:
        with open(path, "rb") as f:
            if _TAG_BYTES not in f.read(head):
                return False
        from app.dicom.bounded_io import dcmread_bounded

        ds = dcmread_bounded(path, force=True, stop_before_pixels=True,
                             specific_tags=[0x00190010, _NUMBER_OF_IMAGES_IN_MOSAIC])
        return is_mosaic(ds)
    except Exception:
        return False
