"""One open study of one patient: findings, annotations, one undo history, autosave, pathway (no Qt).

Widgets send intents (``edit_pars``, ``set_context`` ...) and listen to ``findings_changed(findings)``
and ``pathway_changed(result)``. Intent or drawing -> command on ``history`` (shared with the
annotation store: Undo walks drawings and table edits in order; a table edit of a pars marker is
ONE command) -> findings -> pathway.evaluate -> autosave -> events. Clinical edit and
patient/study rules: app.session_edits; autosave rules: app.session_autosave.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import session_edits as edits
from app.annotations.store import AnnotationStore
from app.core.events import Event
from app.core.history import History
from app.findings.derive import apply_finding_edit_to_annotations, derive_findings
from app.findings.io import load_findings, save_findings
from app.findings.model import ClinicalContext, Level, ParsFinding, Side, StudyFindings
from app.pathway import PathwayResult, Ruleset, evaluate
from app.session_autosave import SessionAutosave, annotations_document
from app.session_edits import SessionError as SessionError
from app.viewer.identity import PatientIdentity
from app.viewer.study_info import StudyInfo

if TYPE_CHECKING:  # highdicom and pydicom load only when an SR is read, not with the window
    from app.findings.sr_discovery import FoundSR

log = logging.getLogger(__name__)

# the study's images for SR evidence: its folder, or its files
StudySource = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


class StudySession:
    """Findings, annotations, history, autosave and pathway for one study (module docstring)."""

    def __init__(self, study_uid: str, findings: StudyFindings | None = None,
                 annotation_store: AnnotationStore | None = None, ruleset: Ruleset | None = None,
                 autosave: bool = True, data_dir: str | os.PathLike[str] | None = None,
                 study_source: StudySource | None = None, study: StudyInfo | None = None) -> None:
        self.study_uid, self.study = study_uid, study
        self.study_source = study_source  # the study's images (ScanResult, folder, files or datasets): SR evidence
        self.findings_changed = Event("findings_changed")  # emits (StudyFindings)
        self.pathway_changed = Event("pathway_changed")  # emits (PathwayResult | None)
        self._findings = self._with_study(edits.initial_findings(findings, study_uid))
        self.pathway_result: PathwayResult | None = None
        self.pathway_error, self.last_evaluate_ms = "", 0.0
        self.path: Path | None = None  # findings file last saved/opened
        self._derive_paused = 0
        self.annotation_store = annotation_store if annotation_store is not None else AnnotationStore()
        self.history: History = self.annotation_store.history
        for event in self._store_events():
            event.connect(self._on_annotations_changed)
        self.ruleset, self._ruleset_error = (ruleset, "") if ruleset is not None else edits.load_default_ruleset()
        key = study.identity.autosave_key if study is not None else study_uid
        self.autosave = SessionAutosave(key, data_dir, self.patient, enabled=autosave)
        self._evaluate()

    # ------------------------------------------------------------------ read access
    @property
    def findings(self) -> StudyFindings:
        return self._findings

    @property
    def context(self) -> ClinicalContext:
        return self._findings.context

    @property
    def patient(self) -> PatientIdentity | None:
        return self.study.identity.patient if self.study is not None else None

    # ------------------------------------------------------------------ intents
    def set_findings(self, findings: StudyFindings, *, record_undo: bool = True) -> None:
        """Replace the whole findings (open file, restore). Undoable unless told not."""
        self._commit(findings, "replace findings", record_undo=record_undo)

    def edit_pars(self, level: Level | str, side: Side | str, **changes: Any) -> StudyFindings:
        """Change the pars entry at (level, side) (app.session_edits.edit_pars); a status
        change is written to the marker(s) behind it in the same undo step."""
        level, side = Level(level), Side(side)
        new = edits.edit_pars(self._findings, level, side, changes)
        finding = new.pars_at(level, side)
        self._commit(new, f"edit {level.value} {side.value} pars",
                     marker_edit=finding if finding is not None and "status" in changes else None)
        return self._findings

    def edit_level(self, level: Level | str, **changes: Any) -> StudyFindings:
        """Change the per-level entry (app.session_edits.edit_level)."""
        self._commit(edits.edit_level(self._findings, level, changes), f"edit {Level(level).value}")
        return self._findings

    def set_context(self, context: ClinicalContext) -> None:
        self._commit(self._findings.with_context(edits.edit_context(self._findings.context, context)),
                     "edit clinical context")

    def edit_context(self, **changes: Any) -> None:
        """Change some ClinicalContext fields (None = unknown)."""
        edits.check_keys(ClinicalContext, changes, "clinical context")
        self.set_context(dataclasses.replace(self._findings.context, **changes))

    def set_impression(self, text: str) -> None:
        self._commit(dataclasses.replace(self._findings, impression=str(text)), "edit impression")

    def set_reader(self, name: str) -> None:
        self._commit(dataclasses.replace(self._findings, reader=str(name)), "edit reader")

    def undo(self) -> bool:
        return self.history.undo()

    def redo(self) -> bool:
        return self.history.redo()

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the findings file (atomic). Raises OSError with the path on failure."""
        self.path = Path(path)
        save_findings(self._findings, self.path)
        return self.path

    def open(self, path: str | os.PathLike[str], loaded: StudyFindings | None = None) -> StudyFindings:
        """Load a findings file (undoable). FindingsFileError on a bad file or another study's.
        ``loaded``: the file's findings already read (by a worker thread) from ``path``."""
        found = loaded if loaded is not None else load_findings(path)
        edits.check_findings_study(found, self.study_uid, path)
        found = self._with_study(found)  # imaging performed, age/sex from DICOM where not entered
        self.path = Path(path)
        self.set_findings(found)
        return found

    def open_sr(self, found: FoundSR) -> StudyFindings:
        """Load an Isthmus SR of this study (app.findings.sr_discovery) as one undoable step;
        SessionError when it is another patient's or study's (edits.check_sr_belongs). An existing
        autosave is first copied aside (``autosave.notice`` says where): neither version is lost."""
        f = edits.check_sr_belongs(found, self.patient, self.study_uid)
        kept = self.autosave.keep_copy("before-sr")  # the file holds the reader's latest work first
        if kept is not None:
            self.autosave.notice = f"The autosave before loading the SR was kept as {kept}."
        self.set_findings(self._with_study(f))
        return self._findings

    def restore(self) -> bool:
        """Load this study's autosave. True when something was restored. A file that cannot be
        restored (unreadable, newer version, another patient) is set aside, never overwritten;
        ``autosave.notice`` then tells the reader where it went."""
        saved = self.autosave.restore()
        if saved is None:
            return False
        findings, annotations_doc = saved
        if annotations_doc is not None:
            with self.derive_paused():  # a derive here would autosave the empty pre-restore findings over the file
                if not self.autosave.load_annotations(self.annotation_store, annotations_doc):
                    return False
        self._commit(self._with_study(findings), "restore", record_undo=False, touch=False)
        return True

    def close(self) -> None:
        """Flush the autosave and drop every subscription (call when the study is closed)."""
        for event in self._store_events():
            event.disconnect(self._on_annotations_changed)
        self.autosave.close()

    # ------------------------------------------------------------------ SR export
    def export_sr(self, path: str | os.PathLike[str], anonymised: bool = False) -> Path:
        """Write the findings as DICOM SR with this study's images as evidence. SessionError when
        the images or the annotations behind the findings belong to another patient."""
        from app.findings.sr_export import export_sr, read_study_headers  # highdicom: only when exporting

        if self.study_source is None:
            raise SessionError("SR export needs the study's images; none are known for this session")
        evidence = read_study_headers(self.study_source, self._findings.study_instance_uid)
        edits.check_same_patient(self.patient, self.study, self._findings, evidence)
        if anonymised:
            edits.anonymise_headers(evidence)
        return export_sr(self._findings, path, study=evidence)

    # ------------------------------------------------------------------ internals
    def _with_study(self, findings: StudyFindings) -> StudyFindings:
        return self.study.apply_to(findings) if self.study is not None else findings

    def _store_events(self) -> tuple[Event, ...]:
        events = self.annotation_store.events
        return (events.added, events.changed, events.removed, events.reset)

    @contextlib.contextmanager
    def derive_paused(self) -> Iterator[None]:
        """Annotation changes inside the block do not re-derive the findings (an undo step
        restores both itself)."""
        self._derive_paused += 1
        try:
            yield
        finally:
            self._derive_paused -= 1

    def _commit(self, new: StudyFindings, text: str, *, record_undo: bool = True, touch: bool = True,
                marker_edit: ParsFinding | None = None) -> None:
        if new == self._findings:
            return
        if touch:
            new = edits.stamped(new, datetime.datetime.now(datetime.UTC))
        if not record_undo or self.history.running:
            self._apply(new)
            return
        with self.history.capture() as steps, self.derive_paused():
            if marker_edit is not None:
                apply_finding_edit_to_annotations(self.annotation_store, marker_edit)
        self.history.push(edits.FindingsEdit(self._apply, self.derive_paused, self._findings, new, text, steps))

    def _apply(self, new: StudyFindings) -> None:
        self._findings = new
        self._evaluate()
        self.autosave.update(self._findings, annotations_document(self.annotation_store))
        self.findings_changed.emit(self._findings)
        self.pathway_changed.emit(self.pathway_result)

    def _evaluate(self) -> None:
        self.pathway_result, self.pathway_error = None, ""
        if self.ruleset is None:
            self.pathway_error = "No pathway ruleset loaded" + (f": {self._ruleset_error}" if self._ruleset_error else ".")
            return
        t0 = time.perf_counter()
        try:
            self.pathway_result = evaluate(self._findings, self.ruleset)
        except Exception as exc:  # shown as "pathway evaluation failed", never as a normal result
            log.exception("pathway evaluation failed")
            self.pathway_error = f"pathway evaluation failed: {exc}"
        self.last_evaluate_ms = (time.perf_counter() - t0) * 1000.0

    def _on_annotations_changed(self, *_event_args: object) -> None:
        if self._derive_paused:
            return
        notes: list[str] = []
        modality = self.study.series_modality if self.study else None
        try:
            new = derive_findings(self.annotation_store, self._findings, notes, series_modality=modality)
        except Exception as exc:  # a drawing the rules cannot read must not lose the drawing
            log.exception("deriving findings from annotations failed: %s", exc)
            new = self._findings
        for note in notes:
            log.info("derive: %s", note)
        if new == self._findings:
            self.autosave.update(self._findings, annotations_document(self.annotation_store))  # a length changes no finding
        else:
            self._commit(new, "derive", record_undo=False)  # the drawing is the undo step
