"""Command-line entry point: `isthmus [COMMAND] ...`.

Each sub-command lives in its own module under ``app/subcommands`` and exposes two
functions, ``add_arguments(parser)`` and ``run(args) -> int``. Modules are imported
only when their command runs, so `isthmus info` never loads Qt and the GUI never
pays for the CLI's imports.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from app import __version__

DECODE_WORKER_FLAG = "--decode-worker"  # hidden: a frozen build has no `python -m app.dicom.decode_worker`

# command name -> (module under app.subcommands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "open": ("open_cmd", "open the workstation on folders or files (default: the sample cases)"),
    "info": ("info", "list patients, studies and series found under PATH(s)"),
    "samples": ("samples", "render the synthetic sample cases into DICOM"),
    "findings": ("findings", "work with findings files (validate)"),
    "sr": ("sr", "export findings as a DICOM Structured Report, or import one"),
    "pathway": ("pathway", "staging and management suggestions from a findings file"),
    "self-test": ("selftest", "check this installation on the sample cases offscreen (also: --self-test)"),
    "report": ("report", "the clinic report of a study: PDF, HTML or DICOM Encapsulated PDF"),
    "pacs": ("pacs", "talk to a PACS: echo, find, retrieve, send (DIMSE or DICOMweb), and the configured nodes"),
    "db": ("db", "the local study database: import, list (search), remove, re-index"),
    "teach": ("teach", "teaching mode: score a read against a reference, make and list teaching cases"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="isthmus",
        description="Isthmus lumbar spine review workstation. Run without a command to open the viewer.",
    )
    parser.add_argument("--version", action="version", version=f"isthmus {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name)
        module = _load(module_name)
        if module is not None:
            module.add_arguments(p)
    return parser


def _load(module_name: str):
    try:
        return importlib.import_module(f"app.subcommands.{module_name}")
    except ModuleNotFoundError as exc:  # a command whose module is not built yet
        if exc.name == f"app.subcommands.{module_name}":
            return None
        raise


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == [DECODE_WORKER_FLAG]:  # the isolated decoder process of a frozen build (app.dicom.isolated)
        from app.dicom.decode_worker import serve

        serve()
        return 0
    if not argv:
        argv = ["open"]
    elif argv[0] == "--self-test":  # the installer's and the bundle's spelling
        argv[0] = "self-test"
    parser = build_parser()
    args = parser.parse_args(argv)
    module = _load(args._module)
    if module is None:
        print(f"isthmus: the '{args.command}' command is not available in this build", file=sys.stderr)
        return 2
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
