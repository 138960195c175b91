"""One open study: findings, annotations, autosave and the pathway result, wired together (no Qt).

``StudySession`` is the single place the review panels talk to. Widgets send *intents*
(``edit_pars``, ``edit_level``, ``set_context``, ``set_impression`` ...) and listen to the
past-tense signals ``findings_changed(findings)`` and ``pathway_changed(result)``.

Flow on every change (table edit, context edit, annotation change, open/restore):

    new StudyFindings -> (undo stack) -> pathway.evaluate(...) -> autosave -> signals

Annotation changes re-derive the findings (``app.annotations.derive.derive_findings``);
table edits that correspond to an annotation are pushed back to it
(``apply_finding_edit_to_annotations``). Everything optional (annotations, pathway,
autosave) is imported lazily so the session works while those packages are absent.

Undo: the session keeps its own findings-level undo/redo stack for table, context and
impression edits (see docs/panels.md for why and how it sits next to the annotation undo).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Union

from app.findings import io as findings_io
from app.findings import model as m

log = logging.getLogger(__name__)

from app.core.signals import Signal


# Short aliases accepted by edit_pars / edit_level besides the dataclass field names.
_PARS_EDEMA_KEYS = {"edema_present", "edema_sites", "edema_signal_ratio"}
_SLIP_KEYS = {
    "slip_percent": "percent",
    "slip_direction": "direction",
    "slip_technique": "technique",
    "slip_angle_deg": "slip_angle_deg",
    "slip_angle_endplate": "slip_angle_endplate",
}

UNDO_LIMIT = 200


class SessionError(Exception):
    """An intent the session could not carry out; the message says why in plain words."""


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


class StudySession:
    """Findings, annotations, autosave and pathway for one study (see module docstring)."""

    def __init__(
        self,
        study_uid: str,
        findings: Optional[m.StudyFindings] = None,
        annotation_store: Any = None,
        ruleset: Any = None,
        autosave: bool = True,
        settings: Any = None,
        data_dir: Optional[Union[str, os.PathLike]] = None,
        study_source: Any = None,
    ) -> None:
        self.study_uid = study_uid
        # the study's images (folder, list of files, or datasets): needed for DICOM SR export
        self.study_source = study_source
        self.findings_changed = Signal("findings_changed")  # emits (StudyFindings)
        self.pathway_changed = Signal("pathway_changed")  # emits (PathwayResult | None)
        self._findings = findings if findings is not None else m.StudyFindings(study_instance_uid=study_uid)
        if not self._findings.study_instance_uid:
            self._findings = dataclasses.replace(self._findings, study_instance_uid=study_uid)
        self._undo: list[m.StudyFindings] = []
        self._redo: list[m.StudyFindings] = []
        self.settings = settings
        self.pathway_result: Any = None
        self.pathway_error: str = ""
        self.last_evaluate_ms: float = 0.0
        self.autosave_error: str = ""
        self.path: Optional[Path] = None  # findings file last saved/opened
        self._deriving = False
        self._pushing = False
        self.derive_notes: tuple[str, ...] = ()  # remarks from the last annotation -> findings derivation

        self.annotation_store = annotation_store
        if self.annotation_store is None:
            self.annotation_store = _make_annotation_store()
        self._store_hooks: list[tuple[Any, Callable[..., Any]]] = []
        self._connect_store()

        self._ruleset = ruleset
        self._ruleset_error = ""
        if self._ruleset is None:
            self._ruleset, self._ruleset_error = _load_default_ruleset()

        self._data_dir = data_dir
        self._autosaver = None
        if autosave:
            self._autosaver = _make_autosaver(study_uid, data_dir)

        self._evaluate()

    # ------------------------------------------------------------------ read access
    @property
    def findings(self) -> m.StudyFindings:
        return self._findings

    @property
    def context(self) -> m.ClinicalContext:
        return self._findings.context

    @property
    def ruleset(self) -> Any:
        return self._ruleset

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def ruleset_version(self) -> str:
        rs = self._ruleset
        if rs is None:
            return ""
        for name in ("version", "ruleset_version"):
            v = getattr(rs, name, None)
            if v:
                ident = getattr(rs, "id", None) or getattr(rs, "name", None)
                return f"{ident} {v}" if ident else str(v)
        return ""

    # ------------------------------------------------------------------ intents
    def set_findings(self, findings: m.StudyFindings, *, record_undo: bool = True) -> None:
        """Replace the whole findings (open file, restore, derive). Undoable unless told not."""
        if not isinstance(findings, m.StudyFindings):
            raise TypeError(f"expected StudyFindings, got {type(findings).__name__}")
        self._commit(findings, record_undo=record_undo)

    def edit_pars(self, level: Union[m.Level, str], side: Union[m.Side, str], **changes: Any) -> m.StudyFindings:
        """Change the pars entry at (level, side), creating it (intact) if absent.

        Keys: any ParsFinding field, plus ``edema_present``, ``edema_sites``,
        ``edema_signal_ratio``. ``status=None`` removes the entry (not assessed).
        Invalid combinations raise ValueError and leave the session unchanged."""
        level, side = m.Level(level), m.Side(side)
        current = self._findings.pars_at(level, side)
        if "status" in changes and changes["status"] is None:
            if current is None:
                return self._findings
            new = dataclasses.replace(
                self._findings, pars=tuple(p for p in self._findings.pars if (p.level, p.side) != (level, side))
            )
            self._commit(new, edit=("pars", level, side, changes))
            return new
        base = current or m.ParsFinding(level=level, side=side, status=m.ParsStatus.INTACT)
        edema = base.edema
        edema_changes = {}
        if "edema_present" in changes:
            edema_changes["present"] = changes.pop("edema_present")
            if edema_changes["present"] is not True and "edema_sites" not in changes:
                edema_changes["sites"] = frozenset()
        if "edema_sites" in changes:
            sites = frozenset(m.EdemaSite(s) for s in (changes.pop("edema_sites") or ()))
            edema_changes["sites"] = sites
            if sites and edema.present is not True and "present" not in edema_changes:
                edema_changes["present"] = True
        if "edema_signal_ratio" in changes:
            edema_changes["signal_ratio"] = changes.pop("edema_signal_ratio")
        if "status" in changes:
            changes["status"] = m.ParsStatus(changes["status"])
            if changes["status"].fracture_extent == "none" and "gap_mm" not in changes:
                changes["gap_mm"] = None
            if changes["status"] is m.ParsStatus.STRESS_REACTION and edema.present is False and "present" not in edema_changes:
                edema_changes["present"] = True
        _check_keys(m.ParsFinding, changes, "pars finding")
        try:
            if edema_changes:
                edema = dataclasses.replace(edema, **edema_changes)
            finding = dataclasses.replace(base, edema=edema, **changes)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{level.value} {side.value} pars: {exc}") from exc
        new = self._findings.with_pars(finding)
        self._commit(new, edit=("pars", level, side, changes))
        return new

    def edit_level(self, level: Union[m.Level, str], **changes: Any) -> m.StudyFindings:
        """Change the per-level entry (slip, Pfirrmann, hypoplasia, stenosis, instability ...).

        Slip keys: ``slip_percent`` (None removes the slip), ``slip_direction``,
        ``slip_technique``, ``slip_angle_deg``, ``slip_angle_endplate``; or ``slip=Slip(...)``."""
        level = m.Level(level)
        base = self._findings.level(level) or m.LevelFinding(level=level)
        slip_changes = {_SLIP_KEYS[k]: changes.pop(k) for k in list(changes) if k in _SLIP_KEYS}
        slip = changes.pop("slip", base.slip)
        try:
            if slip_changes:
                if "percent" in slip_changes and slip_changes["percent"] is None:
                    slip = None
                elif slip is None:
                    if "percent" not in slip_changes:
                        raise ValueError("enter the percent slip first")
                    slip = m.Slip(**{"technique": m.SlipTechnique.ENTERED, **slip_changes})
                else:
                    slip = dataclasses.replace(slip, **slip_changes)
            _check_keys(m.LevelFinding, changes, "level finding")
            finding = dataclasses.replace(base, slip=slip, **changes)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{level.value}: {exc}") from exc
        new = self._findings.with_level(finding)
        self._commit(new, edit=("level", level, None, {**changes, **{f"slip_{k}": v for k, v in slip_changes.items()}}))
        return new

    def set_context(self, context: m.ClinicalContext) -> None:
        if not isinstance(context, m.ClinicalContext):
            raise TypeError(f"expected ClinicalContext, got {type(context).__name__}")
        if context == self._findings.context:
            return
        self._commit(self._findings.with_context(context))

    def edit_context(self, **changes: Any) -> None:
        """Change some ClinicalContext fields (None = unknown)."""
        _check_keys(m.ClinicalContext, changes, "clinical context")
        self.set_context(dataclasses.replace(self._findings.context, **changes))

    def set_impression(self, text: str) -> None:
        if text != self._findings.impression:
            self._commit(dataclasses.replace(self._findings, impression=str(text)))

    def set_reader(self, name: str) -> None:
        if name != self._findings.reader:
            self._commit(dataclasses.replace(self._findings, reader=str(name)))

    def set_ruleset(self, ruleset: Any, settings: Any = None) -> None:
        self._ruleset = ruleset
        self._ruleset_error = ""
        if settings is not None:
            self.settings = settings
        self._evaluate()
        self.pathway_changed.emit(self.pathway_result)

    # ------------------------------------------------------------------ undo
    def undo(self) -> bool:
        """Go back one findings edit. Pars markers follow (their status is written back) and
        annotation-derived parts are re-derived, so table and drawing stay consistent."""
        if not self._undo:
            return False
        self._redo.append(self._findings)
        self._apply(self._reconcile(self._undo.pop()))
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self._findings)
        self._apply(self._reconcile(self._redo.pop()))
        return True

    # ------------------------------------------------------------------ files
    def save(self, path: Union[str, os.PathLike]) -> Path:
        """Write the findings file (atomic). Raises OSError with the path on failure."""
        p = Path(path)
        findings_io.save_findings(self._findings, p)
        self.path = p
        return p

    def open(self, path: Union[str, os.PathLike]) -> m.StudyFindings:
        """Load a findings file into the session (undoable). FindingsFileError on a bad file;
        the session is unchanged then. A file for another study is refused."""
        f = findings_io.load_findings(path)
        if f.study_instance_uid and self.study_uid and f.study_instance_uid != self.study_uid:
            raise findings_io.FindingsFileError(
                path, f"the findings belong to study {f.study_instance_uid}, not the open study {self.study_uid}"
            )
        self.path = Path(path)
        self.set_findings(f)
        return f

    def restore(self) -> bool:
        """Load the autosave of this study when there is one. True when something was restored."""
        try:
            from app.findings.autosave import load_autosave  # type: ignore
        except ImportError:
            return False
        try:
            saved = load_autosave(self.study_uid, self._data_dir)
        except Exception as exc:  # a corrupt autosave must not stop the review
            log.warning("autosave for %s not restored: %s", self.study_uid, exc)
            self.autosave_error = f"autosave not restored: {exc}"
            return False
        if saved is None:
            return False
        findings, annotations_doc = _split_autosave(saved)
        if annotations_doc is not None and self.annotation_store is not None:
            _load_annotations_doc(self.annotation_store, annotations_doc)
        if findings is None:
            return annotations_doc is not None
        self._commit(findings, record_undo=False, touch=False)
        return True

    @property
    def autosave_path(self) -> Optional[Path]:
        return getattr(self._autosaver, "path", None)

    def flush(self) -> None:
        if self._autosaver is not None:
            with _quiet("autosave flush"):
                self._autosaver.flush()

    def close(self) -> None:
        """Flush the autosave and drop every subscription (call when the study is closed)."""
        for sig, slot in self._store_hooks:
            with contextlib.suppress(Exception):
                sig.disconnect(slot)
        self._store_hooks.clear()
        if self._autosaver is not None:
            with _quiet("autosave close"):
                self._autosaver.close()
            self._autosaver = None

    # ------------------------------------------------------------------ internals
    def _commit(self, new: m.StudyFindings, *, record_undo: bool = True, edit: Any = None, touch: bool = True) -> None:
        if new == self._findings:
            return
        if record_undo:
            self._undo.append(self._findings)
            del self._undo[:-UNDO_LIMIT]
            self._redo.clear()
        if touch:
            now = _now_iso()
            new = dataclasses.replace(new, modified=now, created=new.created or now)
        if edit is not None and self.annotation_store is not None and not self._deriving:
            self._push_edit_to_annotations(edit, new)
        self._apply(new)

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
        evaluate = _pathway_evaluate()
        if evaluate is None:
            self.pathway_result = None
            self.pathway_error = "the pathway module is not available"
            return
        t0 = time.perf_counter()
        try:
            if self.settings is None:
                self.pathway_result = evaluate(self._findings, self._ruleset)
            else:
                self.pathway_result = evaluate(self._findings, self._ruleset, self.settings)
        except Exception as exc:  # the pathway must never take the review down
            log.exception("pathway evaluation failed")
            self.pathway_result = None
            self.pathway_error = f"pathway evaluation failed: {exc}"
        self.last_evaluate_ms = (time.perf_counter() - t0) * 1000.0

    def _autosave(self) -> None:
        if self._autosaver is None:
            return
        try:
            self._autosaver.update(self._findings, _annotations_doc(self.annotation_store))
            self.autosave_error = ""
        except Exception as exc:
            log.warning("autosave failed: %s", exc)
            self.autosave_error = f"autosave failed: {exc}"

    # annotations <-> findings ---------------------------------------------------
    def _connect_store(self) -> None:
        store = self.annotation_store
        if store is None:
            return
        events = getattr(store, "events", store)
        for name in ("inserted", "changed", "removed", "reset", "undone", "redone"):
            sig = getattr(events, name, None)
            if sig is not None and hasattr(sig, "connect"):
                sig.connect(self._on_annotations_changed)
                self._store_hooks.append((sig, self._on_annotations_changed))

    def _on_annotations_changed(self, *args: Any) -> None:
        if self._pushing:
            return
        derive = _derive_api()[0]
        if derive is None:
            return
        self._deriving = True
        try:
            notes: list[str] = []
            new = derive(self.annotation_store, self._findings, notes)
            self.derive_notes = tuple(notes)
            # drawing is undone with the annotation store's undo; not recorded twice here
            self._commit(new, record_undo=False)
            # a length or an ROI changes no finding, but the drawing itself must still be kept
            # (the autosaver coalesces this with any write _commit already queued)
            self._autosave()
        except Exception as exc:
            log.exception("deriving findings from annotations failed")
            self.derive_notes = (f"deriving findings from the annotations failed: {exc}",)
        finally:
            self._deriving = False

    def _push_edit_to_annotations(self, edit: Any, new: m.StudyFindings) -> None:
        """A pars status edited in the table is written to the pars marker(s) behind it."""
        apply_edit = _derive_api()[1]
        kind, level, side, _changes = edit
        if apply_edit is None or kind != "pars":
            return
        finding = new.pars_at(level, side)
        if finding is None:  # entry removed in the table: markers stay (delete them in the viewer)
            return
        self._pushing = True
        try:
            apply_edit(self.annotation_store, finding)
        except Exception as exc:
            log.warning("table edit not pushed to annotations: %s", exc)
        finally:
            self._pushing = False

    def _reconcile(self, snapshot: m.StudyFindings) -> m.StudyFindings:
        """Findings from the undo stack made consistent with the annotations as they are now."""
        derive, apply_edit = _derive_api()
        if self.annotation_store is None or derive is None or apply_edit is None:
            return snapshot
        self._pushing = True
        try:
            apply_edit(self.annotation_store, snapshot)
        except Exception as exc:
            log.warning("undo not pushed to annotations: %s", exc)
        finally:
            self._pushing = False
        try:
            return derive(self.annotation_store, snapshot)
        except Exception as exc:
            log.warning("re-deriving after undo failed: %s", exc)
            return snapshot


# ---------------------------------------------------------------------- adapters to sibling packages
# These keep the session working while app.annotations / app.pathway / autosave land;
# each one is a thin call into the real API.

def _check_keys(cls: type, changes: dict, what: str) -> None:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise TypeError(f"unknown {what} field(s): {', '.join(unknown)}")


@contextlib.contextmanager
def _quiet(what: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        log.warning("%s failed: %s", what, exc)


def _make_annotation_store() -> Any:
    try:
        from app.annotations.store import AnnotationStore  # type: ignore
    except ImportError:
        return None
    try:
        return AnnotationStore()
    except TypeError:
        return None


def _pathway_evaluate() -> Optional[Callable[..., Any]]:
    try:
        from app.pathway import evaluate  # type: ignore
    except ImportError:
        try:
            from app.pathway.engine import evaluate  # type: ignore
        except ImportError:
            return None
    return evaluate


def _load_default_ruleset() -> tuple[Any, str]:
    """(ruleset, "") or (None, why not)."""
    try:
        from app.pathway import load_ruleset  # type: ignore
    except ImportError:
        try:
            from app.pathway.rules import load_ruleset  # type: ignore
        except ImportError:
            return None, "the pathway module is not installed"
    try:
        return load_ruleset(), ""
    except Exception as exc:
        log.warning("default ruleset not loaded: %s", exc)
        return None, str(exc)


def _make_autosaver(study_uid: str, data_dir: Any) -> Any:
    try:
        from app.findings.autosave import Autosaver  # type: ignore
    except ImportError:
        return None
    try:
        return Autosaver(study_uid, data_dir=data_dir)
    except Exception as exc:
        log.warning("autosave disabled: %s", exc)
        return None


def _annotations_doc(store: Any) -> Any:
    if store is None:
        return None
    for name in ("to_doc", "to_dict", "to_document"):
        fn = getattr(store, name, None)
        if callable(fn):
            return fn()
    return None


def _load_annotations_doc(store: Any, doc: Any) -> None:
    for name in ("load_doc", "load_dict", "load_document"):
        fn = getattr(store, name, None)
        if callable(fn):
            with _quiet("restoring annotations"):
                fn(doc)
            return


def _split_autosave(saved: Any) -> tuple[Optional[m.StudyFindings], Any]:
    if isinstance(saved, m.StudyFindings):
        return saved, None
    if isinstance(saved, tuple) and len(saved) == 2:
        return saved[0], saved[1]
    findings = getattr(saved, "findings", None)
    annotations = getattr(saved, "annotations", None)
    if annotations is None:
        annotations = getattr(saved, "annotations_doc", None)
    return findings, annotations


def _derive_api() -> tuple[Optional[Callable[..., Any]], Optional[Callable[..., Any]]]:
    """(derive_findings, apply_finding_edit_to_annotations) or Nones without app.annotations."""
    try:
        from app.annotations.derive import apply_finding_edit_to_annotations, derive_findings  # type: ignore
    except ImportError:
        return None, None
    return derive_findings, apply_finding_edit_to_annotations
