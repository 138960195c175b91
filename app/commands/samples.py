"""`isthmus samples --out DIR [--case N ...] [--jobs J]`: render the synthetic sample cases
(DICOM + README + reference read) into DIR, byte for byte reproducibly. Progress goes to stderr."""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (e.g. sample_dicom)")
    parser.add_argument("--case", type=int, action="append", dest="cases", metavar="N",
                        help="render only case N (repeatable); default: all cases")
    parser.add_argument("--jobs", type=int, default=2, metavar="J", help="cases rendered in parallel (default 2)")


def run(args) -> int:
    import time
    from pathlib import Path

    from app.samples.cases import SAMPLE_CASES
    from app.samples.generate import generate

    known = {c.number for c in SAMPLE_CASES}
    for n in args.cases or []:
        if n not in known:
            print(f"isthmus samples: no case {n} (cases are {', '.join(str(k) for k in sorted(known))})", file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    try:
        folders = generate(Path(args.out), args.cases, jobs=max(1, args.jobs))
    except OSError as exc:
        print(f"isthmus samples: cannot write to {args.out}: {exc}", file=sys.stderr)
        return 1
    print(f"isthmus samples: wrote {len(folders)} case(s) to {args.out} in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)
    return 0
