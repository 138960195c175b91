"""`isthmus teach ...`: teaching mode from the command line (docs/teaching.md).

    isthmus teach score READ.json REFERENCE.json [--json] [--set NAME=VALUE ...] [--no-pathway]
    isthmus teach make-case STUDY_DIR READ.json --out DIR --title T --history H [--difficulty D]
                            [--tag TAG ...] [--learning-point TEXT ...] [--id CASE_ID]
    isthmus teach list [FOLDER ...]
    isthmus teach export-csv [--db FILE] [--trainee NAME] [--out FILE]
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="teach_command", metavar="SUBCOMMAND", required=True)
    p = sub.add_parser("score", help="score a read against a reference read")
    p.add_argument("read", metavar="READ.json", help="the trainee's findings file")
    p.add_argument("reference", metavar="REFERENCE.json", help="the reference findings file")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                   help="override a tolerance or penalty, e.g. --set slip_tolerance_pct=3 (repeatable)")
    p.add_argument("--no-pathway", action="store_true", help="do not compare pathway tiers")

    m = sub.add_parser("make-case", help="make an anonymised teaching case from a study and a read")
    m.add_argument("study", metavar="STUDY_DIR", help="folder of the study's DICOM files")
    m.add_argument("read", metavar="READ.json", help="the reference read (findings file)")
    m.add_argument("--out", required=True, metavar="DIR", help="new case folder (absent or empty)")
    m.add_argument("--title", required=True)
    m.add_argument("--history", required=True, help="clinical history shown to the trainee")
    m.add_argument("--difficulty", default="intermediate", choices=("beginner", "intermediate", "advanced"))
    m.add_argument("--tag", dest="tags", action="append", default=[])
    m.add_argument("--learning-point", dest="learning_points", action="append", default=[],
                   help="shown after the attempt (repeatable)")
    m.add_argument("--id", dest="case_id", default=None, help="case id (default: the output folder's name)")

    ls = sub.add_parser("list", help="list the teaching cases found (bundled, folders, your cases)")
    ls.add_argument("folders", nargs="*", metavar="FOLDER")

    e = sub.add_parser("export-csv", help="export the attempt history as CSV (one row per attempt)")
    e.add_argument("--db", default=None, metavar="FILE", help="history database (default: the user data folder)")
    e.add_argument("--trainee", default=None)
    e.add_argument("--out", default=None, metavar="FILE", help="write here instead of stdout")


def _err(msg: str) -> int:
    print(f"isthmus teach: {msg}", file=sys.stderr)
    return 2


def _score(args) -> int:
    import json

    from app.findings.io import FindingsFileError, load_findings
    from app.teaching.scoring import ScoringConfig, render_score_text, score_read

    assignments = {}
    for item in args.settings:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            assignments[name.strip()] = float(value)
        except ValueError:
            return _err(f"--set needs NAME=NUMBER, not {item!r}")
    try:
        config = ScoringConfig.with_overrides(assignments)
        read, reference = load_findings(args.read), load_findings(args.reference)
    except (ValueError, FindingsFileError) as exc:
        return _err(str(exc))
    result = score_read(read, reference, config, with_pathway=not args.no_pathway)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_score_text(result))
    return 0


def _make_case(args) -> int:
    from pathlib import Path

    from app.findings.io import FindingsFileError, load_findings
    from app.teaching.authoring import AuthoringError, make_case
    from app.teaching.case import CaseMetadata

    try:
        read = load_findings(args.read)
        meta = CaseMetadata(case_id=args.case_id or Path(args.out).name, title=args.title, history=args.history,
                            difficulty=args.difficulty, tags=tuple(args.tags),
                            learning_points=tuple(args.learning_points), source="authored")
        report = make_case(args.study, read, args.out, meta)
    except (FindingsFileError, AuthoringError, ValueError) as exc:
        return _err(str(exc))
    for path, reason in report.skipped:
        print(f"isthmus teach: {path}: {reason}", file=sys.stderr)
    print(f"isthmus teach: wrote case {report.case.case_id!r} ({report.images_written} anonymised image(s)) to {args.out}",
          file=sys.stderr)
    return 0


def _list(args) -> int:
    from app.teaching.library import load_library

    lib = load_library(args.folders)
    for c in lib.cases:
        levels = ",".join(lv.value for lv in c.levels) or "normal"
        print(f"{c.case_id}\t{c.meta.difficulty}\t{levels}\t{c.meta.title}\t{c.folder}")
    for problem in lib.problems:
        print(f"isthmus teach: {problem}", file=sys.stderr)
    return 0


def _export_csv(args) -> int:
    from app.core.atomic import write_text_atomic
    from app.teaching.history import History, HistoryError

    try:
        with History(args.db) as h:
            text = h.export_csv(args.trainee)
    except HistoryError as exc:
        return _err(str(exc))
    if args.out:
        write_text_atomic(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


def run(args: argparse.Namespace) -> int:
    return {"score": _score, "make-case": _make_case, "list": _list, "export-csv": _export_csv}[args.teach_command](args)
