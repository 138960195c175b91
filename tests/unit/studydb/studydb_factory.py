"""Synthetic studies for the study-database tests: tiny CT/MR images written with pydicom."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
_CLASS = {"CT": CT_STORAGE, "MR": MR_STORAGE}


def image(study_uid: str, series_uid: str, number: int, modality: str = "CT", **attrs: object) -> Dataset:
    ds = Dataset()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = _CLASS[modality]
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "PID-1"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "F"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyDate = "20260105"
    ds.StudyTime = "101500"
    ds.StudyDescription = "Lumbar spine"
    ds.AccessionNumber = "ACC1"
    ds.SeriesNumber = 1
    ds.SeriesDescription = f"{modality} series"
    ds.InstanceNumber = number
    ds.ImagePositionPatient = [0.0, 0.0, float(number)]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [1.0, 1.0]
    ds.SliceThickness = 1.0
    ds.FrameOfReferenceUID = generate_uid()
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.Rows, ds.Columns = 2, 2
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.PixelData = np.zeros((2, 2), np.int16).tobytes()
    return ds


def write_study(folder: Path, n: int = 3, modality: str = "CT", study_uid: str | None = None,
                series: int = 1, **attrs: object) -> tuple[str, list[Path]]:
    """``series`` series of ``n`` images each in ``folder``; returns (study UID, files)."""
    study_uid = study_uid or generate_uid()
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for s in range(series):
        series_uid = generate_uid()
        for i in range(n):
            ds = image(study_uid, series_uid, i + 1, modality, SeriesNumber=s + 1, **attrs)
            path = folder / f"s{s + 1}_{i + 1:03d}.dcm"
            ds.save_as(path, enforce_file_format=True)
            files.append(path)
    return study_uid, files
