"""`isthmus open [PATH...]`: the workstation. Without paths it shows the sample cases and the
recent studies. Qt, pydicom and SimpleITK are imported only inside run()."""

from __future__ import annotations

import argparse
import os


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="DICOM folders or files to open")
    # timing hooks for bench/startup_bench.py (hidden)
    parser.add_argument("--exit-after-first-image", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--exit-after-show", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        import sys

        print(f"isthmus open: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    from app.ui.main import run as run_gui

    exit_first = args.exit_after_first_image or os.environ.get("ISTHMUS_EXIT_AFTER_FIRST_IMAGE") == "1"
    return run_gui(args.paths, exit_after_first_image=exit_first, exit_after_show=args.exit_after_show)
