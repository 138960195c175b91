"""DICOMweb against a WebNode through dicomweb-client: QIDO-RS search, WADO-RS retrieve, STOW-RS store.

Authentication: none, basic (user name + keyring password) or bearer (keyring token), on a
requests session; TLS certificates are verified unless the node says otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import pydicom
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from app.core.progress import CancelToken, ProgressFn, check, report
from app.net.credentials import secret_for_run
from app.net.errors import ConnectionRefused, HttpAuthError, NetError, NetTimeout, RemoteError
from app.net.models import RetrieveProgress, RetrieveResult, SendResult, SeriesRecord, StudyQuery, StudyRecord
from app.net.nodes import WebNode
from app.net.receive import InstanceSink
from app.net.records import series_identifier, series_record, study_identifier, study_record

_ANY_SYNTAX = (("application/dicom", "*"),)  # as stored: no transcoding by the server


def session_for(node: WebNode) -> requests.Session:
    session = requests.Session()
    session.verify = node.verify_tls
    if node.auth != "none":
        secret = secret_for_run(node.name)
        if secret is None:
            raise HttpAuthError(node.name, 401, "no password or token is known for this node in this run")
        if node.auth == "basic":
            session.auth = (node.username, secret)
        else:
            session.headers["Authorization"] = f"Bearer {secret}"
    return session


def _client(node: WebNode) -> DICOMwebClient:
    client = DICOMwebClient(url=node.url, session=session_for(node), timeout=node.timeout_s)
    client.set_http_retry_params(retry=False)  # its back-off retries a refused connection for 30 s; the user retries
    return client


@contextmanager
def web_errors(node: WebNode, what: str) -> Iterator[None]:
    """requests' exceptions as NetError in plain words."""
    try:
        yield
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status in (401, 403):
            raise HttpAuthError(node.name, status) from None
        raise RemoteError(f"{node.name} answered {what} with HTTP {status}", node.name) from None
    except requests.exceptions.SSLError as exc:
        raise RemoteError(f"the TLS certificate of {node.name} could not be verified ({exc.__class__.__name__})",
                          node.name) from None
    except requests.Timeout:
        raise NetTimeout(node.name, what, node.timeout_s) from None
    except requests.ConnectionError as exc:
        if "refused" in str(exc).lower():
            raise ConnectionRefused(node.name, node.url) from None
        raise RemoteError(f"the connection to {node.name} failed during {what} ({exc.__class__.__name__})",
                          node.name) from None


def _filters_and_fields(identifier: Dataset) -> tuple[dict[str, str], list[str]]:
    filters = {el.keyword: str(el.value) for el in identifier if el.value not in (None, "") and el.keyword
               != "QueryRetrieveLevel"}
    fields = [el.keyword for el in identifier if el.keyword not in filters and el.keyword != "QueryRetrieveLevel"]
    return filters, fields


def echo(node: WebNode) -> float:
    t0 = time.monotonic()
    with web_errors(node, "a QIDO-RS search"):
        _client(node).search_for_studies(limit=1)
    return time.monotonic() - t0


def find_studies(node: WebNode, query: StudyQuery, cancel: CancelToken | None = None) -> list[StudyRecord]:
    check(cancel)
    filters, fields = _filters_and_fields(study_identifier(query))
    with web_errors(node, "a QIDO-RS study search"):
        found = _client(node).search_for_studies(search_filters=filters, fields=fields)
    check(cancel)
    return [study_record(Dataset.from_json(item)) for item in found]


def find_series(node: WebNode, study_uid: str, cancel: CancelToken | None = None) -> list[SeriesRecord]:
    check(cancel)
    _, fields = _filters_and_fields(series_identifier(study_uid))
    with web_errors(node, "a QIDO-RS series search"):
        found = _client(node).search_for_series(study_uid, fields=fields)
    check(cancel)
    return [series_record(Dataset.from_json(item), study_uid) for item in found]


def _encode(ds: Dataset) -> bytes:
    buf = BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def retrieve_wado(node: WebNode, study_uid: str, dest: Path, progress: Callable[[RetrieveProgress], None] | None = None,
                  cancel: CancelToken | None = None) -> RetrieveResult:
    series = find_series(node, study_uid, cancel)
    sink = InstanceSink.for_series(study_uid, dest, series, progress)
    if sink.nothing_announced():
        return sink.result(f"{node.name} has no study {study_uid}", 0, [])
    problems: list[str] = []
    reason: str | None = None
    client = _client(node)
    try:
        for s in series:
            with web_errors(node, "a WADO-RS retrieve"):
                for ds in client.iter_series(study_uid, s.series_uid, media_types=_ANY_SYNTAX):
                    if cancel is not None and cancel.cancelled:
                        raise _Stop("cancelled by the user")
                    why = sink.accept(ds.get("StudyInstanceUID"), ds.get("SeriesInstanceUID"), ds.get("SOPInstanceUID"),
                                      _encode(ds))
                    if why:
                        problems.append(why)
    except _Stop as stop:
        reason = str(stop)
    except NetError as exc:
        reason = str(exc)
    except (requests.RequestException, ValueError, InvalidDicomError) as exc:  # a broken multipart stream
        reason = f"the WADO-RS answer of {node.name} broke off ({exc.__class__.__name__})"
    return sink.result(reason, 0, problems)


class _Stop(Exception):
    pass


def send_stow(node: WebNode, paths: Iterable[Path], progress: ProgressFn | None = None,
              cancel: CancelToken | None = None) -> SendResult:
    todo = [Path(p) for p in paths]
    failures: list[tuple[Path, str]] = []
    sent = 0
    client = _client(node)
    for i, path in enumerate(todo):
        if cancel is not None and cancel.cancelled:
            failures.extend((p, "not sent: cancelled by the user") for p in todo[i:])
            break
        try:
            ds = pydicom.dcmread(path)
        except (OSError, InvalidDicomError, ValueError) as exc:
            failures.append((path, f"not a readable DICOM file ({exc})"))
            continue
        try:
            with web_errors(node, "a STOW-RS store"):
                answer = client.store_instances([ds])
        except (HttpAuthError, ConnectionRefused, NetTimeout) as exc:  # the rest would fail the same way
            failures.extend((p, str(exc)) for p in todo[i:])
            break
        except NetError as exc:
            failures.append((path, str(exc)))
            continue
        failed = answer.get("FailedSOPSequence") if answer is not None else None
        if failed:
            reason = failed[0].get("FailureReason", "?")
            failures.append((path, f"{node.name} refused it (failure reason {reason})"))
        else:
            sent += 1
        report(progress, sent + len(failures), len(todo))
    return SendResult(sent=sent, failed=len(failures), failures=failures)
