"""Load projection radiographs (CR/DX, and 2D images of other modalities) as Radiograph."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from app.core.progress import Cancelled, CancelToken, ProgressFn, report
from app.dicom import classify
from app.dicom.calibration import radiograph_calibration
from app.dicom.errors import DicomLoadError, InconsistentSeries
from app.dicom.model import Radiograph, RadiographView, SeriesEntry, VoiLut
from app.dicom.pixels import bit_layout_note, decode_pixels, read_full, to_gray


def _float(value: Any) -> float | None:
    try:
        if hasattr(value, "__len__") and not isinstance(value, (str, bytes)):
            value = value[0]
        return float(value)
    except (TypeError, ValueError, IndexError):
        return None


def window_of(ds: Any) -> tuple[float, float] | None:
    c, w = _float(ds.get("WindowCenter")), _float(ds.get("WindowWidth"))
    if c is None or w is None or w <= 0:
        return None
    return (c, w)


def voi_lut_of(ds: Any) -> VoiLut | None:
    seq = ds.get("VOILUTSequence")
    if not seq:
        return None
    item = seq[0]
    try:
        desc = [int(v) for v in item.LUTDescriptor]
        data = item.get("LUTData")
        if data is None:
            return None
        if isinstance(data, (bytes, bytearray)):
            table = np.frombuffer(data, dtype=np.uint16 if desc[2] > 8 else np.uint8).copy()
        else:
            table = np.asarray(data if hasattr(data, "__len__") else [data], dtype=np.int64)
        first = desc[1]
        if first > 32767 and int(ds.get("PixelRepresentation", 0) or 0) == 1:
            first -= 65536
        return VoiLut(first_mapped=first, bits=desc[2], table=table,
                      explanation=str(item.get("LUTExplanation", "") or ""))
    except Exception:
        return None


def modality_lut(arr: np.ndarray, ds: Any) -> np.ndarray:
    """Stored values -> modality values, integer types kept when the values fit."""
    if "ModalityLUTSequence" in ds:
        from pydicom.pixels.processing import apply_modality_lut

        out = apply_modality_lut(arr, ds)
        return out.astype(np.int32) if np.all(out == np.rint(out)) else out.astype(np.float32)
    slope = _float(ds.get("RescaleSlope"))
    intercept = _float(ds.get("RescaleIntercept"))
    slope = 1.0 if slope is None else slope
    intercept = 0.0 if intercept is None else intercept
    if arr.dtype.kind == "f":
        return (arr.astype(np.float32) * np.float32(slope) + np.float32(intercept)).astype(np.float32)
    if slope == 1 and intercept == 0:
        return arr
    if slope == int(slope) and intercept == int(intercept):
        out = arr.astype(np.int64) * int(slope) + int(intercept)
        lo, hi = (int(out.min()), int(out.max())) if out.size else (0, 0)
        for dt in (np.int16, np.uint16, np.int32):
            if lo >= np.iinfo(dt).min and hi <= np.iinfo(dt).max:
                return out.astype(dt)
        return out.astype(np.float32)
    return (arr.astype(np.float32) * np.float32(slope) + np.float32(intercept)).astype(np.float32)


def _orientation(ds: Any) -> tuple[str, str]:
    po = ds.get("PatientOrientation")
    try:
        if po and len(po) >= 2:
            return (str(po[0]), str(po[1]))
    except TypeError:
        pass
    return ("", "")


def radiographs_from_file(path: Path, entry: SeriesEntry) -> list[Radiograph]:
    """The image(s) of one file. Any failure, including damaged header values that pydicom only
    notices when they are used, becomes a DicomLoadError naming the file."""
    try:
        return _radiographs_from_file(path, entry)
    except DicomLoadError:
        raise
    except Exception as exc:
        raise DicomLoadError(path, f"damaged header or pixel values ({type(exc).__name__}: {exc})") from exc


def _radiographs_from_file(path: Path, entry: SeriesEntry) -> list[Radiograph]:
    ds = read_full(path)
    photometric = str(ds.get("PhotometricInterpretation", "") or "MONOCHROME2").strip()
    arr = to_gray(decode_pixels(path, ds), photometric)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    images = [arr[i] for i in range(arr.shape[0])] if frames > 1 and arr.ndim == 3 else [arr]
    warnings: list[str] = [n for n in (bit_layout_note(ds),) if n]
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        warnings.append(f"colour image ({photometric}) shown as grey levels")
        photometric = "MONOCHROME2"
    cal = radiograph_calibration(ds)
    view = classify.radiograph_view(ds) if entry.kind == "radiograph" else RadiographView.UNKNOWN
    out = []
    for i, img in enumerate(images):
        out.append(Radiograph(
            array=modality_lut(np.asarray(img), ds), photometric=photometric, calibration=cal, view=view,
            modality=entry.modality, series_instance_uid=entry.series_instance_uid,
            sop_instance_uid=str(ds.get("SOPInstanceUID", "") or "") + (f"#frame{i + 1}" if len(images) > 1 else ""),
            window_center_width=window_of(ds), voi_lut=voi_lut_of(ds),
            image_laterality=str(ds.get("ImageLaterality", "") or ds.get("Laterality", "") or ""),
            patient_orientation=_orientation(ds),
            description=entry.description, warnings=list(warnings)))
    return out


def load_radiographs(entry: SeriesEntry, progress: ProgressFn | None = None,
                     cancel: CancelToken | None = None) -> list[Radiograph]:
    paths = [h.path for h in sorted(entry.instances, key=lambda h: (h.instance_number is None,
                                                                     h.instance_number or 0, str(h.path)))]
    out: list[Radiograph] = []
    errors: list[DicomLoadError] = []
    skipped_notes: list[str] = []
    report(progress, 0, len(paths))
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(radiographs_from_file, p, entry) for p in paths]
        for n, (p, fut) in enumerate(zip(paths, futures, strict=True), start=1):
            if cancel is not None and cancel.cancelled:
                for f in futures:
                    f.cancel()
                raise Cancelled("cancelled by the user")
            try:
                out.extend(fut.result())
            except DicomLoadError as exc:
                errors.append(exc)
                skipped_notes.append(f"skipped {p.name}: {exc.message}")
            report(progress, n, len(paths))
    if not out:
        if errors:
            raise errors[0]
        raise InconsistentSeries(paths[0] if paths else None, f"series {entry.key} has no loadable image")
    if skipped_notes:
        out[0].warnings.extend(skipped_notes)
    return out
