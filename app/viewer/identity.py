"""Who and which study an image belongs to, taken from its own series' header (no Qt).

Every place that shows or writes identity (cell overlays, the review dock header, the study
browser, the window title, exports) asks this module, with the series it shows, instead of
reusing "the current patient". ``anonymised=True`` hides name, ID and birth date everywhere.

    index = identity_by_series(scan_result)     # series key -> StudyIdentity
    overlay_context(index[key], anonymised)      # the dict a SliceView's corner text reads
    index[key].autosave_key                      # stable key of the study (autosave file name)
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.dicom.model import PatientEntry, ScanResult, StudyEntry

ANONYMISED = "Anonymised"
NO_STUDY_UID = "(no study UID)"  # what the scan puts in StudyEntry when the header has none
_UID_RE = re.compile(r"^[0-9]+(\.[0-9]+)*$")


@dataclass(frozen=True)
class PatientIdentity:
    patient_id: str
    patient_name: str = ""  # DICOM PN ("FAMILY^GIVEN")
    birth_date: str = ""  # YYYYMMDD
    sex: str = ""  # M / F / O / ""

    @property
    def display_name(self) -> str:
        return " ".join(p for p in self.patient_name.replace("^", " ").split()) or "(no name)"

    def same_patient(self, other: PatientIdentity) -> bool:
        """Same ID, and the same name and birth date wherever both are recorded."""
        if _norm(self.patient_id) != _norm(other.patient_id):
            return False
        for a, b in ((self.patient_name, other.patient_name), (self.birth_date, other.birth_date)):
            if _norm(a) and _norm(b) and _norm(a) != _norm(b):
                return False
        return True

    def describe(self, anonymised: bool = False) -> str:
        """"DOE John (ID 123)" or "Anonymised patient" for messages."""
        return "Anonymised patient" if anonymised else f"{self.display_name} (ID {self.patient_id})"

    def to_dict(self) -> dict[str, str]:
        return {"patient_id": self.patient_id, "patient_name": self.patient_name,
                "birth_date": self.birth_date, "sex": self.sex}

    @classmethod
    def from_dict(cls, d: object) -> PatientIdentity | None:
        if not isinstance(d, dict) or not isinstance(d.get("patient_id"), str):
            return None
        return cls(**{k: str(d.get(k) or "") for k in ("patient_id", "patient_name", "birth_date", "sex")})

    @classmethod
    def of(cls, patient: PatientEntry) -> PatientIdentity:
        return cls(patient.patient_id, patient.patient_name, patient.birth_date, patient.sex)


@dataclass(frozen=True)
class StudyIdentity:
    patient: PatientIdentity
    study_instance_uid: str  # "" when the header has none
    study_date: str = ""  # YYYYMMDD
    description: str = ""
    series_uids: tuple[str, ...] = ()

    @property
    def autosave_key(self) -> str:
        """StudyInstanceUID, else a hash of patient ID + study date + the series UIDs (unique per
        study; the scan does not keep the study time): two studies without a UID never share an
        autosave file, and the key never depends on what else was read."""
        if self.study_instance_uid and _UID_RE.match(self.study_instance_uid):
            return self.study_instance_uid
        text = "|".join([self.patient.patient_id, self.study_date, *sorted(self.series_uids)])
        return "nouid-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]

    def header_fields(self, anonymised: bool = False, age_years: int | None = None) -> list[tuple[str, str]]:
        """(label, value) rows of the permanent identity header; unknown values say so."""
        p = self.patient
        born = format_date(p.birth_date)
        if age_years is not None:
            born = f"{born} ({age_years} y)" if born else f"{age_years} y"
        rows = [("Patient", ANONYMISED if anonymised else p.display_name),
                ("ID", ANONYMISED if anonymised else p.patient_id),
                ("Born", ANONYMISED if anonymised else (born or "unknown")),
                ("Sex", p.sex or "unknown"),
                ("Study", " ".join(x for x in (format_date(self.study_date), self.description) if x) or "unknown")]
        return rows


def _norm(s: str) -> str:
    return " ".join(str(s or "").replace("^", " ").upper().split())


def format_date(yyyymmdd: str) -> str:
    d = str(yyyymmdd or "")
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}" if len(d) >= 8 and d[:8].isdigit() else d


def study_identity(patient: PatientEntry, study: StudyEntry) -> StudyIdentity:
    uid = "" if study.study_instance_uid == NO_STUDY_UID else study.study_instance_uid
    return StudyIdentity(PatientIdentity.of(patient), uid, study.study_date, study.description,
                         tuple(s.series_instance_uid for s in study.series))


def identity_by_series(scan: ScanResult | None) -> dict[str, StudyIdentity]:
    """Series key -> the identity of the patient and study that series belongs to."""
    out: dict[str, StudyIdentity] = {}
    for p in (scan.patients if scan is not None else ()):
        for st in p.studies:
            ident = study_identity(p, st)
            for s in st.series:
                out[s.key] = ident
    return out


def overlay_context(ident: StudyIdentity | None, anonymised: bool = False) -> dict[str, str]:
    """The corner-text fields of one cell, from the identity of the series it shows."""
    if ident is None:
        return {}
    p = ident.patient
    return {"patient_name": ANONYMISED if anonymised else p.display_name,
            "patient_id": "" if anonymised else p.patient_id,
            "study_date": format_date(ident.study_date), "study_description": ident.description,
            "patient_key": p.patient_id}


def distinct_patients(idents: Iterable[StudyIdentity | None]) -> list[PatientIdentity]:
    """The different patients among ``idents`` (None skipped), in first-seen order."""
    out: list[PatientIdentity] = []
    for i in idents:
        if i is not None and not any(i.patient.same_patient(p) for p in out):
            out.append(i.patient)
    return out


def age_years(patient_age: str = "", birth_date: str = "", study_date: str = "") -> int | None:
    """Age in whole years: DICOM PatientAge ("034Y", "006M"...), else birth date to study date.
    None when neither is usable (unknown stays unknown)."""
    m = re.fullmatch(r"\s*(\d{1,3})\s*([DWMY])\s*", str(patient_age or "").upper())
    if m:
        n, unit = int(m.group(1)), m.group(2)
        return {"Y": n, "M": n // 12, "W": n // 52, "D": n // 365}[unit]
    try:
        born = _dt.datetime.strptime(str(birth_date)[:8], "%Y%m%d").date()
        seen = _dt.datetime.strptime(str(study_date)[:8], "%Y%m%d").date()
    except ValueError:
        return None
    if seen < born:
        return None
    return seen.year - born.year - ((seen.month, seen.day) < (born.month, born.day))
