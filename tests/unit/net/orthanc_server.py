"""A real Orthanc PACS for the network tests: loopback, free ports, temp storage, generated config.

Debian's ``orthanc`` and ``orthanc-dicomweb`` packages (.ci/run installs them). The server
registers Isthmus's C-MOVE storage SCP as a DICOM modality, checks the called AE title, and
(when ``users`` is given) asks HTTP clients for a password.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ORTHANC_BIN = Path("/usr/sbin/Orthanc")
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
ORTHANC_AET = "ORTHANC"
ISTHMUS_AET = "ISTHMUS"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def orthanc_available() -> str | None:
    """None when Orthanc can run here, else the reason it cannot."""
    if not (ORTHANC_BIN.exists() or shutil.which("Orthanc")):
        return f"Orthanc is not installed ({ORTHANC_BIN} missing; apt-get install orthanc orthanc-dicomweb)"
    if not DICOMWEB_PLUGIN.exists():
        return f"the Orthanc DICOMweb plugin is not installed ({DICOMWEB_PLUGIN} missing; apt-get install orthanc-dicomweb)"
    return None


@dataclass
class OrthancServer:
    folder: Path
    users: dict[str, str] = field(default_factory=dict)
    dicom_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    move_scp_port: int = field(default_factory=free_port)  # Isthmus's storage SCP for C-MOVE
    extra: dict[str, object] = field(default_factory=dict)  # more Orthanc options for one test
    process: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.http_url}/dicom-web"

    @property
    def auth(self) -> tuple[str, str] | None:
        return next(iter(self.users.items())) if self.users else None

    def config(self) -> dict[str, object]:
        return {
            "Name": "isthmus-test",
            "StorageDirectory": str(self.folder / "storage"),
            "IndexDirectory": str(self.folder / "index"),
            "DicomAet": ORTHANC_AET,
            "DicomPort": self.dicom_port,
            "DicomCheckCalledAet": True,
            "DicomModalities": {"isthmus": [ISTHMUS_AET, "127.0.0.1", self.move_scp_port]},
            "DicomScuTimeout": 10,
            "DicomScpTimeout": 30,
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": bool(self.users),
            "RegisteredUsers": self.users,
            "HttpDescribeErrors": True,
            "SaveJobs": False,
            "Plugins": [str(DICOMWEB_PLUGIN)],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
            **self.extra,
        }

    def start(self, timeout_s: float = 30.0, attempts: int = 3) -> None:
        """Start and wait until both ports answer; new ports if another process took one meanwhile."""
        for attempt in range(attempts):
            if self._launch(timeout_s) or attempt == attempts - 1:
                break
            self.dicom_port, self.http_port = free_port(), free_port()
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"Orthanc did not start; log: {self.log_tail()}")

    def _launch(self, timeout_s: float) -> bool:
        self.folder.mkdir(parents=True, exist_ok=True)
        cfg = self.folder / "orthanc.json"
        cfg.write_text(json.dumps(self.config(), indent=2))
        binary = str(ORTHANC_BIN if ORTHANC_BIN.exists() else shutil.which("Orthanc"))
        with (self.folder / "orthanc.out").open("ab") as out:
            self.process = subprocess.Popen([binary, "--logdir=" + str(self.folder), str(cfg)],
                                            stdout=out, stderr=subprocess.STDOUT, cwd=self.folder)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False  # e.g. a port taken between free_port() and the bind
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.http_url}/system", auth=self.auth, timeout=2).ok and self._dicom_listening():
                    return True
            time.sleep(0.2)
        self.kill()
        return False

    def _dicom_listening(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            return s.connect_ex(("127.0.0.1", self.dicom_port)) == 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def kill(self) -> None:
        """Stop the server abruptly (as a crash or a pulled cable would)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=15)

    def log_tail(self, n_chars: int = 2000) -> str:
        logs = sorted([*self.folder.glob("Orthanc.log*"), *self.folder.glob("orthanc.out")], key=os.path.getmtime)
        return logs[-1].read_text(errors="replace")[-n_chars:] if logs else "(no log)"

    # REST helpers for the tests' own checks (independent of app.net)
    def rest(self, path: str) -> object:
        r = requests.get(f"{self.http_url}{path}", auth=self.auth, timeout=30)
        r.raise_for_status()
        return r.json()

    def raw(self, path: str) -> bytes:
        r = requests.get(f"{self.http_url}{path}", auth=self.auth, timeout=30)
        r.raise_for_status()
        return r.content

    def upload(self, paths: list[Path]) -> None:
        for path in paths:
            r = requests.post(f"{self.http_url}/instances", data=path.read_bytes(), auth=self.auth, timeout=60)
            r.raise_for_status()
