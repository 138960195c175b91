"""Make a teaching case from a study: an anonymised copy of the images, the read as reference and
the metadata (docs/teaching.md, "Authoring").

De-identification is dicognito's (DICOM PS3.15 basic application level confidentiality profile:
names, IDs, dates, institutions, UIDs ...), one ``Anonymizer`` per case so every UID is remapped
the same way in every file and the copy still loads as one study. No hand-rolled tag list here.
The copies get neutral file names (the original paths may carry a patient's name); non-DICOM
files are not copied. The reference read's UIDs are remapped with the same mapping, and any
identifying value of the originals (patient name parts, ID, birth date, institution) found in its
free text is replaced by ``[removed]``. Qt-free.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from app.findings.io import findings_from_dict, findings_to_dict, save_findings
from app.findings.model import StudyFindings
from app.teaching.case import READ_FILE, CaseMetadata, TeachingCase, open_case, write_case_metadata

PathLike = str | os.PathLike
IMAGES = "images"
_UID_KEYS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")
_IDENTIFYING = ("PatientName", "PatientID", "PatientBirthDate", "InstitutionName", "InstitutionAddress",
                "ReferringPhysicianName", "OtherPatientIDs", "AccessionNumber")


class AuthoringError(Exception):
    def __init__(self, path: PathLike, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")


@dataclass
class AuthoringReport:
    case: TeachingCase
    images_written: int
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) of files not copied


def _dicom_files(study_dir: Path) -> tuple[list[tuple[Path, object]], list[tuple[str, str]]]:
    import pydicom
    from pydicom.errors import InvalidDicomError

    found, skipped = [], []
    for path in sorted(p for p in study_dir.rglob("*") if p.is_file()):
        try:
            ds = pydicom.dcmread(path)
        except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
            skipped.append((str(path), f"not copied: not a readable DICOM file ({type(exc).__name__})"))
            continue
        if "SOPInstanceUID" not in ds:
            skipped.append((str(path), "not copied: no SOP Instance UID (DICOMDIR or not an image object)"))
            continue
        found.append((path, ds))
    return found, skipped


def _identifying_values(ds) -> set[str]:
    values = set()
    for key in _IDENTIFYING:
        v = ds.get(key)
        if v is None or v == "":
            continue
        text = str(v)
        values.add(text)
        values.update(part for part in re.split(r"[\^=\s]+", text) if len(part) >= 3)
    return values


def _remap_read(read: StudyFindings, uid_map: dict[str, str], identifying: set[str]) -> StudyFindings:
    doc = findings_to_dict(read)
    if read.study_instance_uid:
        doc["study_instance_uid"] = uid_map.get(read.study_instance_uid, "")
        if not doc["study_instance_uid"]:
            del doc["study_instance_uid"]

    def walk(node):
        if isinstance(node, dict):
            for k in ("series_instance_uid", "sop_instance_uid"):
                if k in node:
                    node[k] = uid_map.get(node[k], "")
                    if not node[k]:
                        del node[k]
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    text = json.dumps(doc, ensure_ascii=False)
    for value in sorted(identifying, key=len, reverse=True):
        text = re.sub(re.escape(json.dumps(value)[1:-1]), "[removed]", text, flags=re.IGNORECASE)
    return findings_from_dict(json.loads(text))


def make_case(study_dir: PathLike, read: StudyFindings, out_dir: PathLike, meta: CaseMetadata) -> AuthoringReport:
    """Write the case into ``out_dir`` (created; must be empty or absent) and return it opened."""
    from dicognito.anonymizer import Anonymizer

    study_dir, out_dir = Path(study_dir), Path(out_dir)
    if not study_dir.is_dir():
        raise AuthoringError(study_dir, "study folder not found")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise AuthoringError(out_dir, "output folder is not empty")
    files, skipped = _dicom_files(study_dir)
    if not files:
        raise AuthoringError(study_dir, "no DICOM image files found")
    anonymizer = Anonymizer()
    uid_map: dict[str, str] = {}
    identifying: set[str] = set()
    images = out_dir / IMAGES
    images.mkdir(parents=True, exist_ok=True)
    for n, (path, ds) in enumerate(files, start=1):
        before = {k: str(ds.get(k)) for k in _UID_KEYS if k in ds}
        identifying |= _identifying_values(ds)
        anonymizer.anonymize(ds)
        for k, old in before.items():
            uid_map[old] = str(ds.get(k))
        try:
            ds.save_as(images / f"IM{n:05d}.dcm", enforce_file_format=False)
        except (OSError, ValueError, TypeError) as exc:
            raise AuthoringError(path, f"cannot write the anonymised copy: {exc}") from None
    save_findings(_remap_read(read, uid_map, identifying), out_dir / READ_FILE)
    meta = CaseMetadata(**{**meta.__dict__, "images": IMAGES, "reference_read": READ_FILE, "source": "authored"})
    write_case_metadata(out_dir, meta)
    return AuthoringReport(open_case(out_dir), len(files), skipped)
