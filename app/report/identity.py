"""Who and what a report is about, read only from the study's own DICOM headers."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class ReportError(Exception):
    """A report cannot be built or written: names the file or folder and the problem."""


@dataclass(frozen=True)
class StudyIdentity:
    patient_name: str = ""
    patient_id: str = ""
    birth_date: str = ""  # DICOM DA, YYYYMMDD
    sex: str = ""
    study_date: str = ""  # DICOM DA
    study_time: str = ""
    study_description: str = ""
    accession_number: str = ""
    study_instance_uid: str = ""
    study_id: str = ""
    referring_physician: str = ""
    institution: str = ""


def _text(ds: Any, keyword: str) -> str:
    value = ds.get(keyword, "")
    return "" if value is None else str(value).strip()


def identity_from_dataset(ds: Any) -> StudyIdentity:
    return StudyIdentity(
        patient_name=_text(ds, "PatientName"), patient_id=_text(ds, "PatientID"),
        birth_date=_text(ds, "PatientBirthDate"), sex=_text(ds, "PatientSex"),
        study_date=_text(ds, "StudyDate"), study_time=_text(ds, "StudyTime"),
        study_description=_text(ds, "StudyDescription"), accession_number=_text(ds, "AccessionNumber"),
        study_instance_uid=_text(ds, "StudyInstanceUID"), study_id=_text(ds, "StudyID"),
        referring_physician=_text(ds, "ReferringPhysicianName"), institution=_text(ds, "InstitutionName"))


def read_study(paths: str | os.PathLike | Iterable[str | os.PathLike],
               study_instance_uid: str = "") -> tuple[StudyIdentity, list[Any]]:
    """(identity, header-only datasets) of the study under ``paths``; ``study_instance_uid`` (the
    findings') picks the study when the folder holds several. ReportError naming the folder."""
    from app.findings.sr_export import SRExportError, read_study_headers

    try:
        headers = read_study_headers(paths, study_instance_uid)
    except SRExportError as exc:
        raise ReportError(str(exc).replace("for the SR evidence", "for the report")) from exc
    return identity_from_dataset(headers[0]), headers


def format_da(value: str) -> str:
    """DICOM DA 'YYYYMMDD' -> 'YYYY-MM-DD'; anything else as it is ('' stays unknown)."""
    v = value.strip()
    if len(v) == 8 and v.isdigit():
        return f"{v[:4]}-{v[4:6]}-{v[6:]}"
    return v


def format_pn(value: str) -> str:
    """DICOM PN 'Family^Given^Middle' -> 'Family, Given Middle'."""
    parts = [p.strip() for p in value.split("=")[0].split("^")]
    family, rest = parts[0], " ".join(p for p in parts[1:4] if p)
    return f"{family}, {rest}" if family and rest else family or rest
