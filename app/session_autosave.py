"""The autosave of one study session (no Qt): start, restore, status, flush, close.

``SessionAutosave`` wraps app.findings.autosave.Autosaver with the session's safety rules:

* a folder that cannot be written leaves autosave OFF and says why (``error``), the review goes on;
* restore loads only this patient's file: an autosave of another patient, or one that cannot be
  read (corrupt, newer version), is set aside under a backup name (``notice`` says where) and never
  restored or overwritten;
* ``status()`` gives the status bar one of saved / pending / idle / failed / off.
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from app.annotations.model import Annotation
from app.annotations.store import DOC_FORMAT, DOC_VERSION, AnnotationDocError, AnnotationStore
from app.findings.autosave import (
    AutosaveError,
    Autosaver,
    ItemsDocument,
    autosave_dir,
    autosave_path,
    autosave_patient,
    load_autosave,
    set_aside,
)
from app.findings.io import FindingsFileError
from app.findings.model import StudyFindings
from app.viewer.identity import PatientIdentity

log = logging.getLogger(__name__)

__all__ = ["Restored", "SessionAutosave", "annotations_document"]

Restored = tuple[StudyFindings, Any]  # findings, annotations document (JSON as read; None when absent)
_ANNOTATIONS_HEAD = {"format": DOC_FORMAT, "version": DOC_VERSION}


def annotations_document(store: AnnotationStore) -> ItemsDocument:
    """The annotations as the autosave thread serialises them (each item's JSON cached)."""
    return ItemsDocument(_ANNOTATIONS_HEAD, "annotations", store.saved_items(), Annotation.to_dict)


class SessionAutosave:
    """Autosave of the study keyed ``key`` of ``patient`` under ``data_dir`` (None = user data)."""

    def __init__(self, key: str, data_dir: str | os.PathLike[str] | None, patient: PatientIdentity | None,
                 enabled: bool = True) -> None:
        self.key, self.data_dir, self.patient = key, data_dir, patient
        self.error = ""  # why the last autosave (or restore) failed; "" when fine
        self.notice = ""  # what the reader must know about the autosave (set-aside file)
        self.writer: Autosaver | None = None
        if not enabled:
            return
        try:
            self.writer = Autosaver(key, data_dir=data_dir, patient=patient.to_dict() if patient else None)
        except OSError as exc:
            self.error = f"autosave is OFF: cannot write to {autosave_dir(data_dir)} ({exc})"
            log.warning(self.error)

    @property
    def path(self) -> Path | None:
        return self.writer.path if self.writer is not None else None

    def restore(self) -> Restored | None:
        """This patient's saved findings and annotations document, or None (nothing there, or
        set aside: ``notice`` says why and where)."""
        path = autosave_path(self.key, self.data_dir)
        if not path.exists():
            return None
        try:
            saved = load_autosave(self.key, self.data_dir)
            theirs = PatientIdentity.from_dict(autosave_patient(path))
            if theirs is not None and self.patient is not None and not theirs.same_patient(self.patient):
                raise AutosaveError(path, f"it belongs to another patient (ID {theirs.patient_id})")
        except FindingsFileError as exc:
            self.set_aside(exc)
            return None
        return saved

    def load_annotations(self, store: AnnotationStore, doc: Any) -> bool:
        """Load the restored annotations ``doc`` into ``store``; ``notice`` lists the items that
        could not be read. False when the document cannot be read at all: the file is set aside."""
        try:
            problems = store.load_doc(doc)
        except AnnotationDocError as exc:
            self.set_aside(exc)
            return False
        self.notice = "; ".join(problems)
        return True

    def set_aside(self, why: Exception) -> None:
        """Keep the autosave file under a backup name (never overwritten) and say so in ``notice``."""
        path = autosave_path(self.key, self.data_dir)
        try:
            kept = set_aside(path)
            self.notice = f"The autosave could not be restored ({why}). It was kept as {kept}."
        except OSError as exc:
            self.notice = f"The autosave could not be restored ({why}) nor set aside ({exc})."
            self.close()  # never overwrite it
        self.error = f"autosave not restored: {why}"
        log.warning(self.notice)

    def update(self, findings: StudyFindings, annotations_doc: dict[str, Any] | ItemsDocument) -> None:
        """Record the latest state (written in the background); a failure is kept in ``error``."""
        if self.writer is None:
            return
        try:
            self.writer.update(findings, annotations_doc)
        except (RuntimeError, TypeError, ValueError) as exc:
            self.error = f"autosave failed: {exc}"
            log.warning(self.error)

    def status(self) -> tuple[str, str]:
        """("saved", "12:03:41") | ("pending", "") | ("idle", "") nothing to save yet |
        ("failed", why) | ("off", why), for the status bar."""
        writer = self.writer
        if writer is None:
            return ("off", self.error or "autosave is off")
        if writer.last_error:
            return ("failed", writer.last_error)
        if writer.dirty:
            return ("pending", "")
        if writer.last_saved_unix is not None:
            return ("saved", time.strftime("%H:%M:%S", time.localtime(writer.last_saved_unix)))
        return ("idle", "")

    def flush(self) -> None:
        if self.writer is not None:
            self.writer.flush()

    def keep_copy(self, why: str) -> Path | None:
        """Flush, then copy the autosave file aside as ``<name>.<why>-<UTC time>.json`` (before the
        session's findings are replaced wholesale); None when there is no file."""
        self.flush()
        saved = autosave_path(self.key, self.data_dir)
        if not saved.exists():
            return None
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = saved.with_name(f"{saved.stem}.{why}-{stamp}{saved.suffix}")
        shutil.copy2(saved, kept)
        return kept

    def close(self) -> None:
        """Write what is pending and stop; later updates are dropped."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
