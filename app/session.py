"""One open study of one patient: findings, annotations, one undo history, autosave, pathway (no Qt).

``StudySession`` is the single place the review panels talk to. Widgets send *intents*
(``edit_pars``, ``edit_level``, ``set_context``, ``set_impression`` ...) and listen to the
past-tense signals ``findings_changed(findings)`` and ``pathway_changed(result)``.

Flow of a user action (one way): intent or drawing -> command on ``history`` -> findings
(annotation changes re-derive them, app.findings.derive) -> pathway.evaluate -> autosave
-> signals. A table edit that corresponds to a pars marker is ONE command that edits both
(the marker update is captured into it), so Undo reverts both together.

``history`` (app.core.history.History) is shared with the annotation store: Edit > Undo walks
drawings, table, context and impression edits in the order they were made.

Identity: ``study`` (app.viewer.study_info.StudyInfo) says which patient and study the images
are. Autosave is keyed by its stable key; an autosave of another patient, or one that cannot
be read, is set aside under a backup name and never restored or overwritten. SR export
refuses findings that refer to images of another patient.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from app import session_edits as edits
from app.annotations.store import AnnotationStore
from app.core.history import History
from app.core.signals import Signal
from app.findings import autosave as fa, io as findings_io, model as m
from app.findings.derive import apply_finding_edit_to_annotations, derive_findings
from app.findings.sr_discovery import FoundSR
from app.pathway import Ruleset, evaluate, load_ruleset
from app.viewer.identity import PatientIdentity
from app.viewer.study_info import StudyInfo

log = logging.getLogger(__name__)



class SessionError(Exception):
    """An intent the session could not carry out; the message says why in plain words."""


def _now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


class FindingsEdit:
    """One undo step: findings ``before`` -> ``after`` plus the annotation steps made with it."""

    def __init__(self, session: StudySession, before: m.StudyFindings, after: m.StudyFindings,
                 text: str, annotation_steps: list[Any]) -> None:
        self.session, self.before, self.after, self.text = session, before, after, text
        self.annotation_steps = annotation_steps
        self._first = True

    def redo(self) -> None:
        if not self._first:  # the first time the annotation steps have already run
            with self.session._no_derive():
                for step in self.annotation_steps:
                    step.redo()
        self._first = False
        self.session._apply(self.after)

    def undo(self) -> None:
        with self.session._no_derive():
            for step in reversed(self.annotation_steps):
                step.undo()
        self.session._apply(self.before)


class StudySession:
    """Findings, annotations, history, autosave and pathway for one study (module docstring)."""

    def __init__(self, study_uid: str, findings: m.StudyFindings | None = None,
                 annotation_store: AnnotationStore | None = None, ruleset: Ruleset | None = None,
                 autosave: bool = True, settings: Any = None, data_dir: str | os.PathLike | None = None,
                 study_source: Any = None, study: StudyInfo | None = None) -> None:
        self.study_uid = study_uid
        self.study = study
        self.study_source = study_source  # the study's images (ScanResult, folder, files or datasets): SR evidence
        self.findings_changed = Signal("findings_changed")  # emits (StudyFindings)
        self.pathway_changed = Signal("pathway_changed")  # emits (PathwayResult | None)
        findings = findings if findings is not None else m.StudyFindings(study_instance_uid=study_uid)
        if not findings.study_instance_uid:
            findings = dataclasses.replace(findings, study_instance_uid=study_uid)
        self._findings = study.apply_to(findings) if study is not None else findings
        self.settings = settings
        self.pathway_result: Any = None
        self.pathway_error = ""
        self.last_evaluate_ms = 0.0
        self.autosave_error = ""  # why the last autosave (or restore) failed; "" when fine
        self.autosave_notice = ""  # what the reader must know about the autosave (set-aside file)
        self.path: Path | None = None  # findings file last saved/opened
        self.derive_notes: tuple[str, ...] = ()
        self._derive_blocked = 0
        self.annotation_store = annotation_store if annotation_store is not None else AnnotationStore()
        self.history: History = self.annotation_store.history
        for sig in (self.annotation_store.events.added, self.annotation_store.events.changed,
                    self.annotation_store.events.removed, self.annotation_store.events.reset):
            sig.connect(self._on_annotations_changed)
        self._ruleset_error = ""
        if ruleset is None:
            try:
                ruleset = load_ruleset()
            except Exception as exc:
                log.warning("default ruleset not loaded: %s", exc)
                self._ruleset_error = str(exc)
        self._ruleset = ruleset
        self._data_dir = data_dir
        self._autosaver: fa.Autosaver | None = None
        if autosave:
            patient = study.identity.patient.to_dict() if study is not None else None
            try:
                self._autosaver = fa.Autosaver(self.autosave_key, data_dir=data_dir, patient=patient)
            except OSError as exc:
                self.autosave_error = f"autosave is OFF: cannot write to {fa.autosave_dir(data_dir)} ({exc})"
                log.warning(self.autosave_error)
        self._evaluate()

    # ------------------------------------------------------------------ read access
    @property
    def findings(self) -> m.StudyFindings:
        return self._findings

    @property
    def context(self) -> m.ClinicalContext:
        return self._findings.context

    @property
    def ruleset(self) -> Ruleset | None:
        return self._ruleset

    @property
    def ruleset_version(self) -> str:
        rs = self._ruleset
        return f"{rs.id} {rs.version}" if rs is not None else ""

    @property
    def patient(self) -> PatientIdentity | None:
        return self.study.identity.patient if self.study is not None else None

    @property
    def autosave_key(self) -> str:
        return self.study.identity.autosave_key if self.study is not None else self.study_uid

    @property
    def can_undo(self) -> bool:
        return self.history.can_undo

    @property
    def can_redo(self) -> bool:
        return self.history.can_redo

    # ------------------------------------------------------------------ intents
    def set_findings(self, findings: m.StudyFindings, *, record_undo: bool = True) -> None:
        """Replace the whole findings (open file, restore). Undoable unless told not."""
        if not isinstance(findings, m.StudyFindings):
            raise TypeError(f"expected StudyFindings, got {type(findings).__name__}")
        self._commit(findings, "replace findings", record_undo=record_undo)

    def edit_pars(self, level: m.Level | str, side: m.Side | str, **changes: Any) -> m.StudyFindings:
        """Change the pars entry at (level, side) (app.findings.session_edits.edit_pars); a
        status change is written to the marker(s) behind it in the same undo step."""
        new = edits.edit_pars(self._findings, level, side, changes)
        finding = new.pars_at(level, side)
        self._commit(new, f"edit {m.Level(level).value} {m.Side(side).value} pars",
                     marker_edit=finding if finding is not None and "status" in changes else None)
        return self._findings

    def edit_level(self, level: m.Level | str, **changes: Any) -> m.StudyFindings:
        """Change the per-level entry (app.findings.session_edits.edit_level)."""
        self._commit(edits.edit_level(self._findings, level, changes), f"edit {m.Level(level).value}")
        return self._findings

    def set_context(self, context: m.ClinicalContext) -> None:
        if not isinstance(context, m.ClinicalContext):
            raise TypeError(f"expected ClinicalContext, got {type(context).__name__}")
        old = self._findings.context
        changed = {n for n in old.from_dicom if getattr(context, n) != getattr(old, n)}
        if changed and context.from_dicom == old.from_dicom:  # the reader's value replaces DICOM's
            context = dataclasses.replace(context, from_dicom=context.from_dicom - changed)
        if context != old:
            self._commit(self._findings.with_context(context), "edit clinical context")

    def edit_context(self, **changes: Any) -> None:
        """Change some ClinicalContext fields (None = unknown)."""
        edits.check_keys(m.ClinicalContext, changes, "clinical context")
        self.set_context(dataclasses.replace(self._findings.context, **changes))

    def set_impression(self, text: str) -> None:
        if text != self._findings.impression:
            self._commit(dataclasses.replace(self._findings, impression=str(text)), "edit impression")

    def set_reader(self, name: str) -> None:
        if name != self._findings.reader:
            self._commit(dataclasses.replace(self._findings, reader=str(name)), "edit reader")

    def set_ruleset(self, ruleset: Ruleset, settings: Any = None) -> None:
        self._ruleset, self._ruleset_error = ruleset, ""
        if settings is not None:
            self.settings = settings
        self._evaluate()
        self.pathway_changed.emit(self.pathway_result)

    def undo(self) -> bool:
        return self.history.undo()

    def redo(self) -> bool:
        return self.history.redo()

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write the findings file (atomic). Raises OSError with the path on failure."""
        p = Path(path)
        findings_io.save_findings(self._findings, p)
        self.path = p
        return p

    def open(self, path: str | os.PathLike) -> m.StudyFindings:
        """Load a findings file (undoable). FindingsFileError on a bad file or another study's."""
        f = findings_io.load_findings(path)
        if f.study_instance_uid and self.study_uid and f.study_instance_uid != self.study_uid:
            raise findings_io.FindingsFileError(
                path, f"the findings belong to study {f.study_instance_uid}, not the open study {self.study_uid}")
        if self.study is not None:
            f = self.study.apply_to(f)  # imaging performed, age/sex from DICOM where not entered
        self.path = Path(path)
        self.set_findings(f)
        return f

    def open_sr(self, found: FoundSR) -> m.StudyFindings:
        """Load the findings of an Isthmus SR found in this study (app.findings.sr_discovery) as one
        undoable step. SessionError naming both patient IDs when the SR belongs to another
        patient, or naming both studies when it is another study's. When an autosave exists it is
        first copied aside (``autosave_notice`` says where): neither version is lost."""
        if found.findings is None:
            raise SessionError(f"{found.path}: {found.problem or 'not an Isthmus findings SR'}")
        theirs = PatientIdentity(found.patient_id, found.patient_name)
        if self.patient is not None and not theirs.same_patient(self.patient):
            raise SessionError(f"{found.path}: refused, the SR belongs to patient ID {found.patient_id or '(none)'}, "
                               f"the open study to patient ID {self.patient.patient_id or '(none)'}")
        f = found.findings
        other = sorted({u for u in (f.study_instance_uid, found.study_instance_uid) if u and u != self.study_uid})
        if self.study_uid and other:
            raise SessionError(f"{found.path}: refused, the SR is about study {other[0]}, not the open study {self.study_uid}")
        self.flush()  # the file then holds the reader's latest work, not an older write
        saved = fa.autosave_path(self.autosave_key, self._data_dir)
        if saved.exists():
            stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            kept = saved.with_name(f"{saved.stem}.before-sr-{stamp}{saved.suffix}")
            shutil.copy2(saved, kept)
            self.autosave_notice = f"The autosave before loading the SR was kept as {kept}."
        if self.study is not None:
            f = self.study.apply_to(f)
        self.set_findings(f)
        return self._findings

    def restore(self) -> bool:
        """Load this study's autosave. True when something was restored. A file that cannot be
        restored (unreadable, newer version, another patient) is set aside, never overwritten;
        ``autosave_notice`` then tells the reader where it went."""
        path = fa.autosave_path(self.autosave_key, self._data_dir)
        if not path.exists():
            return False
        try:
            saved = fa.load_autosave(self.autosave_key, self._data_dir)
            owner = fa.autosave_patient(path)
            theirs = PatientIdentity.from_dict(owner)
            if theirs is not None and self.patient is not None and not theirs.same_patient(self.patient):
                raise fa.AutosaveError(path, f"it belongs to another patient (ID {theirs.patient_id})")
        except findings_io.FindingsFileError as exc:
            self._set_aside(path, exc)
            return False
        if saved is None:
            return False
        findings, annotations_doc = saved
        if annotations_doc is not None:
            with self._no_derive():  # a derive here would autosave the empty pre-restore findings over the file
                problems = self.annotation_store.load_doc(annotations_doc)
            if problems:
                self.autosave_notice = "; ".join(problems)
        if self.study is not None:
            findings = self.study.apply_to(findings)
        self._commit(findings, "restore", record_undo=False, touch=False)
        return True

    def _set_aside(self, path: Path, why: Exception) -> None:
        try:
            kept = fa.set_aside(path)
            self.autosave_notice = f"The autosave could not be restored ({why}). It was kept as {kept}."
        except OSError as exc:
            self.autosave_notice = f"The autosave could not be restored ({why}) nor set aside ({exc})."
            self._autosaver = None  # never overwrite it
        self.autosave_error = f"autosave not restored: {why}"
        log.warning(self.autosave_notice)

    @property
    def autosave_path(self) -> Path | None:
        return self._autosaver.path if self._autosaver is not None else None

    def autosave_status(self) -> tuple[str, str]:
        """("saved", "12:03:41") | ("pending", "") | ("idle", "") nothing to save yet |
        ("failed", why) | ("off", why), for the status bar."""
        a = self._autosaver
        if a is None:
            return ("off", self.autosave_error or "autosave is off")
        if a.last_error:
            return ("failed", a.last_error)
        if a.dirty:
            return ("pending", "")
        if a.last_saved_unix is not None:
            return ("saved", time.strftime("%H:%M:%S", time.localtime(a.last_saved_unix)))
        return ("idle", "")

    def flush(self) -> None:
        if self._autosaver is not None:
            self._autosaver.flush()

    def close(self) -> None:
        """Flush the autosave and drop every subscription (call when the study is closed)."""
        ev = self.annotation_store.events
        for sig in (ev.added, ev.changed, ev.removed, ev.reset):
            sig.disconnect(self._on_annotations_changed)
        if self._autosaver is not None:
            self._autosaver.close()
            self._autosaver = None

    # ------------------------------------------------------------------ SR export
    def export_sr(self, path: str | os.PathLike, anonymised: bool = False) -> Path:
        """Write the findings as DICOM SR with this study's images as evidence. SessionError when
        the images or the annotations behind the findings belong to another patient."""
        from app.findings.sr_export import export_sr, read_study_headers

        if self.study_source is None:
            raise SessionError("SR export needs the study's images; none are known for this session")
        evidence = read_study_headers(self.study_source, self._findings.study_instance_uid)
        check_same_patient(self.patient, self.study, self._findings, evidence)
        if anonymised:
            for ds in evidence:
                ds.PatientName, ds.PatientID, ds.PatientBirthDate = "ANONYMISED^", "ANONYMISED", ""
        return export_sr(self._findings, path, study=evidence)

    # ------------------------------------------------------------------ internals
    def _commit(self, new: m.StudyFindings, text: str, *, record_undo: bool = True, touch: bool = True,
                marker_edit: m.ParsFinding | None = None) -> None:
        if new == self._findings:
            return
        if touch:
            now = _now_iso()
            new = dataclasses.replace(new, modified=now, created=new.created or now)
        if not record_undo or self.history.running:
            self._apply(new)
            return
        with self.history.capture() as steps, self._no_derive():
            if marker_edit is not None:
                apply_finding_edit_to_annotations(self.annotation_store, marker_edit)
        self.history.push(FindingsEdit(self, self._findings, new, text, steps))

    def _apply(self, new: m.StudyFindings) -> None:
        self._findings = new
        self._evaluate()
        self._autosave()
        self.findings_changed.emit(self._findings)
        self.pathway_changed.emit(self.pathway_result)

    def _evaluate(self) -> None:
        self.pathway_error = ""
        if self._ruleset is None:
            self.pathway_result = None
            self.pathway_error = "No pathway ruleset loaded" + (f": {self._ruleset_error}" if self._ruleset_error else ".")
            return
        t0 = time.perf_counter()
        try:
            self.pathway_result = evaluate(self._findings, self._ruleset, self.settings)
        except Exception as exc:
            log.exception("pathway evaluation failed")
            self.pathway_result = None
            self.pathway_error = f"pathway evaluation failed: {exc}"
        self.last_evaluate_ms = (time.perf_counter() - t0) * 1000.0

    def _autosave(self) -> None:
        if self._autosaver is None:
            return
        try:
            self._autosaver.update(self._findings, self.annotation_store.to_doc())
        except (RuntimeError, TypeError, ValueError) as exc:
            self.autosave_error = f"autosave failed: {exc}"
            log.warning(self.autosave_error)

    def _no_derive(self) -> _DeriveBlock:
        return _DeriveBlock(self)

    def _on_annotations_changed(self, *_args: Any) -> None:
        if self._derive_blocked:
            return
        notes: list[str] = []
        modality = self.study.series_modality if self.study else None
        try:
            new = derive_findings(self.annotation_store, self._findings, notes, series_modality=modality)
        except Exception as exc:
            log.exception("deriving findings from annotations failed")
            self.derive_notes = (f"deriving findings from the annotations failed: {exc}",)
            self._autosave()
            return
        self.derive_notes = tuple(notes)
        if new == self._findings:
            self._autosave()  # a length or an ROI changes no finding; the drawing is still kept
        else:
            self._commit(new, "derive", record_undo=False)  # the drawing is the undo step


class _DeriveBlock:
    def __init__(self, session: StudySession) -> None:
        self.session = session

    def __enter__(self) -> None:
        self.session._derive_blocked += 1

    def __exit__(self, *exc: Any) -> None:
        self.session._derive_blocked -= 1


def check_same_patient(patient: PatientIdentity | None, study: StudyInfo | None, findings: m.StudyFindings,
                       evidence: list[Any]) -> None:
    """SessionError naming both patients when an evidence header or an annotation behind a
    finding belongs to another patient than the session's."""
    if patient is None:
        return
    for ds in evidence:
        theirs = PatientIdentity(str(ds.get("PatientID", "") or ""), str(ds.get("PatientName", "") or ""),
                                 str(ds.get("PatientBirthDate", "") or ""), str(ds.get("PatientSex", "") or ""))
        if not theirs.same_patient(patient):
            raise SessionError(f"SR export refused: the images of series {ds.get('SeriesInstanceUID', '?')} belong "
                               f"to patient ID {theirs.patient_id}, the findings to patient ID {patient.patient_id}")
    if study is None:
        return
    refs = [r for p in findings.pars for r in p.provenance] + [r for lv in findings.levels for r in lv.provenance]
    refs += [r for lv in findings.levels if lv.slip is not None for r in lv.slip.provenance]
    foreign = sorted({r.series_instance_uid for r in refs if r.series_instance_uid
                      and r.series_instance_uid not in study.patient_series_uids})
    if foreign:
        raise SessionError(f"SR export refused: findings refer to images (series {', '.join(foreign)}) that are "
                           f"not images of patient ID {patient.patient_id}")
