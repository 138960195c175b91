"""`isthmus pacs`: talk to a PACS from the command line (DIMSE or DICOMweb; docs/pacs.md).

    isthmus pacs echo NODE
    isthmus pacs find NODE [--patient-id ID] [--patient-name NAME] [--modality MOD] [--date FROM-TO]
                           [--accession ACC] [--description TEXT] [--json]
    isthmus pacs retrieve NODE STUDY_UID [--via get|move|wado] [--out DIR]
    isthmus pacs send NODE PATH...
    isthmus pacs nodes list | add NAME ADDRESS [options] | remove NAME

NODE is a configured node name or an inline address (dicom://AET@host:port,
dicomweb+http(s)://host:port/path); --aet sets our own AE title. Exit codes: 0 ok,
1 network error (message on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.net.models import RetrieveProgress
    from app.net.nodes import Node, WebNode

EXIT_OK, EXIT_NET, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--aet", metavar="AET", help="our own (calling) AE title (default: the node's, else ISTHMUS)")
    timed = argparse.ArgumentParser(add_help=False)
    timed.add_argument("--timeout", type=float, metavar="SECONDS", help="network timeout (default: the node's, else 30)")
    sub = parser.add_subparsers(dest="pacs_command", metavar="ACTION", required=True)

    e = sub.add_parser("echo", parents=[common, timed], help="test a node (C-ECHO, or a QIDO-RS search for DICOMweb)")
    e.add_argument("node", metavar="NODE")

    f = sub.add_parser("find", parents=[common, timed], help="search studies on a node")
    f.add_argument("node", metavar="NODE")
    f.add_argument("--patient-id", default="")
    f.add_argument("--patient-name", default="", help="DICOM wildcards allowed: DOE^*")
    f.add_argument("--modality", default="")
    f.add_argument("--date", default="", metavar="FROM-TO", help="study date range: YYYYMMDD-YYYYMMDD, YYYYMMDD-, -YYYYMMDD")
    f.add_argument("--accession", default="")
    f.add_argument("--description", default="")
    f.add_argument("--json", action="store_true", help="print the studies as JSON")

    r = sub.add_parser("retrieve", parents=[common, timed], help="retrieve a whole study into a folder")
    r.add_argument("node", metavar="NODE")
    r.add_argument("study_uid", metavar="STUDY_UID")
    r.add_argument("--via", choices=["get", "move", "wado"], help="C-GET (DIMSE default), C-MOVE, or WADO-RS")
    r.add_argument("--out", metavar="DIR", help="destination folder (default: the user data folder's 'retrieved')")

    s = sub.add_parser("send", parents=[common, timed], help="send DICOM files (C-STORE, or STOW-RS for DICOMweb)")
    s.add_argument("node", metavar="NODE")
    s.add_argument("paths", metavar="PATH", nargs="+", help="DICOM files or folders")

    n = sub.add_parser("nodes", help="list, add or remove configured nodes")
    nsub = n.add_subparsers(dest="nodes_command", metavar="ACTION", required=True)
    nsub.add_parser("list", help="list the configured nodes")
    a = nsub.add_parser("add", parents=[common], help="add (or replace) a node; asks for its password or token")
    a.add_argument("name", metavar="NAME")
    a.add_argument("address", metavar="ADDRESS", help="dicom://AET@host:port or dicomweb+http(s)://host:port/path")
    a.add_argument("--retrieve-port", type=int, default=0, help="port of our C-MOVE storage SCP (0: a free one)")
    a.add_argument("--retrieve-interface", default="127.0.0.1", help="interface of our C-MOVE storage SCP")
    a.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS")
    a.add_argument("--auth", choices=["none", "basic", "bearer"], default="none", help="DICOMweb authentication")
    a.add_argument("--user", default="", help="DICOMweb user name (basic auth)")
    a.add_argument("--no-verify-tls", action="store_true", help="do not check the server's TLS certificate")
    rm = nsub.add_parser("remove", help="remove a node and its stored secret")
    rm.add_argument("name", metavar="NAME")


def run(args: argparse.Namespace) -> int:
    from app.core.progress import Cancelled
    from app.net.errors import NetError, NodeConfigError

    handlers = {"echo": _echo, "find": _find, "retrieve": _retrieve, "send": _send, "nodes": _nodes}
    try:
        return handlers[args.pacs_command](args)
    except _Usage as exc:
        print(f"isthmus pacs: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NodeConfigError as exc:
        print(f"isthmus pacs: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (NetError, Cancelled) as exc:
        print(f"isthmus pacs: {exc}", file=sys.stderr)
        return EXIT_NET


class _Usage(Exception):
    pass


def _node(args: argparse.Namespace) -> Node:
    """The node NODE names, with --aet / --timeout applied; asks for a missing secret once per run."""
    from app.net.credentials import secret_for_run, set_secret
    from app.net.nodes import DimseNode, WebNode, resolve_node

    node = resolve_node(args.node, own_aet=args.aet or "ISTHMUS")
    if args.aet and isinstance(node, DimseNode):
        node = replace(node, calling_aet=args.aet)
    if args.timeout is not None:
        node = replace(node, timeout_s=args.timeout)
    if isinstance(node, WebNode) and node.auth != "none" and secret_for_run(node.name) is None and sys.stdin.isatty():
        set_secret(node.name, _ask_secret(node))
    return node


def _ask_secret(node: WebNode) -> str:
    import getpass

    return getpass.getpass(f"{'password' if node.auth == 'basic' else 'token'} for {node.name}: ")


def _echo(args: argparse.Namespace) -> int:
    from app.net.client import echo

    node = _node(args)
    seconds = echo(node)
    print(f"{node.name}: ok ({seconds * 1000:.0f} ms)")
    return EXIT_OK


def _parse_day(text: str) -> date | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise _Usage(f"--date: {text!r} is not a date YYYYMMDD") from None


def _date_range(text: str) -> tuple[date | None, date | None]:
    if not text:
        return None, None
    if "-" not in text:
        day = _parse_day(text)
        return day, day
    lo, _, hi = text.partition("-")
    start, end = _parse_day(lo), _parse_day(hi)
    if start and end and start > end:
        raise _Usage(f"--date: {text!r} ends before it starts")
    return start, end


def _find(args: argparse.Namespace) -> int:
    from app.net.client import find_studies
    from app.net.models import StudyQuery

    date_from, date_to = _date_range(args.date)
    query = StudyQuery(patient_name=args.patient_name, patient_id=args.patient_id, date_from=date_from, date_to=date_to,
                       modality=args.modality, accession=args.accession, description=args.description)
    studies = find_studies(_node(args), query)
    if args.json:
        print(json.dumps([{**asdict(s), "modalities": list(s.modalities)} for s in studies], indent=2))
        return EXIT_OK
    for s in studies:
        count = "?" if s.n_instances is None else str(s.n_instances)
        print(f"{s.study_date or '????????'}  {s.patient_name or '(no name)'}  {s.patient_id}  "
              f"{'/'.join(s.modalities) or '?'}  {s.description}  [{count} instances]  {s.study_uid}")
    print(f"{len(studies)} stud{'y' if len(studies) == 1 else 'ies'} found", file=sys.stderr)
    return EXIT_OK


def _retrieve(args: argparse.Namespace) -> int:
    from app.core.paths import user_data_dir
    from app.net.client import retrieve_study

    dest = Path(args.out) if args.out else user_data_dir() / "retrieved"
    result = retrieve_study(_node(args), args.study_uid, dest, via=args.via,
                            progress=_show_progress if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if not result.complete:
        print(f"isthmus pacs retrieve: {result.message} (in {result.folder})", file=sys.stderr)
        return EXIT_NET
    print(f"{result.message} into {result.folder}")
    return EXIT_OK


def _show_progress(p: RetrieveProgress) -> None:
    total = "?" if p.instances_total is None else str(p.instances_total)
    series = f", series {p.series_done}/{p.series_total}" if p.series_total else ""
    print(f"\r{p.instances_done}/{total} instances, {p.bytes_done / 1e6:.1f} MB{series}", end="", file=sys.stderr,
          flush=True)


def _send(args: argparse.Namespace) -> int:
    from app.net.client import send_files

    files: list[Path] = []
    for text in args.paths:
        path = Path(text)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                                and p.name != "DICOMDIR" and p.suffix.lower() not in (".json", ".md", ".txt")))
        elif path.is_file():
            files.append(path)
        else:
            raise _Usage(f"{path}: no such file or folder")
    node = _node(args)
    result = send_files(node, files)
    for path, why in result.failures:
        print(f"isthmus pacs send: {path}: {why}", file=sys.stderr)
    print(f"sent {result.sent} file(s) to {node.name}, {result.failed} failed")
    return EXIT_OK if result.failed == 0 else EXIT_NET


def _nodes(args: argparse.Namespace) -> int:
    from app.net.credentials import delete_secret, set_secret
    from app.net.nodes import DimseNode, NodeStore, WebNode, parse_node_address

    store = NodeStore()
    if args.nodes_command == "list":
        for node in store.load():
            if isinstance(node, DimseNode):
                print(f"{node.name}  dicom://{node.called_aet}@{node.host}:{node.port}  (we are {node.calling_aet}, "
                      f"C-MOVE to {node.retrieve_interface}:{node.retrieve_port or 'any free port'})")
            else:
                print(f"{node.name}  {node.url}  auth={node.auth}{' user=' + node.username if node.username else ''}"
                      f"{'' if node.verify_tls else '  TLS NOT VERIFIED'}")
        return EXIT_OK
    if args.nodes_command == "remove":
        store.remove(args.name)
        delete_secret(args.name)
        print(f"removed {args.name}")
        return EXIT_OK
    own_aet = args.aet or "ISTHMUS"
    parsed = parse_node_address(args.address, own_aet=own_aet)
    new: DimseNode | WebNode
    if isinstance(parsed, DimseNode):
        new = DimseNode(name=args.name, called_aet=parsed.called_aet, host=parsed.host, port=parsed.port,
                         calling_aet=own_aet, timeout_s=args.timeout, retrieve_port=args.retrieve_port,
                         retrieve_interface=args.retrieve_interface)
    else:
        new = WebNode(name=args.name, url=parsed.url, auth=args.auth, username=args.user,
                       verify_tls=not args.no_verify_tls, timeout_s=args.timeout)
    store.put(new)
    where = ""
    if isinstance(new, WebNode) and new.auth != "none":
        secret = _ask_secret(new)
        where = " (secret in the system keyring)" if set_secret(new.name, secret) else \
            " (no system keyring: the secret is kept for this run only and asked again next time)"
    print(f"saved {new.name} in {store.path}{where}")
    return EXIT_OK
