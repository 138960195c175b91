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
* with ``series_modality`` (series UID -> DICOM Modality), each pars finding with markers or edema
  ROIs gets ``read_on`` = the kinds of imaging those annotations were placed on (CR/DX/RF/XA ->
  radiograph, CT, MR, NM/PT -> NM; series not in the map add nothing). A marker on an oblique
  radiograph therefore gives a radiograph-only finding: "suspected on radiographs", no CT stage
  (``ParsFinding.ct_stage_basis``). Without the map ``read_on`` is left as it is.
* the most recent complete ``SpinoPelvicLines`` sets ``StudyFindings.spinopelvic`` (PI, PT, SS,
  LL when the L1 endplate was marked; rounded to 0.1 degree; a value outside the model's range is
  left unknown, with a note) with the annotation as provenance.
* per level, the most recent complete flexion and extension ``SegmentMotionLines`` set
  ``LevelFinding.instability_measured`` (absolute differences of translation in mm - only when
  both views are calibrated -, in % of the lower endplate depth, and of the angle) with both as
  provenance; a level measured on one view only gets a note. The reader's yes/no
  ``instability`` is not touched.
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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from app.annotations.model import (
    Annotation,
    EllipseROI,
    FreehandROI,
    MeyerdingSlip,
    ParsMarker,
)
from app.annotations.spine import SegmentMotionLines, SpinoPelvicLines
from app.annotations.store import AnnotationStore
from app.findings.model import (
    AnnotationRef,
    Edema,
    InstabilityMeasurement,
    LevelFinding,
    ParsFinding,
    ParsStatus,
    Side,
    Slip,
    SlipAngleEndplate,
    SlipDirection,
    SlipTechnique,
    SpinoPelvic,
    StudyFindings,
    imaging_modality_from_dicom,
)
from app.geometry.instability import motion_between

__all__ = ["DERIVED_KINDS", "MAX_SLIP_PCT", "apply_finding_edit_to_annotations", "derive_findings", "edema_signal_ratio"]

MAX_SLIP_PCT = 200.0
# annotation kinds whose refs in a provenance mark a finding (part) as derived
PARS_KINDS = frozenset({ParsMarker.kind})
SLIP_KINDS = frozenset({MeyerdingSlip.kind})
ROI_KINDS = frozenset({EllipseROI.kind, FreehandROI.kind})
SPINOPELVIC_KINDS = frozenset({SpinoPelvicLines.kind})
MOTION_KINDS = frozenset({SegmentMotionLines.kind})
DERIVED_KINDS = PARS_KINDS | SLIP_KINDS | ROI_KINDS | SPINOPELVIC_KINDS | MOTION_KINDS


def _annotations(source: AnnotationStore | Iterable[Annotation]) -> list[Annotation]:
    return list(source.annotations if isinstance(source, AnnotationStore) else source)


AnnT = TypeVar("AnnT", bound=Annotation)


def _latest(items: Sequence[AnnT]) -> AnnT:
    return max(items, key=lambda a: (a.modified, a.created))


def _landmarks(ann: MeyerdingSlip) -> dict:
    out = {}
    for i, role in enumerate(ann.roles):
        if ann.points_lps:
            out[ann.landmark_name(role)] = tuple(round(v, 4) for v in ann.points_lps[i])
        else:
            out[ann.landmark_name(role)] = tuple(round(v, 4) for v in ann.points_px[i])
    return out


def _slip_from(ann: MeyerdingSlip, cited: list[Annotation]) -> Slip | None:
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


def derive_findings(source: AnnotationStore | Iterable[Annotation], base: StudyFindings,
                    notes: list[str] | None = None,
                    series_modality: Mapping[str, str] | None = None) -> StudyFindings:
    """See the module docstring. ``notes`` (a list) receives plain-language remarks;
    ``series_modality`` maps series instance UIDs to their DICOM Modality."""
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
        status = winner.status
        assert status is not None  # a complete marker has its level, side and status
        existing = out.pars_at(level, side)
        refs = tuple(a.ref() for a in sorted(group, key=lambda a: a.modified))
        if existing is None:
            finding = ParsFinding(level=level, side=side, status=status, provenance=refs)
        else:
            kept = _keep_refs(existing.provenance, PARS_KINDS, alive)
            try:
                finding = replace(existing, status=status, provenance=refs + kept)
            except ValueError as exc:
                # e.g. a stress reaction over a finding whose edema is marked absent
                notes.append(f"{level.value} {side.value} pars: marker status '{status.value}' "
                             f"conflicts with the table ({exc}); edema reset to unknown")
                finding = replace(existing, status=status, provenance=refs + kept,
                                  edema=Edema(present=None, signal_ratio=existing.edema.signal_ratio),
                                  gap_mm=existing.gap_mm if status.fracture_extent != "none" else None)
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
        level_finding = out.level(level) or LevelFinding(level=level)
        out = out.with_level(replace(level_finding, slip=slip))
        if winner.slip.percent > MAX_SLIP_PCT:
            notes.append(f"{level.value} slip {winner.slip.percent:.0f} % capped at {MAX_SLIP_PCT:.0f} %")

    # ---------------------------------------------------------------- edema signal ratio
    rois = [a for a in anns if isinstance(a, (EllipseROI, FreehandROI))]
    refs_roi = _reference_rois(rois)
    edema_rois: dict[tuple, list[EllipseROI | FreehandROI]] = {}
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
    for (level, side), drawn_rois in edema_rois.items():
        roi = _latest(drawn_rois)
        reference = _pick_reference(roi, refs_roi)
        pars_entry = out.pars_at(level, side)
        if pars_entry is None:  # the ROI itself says there is marrow oedema at this pars
            pars_entry = ParsFinding(level=level, side=side, status=ParsStatus.STRESS_REACTION,
                                     edema=Edema(present=True), provenance=(roi.ref(),))
            out = out.with_pars(pars_entry)
            notes.append(f"edema ROI at {level.value} {side.value}: pars entry created (oedema, stress reaction); "
                         "set the status if a fracture line is seen")
        elif pars_entry.edema.present is not True:
            pars_entry = replace(pars_entry, edema=replace(pars_entry.edema, present=True))
            out = out.with_pars(pars_entry)
        ratio, problem = _edema_ratio(roi, reference)
        if reference is None or ratio is None:
            notes.append(f"edema ROI at {level.value} {side.value}: {problem}")
            continue
        provenance = (*_keep_refs(pars_entry.provenance, ROI_KINDS, alive), roi.ref(), reference.ref())
        out = out.with_pars(replace(pars_entry, edema=replace(pars_entry.edema, signal_ratio=ratio), provenance=provenance))
    out = _with_spinopelvic(anns, out, notes)
    out = _with_instability(anns, out, notes)
    if series_modality is not None:
        out = _with_read_on(out, series_modality)
    return out


def _in_range(name: str, value: float | None, lo: float, hi: float, notes: list[str]) -> float | None:
    if value is None:
        return None
    if not lo <= value <= hi:
        notes.append(f"{name} {value:.1f} outside {lo:g}..{hi:g}: not stored (check the landmarks)")
        return None
    return round(value, 1) + 0.0  # no -0.0


def _with_spinopelvic(anns: list[Annotation], findings: StudyFindings, notes: list[str]) -> StudyFindings:
    drawn = [a for a in anns if isinstance(a, SpinoPelvicLines) and a.is_complete]
    current = findings.spinopelvic
    if not drawn:
        if current is not None and _is_derived_only(current.provenance, SPINOPELVIC_KINDS):
            return replace(findings, spinopelvic=None)  # its annotation is gone
        return findings
    ann = _latest(drawn)
    a = ann.angles
    assert a is not None  # complete = its angles can be measured
    value = SpinoPelvic(
        pelvic_incidence_deg=_in_range("pelvic incidence", a.pelvic_incidence_deg, 0.0, 130.0, notes),
        pelvic_tilt_deg=_in_range("pelvic tilt", a.pelvic_tilt_deg, -40.0, 90.0, notes),
        sacral_slope_deg=_in_range("sacral slope", a.sacral_slope_deg, -30.0, 110.0, notes),
        lumbar_lordosis_deg=_in_range("lumbar lordosis", a.lumbar_lordosis_deg, -60.0, 130.0, notes),
        provenance=(ann.ref(),),
    )
    return findings if value == current else replace(findings, spinopelvic=value)


def _with_instability(anns: list[Annotation], findings: StudyFindings, notes: list[str]) -> StudyFindings:
    views: dict = {}
    for a in anns:
        if isinstance(a, SegmentMotionLines) and a.is_complete:
            views.setdefault(a.level, {}).setdefault(a.view, []).append(a)
    out = findings
    for lv in findings.levels:
        m = lv.instability_measured
        if m is not None and len(views.get(lv.level, ())) < 2 and _is_derived_only(m.provenance, MOTION_KINDS):
            out = out.with_level(replace(lv, instability_measured=None))  # its annotations are gone
    for level, by_view in views.items():
        if len(by_view) < 2:
            (only,) = by_view
            missing = "extension" if only == "flexion" else "flexion"
            notes.append(f"{level.value}-{level.below.value} segment measured on the {only} view only: "
                         f"measure it on the {missing} view too")
            continue
        flexion, extension = _latest(by_view["flexion"]), _latest(by_view["extension"])
        motion = motion_between(flexion.position, extension.position)
        calibrated = flexion.in_mm and extension.in_mm
        value = InstabilityMeasurement(
            translation_mm=_in_range("translation (mm)", motion.translation, 0.0, 50.0, notes) if calibrated else None,
            translation_pct=_in_range("translation (%)", motion.translation_pct, 0.0, 100.0, notes),
            angulation_deg=_in_range("angulation", motion.angulation_deg, 0.0, 90.0, notes),
            provenance=(flexion.ref(), extension.ref()),
        )
        existing = out.level(level) or LevelFinding(level=level)
        if existing.instability_measured != value:
            out = out.with_level(replace(existing, instability_measured=value))
    return out


def _with_read_on(findings: StudyFindings, series_modality: Mapping[str, str]) -> StudyFindings:
    """``read_on`` of each pars finding = the imaging its markers and edema ROIs were placed on."""
    out = findings
    for p in findings.pars:
        read = (imaging_modality_from_dicom(series_modality.get(r.series_instance_uid))
                for r in p.provenance if r.kind in PARS_KINDS | ROI_KINDS)
        kinds = frozenset(k for k in read if k is not None)
        if kinds and frozenset(kinds) != p.read_on:
            out = out.with_pars(replace(p, read_on=frozenset(kinds)))
    return out


RoiT = EllipseROI | FreehandROI


def edema_signal_ratio(roi: Annotation, annotations: Iterable[Annotation]) -> tuple[float | None, str]:
    """(mean(edema ROI) / mean(its reference ROI), "") or (None, why not): the one rule behind
    ``Edema.signal_ratio`` and the ratio shown beside the ROI. Reference: a "reference" ROI with
    statistics on the same image, else in the same series, the most recent."""
    if not isinstance(roi, (EllipseROI, FreehandROI)) or roi.role != "edema":
        return None, "not an edema ROI"
    rois = [a for a in annotations if isinstance(a, (EllipseROI, FreehandROI))]
    return _edema_ratio(roi, _pick_reference(roi, _reference_rois(rois)))


def _reference_rois(rois: Iterable[RoiT]) -> list[RoiT]:
    return [r for r in rois if r.role == "reference" and r.stats is not None and r.stats.n > 0]


def _edema_ratio(roi: RoiT, reference: RoiT | None) -> tuple[float | None, str]:
    if roi.stats is None or not roi.stats.n:
        return None, "no statistics of the edema ROI"
    if reference is None or reference.stats is None:
        return None, "no reference ROI with statistics"
    if not reference.stats.mean > 0:
        return None, "reference mean is not positive"
    ratio = round(roi.stats.mean / reference.stats.mean, 4)
    if not 0.0 <= ratio <= 100.0:
        return None, f"ratio {ratio} out of range, not stored"
    return ratio, ""


def _pick_reference(roi: AnnT, references: Sequence[AnnT]) -> AnnT | None:
    same_image = [r for r in references if r.image_key == roi.image_key]
    if same_image:
        return _latest(same_image)
    same_series = [r for r in references if r.series_instance_uid == roi.series_instance_uid]
    return _latest(same_series) if same_series else None


# =========================================================================== reverse direction

def apply_finding_edit_to_annotations(store: AnnotationStore, edited: ParsFinding | LevelFinding | StudyFindings
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
