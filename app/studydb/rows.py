"""Plain result types of the study database (no behaviour beyond formatting)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.dicom.model import SkippedFile


class StudyDbError(Exception):
    """A study-database operation cannot be done; str() names the file or study and the problem."""


class StudyDbBusy(StudyDbError):
    """Another program (another Isthmus, `isthmus db import`) held the database locked for longer
    than the busy timeout. Transient: the file is sound and is left as it is; try again."""


def display_date(value: str) -> str:
    """A header date YYYYMMDD as YYYY-MM-DD; other text as it is; empty as "(no date)"."""
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 and value.isdigit() else (value or "(no date)")


@dataclass(frozen=True)
class StudyRow:
    """One study of the list, identity exactly as in the headers (empty = not recorded)."""

    study_uid: str
    patient_name: str
    patient_id: str
    birth_date: str  # YYYYMMDD as in the header, "" when absent
    sex: str
    study_date: str  # YYYYMMDD as in the header, "" when absent
    description: str
    accession: str
    modalities: tuple[str, ...]
    n_series: int
    n_instances: int
    source: str  # "folder" | "dicomdir" | "pacs:NAME"
    isthmus_sr_count: int


@dataclass
class ImportReport:
    """What one import (or re-index) did."""

    study_uids: list[str] = field(default_factory=list)  # studies added or updated
    instances: int = 0  # instance rows written
    copied: int = 0  # files copied into the managed storage (copy mode)
    removed_instances: int = 0  # rows dropped because their file vanished (re-index)
    skipped: list[SkippedFile] = field(default_factory=list)  # files not indexed, with the reason
    missing_roots: list[Path] = field(default_factory=list)  # recorded folders that no longer exist

    def summary(self) -> str:
        parts = [f"{len(self.study_uids)} stud{'y' if len(self.study_uids) == 1 else 'ies'}",
                 f"{self.instances} instance{'' if self.instances == 1 else 's'} indexed"]
        if self.copied:
            parts.append(f"{self.copied} copied into the managed storage")
        if self.removed_instances:
            parts.append(f"{self.removed_instances} vanished file{'' if self.removed_instances == 1 else 's'} dropped")
        problems = [s for s in self.skipped if s.category != "non-image"]
        if problems:
            parts.append(f"{len(problems)} file{'' if len(problems) == 1 else 's'} skipped")
        if self.missing_roots:
            parts.append(f"{len(self.missing_roots)} recorded folder(s) missing: "
                         + ", ".join(str(p) for p in self.missing_roots[:3]))
        return "; ".join(parts)
