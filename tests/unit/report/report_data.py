"""Report test data: the case-04 reference read and a one-image synthetic study written with
pydicom that carries the case's identity (the study is the only source of the header)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import DigitalXRayImageStorageForPresentation, ExplicitVRLittleEndian, generate_uid

from app.findings import model as fm
from app.pathway import evaluate, load_ruleset
from app.samples.cases import case_by_number
from app.samples.generate import reference_read


def case04_findings() -> fm.StudyFindings:
    return reference_read(case_by_number(4))


def write_study(folder: Path, study_uid: str, patient_name: str = "TRAINING^CASE04",
                study_description: str = "LUMBAR SPINE") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    meta = FileMetaDataset()
    sop = generate_uid()
    meta.MediaStorageSOPClassUID = DigitalXRayImageStorageForPresentation
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID, ds.SOPInstanceUID = DigitalXRayImageStorageForPresentation, sop
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, generate_uid()
    ds.Modality = "DX"
    ds.PatientName = patient_name
    ds.PatientID = "SYN-REPORT-04"
    ds.PatientBirthDate = "19850601"
    ds.PatientSex = "F"
    ds.StudyDate, ds.StudyTime = "20240315", "101500"
    ds.StudyDescription = study_description
    ds.StudyID, ds.AccessionNumber, ds.ReferringPhysicianName = "1", "ACC04", ""
    ds.SeriesNumber, ds.InstanceNumber = 1, 1
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = np.zeros((8, 8), dtype=np.uint16).tobytes()
    path = folder / "dx.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def case04_result(findings: fm.StudyFindings):
    return evaluate(findings, load_ruleset())


def with_impression(findings: fm.StudyFindings, text: str) -> fm.StudyFindings:
    return replace(findings, impression=text)
