"""C-GET and C-MOVE of a whole study, and C-STORE of files, against a DIMSE node.

C-MOVE needs a storage SCP: it is started only for the retrieve, on the node's retrieve
interface and port, and shut down afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    HTJ2K,
    JPEG2000,
    UID,
    Comprehensive3DSRStorage,
    ComprehensiveSRStorage,
    ComputedRadiographyImageStorage,
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    DigitalXRayImageStorageForPresentation,
    EncapsulatedPDFStorage,
    EnhancedSRStorage,
    ExplicitVRLittleEndian,
    HTJ2KLossless,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    MRImageStorage,
    RLELossless,
    SecondaryCaptureImageStorage,
)
from pynetdicom import (
    AE,
    ALL_TRANSFER_SYNTAXES,
    AllStoragePresentationContexts,
    build_role,
    evt,
    sop_class as qr_classes,
)

from app.core.progress import CancelToken, ProgressFn, report
from app.net.dimse_assoc import associate, lost, new_ae, no_delay, status_text, timed
from app.net.dimse_query import find_series, study_sop_classes
from app.net.errors import NetError
from app.net.models import RetrieveProgress, RetrieveResult, SendResult
from app.net.nodes import DimseNode
from app.net.receive import InstanceSink

_PENDING = (0xFF00, 0xFF01)
_GET: UID = qr_classes.StudyRootQueryRetrieveInformationModelGet  # type: ignore[attr-defined]
_MOVE: UID = qr_classes.StudyRootQueryRetrieveInformationModelMove  # type: ignore[attr-defined]
_STORE_OK = (0x0000, 0xB000, 0xB006, 0xB007)  # success and the storage warnings (coerced, elements discarded)
_UNCOMPRESSED: list[UID] = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
# C-GET: the uncompressed pair, then each common compressed syntax in a context of its own, so a PACS
# that stored JPEG 2000 sends it as stored instead of having to transcode (which Orthanc refuses).
_GET_SYNTAXES: list[list[UID]] = [_UNCOMPRESSED] + [[uid] for uid in (
    JPEG2000Lossless, JPEGLosslessSV1, JPEGLossless, JPEGLSLossless, RLELossless, JPEG2000, JPEGBaseline8Bit,
    JPEGExtended12Bit, JPEGLSNearLossless, HTJ2KLossless, HTJ2K, DeflatedExplicitVRLittleEndian)]
# when the PACS does not list the study's SOP classes: what a lumbar spine study and Isthmus's own objects use
_COMMON_CLASSES = [CTImageStorage, MRImageStorage, DigitalXRayImageStorageForPresentation, ComputedRadiographyImageStorage,
                   SecondaryCaptureImageStorage, EnhancedSRStorage, ComprehensiveSRStorage, Comprehensive3DSRStorage,
                   EncapsulatedPDFStorage]
_MAX_CONTEXTS = 120  # under the 128 presentation contexts one association can propose


def _sink(node: DimseNode, study_uid: str, dest: Path, progress: Callable[[RetrieveProgress], None] | None,
          cancel: CancelToken | None) -> InstanceSink:
    return InstanceSink.for_series(study_uid, dest, find_series(node, study_uid, cancel), progress)


def _store_handler(sink: InstanceSink, problems: list[str], cancel: CancelToken | None) -> Callable[[Any], int]:
    def on_store(event: Any) -> int:
        if cancel is not None and cancel.cancelled:
            return 0xA700  # refused: out of resources (we are stopping)
        try:
            ds = event.dataset
            data = event.encoded_dataset(include_meta=True)
            why = sink.accept(ds.get("StudyInstanceUID"), ds.get("SeriesInstanceUID"), ds.get("SOPInstanceUID"), data)
        except Exception as exc:  # a malformed instance must not kill the association thread
            why = f"cannot decode a received instance: {exc}"
        if why:
            problems.append(why)
            return 0xC000
        return 0x0000
    return on_store


def _sop_classes_in_study(node: DimseNode, study_uid: str, cancel: CancelToken | None) -> list[str]:
    """The study's SOP classes when the PACS lists them (SOPClassesInStudy), else the common ones."""
    found = study_sop_classes(node, study_uid, cancel)
    return found or [str(uid) for uid in _COMMON_CLASSES]


def _identifier(study_uid: str) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.StudyInstanceUID = study_uid
    return ds


def _drain(node: DimseNode, assoc: Any, responses: Iterable[tuple[Dataset, Any]], sink: InstanceSink,
           cancel: CancelToken | None, what: str) -> tuple[str | None, int]:
    """Follow C-GET/C-MOVE responses; (reason it is incomplete or None, failed sub-operations)."""
    final: Dataset | None = None
    waited_s = 0.0
    for (status, _), waited_s in timed(responses):
        if cancel is not None and cancel.cancelled:
            assoc.abort()
            return "cancelled by the user", 0
        if not status:
            return str(lost(node, what, waited_s)), 0
        remaining = int(status.get("NumberOfRemainingSuboperations", 0) or 0)
        done = sum(int(status.get(k, 0) or 0) for k in ("NumberOfCompletedSuboperations",
                                                        "NumberOfFailedSuboperations", "NumberOfWarningSuboperations"))
        if status.Status in _PENDING:
            sink.set_total(remaining + done)
        else:
            final = status
    if final is None:
        return str(lost(node, what, waited_s)), 0
    failed = int(final.get("NumberOfFailedSuboperations", 0) or 0)
    if final.Status not in (0x0000, 0xB000):
        hint = (f" (C-MOVE needs {node.name} to know AE title {node.calling_aet!r} with this computer's address and port "
                f"{node.retrieve_port or 'of the storage SCP'})" if what == "C-MOVE" and not sink.files else "")
        return f"{node.name} answered {what} with {status_text(final)}{hint}", failed
    if failed or final.Status == 0xB000:
        return f"{node.name} reported {failed} instance(s) failed to transfer", failed
    return None, 0


def retrieve_get(node: DimseNode, study_uid: str, dest: Path, progress: Callable[[RetrieveProgress], None] | None = None,
                 cancel: CancelToken | None = None) -> RetrieveResult:
    sink = _sink(node, study_uid, dest, progress, cancel)
    if sink.nothing_announced():
        return sink.result(f"{node.name} has no study {study_uid}", 0, [])
    problems: list[str] = []
    ae = new_ae(node)
    ae.add_requested_context(_GET)
    roles = []
    sop_classes = _sop_classes_in_study(node, study_uid, cancel)
    per_class = max(1, min(len(_GET_SYNTAXES), (_MAX_CONTEXTS - 1) // len(sop_classes)))
    for sop_class in sop_classes[:_MAX_CONTEXTS - 1]:
        for syntaxes in _GET_SYNTAXES[:per_class]:  # one syntax per context: the PACS sends what it stored
            ae.add_requested_context(sop_class, syntaxes)
        roles.append(build_role(sop_class, scp_role=True))
    handlers = [(evt.EVT_C_STORE, _store_handler(sink, problems, cancel))]
    try:
        with associate(node, ae, ext_neg=roles, handlers=handlers) as assoc:
            responses = assoc.send_c_get(_identifier(study_uid), _GET)
            reason, failed = _drain(node, assoc, responses, sink, cancel, "C-GET")
    except NetError as exc:
        reason, failed = str(exc), 0
    return sink.result(reason, failed, problems)


def retrieve_move(node: DimseNode, study_uid: str, dest: Path, progress: Callable[[RetrieveProgress], None] | None = None,
                  cancel: CancelToken | None = None) -> RetrieveResult:
    sink = _sink(node, study_uid, dest, progress, cancel)
    if sink.nothing_announced():
        return sink.result(f"{node.name} has no study {study_uid}", 0, [])
    problems: list[str] = []
    scp = AE(ae_title=node.calling_aet)
    scp.network_timeout = scp.acse_timeout = scp.dimse_timeout = node.timeout_s
    for cx in AllStoragePresentationContexts:
        if cx.abstract_syntax is not None:
            scp.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    try:
        server = scp.start_server((node.retrieve_interface, node.retrieve_port), block=False,
                                  evt_handlers=[(evt.EVT_C_STORE, _store_handler(sink, problems, cancel)),
                                                (evt.EVT_CONN_OPEN, no_delay)])
    except OSError as exc:  # port taken or interface absent
        raise NetError(f"cannot listen on {node.retrieve_interface}:{node.retrieve_port} for the C-MOVE of "
                       f"{node.name}: {exc.strerror or exc}", node.name) from None
    assert server is not None  # block=False always returns the server
    try:
        ae = new_ae(node)
        ae.add_requested_context(_MOVE)
        with associate(node, ae) as assoc:
            responses = assoc.send_c_move(_identifier(study_uid), node.calling_aet, _MOVE)
            reason, failed = _drain(node, assoc, responses, sink, cancel, "C-MOVE")
    except NetError as exc:
        reason, failed = str(exc), 0
    finally:
        server.shutdown()
    return sink.result(reason, failed, problems)


def _plan(paths: Iterable[Path], failures: list[tuple[Path, str]]) -> dict[tuple[str, str], list[Path]]:
    """Files grouped by (SOP class, transfer syntax); unreadable ones go to failures."""
    groups: dict[tuple[str, str], list[Path]] = {}
    for path in paths:
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"])
            key = (str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID))
        except (OSError, InvalidDicomError, AttributeError, KeyError, ValueError) as exc:
            failures.append((path, f"not a readable DICOM file ({exc})"))
            continue
        groups.setdefault(key, []).append(path)
    return groups


def send_store(node: DimseNode, paths: Iterable[Path], progress: ProgressFn | None = None,
               cancel: CancelToken | None = None) -> SendResult:
    failures: list[tuple[Path, str]] = []
    groups = _plan([Path(p) for p in paths], failures)
    keys = list(groups)
    total = sum(len(v) for v in groups.values())
    sent = 0
    for start in range(0, len(keys), _MAX_CONTEXTS // 2):
        chunk = keys[start:start + _MAX_CONTEXTS // 2]
        ae = new_ae(node)
        for sop_class, ts in chunk:  # the file's own syntax alone, so the PACS cannot prefer another one
            ae.add_requested_context(sop_class, ts)
            if ts not in _UNCOMPRESSED:
                ae.add_requested_context(sop_class, _UNCOMPRESSED)
        todo = [p for key in chunk for p in groups[key]]
        try:
            with associate(node, ae) as assoc:
                for i, path in enumerate(todo):
                    if cancel is not None and cancel.cancelled:
                        failures.extend((p, "not sent: cancelled by the user") for p in todo[i:])
                        break
                    try:
                        why = _store_one(node, assoc, path)
                    except NetError as exc:  # the association is gone: the rest cannot go on it
                        failures.extend((p, str(exc)) for p in todo[i:])
                        break
                    if why:
                        failures.append((path, why))
                    else:
                        sent += 1
                    report(progress, sent + len(failures), total)
        except NetError as exc:  # no association: nothing of this chunk was tried
            failures.extend((p, str(exc)) for p in todo)
        if cancel is not None and cancel.cancelled:
            failures.extend((p, "not sent: cancelled by the user") for key in keys[start + len(chunk):] for p in groups[key])
            break
    return SendResult(sent=sent, failed=len(failures), failures=failures)


def _store_one(node: DimseNode, assoc: Any, path: Path) -> str | None:
    """None when stored, else why not; raises NetError when the association is gone."""
    t0 = time.monotonic()
    try:
        status = assoc.send_c_store(path)
    except ValueError:  # the PACS did not accept the file's own (compressed) syntax
        try:
            ds = pydicom.dcmread(path)
            ds.decompress(generate_instance_uid=False)  # lossless, same instance: only the transfer syntax changes
            t0 = time.monotonic()
            status = assoc.send_c_store(ds)
        except Exception as exc:  # no decoder, or no context at all for this SOP class
            return f"{node.name} does not accept this kind of object ({exc})"
    if not status:
        raise lost(node, "C-STORE", time.monotonic() - t0)
    if status.Status in _STORE_OK:
        return None
    return f"{node.name} refused it: {status_text(status)}"
