"""C-ECHO and C-FIND (study and series level) against a DIMSE node."""

from __future__ import annotations

import time
from collections.abc import Iterator

from pydicom.dataset import Dataset
from pydicom.uid import UID
from pynetdicom import sop_class

from app.core.progress import Cancelled, CancelToken
from app.net.dimse_assoc import associate, lost, new_ae, status_text, timed
from app.net.errors import RemoteError
from app.net.models import SeriesRecord, StudyQuery, StudyRecord
from app.net.nodes import DimseNode
from app.net.records import series_identifier, series_record, study_identifier, study_record

_PENDING = (0xFF00, 0xFF01)
_FIND: UID = sop_class.StudyRootQueryRetrieveInformationModelFind  # type: ignore[attr-defined]
_VERIFICATION: UID = sop_class.Verification  # type: ignore[attr-defined]


def echo(node: DimseNode) -> float:
    """Round-trip seconds of a C-ECHO (association included)."""
    ae = new_ae(node)
    ae.add_requested_context(_VERIFICATION)
    t0 = time.monotonic()
    with associate(node, ae) as assoc:
        t_echo = time.monotonic()
        status = assoc.send_c_echo()
        if not status:
            raise lost(node, "C-ECHO", time.monotonic() - t_echo)
        if status.Status != 0x0000:
            raise RemoteError(f"{node.name} answered C-ECHO with {status_text(status)}", node.name)
    return time.monotonic() - t0


def _c_find(node: DimseNode, identifier: Dataset, cancel: CancelToken | None) -> Iterator[Dataset]:
    ae = new_ae(node)
    ae.add_requested_context(_FIND)
    with associate(node, ae) as assoc:
        for (status, found), waited_s in timed(assoc.send_c_find(identifier, _FIND)):
            if cancel is not None and cancel.cancelled:
                assoc.abort()
                raise Cancelled("cancelled by the user")
            if not status:
                raise lost(node, "C-FIND", waited_s)
            if status.Status in _PENDING and found is not None:
                yield found
            elif status.Status != 0x0000:
                raise RemoteError(f"{node.name} answered C-FIND with {status_text(status)}", node.name)


def find_studies(node: DimseNode, query: StudyQuery, cancel: CancelToken | None = None) -> list[StudyRecord]:
    return [study_record(ds) for ds in _c_find(node, study_identifier(query), cancel)]


def find_series(node: DimseNode, study_uid: str, cancel: CancelToken | None = None) -> list[SeriesRecord]:
    return [series_record(ds, study_uid) for ds in _c_find(node, series_identifier(study_uid), cancel)]


def study_sop_classes(node: DimseNode, study_uid: str, cancel: CancelToken | None = None) -> list[str]:
    """SOPClassesInStudy of one study, or [] when the PACS does not return it."""
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.StudyInstanceUID = study_uid
    ds.SOPClassesInStudy = ""
    classes: list[str] = []
    for found in _c_find(node, ds, cancel):
        value = found.get("SOPClassesInStudy") or []
        classes.extend(str(v) for v in ([value] if isinstance(value, str) else value) if str(v))
    return list(dict.fromkeys(classes))
