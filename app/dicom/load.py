"""Public loading entry points: load_series and load_preview."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.core.progress import CancelToken, ProgressFn, check
from app.dicom.errors import DicomLoadError, InconsistentSeries, MosaicNotSupported
from app.dicom.grouping import sorted_along_normal
from app.dicom.model import InstanceHeader, Radiograph, SeriesEntry, Volume
from app.dicom.mosaic import MOSAIC_MESSAGE, file_is_mosaic
from app.dicom.pixels import (
    decode_pixels,
    fast_path_ok,
    frame_shape,
    load_header_of,
    read_full,
    read_raw_into,
    stored_dtype,
    to_gray,
)
from app.dicom.radiograph import load_radiographs, modality_lut

_PREVIEW_CANDIDATES = 8  # files tried before the preview gives up


def _other_is_volume(entry: SeriesEntry) -> bool:
    hs = entry.instances
    if len(hs) == 1 and hs[0].number_of_frames > 1:
        return hs[0].image_position_lps is not None and hs[0].image_orientation is not None
    return len(hs) > 1 and all(h.image_position_lps is not None and h.image_orientation is not None for h in hs)


def load_series(entry: SeriesEntry, progress: ProgressFn | None = None,
                cancel: CancelToken | None = None) -> Volume | list[Radiograph]:
    """Volume for kind "volume" (and other modalities with stack geometry), list of Radiograph
    for kind "radiograph" (and other 2D images). Raises a DicomLoadError subclass when nothing
    of the series can be loaded; bad files inside a series only add warnings."""
    check(cancel)
    if not entry.instances:
        raise InconsistentSeries(None, f"series {entry.key} has no images")
    from app.dicom.volume import build_volume

    if entry.kind == "volume":
        return build_volume(entry, progress, cancel)
    if entry.kind == "radiograph":
        return load_radiographs(entry, progress, cancel)
    if _other_is_volume(entry):
        return build_volume(entry, progress, cancel)
    return load_radiographs(entry, progress, cancel)


def _middle_instance(entry: SeriesEntry):
    hs = sorted_along_normal(entry.instances) or entry.instances
    return hs[len(hs) // 2]


def _middle_frame_index(frames: Sequence[int], n_frames: int) -> int:
    """0-based index of the middle of this stack's frames (1-based ``frames``; empty = all)."""
    if not frames:
        return n_frames // 2
    return min(max(frames[len(frames) // 2], 1), n_frames) - 1


def _fast_preview(instance: InstanceHeader) -> np.ndarray | None:
    """The middle frame (of this stack's frames) read straight from the file, exactly as
    load_series reads it (None when the file needs a decoder)."""
    path, frames = instance.path, tuple(instance.frame_numbers or ())
    header = load_header_of(instance)
    if file_is_mosaic(path, header):
        raise MosaicNotSupported(path, MOSAIC_MESSAGE)
    if not fast_path_ok(header) or "ModalityLUTSequence" in header:
        return None
    n_frames, rows, cols = frame_shape(header)
    out = np.empty((rows, cols), dtype=stored_dtype(header))
    read_raw_into(path, header, out, _middle_frame_index(frames, n_frames))
    return modality_lut(out, header)


def _decoded_preview(instance: InstanceHeader) -> np.ndarray:
    path, frames = instance.path, tuple(instance.frame_numbers or ())
    ds = read_full(path)
    arr = to_gray(decode_pixels(path, ds), str(ds.get("PhotometricInterpretation", "")))
    if arr.ndim == 3:  # multi-frame: the middle frame of this stack's frames
        arr = arr[_middle_frame_index(frames, arr.shape[0])]
    return modality_lut(arr, ds)


def load_preview(entry: SeriesEntry) -> np.ndarray:
    """2D image (after the modality LUT) of the middle image of a volume, the first of a
    radiograph series: one file is read (uncompressed data straight from the file, as
    load_series reads it). Raises DicomLoadError subclasses; a bad file falls back to the
    next one, so a series that loads has a preview."""
    if not entry.instances:
        raise InconsistentSeries(None, f"series {entry.key} has no images")
    h = _middle_instance(entry) if entry.kind != "radiograph" else entry.instances[0]
    candidates = [h] + [x for x in entry.instances if x is not h]
    first_error: DicomLoadError | None = None
    for cand in candidates[:_PREVIEW_CANDIDATES]:
        for read in (_fast_preview, _decoded_preview):
            try:
                arr = read(cand)
                if arr is not None:
                    return arr
            except MosaicNotSupported:
                raise
            except DicomLoadError as exc:
                first_error = first_error or exc
            except Exception as exc:
                first_error = first_error or DicomLoadError(
                    cand.path, f"damaged header or pixel values ({type(exc).__name__}: {exc})")
    raise first_error  # type: ignore[misc]
