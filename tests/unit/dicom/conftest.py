"""Synthetic DICOM factory for the DICOM core tests (written with pydicom to tmp_path)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
DX_STORAGE = "1.2.840.10008.5.1.4.1.1.1.1"
CR_STORAGE = "1.2.840.10008.5.1.4.1.1.1"
ENHANCED_CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2.1"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)

_counter = itertools.count(1)


def base_dataset(sop_class: str, modality: str, **attrs: Any) -> Dataset:
    ds = Dataset()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    sop = attrs.pop("SOPInstanceUID", None) or generate_uid()
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = attrs.pop("TransferSyntaxUID", ExplicitVRLittleEndian)
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop
    ds.Modality = modality
    ds.PatientID = attrs.pop("PatientID", "PAT1")
    ds.PatientName = attrs.pop("PatientName", "Test^Patient")
    ds.StudyInstanceUID = attrs.pop("StudyInstanceUID", "1.2.826.0.1.3680043.8.498.1")
    ds.SeriesInstanceUID = attrs.pop("SeriesInstanceUID", "1.2.826.0.1.3680043.8.498.2")
    ds.StudyDate = "20260101"
    for k, v in attrs.items():
        setattr(ds, k, v)
    return ds


def set_pixels(ds: Dataset, array: np.ndarray) -> None:
    arr = np.ascontiguousarray(array)
    ds.Rows, ds.Columns = int(arr.shape[-2]), int(arr.shape[-1])
    ds.SamplesPerPixel = 1
    if "PhotometricInterpretation" not in ds:
        ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = arr.dtype.itemsize * 8
    ds.HighBit = arr.dtype.itemsize * 8 - 1
    ds.PixelRepresentation = 1 if arr.dtype.kind == "i" else 0
    ds.PixelData = arr.tobytes()


def save(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def slice_pixels(k: int, rows: int, cols: int, dtype=np.int16) -> np.ndarray:
    """Distinct, recognisable pixels per slice: value = 100*k + row (fits int16)."""
    arr = np.zeros((rows, cols), dtype=dtype)
    arr[:] = (100 * k + np.arange(rows)[:, None] + 0 * np.arange(cols)[None, :]).astype(dtype)
    return arr


class SeriesWriter:
    """Writes single-frame CT/MR series. ``positions`` default to a regular stack along the normal."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def stack(self, n: int = 6, *, rows: int = 8, cols: int = 10, spacing=(0.8, 0.6), step_mm: float = 2.5,
              iop=AXIAL, origin=(-10.0, -20.0, 30.0), tilt_deg: float = 0.0, modality: str = "CT",
              positions: Sequence[Sequence[float]] | None = None, order: Sequence[int] | None = None,
              folder: str | None = None, series_uid: str | None = None, slope: float = 1.0,
              intercept: float = 0.0, dtype=np.int16, names: str = "sequential",
              per_slice: dict | None = None, **attrs: Any) -> tuple[list[Path], list[np.ndarray], np.ndarray]:
        """Returns (paths in writing order, pixel arrays per true slice k, positions (n, 3) per k)."""
        iop = np.asarray(iop, dtype=float)
        normal = np.cross(iop[:3], iop[3:])
        if positions is None:
            shift = np.tan(np.radians(tilt_deg)) * step_mm * iop[3:]  # tilt moves each slice along j
            positions = [np.asarray(origin) + k * step_mm * normal + k * shift for k in range(n)]
        positions = np.asarray(positions, dtype=float)
        n = len(positions)
        folder_path = self.root / (folder or f"series{next(_counter)}")
        series_uid = series_uid or generate_uid()
        pixels = [slice_pixels(k, rows, cols, dtype) for k in range(n)]
        paths = []
        write_order = list(order) if order is not None else list(range(n))
        sop_class = {"CT": CT_STORAGE, "MR": MR_STORAGE}.get(modality, CT_STORAGE)
        for w, k in enumerate(write_order):
            ds = base_dataset(sop_class, modality, SeriesInstanceUID=series_uid, **attrs)
            ds.FrameOfReferenceUID = "1.2.826.0.1.3680043.8.498.3"
            ds.InstanceNumber = w + 1  # deliberately NOT the spatial order when order is shuffled
            ds.ImagePositionPatient = [float(v) for v in positions[k]]
            ds.ImageOrientationPatient = [float(v) for v in iop]
            ds.PixelSpacing = [spacing[0], spacing[1]]
            ds.SliceThickness = step_mm
            if slope != 1.0 or intercept != 0.0 or modality == "CT":
                ds.RescaleSlope = slope
                ds.RescaleIntercept = intercept
            for key, values in (per_slice or {}).items():
                setattr(ds, key, values[k])
            set_pixels(ds, pixels[k])
            name = f"IMG{w:04d}" if names == "sequential" else f"{names}{w}.dcm"
            paths.append(save(ds, folder_path / name))
        return paths, pixels, positions


@pytest.fixture
def writer(tmp_path: Path) -> SeriesWriter:
    return SeriesWriter(tmp_path)


def radiograph_dataset(modality: str = "DX", *, view_position: str = "", description: str = "",
                       pixel_spacing=None, imager_spacing=None, ermf=None, photometric="MONOCHROME2",
                       view_code=None, laterality: str = "", rows: int = 12, cols: int = 10,
                       **attrs: Any) -> Dataset:
    ds = base_dataset(DX_STORAGE if modality == "DX" else CR_STORAGE, modality, **attrs)
    if view_position:
        ds.ViewPosition = view_position
    if description:
        ds.SeriesDescription = description
    if pixel_spacing is not None:
        ds.PixelSpacing = list(pixel_spacing)
    if imager_spacing is not None:
        ds.ImagerPixelSpacing = list(imager_spacing)
    if ermf is not None:
        ds.EstimatedRadiographicMagnificationFactor = ermf
    if laterality:
        ds.ImageLaterality = laterality
    if view_code is not None:
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = view_code
        ds.ViewCodeSequence = DicomSequence([item])
    ds.PhotometricInterpretation = photometric
    ds.PatientOrientation = ["L", "F"]
    set_pixels(ds, (np.arange(rows * cols).reshape(rows, cols) % 4000).astype(np.uint16))
    return ds


def peak_alloc_bytes(fn) -> int:
    """Peak Python allocation (tracemalloc, numpy arrays included) while ``fn()`` runs."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak
