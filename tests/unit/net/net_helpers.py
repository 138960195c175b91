"""Helpers of the network tests (a module of their own: test files import it, never conftest)."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from orthanc_server import ISTHMUS_AET, ORTHANC_AET, OrthancServer

from app.core.paths import sample_dicom_dir
from app.net.nodes import DimseNode

USERS = {"isthmus": "pacs-test-password"}


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
