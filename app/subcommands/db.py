"""`isthmus db import|list|remove|reindex`: the local study database from the command line.

    isthmus db import PATH... [--copy] [--source pacs:NAME]
    isthmus db list [TEXT] [--modality MR] [--json]
    isthmus db remove STUDY_UID [--delete-files]
    isthmus db reindex

``--db PATH`` (before or after the sub-command) uses another database file than the user's
(user data folder / studies.sqlite). Exit status: 0 done, 1 nothing found or a study not in the
database, 2 the database cannot be used. Qt is never imported.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

_DB_HELP = "database file to use (default: studies.sqlite in the user data folder)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="PATH", help=_DB_HELP)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=_DB_HELP)
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    p = sub.add_parser("import", parents=[common], help="index DICOM folders, files or DICOMDIRs")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--copy", action="store_true", help="copy the files into the managed storage (default: link in place)")
    p.add_argument("--source", default=None, help="source label, e.g. pacs:NAME (default: folder or dicomdir)")
    p = sub.add_parser("list", parents=[common], help="list (search) the studies")
    p.add_argument("text", nargs="?", default="", help="words to find in patient name/ID, description, accession")
    p.add_argument("--modality", default="", help="only studies with this modality (e.g. MR)")
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--json", action="store_true", help="print JSON (one object per study)")
    p = sub.add_parser("remove", parents=[common], help="remove a study from the database")
    p.add_argument("study_uid", metavar="STUDY_UID")
    p.add_argument("--delete-files", action="store_true",
                   help="also delete its copies in the managed storage (never files elsewhere)")
    sub.add_parser("reindex", parents=[common], help="drop vanished files, index new files under the import folders")


def _open(args: argparse.Namespace) -> Any:
    from app.studydb.database import StudyDatabase, open_default

    db = StudyDatabase(args.db) if args.db else open_default()
    if db.recovery_message:
        print(f"isthmus db: {db.recovery_message}", file=sys.stderr)
    return db


def _progress_line(label: str) -> Any:
    last = [-1]

    def show(done: int, total: int) -> None:
        pct = int(100 * done / total) if total else 100
        if sys.stderr.isatty() and pct != last[0]:
            last[0] = pct
            print(f"\r{label} {done}/{total} ({pct}%)", end="", file=sys.stderr, flush=True)
    return show


def _table(rows: list[Any]) -> str:
    from app.studydb.rows import display_date

    head = ("Patient", "ID", "Date", "Modalities", "Description", "Series", "Inst", "Source", "SR", "Study UID")
    lines = [(r.patient_name.replace("^", " ").strip() or "(no name)", r.patient_id or "(no ID)", display_date(r.study_date),
              "/".join(r.modalities) or "-", r.description or "-", str(r.n_series), str(r.n_instances), r.source,
              str(r.isthmus_sr_count), r.study_uid) for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(head)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in [head, *lines])


def run(args: argparse.Namespace) -> int:
    from app.studydb.rows import StudyDbError

    try:
        db = _open(args)
    except StudyDbError as exc:
        print(f"isthmus db: {exc}", file=sys.stderr)
        return 2
    try:
        return _ACTIONS[args.db_command](db, args)
    except StudyDbError as exc:
        print(f"isthmus db: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()


def _import(db: Any, args: argparse.Namespace) -> int:
    report = db.import_paths(args.paths, mode="copy" if args.copy else "link",
                             progress=_progress_line("scanning"), source=args.source)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    for skip in report.skipped:
        if skip.category == "error":
            print(f"skipped {skip.path}: {skip.reason}", file=sys.stderr)
    print(f"imported {report.summary()}")
    return 0 if report.study_uids else 1


def _list(db: Any, args: argparse.Namespace) -> int:
    rows = db.search(args.text, modality=args.modality, limit=args.limit)
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in rows], indent=1))
    else:
        print(_table(rows) if rows else "no studies found")
    return 0 if rows else 1


def _remove(db: Any, args: argparse.Namespace) -> int:
    deleted = db.remove_study(args.study_uid, delete_files=args.delete_files)
    print(f"removed study {args.study_uid}" + (f"; {deleted} managed file(s) deleted" if args.delete_files else ""))
    return 0


def _reindex(db: Any, args: argparse.Namespace) -> int:
    print(f"re-indexed: {db.reindex(progress=_progress_line('scanning')).summary()}")
    return 0


_ACTIONS = {"import": _import, "list": _list, "remove": _remove, "reindex": _reindex}
