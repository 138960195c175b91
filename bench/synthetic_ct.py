"""One synthetic axial CT slice as a DICOM file (for the load benchmarks; written with pydicom)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_ct_slice(path: Path, pixels: np.ndarray, *, study_uid: str, series_uid: str, instance_number: int,
                   z_mm: float, thickness_mm: float, description: str, patient: tuple[str, str],
                   bits_stored: int | None = None) -> None:
    """``pixels`` (rows, columns; int16 or uint16 stored values) at height ``z_mm``, 0.7 mm pixels,
    rescale intercept -1024 (HU), bone window."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    rows, cols = pixels.shape
    ds = Dataset()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.PatientID, ds.PatientName = patient
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
    ds.FrameOfReferenceUID = generate_uid(entropy_srcs=[study_uid, "frame of reference"])  # <= 64 chars
    ds.StudyDate = "20261129"
    ds.SeriesDescription = description
    ds.InstanceNumber = int(instance_number)
    ds.ImagePositionPatient = [-0.5 * cols * 0.7, -0.5 * rows * 0.7, float(z_mm)]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.7, 0.7]
    ds.SliceThickness = thickness_mm
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.WindowCenter, ds.WindowWidth = 400, 1800
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored or 16
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    ds.save_as(path, enforce_file_format=True)
