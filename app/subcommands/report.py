"""`isthmus report FINDINGS --study DIR --out FILE.pdf|.html|.dcm [--anonymise]`: the clinic report
(header from the study's own images, findings, pathway, disclaimer, sign-off); runs offscreen."""

from __future__ import annotations

import argparse
import sys
from typing import Any

FORMATS = (".pdf", ".html", ".htm", ".dcm")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("findings", metavar="FINDINGS", help="findings JSON file (with the clinical context)")
    parser.add_argument("--study", required=True, metavar="DIR", nargs="+",
                        help="the study's DICOM files or folders (patient and study identity come from them)")
    parser.add_argument("--out", required=True, metavar="FILE", help="FILE.pdf, FILE.html or FILE.dcm (Encapsulated PDF)")
    parser.add_argument("--anonymise", action="store_true", help="no identity and no dates (teaching, slides)")
    parser.add_argument("--key-objects", metavar="FILE.dcm", default=None,
                        help="also write the key images as a DICOM Key Object Selection in the study")
    parser.add_argument("--annotations", metavar="FILE.json", default=None,
                        help="annotations document (or the study's autosave) whose annotations the key images show")
    parser.add_argument("--rules", metavar="PATH", default=None, help="pathway ruleset (default: the bundled one)")


def _key_image_figures(findings: Any, study: list[str], annotations_path: str | None) -> tuple:
    """The key images drawn offscreen by the workstation's own renderer (app/ui/report); problems
    (an image not in the folder, annotations not available) go to stderr, the figure stays."""
    if not findings.key_images:
        return ()
    from app.report.annotation_source import load_annotations_file
    from app.ui.report.study_key_images import figures_from_study

    annotations, problems = load_annotations_file(annotations_path) if annotations_path else ([], [])
    figures, drawn_problems = figures_from_study(findings, study, annotations)
    for problem in (*problems, *drawn_problems):
        print(f"isthmus report: {problem}", file=sys.stderr)
    return figures


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.core.atomic import write_bytes_atomic, write_text_atomic
    from app.findings.io import FindingsFileError, load_findings
    from app.pathway import RulesetError, evaluate, load_ruleset
    from app.report.identity import ReportError, read_study
    from app.report.model import build_report

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        print(f"isthmus report: {out}: unknown report format '{suffix}' (use .pdf, .html or .dcm)", file=sys.stderr)
        return 2
    if suffix == ".dcm" and args.anonymise:
        print(f"isthmus report: {out}: an anonymised report cannot go into the patient's study; write .pdf or .html",
              file=sys.stderr)
        return 2
    try:
        findings = load_findings(args.findings)
        identity, headers = read_study(args.study, findings.study_instance_uid)
        result = evaluate(findings, load_ruleset(args.rules))
        figures = _key_image_figures(findings, args.study, args.annotations)
        report = build_report(findings, result, identity, figures, anonymise=args.anonymise)
        if suffix in (".html", ".htm"):
            from app.report.html_render import render_html

            write_text_atomic(out, render_html(report))
        else:
            from app.ui.report.pdf import pdf_bytes

            pdf = pdf_bytes(report)
            if suffix == ".pdf":
                write_bytes_atomic(out, pdf)
            else:
                from app.report.encapsulated_pdf import encapsulate_pdf

                encapsulate_pdf(pdf, headers, out)
        if args.key_objects:
            from app.report.key_objects import export_key_objects

            export_key_objects(findings, args.study, args.key_objects)
            print(f"wrote {args.key_objects}")
    except (FindingsFileError, ReportError, RulesetError) as exc:
        print(f"isthmus report: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"isthmus report: {out}: cannot write the report ({exc})", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0
