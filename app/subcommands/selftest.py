"""`isthmus self-test` (also `isthmus --self-test`): check this installation on the bundled sample
cases offscreen, print a pass/fail table, exit status 1 on any failure. See app/selftest.py."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--samples", metavar="DIR", default=None,
                        help="sample case folder (default: the bundled sample_dicom)")
    parser.add_argument("--case", action="append", dest="cases", metavar="PREFIX",
                        help="only the case folders starting with PREFIX, e.g. case01 (repeatable)")
    parser.add_argument("--no-render", action="store_true", help="skip the offscreen rendering and window checks")
    parser.add_argument("--no-decoders", action="store_true", help="skip the decoder-plugin checks")
    parser.add_argument("--json", metavar="FILE", default=None, help="also write the results as JSON to FILE")


def _header() -> str:
    import app
    from app.core.paths import sample_dicom_dir

    if getattr(sys, "frozen", False):
        where = f"frozen bundle: {Path(sys.executable).resolve().parent}"
    else:
        where = f"source: {Path(app.__file__).resolve().parent}"
    return f"isthmus {app.__version__} self-test ({where}); samples {sample_dicom_dir()}"


def run(args: argparse.Namespace) -> int:
    import os
    import tempfile

    # the window check must not overwrite the user's settings, recent studies or autosaves
    with tempfile.TemporaryDirectory(prefix="isthmus-selftest-data-") as data_dir:
        saved = os.environ.get("ISTHMUS_DATA_DIR")
        os.environ["ISTHMUS_DATA_DIR"] = data_dir
        try:
            return _run(args)
        finally:
            if saved is None:
                os.environ.pop("ISTHMUS_DATA_DIR", None)
            else:
                os.environ["ISTHMUS_DATA_DIR"] = saved


def _run(args: argparse.Namespace) -> int:
    from app.core.paths import sample_dicom_dir
    from app.selftest import exit_status, format_row, format_summary, run_self_test, timed

    t0 = time.perf_counter()
    print(_header(), flush=True)
    results = []
    renderer = None
    if not args.no_render:
        from app.ui.selftest_render import OffscreenRenderer, check_main_window

        window = timed("window", "main window (offscreen)", check_main_window)
        results.append(window)
        print(format_row(window), flush=True)
        renderer = OffscreenRenderer()

    def show(r) -> None:
        print(format_row(r), flush=True)

    samples = Path(args.samples) if args.samples else sample_dicom_dir()
    try:
        results += run_self_test(samples, render=renderer, cases=args.cases, decoders=not args.no_decoders,
                                 on_result=show)
    finally:
        if renderer is not None:
            renderer.close()
    seconds = time.perf_counter() - t0
    print(format_summary(results, seconds), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"seconds": round(seconds, 2), "results": [r.to_dict() for r in results]},
                                              indent=2), encoding="utf-8")
    return exit_status(results)
