"""A report PDF as a DICOM Encapsulated PDF instance in the source study (pydicom).

Patient and study attributes are copied from the study's own images, so PACS files the report
with them; a new series (Modality DOC) holds it."""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app import __version__
from app.report.identity import ReportError

REPORT_SERIES_NUMBER = 9100
DOCUMENT_TITLE = "Lumbar spine review - clinic report"
_PATIENT_STUDY = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
                  "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber", "StudyDescription",
                  "IssuerOfPatientID", "PatientAge", "SpecificCharacterSet")
_TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
          "ReferringPhysicianName", "StudyID", "AccessionNumber")


def encapsulate_pdf(pdf: bytes, study_headers: Sequence[Any], path: str | os.PathLike,
                    now: _dt.datetime | None = None) -> Path:
    """Write ``pdf`` as an Encapsulated PDF Storage instance of the study ``study_headers`` come from."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import EncapsulatedPDFStorage, ExplicitVRLittleEndian, generate_uid

    if not pdf.startswith(b"%PDF"):
        raise ReportError(f"{path}: the report to encapsulate is not a PDF")
    if not study_headers:
        raise ReportError(f"{path}: no source images, so the report cannot be placed in their study")
    src = study_headers[0]
    now = now or _dt.datetime.now()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = EncapsulatedPDFStorage
    sop_uid = generate_uid()
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    for kw in _PATIENT_STUDY:
        if kw in src:
            setattr(ds, kw, src[kw].value)
    for kw in _TYPE2:
        if kw not in ds:
            setattr(ds, kw, "")
    ds.SOPClassUID = EncapsulatedPDFStorage
    ds.SOPInstanceUID = sop_uid
    ds.Modality = "DOC"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = REPORT_SERIES_NUMBER
    ds.SeriesDescription = "Isthmus clinic report"
    ds.Manufacturer = "Isthmus"
    ds.SoftwareVersions = __version__
    ds.ConversionType = "WSD"
    ds.InstanceNumber = 1
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
    ds.InstanceCreationDate = ds.ContentDate
    ds.InstanceCreationTime = ds.ContentTime
    ds.AcquisitionDateTime = now.strftime("%Y%m%d%H%M%S")
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = DOCUMENT_TITLE
    ds.ConceptNameCodeSequence = []
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    data = pdf if len(pdf) % 2 == 0 else pdf + b"\0"
    ds.EncapsulatedDocument = data
    ds.EncapsulatedDocumentLength = len(pdf)
    out = Path(path)
    try:
        ds.save_as(out, enforce_file_format=True)
    except TypeError:  # pydicom < 3
        ds.save_as(out, write_like_original=False)
    except OSError as exc:
        raise ReportError(f"{out}: cannot write the report ({exc})") from exc
    return out
