"""One teaching attempt in the main window: open the case's images with an empty read, hide the
pathway (and never load the reference read) until "Submit read", keep drafts in the history
database, then score and show the feedback.

``TeachingController`` is the only object the main window knows (``install_teaching``)."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDockWidget,
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.findings.io import findings_from_dict, findings_to_dict
from app.findings.model import StudyFindings
from app.teaching.case import TeachingCase
from app.teaching.history import History
from app.teaching.scoring import ScoreResult, score_read
from app.ui.teaching.overlay import ReferenceOverlay


class AttemptPanel(QWidget):
    """The dock during an attempt: case title, clinical history, elapsed time, Submit read."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("TeachingAttemptPanel")
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.history = QLabel()
        self.history.setWordWrap(True)
        self.history.setObjectName("history")
        self.clock = QLabel()
        self.submit_button = QPushButton("Submit read")
        self.submit_button.setObjectName("submit_read")
        self.exam_status = QLabel()  # exam mode: "Case k of N", the countdown
        self.exam_status.setObjectName("exam_status")
        self.next_button = QPushButton("Next case")  # exam mode: replaces "Submit read"
        self.next_button.setObjectName("next_case")
        self.hint = hint = QLabel()
        hint.setWordWrap(True)
        self.show_mine = QCheckBox("Show my read")
        self.show_reference = QCheckBox("Show the reference read (magenta, REF)")
        for box in (self.show_mine, self.show_reference):
            box.setChecked(True)
            box.setVisible(False)  # after "Submit read" only
        lay = QVBoxLayout(self)
        for w in (self.exam_status, self.title, self.history, self.clock, hint, self.submit_button, self.next_button,
                  self.show_mine, self.show_reference):
            lay.addWidget(w)
        lay.addStretch(1)
        self.setMinimumHeight(300)  # the history and hint must not overlap in a short dock
        self.set_exam_mode(False)

    def set_exam_mode(self, exam: bool) -> None:
        """Exam: "Case k of N", a countdown and "Next case" instead of "Submit read"."""
        until = "the whole exam set is finished (or the time is up)" if exam else "you submit"
        self.hint.setText("Mark what you see with the annotation tools (pars markers, slip, oedema ROIs) or the "
                          f"findings table. The reference read, the score and the pathway stay hidden until {until}.")
        self.submit_button.setVisible(not exam)
        self.next_button.setVisible(exam)
        self.exam_status.setVisible(exam)


class TeachingController(QObject):
    sig_submitted = Signal(object)  # ScoreResult

    def __init__(self, window: Any, history: History | None = None):
        super().__init__(window)
        self.window = window
        self._history = history
        self.case: TeachingCase | None = None
        self.trainee = ""
        self.attempt_id: int | None = None
        self.exam_set: str | None = None  # exam mode: the exam id; no feedback per case
        self.started = 0.0
        self.result: ScoreResult | None = None
        self.reference: StudyFindings | None = None  # loaded only when the read is submitted
        self.feedback = None
        self.panel = AttemptPanel()
        self.dock = QDockWidget("Teaching case", window)
        self.dock.setObjectName("TeachingDock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        self.dock.hide()
        view_menu = next((a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "View"), None)
        if view_menu is not None:  # a closed teaching dock can be re-opened like every other dock
            toggle = self.dock.toggleViewAction()
            toggle.setText("Teaching case panel")
            view_menu.addAction(toggle)
        self.panel.submit_button.clicked.connect(self.submit)
        self.overlay = ReferenceOverlay(window)
        self.panel.show_reference.toggled.connect(self.overlay.set_visible)
        self.panel.show_mine.toggled.connect(self.overlay.set_trainee_visible)
        self._session = None
        self._stale_session = None  # the session shown when the attempt started: never the attempt's
        self._resume_draft: dict | None = None
        self._guarded_tabs = None  # the review dock's tab pages, watched for a re-added Pathway tab
        ws = getattr(window, "annotations", None)
        if ws is not None and hasattr(ws, "sig_dock_ready"):
            ws.sig_dock_ready.connect(self._on_dock_ready)
        self._tick = QTimer(self)
        self._tick.setInterval(500)
        self._tick.timeout.connect(self._on_tick)
        self._opening_case = False  # start_case is opening the case's images (replacing any study)
        if hasattr(window, "sig_study_closed"):
            window.sig_study_closed.connect(self._on_study_closed)

    @property
    def history(self) -> History:
        if self._history is None:
            self._history = History()
        return self._history

    # ---- menu actions ------------------------------------------------------------------------
    def pick_case(self) -> None:
        from app.teaching.library import load_library
        from app.ui.teaching.picker import CasePickerDialog

        lib = load_library()
        dlg = CasePickerDialog(lib, self.history.attempted_case_ids(self.trainee), self.trainee, self.window)

        def trainee_changed(text: str) -> None:
            dlg.attempted = self.history.attempted_case_ids(text.strip())
            dlg.refresh()
        dlg.trainee_edit.textChanged.connect(trainee_changed)
        if dlg.exec() and dlg.selected_case() is not None:
            self.start_case(dlg.selected_case(), dlg.trainee())

    def make_case_dialog(self) -> None:
        from app.teaching.library import user_cases_dir
        from app.ui.teaching.authoring_dialog import MakeCaseDialog

        if self._current_study_dir() is None:
            QMessageBox.information(self.window, "Teaching case", "Open one study folder first.")
            return
        dlg = MakeCaseDialog(user_cases_dir(), self.window)
        while dlg.exec():
            try:
                meta = dlg.metadata()
                folder = self.make_case(meta, dlg.case_folder(meta))
            except Exception as exc:
                QMessageBox.warning(self.window, "Teaching case", str(exc))
                continue
            self.window.statusBar().showMessage(f"Teaching case saved in {folder}", 8000)
            return

    def _current_study_dir(self) -> str | None:
        paths = list(getattr(self.window.controller, "paths", []) or [])
        return paths[0] if len(paths) == 1 and Path(paths[0]).is_dir() else None

    def make_case(self, meta: Any, out_dir: Any) -> Path:
        """Authoring from the open study: anonymised images + the current read + ``meta``."""
        from app.teaching.authoring import make_case

        study = self._current_study_dir()
        session = getattr(getattr(self.window, "annotations", None), "session", None)
        if study is None or session is None:
            raise ValueError("open one study folder (and let it load) first")
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            return make_case(study, session.findings, out_dir, meta).case.folder
        finally:
            QApplication.restoreOverrideCursor()

    def show_progress(self) -> None:
        from app.ui.teaching.progress_chart import ProgressDialog

        ProgressDialog(self.history, self.trainee, self.window).exec()

    # ---- attempt -----------------------------------------------------------------------------
    def start_case(self, case: TeachingCase, trainee: str, exam_set: str | None = None) -> None:
        """Open ``case`` for ``trainee``; with ``exam_set`` the attempt belongs to that exam and
        submitting it records the score without showing any feedback."""
        self.case, self.trainee, self.result, self.exam_set = case, trainee, None, exam_set
        self._resume_draft = None
        self._stale_session = getattr(getattr(self.window, "annotations", None), "session", None)
        self._session = None
        interrupted = [a for a in self.history.open_attempts(trainee)
                       if a.case_id == case.case_id and a.exam_set == exam_set]
        if interrupted:  # e.g. after a crash: carry on with the last saved draft
            self.attempt_id = interrupted[-1].id
            self._resume_draft = self.history.draft_of(self.attempt_id)
        else:
            self.attempt_id = self.history.start_attempt(trainee, case.case_id, exam_set=exam_set)
        self.started = time.monotonic()
        self.panel.title.setText(f"<b>{case.meta.title}</b> ({case.meta.difficulty})")
        self.panel.history.setText(case.meta.history)
        self.panel.submit_button.setEnabled(True)
        self.panel.set_exam_mode(exam_set is not None)
        self.overlay.clear()
        for box in (self.panel.show_mine, self.panel.show_reference):
            box.setChecked(True)
            box.setVisible(False)
        self.dock.show()
        self._guard_pathway()
        self._tick.start()
        # the attempt's session autosaves in the teaching folder: clearing it for the trainee never
        # touches a reader's own autosaved read of the same study
        self.window.annotations.autosave_data_dir = attempt_autosave_dir()
        self._opening_case = True
        try:
            opened = self.window.open_paths([str(case.images_dir)])
        finally:
            self._opening_case = False
        if opened is False:  # the reader kept the open study (its autosave is not working)
            self._on_study_closed()

    def _on_study_closed(self) -> None:
        """The attempt's study was closed (File > Close study) or another study opened in its
        place: the attempt is put aside. Its draft stays in the history (picking the case again
        carries on from it; an exam submits it when the set ends), and nothing of the attempt
        reaches the next study: no empty read put over its findings, no hidden pathway, no
        autosave into the teaching folder, no reference overlay."""
        if self._opening_case or self.attempt_id is None:
            return
        was_active = self.active
        self._tick.stop()
        if self._session is not None:
            self._session.findings_changed.disconnect(self._save_draft)
        self._session = self._stale_session = None
        self.attempt_id, self.result, self.reference = None, None, None
        self.window.annotations.autosave_data_dir = None
        self.overlay.clear()
        for box in (self.panel.show_mine, self.panel.show_reference):
            box.setVisible(False)
        self.panel.submit_button.setEnabled(False)
        if self.exam_set is None:
            self.dock.hide()
        if was_active:
            self.window.statusBar().showMessage(
                "Teaching attempt put aside: your draft is kept; pick the case again to carry on", 15000)

    @property
    def active(self) -> bool:
        return self.attempt_id is not None and self.result is None

    def _on_tick(self) -> None:
        if not self.active:
            return
        s = int(time.monotonic() - self.started)
        self.panel.clock.setText(f"Time: {s // 60}:{s % 60:02d}")
        ws = getattr(self.window, "annotations", None)
        session = getattr(ws, "session", None)
        if session is not None and session is not self._session and session is not self._stale_session:
            self._adopt(session)
        self._guard_pathway()
        self._hide_pathway(True)

    def _guard_pathway(self) -> None:
        """A study loaded during the attempt re-creates the review dock's tabs (Pathway visible):
        hide it again in the same event-loop pass, before it is painted, not at the next tick."""
        rw = getattr(getattr(self.window, "annotations", None), "review_widget", None)
        pages = rw.tabs.findChild(QStackedWidget) if rw is not None else None
        if pages is not None and pages is not self._guarded_tabs:
            pages.installEventFilter(self)
            self._guarded_tabs = pages

    def _on_dock_ready(self, _dock: Any) -> None:
        self._guard_pathway()
        if self.active:
            self._hide_pathway(True)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self._guarded_tabs and event.type() == QEvent.Type.ChildAdded and self.active:
            # with self as the context: dropped if the window (and this controller) goes first
            QTimer.singleShot(0, self, lambda: self.active and self._hide_pathway(True))
        return False

    def _adopt(self, session: Any) -> None:
        """The new study's session starts with an empty read (any autosaved read or annotations
        of this study in the teaching folder are cleared for the attempt; the reader's own autosave is
        in another folder and untouched), or with the draft of an
        interrupted attempt of this case (its findings; annotations are not kept in drafts)."""
        self._session = session
        store = session.annotation_store
        if store is not None and len(store):
            store.remove_many([a.id for a in store.annotations])
        read = StudyFindings(study_instance_uid=session.study_uid)
        if self._resume_draft:
            # a damaged draft starts the attempt empty; it never blocks the attempt
            with contextlib.suppress(Exception):
                read = findings_from_dict(self._resume_draft)
        session.set_findings(read, record_undo=False)
        session.findings_changed.connect(self._save_draft)

    def _save_draft(self, findings: StudyFindings) -> None:
        if self.active:
            self.history.save_draft(self.attempt_id, findings_to_dict(findings))

    def _hide_pathway(self, hidden: bool) -> None:
        ws = getattr(self.window, "annotations", None)
        rw = getattr(ws, "review_widget", None)
        if rw is None:
            return
        for i in range(rw.tabs.count()):
            if rw.tabs.widget(i) is rw.pathway_panel:
                rw.tabs.setTabVisible(i, not hidden)

    def pathway_hidden(self) -> bool:
        rw = getattr(getattr(self.window, "annotations", None), "review_widget", None)
        if rw is None:
            return True
        return not any(rw.tabs.isTabVisible(i) for i in range(rw.tabs.count()) if rw.tabs.widget(i) is rw.pathway_panel)

    def record(self) -> ScoreResult | None:
        """Score the read and store it in the history, showing nothing (exam mode; ``submit``
        shows the feedback). A study not loaded yet submits the draft (or an empty read)."""
        if not self.active:
            return None
        if self._session is not None:
            read = self._session.findings
        else:
            read = findings_from_dict(self._resume_draft) if self._resume_draft else StudyFindings()
        try:
            reference = self.case.load_reference()
        except Exception as exc:
            QMessageBox.warning(self.window, "Teaching case", f"{self.case.folder}: {exc}")
            return None
        result = score_read(read, reference)
        self.history.submit(self.attempt_id, findings_to_dict(read), result)
        self.reference = reference
        self.window.annotations.autosave_data_dir = None  # studies opened next autosave as usual
        self.result = result
        self._tick.stop()
        self.panel.submit_button.setEnabled(False)
        return result

    def submit(self) -> ScoreResult | None:
        if not self.active or self._session is None:
            return None
        result = self.record()
        if result is None:
            return None
        reference = self.reference
        self._hide_pathway(False)
        self.overlay.show(reference)
        for box in (self.panel.show_mine, self.panel.show_reference):
            box.setVisible(True)
        from app.ui.teaching.feedback import FeedbackDialog

        self.feedback = FeedbackDialog(result, self.case.meta, self.window)
        self.feedback.show()
        self.sig_submitted.emit(result)
        return result


def attempt_autosave_dir() -> Path:
    """Autosave folder of teaching attempts (kept apart from the reader's autosaves)."""
    from app.core.paths import user_data_dir

    return user_data_dir() / "teaching" / "attempts"


def install_teaching(window: Any, history: History | None = None) -> TeachingController:
    """Adds a "Teaching" menu (start a case, progress) to ``window``; returns the controller."""
    ctl = TeachingController(window, history)
    menu = window.menuBar().addMenu("&Teaching")
    start = QAction("Start teaching case...", window)
    start.triggered.connect(ctl.pick_case)
    progress = QAction("Teaching progress...", window)
    progress.triggered.connect(ctl.show_progress)
    make = QAction("Make teaching case from this study...", window)
    make.triggered.connect(ctl.make_case_dialog)
    menu.addAction(start)
    from app.ui.teaching.exam_mode import install_exam

    install_exam(ctl, menu)
    menu.addAction(progress)
    menu.addSeparator()
    menu.addAction(make)
    window.teaching = ctl
    return ctl
