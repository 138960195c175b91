"""Scan files and folders into patients -> studies -> series (header-only)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Optional, Union

from app.core.progress import CancelToken, ProgressFn, check, report
from app.dicom.grouping import build_patients
from app.dicom.headers import MEDIA_STORAGE_DIRECTORY, describe_read_error, instance_header, read_header
from app.dicom.model import ScanResult, SkippedFile

_IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def _walk(root: Path) -> list[str]:
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(os.path.abspath(root), followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name in _IGNORED_NAMES or name.startswith("._") or name.startswith("."):
                continue
            out.append(os.path.join(dirpath, name))
    return out


def enumerate_files(paths: Iterable[Union[str, Path]]) -> tuple[list[Path], list[SkippedFile], set[str]]:
    """Files under ``paths`` (absolute, each once), missing paths as skips, and the seen keys."""
    files: list[Path] = []
    missing: list[SkippedFile] = []
    seen: set[str] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            candidates = _walk(p)
        elif p.is_file():
            candidates = [os.path.abspath(p)]
        else:
            missing.append(SkippedFile(p, "does not exist", "error"))
            continue
        for c in candidates:
            key = os.path.normcase(c)
            if key not in seen:
                seen.add(key)
                files.append(Path(c))
    return files, missing, seen


def dicomdir_references(path: Path, ds: Any) -> list[Path]:
    """Files referenced by a DICOMDIR's directory records (ReferencedFileID), relative to it."""
    out: list[Path] = []
    records = ds.get("DirectoryRecordSequence")
    if records is None:
        try:
            from pydicom import dcmread

            records = dcmread(path, force=True).get("DirectoryRecordSequence") or []
        except Exception:  # noqa: BLE001 - an unreadable index just adds nothing
            records = []
    for rec in records:
        ref = rec.get("ReferencedFileID")
        if not ref:
            continue
        parts = [str(ref)] if isinstance(ref, str) else [str(x) for x in ref]
        candidate = path.parent.joinpath(*parts)
        if not candidate.exists():  # media often upper-cases names; try case-insensitively
            candidate = _case_insensitive(path.parent, parts) or candidate
        out.append(candidate)
    return out


def _case_insensitive(base: Path, parts: list[str]) -> Optional[Path]:
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


def _scan_one(path: Path) -> tuple[Optional[tuple[Any, Any]], Optional[SkippedFile], list[Path]]:
    """(record or None, skip or None, files a directory index refers to) for one file."""
    ds, skip = read_header(path)
    if skip is not None:
        refs: list[Path] = []
        if ds is not None and (str(ds.get("SOPClassUID", "") or "") == MEDIA_STORAGE_DIRECTORY
                               or "DirectoryRecordSequence" in ds):
            refs = dicomdir_references(path, ds)
            skip.reason = f"DICOMDIR (directory index; {len(refs)} referenced files scanned)"
        return None, skip, refs
    try:
        header = instance_header(path, ds)
    except Exception as exc:  # noqa: BLE001
        return None, SkippedFile(path, f"header values cannot be read ({exc})", "error"), []
    return (header, ds), None, []


def scan_paths(paths: Iterable[Union[str, Path]], progress: Optional[ProgressFn] = None,
               cancel: Optional[CancelToken] = None) -> ScanResult:
    """Index DICOM files under ``paths`` (files or folders, recursive; DICOMDIR files are
    followed). Reads headers only. Non-DICOM files, non-image objects and unreadable files are
    listed in ``ScanResult.skipped`` with a category and a plain reason; nothing raises for a bad
    file. Raises :class:`app.core.progress.Cancelled` when ``cancel`` is set."""
    if isinstance(paths, (str, Path)):  # a single path, not an iterable of characters
        paths = [paths]
    files, skipped, seen = enumerate_files(paths)
    result = ScanResult(skipped=skipped)
    records: list[tuple[Any, Any]] = []
    queue = list(files)
    done = 0
    total = len(queue)
    report(progress, 0, total)
    # Sequential on purpose: header parsing is CPU-bound Python, threads only add GIL contention
    # (measured in bench/load_bench.py); the OS page cache does the I/O side well enough.
    while queue:
        batch, queue = queue, []
        for n_in_batch, path in enumerate(batch):
            if n_in_batch % 64 == 0:
                check(cancel)
                report(progress, done, total)
            done += 1
            result.files_seen += 1
            try:
                record, skip, refs = _scan_one(path)
            except Exception as exc:  # noqa: BLE001 - one bad file never aborts the folder
                record, skip, refs = None, SkippedFile(path, describe_read_error(exc), "error"), []
            if skip is not None:
                result.skipped.append(skip)
            if record is not None:
                records.append(record)
            new = []
            for r in refs:
                key = os.path.normcase(os.path.abspath(r))
                if key not in seen:
                    seen.add(key)
                    new.append(r)
            queue.extend(new)
            total += len(new)
    report(progress, done, total)
    check(cancel)
    result.patients = build_patients(records, result.skipped)
    return result
