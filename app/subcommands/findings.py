"""`isthmus findings validate FILE...`: check findings files against the schema and the model.

Prints ``OK <file>`` and a summary per valid file, or ``INVALID <file>`` and every problem.
Exit status 1 when any file is invalid. The format is documented in docs/findings-format.md.

`isthmus findings migrate FILE...`: rewrite older files in the current schema version (new
fields unknown); prints ``MIGRATED <file> (version N -> M)`` or ``CURRENT <file>``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="findings_command", metavar="ACTION", required=True)
    v = sub.add_parser("validate", help="check findings files (exit status 1 when one is invalid)",
                       description="Check findings files against the schema and the model rules.")
    v.add_argument("files", nargs="+", metavar="FILE", help="findings JSON file(s)")
    v.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    mg = sub.add_parser("migrate", help="rewrite older findings files in the current schema version",
                        description="Rewrite findings files of an older schema version in place (atomically); "
                                    "fields added since stay unknown.")
    mg.add_argument("files", nargs="+", metavar="FILE", help="findings JSON file(s)")


_STAGE_BASIS = {"reader": "override", "CT": "from the CT read", "MRI crosswalk": "from MRI by the crosswalk",
                "modality not recorded": "derived; modality not recorded"}
_IMAGING = {"radiographs": "radiographs", "flexion_extension": "flexion-extension views", "ct": "CT", "mri": "MRI",
            "spect": "SPECT / bone scan"}


def summarise(f: Any) -> list[str]:
    """Plain-text summary lines of a StudyFindings."""
    lines = []
    head = f"study {f.study_instance_uid or '(no study UID)'}"
    if f.reader:
        head += f", reader {f.reader}"
    if f.modified or f.created:
        head += f", modified {f.modified or f.created}"
    lines.append(head)
    for p in f.pars:
        bits = [p.status.value.replace("_", " ")]
        if p.edema_present is not None:
            bits.append("edema" if p.edema_present else "no edema")
        if p.gap_mm is not None:
            bits.append(f"gap {p.gap_mm:g} mm")
        if p.mri_grade is not None:
            bits.append(f"Hollenberg {p.mri_grade}{' (override)' if p.mri_grade_override is not None else ''}")
        if p.ct_stage is not None:
            bits.append(f"CT {p.ct_stage.value} ({_STAGE_BASIS[p.ct_stage_basis.value]})")
        if p.read_on:
            kinds = ", ".join(sorted(k.value for k in p.read_on))
            bits.append(f"read on {kinds}" + ("" if p.cross_sectional_confirmation else ": suspected, not confirmed"))
        if p.provenance:
            bits.append(f"{len(p.provenance)} annotation(s)")
        lines.append(f"  pars {p.level.value} {p.side.value}: " + ", ".join(bits))
    for lv in f.levels:
        bits = []
        if lv.slip is not None:
            s = lv.slip
            grade = f"Meyerding {s.grade.value}" if s.grade else "no listhesis"
            near = " (near a grade boundary)" if s.near_boundary else ""
            bits.append(f"{s.direction.value} {s.percent:g} % = {grade}{near}")
            if s.slip_angle_deg is not None:
                bits.append(f"slip angle {s.slip_angle_deg:g} deg")
        if lv.disc_pfirrmann is not None:
            bits.append(f"Pfirrmann {lv.disc_pfirrmann}")
        for name in ("neural_arch_hypoplasia", "instability", "spina_bifida_occulta"):
            v = getattr(lv, name)
            if v is not None:
                bits.append(f"{name.replace('_', ' ')} {'yes' if v else 'no'}")
        if lv.foraminal_stenosis is not None:
            bits.append(f"foraminal stenosis {lv.foraminal_stenosis.value}")
        im = lv.instability_measured
        if im is not None:
            moved = [f"{v:g} {unit}" for v, unit in ((im.translation_mm, "mm"), (im.translation_pct, "%"),
                                                    (im.angulation_deg, "deg")) if v is not None]
            bits.append("flexion-extension motion " + (", ".join(moved) or "not measured"))
        lines.append(f"  level {lv.level.value}: " + (", ".join(bits) or "no details"))
    sp = f.spinopelvic
    if sp is not None:
        values = [f"{name} {v:g} deg" for name, v in (("PI", sp.pelvic_incidence_deg), ("PT", sp.pelvic_tilt_deg),
                                                      ("SS", sp.sacral_slope_deg), ("LL", sp.lumbar_lordosis_deg))
                  if v is not None]
        lines.append("  spino-pelvic: " + (", ".join(values) or "nothing measured"))
    done = [_IMAGING[k] + ("" if v else " not done") for k, v in vars(f.imaging).items() if v is not None]
    if done:
        lines.append("  imaging: " + ", ".join(done))
    known = [k for k, v in vars(f.context).items() if v is not None and v != "" and v != frozenset()]
    lines.append(f"  clinical context: {len(known)} item(s) known")
    if f.impression:
        first = f.impression.strip().splitlines()[0] if f.impression.strip() else ""
        lines.append(f"  impression: {first}")
    return lines


def _all_problems(path: str, exc: Exception) -> list[str]:
    """Every schema problem when the file is a findings document of a readable version."""
    import json

    from app.findings.model import SCHEMA_VERSION
    from app.findings.schema import validate_document

    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except Exception:
        return [str(exc)]
    if not (isinstance(doc, dict) and doc.get("format") == "isthmus-findings"
            and isinstance(doc.get("schema_version"), int) and doc["schema_version"] <= SCHEMA_VERSION):
        return [str(exc)]
    problems = validate_document(doc)
    return problems or [str(exc)]


def _migrate(files: list[str]) -> int:
    from app.findings.io import FindingsFileError, migrate_findings_file
    from app.findings.model import SCHEMA_VERSION

    bad = 0
    for path in files:
        try:
            old = migrate_findings_file(path)
        except FindingsFileError as exc:
            bad += 1
            print(f"INVALID {path}\n  {exc.problem}")
            continue
        print(f"CURRENT {path}" if old is None else f"MIGRATED {path} (version {old} -> {SCHEMA_VERSION})")
    return 1 if bad else 0


def run(args: argparse.Namespace) -> int:
    from app.findings.io import FindingsFileError, load_findings

    if args.findings_command == "migrate":
        return _migrate(args.files)

    bad = 0
    for path in args.files:
        try:
            f = load_findings(path)
        except FindingsFileError as exc:
            bad += 1
            print(f"INVALID {path}")
            for problem in _all_problems(path, exc):
                print(f"  {problem}")
            continue
        if args.quiet:
            continue
        print(f"OK {path}")
        for line in summarise(f):
            print(f"  {line}")
    if bad and len(args.files) > 1:
        print(f"{bad} of {len(args.files)} file(s) invalid", file=sys.stderr)
    return 1 if bad else 0
