"""A tiny synthetic CT series (and a DX image) written with pydicom, as SR evidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from findings_factories import SERIES_UID, SOP_UID, STUDY_UID
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import CTImageStorage, DigitalXRayImageStorageForPresentation, ExplicitVRLittleEndian, generate_uid


def _base(sop_class: str, sop_uid: str, study_uid: str, series_uid: str, modality: str) -> FileDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.Modality = modality
    ds.PatientName = "Synthetic^Patient"
    ds.PatientID = "SYN-0001"
    ds.PatientBirthDate = "20100101"
    ds.PatientSex = "M"
    ds.StudyDate = "20261121"
    ds.StudyTime = "101500"
    ds.StudyID = "1"
    ds.AccessionNumber = "ACC1"
    ds.ReferringPhysicianName = ""
    ds.SeriesNumber = 2
    ds.Manufacturer = "Synthetic"
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = np.zeros((8, 8), dtype=np.uint16).tobytes()
    return ds


def write_ct_study(folder: Path, n_slices: int = 3, study_uid: str = STUDY_UID, series_uid: str = SERIES_UID,
                   first_sop_uid: str = SOP_UID) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n_slices):
        sop = first_sop_uid if k == 0 else generate_uid()
        ds = _base(CTImageStorage, sop, study_uid, series_uid, "CT")
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [0.0, 0.0, float(k)]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [0.5, 0.5]
        ds.SliceThickness = 1.0
        ds.FrameOfReferenceUID = "1.2.826.0.1.3680043.8.498.4"
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
        path = folder / f"ct{k:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def write_dx_image(folder: Path, study_uid: str = STUDY_UID) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ds = _base(DigitalXRayImageStorageForPresentation, generate_uid(), study_uid, generate_uid(), "DX")
    ds.InstanceNumber = 1
    path = folder / "dx.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path
