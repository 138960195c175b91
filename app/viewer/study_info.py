"""What the loaded images say about the study a review session belongs to (no Qt).

``StudyInfo.of(scan, patient, study)`` gathers, from the scanned headers of the active patient:
the study identity (autosave key, identity header), DICOM Modality per series (so findings
record what they were read on), the imaging performed (``ImagingPerformed``), and age/sex for
the clinical context when the reader has not entered them (``apply_to`` marks those fields
"from DICOM").
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

from app.dicom.model import PatientEntry, ScanResult, StudyEntry
from app.findings.model import ImagingPerformed, Sex, StudyFindings
from app.viewer.identity import StudyIdentity, age_years, study_identity

log = logging.getLogger(__name__)

_RADIOGRAPH = {"CR", "DX", "RG", "RF", "XA"}
_FLEX_EXT_WORDS = ("FLEX", "EXTEN")


@dataclass(frozen=True)
class StudyInfo:
    identity: StudyIdentity
    series_modality: dict[str, str] = field(default_factory=dict)  # series UID -> DICOM Modality
    patient_series_uids: frozenset[str] = frozenset()  # every series of the patient (all studies)
    imaging: ImagingPerformed = field(default_factory=ImagingPerformed)
    age_years: int | None = None
    sex: Sex | None = None

    @classmethod
    def of(cls, scan: ScanResult | None, patient: PatientEntry, study: StudyEntry,
           extras: dict[str, str] | None = None) -> StudyInfo:
        """From the scan; ``extras`` = ``read_study_extras(study)`` (read off the GUI thread)."""
        series = [s for st in patient.studies for s in st.series]
        codes = {s.series_instance_uid: s.modality_code.upper() for s in series}
        present = set(codes.values())
        flex = any(w in (s.description or "").upper() for s in series if codes[s.series_instance_uid] in _RADIOGRAPH
                   for w in _FLEX_EXT_WORDS)
        # True when the loaded images contain it; None (unknown) otherwise: it may exist elsewhere
        imaging = ImagingPerformed(
            radiographs=True if present & _RADIOGRAPH else None, flexion_extension=True if flex else None,
            ct=True if "CT" in present else None, mri=True if "MR" in present else None,
            spect=True if "NM" in present else None)
        extra = extras or {}
        age = age_years(extra.get("PatientAge", ""), patient.birth_date, study.study_date)
        sex = {s.value: s for s in Sex}.get(patient.sex.strip().upper())
        # the autosave key must not depend on whether the extras were read: no study time in it
        return cls(study_identity(patient, study), codes, frozenset(codes), imaging, age, sex)

    def apply_to(self, findings: StudyFindings) -> StudyFindings:
        """``findings`` with the imaging performed filled in and age/sex from DICOM where the
        reader has entered none (listed in ``context.from_dicom``)."""
        img = findings.imaging
        merged = dataclasses.replace(img, **{f.name: True for f in dataclasses.fields(img)
                                             if getattr(img, f.name) is None and getattr(self.imaging, f.name)})
        ctx = findings.context
        filled: dict[str, object] = {}
        if ctx.age_years is None and self.age_years is not None and 0 <= self.age_years <= 120:
            filled["age_years"] = float(self.age_years)
        if ctx.sex is None and self.sex is not None:
            filled["sex"] = self.sex
        if filled:
            ctx = dataclasses.replace(ctx, **filled, from_dicom=ctx.from_dicom | frozenset(filled))
        if merged == img and ctx == findings.context:
            return findings
        return dataclasses.replace(findings, imaging=merged, context=ctx)


def read_study_extras(study: StudyEntry) -> dict[str, str]:
    """PatientAge of the study's first image (the scan does not keep it). Reads
    a file with pydicom: call it off the GUI thread (app.viewer.loading.scan_with_extras)."""
    for s in study.series:
        for h in s.instances[:1]:
            try:
                import pydicom

                ds = pydicom.dcmread(h.path, stop_before_pixels=True, specific_tags=["PatientAge"])
            except Exception as exc:
                log.info("%s: header extras not read: %s", h.path, exc)
                return {}
            return {"PatientAge": str(ds.get("PatientAge", "") or "")}
    return {}
