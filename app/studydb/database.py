"""StudyDatabase: the local SQLite index of imported studies (Qt-free).

Import by link-in-place (the files stay where they are; their folder is recorded as an import
root) or by copy into the managed storage folder beside the database. A database file that is
corrupt or written by a newer version is moved aside and rebuilt from the import roots and the
managed storage; ``recovery_message`` then tells the user once. One locked by another program
beyond the busy timeout raises StudyDbBusy and is left as it is (it is sound, and busy).
Every method may be called from a worker thread (one connection, serialised by a lock)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Literal, TypeVar

from app.core.paths import user_data_dir
from app.core.progress import Cancelled, CancelToken, ProgressFn, check, report
from app.dicom.model import ScanResult
from app.dicom.scan import enumerate_files, scan_paths
from app.studydb.health import Unusable, busy_error, move_aside, open_checked
from app.studydb.indexer import InstanceRecord, image_records, is_directory_skip, object_records
from app.studydb.rows import ImportReport, StudyDbError, StudyRow
from app.studydb.schema import user_version
from app.studydb.search import search_rows
from app.studydb.sidecar import ImportRoots
from app.studydb.storage import copy_atomic, delete_managed, storage_path
from app.studydb.writer import prune_and_refresh, write_records

DEFAULT_NAME = "studies.sqlite"
T = TypeVar("T")


class StudyDatabase:
    def __init__(self, path: str | os.PathLike[str], busy_timeout_s: float = 5.0, rebuild_now: bool = True) -> None:
        """Open (or create) the database at ``path``. An unusable file is moved aside; with
        ``rebuild_now`` the new one is rebuilt at once, else ``needs_rebuild`` is set so the caller
        can run :meth:`rebuild` in a worker."""
        self.path = Path(os.path.abspath(path))
        self.storage_dir = self.path.parent / "storage"
        self.roots_path = self.path.with_name(self.path.name + ".roots.json")
        self.busy_timeout_s = float(busy_timeout_s)
        self.recovery_message: str | None = None
        self.needs_rebuild = False
        self._recovering = False
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StudyDbError(f"{self.path.parent}: the folder of the study database cannot be created ({exc})") from exc
        fresh = not self.path.exists()
        self._conn = self._open_or_recover()
        if fresh and self.recovery_message is None and self._has_sources():
            self.needs_rebuild = True
            self.recovery_message = (f"The study database {self.path} was missing; it is rebuilt from the recorded "
                                     f"import folders and the managed storage.")
        if self.needs_rebuild and rebuild_now:
            self.rebuild()

    # ---- opening and recovery -----------------------------------------------------------------
    def _open_or_recover(self) -> sqlite3.Connection:
        try:
            return open_checked(self.path, self.busy_timeout_s)
        except Unusable as exc:
            return self._recover(str(exc))

    def _recover(self, reason: str) -> sqlite3.Connection:
        try:
            moved = move_aside(self.path)
        except OSError as exc:
            raise StudyDbError(f"The study database {self.path} cannot be used ({reason}) and cannot be moved "
                               f"aside ({exc}).") from exc
        try:
            conn = open_checked(self.path, self.busy_timeout_s)
        except Unusable as exc:
            raise StudyDbError(f"The study database {self.path} cannot be used ({reason}) and a new one cannot be "
                               f"created there ({exc}).") from exc
        self.needs_rebuild = True
        self.recovery_message = (f"The study database could not be used: {reason}. It was moved aside to "
                                 f"{moved.name} and a new one is rebuilt from your study files (import folders "
                                 f"and managed storage).")
        return conn

    def _has_sources(self) -> bool:
        return bool(ImportRoots.load(self.roots_path).roots) or (
            self.storage_dir.is_dir() and any(self.storage_dir.iterdir()))

    def _guarded(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` under the lock; a database that turns out damaged on the way is recovered
        (moved aside, rebuilt) and ``fn`` runs once more on the new one. Locked by another
        program beyond the busy timeout: StudyDbBusy, the file untouched."""
        with self._lock:
            try:
                return fn(self._conn)
            except sqlite3.DatabaseError as exc:
                if _locked(exc):
                    with contextlib.suppress(sqlite3.Error):
                        if self._conn.in_transaction:
                            self._conn.execute("ROLLBACK")
                    raise busy_error(self.path, self.busy_timeout_s) from exc
                if not _unusable(exc):
                    raise StudyDbError(f"study database {self.path}: {exc}") from exc
                if self._recovering:
                    raise StudyDbError(f"the study database {self.path} failed again while it was rebuilt "
                                       f"({exc})") from exc
                with contextlib.suppress(sqlite3.Error):
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    self._conn.close()
                self._conn = self._recover(f"it is damaged ({exc})")
                self._recovering = True
                try:
                    self.rebuild()
                finally:
                    self._recovering = False
                return fn(self._conn)

    @property
    def schema_version(self) -> int:
        return self._guarded(user_version)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> StudyDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- import --------------------------------------------------------------------------------
    def import_paths(self, paths: Iterable[str | os.PathLike[str]], mode: Literal["link", "copy"] = "link",
                     progress: ProgressFn | None = None, cancel: CancelToken | None = None,
                     source: str | None = None) -> ImportReport:
        """Index the DICOM files under ``paths`` (folders, files, DICOMDIRs). ``link`` records the
        folders as import roots; ``copy`` copies the files into the managed storage first.
        ``source`` overrides the detected one ("folder", or "dicomdir" when a directory file was
        followed), e.g. "pacs:NAME". Bad files are listed in the report, never raised."""
        if mode not in ("link", "copy"):
            raise StudyDbError(f"import mode must be 'link' or 'copy', not {mode!r}")
        targets = [os.path.abspath(p) for p in paths]
        result = ImportReport()
        batches: list[tuple[str, str, list[InstanceRecord]]] = []
        offset = 0
        for target in targets:
            def sub(done: int, total: int, base: int = offset) -> None:
                report(progress, base + done, base + total)
            scanned = scan_paths([target], progress=sub, cancel=cancel)
            offset += scanned.files_seen
            found, recs = self._records(scanned, source, result, cancel)
            batches.append((target, found, recs))
        made: list[str] = []
        try:
            if mode == "copy":
                batches = [(t, s, self._copy(recs, made, progress, cancel)) for t, s, recs in batches]
            check(cancel)
        except (Cancelled, OSError) as exc:  # nothing is indexed; this run's copies are removed
            delete_managed(made, self.storage_dir)
            if isinstance(exc, OSError):
                raise StudyDbError(f"copy into {self.storage_dir} failed ({exc}); nothing was imported") from exc
            raise
        result.copied = len(made)
        roots = [(t, found) for t, found, recs in batches if recs] if mode == "link" else []
        return self._commit(batches, result, roots)

    def index_scan(self, scanned: ScanResult, paths: Iterable[str | os.PathLike[str]],
                   source: str | None = None) -> ImportReport:
        """Index what app.dicom's scan of ``paths`` found (link mode), without reading the image
        headers again: the viewer's own scan of a study it opens lands in the study list."""
        result = ImportReport()
        found, recs = self._records(scanned, source, result, None)
        roots = [(os.path.abspath(p), found) for p in paths] if recs else []
        return self._commit([("", found, recs)], result, roots)

    def _records(self, scanned: ScanResult, source: str | None, result: ImportReport,
                 cancel: CancelToken | None) -> tuple[str, list[InstanceRecord]]:
        """(source, instance records) of a scan; unindexed skips go to ``result``."""
        objects, left = object_records(scanned.skipped, cancel)
        result.skipped.extend(left)
        found = source or ("dicomdir" if any(is_directory_skip(s) for s in scanned.skipped) else "folder")
        return found, image_records(scanned) + objects

    def _commit(self, batches: list[tuple[str, str, list[InstanceRecord]]], result: ImportReport,
                new_roots: list[tuple[str, str]]) -> ImportReport:
        """Write ``batches``; record ``new_roots`` (link-in-place folders or files, with their
        source) unless a recorded root or the storage holds them, and copied studies' sources."""
        storage_prefix = str(self.storage_dir) + os.sep
        with self._lock:
            touched = self._guarded(lambda conn: self._write_batches(conn, batches))
            roots = ImportRoots.load(self.roots_path)
            for target, found in new_roots:
                if roots.covering_root(target) is None and not target.startswith(storage_prefix):
                    roots.roots[target] = found
            for _, found, recs in batches:
                roots.copied_sources.update({r.study_uid: found for r in recs if r.managed})
            roots.removed -= touched
            roots.save(self.roots_path)
        result.study_uids = sorted(touched)
        result.instances = sum(len(recs) for _, _, recs in batches)
        return result

    def _copy(self, records: list[InstanceRecord], made: list[str], progress: ProgressFn | None,
              cancel: CancelToken | None) -> list[InstanceRecord]:
        """Copy ``records``' files into the storage; the new files are appended to ``made``."""
        out: list[InstanceRecord] = []
        for n, r in enumerate(records):
            if n % 32 == 0:
                check(cancel)
                report(progress, n, len(records))
            dest = storage_path(self.storage_dir, r.study_uid, r.series_uid, r.sop_uid)
            if copy_atomic(Path(r.path), dest):
                made.append(str(dest))
            out.append(r.moved_to(dest))
        return out

    def _write_batches(self, conn: sqlite3.Connection, batches: Sequence[tuple[str, str, list[InstanceRecord]]],
                       skip_studies: frozenset[str] = frozenset()) -> set[str]:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        touched: set[str] = set()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for _, found, recs in batches:
                kept = [r for r in recs if r.study_uid not in skip_studies] if skip_studies else recs
                touched |= write_records(conn, kept, found, now, str(self.storage_dir) + os.sep)
            prune_and_refresh(conn, touched)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return touched

    # ---- queries -------------------------------------------------------------------------------
    def search(self, text: str = "", modality: str = "", date_from: date | None = None, date_to: date | None = None,
               limit: int = 200) -> list[StudyRow]:
        """Studies whose patient name, patient ID, description, accession (case-insensitive, every
        word of ``text`` somewhere) or study UID match; newest study date first."""
        return self._guarded(lambda conn: search_rows(conn, text, modality, date_from, date_to, limit))

    def study(self, study_uid: str) -> StudyRow:
        rows = self._guarded(lambda conn: search_rows(conn, "", "", None, None, 1, study_uid=study_uid))
        if not rows:
            raise StudyDbError(f"study {study_uid} is not in the study database {self.path}")
        return rows[0]

    def study_files(self, study_uid: str) -> list[Path]:
        """The study's files (images and non-image objects), one per SOP instance, by series and
        instance number."""
        paths = self._guarded(lambda conn: [r[0] for r in conn.execute(
            "SELECT min(i.path) FROM instance i JOIN series s ON s.id = i.series_ref WHERE s.study_uid = ?"
            " GROUP BY i.sop_uid ORDER BY min(s.number IS NULL), min(s.number), min(s.series_uid),"
            " min(i.instance_number IS NULL), min(i.instance_number), min(i.path)", (study_uid,))])
        if not paths:
            raise StudyDbError(f"study {study_uid} is not in the study database {self.path}")
        return [Path(p) for p in paths]

    def isthmus_sr_files(self, study_uid: str) -> list[Path]:
        """The study's Isthmus findings SR files."""
        def query(conn: sqlite3.Connection) -> list[Path]:
            return [Path(r[0]) for r in conn.execute(
                "SELECT i.path FROM instance i JOIN series s ON s.id = i.series_ref WHERE s.study_uid = ?"
                " AND i.isthmus_sr = 1 ORDER BY i.path", (study_uid,))]
        self.study(study_uid)
        return self._guarded(query)

    def _files(self, study_uid: str) -> list[tuple[str, bool]]:
        rows = self._guarded(lambda conn: [(r[0], bool(r[1])) for r in conn.execute(
            "SELECT i.path, i.managed FROM instance i JOIN series s ON s.id = i.series_ref WHERE s.study_uid = ?"
            " ORDER BY s.number IS NULL, s.number, s.series_uid, i.instance_number IS NULL, i.instance_number, i.path",
            (study_uid,))])
        if not rows:
            raise StudyDbError(f"study {study_uid} is not in the study database {self.path}")
        return rows

    # ---- removal, re-index, rebuild ------------------------------------------------------------
    def remove_study(self, study_uid: str, delete_files: bool = False) -> int:
        """Remove the study from the database; with ``delete_files`` also delete its copies in the
        managed storage (files elsewhere, the user's originals, are never deleted). Returns the
        number of files deleted."""
        with self._lock:
            files = self._files(study_uid)

            def delete(conn: sqlite3.Connection) -> None:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.execute("DELETE FROM study WHERE study_uid = ?", (study_uid,))
                    prune_and_refresh(conn, [])
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            self._guarded(delete)
            roots = ImportRoots.load(self.roots_path)
            roots.removed.add(study_uid)
            roots.copied_sources.pop(study_uid, None)
            roots.roots = {r: s for r, s in roots.roots.items() if self._holds_files(r)}
            roots.save(self.roots_path)
        return delete_managed([p for p, managed in files if managed], self.storage_dir) if delete_files else 0

    def _holds_files(self, root: str) -> bool:
        prefix = root.rstrip(os.sep) + os.sep
        return self._guarded(lambda conn: conn.execute(
            "SELECT 1 FROM instance WHERE path = ? OR (path >= ? AND path < ?) LIMIT 1",
            (root, prefix, prefix[:-1] + chr(ord(os.sep) + 1))).fetchone() is not None)

    def reindex(self, progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> ImportReport:
        """Drop rows whose files vanished; index files that appeared under the import roots and in
        the managed storage (studies the user removed stay removed). Headers are read outside the
        lock, so searches answer meanwhile."""
        known = self._guarded(lambda conn: {r[0] for r in conn.execute("SELECT path FROM instance")})
        vanished = [p for p in known if not os.path.exists(p)]
        roots = ImportRoots.load(self.roots_path)
        result = ImportReport()
        batches = self._scan_new(roots, known, result, progress, cancel)
        payload = json.dumps(vanished)

        def apply(conn: sqlite3.Connection) -> set[str]:
            gone: set[str] = set()
            if vanished:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    gone = {r[0] for r in conn.execute(
                        "SELECT DISTINCT s.study_uid FROM instance i JOIN series s ON s.id = i.series_ref"
                        " WHERE i.path IN (SELECT value FROM json_each(?))", (payload,))}
                    conn.execute("DELETE FROM instance WHERE path IN (SELECT value FROM json_each(?))", (payload,))
                    prune_and_refresh(conn, gone)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            return self._write_batches(conn, batches, frozenset(roots.removed)) | gone
        result.study_uids = sorted(self._guarded(apply))
        result.removed_instances = len(vanished)
        result.instances = sum(len(recs) for _, _, recs in batches)
        return result

    def _scan_new(self, roots: ImportRoots, known: set[str], result: ImportReport, progress: ProgressFn | None,
                  cancel: CancelToken | None) -> list[tuple[str, str, list[InstanceRecord]]]:
        """Records of the files under the roots and the storage that are not indexed yet."""
        batches: list[tuple[str, str, list[InstanceRecord]]] = []
        sources = list(roots.roots.items())
        if self.storage_dir.is_dir():
            sources.append((str(self.storage_dir), ""))
        for root, found in sources:
            if not os.path.exists(root):
                result.missing_roots.append(Path(root))
                continue
            files, _, _ = enumerate_files([root])
            new = [f for f in files if str(f) not in known]
            check(cancel)
            if not new:
                continue
            scanned = scan_paths(new, progress=progress, cancel=cancel)
            objects, left = object_records(scanned.skipped, cancel)
            result.skipped.extend(left)
            recs = image_records(scanned) + objects
            if found:
                batches.append((root, found, recs))
                continue
            by_study: dict[str, list[InstanceRecord]] = {}
            for r in recs:  # managed storage: each copied study keeps the source it came from
                by_study.setdefault(r.study_uid, []).append(r)
            batches.extend((root, roots.copied_sources.get(uid, "folder"), group) for uid, group in by_study.items())
        return batches

    def rebuild(self, progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> ImportReport:
        """Empty the database and index everything again from the import roots and the storage."""
        def clear(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            for table in ("instance", "series", "study", "patient"):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("COMMIT")
        self.needs_rebuild = False  # a second caller (another start page) does not start it again
        try:
            self._guarded(clear)
            out = self.reindex(progress, cancel)
        except BaseException:
            self.needs_rebuild = True
            raise
        if self.recovery_message is not None:
            self.recovery_message += f" Rebuilt: {out.summary()}."
        return out


def _locked(exc: sqlite3.DatabaseError) -> bool:
    """True when ``exc`` says another connection holds the lock (the file itself is sound)."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _unusable(exc: sqlite3.DatabaseError) -> bool:
    """True when ``exc`` says the file is damaged (not a fault of one statement)."""
    text = str(exc).lower()
    return type(exc) is sqlite3.DatabaseError or any(
        word in text for word in ("malformed", "not a database", "no such table", "disk i/o"))


def open_default(busy_timeout_s: float = 5.0, rebuild_now: bool = True) -> StudyDatabase:
    """The user's study database: user_data_dir()/studies.sqlite."""
    return StudyDatabase(user_data_dir() / DEFAULT_NAME, busy_timeout_s=busy_timeout_s, rebuild_now=rebuild_now)
