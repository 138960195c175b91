"""A surgeon's dated clinic list (Qt-free): the studies to review before clinic, in order, each
with its findings file. Per entry the list shows the patient (from the study's images), the
pathway tier and headline, and whether a report exists; unknown stays unknown.

File: JSON ``{"format": "isthmus-clinic-list", "version": 1, "date": "YYYY-MM-DD",
"entries": [{"study": DIR, "findings": FILE, "report": FILE.pdf?}]}``, paths relative to the
list file when they are inside its folder."""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.report.identity import ReportError, format_da, format_pn

FORMAT = "isthmus-clinic-list"
VERSION = 1
UNKNOWN = "unknown"


@dataclass(frozen=True)
class ClinicEntry:
    study: Path
    findings: Path
    report: Path | None = None  # default: the findings file with .pdf

    @property
    def report_path(self) -> Path:
        return self.report or self.findings.with_suffix(".pdf")


@dataclass(frozen=True)
class ClinicRow:
    patient: str
    study_date: str
    tier: str
    headline: str
    report_exists: bool
    problem: str = ""  # why tier / patient are unknown


@dataclass(frozen=True)
class ClinicList:
    date: str = field(default_factory=lambda: _dt.date.today().isoformat())
    entries: tuple[ClinicEntry, ...] = ()

    def __post_init__(self) -> None:
        try:
            _dt.date.fromisoformat(self.date)
        except (TypeError, ValueError) as exc:
            raise ReportError(f"clinic list date must be YYYY-MM-DD, got {self.date!r}") from exc

    def add(self, study: str | os.PathLike, findings: str | os.PathLike) -> ClinicList:
        entry = ClinicEntry(Path(study), Path(findings))
        if any(e.findings == entry.findings for e in self.entries):
            return self
        return replace(self, entries=(*self.entries, entry))

    def remove(self, index: int) -> ClinicList:
        return replace(self, entries=self.entries[:index] + self.entries[index + 1:])

    def neighbour(self, index: int, step: int) -> int | None:
        """The entry after (step +1) or before (-1) ``index``; None at either end."""
        j = index + step
        return j if 0 <= j < len(self.entries) else None


def load_entry_findings(path: str | os.PathLike) -> Any:
    """The findings of a clinic entry: a findings file, or a study's autosave (findings inside).
    FindingsFileError naming the file otherwise."""
    from app.findings.autosave import AUTOSAVE_FORMAT, read_autosave_document
    from app.findings.io import FindingsFileError, findings_from_dict, load_findings

    try:
        return load_findings(path)
    except FindingsFileError as first:
        try:
            head = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            raise first from None
        if not isinstance(head, dict) or head.get("format") != AUTOSAVE_FORMAT:
            raise
        return findings_from_dict(read_autosave_document(path)["findings"], path)


def findings_for_study(study_uid: str, open_study_uid: str = "", open_findings: str | os.PathLike | None = None,
                       data_dir: str | os.PathLike | None = None) -> Path:
    """Where a study's findings are for the clinic list: the open study's saved findings file,
    else its autosave (which may not exist yet: the row then reads 'unknown' with why)."""
    from app.findings.autosave import autosave_path

    if open_findings is not None and study_uid and study_uid == open_study_uid:
        return Path(open_findings)
    return autosave_path(study_uid, data_dir)


def summarise(entry: ClinicEntry) -> ClinicRow:
    """One row of the list; a missing or broken findings file or study reads 'unknown' with why."""
    from app.findings.io import FindingsFileError
    from app.pathway import evaluate, load_ruleset
    from app.report.identity import read_study

    patient = study_date = tier = headline = UNKNOWN
    problems = []
    findings = None
    try:
        findings = load_entry_findings(entry.findings)
    except FindingsFileError as exc:
        problems.append(str(exc))
    try:
        identity, _ = read_study(entry.study, findings.study_instance_uid if findings else "")
        patient = format_pn(identity.patient_name) or UNKNOWN
        study_date = format_da(identity.study_date) or UNKNOWN
    except ReportError as exc:
        problems.append(str(exc))
    if findings is not None:
        result = evaluate(findings, load_ruleset())
        tier, headline = result.tier, result.headline
    return ClinicRow(patient, study_date, tier, headline, entry.report_path.is_file(), "; ".join(problems))


def _rel(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())


def save_clinic_list(clinic: ClinicList, path: str | os.PathLike) -> Path:
    from app.core.atomic import write_text_atomic

    out = Path(path)
    base = out.parent
    doc = {"format": FORMAT, "version": VERSION, "date": clinic.date,
           "entries": [{"study": _rel(e.study, base), "findings": _rel(e.findings, base),
                        **({"report": _rel(e.report, base)} if e.report else {})} for e in clinic.entries]}
    write_text_atomic(out, json.dumps(doc, indent=2) + "\n")
    return out


def load_clinic_list(path: str | os.PathLike) -> ClinicList:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReportError(f"{p}: file not found") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ReportError(f"{p}: not a readable clinic list ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ReportError(f"{p}: not an Isthmus clinic list")
    if doc.get("version") != VERSION:
        raise ReportError(f"{p}: clinic list version {doc.get('version')!r} is not readable by this Isthmus")
    entries = []
    for i, e in enumerate(doc.get("entries") or []):
        if not isinstance(e, dict) or not isinstance(e.get("study"), str) or not isinstance(e.get("findings"), str):
            raise ReportError(f"{p}: entry {i + 1} needs 'study' and 'findings' paths")
        report = e.get("report")
        entries.append(ClinicEntry(p.parent / e["study"], p.parent / e["findings"],
                                   p.parent / report if isinstance(report, str) else None))
    return ClinicList(date=str(doc.get("date", "")), entries=tuple(entries))
