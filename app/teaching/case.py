"""A teaching case: a study folder + its reference read + teaching metadata (docs/teaching.md).

On disk a case is a folder holding ``teaching_case.json`` (the metadata below), the reference
read (an Isthmus findings file, ``reference_read.json`` by default) and the images (the folder
named by ``images``, ``.`` = the case folder itself). Qt-free.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from app.core.atomic import write_text_atomic
from app.findings.model import Level, StudyFindings

CASE_FILE = "teaching_case.json"
CASE_FORMAT = "isthmus-teaching-case"
CASE_VERSION = 1
READ_FILE = "reference_read.json"
DIFFICULTIES = ("beginner", "intermediate", "advanced")
SOURCES = ("bundled", "generated", "authored", "folder")


class TeachingCaseError(Exception):
    """A teaching case that cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path is not None else problem)


@dataclass(frozen=True)
class CaseMetadata:
    """What the trainee sees before (title, history) and after (learning points) an attempt."""

    case_id: str  # stable, unique in a library (folder-safe), e.g. "t07_l4_bilateral_complete"
    title: str
    history: str  # clinical history shown to the trainee during the attempt
    difficulty: str = "intermediate"  # one of DIFFICULTIES
    tags: tuple[str, ...] = ()
    learning_points: tuple[str, ...] = ()  # shown only after the read is submitted
    images: str = "."  # folder of the DICOM study, relative to the case folder
    reference_read: str = READ_FILE  # relative to the case folder
    source: str = "folder"  # one of SOURCES

    def __post_init__(self) -> None:
        if not self.case_id or "/" in self.case_id or "\\" in self.case_id:
            raise ValueError(f"case_id must be a non-empty name without slashes, not {self.case_id!r}")
        if not self.title.strip():
            raise ValueError("title must not be empty")
        if self.difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, not {self.difficulty!r}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {self.source!r}")
        for rel in (self.images, self.reference_read):
            if Path(rel).is_absolute() or ".." in Path(rel).parts:
                raise ValueError(f"{rel!r} must be a path inside the case folder")

    def to_dict(self) -> dict:
        return {
            "format": CASE_FORMAT, "version": CASE_VERSION, "case_id": self.case_id, "title": self.title,
            "history": self.history, "difficulty": self.difficulty, "tags": list(self.tags),
            "learning_points": list(self.learning_points), "images": self.images,
            "reference_read": self.reference_read, "source": self.source,
        }

    @classmethod
    def from_dict(cls, doc: object, path: str | os.PathLike | None = None) -> CaseMetadata:
        if not isinstance(doc, dict) or doc.get("format") != CASE_FORMAT:
            raise TeachingCaseError(path, f"not an Isthmus teaching case (format must be {CASE_FORMAT!r})")
        version = doc.get("version")
        if not isinstance(version, int):
            raise TeachingCaseError(path, "version missing or not an integer")
        if version > CASE_VERSION:
            raise TeachingCaseError(path, f"written by a newer Isthmus (teaching case version {version}; "
                                          f"this version reads up to {CASE_VERSION}). Update Isthmus to open it.")
        known = {"format", "version", "case_id", "title", "history", "difficulty", "tags", "learning_points",
                 "images", "reference_read", "source"}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise TeachingCaseError(path, f"unknown key(s): {', '.join(unknown)}")
        for key in ("case_id", "title", "history"):
            if not isinstance(doc.get(key), str):
                raise TeachingCaseError(path, f"{key} missing or not a string")
        for key in ("tags", "learning_points"):
            value = doc.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TeachingCaseError(path, f"{key} must be a list of strings")
        try:
            return cls(case_id=doc["case_id"], title=doc["title"], history=doc["history"],
                       difficulty=doc.get("difficulty", "intermediate"), tags=tuple(doc.get("tags", [])),
                       learning_points=tuple(doc.get("learning_points", [])), images=doc.get("images", "."),
                       reference_read=doc.get("reference_read", READ_FILE), source=doc.get("source", "folder"))
        except (TypeError, ValueError) as exc:
            raise TeachingCaseError(path, str(exc)) from None


@dataclass(frozen=True)
class TeachingCase:
    """A case found on disk: its metadata and where its parts are. The reference read is loaded
    only on demand (``load_reference``), so a picker never holds the answer in memory."""

    folder: Path
    meta: CaseMetadata
    levels: tuple[Level, ...] = field(default=())  # levels with an abnormal reference finding (for filters)

    @property
    def case_id(self) -> str:
        return self.meta.case_id

    @property
    def images_dir(self) -> Path:
        return self.folder / self.meta.images

    @property
    def reference_path(self) -> Path:
        return self.folder / self.meta.reference_read

    def load_reference(self) -> StudyFindings:
        from app.findings.io import FindingsFileError, load_findings

        try:
            return load_findings(self.reference_path)
        except FindingsFileError as exc:
            raise TeachingCaseError(self.reference_path, f"reference read: {exc.problem}") from None


def abnormal_levels(read: StudyFindings) -> tuple[Level, ...]:
    """Levels with a pars lesion, a slip or neural-arch hypoplasia in ``read`` (sorted L1..S1)."""
    found = {p.level for p in read.pars if p.status.value != "intact" or p.edema.present}
    found |= {lv.level for lv in read.levels if lv.slip is not None or lv.neural_arch_hypoplasia}
    return tuple(lv for lv in Level if lv in found)


def write_case_metadata(folder: str | os.PathLike, meta: CaseMetadata) -> Path:
    path = Path(folder) / CASE_FILE
    write_text_atomic(path, json.dumps(meta.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return path


def read_case_metadata(path: str | os.PathLike) -> CaseMetadata:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TeachingCaseError(path, f"cannot read: {exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TeachingCaseError(path, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return CaseMetadata.from_dict(doc, path)


def open_case(folder: str | os.PathLike, meta: CaseMetadata | None = None) -> TeachingCase:
    """Open the case in ``folder`` (metadata from ``teaching_case.json`` unless ``meta`` is given);
    checks that the reference read loads and the images folder exists."""
    folder = Path(folder)
    if meta is None:
        meta = read_case_metadata(folder / CASE_FILE)
    case = TeachingCase(folder, meta)
    if not case.images_dir.is_dir():
        raise TeachingCaseError(case.images_dir, "images folder of the teaching case is missing")
    read = case.load_reference()
    return TeachingCase(folder, meta, abnormal_levels(read))
