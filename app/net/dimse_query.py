"""C-ECHO and C-FIND (study and series level) against a DIMSE node."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date

from pydicom.dataset import Dataset
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind, Verification

from app.core.progress import Cancelled, CancelToken
from app.net.dimse_assoc import associate, lost, new_ae, status_text
from app.net.errors import RemoteError
from app.net.models import SeriesRecord, StudyQuery, StudyRecord
from app.net.nodes import DimseNode

_PENDING = (0xFF00, 0xFF01)


def echo(node: DimseNode) -> float:
    """Round-trip seconds of a C-ECHO (association included)."""
    ae = new_ae(node)
    ae.add_requested_context(Verification)
    t0 = time.monotonic()
    with associate(node, ae) as assoc:
        status = assoc.send_c_echo()
        if not status:
            raise lost(node, "C-ECHO")
        if status.Status != 0x0000:
            raise RemoteError(f"{node.name} answered C-ECHO with {status_text(status)}", node.name)
    return time.monotonic() - t0


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


def _c_find(node: DimseNode, identifier: Dataset, cancel: CancelToken | None) -> Iterator[Dataset]:
    ae = new_ae(node)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
    with associate(node, ae) as assoc:
        for status, found in assoc.send_c_find(identifier, StudyRootQueryRetrieveInformationModelFind):
            if cancel is not None and cancel.cancelled:
                assoc.abort()
                raise Cancelled("cancelled by the user")
            if not status:
                raise lost(node, "C-FIND")
            if status.Status in _PENDING and found is not None:
                yield found
            elif status.Status != 0x0000:
                raise RemoteError(f"{node.name} answered C-FIND with {status_text(status)}", node.name)


def find_studies(node: DimseNode, query: StudyQuery, cancel: CancelToken | None = None) -> list[StudyRecord]:
    return [study_record(ds) for ds in _c_find(node, study_identifier(query), cancel)]


def find_series(node: DimseNode, study_uid: str, cancel: CancelToken | None = None) -> list[SeriesRecord]:
    return [series_record(ds, study_uid) for ds in _c_find(node, series_identifier(study_uid), cancel)]


def study_sop_classes(node: DimseNode, study_uid: str, cancel: CancelToken | None = None) -> list[str]:
    """SOPClassesInStudy of one study, or [] when the PACS does not return it."""
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.StudyInstanceUID = study_uid
    ds.SOPClassesInStudy = ""
    classes: list[str] = []
    for found in _c_find(node, ds, cancel):
        value = found.get("SOPClassesInStudy") or []
        classes.extend(str(v) for v in ([value] if isinstance(value, str) else value) if str(v))
    return list(dict.fromkeys(classes))
