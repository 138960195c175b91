"""The clinic report as plain data: every line already in words, nothing rendered yet.

``build_report`` is the only place that turns findings, a pathway result and the study's
identity into report text; HTML (``html_render``) and the PDF (Qt, app/ui/report) only lay it out.
Unknown values read "unknown" / "not assessed", never a normal-sounding default.
"""

from __future__ import annotations

from dataclasses import dataclass

from app import __version__
from app.findings.model import LevelFinding, ParsFinding, ParsStatus, Slip, SlipTechnique, SpinoPelvic, StudyFindings
from app.pathway.result import DISCLAIMER, PathwayResult
from app.report.identity import StudyIdentity, format_da, format_pn

UNKNOWN = "unknown"
NOT_ASSESSED = "not assessed"
SIGN_OFF = "Reviewed by: ______________________   Signature: ______________   Date: ____________"


@dataclass(frozen=True)
class ParsRow:
    level: str
    side: str
    status: str
    edema: str  # "present (pars, pedicle), ratio 1.8" / "absent" / "not assessed"
    mri_grade: str
    ct_stage: str  # "progressive (MRI crosswalk)"
    gap: str
    read_on: str


@dataclass(frozen=True)
class LevelRow:
    level: str
    items: tuple[tuple[str, str], ...]  # (label, value) - slip, slip angle, disc, instability...


@dataclass(frozen=True)
class KeyImageFigure:
    caption: str
    png: bytes  # rendered with its annotations burned in (app/ui/report/key_images.py)
    where: str = ""  # "MR_SAG_T2, slice 8"


@dataclass(frozen=True)
class ClinicReport:
    title: str
    anonymised: bool
    header: tuple[tuple[str, str], ...]  # (label, value): patient, study, date, reader, versions
    impression: str
    pars_rows: tuple[ParsRow, ...]
    level_rows: tuple[LevelRow, ...]
    spinopelvic: tuple[tuple[str, str], ...]
    pathway: PathwayResult | None
    key_images: tuple[KeyImageFigure, ...]
    disclaimer: str = DISCLAIMER
    sign_off: str = SIGN_OFF
    amendments: tuple[str, ...] = ()  # "2026-12-01 09:40 Dr B: pars L5 left, impression"

    @property
    def patient_line(self) -> str:
        return dict(self.header).get("Patient", "")


def _num(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return UNKNOWN
    return f"{value:.{digits}f}{unit}"


def _yes_no(value: bool | None, yes: str = "yes", no: str = "no") -> str:
    return UNKNOWN if value is None else (yes if value else no)


def _edema_text(p: ParsFinding) -> str:
    present = p.edema_present
    if present is None:
        return NOT_ASSESSED
    if not present:
        return "absent"
    sites = ", ".join(sorted(s.value for s in p.edema.sites))
    ratio = p.edema.signal_ratio
    text = "present" + (f" ({sites})" if sites else "")
    text += f", signal ratio {ratio:.2f}" if ratio is not None else ", signal ratio not measured"
    return text


def pars_row(p: ParsFinding) -> ParsRow:
    grade = p.mri_grade
    grade_text = UNKNOWN if grade is None else f"Hollenberg {grade}"
    if grade is not None and p.mri_grade_override is not None:
        grade_text += " (reader)"
    stage = p.ct_stage
    if stage is None:
        if p.status is ParsStatus.INTACT:
            stage_text = "none (intact)"
        elif p.cross_sectional_confirmation is False:
            stage_text = "not staged (not read on CT or MRI)"
        else:
            stage_text = UNKNOWN
    else:
        stage_text = f"{stage.value} ({p.ct_stage_basis.value if p.ct_stage_basis else UNKNOWN})"
    return ParsRow(
        level=p.level.value, side=p.side.value, status=p.status.value.replace("_", " "),
        edema=_edema_text(p), mri_grade=grade_text, ct_stage=stage_text,
        gap=UNKNOWN if p.gap_mm is None else f"{p.gap_mm:.1f} mm",
        read_on=", ".join(sorted(m.value for m in p.read_on)) or "not recorded")


def _slip_basis(s: Slip) -> str:
    if s.technique is SlipTechnique.ENTERED:
        return "entered by the reader (no landmarks)"
    if not s.landmarks_lps:
        return "landmarks not stored"
    dims = {len(p) for p in s.landmarks_lps.values()}
    if dims == {3}:
        return "landmarks in patient mm (calibrated volume)"
    return "landmarks in the radiograph plane (a ratio: pixel calibration does not change it)"


def level_row(lv: LevelFinding) -> LevelRow:
    items: list[tuple[str, str]] = []
    s = lv.slip
    if s is not None:
        grade = s.grade
        grade_text = "no listhesis" if grade is None else f"Meyerding {grade.value}"
        near = " (near a grade boundary)" if s.percent > 0 and s.near_boundary else ""
        items.append(("Slip", f"{s.percent:.1f} % {s.direction.value}, {grade_text}{near}"))
        items.append(("Slip technique", f"{s.technique.value}; {_slip_basis(s)}"))
        if s.slip_angle_deg is not None:
            end = f" ({s.slip_angle_endplate.value} endplate)" if s.slip_angle_endplate else " (endplate not recorded)"
            items.append(("Slip angle", f"{s.slip_angle_deg:.1f}°{end}"))
    else:
        items.append(("Slip", NOT_ASSESSED))
    items.append(("Disc below (Pfirrmann)", UNKNOWN if lv.disc_pfirrmann is None else str(lv.disc_pfirrmann)))
    items.append(("Neural-arch hypoplasia", _yes_no(lv.neural_arch_hypoplasia)))
    if lv.foraminal_stenosis is not None:
        items.append(("Foraminal stenosis", lv.foraminal_stenosis.value))
    items.append(("Instability (reader)", _yes_no(lv.instability, "present", "absent")))
    im = lv.instability_measured
    if im is not None:
        items.append(("Instability (measured)",
                      f"translation {_num(im.translation_mm, ' mm')} ({_num(im.translation_pct, ' %')} of endplate), "
                      f"angulation {_num(im.angulation_deg, '°')}"))
    if lv.spina_bifida_occulta is not None:
        items.append(("Spina bifida occulta", _yes_no(lv.spina_bifida_occulta)))
    if lv.note:
        items.append(("Note", lv.note))
    return LevelRow(level=lv.level.value, items=tuple(items))


def spinopelvic_items(sp: SpinoPelvic | None) -> tuple[tuple[str, str], ...]:
    if sp is None:
        return ()
    return (("Pelvic incidence", _num(sp.pelvic_incidence_deg, "°")), ("Pelvic tilt", _num(sp.pelvic_tilt_deg, "°")),
            ("Sacral slope", _num(sp.sacral_slope_deg, "°")), ("Lumbar lordosis (L1-S1)", _num(sp.lumbar_lordosis_deg, "°")))


def _header(identity: StudyIdentity | None, findings: StudyFindings, result: PathwayResult | None,
            anonymised: bool) -> tuple[tuple[str, str], ...]:
    rows: list[tuple[str, str]] = []
    if not anonymised:
        ident = identity or StudyIdentity()
        rows += [("Patient", format_pn(ident.patient_name) or UNKNOWN),
                 ("Patient ID", ident.patient_id or UNKNOWN),
                 ("Born", format_da(ident.birth_date) or UNKNOWN),
                 ("Sex", ident.sex or UNKNOWN),
                 ("Study", ident.study_description
                  or (f"accession {ident.accession_number}" if ident.accession_number else UNKNOWN)),
                 ("Study date", format_da(ident.study_date) or UNKNOWN)]
        rows.append(("Reader", findings.reader or UNKNOWN))
    else:
        rows.append(("Patient", "anonymised"))
    rows.append(("Isthmus", __version__))
    if result is not None:
        rows.append(("Pathway ruleset", f"{result.ruleset_id} {result.ruleset_version}"))
    else:
        rows.append(("Pathway ruleset", "not evaluated"))
    return tuple(rows)


def build_report(findings: StudyFindings, result: PathwayResult | None, identity: StudyIdentity | None,
                 key_images: tuple[KeyImageFigure, ...] = (), anonymise: bool = False) -> ClinicReport:
    """The report of one study. ``identity`` comes from the study's own images; with
    ``anonymise`` no identity and no dates are kept (the findings' reader and the amendment
    history are dropped too)."""
    if not anonymise and identity is not None and findings.study_instance_uid and identity.study_instance_uid \
            and identity.study_instance_uid != findings.study_instance_uid:
        from app.report.identity import ReportError

        raise ReportError(f"the images are of study {identity.study_instance_uid} but the findings are of study "
                          f"{findings.study_instance_uid}")
    return ClinicReport(
        title="Lumbar spine review — clinic report" + (" (anonymised)" if anonymise else ""),
        anonymised=anonymise,
        header=_header(identity, findings, result, anonymise),
        impression=findings.impression,
        pars_rows=tuple(pars_row(p) for p in findings.pars),
        level_rows=tuple(level_row(lv) for lv in findings.levels),
        spinopelvic=spinopelvic_items(findings.spinopelvic),
        pathway=result,
        key_images=tuple(key_images),
        amendments=() if anonymise else tuple(a.line for a in findings.amendments),
    )
