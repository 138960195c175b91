"""DICOM SR written by app.findings.sr_export -> StudyFindings (walks the ContentSequence with pydicom).

Derived values in the SR (Hollenberg grade, CT stage, Meyerding grade, near-boundary flag) are
not read back as data: the model recomputes them. Overrides are read from the grade "source"
items; exact numbers from FloatingPointValue when present (else the decimal NumericValue).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.findings import model as m, sr_codes as c
from app.findings.io import FindingsFileError

Key = tuple[str, str]

_LEVELS_BY_SITE = c.reverse(c.LEVEL_CODES)
_SIDES = c.reverse(c.SIDE_CODES)
_PARS_STATUS = c.reverse(c.PARS_STATUS_CODES)
_EDEMA_SITES = c.reverse(c.EDEMA_SITE_CODES)
_HOLLENBERG = c.reverse(c.HOLLENBERG_CODES)
_CT_STAGES = c.reverse(c.CT_STAGE_CODES)
_DIRECTIONS = c.reverse(c.SLIP_DIRECTION_CODES)
_TECHNIQUES = c.reverse(c.SLIP_TECHNIQUE_CODES)
_ENDPLATES = c.reverse(c.SLIP_ANGLE_ENDPLATE_CODES)
_PFIRRMANN = c.reverse(c.PFIRRMANN_CODES)
_SEVERITY = c.reverse(c.SEVERITY_CODES)
_MODALITIES = c.reverse(c.MODALITY_CODES)
_BOOL = {c.key(c.PRESENT): True, c.key(c.ABSENT): False, c.key(c.YES): True, c.key(c.NO): False}


class SRImportError(FindingsFileError):
    """An SR that is not an Isthmus findings report or is damaged (names the file and the problem)."""


# ------------------------------------------------------------------ low-level accessors

def _children(item: Any) -> list:
    return list(item.get("ContentSequence", None) or [])


def _concept(item: Any) -> Key | None:
    seq = item.get("ConceptNameCodeSequence", None)
    return c.key(seq[0]) if seq else None


def _code(item: Any) -> Key:
    return c.key(item.ConceptCodeSequence[0])


def _text(item: Any) -> str:
    if item.ValueType == "UIDREF":
        return str(item.UID)
    value = str(item.TextValue or "")
    suffix = [ch for ch in _children(item) if _concept(ch) == c.key(c.TRAILING_TEXT)]
    if suffix:
        value = value.rstrip(" \x00") + str(json.loads(str(suffix[0].TextValue)))
    return value


def _num(item: Any) -> float:
    mv = item.MeasuredValueSequence[0]
    if "FloatingPointValue" in mv:
        return float(mv.FloatingPointValue)
    return float(mv.NumericValue)


def _find(items: Iterable[Any], concept) -> list:
    k = c.key(concept)
    return [it for it in items if _concept(it) == k]


def _one(items: list, concept) -> Any | None:
    found = _find(items, concept)
    if len(found) > 1:
        raise ValueError(f"more than one '{concept.meaning}' item in a group")
    return found[0] if found else None


def _lookup(table: dict, item: Any, what: str):
    k = _code(item)
    if k not in table:
        raise ValueError(f"unknown {what} code {k[1]} ({k[0]})")
    return table[k]


def _opt_code(items: list, concept, table: dict, what: str):
    it = _one(items, concept)
    return None if it is None else _lookup(table, it, what)


def _opt_text(items: list, concept) -> str:
    it = _one(items, concept)
    return "" if it is None else _text(it)


def _opt_num(items: list, concept) -> float | None:
    it = _one(items, concept)
    return None if it is None else _num(it)


def _points(text: str, n: int, what: str) -> tuple:
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError(f"{what} is not a list of points")
    return tuple(tuple(float(v) for v in p) for p in data)


# ------------------------------------------------------------------ pieces

def _annotations(items: list) -> tuple[m.AnnotationRef, ...]:
    refs = []
    for it in _find(items, c.ANNOTATION):
        props = _children(it)
        frame = _opt_num(props, c.FRAME_NUMBER)
        px = _opt_text(props, c.POINTS_PX)
        lps = _opt_text(props, c.POINTS_LPS)
        refs.append(m.AnnotationRef(
            annotation_id=_text(it),
            kind=_opt_text(props, c.ANNOTATION_KIND),
            series_instance_uid=_opt_text(props, c.SERIES_INSTANCE_UID),
            sop_instance_uid=_opt_text(props, c.SOP_INSTANCE_UID),
            frame=None if frame is None else int(round(frame)),
            points_px=_points(px, 2, "pixel points") if px else (),
            points_lps=_points(lps, 3, "patient points") if lps else (),
        ))
    return tuple(refs)


def _site(items: list) -> tuple[m.Level, m.Side | None]:
    site = _one(items, c.FINDING_SITE)
    if site is None:
        raise ValueError("measurement group without a finding site")
    level = _lookup(_LEVELS_BY_SITE, site, "vertebra")
    lat = _one(_children(site), c.LATERALITY)
    return level, (None if lat is None else _lookup(_SIDES, lat, "laterality"))


def _override(items: list, value_concept, source_concept, table: dict, what: str):
    value = _opt_code(items, value_concept, table, what)
    src = _one(items, source_concept)
    if value is not None and src is not None and _code(src) == c.key(c.GRADE_SOURCE_OVERRIDE):
        return value
    return None


def _pars(items: list) -> m.ParsFinding:
    level, side = _site(items)
    if side is None:
        raise ValueError(f"pars finding at {level.value} without laterality")
    status = _opt_code(items, c.PARS_STATUS, _PARS_STATUS, "pars status")
    if status is None:
        raise ValueError(f"pars finding at {level.value} {side.value} without a status")
    edema = m.Edema(
        present=_opt_code(items, c.EDEMA, _BOOL, "edema"),
        sites=frozenset(_lookup(_EDEMA_SITES, it, "edema location") for it in _find(items, c.EDEMA_LOCATION)),
        signal_ratio=_opt_num(items, c.EDEMA_SIR),
    )
    return m.ParsFinding(
        level, side, status, edema=edema, gap_mm=_opt_num(items, c.PARS_GAP),
        mri_grade_override=_override(items, c.HOLLENBERG, c.HOLLENBERG_SOURCE, _HOLLENBERG, "Hollenberg grade"),
        ct_stage_override=_override(items, c.CT_STAGE, c.CT_STAGE_SOURCE, _CT_STAGES, "CT stage"),
        sclerotic_margins=_opt_code(items, c.SCLEROTIC_MARGINS, _BOOL, "sclerotic margins"),
        provenance=_annotations(items), note=_opt_text(items, c.COMMENT),
        read_on=frozenset(_lookup(_MODALITIES, it, "modality") for it in _find(items, c.MODALITY)),
    )


def _level(items: list) -> m.LevelFinding:
    level, _ = _site(items)
    return m.LevelFinding(
        level,
        disc_pfirrmann=_opt_code(items, c.PFIRRMANN, _PFIRRMANN, "Pfirrmann grade"),
        neural_arch_hypoplasia=_opt_code(items, c.NEURAL_ARCH_HYPOPLASIA, _BOOL, "neural arch hypoplasia"),
        foraminal_stenosis=_opt_code(items, c.FORAMINAL_STENOSIS, _SEVERITY, "foraminal stenosis"),
        instability=_opt_code(items, c.INSTABILITY, _BOOL, "instability"),
        spina_bifida_occulta=_opt_code(items, c.SPINA_BIFIDA_OCCULTA, _BOOL, "spina bifida occulta"),
        note=_opt_text(items, c.COMMENT),
        provenance=_annotations(items),
    )


def _slip(items: list) -> tuple[m.Level, m.Slip]:
    level, _ = _site(items)
    percent_item = _one(items, c.PERCENT_SLIP)
    if percent_item is None:
        raise ValueError(f"slip at {level.value} without a percent slip")
    method = _one(_children(percent_item), c.MEASUREMENT_METHOD)
    technique = m.SlipTechnique.POSTERIOR_CORNER_PERPENDICULAR if method is None else \
        _lookup(_TECHNIQUES, method, "slip technique")
    landmarks = {}
    for it in _find(items, c.SLIP_LANDMARK):
        point = _opt_text(_children(it), c.POINT_LPS)
        landmarks[_text(it)] = tuple(float(v) for v in json.loads(point))
    direction = _opt_code(items, c.SLIP_DIRECTION, _DIRECTIONS, "slip direction") or m.SlipDirection.ANTERIOR
    return level, m.Slip(
        percent=_num(percent_item), direction=direction, technique=technique, landmarks_lps=landmarks,
        slip_angle_deg=_opt_num(items, c.SLIP_ANGLE),
        slip_angle_endplate=_opt_code(items, c.SLIP_ANGLE_ENDPLATE, _ENDPLATES, "slip angle endplate"),
        provenance=_annotations(items),
    )


def _instability(items: list) -> tuple[m.Level, m.InstabilityMeasurement]:
    level, _ = _site(items)
    return level, m.InstabilityMeasurement(
        translation_mm=_opt_num(items, c.TRANSLATION_MM), translation_pct=_opt_num(items, c.TRANSLATION_PCT),
        angulation_deg=_opt_num(items, c.ANGULATION), provenance=_annotations(items),
    )


def _spinopelvic(items: list) -> m.SpinoPelvic:
    values = {name: _opt_num(items, concept) for name, concept in c.SPINOPELVIC_ITEMS.items()}
    return m.SpinoPelvic(**values, provenance=_annotations(items))


def _imaging(items: list) -> m.ImagingPerformed:
    return m.ImagingPerformed(**{name: _opt_code(items, concept, _BOOL, name)
                                 for name, concept in c.IMAGING_ITEMS.items()})


def _context(items: list) -> m.ClinicalContext:
    values: dict[str, Any] = {}
    for field_name, (concept, kind) in c.CONTEXT_ITEMS.items():
        it = _one(items, concept)
        if it is None:
            continue
        if kind == "bool":
            values[field_name] = _lookup(_BOOL, it, field_name)
        elif kind == "text":
            values[field_name] = _text(it)
        elif isinstance(kind, tuple):
            values[field_name] = _num(it)
        else:
            assert isinstance(kind, type)  # the remaining kinds are the enum classes of c.ENUM_CODES
            values[field_name] = _lookup(c.reverse(c.ENUM_CODES[kind]), it, field_name)
    values["from_dicom"] = frozenset(_text(it) for it in _find(items, c.FROM_DICOM))
    return m.ClinicalContext(**values)


def _opt_int(items: list, concept) -> int | None:
    value = _opt_num(items, concept)
    return None if value is None else int(round(value))


def _key_image(items: list) -> m.KeyImage:
    item = _one(items, c.KEY_IMAGE_ID)
    if item is None:
        raise ValueError("a key image group without its identifier")
    props = _children(item)
    return m.KeyImage(
        key_image_id=_text(item), series_instance_uid=_opt_text(props, c.SERIES_INSTANCE_UID),
        sop_instance_uid=_opt_text(props, c.SOP_INSTANCE_UID), frame=_opt_int(props, c.FRAME_NUMBER),
        slice_index=_opt_int(props, c.SLICE_INDEX), plane=_opt_text(props, c.VIEW_PLANE),
        window_center=_opt_num(props, c.WINDOW_CENTER), window_width=_opt_num(props, c.WINDOW_WIDTH),
        zoom=_opt_num(props, c.DISPLAY_ZOOM), caption=_opt_text(props, c.KEY_IMAGE_CAPTION),
        annotation_ids=tuple(_text(it) for it in _find(props, c.KEY_IMAGE_ANNOTATION)))


def _amendment(items: list) -> m.Amendment:
    item = _one(items, c.AMENDED_BY)
    if item is None:
        raise ValueError("an amendment group without its reader")
    props = _children(item)
    return m.Amendment(reader=_text(item), at=_opt_text(props, c.AMENDED_AT),
                       changes=tuple(_text(it) for it in _find(props, c.AMENDED_ITEM)))


# ------------------------------------------------------------------ entry points

def _finding_type(items: list) -> Key | None:
    it = _one(items, c.FINDING)
    return None if it is None else _code(it)


def _one_line(exc: BaseException) -> str:
    """The exception's text on one line (a parser message may span several), or its type name."""
    return " ".join(str(exc).split()) or type(exc).__name__


def findings_from_sr(dataset: Any, path: str | os.PathLike | None = None) -> m.StudyFindings:
    """Rebuild the StudyFindings from an Isthmus SR dataset (pydicom Dataset or highdicom SR).
    SRImportError when it is not such a report or is damaged."""
    try:
        return _findings_from_sr(dataset)
    except SRImportError:
        raise
    except RecursionError as exc:
        raise SRImportError(path, "damaged Isthmus SR: content items nested too deeply") from exc
    except Exception as exc:
        raise SRImportError(path, f"damaged Isthmus SR: {_one_line(exc)}") from exc


def _findings_from_sr(ds: Any) -> m.StudyFindings:
    if str(ds.get("Modality", "")) != "SR" or "ContentSequence" not in ds:
        raise SRImportError(None, "not a DICOM Structured Report")
    if _concept(ds) != c.key(c.IMAGING_MEASUREMENT_REPORT):
        raise SRImportError(None, "not a TID 1500 Imaging Measurement Report")
    containers = _find(_children(ds), c.IMAGING_MEASUREMENTS)
    if not containers:
        raise SRImportError(None, "the report has no Imaging Measurements")
    groups = [g for cont in containers for g in _find(_children(cont), c.MEASUREMENT_GROUP)]
    study_groups = [g for g in groups if _finding_type(_children(g)) == c.key(c.STUDY_INFO)]
    if not study_groups:
        raise SRImportError(None, "not written by Isthmus (no 'Isthmus study information' group)")
    study = _children(study_groups[0])
    version = _opt_num(study, c.SCHEMA_VERSION)
    if version is not None and int(version) > m.SCHEMA_VERSION:
        raise SRImportError(None, f"written by a newer Isthmus (findings schema version {int(version)}); update Isthmus")
    pars: list[m.ParsFinding] = []
    levels: dict[m.Level, m.LevelFinding] = {}
    slips: dict[m.Level, m.Slip] = {}
    instability: dict[m.Level, m.InstabilityMeasurement] = {}
    context = m.ClinicalContext()
    imaging = m.ImagingPerformed()
    spinopelvic: m.SpinoPelvic | None = None
    key_images: list[m.KeyImage] = []
    amendments: list[m.Amendment] = []
    for g in groups:
        items = _children(g)
        kind = _finding_type(items)
        if kind == c.key(c.FINDING_PARS):
            pars.append(_pars(items))
        elif kind == c.key(c.FINDING_LEVEL):
            lv = _level(items)
            if lv.level in levels:
                raise ValueError(f"two level groups for {lv.level.value}")
            levels[lv.level] = lv
        elif kind == c.key(c.FINDING_SLIP):
            level, slip = _slip(items)
            slips[level] = slip
        elif kind == c.key(c.CLINICAL_CONTEXT):
            context = _context(items)
        elif kind == c.key(c.FINDING_INSTABILITY):
            level, measured = _instability(items)
            instability[level] = measured
        elif kind == c.key(c.FINDING_SPINOPELVIC):
            spinopelvic = _spinopelvic(items)
        elif kind == c.key(c.FINDING_IMAGING):
            imaging = _imaging(items)
        elif kind == c.key(c.FINDING_KEY_IMAGE):
            key_images.append(_key_image(items))
        elif kind == c.key(c.FINDING_AMENDMENT):
            amendments.append(_amendment(items))
        # other groups (the study group, foreign groups) carry nothing more
    for level, slip in slips.items():
        levels[level] = replace(levels.get(level, m.LevelFinding(level)), slip=slip)
    for level, measured in instability.items():
        levels[level] = replace(levels.get(level, m.LevelFinding(level)), instability_measured=measured)
    return m.StudyFindings(
        study_instance_uid=_opt_text(study, c.STUDY_INSTANCE_UID),
        reader=_opt_text(study, c.READER),
        created=_opt_text(study, c.CREATED),
        modified=_opt_text(study, c.MODIFIED),
        impression=_opt_text(study, c.IMPRESSION),
        pars=tuple(pars),
        levels=tuple(levels.values()),
        context=context,
        imaging=imaging,
        spinopelvic=spinopelvic,
        key_images=tuple(key_images),
        amendments=tuple(amendments),
        schema_version=m.SCHEMA_VERSION,  # an older report is migrated: its new fields stay unknown
    )


def load_findings_from_sr(path: str | os.PathLike) -> m.StudyFindings:
    """Read an SR file and rebuild its findings (SRImportError names the file and the problem)."""
    import pydicom

    p = Path(path)
    try:
        ds = pydicom.dcmread(p)
    except FileNotFoundError as exc:
        raise SRImportError(p, "file not found") from exc
    except IsADirectoryError as exc:
        raise SRImportError(p, "is a folder, not an SR file") from exc
    except Exception as exc:
        raise SRImportError(p, f"not a readable DICOM file ({_one_line(exc)})") from exc
    try:
        return findings_from_sr(ds, p)
    except SRImportError as exc:
        if exc.path is None:
            raise SRImportError(p, exc.problem) from exc
        raise
