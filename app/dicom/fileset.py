"""Files referenced by a directory file (DICOMDIR, Philips DIRFILE): resolved safely.

Referenced File IDs are relative to the root of the file set. That is the folder of the
directory file for a standard DICOMDIR, but some media put the directory file in a subfolder
(Philips DIRFILE, nested DICOMDIRs) and still give IDs relative to the media root. The base is
therefore the nearest of the directory file's folder and its ancestors (never above the scanned
folder) under which the references exist. A reference that would leave the scanned folder
(``..``, an absolute path, a symbolic link pointing outside) is refused and never opened."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.dicom.model import SkippedFile

_SAMPLE = 24  # references tried per candidate base when choosing the file-set root


@dataclass
class FileSetReferences:
    base: Path  # folder the referenced file IDs were resolved against
    found: list[Path] = field(default_factory=list)  # existing files, inside the scanned folder
    missing: list[str] = field(default_factory=list)  # IDs (as written) with no file on the media
    refused: list[SkippedFile] = field(default_factory=list)  # IDs that leave the scanned folder
    total: int = 0  # references listed in the directory file


def _records(path: Path, ds: Any) -> list:
    records = ds.get("DirectoryRecordSequence")
    if records is None:
        from pydicom import dcmread

        records = dcmread(path, force=True).get("DirectoryRecordSequence") or []
    return list(records)


def _id_parts(ref: Any) -> list[str]:
    """Components of a Referenced File ID; separators inside a component split it too."""
    raw = [str(ref)] if isinstance(ref, (str, bytes)) else [str(x) for x in ref]
    parts: list[str] = []
    for comp in raw:
        parts.extend(comp.replace("\\", "/").split("/"))
    return parts


def _unsafe(parts: list[str]) -> str | None:
    if not parts or all(not p.strip() for p in parts):
        return "empty file ID"
    for p in parts:
        if p.strip() in ("..", "."):
            return "it climbs out of the file-set folder ('..')"
        if not p.strip():
            return "it is an absolute path or has an empty component"
        if ":" in p:
            return "it names a drive or device"
        if any(ord(ch) < 0x20 for ch in p):
            return "it contains a control character (e.g. a null byte), not a valid file ID"
    return None


def _case_insensitive(base: Path, parts: list[str]) -> Path | None:
    cur = base
    for part in parts:
        try:
            match = next((c for c in cur.iterdir() if c.name.upper() == part.upper()), None)
        except OSError:
            return None
        if match is None:
            return None
        cur = match
    return cur


def _locate(base: Path, parts: list[str]) -> Path | None:
    candidate = base.joinpath(*parts)
    if candidate.is_file():
        return candidate
    found = _case_insensitive(base, parts)  # media often upper-cases names
    return found if found is not None and found.is_file() else None


def _inside(path: Path, root_real: str) -> bool:
    real = os.path.realpath(path)
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


def _under(path: str, root_abs: str) -> bool:
    return path == root_abs or path.startswith(root_abs.rstrip(os.sep) + os.sep)


def _bases(directory_file: Path, root: Path) -> list[Path]:
    """The directory file's folder, then its ancestors up to ``root`` (nearest first)."""
    root_abs = os.path.abspath(root)
    cur = os.path.dirname(os.path.abspath(directory_file))
    out = [Path(cur)]
    while cur != root_abs and _under(cur, root_abs):
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        cur = parent
        out.append(Path(cur))
    return out


def resolve_references(directory_file: Path, ds: Any, root: Path) -> FileSetReferences:
    """Referenced files of ``directory_file`` (a DICOMDIR-like dataset ``ds``), resolved against the
    file-set root, never outside ``root`` (the scanned folder)."""
    directory_file = Path(os.path.abspath(directory_file))
    root_real = os.path.realpath(root)
    ids: list[list[str]] = []
    result = FileSetReferences(base=directory_file.parent)
    for rec in _records(directory_file, ds):
        ref = rec.get("ReferencedFileID")
        if not ref:
            continue
        result.total += 1
        parts = _id_parts(ref)
        problem = _unsafe(parts)
        if problem is not None:
            shown = "\\".join(parts)
            result.refused.append(SkippedFile(directory_file, f"reference {shown!r} refused: {problem}; "
                                                              f"it was not followed", "error"))
            continue
        ids.append(parts)
    if not ids:
        return result
    sample = ids[:_SAMPLE]
    best, best_hits = directory_file.parent, 0
    for base in _bases(directory_file, root):
        hits = sum(1 for parts in sample if _locate(base, parts) is not None)
        if hits > best_hits:
            best, best_hits = base, hits
        if hits == len(sample):
            break
    result.base = best
    for parts in ids:
        found = _locate(best, parts)
        if found is None:
            result.missing.append("\\".join(parts))
        elif not _inside(found, root_real):
            shown = "\\".join(parts)
            result.refused.append(SkippedFile(directory_file, f"reference {shown!r} refused: it leads outside the "
                                                              f"scanned folder (symbolic link); it was not followed",
                                              "error"))
        else:
            result.found.append(Path(os.path.abspath(found)))
    return result
