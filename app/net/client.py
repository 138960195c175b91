"""The one entry point the UI and the CLI use: each call dispatches on the node type (DIMSE or DICOMweb).

Echo and finds raise NetError (str() in plain words) or ``Cancelled`` (app.core.progress).
A retrieve raises them only before the transfer begins (the series query); after that it returns
what arrived: a partial retrieve keeps its files and says ``complete=False`` with the reason.
A send never raises for the network: each file not sent is listed in ``failures`` with why.
Progress callbacks may be called from pynetdicom's threads (C-GET, C-MOVE).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

from app.core.progress import CancelToken, ProgressFn
from app.net import dimse_query, dimse_retrieve, web
from app.net.errors import NodeConfigError
from app.net.models import RetrieveProgress, RetrieveResult, SendResult, SeriesRecord, StudyQuery, StudyRecord
from app.net.nodes import DimseNode, Node, WebNode
from app.net.receive import safe_uid

Via = Literal["get", "move", "wado"]


def echo(node: Node) -> float:
    """Round-trip seconds of a C-ECHO, or of a one-result QIDO-RS search for a DICOMweb node."""
    return dimse_query.echo(node) if isinstance(node, DimseNode) else web.echo(node)


def find_studies(node: Node, query: StudyQuery, cancel: CancelToken | None = None) -> list[StudyRecord]:
    if isinstance(node, DimseNode):
        return dimse_query.find_studies(node, query, cancel)
    return web.find_studies(node, query, cancel)


def find_series(node: Node, study_uid: str, cancel: CancelToken | None = None) -> list[SeriesRecord]:
    if isinstance(node, DimseNode):
        return dimse_query.find_series(node, study_uid, cancel)
    return web.find_series(node, study_uid, cancel)


def retrieve_study(node: Node, study_uid: str, dest: Path, via: Via | None = None,
                   progress: Callable[[RetrieveProgress], None] | None = None,
                   cancel: CancelToken | None = None) -> RetrieveResult:
    """The whole study into ``dest/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm`` (C-GET by default for DIMSE)."""
    if safe_uid(study_uid) != study_uid:
        raise NodeConfigError(f"{study_uid!r} is not a DICOM UID", node.name)
    method = via or ("get" if isinstance(node, DimseNode) else "wado")
    if isinstance(node, WebNode):
        if method != "wado":
            raise NodeConfigError(f"{node.name} is a DICOMweb node: it retrieves by WADO-RS, not C-{method.upper()}",
                                  node.name)
        return web.retrieve_wado(node, study_uid, Path(dest), progress, cancel)
    if method == "wado":
        raise NodeConfigError(f"{node.name} is a DIMSE node: it retrieves by C-GET or C-MOVE, not WADO-RS", node.name)
    fn = dimse_retrieve.retrieve_get if method == "get" else dimse_retrieve.retrieve_move
    return fn(node, study_uid, Path(dest), progress, cancel)


def send_files(node: Node, paths: Iterable[Path], progress: ProgressFn | None = None,
               cancel: CancelToken | None = None) -> SendResult:
    """C-STORE (DIMSE) or STOW-RS (DICOMweb) of DICOM files; ``progress(done, total)`` per file."""
    if isinstance(node, DimseNode):
        return dimse_retrieve.send_store(node, paths, progress, cancel)
    return web.send_stow(node, paths, progress, cancel)
