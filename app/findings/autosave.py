"""Autosave of one study's work: the findings and the (opaque, JSON-able) annotations document.

``Autosaver.update(findings, annotations_doc)`` is cheap and may be called on every change: it
keeps the latest state and a background thread writes it at most once per ``interval_s``
(default 1 s; the first change after a quiet second is written at once). The state is
serialised in that thread, not by ``update``: the findings are immutable, and the annotations
may be handed over as an ``ItemsDocument`` (a tuple of immutable items plus how to turn one into
a dict) whose items' JSON is cached by identity, so a write after one edit in a study with 1,000
ROIs serialises one ROI and joins the cached text of the others. ``flush()`` writes
now; ``close()`` flushes and stops the thread. Every write is atomic (app.core.atomic: temp file,
fsync, rename), so a process killed at any moment leaves the previous or the new file, never a
torn one, and loses at most about ``interval_s`` plus one write of work.

File: ``user_data_dir()/autosave/<safe study key>.json`` (the key is the StudyInstanceUID, else
a hash of patient ID + study date/time + series UIDs: app.viewer.identity)::

    {"format": "isthmus-autosave", "version": 1, "study_instance_uid": "...",
     "saved": "2026-11-21T17:00:00.123+00:00", "saved_unix": 1795366800.123,
     "patient": {"patient_id": ..., "patient_name": ..., "birth_date": ..., "sex": ...} (optional),
     "findings": {<findings document, docs/findings-format.md>}, "annotations": {...} | null}

A file that cannot be restored is never overwritten: ``set_aside(path)`` renames it to
``<name>.unreadable-<UTC time>.json`` before the session writes a new one.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import datetime as _dt
import hashlib
import json
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.atomic import write_text_atomic
from app.core.paths import user_data_dir
from app.findings import io as findings_io, model as findings_model
from app.findings.json_pieces_out import dumps_in_pieces

log = logging.getLogger(__name__)

AUTOSAVE_FORMAT = "isthmus-autosave"
AUTOSAVE_VERSION = 1
DEFAULT_INTERVAL_S = 1.0

_live: weakref.WeakSet[Autosaver] = weakref.WeakSet()


class AutosaveError(findings_io.FindingsFileError):
    """An autosave file that cannot be restored (names the file and the problem)."""


def autosave_dir(data_dir: str | os.PathLike | None = None) -> Path:
    return (Path(data_dir) if data_dir is not None else user_data_dir()) / "autosave"


def safe_study_name(study_uid: str) -> str:
    """A file-name-safe name for a study UID (UIDs are kept as they are; anything else is
    sanitised and made unique with a short hash)."""
    uid = str(study_uid or "")
    if re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z._-]{0,99}", uid) and not uid.endswith("."):
        return uid
    cleaned = re.sub(r"[^0-9A-Za-z._-]+", "_", uid).strip("._")[:60] or "unknown-study"
    digest = hashlib.sha1(uid.encode("utf-8")).hexdigest()[:10]
    return f"{cleaned}-{digest}"


def autosave_path(study_uid: str, data_dir: str | os.PathLike | None = None) -> Path:
    return autosave_dir(data_dir) / f"{safe_study_name(study_uid)}.json"


@dataclass(frozen=True)
class ItemsDocument:
    """The JSON object ``{**head, key: [item_to_dict(i) for i in items]}``, serialised by the
    autosave thread. ``items`` must be immutable (frozen dataclasses) so the thread can read
    them while the GUI goes on editing; each item's JSON is cached across writes by identity."""

    head: Mapping[str, Any]
    key: str
    items: tuple[Any, ...]
    item_to_dict: Callable[[Any], dict]


class _JsonCache:
    """JSON text of immutable objects, by identity (each entry keeps its object alive, so an
    id is never reused while cached). ``retain`` drops what the last write did not use."""

    def __init__(self) -> None:
        self._texts: dict[int, tuple[Any, str]] = {}
        self._used: dict[int, tuple[Any, str]] = {}

    def text(self, obj: Any, to_plain: Callable[[Any], Any], allow_nan: bool = False) -> str:
        hit = self._texts.get(id(obj))
        if hit is None or hit[0] is not obj:
            hit = (obj, dumps_in_pieces(to_plain(obj), allow_nan=allow_nan))  # a 2.5 MB entry: not one GIL-long call
        self._used[id(obj)] = hit
        return hit[1]

    def retain_used(self) -> None:
        self._texts, self._used = self._used, {}


def _items_json(doc: ItemsDocument, cache: _JsonCache) -> str:
    head = json.dumps({k: v for k, v in doc.head.items() if k != doc.key}, allow_nan=False)
    items = ", ".join(cache.text(item, doc.item_to_dict) for item in doc.items)
    return (head[:-1] + ", " if len(head) > 2 else "{") + json.dumps(doc.key) + ": [" + items + "]}"


_LIST_FIELDS = ("pars", "levels", "key_images", "amendments")  # StudyFindings tuples: one JSON per entry


def _findings_json(findings: findings_model.StudyFindings, cache: _JsonCache) -> str:
    """``json.dumps(findings_to_dict(findings))``, with each pars / level / key image /
    amendment entry's JSON reused while the entry object is unchanged (an edit replaces one
    entry; a 10 MB findings file is one big entry list, never re-serialised whole)."""
    light = dataclasses.replace(findings, pars=(), levels=(), key_images=(), amendments=())  # = _LIST_FIELDS
    parts = []
    for key, value in findings_io.findings_to_dict(light).items():
        parts.append(f"{json.dumps(key)}: {json.dumps(value)}")
    for name in _LIST_FIELDS:
        entries = getattr(findings, name)
        if entries:
            parts.append(f"{json.dumps(name)}: [" + ", ".join(cache.text(e, findings_io.to_plain, allow_nan=True)
                                                             for e in entries) + "]")
    return "{" + ", ".join(parts) + "}"


def _now_iso(t: float) -> str:
    return _dt.datetime.fromtimestamp(t, tz=_dt.UTC).isoformat(timespec="milliseconds")


class Autosaver:
    """Coalescing, atomic, background autosave for one study (see the module docstring)."""

    def __init__(self, study_uid: str, data_dir: str | os.PathLike | None = None,
                 interval_s: float = DEFAULT_INTERVAL_S, patient: dict | None = None) -> None:
        self.study_uid = str(study_uid or "")
        self.path = autosave_path(self.study_uid, data_dir)
        self.interval_s = float(interval_s)
        self.patient = dict(patient) if patient else None  # whose work this is (checked on restore)
        self.writes = 0  # completed writes (for tests and diagnostics)
        self.last_error: str = ""
        self.last_saved_unix: float | None = None  # time of the last successful write
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()  # one writer at a time (thread or flush)
        self._pending: tuple[findings_model.StudyFindings, str | ItemsDocument] | None = None  # (findings, annotations)
        self._cache = _JsonCache()  # JSON of the findings and annotations last written (write thread)
        self._last_write = 0.0
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._remove_stale_temp_files()
        self._thread = threading.Thread(target=self._run, name=f"autosave-{self.path.stem[:20]}", daemon=True)
        self._thread.start()
        _live.add(self)

    # ------------------------------------------------------------------ public API
    def update(self, findings: findings_model.StudyFindings, annotations_doc: Any = None) -> None:
        """Record the latest state; it is written within about ``interval_s``. A plain
        ``annotations_doc`` is snapshotted as JSON now (TypeError/ValueError when it is not
        JSON-able; nothing recorded); an ``ItemsDocument`` is serialised by the write thread."""
        if not isinstance(findings, findings_model.StudyFindings):
            raise TypeError(f"expected StudyFindings, got {type(findings).__name__}")
        annotations_json: str | ItemsDocument = (annotations_doc if isinstance(annotations_doc, ItemsDocument)
                                                 else json.dumps(annotations_doc, allow_nan=False))
        with self._cond:
            if self._closed:
                raise RuntimeError("autosaver is closed")
            self._pending = (findings, annotations_json)
            self._cond.notify()

    def flush(self) -> None:
        """Write the pending state now (no-op when nothing changed since the last write)."""
        self._write_pending()

    def close(self) -> None:
        """Flush and stop the background thread. Safe to call twice."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=10)
        self._write_pending()
        _live.discard(self)

    def discard(self) -> None:
        """Forget pending changes and delete the autosave file (after an explicit save, say)."""
        with self._cond:
            self._pending = None
        with self._write_lock, contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    @property
    def dirty(self) -> bool:
        with self._cond:
            return self._pending is not None

    def __enter__(self) -> Autosaver:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                delay = self._last_write + self.interval_s - time.monotonic()
                if delay > 0:
                    self._cond.wait(timeout=delay)  # coalesce; close() wakes us early
                    if self._closed:
                        return
                    continue
            self._write_pending()

    def _write_pending(self) -> None:
        with self._write_lock:
            with self._cond:
                pending, self._pending = self._pending, None
            if pending is None:
                return
            findings, annotations = pending
            now = time.time()
            cache = self._cache
            try:
                annotations_json = annotations if isinstance(annotations, str) else _items_json(annotations, cache)
                text = (
                    '{"format": ' + json.dumps(AUTOSAVE_FORMAT)
                    + ', "version": ' + str(AUTOSAVE_VERSION)
                    + ', "study_instance_uid": ' + json.dumps(self.study_uid)
                    + ', "saved": ' + json.dumps(_now_iso(now))
                    + ', "saved_unix": ' + repr(now)
                    + (', "patient": ' + json.dumps(self.patient) if self.patient else "")
                    + ', "findings": ' + _findings_json(findings, cache)
                    + ', "annotations": ' + annotations_json + "}\n"
                )
                write_text_atomic(self.path, text)
            except Exception as exc:  # disk full, permissions...: keep the state for the next try
                self.last_error = f"{self.path}: {exc}"
                log.warning("autosave failed: %s", self.last_error)
                with self._cond:
                    if self._pending is None:
                        self._pending = pending
                    self._last_write = time.monotonic()
                return
            cache.retain_used()
            self.last_error = ""
            self.last_saved_unix = now
            self.writes += 1
            with self._cond:
                self._last_write = time.monotonic()

    def _remove_stale_temp_files(self) -> None:
        """Temp files left by a process killed mid-write (they never replace the real file)."""
        for tmp in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            try:
                if time.time() - tmp.stat().st_mtime > 5.0:
                    tmp.unlink()
            except OSError:
                pass


@atexit.register
def _flush_all() -> None:
    for saver in list(_live):
        with contextlib.suppress(Exception):
            saver.flush()


def read_autosave_document(path: str | os.PathLike) -> dict:
    """The raw autosave document, checked (AutosaveError otherwise)."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AutosaveError(p, "file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise AutosaveError(p, f"cannot read the autosave ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise AutosaveError(p, f"autosave is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    if not isinstance(doc, dict) or doc.get("format") != AUTOSAVE_FORMAT:
        raise AutosaveError(p, "not an Isthmus autosave file")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise AutosaveError(p, "autosave version is missing")
    if version > AUTOSAVE_VERSION:
        raise AutosaveError(p, f"autosave written by a newer Isthmus (version {version}); update Isthmus")
    if "findings" not in doc:
        raise AutosaveError(p, "autosave has no findings")
    return doc


def load_autosave(study_uid: str, data_dir: str | os.PathLike | None = None
                  ) -> tuple[findings_model.StudyFindings, Any] | None:
    """(findings, annotations_doc) from the study's autosave, None when there is none.
    AutosaveError (a FindingsFileError) when the file exists but cannot be restored."""
    path = autosave_path(study_uid, data_dir)
    if not path.exists():
        return None
    doc = read_autosave_document(path)
    try:
        findings = findings_io.findings_from_dict(doc["findings"], path)
    except findings_io.FindingsFileError as exc:
        raise AutosaveError(path, f"autosaved findings: {exc.problem}") from exc
    return findings, doc.get("annotations")


def autosave_patient(path: str | os.PathLike) -> dict | None:
    """The patient recorded in an autosave document (None for files without one)."""
    patient = read_autosave_document(path).get("patient")
    return patient if isinstance(patient, dict) else None


def set_aside(path: str | os.PathLike) -> Path:
    """Rename an autosave that cannot be restored to ``<stem>.unreadable-<UTC time>.json`` (kept
    for the reader or support, never overwritten). Returns the new path; OSError on failure."""
    p = Path(path)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = p.with_name(f"{p.stem}.unreadable-{stamp}{p.suffix}")
    os.replace(p, target)
    return target


def delete_autosave(study_uid: str, data_dir: str | os.PathLike | None = None) -> bool:
    """Remove the study's autosave; True when there was one."""
    try:
        autosave_path(study_uid, data_dir).unlink()
        return True
    except FileNotFoundError:
        return False
