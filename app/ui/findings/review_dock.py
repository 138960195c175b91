"""ReviewDock: a permanent identity header over Findings | Clinical context | Pathway tabs of one
StudySession.

Main-window wiring, one line::

    self.addDockWidget(Qt.RightDockWidgetArea, make_review_dock(session, self))

``ReviewWidget.set_session(new)`` swaps the study without rebuilding the dock (``in_steps=True``:
one tab per event-loop turn, the identity header at once);
``show_loading("CT of X")`` empties it at once (no findings, pathway or export of the previous
study stay visible) and says what is loading. The header shows the patient and study of the
session's images (name, ID, birth date and age, sex, study date and description);
``set_anonymised(True)`` hides name, ID and birth date there and in exports.
The dark style sheet is scoped to the dock (object name ``ReviewWidget``) so it matches a
dark radiology workstation without touching the rest of the application.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QLabel, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from app.ui.context import ClinicalContextForm
from app.ui.findings.panel import FindingsPanel
from app.ui.pathway import PathwayPanel
from app.ui.steps import Steps

DARK_QSS = """
#ReviewWidget, #ReviewWidget QWidget { background: #262829; color: #dcdcdc; font-size: 9.5pt; }
#ReviewWidget QTabWidget::pane { border: 1px solid #3c3f41; top: -1px; }
#ReviewWidget QTabBar::tab { background: #1e2021; color: #a9a9a9; padding: 5px 14px;
    border: 1px solid #3c3f41; border-bottom: none; }
#ReviewWidget QTabBar::tab:selected { background: #262829; color: #ffffff; border-top: 2px solid #4a90d9; }
#ReviewWidget QGroupBox { border: 1px solid #44484a; border-radius: 3px; margin-top: 12px; padding-top: 4px; }
#ReviewWidget QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 3px; color: #9fb7d0; }
#ReviewWidget QTableView { background: #1c1e1f; alternate-background-color: #232627; gridline-color: #3a3d3f;
    selection-background-color: #2f4f6f; selection-color: #ffffff; border: 1px solid #3c3f41; }
#ReviewWidget QHeaderView::section { background: #303335; color: #cfcfcf; border: none;
    border-right: 1px solid #3c3f41; border-bottom: 1px solid #3c3f41; padding: 3px 5px; }
#ReviewWidget QLineEdit, #ReviewWidget QPlainTextEdit, #ReviewWidget QComboBox {
    background: #1b1d1e; color: #e6e6e6; border: 1px solid #4a4e50; border-radius: 2px; padding: 2px 4px; }
#ReviewWidget QComboBox QAbstractItemView { background: #1b1d1e; color: #e6e6e6;
    selection-background-color: #2f4f6f; }
#ReviewWidget QLineEdit:focus, #ReviewWidget QPlainTextEdit:focus, #ReviewWidget QComboBox:focus {
    border: 1px solid #4a90d9; }
#ReviewWidget QPushButton, #ReviewWidget QToolButton { background: #35393b; color: #e0e0e0;
    border: 1px solid #4f5457; border-radius: 3px; padding: 3px 10px; }
#ReviewWidget QPushButton:hover, #ReviewWidget QToolButton:hover { background: #41464a; }
#ReviewWidget QPushButton:disabled { color: #6b6b6b; }
#ReviewWidget QToolButton:checked { background: #2f4f6f; }
#ReviewWidget QScrollArea { border: none; }
#ReviewWidget QCheckBox::indicator { width: 12px; height: 12px; border: 1px solid #8a9196; background: #1b1d1e; }
#ReviewWidget QCheckBox::indicator:checked { background: #4a90d9; border: 1px solid #9cc4ee; }
#ReviewWidget QScrollBar:vertical { background: #1e2021; width: 11px; margin: 0; }
#ReviewWidget QScrollBar:horizontal { background: #1e2021; height: 11px; margin: 0; }
#ReviewWidget QScrollBar::handle { background: #4a4e50; border-radius: 4px; min-height: 24px; min-width: 24px; }
#ReviewWidget QScrollBar::add-line, #ReviewWidget QScrollBar::sub-line { width: 0; height: 0; }
#ReviewWidget QScrollBar::add-page, #ReviewWidget QScrollBar::sub-page { background: none; }
#ReviewWidget QFrame#recommendation { background: #2d3133; border: 1px solid #43484b; border-radius: 3px; }
#ReviewWidget QFrame#recommendation QLabel { background: transparent; }
#ReviewWidget QLabel#hint { color: #8c9396; font-size: 8.5pt; }
#ReviewWidget QLabel#IdentityHeader { background: #1d2a36; color: #ffffff; border: 1px solid #3d5a75;
    border-radius: 3px; padding: 4px 6px; }
#ReviewWidget QLabel#LoadingNotice { color: #f0c846; font-size: 11pt; padding: 24px; }
"""


MIN_WIDTH_PX = 340
IMAGES_SHARE = 0.6  # the images keep at least this share of the window width by default


def default_dock_width(window_width: int, remembered: int = 0) -> int:
    """The review dock's width: what the reader last chose, else about a third of the window;
    never so wide that the images get less than IMAGES_SHARE of it."""
    cap = max(MIN_WIDTH_PX, int(window_width * (1 - IMAGES_SHARE)) - 200)
    want = remembered if remembered >= MIN_WIDTH_PX else int(window_width * 0.27)
    return max(MIN_WIDTH_PX, min(want, cap))


class ReviewWidget(QWidget):
    """Identity header + the review tabs for one session (or a loading notice).

    ``set_session(s)`` builds the tabs now; ``set_session(s, in_steps=True)`` shows the new
    study's identity and a "Preparing" notice now and builds one tab per event-loop turn (each
    tab costs 20-90 ms of GUI time: all four at once stalled the event loop 130-330 ms, issue 16).
    ``sig_panels_ready`` is emitted once every tab is built; ``finish_building()`` builds what is
    left at once (a caller that needs a panel now)."""

    sig_panels_ready = Signal()

    def __init__(self, session: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReviewWidget")
        self.setStyleSheet(DARK_QSS)
        self.header = QLabel(self)
        self.header.setObjectName("IdentityHeader")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.loading_label = QLabel(self)
        self.loading_label.setObjectName("LoadingNotice")
        self.loading_label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.loading_label.setWordWrap(True)
        self.loading_label.hide()
        self.tabs = QTabWidget(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.header)
        lay.addWidget(self.loading_label, 1)
        lay.addWidget(self.tabs, 1)
        self.session = None
        self.anonymised = False
        self.findings_panel: FindingsPanel | None = None
        self.context_form: ClinicalContextForm | None = None
        self.pathway_panel: PathwayPanel | None = None
        self.key_images_panel: Any = None
        self._tab_index = 0  # the tab the reader was on when set_session swaps the study directly
        self._pathway_connected = False
        self._steps = Steps(self)
        if session is not None:
            self.set_session(session)
        else:
            self.show_loading("")

    def set_session(self, session: Any, in_steps: bool = False) -> None:
        """Show another study's session (the old panels unsubscribe and are deleted now)."""
        self._drop_panels()
        self.session = session
        self._update_header()  # the new study's identity at once, the panels follow
        self.loading_label.setText("Preparing the review panels…")
        self.loading_label.show()
        # a panel is made in one turn and goes into its tab (the style sheet applied to it) in the next
        self._steps.start([self._make_findings, self._place_findings, self._make_context, self._place_context,
                           self._make_pathway, self._place_pathway, self._add_key_images, self._show_panels])
        if not in_steps:
            self._steps.finish()

    def commit_pending(self) -> None:
        """Push what is still waiting for its typing pause (impression, reader, a context number)
        into the session, before the session is closed."""
        for p in (self.findings_panel, self.context_form):
            if p is not None:
                p.commit_pending()

    @property
    def building(self) -> bool:
        """A session is set but not all of its tabs are built yet (they are hidden meanwhile)."""
        return self._steps.pending

    def finish_building(self) -> None:
        self._steps.finish()

    # ---- the build steps (one event-loop turn each when in steps) ---------------------------
    def _add_tab(self, page: QWidget, title: str) -> None:
        self.tabs.addTab(page, title)
        page.ensurePolished()  # the style sheet is applied now, not all at once when the tabs show

    def _make_findings(self) -> None:
        self.findings_panel = FindingsPanel(self.session)
        self.findings_panel.anonymised = self.anonymised

    def _place_findings(self) -> None:
        self._add_tab(_scrolled(self.findings_panel), "Findings")

    def _make_context(self) -> None:
        self.context_form = ClinicalContextForm(self.session)

    def _place_context(self) -> None:
        self._add_tab(_scrolled(self.context_form), "Clinical context")

    def _make_pathway(self) -> None:
        self.pathway_panel = PathwayPanel(self.session)

    def _place_pathway(self) -> None:
        self._add_tab(self.pathway_panel, "Pathway")
        self.session.pathway_changed.connect(self._update_pathway_tab)
        self._pathway_connected = True
        self._update_pathway_tab()

    def _add_key_images(self) -> None:
        from app.ui.report.key_image_panel import KeyImagesPanel

        self.key_images_panel = KeyImagesPanel(self.session)
        self._add_tab(self.key_images_panel, "Key images")

    def _show_panels(self) -> None:
        self.tabs.setCurrentIndex(min(self._tab_index, self.tabs.count() - 1))
        self.loading_label.hide()
        self.tabs.show()
        self.sig_panels_ready.emit()

    def show_loading(self, what: str) -> None:
        """Empty the dock now (same event-loop turn) and say what is loading."""
        self._drop_panels()
        self.session = None
        self._tab_index = 0  # the next study opens on its findings
        self.loading_label.setText(f"Loading {what}…" if what else "No study open")
        self.loading_label.show()
        self.header.setText(f"<b>Loading {_esc(what)}…</b>" if what else "<b>No study open</b>")

    @property
    def loading(self) -> bool:
        return self.session is None

    def set_anonymised(self, on: bool) -> None:
        self.anonymised = bool(on)
        if self.findings_panel is not None:
            self.findings_panel.anonymised = self.anonymised
        if self.session is not None:
            self._update_header()

    def header_fields(self) -> list[tuple[str, str]]:
        study = getattr(self.session, "study", None)
        if study is None:
            return [("Patient", "unknown (no images linked to this review)")]
        return study.identity.header_fields(self.anonymised, study.age_years)

    def _update_header(self) -> None:
        rows = self.header_fields()
        self.header.setText("  ".join(f"<span style='color:#9fb7d0'>{_esc(k)}</span> <b>{_esc(v)}</b>"
                                      for k, v in rows))
        self.header.setToolTip("" if self.anonymised else "\n".join(f"{k}: {v}" for k, v in rows))

    def _update_pathway_tab(self, *_: Any) -> None:
        r = getattr(self.session, "pathway_result", None)
        title = "Pathway"
        if r is not None and getattr(r, "red_flags", ()):
            title = "Pathway ⚠"
        i = self.tabs.indexOf(self.pathway_panel) if self.pathway_panel is not None else -1
        if i >= 0:
            self.tabs.setTabText(i, title)

    def _drop_panels(self) -> None:
        self.cleanup()
        if self.tabs.count():
            self._tab_index = max(0, self.tabs.currentIndex())
        # hidden first: removing the current tab would otherwise show and lay out the next one
        self.tabs.hide()
        while self.tabs.count():
            w = self.tabs.widget(0)
            self.tabs.removeTab(0)
            w.deleteLater()
        for p in (self.findings_panel, self.context_form, self.pathway_panel, self.key_images_panel):
            if p is not None and p.parent() is None:  # made, not placed yet: deleted here, on the GUI thread
                p.deleteLater()
        self.findings_panel = self.context_form = self.pathway_panel = self.key_images_panel = None

    def cleanup(self) -> None:
        """Unsubscribe every panel from the session (and build nothing more)."""
        self._steps.cancel()
        if self.session is not None and self._pathway_connected:
            self.session.pathway_changed.disconnect(self._update_pathway_tab)
        self._pathway_connected = False
        for p in (self.findings_panel, self.context_form, self.pathway_panel, self.key_images_panel):
            if p is not None:
                p.cleanup()

    def closeEvent(self, event: Any) -> None:
        self.cleanup()
        super().closeEvent(event)


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _scrolled(w: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(w)
    return area


def make_review_dock(session: Any = None, parent: QWidget | None = None, title: str = "Review") -> QDockWidget:
    """A QDockWidget holding a ReviewWidget for ``session`` (None: empty until a study opens;
    ``dock.widget()`` is the ReviewWidget)."""
    dock = QDockWidget(title, parent)
    dock.setObjectName("ReviewDock")
    dock.setAllowedAreas(Qt.DockWidgetArea.LeftDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea)
    dock.setWidget(ReviewWidget(session, dock))
    dock.setMinimumWidth(MIN_WIDTH_PX)  # the tables scroll sideways: the images keep the width
    return dock
