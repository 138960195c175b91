"""File > Send findings to PACS...: the session's findings as a TID 1500 SR (and the clinic report as
a DICOM Encapsulated PDF when the report module is installed), sent to the chosen node in a worker.

The objects are written on the GUI thread into a temporary outbox folder (the SR export reads
the scanned study; the report PDF is rendered by Qt), sent by ``client.send_files`` in a worker
with progress, and the outbox is removed afterwards. The result is said in plain words.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.paths import user_data_dir
from app.net import client
from app.net.models import SendResult
from app.net.nodes import Node, NodeStore
from app.ui.pacs.secrets import ensure_secret
from app.ui.pacs.tasks import NetTask
from app.ui.pacs.widgets import NodeCombo, StatusLabel

ReportExporter = Callable[[Path], Path]  # writes the report as DICOM Encapsulated PDF to the path given


def identity_text(session: Any) -> str:
    """"Patient DOE John · ID 123 · Born … · Study 2024-03-15 LUMBAR SPINE" of the session's study;
    unknown values say so."""
    study = getattr(session, "study", None)
    if study is None:
        return "Patient: unknown (the findings are not tied to an opened study)"
    return " · ".join(f"{label} {value or 'unknown'}" for label, value in study.identity.header_fields())


def describe_send(node_name: str, result: SendResult, names: dict[Path, str]) -> tuple[str, bool]:
    """(plain-words outcome, True when something failed)."""
    if result.failed == 0:
        what = " and ".join(names.values())
        return f"Sent {what} to {node_name}.", False
    failures = "; ".join(f"{names.get(p, p.name)}: {why}" for p, why in result.failures) or "no reason given"
    return f"{result.failed} of {result.sent + result.failed} object(s) not stored by {node_name} ({failures}).", True


class SendFindingsDialog(QDialog):
    def __init__(self, session: Any, store: NodeStore | None = None, report_exporter: ReportExporter | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Send findings to PACS")
        self.session = session
        self.store = store or NodeStore()
        self.report_exporter = report_exporter
        self.task: NetTask | None = None
        self.tasks: list[NetTask] = []
        self.outbox: Path | None = None
        self.last_result: SendResult | None = None
        self.node_combo = NodeCombo("sendNode")
        self.with_report = QCheckBox("Also send the clinic report (DICOM Encapsulated PDF)")
        self.with_report.setObjectName("sendReport")
        self.with_report.setChecked(report_exporter is not None)
        self.with_report.setEnabled(report_exporter is not None)
        if report_exporter is None:
            self.with_report.setToolTip("The report module is not available in this build.")
        self.progress = QProgressBar()
        self.progress.setObjectName("sendProgress")
        self.progress.setVisible(False)
        self.status = StatusLabel("sendStatus")
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.cancel_button = QPushButton("Cancel")
        self.close_button = QPushButton("Close")
        form = QFormLayout()
        form.addRow("PACS node", self.node_combo)
        form.addRow("", self.with_report)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.send_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("The findings of the open study are sent as a DICOM Structured Report (TID 1500) "
                                "in the study, with the patient's real identity."))
        # whose findings these are, from the study's own headers (the SR carries the real identity)
        self.identity = QLabel(identity_text(session))
        self.identity.setObjectName("SendIdentity")
        self.identity.setWordWrap(True)
        layout.addWidget(self.identity)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.send_button.clicked.connect(self.send)
        self.cancel_button.clicked.connect(lambda: self.task.cancel() if self.task is not None else None)
        self.close_button.clicked.connect(self.reject)
        problem = self.node_combo.load(self.store)
        if problem:
            self.status.say(problem, error=True)
        self._set_busy(False)
        self.resize(620, 240)

    @property
    def node(self) -> Node | None:
        return self.node_combo.node

    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def write_objects(self, folder: Path) -> dict[Path, str]:
        """The SR (and the report) in ``folder``: {path: what it is, in words}. Raises with the reason."""
        files = {self.session.export_sr(folder / "findings-sr.dcm"): "the findings (SR)"}
        if self.with_report.isChecked() and self.report_exporter is not None:
            files[self.report_exporter(folder / "report.dcm")] = "the report (PDF)"
        return files

    def send(self) -> None:
        node = self.node
        if node is None or self.busy:
            return
        if not ensure_secret(self, node):
            self.status.say("Not sent: no password or token given.", error=True)
            return
        outbox_root = user_data_dir() / "outbox"
        outbox_root.mkdir(parents=True, exist_ok=True)
        self.outbox = Path(tempfile.mkdtemp(prefix="send-", dir=outbox_root))
        try:
            names = self.write_objects(self.outbox)
        except Exception as exc:  # the export's own typed errors carry the reason in plain words
            self._clean_outbox()
            self.status.say(f"Not sent: {exc}", error=True)
            return
        self.progress.setRange(0, len(names))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        task = NetTask(client.send_files, node, list(names), with_progress=True, parent=self)
        task.progress.connect(lambda p: self.progress.setValue(int(p[0])) if isinstance(p, tuple) else None)
        task.finished.connect(lambda result, n=node, nm=names: self._sent(n, result, nm))
        task.failed.connect(lambda message: self._finished(f"Not sent: {message}", True))
        task.cancelled.connect(lambda: self._finished("Sending cancelled.", True))
        self.tasks.append(task)
        self.task = task.start()
        self._set_busy(True)
        self.status.say(f"Sending to {node.name}...")

    def _sent(self, node: Node, result: SendResult, names: dict[Path, str]) -> None:
        self.last_result = result
        self.progress.setValue(result.sent + result.failed)
        self._finished(*describe_send(node.name, result, names))

    def _finished(self, text: str, error: bool) -> None:
        self._clean_outbox()
        self.status.say(text, error)
        self._set_busy(False)

    def _clean_outbox(self) -> None:
        if self.outbox is not None:
            shutil.rmtree(self.outbox, ignore_errors=True)
            self.outbox = None

    def _set_busy(self, busy: bool) -> None:
        self.send_button.setEnabled(not busy and self.node is not None)
        self.cancel_button.setEnabled(busy)
        self.node_combo.setEnabled(not busy)

    def done(self, result: int) -> None:  # closing the dialog cancels a send in progress
        if self.task is not None and self.task.running:
            self.task.cancel()
        super().done(result)
