"""The managed storage folder: copies of imported files as ``<StudyUID>/<SeriesUID>/<SOPUID>.dcm``.

Copies are atomic (written to a temporary name in the target folder, then renamed), so a crash
or a cancel never leaves a half file under a final name. Only files inside this folder are ever
deleted by the database; the user's originals never are."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path

from app.core.atomic import write_bytes_atomic

_SAFE_UID = re.compile(r"^[0-9][0-9.]{0,63}$")


def safe_component(uid: str) -> str:
    """A file-name-safe folder/file name for a UID (a damaged UID becomes a stable hash)."""
    if _SAFE_UID.match(uid) and ".." not in uid:
        return uid
    return "x" + hashlib.sha1(uid.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def storage_path(storage: Path, study_uid: str, series_uid: str, sop_uid: str) -> Path:
    return storage / safe_component(study_uid) / safe_component(series_uid) / f"{safe_component(sop_uid)}.dcm"


def copy_atomic(src: Path, dest: Path) -> bool:
    """Copy ``src`` to ``dest`` atomically; False (nothing done) when ``dest`` already exists."""
    if dest.exists():
        return False
    write_bytes_atomic(dest, src.read_bytes())
    return True


def is_inside(path: str | Path, folder: Path) -> bool:
    real, root = os.path.realpath(path), os.path.realpath(folder)
    return real.startswith(root.rstrip(os.sep) + os.sep)


def delete_managed(paths: list[str], storage: Path) -> int:
    """Delete the files of ``paths`` that lie inside ``storage`` (others are left alone), and the
    folders that become empty; returns how many files were deleted."""
    deleted = 0
    folders: set[Path] = set()
    for p in paths:
        if not is_inside(p, storage):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(p)
            deleted += 1
        folders.add(Path(p).parent)
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        for d in (folder, folder.parent):
            if is_inside(d, storage):
                with contextlib.suppress(OSError):
                    d.rmdir()  # only when empty
    return deleted
