"""The clinical edit rules of a study session as pure functions (no Qt, no session state).

``edit_pars(findings, level, side, changes)``, ``edit_level(findings, level, changes)`` and
``edit_context(old, new)`` return new values; invalid combinations raise ValueError (unknown
keys TypeError) and change nothing. ``StudySession`` turns their results into undoable
commands. ``check_same_patient`` is the SR-export rule: no findings leave with another
patient's images. ``check_findings_study`` and ``check_sr_belongs`` refuse a findings file or an
SR of another study or patient before it is loaded. ``FindingsEdit`` is the undo step of an edit;
``load_default_ruleset`` never lets a broken ruleset stop the review.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from app.core.history import Command
from app.findings.io import FindingsFileError
from app.findings.model import (
    ClinicalContext,
    EdemaSite,
    Level,
    LevelFinding,
    ParsFinding,
    ParsStatus,
    Side,
    Slip,
    SlipTechnique,
    StudyFindings,
)
from app.pathway import Ruleset, load_ruleset
from app.viewer.identity import PatientIdentity
from app.viewer.study_info import StudyInfo

if TYPE_CHECKING:  # pydicom/highdicom are imported only when an SR is read or exported (start-up time)
    from pydicom.dataset import Dataset

    from app.findings.sr_discovery import FoundSR


log = logging.getLogger(__name__)


class SessionError(Exception):
    """An intent the session could not carry out; the message says why in plain words."""


class FindingsEdit:
    """One undo step: findings ``before`` -> ``after`` (shown with ``apply``) plus the annotation
    steps made with it, replayed while ``paused()`` keeps them from re-deriving the findings."""

    def __init__(self, apply: Callable[[StudyFindings], None], paused: Callable[[], AbstractContextManager[None]],
                 before: StudyFindings, after: StudyFindings, text: str, annotation_steps: list[Command]) -> None:
        self.apply, self.paused, self.before, self.after, self.text = apply, paused, before, after, text
        self.annotation_steps = annotation_steps
        self._first = True

    def redo(self) -> None:
        if not self._first:  # the first time the annotation steps have already run
            with self.paused():
                for step in self.annotation_steps:
                    step.redo()
        self._first = False
        self.apply(self.after)

    def undo(self) -> None:
        with self.paused():
            for step in reversed(self.annotation_steps):
                step.undo()
        self.apply(self.before)


# Short aliases accepted by edit_level besides the dataclass field names.
SLIP_KEYS = {
    "slip_percent": "percent",
    "slip_direction": "direction",
    "slip_technique": "technique",
    "slip_angle_deg": "slip_angle_deg",
    "slip_angle_endplate": "slip_angle_endplate",
}


def load_default_ruleset() -> tuple[Ruleset | None, str]:
    """The bundled pathway ruleset and "", or None and why it could not be loaded: a broken
    ruleset file must not stop the review (the pathway then says no ruleset is loaded)."""
    try:
        return load_ruleset(), ""
    except Exception as exc:
        log.warning("default ruleset not loaded: %s", exc)
        return None, str(exc)


def check_keys(cls: type, changes: dict[str, Any], what: str) -> None:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise TypeError(f"unknown {what} field(s): {', '.join(unknown)}")


def initial_findings(findings: StudyFindings | None, study_uid: str) -> StudyFindings:
    """The findings a session of study ``study_uid`` starts with: empty ones of that study, or
    ``findings`` with the study UID filled in where they name none."""
    if findings is None:
        return StudyFindings(study_instance_uid=study_uid)
    return findings if findings.study_instance_uid else dataclasses.replace(findings, study_instance_uid=study_uid)


def edit_pars(findings: StudyFindings, level: Level | str, side: Side | str,
              changes: dict[str, Any]) -> StudyFindings:
    """Change the pars entry at (level, side), creating it (intact) if absent.

    Keys: any ParsFinding field, plus ``edema_present``, ``edema_sites``,
    ``edema_signal_ratio``. ``status=None`` removes the entry (not assessed)."""
    level, side = Level(level), Side(side)
    changes = dict(changes)
    current = findings.pars_at(level, side)
    if "status" in changes and changes["status"] is None:
        if current is None:
            return findings
        return dataclasses.replace(findings, pars=tuple(p for p in findings.pars if (p.level, p.side) != (level, side)))
    base = current or ParsFinding(level=level, side=side, status=ParsStatus.INTACT)
    edema = base.edema
    edema_changes: dict[str, Any] = {}
    if "edema_present" in changes:
        edema_changes["present"] = changes.pop("edema_present")
        if edema_changes["present"] is not True and "edema_sites" not in changes:
            edema_changes["sites"] = frozenset()
    if "edema_sites" in changes:
        sites = frozenset(EdemaSite(s) for s in (changes.pop("edema_sites") or ()))
        edema_changes["sites"] = sites
        if sites and edema.present is not True and "present" not in edema_changes:
            edema_changes["present"] = True
    if "edema_signal_ratio" in changes:
        edema_changes["signal_ratio"] = changes.pop("edema_signal_ratio")
    if "status" in changes:
        changes["status"] = ParsStatus(changes["status"])
        if changes["status"].fracture_extent == "none" and "gap_mm" not in changes:
            changes["gap_mm"] = None
        if changes["status"] is ParsStatus.STRESS_REACTION and edema.present is False and "present" not in edema_changes:
            edema_changes["present"] = True
    check_keys(ParsFinding, changes, "pars finding")
    try:
        if edema_changes:
            edema = dataclasses.replace(edema, **edema_changes)
        finding = dataclasses.replace(base, edema=edema, **changes)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{level.value} {side.value} pars: {exc}") from exc
    return findings.with_pars(finding)


def edit_level(findings: StudyFindings, level: Level | str, changes: dict[str, Any]) -> StudyFindings:
    """Change the per-level entry (slip, Pfirrmann, hypoplasia, stenosis, instability ...).

    Slip keys: ``slip_percent`` (None removes the slip), ``slip_direction``,
    ``slip_technique``, ``slip_angle_deg``, ``slip_angle_endplate``; or ``slip=Slip(...)``."""
    level = Level(level)
    changes = dict(changes)
    base = findings.level(level) or LevelFinding(level=level)
    slip_changes = {SLIP_KEYS[k]: changes.pop(k) for k in list(changes) if k in SLIP_KEYS}
    slip = changes.pop("slip", base.slip)
    try:
        if slip_changes:
            if "percent" in slip_changes and slip_changes["percent"] is None:
                slip = None
            elif slip is None:
                if "percent" not in slip_changes:
                    raise ValueError("enter the percent slip first")
                slip = Slip(**{"technique": SlipTechnique.ENTERED, **slip_changes})
            else:
                slip = dataclasses.replace(slip, **slip_changes)
        check_keys(LevelFinding, changes, "level finding")
        finding = dataclasses.replace(base, slip=slip, **changes)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{level.value}: {exc}") from exc
    return findings.with_level(finding)


def edit_context(old: ClinicalContext, new: ClinicalContext) -> ClinicalContext:
    """The context after the reader's edit ``old`` -> ``new``: a field the reader changed is no
    longer marked as taken from DICOM (the reader's value replaces the header's)."""
    changed = {name for name in old.from_dicom if getattr(new, name) != getattr(old, name)}
    if changed and new.from_dicom == old.from_dicom:
        return dataclasses.replace(new, from_dicom=new.from_dicom - changed)
    return new


def check_same_patient(patient: PatientIdentity | None, study: StudyInfo | None, findings: StudyFindings,
                       evidence: Sequence[Dataset]) -> None:
    """SessionError naming both patients when an evidence header or an annotation behind a
    finding belongs to another patient than the session's."""
    if patient is None:
        return
    for ds in evidence:
        theirs = PatientIdentity(*(str(ds.get(k, "") or "") for k in ("PatientID", "PatientName", "PatientBirthDate",
                                                                        "PatientSex")))
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


def anonymise_headers(evidence: Sequence[Dataset]) -> None:
    """Blank the patient's name, ID and birth date in the evidence headers (in place)."""
    for ds in evidence:
        ds.PatientName, ds.PatientID, ds.PatientBirthDate = "ANONYMISED^", "ANONYMISED", ""


def check_findings_study(found: StudyFindings, study_uid: str, path: str | os.PathLike[str]) -> None:
    """FindingsFileError naming ``path`` and both studies when the findings are another study's."""
    if found.study_instance_uid and study_uid and found.study_instance_uid != study_uid:
        raise FindingsFileError(
            path, f"the findings belong to study {found.study_instance_uid}, not the open study {study_uid}")


def check_sr_belongs(found: FoundSR, patient: PatientIdentity | None, study_uid: str) -> StudyFindings:
    """The findings of ``found`` once they may be loaded into the open study. SessionError naming
    the file when it holds no Isthmus findings, both patient IDs when it is another patient's,
    both studies when it is about another study (its header's or its findings' study UID)."""
    if found.findings is None:
        raise SessionError(f"{found.path}: {found.problem or 'not an Isthmus findings SR'}")
    theirs = PatientIdentity(found.patient_id, found.patient_name)
    if patient is not None and not theirs.same_patient(patient):
        raise SessionError(f"{found.path}: refused, the SR belongs to patient ID {found.patient_id or '(none)'}, "
                           f"the open study to patient ID {patient.patient_id or '(none)'}")
    f = found.findings
    other = sorted({u for u in (f.study_instance_uid, found.study_instance_uid) if u and u != study_uid})
    if study_uid and other:
        raise SessionError(f"{found.path}: refused, the SR is about study {other[0]}, not the open study {study_uid}")
    return f


def stamped(findings: StudyFindings, now: datetime.datetime) -> StudyFindings:
    """``findings`` modified at ``now`` (UTC, whole seconds); created then too unless already set."""
    iso = now.astimezone(datetime.UTC).replace(microsecond=0).isoformat()
    return dataclasses.replace(findings, modified=iso, created=findings.created or iso)
