"""DICOM SR written by app.findings.sr_export -> StudyFindings, read through highdicom's SR API.

highdicom parses the document (``Comprehensive3DSR.from_dataset`` / ``srread``) into typed content
items, ``MeasurementReport.from_sequence`` finds the TID 1501 measurement groups, and each group
gives its finding type, finding sites (with laterality), measurements and qualitative evaluations;
the Isthmus TEXT/UIDREF items are found with ``find_content_items``.

Derived values in the SR (Hollenberg grade, CT stage, Meyerding grade, near-boundary flag) are
not read back as data: the model recomputes them. Overrides are read from the grade "source"
items; exact numbers come from FloatingPointValue when present (highdicom's ``NumContentItem.value``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from copy import deepcopy
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydicom.sr.coding import Code

from app.findings import model as findings_model, sr_codes
from app.findings.io import FindingsFileError

Key = tuple[str, str]

_LEVELS_BY_SITE = sr_codes.reverse(sr_codes.LEVEL_CODES)
_SIDES = sr_codes.reverse(sr_codes.SIDE_CODES)
_PARS_STATUS = sr_codes.reverse(sr_codes.PARS_STATUS_CODES)
_EDEMA_SITES = sr_codes.reverse(sr_codes.EDEMA_SITE_CODES)
_HOLLENBERG = sr_codes.reverse(sr_codes.HOLLENBERG_CODES)
_CT_STAGES = sr_codes.reverse(sr_codes.CT_STAGE_CODES)
_DIRECTIONS = sr_codes.reverse(sr_codes.SLIP_DIRECTION_CODES)
_TECHNIQUES = sr_codes.reverse(sr_codes.SLIP_TECHNIQUE_CODES)
_ENDPLATES = sr_codes.reverse(sr_codes.SLIP_ANGLE_ENDPLATE_CODES)
_PFIRRMANN = sr_codes.reverse(sr_codes.PFIRRMANN_CODES)
_SEVERITY = sr_codes.reverse(sr_codes.SEVERITY_CODES)
_MODALITIES = sr_codes.reverse(sr_codes.MODALITY_CODES)
_BOOL = {sr_codes.key(sr_codes.PRESENT): True, sr_codes.key(sr_codes.ABSENT): False,
         sr_codes.key(sr_codes.YES): True, sr_codes.key(sr_codes.NO): False}


class SRImportError(FindingsFileError):
    """An SR that is not an Isthmus findings report or is damaged (names the file and the problem)."""


# ------------------------------------------------------------------ highdicom access

def _hsr() -> Any:
    import highdicom.sr as hsr

    return hsr


def _find(parent: Any, concept: Code) -> list[Any]:
    """The typed content items named ``concept`` directly under ``parent`` (highdicom)."""
    if "ContentSequence" not in parent:
        return []
    return list(_hsr().utils.find_content_items(parent, name=concept))


def _one(parent: Any, concept: Code) -> Any | None:
    found = _find(parent, concept)
    if len(found) > 1:
        raise ValueError(f"more than one '{concept.meaning}' item in a group")
    return found[0] if found else None


def _text(item: Any) -> str:
    """A TEXT item's value (with the exact trailing spaces kept by the exporter) or a UIDREF's UID."""
    if item.value_type == _hsr().ValueTypeValues.UIDREF:
        return str(item.value)
    value = str(item.value or "")
    suffix = _find(item, sr_codes.TRAILING_TEXT)
    if suffix:
        value = value.rstrip(" \x00") + str(json.loads(str(suffix[0].value)))
    return value


def _num(item: Any) -> float:
    return float(item.value)  # highdicom: FloatingPointValue when present, else NumericValue


def _lookup(table: dict[Key, Any], code: Any, what: str) -> Any:
    k = sr_codes.key(code)
    if k not in table:
        raise ValueError(f"unknown {what} code {k[1]} ({k[0]})")
    return table[k]


def _opt_text(parent: Any, concept: Code) -> str:
    it = _one(parent, concept)
    return "" if it is None else _text(it)


def _opt_num(parent: Any, concept: Code) -> float | None:
    it = _one(parent, concept)
    return None if it is None else _num(it)


def _opt_int(parent: Any, concept: Code) -> int | None:
    value = _opt_num(parent, concept)
    return None if value is None else int(round(value))


def _points(text: str, what: str) -> tuple[Any, ...]:
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError(f"{what} is not a list of points")
    return tuple(tuple(float(v) for v in p) for p in data)


def _by_name(items: list[Any]) -> dict[Key, list[Any]]:
    out: dict[Key, list[Any]] = {}
    for item in items:
        out.setdefault(sr_codes.key(item.name), []).append(item)
    return out


class _Group:
    """One TID 1501 measurement group (highdicom) with the lookups the pieces below need."""

    def __init__(self, group: Any) -> None:
        self.group = group
        self.root = group[0]
        self._qualitative: dict[Key, list[Any]] | None = None  # by concept name, read once on first use
        self._measurements: dict[Key, list[Any]] | None = None

    def _evaluations(self, concept: Code) -> list[Any]:
        if self._qualitative is None:
            self._qualitative = _by_name(self.group.get_qualitative_evaluations())
        return self._qualitative.get(sr_codes.key(concept), [])

    def _numbers(self, concept: Code) -> list[Any]:
        if self._measurements is None:
            self._measurements = _by_name(self.group.get_measurements())
        return self._measurements.get(sr_codes.key(concept), [])

    @property
    def finding_type(self) -> Key | None:
        ft = self.group.finding_type
        return None if ft is None else sr_codes.key(ft)

    def all_codes(self, concept: Code, table: dict[Key, Any], what: str) -> list[Any]:
        return [_lookup(table, q.value, what) for q in self._evaluations(concept)]

    def code(self, concept: Code, table: dict[Key, Any], what: str) -> Any | None:
        found = self._evaluations(concept)
        if len(found) > 1:
            raise ValueError(f"more than one '{concept.meaning}' item in a group")
        return _lookup(table, found[0].value, what) if found else None

    def measurement(self, concept: Code) -> Any | None:
        found = self._numbers(concept)
        if len(found) > 1:
            raise ValueError(f"more than one '{concept.meaning}' item in a group")
        return found[0] if found else None

    def num(self, concept: Code) -> float | None:
        found = self.measurement(concept)
        return None if found is None else float(found.value)

    def site(self) -> tuple[findings_model.Level, findings_model.Side | None]:
        sites = self.group.finding_sites
        if not sites:
            raise ValueError("measurement group without a finding site")
        if len(sites) > 1:
            raise ValueError("more than one 'Finding Site' item in a group")
        level = _lookup(_LEVELS_BY_SITE, sites[0].value, "vertebra")
        lat = sites[0].laterality
        return level, (None if lat is None else _lookup(_SIDES, lat, "laterality"))

    def override(self, value_concept: Code, source_concept: Code, table: dict[Key, Any], what: str) -> Any | None:
        value = self.code(value_concept, table, what)
        sources = self._evaluations(source_concept)
        if value is not None and sources and sr_codes.key(sources[0].value) == sr_codes.key(sr_codes.GRADE_SOURCE_OVERRIDE):
            return value
        return None

    def annotations(self) -> tuple[findings_model.AnnotationRef, ...]:
        refs = []
        for it in _find(self.root, sr_codes.ANNOTATION):
            frame = _opt_num(it, sr_codes.FRAME_NUMBER)
            px = _opt_text(it, sr_codes.POINTS_PX)
            lps = _opt_text(it, sr_codes.POINTS_LPS)
            refs.append(findings_model.AnnotationRef(
                annotation_id=_text(it),
                kind=_opt_text(it, sr_codes.ANNOTATION_KIND),
                series_instance_uid=_opt_text(it, sr_codes.SERIES_INSTANCE_UID),
                sop_instance_uid=_opt_text(it, sr_codes.SOP_INSTANCE_UID),
                frame=None if frame is None else int(round(frame)),
                points_px=_points(px, "pixel points") if px else (),
                points_lps=_points(lps, "patient points") if lps else (),
            ))
        return tuple(refs)


# ------------------------------------------------------------------ pieces

def _pars(g: _Group) -> findings_model.ParsFinding:
    level, side = g.site()
    if side is None:
        raise ValueError(f"pars finding at {level.value} without laterality")
    status = g.code(sr_codes.PARS_STATUS, _PARS_STATUS, "pars status")
    if status is None:
        raise ValueError(f"pars finding at {level.value} {side.value} without a status")
    edema = findings_model.Edema(
        present=g.code(sr_codes.EDEMA, _BOOL, "edema"),
        sites=frozenset(g.all_codes(sr_codes.EDEMA_LOCATION, _EDEMA_SITES, "edema location")),
        signal_ratio=g.num(sr_codes.EDEMA_SIR),
    )
    return findings_model.ParsFinding(
        level, side, status, edema=edema, gap_mm=g.num(sr_codes.PARS_GAP),
        mri_grade_override=g.override(sr_codes.HOLLENBERG, sr_codes.HOLLENBERG_SOURCE, _HOLLENBERG, "Hollenberg grade"),
        ct_stage_override=g.override(sr_codes.CT_STAGE, sr_codes.CT_STAGE_SOURCE, _CT_STAGES, "CT stage"),
        sclerotic_margins=g.code(sr_codes.SCLEROTIC_MARGINS, _BOOL, "sclerotic margins"),
        provenance=g.annotations(), note=_opt_text(g.root, sr_codes.COMMENT),
        read_on=frozenset(g.all_codes(sr_codes.MODALITY, _MODALITIES, "modality")),
    )


def _level(g: _Group) -> findings_model.LevelFinding:
    level, _ = g.site()
    return findings_model.LevelFinding(
        level,
        disc_pfirrmann=g.code(sr_codes.PFIRRMANN, _PFIRRMANN, "Pfirrmann grade"),
        neural_arch_hypoplasia=g.code(sr_codes.NEURAL_ARCH_HYPOPLASIA, _BOOL, "neural arch hypoplasia"),
        foraminal_stenosis=g.code(sr_codes.FORAMINAL_STENOSIS, _SEVERITY, "foraminal stenosis"),
        instability=g.code(sr_codes.INSTABILITY, _BOOL, "instability"),
        spina_bifida_occulta=g.code(sr_codes.SPINA_BIFIDA_OCCULTA, _BOOL, "spina bifida occulta"),
        note=_opt_text(g.root, sr_codes.COMMENT),
        provenance=g.annotations(),
    )


def _slip(g: _Group) -> tuple[findings_model.Level, findings_model.Slip]:
    level, _ = g.site()
    percent = g.measurement(sr_codes.PERCENT_SLIP)
    if percent is None:
        raise ValueError(f"slip at {level.value} without a percent slip")
    method = percent.method
    technique = findings_model.SlipTechnique.POSTERIOR_CORNER_PERPENDICULAR if method is None else \
        _lookup(_TECHNIQUES, method, "slip technique")
    landmarks = {}
    for it in _find(g.root, sr_codes.SLIP_LANDMARK):
        landmarks[_text(it)] = tuple(float(v) for v in json.loads(_opt_text(it, sr_codes.POINT_LPS)))
    direction = g.code(sr_codes.SLIP_DIRECTION, _DIRECTIONS, "slip direction") or findings_model.SlipDirection.ANTERIOR
    return level, findings_model.Slip(
        percent=float(percent.value), direction=direction, technique=technique, landmarks_lps=landmarks,
        slip_angle_deg=g.num(sr_codes.SLIP_ANGLE),
        slip_angle_endplate=g.code(sr_codes.SLIP_ANGLE_ENDPLATE, _ENDPLATES, "slip angle endplate"),
        provenance=g.annotations(),
    )


def _instability(g: _Group) -> tuple[findings_model.Level, findings_model.InstabilityMeasurement]:
    level, _ = g.site()
    return level, findings_model.InstabilityMeasurement(
        translation_mm=g.num(sr_codes.TRANSLATION_MM), translation_pct=g.num(sr_codes.TRANSLATION_PCT),
        angulation_deg=g.num(sr_codes.ANGULATION), provenance=g.annotations(),
    )


def _spinopelvic(g: _Group) -> findings_model.SpinoPelvic:
    values = {name: g.num(concept) for name, concept in sr_codes.SPINOPELVIC_ITEMS.items()}
    return findings_model.SpinoPelvic(**values, provenance=g.annotations())


def _imaging(g: _Group) -> findings_model.ImagingPerformed:
    return findings_model.ImagingPerformed(**{name: g.code(concept, _BOOL, name)
                                              for name, concept in sr_codes.IMAGING_ITEMS.items()})


def _context(g: _Group) -> findings_model.ClinicalContext:
    values: dict[str, Any] = {}
    for field_name, (concept, kind) in sr_codes.CONTEXT_ITEMS.items():
        if kind == "bool":
            value = g.code(concept, _BOOL, field_name)
        elif kind == "text":
            text = _one(g.root, concept)
            value = None if text is None else _text(text)
        elif isinstance(kind, tuple):
            value = g.num(concept)
        else:
            assert isinstance(kind, type)  # the remaining kinds are the enum classes of c.ENUM_CODES
            value = g.code(concept, sr_codes.reverse(sr_codes.ENUM_CODES[kind]), field_name)
        if value is not None:
            values[field_name] = value
    values["from_dicom"] = frozenset(_text(it) for it in _find(g.root, sr_codes.FROM_DICOM))
    return findings_model.ClinicalContext(**values)


def _key_image(g: _Group) -> findings_model.KeyImage:
    item = _one(g.root, sr_codes.KEY_IMAGE_ID)
    if item is None:
        raise ValueError("a key image group without its identifier")
    return findings_model.KeyImage(
        key_image_id=_text(item), series_instance_uid=_opt_text(item, sr_codes.SERIES_INSTANCE_UID),
        sop_instance_uid=_opt_text(item, sr_codes.SOP_INSTANCE_UID), frame=_opt_int(item, sr_codes.FRAME_NUMBER),
        slice_index=_opt_int(item, sr_codes.SLICE_INDEX), plane=_opt_text(item, sr_codes.VIEW_PLANE),
        window_center=_opt_num(item, sr_codes.WINDOW_CENTER), window_width=_opt_num(item, sr_codes.WINDOW_WIDTH),
        zoom=_opt_num(item, sr_codes.DISPLAY_ZOOM), caption=_opt_text(item, sr_codes.KEY_IMAGE_CAPTION),
        annotation_ids=tuple(_text(it) for it in _find(item, sr_codes.KEY_IMAGE_ANNOTATION)))


def _amendment(g: _Group) -> findings_model.Amendment:
    item = _one(g.root, sr_codes.AMENDED_BY)
    if item is None:
        raise ValueError("an amendment group without its reader")
    return findings_model.Amendment(reader=_text(item), at=_opt_text(item, sr_codes.AMENDED_AT),
                       changes=tuple(_text(it) for it in _find(item, sr_codes.AMENDED_ITEM)))


# ------------------------------------------------------------------ the document

_SR_CLASSES = {"1.2.840.10008.5.1.4.1.1.88.22": "EnhancedSR", "1.2.840.10008.5.1.4.1.1.88.33": "ComprehensiveSR",
               "1.2.840.10008.5.1.4.1.1.88.34": "Comprehensive3DSR"}


def parse_sr(ds: Any, copy: bool = True) -> Any:
    """The highdicom SR document, every content item typed, for a pydicom dataset or a highdicom
    SR. ``copy=False`` converts ``ds`` in place (faster; for a dataset nobody else holds).
    SRImportError when it is not an Enhanced, Comprehensive or Comprehensive 3D SR."""
    hsr = _hsr()
    if str(ds.get("Modality", "")) != "SR" or "ContentSequence" not in ds:
        raise SRImportError(None, "not a DICOM Structured Report")
    name = _SR_CLASSES.get(str(ds.get("SOPClassUID", "")))
    if name is None:
        raise SRImportError(None, f"an SR of a kind Isthmus does not read (SOP class {ds.get('SOPClassUID', '?')})")
    # highdicom 0.28 types the content items only when converting in place (copy=False): copy first
    return getattr(hsr, name).from_dataset(deepcopy(ds) if copy else ds, copy=False)


def measurement_groups(sr: Any) -> list[Any]:
    """The TID 1501 measurement groups of a TID 1500 report (SRImportError when it is none)."""
    hsr = _hsr()
    name = sr.get("ConceptNameCodeSequence", None)
    if not name or sr_codes.key(name[0]) != sr_codes.key(sr_codes.IMAGING_MEASUREMENT_REPORT):
        raise SRImportError(None, "not a TID 1500 Imaging Measurement Report")
    if not _find(sr, sr_codes.IMAGING_MEASUREMENTS):
        raise SRImportError(None, "the report has no Imaging Measurements")
    groups = []
    for container in _find(sr, sr_codes.IMAGING_MEASUREMENTS):
        for item in _find(container, sr_codes.MEASUREMENT_GROUP):
            if item.value_type != hsr.ValueTypeValues.CONTAINER:
                raise SRImportError(None, "a measurement group that is not a container")
            # what MeasurementsAndQualitativeEvaluations.from_sequence does, on the items parse_sr
            # already typed (from_sequence would convert and copy the whole group again)
            group = hsr.ContentSequence([item], is_root=False)
            group.__class__ = hsr.MeasurementsAndQualitativeEvaluations
            groups.append(group)
    return groups


def is_isthmus_group(group: Any) -> bool:
    ft = group.finding_type
    return ft is not None and sr_codes.key(ft) == sr_codes.key(sr_codes.STUDY_INFO)


def _one_line(exc: BaseException) -> str:
    """The exception's text on one line (a parser message may span several), or its type name."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _typed_errors(read: Callable[[], findings_model.StudyFindings],
                  path: str | os.PathLike | None) -> findings_model.StudyFindings:
    """``read()``, any failure turned into SRImportError naming ``path`` and the problem."""
    try:
        return read()
    except SRImportError as exc:
        if exc.path is None and path is not None:
            raise SRImportError(path, exc.problem) from exc
        raise
    except RecursionError as exc:
        raise SRImportError(path, "damaged Isthmus SR: content items nested too deeply") from exc
    except Exception as exc:
        raise SRImportError(path, f"damaged Isthmus SR: {_one_line(exc)}") from exc


def findings_from_sr(dataset: Any, path: str | os.PathLike | None = None) -> findings_model.StudyFindings:
    """Rebuild the StudyFindings from an Isthmus SR dataset (pydicom Dataset or highdicom SR; not
    changed). SRImportError when it is not such a report or is damaged."""
    return _typed_errors(lambda: _findings_from_parsed(parse_sr(dataset, copy=True)), path)


def findings_from_parsed(sr: Any, path: str | os.PathLike | None = None) -> findings_model.StudyFindings:
    """``findings_from_sr`` for a document ``parse_sr`` already returned (no second conversion)."""
    return _typed_errors(lambda: _findings_from_parsed(sr), path)


def _findings_from_parsed(sr: Any) -> findings_model.StudyFindings:
    groups = [_Group(g) for g in measurement_groups(sr)]
    study_groups = [g for g in groups if g.finding_type == sr_codes.key(sr_codes.STUDY_INFO)]
    if not study_groups:
        raise SRImportError(None, "not written by Isthmus (no 'Isthmus study information' group)")
    study = study_groups[0]
    version = study.num(sr_codes.SCHEMA_VERSION)
    if version is not None and int(version) > findings_model.SCHEMA_VERSION:
        raise SRImportError(None, f"written by a newer Isthmus (findings schema version {int(version)}); update Isthmus")
    pars: list[findings_model.ParsFinding] = []
    levels: dict[findings_model.Level, findings_model.LevelFinding] = {}
    slips: dict[findings_model.Level, findings_model.Slip] = {}
    instability: dict[findings_model.Level, findings_model.InstabilityMeasurement] = {}
    context = findings_model.ClinicalContext()
    imaging = findings_model.ImagingPerformed()
    spinopelvic: findings_model.SpinoPelvic | None = None
    key_images: list[findings_model.KeyImage] = []
    amendments: list[findings_model.Amendment] = []
    for g in groups:
        kind = g.finding_type
        if kind == sr_codes.key(sr_codes.FINDING_PARS):
            pars.append(_pars(g))
        elif kind == sr_codes.key(sr_codes.FINDING_LEVEL):
            lv = _level(g)
            if lv.level in levels:
                raise ValueError(f"two level groups for {lv.level.value}")
            levels[lv.level] = lv
        elif kind == sr_codes.key(sr_codes.FINDING_SLIP):
            level, slip = _slip(g)
            slips[level] = slip
        elif kind == sr_codes.key(sr_codes.CLINICAL_CONTEXT):
            context = _context(g)
        elif kind == sr_codes.key(sr_codes.FINDING_INSTABILITY):
            level, measured = _instability(g)
            instability[level] = measured
        elif kind == sr_codes.key(sr_codes.FINDING_SPINOPELVIC):
            spinopelvic = _spinopelvic(g)
        elif kind == sr_codes.key(sr_codes.FINDING_IMAGING):
            imaging = _imaging(g)
        elif kind == sr_codes.key(sr_codes.FINDING_KEY_IMAGE):
            key_images.append(_key_image(g))
        elif kind == sr_codes.key(sr_codes.FINDING_AMENDMENT):
            amendments.append(_amendment(g))
        # other groups (the study group, foreign groups) carry nothing more
    for level, slip in slips.items():
        levels[level] = replace(levels.get(level, findings_model.LevelFinding(level)), slip=slip)
    for level, measured in instability.items():
        levels[level] = replace(levels.get(level, findings_model.LevelFinding(level)), instability_measured=measured)
    root = study.root
    return findings_model.StudyFindings(
        study_instance_uid=_opt_text(root, sr_codes.STUDY_INSTANCE_UID),
        reader=_opt_text(root, sr_codes.READER),
        created=_opt_text(root, sr_codes.CREATED),
        modified=_opt_text(root, sr_codes.MODIFIED),
        impression=_opt_text(root, sr_codes.IMPRESSION),
        pars=tuple(pars),
        levels=tuple(levels.values()),
        context=context,
        imaging=imaging,
        spinopelvic=spinopelvic,
        key_images=tuple(key_images),
        amendments=tuple(amendments),
        schema_version=findings_model.SCHEMA_VERSION,  # an older report is migrated: its new fields stay unknown
    )


def load_findings_from_sr(path: str | os.PathLike) -> findings_model.StudyFindings:
    """Read an SR file and rebuild its findings (SRImportError names the file and the problem)."""
    p = Path(path)
    ds = read_sr_file(p)
    return _typed_errors(lambda: _findings_from_parsed(parse_sr(ds, copy=False)), p)  # read just now: in place


def read_sr_file(path: str | os.PathLike) -> Any:
    """The pydicom dataset of an SR file (SRImportError naming the file when it cannot be read)."""
    import pydicom

    p = Path(path)
    try:
        return pydicom.dcmread(p)
    except FileNotFoundError as exc:
        raise SRImportError(p, "file not found") from exc
    except IsADirectoryError as exc:
        raise SRImportError(p, "is a folder, not an SR file") from exc
    except Exception as exc:
        raise SRImportError(p, f"not a readable DICOM file ({_one_line(exc)})") from exc
