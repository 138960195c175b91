"""`isthmus info PATH... [--json]`: list patients, studies and series found under PATH(s).

Header-only: no pixel data is decoded. Exit status 1 only when nothing loadable was found.
The JSON layout is documented in docs/info-json.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="DICOM files or folders (searched recursively)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table (see docs/info-json.md)")


def _fmt_spacing(sp: Any) -> str:
    if not sp:
        return "-"
    return "x".join(f"{v:.3g}" for v in sp)


def series_to_dict(s: Any) -> dict:
    return {
        "key": s.key,
        "series_instance_uid": s.series_instance_uid,
        "series_number": s.series_number,
        "description": s.description,
        "modality": s.modality.value,
        "modality_code": s.modality_code,
        "kind": s.kind,
        "view": s.view.value if s.view is not None else None,
        "sequence": s.sequence.value if s.sequence is not None else None,
        "plane": s.plane.value if s.plane is not None else None,
        "n_images": s.n_images,
        "n_files": len(s.instances),
        "matrix": list(s.matrix) if s.matrix else None,
        "spacing_mm": list(s.spacing_mm) if s.spacing_mm else None,
        "transfer_syntax": s.transfer_syntax,
        "calibration_basis": s.calibration_basis.value if s.calibration_basis is not None else None,
        "frame_of_reference_uid": s.frame_of_reference_uid,
        "split_note": s.split_note,
        "warnings": list(s.warnings),
    }


def scan_to_dict(result: Any) -> dict:
    skipped = result.skipped
    return {
        "format": "isthmus-info/1",
        "files_seen": result.files_seen,
        "loadable_series": len(result.all_series()),
        "patients": [
            {
                "patient_id": p.patient_id, "patient_name": p.patient_name, "birth_date": p.birth_date,
                "sex": p.sex,
                "studies": [
                    {
                        "study_instance_uid": st.study_instance_uid, "study_date": st.study_date,
                        "description": st.description, "accession_number": st.accession_number,
                        "series": [series_to_dict(s) for s in st.series],
                    }
                    for st in p.studies
                ],
            }
            for p in result.patients
        ],
        "skipped": {
            "count": len(skipped),
            "by_category": dict(sorted(Counter(s.category for s in skipped).items())),
            "files": [{"path": str(s.path), "category": s.category, "reason": s.reason} for s in skipped],
        },
    }


def _detail(s: Any) -> str:
    if s.view is not None:
        return s.view.value
    if s.sequence is not None:
        return s.sequence.value
    return "-"


def print_table(result: Any, out=None) -> None:
    w = (out or sys.stdout).write
    if not result.patients:
        w("No loadable DICOM images found.\n")
    for p in result.patients:
        extra = ", ".join(x for x in (f"born {p.birth_date}" if p.birth_date else "",
                                      f"sex {p.sex}" if p.sex else "") if x)
        w(f"Patient {p.patient_name or '(no name)'} [{p.patient_id}]" + (f" ({extra})" if extra else "") + "\n")
        for st in p.studies:
            w(f"  Study {st.study_date or '(no date)'} {st.description or ''}".rstrip()
              + f"  UID {st.study_instance_uid}" + (f"  accession {st.accession_number}" if st.accession_number else "")
              + "\n")
            header = ("#", "Description", "Mod", "View/Seq", "Plane", "Images", "Matrix", "Spacing mm",
                      "Transfer syntax", "Calibration")
            rows = []
            for s in st.series:
                rows.append((
                    "" if s.series_number is None else str(s.series_number),
                    (s.description or "(no description)")[:28],
                    s.modality.value if s.modality.value != "OTHER" else f"{s.modality_code}*",
                    _detail(s), s.plane.value if s.plane is not None else "-", str(s.n_images),
                    f"{s.matrix[0]}x{s.matrix[1]}" if s.matrix else "-", _fmt_spacing(s.spacing_mm),
                    s.transfer_syntax[:30], s.calibration_basis.value if s.calibration_basis is not None else "-",
                ))
            widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
            line = "    " + "  ".join(h.ljust(widths[i]) for i, h in enumerate(header))
            w(line.rstrip() + "\n")
            for s, r in zip(st.series, rows, strict=True):
                w(("    " + "  ".join(v.ljust(widths[i]) for i, v in enumerate(r))).rstrip() + "\n")
                if s.split_note:
                    w(f"        split: {s.split_note}\n")
                for warning in s.warnings:
                    if warning.startswith("split from a mixed series"):
                        continue
                    w(f"        warning: {warning}\n")
    if any(s.modality.value == "OTHER" for s in result.all_series()):
        w("  (* modality outside CR/DX/CT/MR, listed as OTHER with its code)\n")
    skipped = result.skipped
    w(f"\n{result.files_seen} file(s) seen, {len(result.all_series())} loadable series, {len(skipped)} skipped")
    if skipped:
        counts = Counter(s.category for s in skipped)
        w(" (" + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ")")
    w("\n")
    for s in skipped:
        w(f"  skipped [{s.category}] {s.path}: {s.reason}\n")


def run(args: argparse.Namespace) -> int:
    from app.dicom import scan_paths

    progress = None
    if sys.stderr.isatty():
        def progress(done: int, total: int) -> None:
            if total >= 200 and (done % 50 == 0 or done == total):
                sys.stderr.write(f"\rscanning {done}/{total} files")
                if done == total:
                    sys.stderr.write("\n")
                sys.stderr.flush()
    import warnings

    warnings.simplefilter("ignore")  # pydicom's parser chatter; problems are reported per file below
    try:
        result = scan_paths(args.paths, progress=progress)
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return 130
    if args.json:
        json.dump(scan_to_dict(result), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_table(result)
    return 0 if result.all_series() else 1
