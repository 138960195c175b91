"""Fixtures for the network tests: a real Orthanc on loopback (session-wide) and sample case 04.

Skipped with a clear reason only where Orthanc is not installed and this is not CI; in CI
(``CI`` set) a missing Orthanc fails the tests instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pydicom
import pytest
from orthanc_server import ISTHMUS_AET, ORTHANC_AET, OrthancServer, orthanc_available

from app.core.paths import sample_dicom_dir
from app.net.nodes import DimseNode

USERS = {"isthmus": "pacs-test-password"}


def _require_orthanc() -> None:
    reason = orthanc_available()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def case04_files() -> list[Path]:
    folder = next(iter(sorted(sample_dicom_dir().glob("case04_*"))), None)
    files = sorted(folder.rglob("*.dcm")) if folder else []
    if not files:
        pytest.skip("sample_dicom/case04_* not generated (isthmus samples)")
    return files


def dimse_node(server: OrthancServer, **overrides: object) -> DimseNode:
    """Node "PACS1" for a test Orthanc: we are ISTHMUS, C-MOVE comes to the port Orthanc knows."""
    fields: dict[str, object] = {"name": "PACS1", "called_aet": ORTHANC_AET, "host": "127.0.0.1",
                                 "port": server.dicom_port, "calling_aet": ISTHMUS_AET, "timeout_s": 20.0,
                                 "retrieve_port": server.move_scp_port, **overrides}
    return DimseNode(**fields)  # type: ignore[arg-type]


def study_uid_of(files: list[Path]) -> str:
    return str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """A machine without a working keyring (keyring's own 'fail' backend)."""
    import keyring
    from keyring.backends import fail

    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    """One Orthanc for the session: DICOM + HTTP (basic auth), DICOMweb, Isthmus as a C-MOVE target."""
    _require_orthanc()
    server = OrthancServer(tmp_path_factory.mktemp("orthanc"), users=dict(USERS))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def case04(orthanc: OrthancServer) -> list[Path]:
    """Case 04 stored in the session Orthanc through its REST API (independent of app.net)."""
    files = case04_files()
    orthanc.upload(files)
    return files


@pytest.fixture
def make_orthanc(tmp_path: Path) -> Iterator[Callable[..., OrthancServer]]:
    """Start private Orthanc servers with extra options (killed after the test)."""
    _require_orthanc()
    started: list[OrthancServer] = []

    def make(**extra: object) -> OrthancServer:
        server = OrthancServer(tmp_path / f"orthanc{len(started)}", users=dict(USERS), extra=extra)
        started.append(server)
        server.start()
        return server

    yield make
    for server in started:
        server.kill()


@pytest.fixture
def fresh_orthanc(make_orthanc: Callable[..., OrthancServer]) -> OrthancServer:
    """A private Orthanc for tests that stop it or need it empty."""
    return make_orthanc()


__all__ = ["ISTHMUS_AET", "ORTHANC_AET"]
