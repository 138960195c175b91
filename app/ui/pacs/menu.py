"""File menu wiring of the PACS dialogs: Query PACS... (Ctrl+Shift+F), Send findings to PACS...,
PACS nodes.... Installed by ``install_pacs(window)``; kept as ``window.pacs``.

A retrieved study is opened in the window like a folder (its SRs are then offered by the study
findings dialog) and, when the local study database (app.studydb) is installed, imported into it
by link with source ``pacs:NODE`` in a worker.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence

from app.net.models import RetrieveResult
from app.net.nodes import Node, NodeStore
from app.ui.pacs.tasks import NetTask
from app.viewer.actions import shortcut_of

log = logging.getLogger(__name__)


def studydb_available() -> bool:
    return importlib.util.find_spec("app.studydb.database") is not None


def import_retrieved(node_name: str, folder: Path, progress: Any = None, cancel: Any = None) -> Any:
    """Import a retrieved study into the local database by link (worker thread)."""
    database = importlib.import_module("app.studydb.database")  # present once app.studydb is installed
    return database.open_default().import_paths([folder], mode="link", source=f"pacs:{node_name}",
                                       progress=progress, cancel=cancel)


class PacsActions(QObject):
    db_imported = Signal(object)  # the database's ImportReport
    retrieved_opened = Signal(object)  # the RetrieveResult that was opened

    def __init__(self, window: Any, store: NodeStore | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.store = store
        self.query_dialog: Any = None
        self.send_dialog: Any = None
        self.nodes_dialog: Any = None
        self.tasks: list[NetTask] = []
        self.query_action = self._action("pacs.query", "Query PACS...", self.show_query, shortcut_of("pacs.query"))
        self.send_action = self._action("pacs.send_findings", "Send findings to PACS...", self.show_send)
        self.nodes_action = self._action("pacs.nodes", "PACS nodes...", self.show_nodes)
        bar = window.menuBar()
        file_menu = next((a.menu() for a in bar.actions() if a.text().replace("&", "") == "File"), None)
        if file_menu is not None:
            before = next((a for a in file_menu.actions() if a.text().startswith(("Export report", "Quit"))), None)
            for a in (self.query_action, self.send_action, self.nodes_action):
                file_menu.insertAction(before, a) if before else file_menu.addAction(a)
            file_menu.insertSeparator(before) if before else file_menu.addSeparator()

    def _action(self, name: str, text: str, slot: Any, shortcut: str = "") -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(name)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda *_: slot())
        self.window.addAction(action)
        return action

    def _store(self) -> NodeStore:
        return self.store or NodeStore()

    @property
    def session(self) -> Any:
        return getattr(getattr(self.window, "annotations", None), "session", None)

    # ---- dialogs -------------------------------------------------------------------------------
    def show_nodes(self) -> Any:
        from app.ui.pacs.nodes_dialog import PacsNodesDialog

        self.nodes_dialog = PacsNodesDialog(self._store(), self.window)
        self.nodes_dialog.open()
        return self.nodes_dialog

    def show_query(self) -> Any:
        from app.ui.pacs.query_dialog import QueryRetrieveDialog

        if self.query_dialog is None:
            self.query_dialog = QueryRetrieveDialog(self._store(), parent=self.window)
            self.query_dialog.retrieved.connect(self.open_retrieved)
        else:
            self.query_dialog.load_nodes()
        self.query_dialog.show()
        self.query_dialog.raise_()
        return self.query_dialog

    def show_send(self) -> Any:
        from app.ui.pacs.send_dialog import SendFindingsDialog

        session = self.session
        if session is None:
            self.window.statusBar().showMessage("Send findings to PACS: open a study first (no findings to send).", 8000)
            return None
        report = getattr(self.window, "report", None)
        exporter = None
        if report is not None and hasattr(report, "export_report"):
            def exporter(path: Path) -> Path:
                return Path(report.export_report(path, anonymise=False))
        self.send_dialog = SendFindingsDialog(session, self._store(), exporter, self.window)
        self.send_dialog.open()
        return self.send_dialog

    # ---- a retrieved study -----------------------------------------------------------------------
    def open_retrieved(self, node: Node, result: RetrieveResult) -> None:
        """Import the retrieved study into the study database (source "pacs:NODE"), then open it.
        In that order: opening a folder also indexes it, as "folder", and a study keeps its first source."""
        if not studydb_available():
            self._open(result)
            return
        task = NetTask(import_retrieved, node.name, result.folder, with_progress=True, parent=self)

        def imported(report: object) -> None:
            self._open(result)
            self.db_imported.emit(report)

        def not_imported(message: str) -> None:
            self._open(result)
            self.window.statusBar().showMessage(
                f"The retrieved study was opened but not added to the study database: {message}", 10000)

        task.finished.connect(imported)
        task.failed.connect(not_imported)
        self.tasks.append(task)
        task.start()

    def _open(self, result: RetrieveResult) -> None:
        self.window.open_paths([str(result.folder)])
        self.retrieved_opened.emit(result)


def install_pacs(window: Any, store: NodeStore | None = None) -> PacsActions:
    window.pacs = PacsActions(window, store)
    return window.pacs
