"""`isthmus sr export|import`: findings <-> DICOM Structured Report (TID 1500; docs/sr-coding.md).

    isthmus sr export FINDINGS.json --study DIR --out FILE.dcm
    isthmus sr import FILE.dcm [--out FINDINGS.json]      (prints the findings JSON by default)
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="sr_command", metavar="ACTION", required=True)
    e = sub.add_parser("export", help="write findings as a DICOM SR referencing the source study",
                       description="Write a findings file as a DICOM Comprehensive 3D SR (TID 1500).")
    e.add_argument("findings", metavar="FINDINGS", help="findings JSON file")
    e.add_argument("--study", required=True, metavar="DIR", nargs="+",
                   help="the source study's DICOM files or folders (evidence; patient/study attributes)")
    e.add_argument("--out", required=True, metavar="FILE.dcm", help="SR file to write")
    i = sub.add_parser("import", help="read an Isthmus DICOM SR back into findings JSON",
                       description="Read an SR written by 'isthmus sr export' back into a findings file.")
    i.add_argument("sr_file", metavar="FILE.dcm", help="DICOM SR file")
    i.add_argument("--out", metavar="FINDINGS.json", help="write the findings here instead of printing them")


def run(args: argparse.Namespace) -> int:
    if args.sr_command == "export":
        return _export(args)
    return _import(args)


def _export(args: argparse.Namespace) -> int:
    from app.findings.io import FindingsFileError, load_findings
    from app.findings.sr_export import SRExportError, export_sr

    try:
        findings = load_findings(args.findings)
        out = export_sr(findings, args.out, study=args.study)
    except (FindingsFileError, SRExportError) as exc:
        print(f"isthmus sr export: {exc}", file=sys.stderr)
        return 1
    import pydicom

    ds = pydicom.dcmread(out, stop_before_pixels=True)
    n_refs = sum(len(series.ReferencedSOPSequence)
                 for study in ds.get("CurrentRequestedProcedureEvidenceSequence", [])
                 for series in study.ReferencedSeriesSequence)
    print(f"wrote {out}: study {ds.StudyInstanceUID}, {len(findings.pars)} pars finding(s), "
          f"{len(findings.levels)} level finding(s), {n_refs} referenced instance(s)")
    return 0


def _import(args: argparse.Namespace) -> int:
    from app.findings.io import dumps_findings, save_findings
    from app.findings.sr_import import SRImportError, load_findings_from_sr

    try:
        findings = load_findings_from_sr(args.sr_file)
    except SRImportError as exc:
        print(f"isthmus sr import: {exc}", file=sys.stderr)
        return 1
    if args.out:
        save_findings(findings, args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(dumps_findings(findings))
    return 0
