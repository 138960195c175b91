"""Turn what the scanner found into flat instance records for the database (pure, no SQL).

Images come from app.dicom's scan (patients -> studies -> series -> instances, DICOMDIR files
followed); the non-image objects the scan skips are read by app.studydb.objects, so SRs and
other objects are listed with their study (and Isthmus's findings SRs are counted)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from app.core.progress import CancelToken, check
from app.dicom.model import ScanResult, SkippedFile
from app.studydb.objects import read_object_header

NO_PATIENT_ID = "(no patient ID)"  # the scanner's label for a missing Patient ID


@dataclass(frozen=True)
class InstanceRecord:
    path: str  # absolute
    sop_uid: str
    sop_class: str
    instance_number: int | None
    is_image: bool
    isthmus_sr: bool
    series_uid: str
    modality: str
    series_number: int | None
    series_description: str
    study_uid: str
    study_date: str
    study_time: str
    study_description: str
    accession: str
    patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    managed: bool = False

    def moved_to(self, path: Path) -> InstanceRecord:
        return replace(self, path=str(path), managed=True)


def image_records(result: ScanResult) -> list[InstanceRecord]:
    out: list[InstanceRecord] = []
    for patient in result.patients:
        for study in patient.studies:
            for series in study.series:
                for h in series.instances:
                    out.append(InstanceRecord(
                        path=os.path.abspath(h.path), sop_uid=h.sop_instance_uid, sop_class=h.sop_class_uid,
                        instance_number=h.instance_number, is_image=True, isthmus_sr=False,
                        series_uid=series.series_instance_uid, modality=series.modality_code or series.modality.value,
                        series_number=series.series_number, series_description=series.description,
                        study_uid=study.study_instance_uid, study_date=study.study_date, study_time="",
                        study_description=study.description, accession=study.accession_number,
                        patient_id=patient.patient_id, patient_name=patient.patient_name,
                        birth_date=patient.birth_date, sex=patient.sex))
    return _unique_by_path(out)


def _unique_by_path(records: list[InstanceRecord]) -> list[InstanceRecord]:
    """One record per file (a multi-frame object split into several stacks appears once)."""
    seen: dict[str, InstanceRecord] = {}
    for r in records:
        seen.setdefault(r.path, r)
    return list(seen.values())


def is_directory_skip(skip: SkippedFile) -> bool:
    return skip.reason.startswith("DICOMDIR")


def object_records(skipped: Iterable[SkippedFile],
                   cancel: CancelToken | None = None) -> tuple[list[InstanceRecord], list[SkippedFile]]:
    """Records of the non-image objects among the scan's skips, and the skips still unindexed."""
    records: list[InstanceRecord] = []
    left: list[SkippedFile] = []
    skipped = list(skipped)
    candidates = [s for s in skipped if s.category == "non-image" and not is_directory_skip(s)]
    for n, skip in enumerate(candidates):
        if n % 64 == 0:
            check(cancel)
        h = read_object_header(Path(skip.path))
        if h is None:
            left.append(skip)
            continue
        records.append(InstanceRecord(
            path=os.path.abspath(h.path), sop_uid=h.sop_uid, sop_class=h.sop_class, instance_number=h.instance_number,
            is_image=False, isthmus_sr=h.isthmus_sr, series_uid=h.series_uid, modality=h.modality,
            series_number=h.series_number, series_description=h.series_description, study_uid=h.study_uid,
            study_date=h.study_date, study_time=h.study_time, study_description=h.study_description,
            accession=h.accession, patient_id=h.patient_id or NO_PATIENT_ID, patient_name=h.patient_name,
            birth_date=h.birth_date, sex=h.sex))
    left.extend(s for s in skipped if not (s.category == "non-image" and not is_directory_skip(s)))
    return records, left
