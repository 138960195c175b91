"""Scan files and folders into patients -> studies -> series (header-only)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from app.core.gc_pause import gc_paused
from app.core.progress import CancelToken, ProgressFn, check, report
from app.dicom import batch_walk, scan_pool
from app.dicom.fileset import resolve_references
from app.dicom.grouping import build_patients
from app.dicom.headers import (
    MEDIA_STORAGE_DIRECTORY,
    alike_fields,
    describe_read_error,
    instance_header,
    judge_parsed,
    read_header,
    wanted_tags,
)
from app.dicom.model import ScanResult, SkippedFile

_IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_UNSEEN: Any = object()


def _walk(root: Path) -> list[tuple[str, Path]]:
    """(path, Path) of the files under ``root``. Each Path is made from its folder's Path (one
    name to parse: measured 1.1 us against 3.2 us for a Path parsed from the whole string)."""
    out: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(os.path.abspath(root), followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        folder = Path(dirpath)
        for name in sorted(filenames):
            if name in _IGNORED_NAMES or name.startswith("._") or name.startswith("."):
                continue
            out.append((os.path.join(dirpath, name), folder / name))
    return out


def enumerate_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[SkippedFile], set[str]]:
    """Files under ``paths`` (absolute, each once), missing paths as skips, and the seen keys."""
    files: list[Path] = []
    missing: list[SkippedFile] = []
    seen: set[str] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            candidates = _walk(p)
        elif p.is_file():
            candidates = [(os.path.abspath(p), Path(os.path.abspath(p)))]
        else:
            missing.append(SkippedFile(p, "does not exist", "error"))
            continue
        for c, c_path in candidates:
            key = os.path.normcase(c)
            if key not in seen:
                seen.add(key)
                files.append(c_path)
    return files, missing, seen


def _root_of(path: Path, roots: list[str]) -> Path:
    """The scanned folder that holds ``path`` (the deepest one when folders nest)."""
    p = os.path.abspath(path)
    inside = [r for r in roots if p == r or p.startswith(r.rstrip(os.sep) + os.sep)]
    return Path(max(inside, key=len) if inside else os.path.dirname(p))


def _directory_file(path: Path, ds: Any, skip: SkippedFile, root: Path) -> tuple[list[SkippedFile], list[Path]]:
    """Extra skips (refused or missing references) and the referenced files of a directory file."""
    refs = resolve_references(path, ds, root)
    note = f"{len(refs.found)} referenced files scanned"
    if refs.base != path.parent:
        note += f", file IDs relative to {refs.base}"
    skip.reason = f"DICOMDIR (directory index; {note})"
    extra = list(refs.refused)
    if refs.missing:
        shown = ", ".join(refs.missing[:5]) + (" ..." if len(refs.missing) > 5 else "")
        extra.append(SkippedFile(path, f"{len(refs.missing)} of {refs.total} files listed in this directory are "
                                       f"missing from the media: {shown}", "error"))
    return extra, refs.found


# Files walked together by app/dicom/batch_walk.py (numpy steps over a whole chunk). Below
# BATCH_MIN files the per-file reader is used: the walk's fixed cost per step (a few array
# operations) is not shared by enough files.
BATCH_MIN = 16
# Files per chunk: up to BATCH_FILES, or fewer once their first bytes reach BATCH_BYTES (memory
# bound: 1,024 files of 16 KB). The progress and cancel checks fall between chunks. Measured on
# the 3,000-file bench: 512 files per chunk cost 8 ms more CPU than one chunk (more walk steps).
BATCH_FILES = 4096
BATCH_BYTES = 16 << 20


def _scan_one(path: Path, roots: list[str], shared: dict | None = None, parsed: Any = None,
              alike: dict | None = None) -> tuple[tuple[Any, Any] | None, list[SkippedFile], list[Path]]:
    """(record or None, skips, files a directory index refers to) for one file (``shared``: see
    :func:`instance_header`; ``parsed``: its header when the batch walk parsed it; ``alike``: the
    fields of its walk group, whose first header passed the checks that every header of the
    group would pass alike, see :func:`alike_fields`)."""
    if parsed is None:
        ds, skip = read_header(path)
    elif alike is not None:
        ds, skip = parsed, None
    else:
        ds, skip = judge_parsed(path, parsed)
    if skip is not None:
        if ds is not None and (str(ds.get("SOPClassUID", "") or "") == MEDIA_STORAGE_DIRECTORY
                               or "DirectoryRecordSequence" in ds):
            extra, refs = _directory_file(path, ds, skip, _root_of(path, roots))
            return None, [skip, *extra], refs
        return None, [skip], []
    try:
        header = instance_header(path, ds, shared, alike)
    except Exception as exc:
        return None, [SkippedFile(path, f"header values cannot be read ({exc})", "error")], []
    return (header, ds), [], []


def scan_paths(paths: Iterable[str | Path], progress: ProgressFn | None = None,
               cancel: CancelToken | None = None) -> ScanResult:
    """Index DICOM files under ``paths`` (files or folders, recursive; DICOMDIR files are
    followed). Reads headers only. Non-DICOM files, non-image objects and unreadable files are
    listed in ``ScanResult.skipped`` with a category and a plain reason; nothing raises for a bad
    file. Raises :class:`app.core.progress.Cancelled` when ``cancel`` is set."""
    if isinstance(paths, (str, Path)):  # a single path, not an iterable of characters
        paths = [paths]
    path_list = [Path(p) for p in paths]
    roots = [os.path.abspath(p) if p.is_dir() else os.path.dirname(os.path.abspath(p)) for p in path_list]
    files, skipped, seen = enumerate_files(path_list)
    with gc_paused():  # a fifth of the scan's time went to collections (measured: app/dicom/gc_pause.py)
        return _scan_files(files, skipped, seen, roots, progress, cancel)


def _scan_files(files: list[Path], skipped: list[SkippedFile], seen: set[str], roots: list[str],
                progress: ProgressFn | None, cancel: CancelToken | None) -> ScanResult:
    result = ScanResult(skipped=skipped)
    records: list[tuple[Any, Any]] = []
    shared: dict = {}  # equal values of the files' records, one object each (this scan only)
    count = {"done": 0, "total": len(files)}
    report(progress, 0, count["total"])

    def one(path: Path) -> tuple[tuple[Any, Any] | None, list[SkippedFile], list[Path]]:
        try:
            return _scan_one(path, roots, shared)
        except Exception as exc:
            return None, [SkippedFile(path, describe_read_error(exc), "error")], []

    def one_parsed(path: Path, parsed: Any,
                   alike: dict | None = None) -> tuple[tuple[Any, Any] | None, list[SkippedFile], list[Path]]:
        try:
            return _scan_one(path, roots, shared, parsed, alike)
        except Exception as exc:
            return None, [SkippedFile(path, describe_read_error(exc), "error")], []

    def here(batch: Sequence[Path]) -> list[tuple[tuple[Any, Any] | None, list[SkippedFile], list[Path]]]:
        if len(batch) < BATCH_MIN:
            out = []
            for n_in_batch, path in enumerate(batch):
                if n_in_batch % 64 == 0:
                    check(cancel)
                    report(progress, count["done"], count["total"])
                count["done"] += 1
                out.append(one(path))
            return out
        out = []
        wanted = wanted_tags()
        at = 0
        while at < len(batch):
            check(cancel)
            report(progress, count["done"], count["total"])
            heads = batch_walk.read_heads(batch[at:at + BATCH_FILES], BATCH_BYTES)
            chunk = batch[at:at + len(heads)]
            parsed, group_of, same = batch_walk.walk_groups(heads, wanted)
            del heads
            alike_of: dict[int, dict | None] = {}  # walk group -> its fields once its first header passed
            for path, ds, group in zip(chunk, parsed, group_of, strict=True):
                if ds is None:
                    out.append(one(path))
                    continue
                alike = alike_of.get(group, _UNSEEN)
                if alike is _UNSEEN:
                    outcome = one_parsed(path, ds)
                    passed = outcome[0] is not None and outcome[0][1] is ds and not outcome[1] and not outcome[2]
                    alike_of[group] = alike_fields(same[group], batch_walk.ABSENT) if passed else None
                    out.append(outcome)
                    continue
                out.append(one_parsed(path, ds, alike))
            count["done"] += len(chunk)
            at += len(chunk)
        return out

    queue = list(files)
    first = True
    while queue:
        batch, queue = queue, []
        done_before = count["done"]
        # Many files: a forked helper scans half of them (header parsing is CPU-bound Python; see
        # app/dicom/scan_pool.py for the measured costs and the fallbacks). DICOMDIR references
        # found meanwhile are scanned here afterwards.
        if first and len(batch) >= scan_pool.MIN_FILES and scan_pool.available():
            outcomes = scan_pool.scan_split(batch, one, here)
        else:
            outcomes = here(batch)
        first = False
        count["done"] = done_before + len(batch)
        result.files_seen += len(outcomes)
        for record, skips, refs in outcomes:
            if skips:
                result.skipped.extend(skips)
            if record is not None:
                records.append(record)
            if refs:
                new = []
                for r in refs:
                    key = os.path.normcase(os.path.abspath(r))
                    if key not in seen:
                        seen.add(key)
                        new.append(r)
                queue.extend(new)
                count["total"] += len(new)
    report(progress, count["done"], count["total"])
    check(cancel)
    result.patients = build_patients(records, result.skipped)
    return result
