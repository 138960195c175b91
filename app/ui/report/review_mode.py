"""Surgeon review mode: the open study's findings and clinical context are read-only (the
pathway stays live); Review > Amend asks who is amending, makes them editable, and Finish
amending records who changed what (``app.report.amendments``) in the findings' history
(``StudyFindings.amendments``: saved, autosaved, exported to the SR, shown in the report)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QLabel

from app.report.amendments import Amendment, amendment

REVIEW_BANNER = "REVIEW MODE — findings are read-only. Review > Amend to change them."


class ReviewMode(QObject):
    def __init__(self, window: Any, menu: Any) -> None:
        super().__init__(window)
        self.window = window
        self.reviewing = False
        self.amending_reader: str | None = None
        self._before: Any = None
        self.review_action = QAction("Review mode (read-only findings)", window)
        self.review_action.setCheckable(True)
        self.review_action.setObjectName("report.review_mode")
        self.review_action.toggled.connect(self.set_reviewing)
        self.amend_action = QAction("Amend...", window)
        self.amend_action.setObjectName("report.amend")
        self.amend_action.triggered.connect(lambda *_: self.amend())
        self.finish_action = QAction("Finish amending", window)
        self.finish_action.setObjectName("report.finish_amend")
        self.finish_action.triggered.connect(lambda *_: self.finish_amending())
        for a in (self.review_action, self.amend_action, self.finish_action):
            menu.addAction(a)
        self.banner = QLabel("")
        self.banner.setObjectName("ReviewModeBanner")
        self.banner.setStyleSheet("QLabel { background: #6b4a00; color: #ffffff; font-weight: bold; padding: 1px 8px; }")
        self.banner.hide()
        window.statusBar().addPermanentWidget(self.banner)
        self._timer = QTimer(self)  # the review dock is rebuilt per study: re-apply when it changes
        self._timer.setInterval(400)
        self._timer.timeout.connect(self.apply)
        self._update_actions()

    @property
    def session(self) -> Any:
        return getattr(getattr(self.window, "annotations", None), "session", None)

    @property
    def editable(self) -> bool:
        return not self.reviewing or self.amending_reader is not None

    def set_reviewing(self, on: bool) -> None:
        if not on and self.amending_reader is not None:
            self.finish_amending()
        self.reviewing = bool(on)
        if self.review_action.isChecked() != self.reviewing:
            self.review_action.setChecked(self.reviewing)
        self._timer.start() if self.reviewing else self._timer.stop()
        self.apply()

    def amend(self, reader: str | None = None) -> bool:
        if not self.reviewing or self.session is None:
            return False
        if reader is None:
            reader, ok = QInputDialog.getText(self.window, "Amend findings", "Who is amending (name)?")
            if not ok:
                return False
        reader = reader.strip()
        if not reader:
            self.window.statusBar().showMessage("Amend: a name is needed to record the amendment", 8000)
            return False
        self.amending_reader = reader
        self._before = self.session.findings
        self.apply()
        return True

    def finish_amending(self) -> Amendment | None:
        session, reader = self.session, self.amending_reader
        self.amending_reader = None
        record = None
        if session is not None and reader is not None and self._before is not None:
            record = amendment(reader, self._before, session.findings)
            if record is not None:
                session.set_findings(session.findings.with_amendment(record))
        self._before = None
        self.apply()
        return record

    def apply(self) -> None:
        ws = getattr(self.window, "annotations", None)
        widget = getattr(ws, "review_widget", None) if ws is not None else None
        editable = self.editable
        if widget is not None:
            for panel in (widget.findings_panel, widget.context_form):
                if panel is not None and panel.isEnabled() != editable:
                    panel.setEnabled(editable)
        banner = "" if not self.reviewing else (
            REVIEW_BANNER if self.amending_reader is None else f"AMENDING as {self.amending_reader} — Review > Finish amending")
        self.banner.setText(banner)
        self.banner.setVisible(bool(banner))
        if ws is not None:
            for a in getattr(ws, "tool_actions", {}).values():
                a.setEnabled(editable)
            ws.set_edits_locked(not editable)
        self._update_actions()

    def _update_actions(self) -> None:
        self.amend_action.setEnabled(self.reviewing and self.amending_reader is None)
        self.finish_action.setEnabled(self.amending_reader is not None)
