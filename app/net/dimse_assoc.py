"""Opening a DICOM association with a node, with failures in plain words (pynetdicom)."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.pdu import A_ASSOCIATE_RJ

from app.net.errors import AssociationRejected, ConnectionRefused, NetError, NetTimeout, RemoteError
from app.net.nodes import DimseNode

T = TypeVar("T")


def new_ae(node: DimseNode) -> AE:
    ae = AE(ae_title=node.calling_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = ae.connection_timeout = node.timeout_s
    return ae


def no_delay(event: evt.Event) -> None:
    """TCP_NODELAY on a new DICOM connection (as DCMTK does): without it Nagle's algorithm and delayed
    ACKs hold back the last fragment of each P-DATA exchange, about 40 ms per instance on loopback."""
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _rejection_words(node: DimseNode, reason: str) -> str:
    low = reason.lower()
    if "called ae" in low:
        return f"called AE title {node.called_aet!r} not recognised"
    if "calling ae" in low:
        return f"our AE title {node.calling_aet!r} is not known to {node.name} (ask for it to be configured there)"
    return low or "no reason given"


def _failure(node: DimseNode, elapsed_s: float) -> Exception:
    """Why an association that was not rejected did not come up: refused, timeout, unreachable, aborted."""
    where = f"{node.host}:{node.port}"
    try:
        with socket.create_connection((node.host, node.port), timeout=min(node.timeout_s, 5.0)):
            pass
    except ConnectionRefusedError:
        return ConnectionRefused(node.name, where)
    except TimeoutError:
        return NetTimeout(node.name, f"a connection to {where}", node.timeout_s)
    except OSError as exc:
        return RemoteError(f"cannot reach {node.name} at {where}: {exc.strerror or exc}", node.name)
    if elapsed_s >= 0.9 * node.timeout_s:
        return NetTimeout(node.name, "the association request", node.timeout_s)
    return RemoteError(f"{node.name} at {where} accepted the connection but aborted the DICOM association "
                       "(is it a DICOM port, and does it support this service?)", node.name)


@contextmanager
def associate(node: DimseNode, ae: AE, ext_neg: list[Any] | None = None,
              handlers: list[Any] | None = None) -> Iterator[Association]:
    """An established association, released afterwards; raises NetError when none comes up."""
    rejection: dict[str, str] = {}

    def on_pdu(event: evt.Event) -> None:  # the raw A-ASSOCIATE-RJ: seen even if the peer hangs up at once
        pdu = event.pdu
        if isinstance(pdu, A_ASSOCIATE_RJ):
            rejection["reason"] = str(pdu.reason_str)

    t0 = time.monotonic()
    assoc = ae.associate(node.host, node.port, ae_title=node.called_aet, ext_neg=ext_neg,
                         evt_handlers=[(evt.EVT_PDU_RECV, on_pdu), (evt.EVT_CONN_OPEN, no_delay), *(handlers or [])])
    if not assoc.is_established:
        if assoc.is_rejected or rejection:
            raise AssociationRejected(node.name, _rejection_words(node, rejection.get("reason", "")))
        raise _failure(node, time.monotonic() - t0)
    try:
        yield assoc
    finally:
        if assoc.is_established:
            assoc.release()


# the DIMSE statuses a user meets, in words (PS3.4 C.4 and PS3.7 C)
_STATUS_WORDS = {
    0x0122: "SOP class not supported", 0x0124: "not authorised", 0x0211: "unrecognised operation",
    0xA700: "out of resources", 0xA701: "out of resources: cannot count the matches",
    0xA702: "out of resources: cannot perform the sub-operations",
    0xA801: "move destination unknown",
    0xA900: "the query does not match the SOP class", 0xFE00: "cancelled",
}


def status_text(status: Any) -> str:
    """'status 0xA801: move destination unknown (…comment…)' for a DIMSE status dataset."""
    code = int(getattr(status, "Status", -1))
    words = _STATUS_WORDS.get(code) or ("unable to process" if 0xC000 <= code <= 0xCFFF else "")
    comment = str(getattr(status, "ErrorComment", "") or "").strip()
    return f"status 0x{code:04X}" + (f": {words}" if words else "") + (f" ({comment})" if comment else "")


def lost(node: DimseNode, what: str, waited_s: float) -> NetError:
    """No answer to a DIMSE request: silent for the whole timeout, or broken off before it."""
    if waited_s >= 0.9 * node.timeout_s:
        return NetTimeout(node.name, what, node.timeout_s)
    return RemoteError(f"{node.name} broke off the association during {what} (the server stopped, or it does not "
                       f"allow AE title {node.calling_aet!r} to do this: ask for it to be configured there)", node.name)


def timed(responses: Iterable[T]) -> Iterator[tuple[T, float]]:
    """Each DIMSE response with the seconds spent waiting for it."""
    it = iter(responses)
    while True:
        t0 = time.monotonic()
        try:
            item = next(it)
        except StopIteration:
            return
        yield item, time.monotonic() - t0
