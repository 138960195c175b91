"""Non-image objects (SR, key objects, presentation states...) that the image scan skips: their
identity is read here so the database lists them with their study, and Isthmus's own findings
SRs are recognised.

An Isthmus findings SR is a Comprehensive 3D SR (or Enhanced SR) following TID 1500 that either
names Isthmus as manufacturer or declares Isthmus's private coding scheme (99ISTHMUS), as
app.findings.sr_export writes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.dicom.bounded_io import open_bounded

COMPREHENSIVE_3D_SR = "1.2.840.10008.5.1.4.1.1.88.34"
ENHANCED_SR = "1.2.840.10008.5.1.4.1.1.88.22"
ISTHMUS_MANUFACTURER = "Isthmus project"  # sr_export's default manufacturer
ISTHMUS_SCHEME = "99ISTHMUS"  # app.findings.sr_codes.PRIVATE_SCHEME
MEASUREMENT_REPORT_TEMPLATE = "1500"

_TAGS = ["SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "Modality", "PatientName",
         "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime", "StudyDescription",
         "AccessionNumber", "SeriesDescription", "SeriesNumber", "InstanceNumber", "Manufacturer",
         "CodingSchemeIdentificationSequence", "ContentTemplateSequence", "SpecificCharacterSet"]


@dataclass(frozen=True)
class ObjectHeader:
    """Identity of one non-image object."""

    path: Path
    sop_uid: str
    sop_class: str
    study_uid: str
    series_uid: str
    modality: str
    series_number: int | None
    series_description: str
    instance_number: int | None
    patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    study_date: str
    study_time: str
    study_description: str
    accession: str
    isthmus_sr: bool


def _text(ds: Any, keyword: str) -> str:
    try:
        value = ds.get(keyword, "")
    except Exception:
        return ""
    return "" if value is None else str(value).strip()


def _int(ds: Any, keyword: str) -> int | None:
    try:
        return int(ds.get(keyword))
    except (TypeError, ValueError):
        return None


def is_isthmus_sr(ds: Any) -> bool:
    """True for a findings SR written by Isthmus (see the module docstring)."""
    if _text(ds, "SOPClassUID") not in (COMPREHENSIVE_3D_SR, ENHANCED_SR):
        return False
    try:
        templates = [_text(item, "TemplateIdentifier") for item in ds.get("ContentTemplateSequence") or []]
        schemes = [_text(item, "CodingSchemeDesignator") for item in ds.get("CodingSchemeIdentificationSequence") or []]
    except Exception:
        return False
    if templates and MEASUREMENT_REPORT_TEMPLATE not in templates:
        return False
    return _text(ds, "Manufacturer") == ISTHMUS_MANUFACTURER or ISTHMUS_SCHEME in schemes


def read_object_header(path: Path) -> ObjectHeader | None:
    """The identity of a non-image DICOM object, or None when it has no SOP, study or series UID
    or cannot be read (the caller keeps the scanner's reason)."""
    from pydicom import dcmread

    try:
        with open_bounded(path) as fh:
            ds = dcmread(fh, stop_before_pixels=True, force=True, specific_tags=_TAGS)
        sop, study, series = _text(ds, "SOPInstanceUID"), _text(ds, "StudyInstanceUID"), _text(ds, "SeriesInstanceUID")
        if not (sop and study and series):
            return None
        return ObjectHeader(
            path=path, sop_uid=sop, sop_class=_text(ds, "SOPClassUID"), study_uid=study, series_uid=series,
            modality=_text(ds, "Modality"), series_number=_int(ds, "SeriesNumber"),
            series_description=_text(ds, "SeriesDescription"), instance_number=_int(ds, "InstanceNumber"),
            patient_id=_text(ds, "PatientID"), patient_name=_text(ds, "PatientName"),
            birth_date=_text(ds, "PatientBirthDate"), sex=_text(ds, "PatientSex"), study_date=_text(ds, "StudyDate"),
            study_time=_text(ds, "StudyTime"), study_description=_text(ds, "StudyDescription"),
            accession=_text(ds, "AccessionNumber"), isthmus_sr=is_isthmus_sr(ds))
    except Exception:
        return None
