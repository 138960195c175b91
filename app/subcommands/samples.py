"""`isthmus samples --out DIR [--case N ...] [--jobs J]`: render the synthetic sample cases
(DICOM + README + reference read) into DIR, byte for byte reproducibly. Progress goes to stderr.

`isthmus samples --teaching [--out DIR] [--only SLUG ...] [--limit N]`: render the larger teaching
set (app/samples/teaching_cases.py; default DIR: the user data folder's teaching cases)."""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("--out", metavar="DIR",
                        help="output folder (e.g. sample_dicom); with --teaching the default is the user data folder")
    parser.add_argument("--case", type=int, action="append", dest="cases", metavar="N",
                        help="render only case N (repeatable); default: all cases")
    parser.add_argument("--jobs", type=int, default=2, metavar="J", help="cases rendered in parallel (default 2)")
    parser.add_argument("--teaching", action="store_true",
                        help="render the teaching set (>= 24 cases with reference reads and learning points)")
    parser.add_argument("--only", action="append", default=None, metavar="SLUG",
                        help="with --teaching: only this case (slug, tNN or NN; repeatable)")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="with --teaching: only the first N cases")


def _run_teaching(args) -> int:
    from pathlib import Path

    from app.samples.teaching_cases import generate_teaching, teaching_case_by_slug
    from app.teaching.library import user_cases_dir

    for slug in args.only or []:
        try:
            teaching_case_by_slug(slug)
        except KeyError as exc:
            print(f"isthmus samples: {exc.args[0]}", file=sys.stderr)
            return 2
    out = Path(args.out) if args.out else user_cases_dir()
    return _timed_write(lambda: generate_teaching(out, args.only, args.limit,
                                                  log=lambda m: print(m, file=sys.stderr, flush=True)),
                        out, "teaching case(s)")


def _timed_write(write, out, what: str) -> int:
    """Run ``write`` (returns the folders written), report count and time, or the write error."""
    import time

    t0 = time.perf_counter()
    try:
        folders = write()
    except OSError as exc:
        print(f"isthmus samples: cannot write to {out}: {exc}", file=sys.stderr)
        return 1
    print(f"isthmus samples: wrote {len(folders)} {what} to {out} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


def run(args) -> int:
    from pathlib import Path

    from app.samples.cases import SAMPLE_CASES
    from app.samples.generate import generate

    if args.teaching:
        return _run_teaching(args)
    if not args.out:
        print("isthmus samples: --out DIR is required (or use --teaching)", file=sys.stderr)
        return 2
    known = {c.number for c in SAMPLE_CASES}
    for n in args.cases or []:
        if n not in known:
            print(f"isthmus samples: no case {n} (cases are {', '.join(str(k) for k in sorted(known))})", file=sys.stderr)
            return 2
    return _timed_write(lambda: generate(Path(args.out), args.cases, jobs=max(1, args.jobs)), args.out, "case(s)")
