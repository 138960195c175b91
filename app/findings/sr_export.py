"""StudyFindings -> DICOM Comprehensive 3D SR (TID 1500 Measurement Report) through highdicom.

Layout (codes in app.findings.sr_codes, documented in docs/sr-coding.md)::

    Imaging Measurement Report (126000 DCM)
      observation context: device "Isthmus"; person observer = reader (when given)
      procedure reported: 99ISTHMUS ISTH-REVIEW
      Imaging Measurements (126010 DCM)
        Measurement Group  "Study"            finding STUDY-INFO: reader, created, modified, impression, study UID
        Measurement Group  "Clinical context" finding CLIN-CONTEXT (only when something is known)
        Measurement Group  "Pars L5 left" ... finding PARS-FINDING, site = vertebra + laterality + pars
        Measurement Group  "Level L5" ...     finding LEVEL-FINDING, site = vertebra
        Measurement Group  "Slip L5" ...      finding SLIP-FINDING, site = vertebra that slipped
        Measurement Group  "Instability L5"   finding INSTAB-FINDING: translation mm / %, angulation deg
        Measurement Group  "Spino-pelvic"     finding SPINOPELVIC: PI, PT, SS, LL (deg)
        Measurement Group  "Imaging performed" finding IMAGING-DONE: Yes/No per kind (only when known)
        Measurement Group  "Key image" ...    finding KEY-IMAGE: image UIDs, display state, caption
        Measurement Group  "Amendment" ...    finding AMENDMENT: amended by (TEXT) with at + items, oldest first

Every finding's provenance (AnnotationRef) becomes a "Supporting annotation" TEXT item whose
children carry kind, series/SOP instance UID, frame and the points (exact JSON number lists),
plus an IMAGE reference (INFERRED FROM) when the instance is among the evidence. Enough is stored
to rebuild an equal StudyFindings (app.findings.sr_import); derived values (Hollenberg grade,
CT stage, Meyerding grade) are written for readers of the SR and recomputed on import.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from app.dicom.model import PatientEntry, ScanResult, StudyEntry
from app.findings import model as findings_model, sr_codes

SR_SERIES_NUMBER = 9901
SR_SERIES_DESCRIPTION = "Isthmus findings (SR)"
_DEVICE_UID_SEED = "isthmus-workstation-device"
_UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")


class SRExportError(Exception):
    """The SR cannot be written: names the problem (and the folder or file)."""


def is_valid_uid(value: str) -> bool:
    return bool(value) and len(value) <= 64 and bool(_UID_RE.match(value))


# ------------------------------------------------------------------ evidence (source study)

StudySource = str | os.PathLike | Iterable[str | os.PathLike] | ScanResult


def read_study_headers(paths: StudySource, study_instance_uid: str = "") -> list[Any]:
    """Header-only pydicom datasets of the source study's instances under ``paths``.

    ``paths`` may be the study's ScanResult (what the viewer already scanned): then the evidence
    comes from the scan (``evidence_from_scan``) and the folder is not read again. Otherwise
    files that are not DICOM (or have no SOP/Study UIDs) are skipped. When the folder holds
    several studies, ``study_instance_uid`` picks one (SRExportError when it is missing or
    ambiguous). Existing SR/non-image objects are kept out of the evidence."""
    import pydicom

    if isinstance(paths, ScanResult):
        return evidence_from_scan(paths, study_instance_uid)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif p.is_file():
            files.append(p)
        else:
            raise SRExportError(f"{p}: no such file or folder")
    by_study: dict[str, list[Any]] = {}
    for f in files:
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True, force=False)
        except Exception:
            continue
        if not all(k in ds for k in ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")):
            continue
        if str(ds.get("Modality", "")) in ("SR", "KO", "PR"):
            continue
        by_study.setdefault(str(ds.StudyInstanceUID), []).append(ds)
    where = ", ".join(str(p) for p in paths)
    if not by_study:
        raise SRExportError(f"{where}: no DICOM images found for the SR evidence")
    if study_instance_uid:
        if study_instance_uid not in by_study:
            found = sorted(by_study)
            listed = ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
            raise SRExportError(f"{where}: no images of study {study_instance_uid} "
                                f"({len(found)} other stud{'y' if len(found) == 1 else 'ies'} found: {listed})")
        return by_study[study_instance_uid]
    if len(by_study) > 1:
        raise SRExportError(f"{where}: {len(by_study)} studies found; the findings name none, so the study is ambiguous")
    return next(iter(by_study.values()))


def _pick_study(scan: ScanResult, study_instance_uid: str) -> tuple[PatientEntry, StudyEntry]:
    found = [(p, st) for p in scan.patients for st in p.studies if any(s.instances for s in st.series)]
    if not found:
        raise SRExportError("the scanned study has no DICOM images for the SR evidence")
    if study_instance_uid:
        match = [(p, st) for p, st in found if st.study_instance_uid == study_instance_uid]
        if not match:
            listed = ", ".join(st.study_instance_uid for _, st in found[:3])
            raise SRExportError(f"the scanned images hold no study {study_instance_uid} "
                                f"({len(found)} other stud{'y' if len(found) == 1 else 'ies'} found: {listed})")
        return match[0]
    if len(found) > 1:
        raise SRExportError(f"the scan holds {len(found)} studies; the findings name none, so the study is ambiguous")
    return found[0]


_FIRST_HEADER_KEEP = ("StudyTime", "StudyID", "ReferringPhysicianName", "InstitutionName", "PatientAge",
                      "StudyDescription", "AccessionNumber", "SpecificCharacterSet")


def evidence_from_scan(scan: ScanResult, study_instance_uid: str = "") -> list[Any]:
    """Evidence datasets for the SR built from the viewer's scan (no folder walk): one small
    dataset per scanned instance (UIDs, SOP class, frames, patient and study attributes from the
    scan). Only the first instance's header is read again, for the study attributes the scan does
    not keep (study time, study ID, referring physician); when it cannot be read they stay empty."""
    import pydicom
    from pydicom.dataset import Dataset

    patient, study = _pick_study(scan, study_instance_uid)
    out: list[Any] = []
    for series in study.series:
        for h in series.instances:
            if not h.sop_instance_uid or not h.sop_class_uid:
                continue
            ds = Dataset()
            ds.PatientName, ds.PatientID = patient.patient_name, patient.patient_id
            ds.PatientBirthDate, ds.PatientSex = patient.birth_date, patient.sex
            ds.StudyInstanceUID, ds.StudyDate = study.study_instance_uid, study.study_date
            ds.StudyDescription, ds.AccessionNumber = study.description, study.accession_number
            ds.SeriesInstanceUID, ds.Modality = series.series_instance_uid, series.modality_code
            ds.SOPClassUID, ds.SOPInstanceUID = h.sop_class_uid, h.sop_instance_uid
            if h.number_of_frames > 1:
                ds.NumberOfFrames = h.number_of_frames
            out.append(ds)
    if not out:
        raise SRExportError(f"study {study.study_instance_uid}: no scanned images with SOP UIDs for the SR evidence")
    first_path = next(h.path for s in study.series for h in s.instances if h.sop_instance_uid and h.sop_class_uid)
    try:
        header = pydicom.dcmread(first_path, stop_before_pixels=True, specific_tags=list(_FIRST_HEADER_KEEP))
    except Exception:
        header = None  # the scan's values are enough; the type-2 attributes then stay empty
    if header is not None:
        for kw in _FIRST_HEADER_KEEP:
            if kw in header:
                setattr(out[0], kw, header[kw].value)
    return out


# ------------------------------------------------------------------ content items

def _hd():
    import highdicom.sr as hsr

    return hsr


def _contains():
    return _hd().RelationshipTypeValues.CONTAINS


def _props():
    return _hd().RelationshipTypeValues.HAS_PROPERTIES


def _text(name, value: str, rel=None):
    """A TEXT item. DICOM text may lose trailing spaces (pydicom strips them on reading), so
    a value that ends in spaces/NULs gets a child holding that suffix as a JSON string."""
    hsr = _hd()
    item = hsr.TextContentItem(name, value, relationship_type=rel or _contains())
    suffix = value[len(value.rstrip(" \x00")):]
    if suffix:
        item.ContentSequence = [hsr.TextContentItem(sr_codes.TRAILING_TEXT, json.dumps(suffix),
                                                    relationship_type=hsr.RelationshipTypeValues.HAS_PROPERTIES)]
    return item


def _add_children(item, children: list) -> None:
    item.ContentSequence = list(item.get("ContentSequence", None) or []) + list(children)


def _uid_or_text(name, value: str, rel):
    hsr = _hd()
    if is_valid_uid(value):
        return hsr.UIDRefContentItem(name, value, relationship_type=rel)
    return _text(name, value, rel)


def _points_json(points: Sequence[Sequence[float]]) -> str:
    return json.dumps([list(p) for p in points])


def _present(flag: bool):
    return sr_codes.PRESENT if flag else sr_codes.ABSENT


def _yes_no(flag: bool):
    return sr_codes.YES if flag else sr_codes.NO


def _qe(name, value):
    return _hd().QualitativeEvaluation(name, value)


def _annotation_items(refs: Sequence[findings_model.AnnotationRef], evidence_index: dict[str, tuple[str, int]]) -> list:
    hsr = _hd()
    items = []
    for ref in refs:
        item = _text(sr_codes.ANNOTATION, ref.annotation_id)
        children = [_text(sr_codes.ANNOTATION_KIND, ref.kind, _props())]
        if ref.series_instance_uid:
            children.append(_uid_or_text(sr_codes.SERIES_INSTANCE_UID, ref.series_instance_uid, _props()))
        if ref.sop_instance_uid:
            children.append(_uid_or_text(sr_codes.SOP_INSTANCE_UID, ref.sop_instance_uid, _props()))
        if ref.frame is not None:
            children.append(hsr.NumContentItem(sr_codes.FRAME_NUMBER, int(ref.frame), sr_codes.UNIT_NONE,
                                               relationship_type=_props()))
        if ref.points_px:
            children.append(_text(sr_codes.POINTS_PX, _points_json(ref.points_px), _props()))
        if ref.points_lps:
            children.append(_text(sr_codes.POINTS_LPS, _points_json(ref.points_lps), _props()))
        sop_class, n_frames = evidence_index.get(ref.sop_instance_uid, ("", 1))
        if sop_class:
            # a frame number is only allowed for a multi-frame object
            frames = ref.frame if (ref.frame is not None and n_frames > 1 and ref.frame <= n_frames) else None
            children.append(hsr.ImageContentItem(
                sr_codes.SOURCE_IMAGE, sop_class, ref.sop_instance_uid,
                referenced_frame_numbers=frames, relationship_type=hsr.RelationshipTypeValues.INFERRED_FROM,
            ))
        _add_children(item, children)
        items.append(item)
    return items


def _group(identifier: str, finding_type, sites=None, measurements=None, qualitative=None, extra=()):
    from pydicom.uid import generate_uid

    hsr = _hd()
    group = hsr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hsr.TrackingIdentifier(uid=generate_uid(), identifier=identifier),
        finding_type=finding_type,
        finding_sites=sites or None,
        measurements=measurements or None,
        qualitative_evaluations=qualitative or None,
    )
    if extra:
        group[0].ContentSequence.extend(extra)
    return group


def _study_group(f: findings_model.StudyFindings):
    items = []
    if f.study_instance_uid:
        items.append(_uid_or_text(sr_codes.STUDY_INSTANCE_UID, f.study_instance_uid, _contains()))
    for concept, value in ((sr_codes.READER, f.reader), (sr_codes.CREATED, f.created), (sr_codes.MODIFIED, f.modified),
                           (sr_codes.IMPRESSION, f.impression)):
        if value:
            items.append(_text(concept, value))
    measurements = [_hd().Measurement(sr_codes.SCHEMA_VERSION, int(f.schema_version), sr_codes.UNIT_NONE)]
    return _group("Study", sr_codes.STUDY_INFO, measurements=measurements, extra=items)


def _context_group(ctx: findings_model.ClinicalContext):
    hsr = _hd()
    measurements, qualitative, extra = [], [], []
    for field_name, (concept, kind) in sr_codes.CONTEXT_ITEMS.items():
        value = getattr(ctx, field_name)
        if value is None or value == "":
            continue
        if kind == "bool":
            qualitative.append(_qe(concept, _yes_no(value)))
        elif kind == "text":
            extra.append(_text(concept, value))
        elif isinstance(kind, tuple):
            measurements.append(hsr.Measurement(concept, float(value), kind[1]))
        else:
            assert isinstance(kind, type)  # the remaining kinds are the enum classes of c.ENUM_CODES
            qualitative.append(_qe(concept, sr_codes.ENUM_CODES[kind][value]))
    extra += [_text(sr_codes.FROM_DICOM, name) for name in sorted(ctx.from_dicom)]
    if not (measurements or qualitative or extra):
        return None
    return _group("Clinical context", sr_codes.CLINICAL_CONTEXT, measurements=measurements, qualitative=qualitative, extra=extra)


_STAGE_SOURCES: dict[findings_model.CTStageBasis | None, object] = {
    findings_model.CTStageBasis.READER: sr_codes.GRADE_SOURCE_OVERRIDE,
    findings_model.CTStageBasis.MRI_CROSSWALK: sr_codes.GRADE_SOURCE_MRI_CROSSWALK,
}


def _pars_group(p: findings_model.ParsFinding, evidence_index: dict[str, tuple[str, int]]):
    hsr = _hd()
    site = hsr.FindingSite(sr_codes.LEVEL_CODES[p.level], laterality=sr_codes.SIDE_CODES[p.side],
                           topographical_modifier=sr_codes.PARS_INTERARTICULARIS)
    qualitative = [_qe(sr_codes.PARS_STATUS, sr_codes.PARS_STATUS_CODES[p.status])]
    if p.edema.present is not None:
        qualitative.append(_qe(sr_codes.EDEMA, _present(p.edema.present)))
    for s in sorted(p.edema.sites, key=list(findings_model.EdemaSite).index):
        qualitative.append(_qe(sr_codes.EDEMA_LOCATION, sr_codes.EDEMA_SITE_CODES[s]))
    if p.sclerotic_margins is not None:
        qualitative.append(_qe(sr_codes.SCLEROTIC_MARGINS, _present(p.sclerotic_margins)))
    if p.mri_grade is not None:
        qualitative.append(_qe(sr_codes.HOLLENBERG, sr_codes.HOLLENBERG_CODES[p.mri_grade]))
        source = sr_codes.GRADE_SOURCE_OVERRIDE if p.mri_grade_override is not None else sr_codes.GRADE_SOURCE_DERIVED
        qualitative.append(_qe(sr_codes.HOLLENBERG_SOURCE, source))
    if p.ct_stage is not None:
        qualitative.append(_qe(sr_codes.CT_STAGE, sr_codes.CT_STAGE_CODES[p.ct_stage]))
        qualitative.append(_qe(sr_codes.CT_STAGE_SOURCE, _STAGE_SOURCES.get(p.ct_stage_basis, sr_codes.GRADE_SOURCE_DERIVED)))
    for modality in sorted(p.read_on, key=list(findings_model.ImagingModality).index):
        qualitative.append(_qe(sr_codes.MODALITY, sr_codes.MODALITY_CODES[modality]))
    if p.cross_sectional_confirmation is not None:  # derived, for readers of the SR
        qualitative.append(_qe(sr_codes.PARS_CONFIRMATION, sr_codes.CONFIRMED_CROSS_SECTIONAL if p.cross_sectional_confirmation
                               else sr_codes.SUSPECTED))
    measurements = []
    if p.gap_mm is not None:
        measurements.append(hsr.Measurement(sr_codes.PARS_GAP, float(p.gap_mm), sr_codes.UNIT_MM))
    if p.edema.signal_ratio is not None:
        measurements.append(hsr.Measurement(sr_codes.EDEMA_SIR, float(p.edema.signal_ratio), sr_codes.UNIT_RATIO,
                                            finding_sites=[hsr.FindingSite(sr_codes.BONE_MARROW)]))
    extra = [_text(sr_codes.COMMENT, p.note)] if p.note else []
    extra += _annotation_items(p.provenance, evidence_index)
    return _group(f"Pars {p.level.value} {p.side.value}", sr_codes.FINDING_PARS, [site], measurements, qualitative, extra)


def _level_site(level: findings_model.Level):
    return _hd().FindingSite(sr_codes.LEVEL_CODES[level],
                             topographical_modifier=sr_codes.FIRST_SACRAL_SEGMENT if level is findings_model.Level.S1 else None)


def _level_group(lv: findings_model.LevelFinding, evidence_index: dict[str, tuple[str, int]]):
    qualitative = []
    if lv.disc_pfirrmann is not None:
        qualitative.append(_qe(sr_codes.PFIRRMANN, sr_codes.PFIRRMANN_CODES[int(lv.disc_pfirrmann)]))
    if lv.neural_arch_hypoplasia is not None:
        qualitative.append(_qe(sr_codes.NEURAL_ARCH_HYPOPLASIA, _present(lv.neural_arch_hypoplasia)))
    if lv.foraminal_stenosis is not None:
        qualitative.append(_qe(sr_codes.FORAMINAL_STENOSIS, sr_codes.SEVERITY_CODES[lv.foraminal_stenosis]))
    if lv.instability is not None:
        qualitative.append(_qe(sr_codes.INSTABILITY, _present(lv.instability)))
    if lv.spina_bifida_occulta is not None:
        qualitative.append(_qe(sr_codes.SPINA_BIFIDA_OCCULTA, _present(lv.spina_bifida_occulta)))
    extra = [_text(sr_codes.COMMENT, lv.note)] if lv.note else []
    extra += _annotation_items(lv.provenance, evidence_index)
    return _group(f"Level {lv.level.value}", sr_codes.FINDING_LEVEL, [_level_site(lv.level)], None, qualitative, extra)


def _slip_group(level: findings_model.Level, s: findings_model.Slip, evidence_index: dict[str, tuple[str, int]]):
    hsr = _hd()
    measurements = [hsr.Measurement(sr_codes.PERCENT_SLIP, float(s.percent), sr_codes.UNIT_PERCENT,
                                    method=sr_codes.SLIP_TECHNIQUE_CODES[s.technique])]
    if s.slip_angle_deg is not None:
        method = sr_codes.SLIP_ANGLE_ENDPLATE_CODES[s.slip_angle_endplate] if s.slip_angle_endplate else None
        measurements.append(hsr.Measurement(sr_codes.SLIP_ANGLE, float(s.slip_angle_deg), sr_codes.UNIT_DEGREE, method=method))
    qualitative = [_qe(sr_codes.SLIP_DIRECTION, sr_codes.SLIP_DIRECTION_CODES[s.direction]),
                   _qe(sr_codes.MEYERDING, sr_codes.MEYERDING_CODES[s.grade] if s.grade else sr_codes.NO_LISTHESIS),
                   _qe(sr_codes.NEAR_BOUNDARY, _yes_no(s.near_boundary))]
    if s.slip_angle_endplate is not None:
        qualitative.append(_qe(sr_codes.SLIP_ANGLE_ENDPLATE, sr_codes.SLIP_ANGLE_ENDPLATE_CODES[s.slip_angle_endplate]))
    extra = []
    for name, point in s.landmarks_lps.items():
        item = _text(sr_codes.SLIP_LANDMARK, name)
        _add_children(item, [_text(sr_codes.POINT_LPS, json.dumps(list(point)), _props())])
        extra.append(item)
    extra += _annotation_items(s.provenance, evidence_index)
    return _group(f"Slip {level.value}", sr_codes.FINDING_SLIP, [_level_site(level)], measurements, qualitative, extra)


def _degrees(concepts: dict, values: object) -> list:
    """Measurements in degrees for the known fields of ``values`` named in ``concepts``."""
    return [_hd().Measurement(concept, float(getattr(values, name)), sr_codes.UNIT_DEGREE)
            for name, concept in concepts.items() if getattr(values, name) is not None]


def _instability_group(level: findings_model.Level, im: findings_model.InstabilityMeasurement,
                       evidence_index: dict[str, tuple[str, int]]):
    hsr = _hd()
    measurements = []
    for concept, value, unit in ((sr_codes.TRANSLATION_MM, im.translation_mm, sr_codes.UNIT_MM),
                                 (sr_codes.TRANSLATION_PCT, im.translation_pct, sr_codes.UNIT_PERCENT),
                                 (sr_codes.ANGULATION, im.angulation_deg, sr_codes.UNIT_DEGREE)):
        if value is not None:
            measurements.append(hsr.Measurement(concept, float(value), unit))
    return _group(f"Instability {level.value}", sr_codes.FINDING_INSTABILITY, [_level_site(level)], measurements, None,
                  _annotation_items(im.provenance, evidence_index))


def _spinopelvic_group(sp: findings_model.SpinoPelvic, evidence_index: dict[str, tuple[str, int]]):
    return _group("Spino-pelvic", sr_codes.FINDING_SPINOPELVIC, [_hd().FindingSite(sr_codes.LUMBOSACRAL_SPINE)],
                  _degrees(sr_codes.SPINOPELVIC_ITEMS, sp), None, _annotation_items(sp.provenance, evidence_index))


def _imaging_group(im: findings_model.ImagingPerformed):
    qualitative = [_qe(concept, _yes_no(getattr(im, name))) for name, concept in sr_codes.IMAGING_ITEMS.items()
                   if getattr(im, name) is not None]
    return _group("Imaging performed", sr_codes.FINDING_IMAGING, qualitative=qualitative) if qualitative else None


_TYPE2_PATIENT_STUDY = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "AccessionNumber",
                        "StudyID", "StudyDate", "StudyTime", "ReferringPhysicianName")


def _with_patient_study_defaults(ds: Any) -> Any:
    """A copy of the first evidence header with absent patient/study attributes present but empty
    (they are type 2 in the SR; highdicom copies them from this dataset)."""
    from pydicom.dataset import Dataset

    out = Dataset()
    for elem in ds:  # a new top-level dict: the caller's dataset is not changed
        if elem.tag.group != 0x7FE0:  # no pixel data
            out.add(elem)
    for kw in _TYPE2_PATIENT_STUDY:
        if kw not in out:
            setattr(out, kw, None)
    return out


def _n_frames(ds: Any) -> int:
    try:
        return max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def _is_ascii(ds: Any) -> bool:
    ok = True

    def visit(dataset, elem):
        nonlocal ok
        if ok and elem.VR in ("PN", "LO", "SH", "ST", "LT", "UT", "UC") and elem.value is not None:
            values = elem.value if elem.VM > 1 else [elem.value]
            if any(not str(v).isascii() for v in values):
                ok = False

    ds.walk(visit)
    return ok


def _key_image_group(k: findings_model.KeyImage, evidence_index: dict[str, tuple[str, int]]):
    """One group per key image: its id (TEXT) with the image's UIDs, display state, caption and
    annotation ids as properties, and an IMAGE reference when the image is in the evidence."""
    hsr = _hd()
    item = _text(sr_codes.KEY_IMAGE_ID, k.key_image_id)
    children = [_uid_or_text(sr_codes.SERIES_INSTANCE_UID, k.series_instance_uid, _props()),
                _uid_or_text(sr_codes.SOP_INSTANCE_UID, k.sop_instance_uid, _props())]
    for concept, value in ((sr_codes.FRAME_NUMBER, k.frame), (sr_codes.SLICE_INDEX, k.slice_index),
                           (sr_codes.WINDOW_CENTER, k.window_center),
                           (sr_codes.WINDOW_WIDTH, k.window_width), (sr_codes.DISPLAY_ZOOM, k.zoom)):
        if value is not None:
            children.append(hsr.NumContentItem(concept, value, sr_codes.UNIT_NONE, relationship_type=_props()))
    for concept, text in ((sr_codes.VIEW_PLANE, k.plane), (sr_codes.KEY_IMAGE_CAPTION, k.caption)):
        if text:
            children.append(_text(concept, text, _props()))
    children += [_text(sr_codes.KEY_IMAGE_ANNOTATION, a, _props()) for a in k.annotation_ids]
    sop_class, n_frames = evidence_index.get(k.sop_instance_uid, ("", 1))
    if sop_class:
        frames = k.frame if (k.frame is not None and n_frames > 1 and k.frame <= n_frames) else None
        children.append(hsr.ImageContentItem(sr_codes.SOURCE_IMAGE, sop_class, k.sop_instance_uid,
                                             referenced_frame_numbers=frames,
                                             relationship_type=hsr.RelationshipTypeValues.INFERRED_FROM))
    _add_children(item, children)
    return _group("Key image", sr_codes.FINDING_KEY_IMAGE, extra=[item])


def _amendment_group(a: findings_model.Amendment):
    """One group per amendment: who (TEXT) with when and each changed item as properties."""
    item = _text(sr_codes.AMENDED_BY, a.reader)
    _add_children(item, [_text(sr_codes.AMENDED_AT, a.at, _props()),
                         *(_text(sr_codes.AMENDED_ITEM, ch, _props()) for ch in a.changes)])
    return _group("Amendment", sr_codes.FINDING_AMENDMENT, extra=[item])


def _pn(reader: str) -> str:
    """A Person Name value for the observer context (the exact text goes in a TEXT item)."""
    cleaned = re.sub(r"[\\^=\x00-\x1f]+", " ", reader).strip()[:63].strip()
    return cleaned + "^" if cleaned else ""  # one component (family name) only


def build_report(findings: findings_model.StudyFindings, evidence_index: dict[str, tuple[str, int]] | None = None):
    """The TID 1500 content tree (a highdicom MeasurementReport)."""
    from pydicom.sr.codedict import codes
    from pydicom.uid import generate_uid

    hsr = _hd()
    evidence_index = evidence_index or {}
    device = hsr.ObserverContext(
        observer_type=codes.cid270.Device,
        observer_identifying_attributes=hsr.DeviceObserverIdentifyingAttributes(
            uid=generate_uid(entropy_srcs=[_DEVICE_UID_SEED]), name="Isthmus", manufacturer_name="Isthmus project",
        ),
    )
    person = None
    if _pn(findings.reader):
        person = hsr.ObserverContext(
            observer_type=codes.cid270.Person,
            observer_identifying_attributes=hsr.PersonObserverIdentifyingAttributes(name=_pn(findings.reader)),
        )
    groups = [_study_group(findings)]
    ctx = _context_group(findings.context)
    if ctx is not None:
        groups.append(ctx)
    imaging = _imaging_group(findings.imaging)
    if imaging is not None:
        groups.append(imaging)
    if findings.spinopelvic is not None:
        groups.append(_spinopelvic_group(findings.spinopelvic, evidence_index))
    groups += [_pars_group(p, evidence_index) for p in findings.pars]
    for lv in findings.levels:
        groups.append(_level_group(lv, evidence_index))
        if lv.slip is not None:
            groups.append(_slip_group(lv.level, lv.slip, evidence_index))
        if lv.instability_measured is not None:
            groups.append(_instability_group(lv.level, lv.instability_measured, evidence_index))
    groups += [_key_image_group(k, evidence_index) for k in findings.key_images]
    groups += [_amendment_group(a) for a in findings.amendments]
    return hsr.MeasurementReport(
        observation_context=hsr.ObservationContext(observer_person_context=person, observer_device_context=device),
        procedure_reported=sr_codes.PROCEDURE_REVIEW,
        imaging_measurements=groups,
        title=sr_codes.IMAGING_MEASUREMENT_REPORT,
    )


def findings_to_sr(findings: findings_model.StudyFindings, evidence: Sequence[Any], *, series_number: int = SR_SERIES_NUMBER,
                   instance_number: int = 1, manufacturer: str = "Isthmus project") -> Any:
    """A highdicom Comprehensive3DSR dataset for ``findings`` with ``evidence`` (header datasets
    of the source study) as the referenced instances."""
    import highdicom as hd
    from pydicom.uid import generate_uid

    evidence = list(evidence)
    if not evidence:
        raise SRExportError("SR export needs the source study's images (none given)")
    studies = {str(ds.StudyInstanceUID) for ds in evidence}
    if len(studies) != 1:
        raise SRExportError(f"the evidence holds {len(studies)} studies; give one study's images")
    if findings.study_instance_uid and findings.study_instance_uid not in studies:
        raise SRExportError(f"the findings belong to study {findings.study_instance_uid}, "
                            f"the images to {next(iter(studies))}")
    evidence_index = {str(ds.SOPInstanceUID): (str(ds.SOPClassUID), _n_frames(ds)) for ds in evidence}
    evidence = [_with_patient_study_defaults(evidence[0]), *evidence[1:]]
    report = build_report(findings, evidence_index)
    from highdicom.coding_schemes import CodingSchemeIdentificationItem

    scheme = CodingSchemeIdentificationItem(
        designator=sr_codes.PRIVATE_SCHEME, name=sr_codes.PRIVATE_SCHEME_NAME, version=sr_codes.PRIVATE_SCHEME_VERSION,
        responsible_organization=sr_codes.PRIVATE_SCHEME_ORGANIZATION,
    )
    sr = hd.sr.Comprehensive3DSR(
        evidence=evidence,
        content=report,
        series_instance_uid=generate_uid(),
        series_number=series_number,
        sop_instance_uid=generate_uid(),
        instance_number=instance_number,
        manufacturer=manufacturer,
        is_complete=True,
        is_final=False,
        is_verified=False,
        series_description=SR_SERIES_DESCRIPTION,
        coding_schemes=[scheme],
    )
    if not _is_ascii(sr):
        sr.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: readers' names and notes may be non-ASCII
    return sr


def export_sr(findings: findings_model.StudyFindings, path: str | os.PathLike, study: Any = None) -> Path:
    """Write the SR for ``findings`` to ``path`` (atomically). ``study`` is the source study: a
    folder, a list of files/folders, or a list of pydicom datasets. Returns the path."""
    from pydicom.filewriter import dcmwrite

    from app.core.atomic import write_bytes_atomic

    if study is None:
        raise SRExportError("SR export needs the source study's images: pass the study folder")
    if isinstance(study, (list, tuple)) and study and not isinstance(study[0], (str, os.PathLike)):
        evidence = list(study)
    else:
        evidence = read_study_headers(study, findings.study_instance_uid)
    sr = findings_to_sr(findings, evidence)
    import io as _io

    buffer = _io.BytesIO()
    dcmwrite(buffer, sr, enforce_file_format=True)
    out = Path(path)
    write_bytes_atomic(out, buffer.getvalue())
    return out
