"""Which structured reports an opened study holds: Isthmus findings SRs (every version, newest
first) and the SRs Isthmus cannot map (foreign TID 1500 reports, damaged or newer Isthmus SRs,
other SR templates), each listed with its title, author and date, never silently dropped.

Qt-free; reads the SR files with pydicom (call it off the GUI thread). The candidates are the
scan's non-image files (``sr_candidates``) or any list of files (database, PACS retrieve).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.progress import CancelToken, ProgressFn, check, report
from app.dicom.model import ScanResult
from app.findings import model as findings_model
from app.findings.sr_import import SRImportError, findings_from_parsed, is_isthmus_group, measurement_groups, parse_sr

MAX_SR_BYTES = 64 * 1024 * 1024  # a findings SR is a few hundred kB; larger files are not read


@dataclass(frozen=True)
class FoundSR:
    """One SR object of the study. ``findings`` is set for a loadable Isthmus SR; ``problem``
    says in plain words why a foreign or damaged one cannot be loaded."""

    path: Path
    title: str
    author: str  # the reader (Isthmus) or the person observer; "" when the SR names none
    date_time: str  # "YYYY-MM-DD HH:MM:SS" of the content (or the findings' last change); "" unknown
    manufacturer: str
    patient_id: str
    patient_name: str
    study_instance_uid: str
    sop_instance_uid: str
    findings: findings_model.StudyFindings | None = None
    problem: str = ""

    @property
    def describe(self) -> str:
        who = self.author or "author unknown"
        when = self.date_time or "date unknown"
        return f"{self.title or 'untitled SR'} — {who}, {when}"


@dataclass(frozen=True)
class SRDiscovery:
    isthmus: tuple[FoundSR, ...] = ()  # loadable Isthmus findings, newest first
    foreign: tuple[FoundSR, ...] = ()  # SRs of this study Isthmus cannot map (with the reason)
    other_studies: int = 0  # SRs found that belong to another study (not offered)

    @property
    def anything(self) -> bool:
        return bool(self.isthmus or self.foreign)


def sr_candidates(scan: ScanResult) -> list[Path]:
    """The scan's non-image files that may be structured reports (the scanner lists SR, KO, PR
    and other non-image objects as skipped; DICOMDIR indexes are left out)."""
    return [s.path for s in scan.skipped if s.category == "non-image" and not s.reason.startswith("DICOMDIR")]


def _s(ds: Any, keyword: str) -> str:
    value = ds.get(keyword, "")
    return "" if value is None else str(value).strip()


def _date_time(date: str, time: str) -> str:
    if len(date) != 8 or not date.isdigit():
        return ""
    out = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    t = time.split(".")[0]
    if len(t) >= 4 and t[:4].isdigit():
        out += f" {t[:2]}:{t[2:4]}" + (f":{t[4:6]}" if len(t) >= 6 else "")
    return out


def _iso_to_display(value: str) -> str:
    """'2026-11-21T10:15:00+00:00' -> '2026-11-21 10:15:00' ('' stays unknown)."""
    return value.replace("T", " ")[:19] if value else ""


def _observer(sr: Any) -> str:
    """The person observer's name of the document (TID 1002), '' when none is recorded."""
    import highdicom.sr as hsr
    from pydicom.sr.codedict import codes

    for item in hsr.utils.find_content_items(sr, name=codes.DCM.PersonObserverName, recursive=False):
        return str(item.value).replace("^", " ").strip()
    return ""


def _title(ds: Any) -> str:
    seq = ds.get("ConceptNameCodeSequence", None)
    return str(seq[0].get("CodeMeaning", "")) if seq else ""


def _found(path: Path, ds: Any, **more: Any) -> FoundSR:
    kwargs: dict[str, Any] = dict(
        path=path, title=_title(ds), author="", manufacturer=_s(ds, "Manufacturer"),
        date_time=_date_time(_s(ds, "ContentDate"), _s(ds, "ContentTime")),
        patient_id=_s(ds, "PatientID"), patient_name=_s(ds, "PatientName"),
        study_instance_uid=_s(ds, "StudyInstanceUID"), sop_instance_uid=_s(ds, "SOPInstanceUID"))
    kwargs.update(more)
    return FoundSR(**kwargs)


def classify_sr(path: str | os.PathLike, ds: Any) -> FoundSR:
    """What one SR dataset is: a loadable Isthmus SR (``findings`` set) or one with a ``problem``."""
    p = Path(path)
    try:
        sr = parse_sr(ds, copy=False)  # read by discover_srs for this call only
    except SRImportError as exc:
        return _found(p, ds, problem=exc.problem)
    except Exception as exc:
        return _found(p, ds, problem=f"damaged SR ({' '.join(str(exc).split()) or type(exc).__name__})")
    try:
        author = _observer(sr)
    except Exception:
        author = ""
    try:
        groups = measurement_groups(sr)
    except SRImportError as exc:
        return _found(p, ds, author=author, problem=f"{exc.problem}: Isthmus reads only its own TID 1500 reports")
    except Exception as exc:
        return _found(p, ds, author=author, problem=f"damaged TID 1500 report ({' '.join(str(exc).split())})")
    if not any(is_isthmus_group(g) for g in groups):
        maker = _s(ds, "Manufacturer") or "another program"
        return _found(p, ds, author=author,
                      problem=f"TID 1500 report written by {maker}: Isthmus cannot map its {len(groups)} measurement "
                              "group(s) to findings")
    try:
        findings = findings_from_parsed(sr, p)
    except SRImportError as exc:
        return _found(p, ds, author=author, problem=f"Isthmus SR that cannot be loaded: {exc.problem}")
    when = _iso_to_display(findings.modified or findings.created)
    return _found(p, ds, author=findings.reader or author, findings=findings,
                  **({"date_time": when} if when else {}))


def _newest_first(found: list[FoundSR]) -> tuple[FoundSR, ...]:
    return tuple(sorted(found, key=lambda f: (f.date_time, f.sop_instance_uid), reverse=True))


def discover_srs(paths: Iterable[str | os.PathLike], study_instance_uid: str = "",
                 progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> SRDiscovery:
    """Read the candidate files and sort the SRs of ``study_instance_uid`` (all when "") into
    Isthmus versions (newest first) and SRs Isthmus cannot map. Non-SR objects (KO, PR, ...)
    and unreadable files are not SRs and are left out; nothing raises for a bad file."""
    import pydicom

    files = [Path(p) for p in paths]
    ours: list[FoundSR] = []
    foreign: list[FoundSR] = []
    others = 0
    for n, path in enumerate(files):
        check(cancel)
        report(progress, n, len(files))
        try:
            if path.stat().st_size > MAX_SR_BYTES:
                continue
            ds = pydicom.dcmread(path)
        except Exception:
            continue  # the scan already listed why it is not a readable object
        if _s(ds, "Modality") != "SR":
            continue
        if study_instance_uid and _s(ds, "StudyInstanceUID") != study_instance_uid:
            others += 1
            continue
        found = classify_sr(path, ds)
        (ours if found.findings is not None else foreign).append(found)
    report(progress, len(files), len(files))
    return SRDiscovery(_newest_first(ours), _newest_first(foreign), others)


def discover_in_scan(scan: ScanResult, study_instance_uid: str = "", progress: ProgressFn | None = None,
                     cancel: CancelToken | None = None) -> SRDiscovery:
    """``discover_srs`` over the scan's non-image files."""
    return discover_srs(sr_candidates(scan), study_instance_uid, progress, cancel)


def summary(findings: findings_model.StudyFindings) -> str:
    """'2 pars finding(s), 1 level(s), impression' for the version picker."""
    parts = [f"{len(findings.pars)} pars finding(s)", f"{len(findings.levels)} level(s)"]
    if findings.key_images:
        parts.append(f"{len(findings.key_images)} key image(s)")
    if findings.impression:
        parts.append("impression")
    if findings.amendments:
        parts.append(f"{len(findings.amendments)} amendment(s)")
    return ", ".join(parts)
