"""MainWindow: assembles the workstation (menus and toolbar from the actions registry, study
browser dock, viewer grid, start page, progress bar), wires the parts and creates the study session
of the active study (the one composition root: the annotation workspace only shows it). No logic lives here."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QToolBar,
)

from app.ui.actions import build_actions
from app.ui.browser import StudyBrowser
from app.ui.deferred import after_first_image
from app.ui.dialogs.shortcuts import ShortcutsDialog
from app.ui.presenter import StudyPresenter
from app.ui.settings import Settings
from app.ui.start_page import StartDialog, StartPage
from app.ui.steps import Steps
from app.ui.study_controller import StudyController
from app.ui.view_actions import ViewActionHandlers
from app.ui.viewer.grid import ViewerGrid
from app.viewer.actions import by_id
from app.viewer.state import LAYOUTS, ViewerState
from app.viewer.study_info import StudyInfo

if TYPE_CHECKING:
    from app.pathway import Ruleset

log = logging.getLogger(__name__)

TOOLBAR_IDS = ("file.open_folder", None, "mode.wl", "mode.pan", "mode.zoom", "mode.crosshair", "mode.oblique", None,
               "layout.1x1", "layout.1x2", "layout.2x2", "layout.pars", None, "view.preset_bone",
               "view.preset_soft", "view.preset_auto", "view.invert", "view.reset", None, "mpr.axial",
               "mpr.sagittal", "mpr.coronal", "mpr.slab_mip", "view.cine", "view.sync_scroll")


def _open_study_db():
    """The user's study database, or None when it cannot be opened at all (the start page says so).
    A damaged one is moved aside here and rebuilt by the start page in a worker."""
    from app.studydb.database import open_default
    from app.studydb.rows import StudyDbError

    try:
        return open_default(rebuild_now=False)
    except StudyDbError:
        return None


class RulesetPreload:
    """The default pathway ruleset, parsed once in a thread so opening a study does not. Started
    after the first image (``start``; the pathway engine's import and the parse are ~65 ms of
    GIL time that competed with the first image when started with the window); ``get`` starts it
    if needed and waits for it."""

    def __init__(self) -> None:
        self._ruleset: Ruleset | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._load, daemon=True, name="isthmus-ruleset")
            self._thread.start()

    def _load(self) -> None:
        try:
            from app.pathway import load_ruleset

            self._ruleset = load_ruleset()
        except Exception as exc:  # the session loads it again and says why it failed
            log.warning("default ruleset not preloaded: %s", exc)

    def get(self) -> Ruleset | None:
        self.start()
        assert self._thread is not None
        self._thread.join(timeout=10)
        return self._ruleset


class MainWindow(QMainWindow):
    sig_closed = Signal()
    sig_study_closed = Signal()  # File > Close study, or another study opened in the open one's place

    def __init__(self, settings: Settings | None = None, defer_extras: bool = False) -> None:
        """``defer_extras``: the Teaching, Review and PACS menus are installed once the first image
        of the study being opened is on screen (their modules and the pathway engine under them
        are ~0.2 s of imports at load average 5), not before it."""
        super().__init__()
        self.setWindowTitle("Isthmus - lumbar spine review")
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        self.state = ViewerState()
        self.state.layout = str(self.settings.get("viewer/layout", "pars"))
        if self.state.layout not in LAYOUTS:
            self.state.layout = "pars"
        for key in ("sync_scroll", "show_overlays", "anonymise", "show_reference_lines"):
            setattr(self.state, key, self.settings.get(f"viewer/{key}", getattr(self.state, key)))
        self.controller = StudyController(self)
        self.grid = ViewerGrid(self.state)
        self.browser = StudyBrowser()
        self.presenter = StudyPresenter(self.controller, self.grid, self.browser, self.state, self)
        self.view_actions = ViewActionHandlers(self.grid, self.state)
        self.study_db = _open_study_db()
        self.start_page = StartPage(self.study_db, anonymised=bool(self.state.anonymise))
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(self.grid)
        self.setCentralWidget(self.stack)
        dock = QDockWidget("Study browser", self)
        dock.setObjectName("StudyBrowserDock")
        dock.setWidget(self.browser)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.browser_dock = dock
        self._build_actions()
        self._build_status()
        from app.ui.annotations import install_annotation_layer
        install_annotation_layer(self)  # tools on the images, findings dock, Edit > Undo/Redo/Delete
        self._rulesets = RulesetPreload()  # the study sessions made below evaluate with it
        self.controller.sig_scan_started.connect(self._on_scan_started)
        self.presenter.sig_patient_changed.connect(self._on_patient_changed)
        self._extras_left = ["teaching", "report", "pacs"]
        self._extra_steps = Steps(self)
        if defer_extras:  # `isthmus open CASE`: the first image first (issue 16), then one menu per turn
            after_first_image(self.presenter, lambda: self._extra_steps.start(
                [lambda n=name: self._install_extra(n) for name in self._extras_left]))
        else:
            self.install_extras()
        self.start_page.sig_open_requested.connect(self.open_paths)
        from app.ui.study_index import OpenedStudyIndexer
        self._indexer = OpenedStudyIndexer(self.study_db, self.start_page.studies.refresh, self._index_failed, self)
        self.controller.sig_scanned.connect(self._index_opened)
        self._import_old_recent_studies()
        self.grid.sig_files_dropped.connect(self.open_paths)
        self.start_page.sig_browse_requested.connect(self.open_folder_dialog)
        self.presenter.sig_message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.state.changed.connect(self._sync_checks)
        self.state.changed.connect(self._on_state_title)
        self.presenter.sig_patient_changed.connect(self._update_title)
        QTimer.singleShot(200, self.controller.prewarm)
        geo = self.settings.geometry()
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            screen = self.screen().availableGeometry() if self.screen() is not None else None
            if screen is not None and screen.width() > 800:
                self.resize(int(screen.width() * 0.96), int(screen.height() * 0.94))
            else:
                self.resize(1500, 940)
        state = self.settings.get_bytes("window/state")
        if not (state is not None and self.restoreState(state)):
            QTimer.singleShot(0, self._default_dock_sizes)  # once the window has its size

    def _default_dock_sizes(self) -> None:
        """First run: the images get most of the width; side docks start narrow."""
        docks = [d for d in self.findChildren(QDockWidget) if d.parent() is self]
        left = [d for d in docks if self.dockWidgetArea(d) == Qt.DockWidgetArea.LeftDockWidgetArea]
        right = [d for d in docks if self.dockWidgetArea(d) == Qt.DockWidgetArea.RightDockWidgetArea]
        if left:
            self.resizeDocks(left, [210] * len(left), Qt.Orientation.Horizontal)
        if right:
            self.resizeDocks(right, [380] * len(right), Qt.Orientation.Horizontal)

    # ---- assembly --------------------------------------------------------------------------
    def _build_actions(self) -> None:
        h = self.view_actions.handlers()
        h.update({
            "file.open_folder": self.open_folder_dialog,
            "file.open_files": self.open_files_dialog,
            "file.start_page": self.show_start_dialog,
            "file.close_study": self.close_study,
            "file.quit": self.close,
            "help.shortcuts": lambda: ShortcutsDialog.show_for(self),
            "help.about": self._show_about,
            "view.browser": lambda on: self.browser_dock.setVisible(on),
        })
        for name in LAYOUTS:
            h[f"layout.{name}"] = lambda on, n=name: self.state.set_layout(n)
        self.actions = build_actions(self, h)
        tb = QToolBar("Tools", self)
        tb.setObjectName("MainToolbar")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        specs = by_id()
        for aid in TOOLBAR_IDS:
            if aid is None:
                tb.addSeparator()
                continue
            a = self.actions[aid]
            a.setIconText(specs[aid].label)
            a.setToolTip(f"{specs[aid].title}  ({specs[aid].shortcut})" if specs[aid].shortcut else specs[aid].title)
            tb.addAction(a)
        self.addToolBar(tb)
        self.browser_dock.visibilityChanged.connect(self.actions["view.browser"].setChecked)
        self.actions["file.close_study"].setEnabled(False)  # until a study is opened
        self._sync_checks()

    def _sync_checks(self, *_args) -> None:
        a, s = self.actions, self.state
        a[f"mode.{s.mode}"].setChecked(True) if f"mode.{s.mode}" in a else None
        a[f"layout.{s.layout}"].setChecked(True)
        for aid, key in (("view.sync_scroll", "sync_scroll"), ("view.overlays", "show_overlays"),
                         ("view.anonymise", "anonymise"), ("view.reference_lines", "show_reference_lines")):
            a[aid].setChecked(bool(getattr(s, key)))

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.progress_label = QLabel("")
        self.progress_label.setFixedWidth(240)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(220)
        self.progress.setTextVisible(True)
        self._pending_progress = None
        self._progress_timer = QTimer(self)  # coalesces updates: QProgressBar.setValue repaints at once
        self._progress_timer.setInterval(100)
        self._progress_timer.timeout.connect(self._apply_progress)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.controller.cancel)
        for w in (self.progress_label, self.progress, self.cancel_button):
            sb.addPermanentWidget(w)
            w.hide()
        c = self.controller
        c.sig_progress.connect(self._on_progress)
        c.sig_busy.connect(self._on_busy)
        c.sig_cancelled.connect(lambda: sb.showMessage("Loading cancelled", 5000))

    def _on_progress(self, label: str, done: int, total: int) -> None:
        self._pending_progress = (label, done, total)

    def _apply_progress(self) -> None:
        if self._pending_progress is None:
            return
        label, done, total = self._pending_progress
        self._pending_progress = None
        if self.progress_label.text() != label:
            self.progress_label.setText(label)
        if self.progress.maximum() != max(total, 1):
            self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_busy(self, busy: bool) -> None:
        for w in (self.progress_label, self.progress, self.cancel_button):
            w.setVisible(busy)
        if busy:
            self._progress_timer.start()
        else:
            self._progress_timer.stop()
            self._pending_progress = None

    def install_extras(self) -> None:
        """Teaching menu (case picker, attempt dock, feedback, progress), Review menu (key images),
        File > Export / Print report, File > Query PACS / Send findings / PACS nodes: whatever is
        not installed yet, now."""
        self._extra_steps.cancel()
        for name in list(self._extras_left):
            self._install_extra(name)

    def _install_extra(self, name: str) -> None:
        """One of the extra menus (its modules' import is 20-130 ms at load average 5: one per
        event-loop turn when deferred). Once each."""
        if name not in self._extras_left:
            return
        self._extras_left.remove(name)
        if name == "teaching":
            from app.ui.teaching import install_teaching

            install_teaching(self)
        elif name == "report":
            from app.ui.report.actions import install_report

            install_report(self)
        else:
            from app.ui.pacs.menu import install_pacs

            install_pacs(self)

    def _show_about(self, *_args) -> None:
        from app.ui.dialogs.about import AboutDialog

        AboutDialog.show_for(self)

    # ---- identity in the title --------------------------------------------------------------
    def _update_title(self, *_args) -> None:
        """The active patient and study (or "anonymised"): never the name while anonymised."""
        ident = self.presenter.study_identity
        if ident is None:
            self.setWindowTitle("Isthmus - lumbar spine review")
        elif self.state.anonymise:
            self.setWindowTitle("Isthmus - anonymised patient")
        else:
            ctx = ident.patient
            self.setWindowTitle(f"Isthmus - {ctx.display_name} (ID {ctx.patient_id}) - "
                                f"{ident.study_date[:4]}-{ident.study_date[4:6]}-{ident.study_date[6:8]} "
                                f"{ident.description}".rstrip(" -"))

    def _on_state_title(self, name: str) -> None:
        if name == "anonymise":
            self._update_title()
            self.start_page.set_anonymised(bool(self.state.anonymise))

    # ---- opening ---------------------------------------------------------------------------
    # ---- the study session: created here, shown by the annotation workspace -----------------
    def _on_scan_started(self, paths) -> None:
        names = ", ".join(str(p).rstrip("/").rsplit("/", 1)[-1] for p in (paths or []))
        self.annotations.park_session("a new study" if self.state.anonymise else (names or "a new study"))

    def _on_patient_changed(self, identity) -> None:
        ws = self.annotations
        if identity is None:
            ws.park_session("")
            return
        if ws.session is not None and ws.session.study is not None and ws.session.study.identity == identity:
            return
        ws.park_session(identity.patient.describe(self.state.anonymise))
        # the session (restore, first pathway evaluation) once the first image is on screen (issue 16);
        # open_study_session is idempotent: it may run twice (first image, then the deadline)
        after_first_image(self.presenter, self._rulesets.start)
        after_first_image(self.presenter, self.open_study_session)

    def open_study_session(self) -> None:
        """A StudySession for the presenter's active study (its autosave restored or set aside)."""
        p, c = self.presenter, self.controller
        if p.study is None or p.patient is None:
            return
        info = StudyInfo.of(c.result, p.patient, p.study, c.study_extras.get(p.study.study_instance_uid))
        if self.annotations.session is not None and self.annotations.session.study == info:
            return
        paths = list(c.paths or [])
        # the SR evidence comes from the scan the viewer already made (no second walk of the folder)
        source = c.result if c.result is not None else (paths[0] if len(paths) == 1 else (paths or None))
        # a study without a StudyInstanceUID keeps "" (its autosave key is the identity hash)
        from app.session import StudySession

        session = StudySession(info.identity.study_instance_uid, study=info, ruleset=self._rulesets.get(),
                               study_source=source, data_dir=self.annotations.autosave_data_dir)
        restored = session.restore()
        self.annotations.set_session(session)
        if self.annotations.autosave_data_dir is None:  # not in a teaching attempt: a case's SR would show the answer
            self.annotations.study_findings_offer.start(session, c.result, restored)  # the study's own SRs, if any

    def open_paths(self, paths) -> bool:
        """Open ``paths`` in place of the open study. False when nothing was opened (no paths,
        or the reader cancelled: the open study's autosave is not working, see Close study)."""
        paths = [str(p) for p in paths]
        if not paths:
            return False
        if self.controller.has_study or self.presenter.study is not None:
            if not self._keep_unsaved_work("Open study"):
                return False
            self.sig_study_closed.emit()  # the open study is replaced
        self.stack.setCurrentWidget(self.grid)
        # folder names often carry the patient's name: not shown while anonymised
        self.setWindowTitle("Isthmus - loading" if self.state.anonymise
                            else f"Isthmus - loading {', '.join(Path(p).name for p in paths)}")
        self.controller.open_paths(paths)
        self.actions["file.close_study"].setEnabled(True)
        return True

    def close_study(self) -> bool:
        """File > Close study: the reader's work is written (the autosave flushed, a half-typed
        edit committed first; when the autosave is not working the reader chooses Save / Discard
        / Cancel), then nothing of the study stays: viewer cells, browser rows, review panels,
        loads in flight (their late results are dropped), title and status texts; the start page
        shows, as at launch. False when the reader cancelled."""
        if not self.controller.has_study and self.presenter.study is None:
            return True
        if not self._keep_unsaved_work("Close study"):
            return False
        self.annotations.close_study_notices()
        self.controller.close()
        self.presenter.clear()  # -> sig_patient_changed(None): the session is flushed and closed, the dock emptied
        self._update_title()
        self.statusBar().clearMessage()
        self.actions["file.close_study"].setEnabled(False)
        self.start_page.studies.refresh()
        self.show_start_page()
        self.sig_study_closed.emit()
        return True

    def _keep_unsaved_work(self, title: str) -> bool:
        """True when the study may close (Close study, or quitting the window): a half-typed edit
        is committed into the session first, then either its autosave works (it is flushed on
        closing), or the reader saved the findings to a file or chose Discard. False: Cancel (or
        the save failed)."""
        session = self.annotations.session
        if session is None:
            return True
        review = self.annotations.review_widget
        if review is not None:
            review.commit_pending()  # into the session first: what is saved or autosaved includes it
        state, detail = session.autosave.status()
        if state not in ("failed", "off"):
            return True
        from PySide6.QtWidgets import QMessageBox

        from app.ui.findings.panel import FINDINGS_FILTER

        buttons = (QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                   | QMessageBox.StandardButton.Cancel)
        answer = QMessageBox.warning(self, title, "The autosave of this study is not working "
                                     f"({detail}): your findings are not saved.\n\nSave them to a file "
                                     "before closing?", buttons, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Discard:
            return True
        if answer != QMessageBox.StandardButton.Save:
            return False
        default = f"findings-{session.study_uid[-12:] or 'study'}.json"
        path, _ = QFileDialog.getSaveFileName(self, "Save findings", default, FINDINGS_FILTER)
        if not path:
            return False
        try:
            session.save(path)
        except OSError as exc:
            QMessageBox.critical(self, title, f"The findings could not be saved: {exc}")
            return False
        return True

    def _import_old_recent_studies(self) -> None:
        """Once: the folders of the former "recent studies" list go into the (empty) study list."""
        if self.study_db is None or self.settings.get("recent/imported_into_study_list", False):
            return
        self.settings.set("recent/imported_into_study_list", True)
        self.settings.sync()
        paths = list(dict.fromkeys(p for entry in self.settings.recent() for p in entry if Path(p).exists()))
        if paths and not self.study_db.search(limit=1) and not self.start_page.studies.busy:
            self.start_page.studies.import_paths(paths)

    def _index_opened(self, result) -> None:
        """What was opened goes into the study list (link in place), from the viewer's own scan,
        written in a worker (app.ui.study_index)."""
        if self.controller.paths:
            self._indexer.index(result, list(self.controller.paths))

    def _index_failed(self, message: str) -> None:
        if not self.controller.has_study:
            # the study was closed meanwhile: its folder name (often the patient's name) is not
            # shown over the start page; the log keeps it
            log.warning("Not added to the study list (the study is closed): %s", message)
            return
        self.statusBar().showMessage(f"Not added to the study list: {message}", 8000)

    def open_folder_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Open DICOM folder")
        if d:
            self.open_paths([d])

    def open_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open DICOM files")
        if files:
            self.open_paths(files)

    def show_start_dialog(self) -> None:
        chosen = StartDialog.ask(self.study_db, self, anonymised=bool(self.state.anonymise))
        if chosen:
            self.open_paths(chosen)

    def show_start_page(self) -> None:
        self.stack.setCurrentWidget(self.start_page)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    # ---- closing ---------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        # quitting with the autosave failed or off would lose the reader's work silently: the same
        # Save / Discard / Cancel choice as Close study
        if not self._keep_unsaved_work("Quit Isthmus"):
            event.ignore()
            return
        s = self.settings
        s.set("window/geometry", self.saveGeometry())
        s.set("window/state", self.saveState())
        s.set("viewer/layout", self.state.layout)
        for key in ("sync_scroll", "show_overlays", "anonymise", "show_reference_lines"):
            s.set(f"viewer/{key}", bool(getattr(self.state, key)))
        s.sync()
        self.controller.shutdown()
        self._indexer.shutdown()
        self.start_page.studies.shutdown()
        self.state.changed.disconnect(self._sync_checks)
        self.state.changed.disconnect(self._on_state_title)
        self.presenter.close()
        self.grid.close_grid()
        self.sig_closed.emit()
        super().closeEvent(event)
