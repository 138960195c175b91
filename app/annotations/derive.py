"""Annotations -> structured findings, and table edits -> annotations (no Qt).

``derive_findings(annotations_or_store, base)`` returns a new ``StudyFindings``:

* each complete ``ParsMarker`` sets ``status`` of the ParsFinding at its level/side (created
  when missing; other fields of an existing finding are kept) and adds its ``AnnotationRef``
  to the provenance. Several markers at one level/side: the most recently modified wins, all
  are cited.
* each complete ``MeyerdingSlip`` sets ``LevelFinding(level).slip``: percent (magnitude, capped
  at 200), direction, technique, landmarks (role name -> LPS (x, y, z) mm, or image (column,
  row) px on a radiograph), Boxall slip angle (L5 inferior endplate) when measured, provenance.
  Several slips at one level: the most recently modified wins.
* an edema ROI (role "edema", level and side set, statistics measured) with a reference ROI
  (role "reference", same image preferred, else same series; the most recent) sets
  ``Edema.signal_ratio`` = mean(edema) / mean(reference) of the pars finding at that level/side,
  and adds both ROIs to its provenance. Without a pars finding there the ratio is not stored
  (a note says so).
* findings entered by hand (no annotation provenance) are preserved unchanged. A finding that
  was derived from annotations which no longer exist (deleted, undone) is withdrawn: a pars
  finding whose whole provenance is gone is removed, a slip is cleared, a signal ratio is
  cleared; hand-entered fields of the same finding are kept otherwise.

``apply_finding_edit_to_annotations(store, edited)`` pushes a table edit back: the status (and
level/side) of a ParsFinding is written to the pars markers in its provenance (or, without
provenance, to the complete markers at its level/side); one undo step; no-op when nothing
differs (so the derive -> table -> apply loop terminates).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Optional, Union

from app.annotations.model import (
    Annotation, EllipseROI, FreehandROI, MeyerdingSlip, ParsMarker,
)
from app.annotations.store import AnnotationStore
from app.findings.model import (
    AnnotationRef, Edema, LevelFinding, ParsFinding, ParsStatus, SlipAngleEndplate, Side, Slip, SlipDirection,
    SlipTechnique, StudyFindings,
)

__all__ = ["derive_findings", "apply_finding_edit_to_annotations", "DERIVED_KINDS", "MAX_SLIP_PCT"]

MAX_SLIP_PCT = 200.0
# annotation kinds whose refs in a provenance mark a finding (part) as derived
PARS_KINDS = frozenset({ParsMarker.kind})
SLIP_KINDS = frozenset({MeyerdingSlip.kind})
ROI_KINDS = frozenset({EllipseROI.kind, FreehandROI.kind})
DERIVED_KINDS = PARS_KINDS | SLIP_KINDS | ROI_KINDS


def _annotations(source: Union[AnnotationStore, Iterable[Annotation]]) -> list[Annotation]:
    return list(source.annotations if isinstance(source, AnnotationStore) else source)


def _latest(items: list[Annotation]) -> Annotation:
    return max(items, key=lambda a: (a.modified, a.created))


def _landmarks(ann: MeyerdingSlip) -> dict:
    out = {}
    for i, role in enumerate(ann.roles):
        if ann.points_lps:
            out[ann.landmark_name(role)] = tuple(round(v, 4) for v in ann.points_lps[i])
        else:
            out[ann.landmark_name(role)] = tuple(round(v, 4) for v in ann.points_px[i])
    return out


def _slip_from(ann: MeyerdingSlip, cited: list[Annotation]) -> Optional[Slip]:
    s = ann.slip
    if s is None:
        return None
    angle = ann.slip_angle_deg
    if angle is not None and not -90.0 <= angle <= 90.0:
        angle = None
    return Slip(
        percent=min(s.percent, MAX_SLIP_PCT),
        direction=SlipDirection(s.direction),
        technique=SlipTechnique(s.technique),
        landmarks_lps=_landmarks(ann),
        slip_angle_deg=None if angle is None else round(angle, 3),
        slip_angle_endplate=SlipAngleEndplate.L5_INFERIOR if angle is not None else None,
        provenance=tuple(a.ref() for a in [ann] + [c for c in cited if c.id != ann.id]),
    )


def _keep_refs(refs: tuple[AnnotationRef, ...], kinds: frozenset, alive: set) -> tuple[AnnotationRef, ...]:
    """Drop refs of derived kinds (they are rebuilt); keep others."""
    return tuple(r for r in refs if r.kind not in kinds)


def _is_derived_only(refs: tuple[AnnotationRef, ...], kinds: frozenset) -> bool:
    return bool(refs) and all(r.kind in kinds for r in refs)


def derive_findings(source: Union[AnnotationStore, Iterable[Annotation]], base: StudyFindings,
                    notes: Optional[list[str]] = None) -> StudyFindings:
    """See the module docstring. ``notes`` (a list) receives plain-language remarks."""
    anns = _annotations(source)
    alive = {a.id for a in anns}
    notes = notes if notes is not None else []
    out = base

    # ---------------------------------------------------------------- pars markers
    markers: dict[tuple, list[ParsMarker]] = {}
    for a in anns:
        if isinstance(a, ParsMarker) and a.is_complete:
            markers.setdefault((a.level, a.side), []).append(a)
    for p in base.pars:
        refs = p.provenance
        had_marker = any(r.kind in PARS_KINDS for r in refs)
        if (p.level, p.side) in markers or not had_marker:
            continue
        # derived from markers that are gone
        kept = _keep_refs(refs, PARS_KINDS, alive)
        if _is_derived_only(refs, PARS_KINDS):
            out = replace(out, pars=tuple(x for x in out.pars if (x.level, x.side) != (p.level, p.side)))
        else:
            out = out.with_pars(replace(p, provenance=kept))
    for (level, side), group in markers.items():
        winner = _latest(group)
        existing = out.pars_at(level, side)
        refs = tuple(a.ref() for a in sorted(group, key=lambda a: a.modified))
        if existing is None:
            finding = ParsFinding(level=level, side=side, status=winner.status, provenance=refs)
        else:
            kept = _keep_refs(existing.provenance, PARS_KINDS, alive)
            try:
                finding = replace(existing, status=winner.status, provenance=refs + kept)
            except ValueError as exc:
                # e.g. a stress reaction over a finding whose edema is marked absent
                notes.append(f"{level.value} {side.value} pars: marker status '{winner.status.value}' "
                             f"conflicts with the table ({exc}); edema reset to unknown")
                finding = replace(existing, status=winner.status, provenance=refs + kept,
                                  edema=Edema(present=None, signal_ratio=existing.edema.signal_ratio),
                                  gap_mm=existing.gap_mm if winner.status.fracture_extent != "none" else None)
        out = out.with_pars(finding)

    # ---------------------------------------------------------------- slips
    slips: dict = {}
    for a in anns:
        if isinstance(a, MeyerdingSlip) and a.slip is not None:
            slips.setdefault(a.level, []).append(a)
    for lv in base.levels:
        if lv.slip is not None and lv.level not in slips and any(r.kind in SLIP_KINDS for r in lv.slip.provenance):
            out = out.with_level(replace(lv, slip=None))
    for level, group in slips.items():
        winner = _latest(group)
        slip = _slip_from(winner, group)
        if slip is None:
            continue
        existing = out.level(level) or LevelFinding(level=level)
        out = out.with_level(replace(existing, slip=slip))
        if winner.slip.percent > MAX_SLIP_PCT:
            notes.append(f"{level.value} slip {winner.slip.percent:.0f} % capped at {MAX_SLIP_PCT:.0f} %")

    # ---------------------------------------------------------------- edema signal ratio
    rois = [a for a in anns if isinstance(a, (EllipseROI, FreehandROI))]
    refs_roi = [r for r in rois if r.role == "reference" and r.stats is not None and r.stats.n > 0]
    edema_rois: dict[tuple, list] = {}
    for r in rois:
        if r.role == "edema" and r.level is not None and r.side is not None and r.stats is not None and r.stats.n > 0:
            edema_rois.setdefault((r.level, r.side), []).append(r)
    for p in out.pars:
        if (p.level, p.side) not in edema_rois and any(r.kind in ROI_KINDS for r in p.provenance):
            if _is_derived_only(p.provenance, ROI_KINDS):  # created by an edema ROI that is gone
                out = replace(out, pars=tuple(x for x in out.pars if (x.level, x.side) != (p.level, p.side)))
                continue
            out = out.with_pars(replace(p, edema=replace(p.edema, signal_ratio=None),
                                        provenance=_keep_refs(p.provenance, ROI_KINDS, alive)))
    for (level, side), group in edema_rois.items():
        roi = _latest(group)
        reference = _pick_reference(roi, refs_roi)
        finding = out.pars_at(level, side)
        if finding is None:  # the ROI itself says there is marrow oedema at this pars
            finding = ParsFinding(level=level, side=side, status=ParsStatus.STRESS_REACTION,
                                  edema=Edema(present=True), provenance=(roi.ref(),))
            out = out.with_pars(finding)
            notes.append(f"edema ROI at {level.value} {side.value}: pars entry created (oedema, stress reaction); "
                         "set the status if a fracture line is seen")
        elif finding.edema.present is not True:
            finding = replace(finding, edema=replace(finding.edema, present=True))
            out = out.with_pars(finding)
        if reference is None:
            notes.append(f"edema ROI at {level.value} {side.value}: no reference ROI with statistics")
            continue
        if not reference.stats.mean > 0:
            notes.append(f"edema ROI at {level.value} {side.value}: reference mean is not positive")
            continue
        ratio = round(roi.stats.mean / reference.stats.mean, 4)
        if not 0.0 <= ratio <= 100.0:
            notes.append(f"edema ROI at {level.value} {side.value}: ratio {ratio} out of range, not stored")
            continue
        provenance = _keep_refs(finding.provenance, ROI_KINDS, alive) + (roi.ref(), reference.ref())
        out = out.with_pars(replace(finding, edema=replace(finding.edema, signal_ratio=ratio), provenance=provenance))
    return out


def _pick_reference(roi: Annotation, references: list[Annotation]) -> Optional[Annotation]:
    same_image = [r for r in references if r.image_key == roi.image_key]
    if same_image:
        return _latest(same_image)
    same_series = [r for r in references if r.series_instance_uid == roi.series_instance_uid]
    return _latest(same_series) if same_series else None


# =========================================================================== reverse direction

def apply_finding_edit_to_annotations(store: AnnotationStore, edited: Union[ParsFinding, LevelFinding, StudyFindings]
                                      ) -> int:
    """Write table edits back to the annotations they came from; returns how many annotations
    changed (one undo step for all of them). A ``StudyFindings`` syncs every pars finding.
    LevelFinding edits do not move landmarks (nothing to write back): 0."""
    if isinstance(edited, StudyFindings):
        findings = list(edited.pars)
    elif isinstance(edited, ParsFinding):
        findings = [edited]
    else:
        return 0
    updates: dict[str, Annotation] = {}
    for f in findings:
        ids = [r.annotation_id for r in f.provenance if r.kind in PARS_KINDS]
        if ids:
            targets = [store.get(i) for i in ids]
        else:
            targets = [a for a in store.of_kind(ParsMarker) if a.is_complete and (a.level, a.side) == (f.level, f.side)]
        for m in targets:
            if not isinstance(m, ParsMarker):
                continue
            if (m.level, m.side, m.status) != (f.level, f.side, f.status):
                updates[m.id] = m.touched(level=f.level, side=Side(f.side), status=f.status)
    if updates:
        store.update_many(updates.values(), text="edit pars from findings table")
    return len(updates)
