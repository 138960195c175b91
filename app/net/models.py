"""Plain records for queries, results and progress of PACS operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class StudyQuery:
    """Study-level search keys; empty means 'any'. Names may use DICOM wildcards (* and ?)."""

    patient_name: str = ""
    patient_id: str = ""
    date_from: date | None = None
    date_to: date | None = None
    modality: str = ""
    accession: str = ""
    description: str = ""


@dataclass(frozen=True)
class StudyRecord:
    study_uid: str
    patient_name: str
    patient_id: str
    birth_date: str
    sex: str
    study_date: str
    study_time: str
    description: str
    accession: str
    modalities: tuple[str, ...]
    n_series: int | None  # None: the PACS did not say
    n_instances: int | None


@dataclass(frozen=True)
class SeriesRecord:
    series_uid: str
    study_uid: str
    modality: str
    number: int | None
    description: str
    n_instances: int | None


@dataclass(frozen=True)
class RetrieveProgress:
    instances_done: int
    instances_total: int | None  # None: unknown
    bytes_done: int
    series_done: int
    series_total: int | None


@dataclass
class RetrieveResult:
    study_uid: str
    folder: Path
    files: list[Path]
    complete: bool
    failed: int
    message: str


@dataclass
class SendResult:
    sent: int
    failed: int
    failures: list[tuple[Path, str]] = field(default_factory=list)
