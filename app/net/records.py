"""DICOM identifiers for study and series queries, and records from the answers (DIMSE and QIDO alike)."""

from __future__ import annotations

from datetime import date

from pydicom.dataset import Dataset

from app.net.models import SeriesRecord, StudyQuery, StudyRecord


def date_range(date_from: date | None, date_to: date | None) -> str:
    if date_from is None and date_to is None:
        return ""
    lo = date_from.strftime("%Y%m%d") if date_from else ""
    hi = date_to.strftime("%Y%m%d") if date_to else ""
    return lo if lo == hi else f"{lo}-{hi}"


def study_identifier(query: StudyQuery) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.StudyInstanceUID = ""
    ds.PatientName = query.patient_name
    ds.PatientID = query.patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyDate = date_range(query.date_from, query.date_to)
    ds.StudyTime = ""
    ds.StudyDescription = query.description
    ds.AccessionNumber = query.accession
    ds.ModalitiesInStudy = query.modality
    ds.NumberOfStudyRelatedSeries = None
    ds.NumberOfStudyRelatedInstances = None
    return ds


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    return "" if value is None else str(value)


def study_record(ds: Dataset) -> StudyRecord:
    mods = ds.get("ModalitiesInStudy", "") or ""
    modalities = tuple(str(m) for m in (mods if not isinstance(mods, str) else [mods]) if str(m))
    return StudyRecord(
        study_uid=_text(ds, "StudyInstanceUID"), patient_name=_text(ds, "PatientName"),
        patient_id=_text(ds, "PatientID"), birth_date=_text(ds, "PatientBirthDate"), sex=_text(ds, "PatientSex"),
        study_date=_text(ds, "StudyDate"), study_time=_text(ds, "StudyTime"),
        description=_text(ds, "StudyDescription"), accession=_text(ds, "AccessionNumber"), modalities=modalities,
        n_series=_int_or_none(ds.get("NumberOfStudyRelatedSeries")),
        n_instances=_int_or_none(ds.get("NumberOfStudyRelatedInstances")))


def series_identifier(study_uid: str) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "SERIES"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = ""
    ds.Modality = ""
    ds.SeriesNumber = None
    ds.SeriesDescription = ""
    ds.NumberOfSeriesRelatedInstances = None
    return ds


def series_record(ds: Dataset, study_uid: str) -> SeriesRecord:
    return SeriesRecord(series_uid=_text(ds, "SeriesInstanceUID"), study_uid=_text(ds, "StudyInstanceUID") or study_uid,
                        modality=_text(ds, "Modality"), number=_int_or_none(ds.get("SeriesNumber")),
                        description=_text(ds, "SeriesDescription"),
                        n_instances=_int_or_none(ds.get("NumberOfSeriesRelatedInstances")))
